//! Snapshot files: `tests/__snapshot__/<suite file>.snap`, in helm-unittest's layout — a
//! mapping from test name to the numbered snapshots the test took (1, 2, ... in the order its
//! `matchSnapshot` assertions ran), each the YAML text of the value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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
            Ok(text) => serde_yaml::from_str(&text).with_context(|| {
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
    pub fn save(&self) -> Result<bool> {
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
        let text = serde_yaml::to_string(&self.current)?;
        std::fs::write(&self.path, text)
            .with_context(|| format!("cannot write snapshot file `{}`", self.path.display()))?;
        Ok(true)
    }
}
