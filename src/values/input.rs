//! Reading values input from files and standard input, bounded.
//!
//! `-f` and `--set-file` name paths a user (or a script fed by someone else) chose, so a
//! device (`/dev/zero`, `/dev/urandom`), a FIFO or a folder must fail at once instead of
//! reading forever or blocking; only regular files are read, and standard input only
//! through `-f -`. Every read stops at [`crate::limits::VALUES_FILE_BYTES`].

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

fn read_capped(mut r: impl Read, what: &str) -> Result<String> {
    let limit = crate::limits::VALUES_FILE_BYTES.get();
    let mut data = Vec::new();
    (&mut r)
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .with_context(|| format!("cannot read {what}"))?;
    if data.len() as u64 > limit {
        return Err(crate::limits::VALUES_FILE_BYTES.exceeded(format!("{what} is larger")));
    }
    String::from_utf8(data).with_context(|| format!("{what} is not UTF-8 text"))
}

/// Reads the regular file `path` (a link to one is fine), refusing anything else.
pub fn read_regular_file(path: &Path, what: &str) -> Result<String> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        bail!(
            "{what} `{}` is {kind}; values are read from regular files only (use `-f -` for standard input)",
            path.display()
        );
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    read_capped(file, &format!("{what} `{}`", path.display()))
}

/// Reads `-f -`.
pub fn read_stdin() -> Result<String> {
    read_capped(std::io::stdin().lock(), "values from standard input")
}

/// Reads the file of a `--set-file key=PATH` argument.
pub fn read_set_file(path: &str) -> Result<String> {
    read_regular_file(Path::new(path), "--set-file file")
}

/// Refuses `.nan` and `.inf` in values: JSON (and so the release record and Kubernetes)
/// cannot hold them, and turning them into null would change the value silently.
pub fn refuse_non_finite(doc: &serde_yaml::Value, origin: &str) -> Result<()> {
    fn walk(v: &serde_yaml::Value, path: &mut Vec<String>) -> Option<(String, f64)> {
        use serde_yaml::Value as Y;
        match v {
            Y::Number(n) => n
                .as_f64()
                .filter(|f| !f.is_finite() && n.as_i64().is_none() && n.as_u64().is_none())
                .map(|f| (path.join("."), f)),
            Y::Sequence(items) => items.iter().enumerate().find_map(|(i, item)| {
                path.push(format!("[{i}]"));
                let r = walk(item, path);
                path.pop();
                r
            }),
            Y::Mapping(m) => m.iter().find_map(|(k, item)| {
                path.push(match k {
                    Y::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                });
                let r = walk(item, path);
                path.pop();
                r
            }),
            Y::Tagged(t) => walk(&t.value, path),
            _ => None,
        }
    }
    if let Some((path, f)) = walk(doc, &mut Vec::new()) {
        let path = path.replace(".[", "[");
        let shown = if f.is_nan() {
            ".nan"
        } else if f > 0.0 {
            ".inf"
        } else {
            "-.inf"
        };
        bail!(
            "{origin}: `{path}` is {shown}, a number JSON and Kubernetes cannot represent; quote it (\"{shown}\") to pass the text, or use a finite number"
        );
    }
    Ok(())
}
