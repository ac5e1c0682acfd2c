//! Snapshot files: `tests/__snapshot__/<suite file>.snap`, in helm-unittest's layout — a
//! mapping from test name to the numbered snapshots the test took (1, 2, ... in the order its
//! `matchSnapshot` assertions ran), each the YAML text of the value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value as Json;

/// The outcome of comparing one value with its snapshot.
#[derive(Debug, Clone)]
pub struct Compared {
    /// Whether the value matches (always true when the snapshot is new or being updated).
    pub passed: bool,
    /// The snapshot's number within its test.
    pub index: u32,
    /// What the file held, empty when new.
    pub cached: String,
    /// The value as YAML now.
    pub current: String,
}

/// The snapshots of one suite file, read on first use and written back when they changed.
#[derive(Debug)]
pub struct SnapshotFile {
    path: PathBuf,
    update: bool,
    cached: BTreeMap<String, BTreeMap<u32, String>>,
    current: BTreeMap<String, BTreeMap<u32, String>>,
    counters: BTreeMap<String, u32>,
    /// Snapshots that did not exist before this run.
    pub inserted: usize,
    /// Snapshots that differed from the file (failures, or rewrites with `-u`).
    pub changed: usize,
    /// Snapshots compared in total.
    pub total: usize,
}

impl SnapshotFile {
    /// The snapshot file of `suite_file`, loaded if it exists.
    pub fn open(suite_file: &Path, update: bool) -> Result<Self> {
        let dir = suite_file
            .parent()
            .unwrap_or(Path::new("."))
            .join("__snapshot__");
        let name = suite_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(format!("{name}.snap"));
        let cached = match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => BTreeMap::new(),
            Ok(text) => crate::yaml::try_from_str(&text).with_context(|| {
                format!(
                    "cannot read snapshot file `{}`; delete it and run with -u to recreate it",
                    path.display()
                )
            })?,
            Err(_) => BTreeMap::new(),
        };
        Ok(SnapshotFile {
            path,
            update,
            cached,
            current: BTreeMap::new(),
            counters: BTreeMap::new(),
            inserted: 0,
            changed: 0,
            total: 0,
        })
    }

    /// Where the snapshots live.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Compares `text` with the next snapshot of `test`.
    pub fn compare(&mut self, test: &str, text: String) -> Compared {
        let counter = self.counters.entry(test.to_string()).or_insert(0);
        *counter += 1;
        let index = *counter;
        self.total += 1;
        let cached = self.cached.get(test).and_then(|m| m.get(&index)).cloned();
        let passed = match &cached {
            None => {
                self.inserted += 1;
                true
            }
            Some(c) if *c == text => true,
            Some(_) => {
                self.changed += 1;
                self.update
            }
        };
        let keep = match (&cached, self.update) {
            (Some(c), false) => c.clone(),
            _ => text.clone(),
        };
        self.current
            .entry(test.to_string())
            .or_default()
            .insert(index, keep);
        Compared {
            passed,
            index,
            cached: cached.unwrap_or_default(),
            current: text,
        }
    }

    /// Records that `test` was skipped or could not run, so its snapshots are kept as they are.
    pub fn keep(&mut self, test: &str) {
        if let Some(old) = self.cached.get(test) {
            self.current.insert(test.to_string(), old.clone());
        }
    }

    /// Writes the file when snapshots were added, or changed or removed under `-u`.
    /// Returns whether it wrote.
    pub(crate) fn save(&self) -> Result<bool> {
        let vanished = self.cached.iter().any(|(t, m)| {
            m.keys()
                .any(|i| self.current.get(t).is_none_or(|c| !c.contains_key(i)))
        });
        let needed = self.inserted > 0 || (self.update && (self.changed > 0 || vanished));
        if !needed || self.current.is_empty() && self.cached.is_empty() {
            return Ok(false);
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        let text = crate::yaml::to_string(&self.current)?;
        std::fs::write(&self.path, text)
            .with_context(|| format!("cannot write snapshot file `{}`", self.path.display()))?;
        Ok(true)
    }
}

/// The YAML text of a snapshot, laid out as helm-unittest writes it (Go's yaml.v3 with a
/// two-space indent: sorted keys, list items indented under their key, `"..."` around
/// strings that would read as another type), so snapshot files taken by helm-unittest
/// match when the rendered values are the same.
pub fn to_yaml(v: &Json) -> String {
    let mut out = String::new();
    match v {
        Json::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Json::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Json>, indent: usize) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for (i, k) in keys.into_iter().enumerate() {
        // The first key of a mapping inside a list item sits on the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            out.push_str(&pad(indent));
        }
        out.push_str(&scalar(&Json::String(k.clone()), indent));
        out.push(':');
        write_value(out, &m[k], indent);
    }
}

fn write_seq(out: &mut String, a: &[Json], indent: usize) {
    for (i, item) in a.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            out.push_str(&pad(indent));
        }
        out.push_str("- ");
        match item {
            Json::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Json::Array(s) if !s.is_empty() => write_seq(out, s, indent + 2),
            other => {
                out.push_str(&scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// Writes the value of a mapping entry whose `key:` is already written.
fn write_value(out: &mut String, v: &Json, indent: usize) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent + 2));
            out.push('\n');
        }
    }
}

/// One scalar (or empty collection); block scalars are indented to `indent`.
fn scalar(v: &Json, indent: usize) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::Object(_) => "{}".into(),
        Json::Array(_) => "[]".into(),
        Json::String(s) => {
            let text = crate::yaml::to_string(s).unwrap_or_default();
            let text = text.strip_suffix('\n').unwrap_or(&text);
            if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                // yaml.v3 double-quotes what libyaml single-quotes.
                let raw = inner.replace("''", "'");
                return serde_json::to_string(&raw).unwrap_or_default();
            }
            if text.starts_with('|') {
                // A block scalar: header line, then the body re-indented under its key.
                let mut lines = text.lines();
                let header = lines.next().unwrap_or("|");
                let mut block = header.to_string();
                for line in lines {
                    block.push('\n');
                    let body = line.strip_prefix("  ").unwrap_or(line);
                    if !body.is_empty() {
                        block.push_str(&pad(indent.max(2)));
                        block.push_str(body);
                    }
                }
                return block;
            }
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snapshots_are_laid_out_like_helm_unittest() {
        let v = json!({
            "replicas": 2,
            "template": {"spec": {"containers": [
                {"name": "basic", "image": "apache:latest", "ports": [{"containerPort": 8080}], "resources": {}}
            ]}},
            "port": "8080",
            "empty": [],
            "notes": "line one\nline two\n",
        });
        assert_eq!(
            to_yaml(&v),
            "empty: []\nnotes: |\n  line one\n  line two\nport: \"8080\"\nreplicas: 2\ntemplate:\n  spec:\n    containers:\n      - image: apache:latest\n        name: basic\n        ports:\n          - containerPort: 8080\n        resources: {}\n"
        );
        assert_eq!(to_yaml(&json!("a\nb\n")), "|\n  a\n  b\n");
        assert_eq!(to_yaml(&json!(["x", ["y", "z"]])), "- x\n- - y\n  - z\n");
    }
}
