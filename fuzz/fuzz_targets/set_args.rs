//! `--set` arguments: parse or fail, and never grow lists past the budget.
#![no_main]
use stoke::values::strvals::{ListBudget, SetKind, apply_in_place};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else { return };
    let Ok(arg) = std::str::from_utf8(rest) else { return };
    let kind = [SetKind::Set, SetKind::String, SetKind::Json, SetKind::Literal][k as usize % 4];
    let mut map = serde_json::Map::new();
    let no_files = |_: &str| -> anyhow::Result<String> { anyhow::bail!("no files") };
    let budget = ListBudget::new(100_000);
    let _ = apply_in_place(&mut map, arg, kind, &no_files, &budget);
});
