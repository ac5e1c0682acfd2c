//! Property tests (bounded: a few hundred cases each, seconds in CI) for the parsers that
//! take hostile input: values files, `--set`, chart archives and rendered documents. Each
//! must return a value or an error for every input, never panic, and never go past the
//! bounds docs/limits.md documents. The cargo-fuzz targets under fuzz/ explore the same
//! entry points without a time limit.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{Map, Value};

use stoke::chart::archive::{Limits, read_with_limits};
use stoke::values::strvals::{self, SetKind};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Items held by lists anywhere in `v`.
fn list_items(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len() + a.iter().map(list_items).sum::<usize>(),
        Value::Object(m) => m.values().map(list_items).sum(),
        _ => 0,
    }
}

fn tgz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

const SMALL: Limits = Limits {
    max_file: 4096,
    max_total: 16384,
    max_entries: 16,
};

proptest! {
    #![proptest_config(config())]

    #[test]
    fn values_text_parses_or_errors_never_panics(text in "(?s)[ -~\n\t]{0,400}") {
        let _ = stoke::yaml::parse_values_yaml(&text, "fuzz.yaml");
    }

    #[test]
    fn yaml_shaped_values_parse_or_error(
        lines in proptest::collection::vec("( {0,6})([a-z]{1,3}|-)(: ?)?([a-z0-9.\\[\\]{}\"']{0,6})", 0..30)
    ) {
        let text = lines.join("\n");
        if let Ok(map) = stoke::yaml::parse_values_yaml(&text, "fuzz.yaml") {
            // What comes back is JSON-representable: no NaN smuggled in as null.
            prop_assert!(serde_json::to_string(&map).is_ok());
        }
    }

    #[test]
    fn set_arguments_parse_or_error_within_the_list_budget(
        arg in "[a-c0-9.,=\\[\\]{}\\\\ -]{0,60}",
        kind in prop_oneof![
            Just(SetKind::Set), Just(SetKind::String), Just(SetKind::Json), Just(SetKind::Literal)
        ]
    ) {
        let mut map = Map::new();
        let no_files = |_: &str| -> anyhow::Result<String> { anyhow::bail!("no files") };
        if strvals::apply(&mut map, &arg, kind, &no_files).is_ok() {
            let items = list_items(&Value::Object(map));
            prop_assert!(items as u64 <= stoke::limits::SET_LIST_ITEMS.get());
        } else {
            // A failed argument leaves the target as it was.
            prop_assert!(map.is_empty());
        }
    }

    #[test]
    fn big_set_indices_never_exceed_the_budget(
        indices in proptest::collection::vec(0u32..70_000, 1..12)
    ) {
        let arg: Vec<String> = indices.iter().enumerate().map(|(i, n)| format!("k{i}[{n}]=1")).collect();
        let budget = strvals::ListBudget::new(100_000);
        let mut map = Map::new();
        let no_files = |_: &str| -> anyhow::Result<String> { anyhow::bail!("no files") };
        let r = strvals::apply_in_place(&mut map, &arg.join(","), SetKind::Set, &no_files, &budget);
        let items = list_items(&Value::Object(map));
        prop_assert!(items <= 100_000 + indices.len());
        if indices.iter().any(|n| *n > 65_536) {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_are_never_an_archive_that_passes_the_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok((_, files)) = read_with_limits(&bytes, Path::new("fuzz.tgz"), &SMALL) {
            prop_assert!(files.len() <= SMALL.max_entries);
            prop_assert!(files.iter().map(|f| f.data.len() as u64).sum::<u64>() <= SMALL.max_total);
        }
    }

    #[test]
    fn damaged_archives_are_refused_or_stay_within_bounds(
        files in proptest::collection::vec(("[a-z]{1,6}(/[a-z]{1,6})?", proptest::collection::vec(any::<u8>(), 0..3000)), 1..8),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)
    ) {
        let entries: Vec<(String, Vec<u8>)> =
            files.into_iter().map(|(n, d)| (format!("gw/{n}"), d)).collect();
        let mut bytes = tgz(&entries);
        let untouched = flips.is_empty();
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= b | 1;
        }
        match read_with_limits(&bytes, Path::new("fuzz.tgz"), &SMALL) {
            Ok((_, files)) => {
                prop_assert!(files.len() <= SMALL.max_entries);
                prop_assert!(files.iter().all(|f| f.data.len() as u64 <= SMALL.max_file));
                prop_assert!(files.iter().map(|f| f.data.len() as u64).sum::<u64>() <= SMALL.max_total);
                if !untouched {
                    // The CRC-32 trailer catches any change to the inflated content.
                    let same: Vec<(String, Vec<u8>)> =
                        files.into_iter().map(|f| (format!("gw/{}", f.name), f.data)).collect();
                    prop_assert!(same.iter().all(|e| entries.contains(e)));
                }
            }
            Err(e) => {
                let text = format!("{e:#}");
                prop_assert!(text.contains("fuzz.tgz"), "{}", text);
            }
        }
    }

    #[test]
    fn rendered_output_is_checked_without_panicking(text in "(?s)(---\n|[a-z]{1,8}: [a-z0-9{}\\[\\]\"]{0,8}\n|  |- |#|\n){0,40}") {
        let _ = stoke::engine::parse_outputs(&[("c/templates/x.yaml".to_string(), text.clone())]);
    }
}
