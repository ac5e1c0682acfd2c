//! Snapshots for `matchSnapshot`: `tests/__snapshot__/<suite file>.snap`, a YAML map from
//! test name to the numbered snapshots of that test, as helm-unittest keeps them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The snapshots of one suite, loaded on first use and written back if anything changed.
#[derive(Debug, Default)]
pub struct Store {
    file: PathBuf,
    entries: BTreeMap<String, BTreeMap<String, String>>,
    changed: bool,
    /// Snapshots written for the first time.
    pub created: usize,
    /// Snapshots replaced because `--update-snapshot` was given.
    pub updated: usize,
}

/// What comparing with the stored snapshot found.
pub enum Outcome {
    /// Equal to the stored snapshot.
    Matched,
    /// There was none; it is now stored.
    Created,
    /// Different, and replaced because updating was asked for.
    Updated,
    /// Different: the stored text.
    Differs(String),
}

impl Store {
    /// Loads the snapshots of `suite_file` (none yet is fine).
    pub fn load(suite_file: &Path) -> Result<Self> {
        let dir = suite_file
            .parent()
            .unwrap_or(Path::new("."))
            .join("__snapshot__");
        let name = suite_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = dir.join(format!("{name}.snap"));
        let entries = match std::fs::read_to_string(&file) {
            Ok(text) => serde_yaml::from_str(&text)
                .with_context(|| format!("{} is not a valid snapshot file", file.display()))?,
            Err(_) => BTreeMap::new(),
        };
        Ok(Store {
            file,
            entries,
            ..Default::default()
        })
    }

    /// Compares `text` with snapshot `index` of `test`.
    pub fn check(&mut self, test: &str, index: usize, text: &str, update: bool) -> Outcome {
        let slot = self.entries.entry(test.to_string()).or_default();
        let key = index.to_string();
        match slot.get(&key) {
            Some(old) if old == text => Outcome::Matched,
            Some(old) if !update => Outcome::Differs(old.clone()),
            Some(_) => {
                slot.insert(key, text.to_string());
                self.changed = true;
                self.updated += 1;
                Outcome::Updated
            }
            None => {
                slot.insert(key, text.to_string());
                self.changed = true;
                self.created += 1;
                Outcome::Created
            }
        }
    }

    /// Writes the snapshots back when anything changed.
    pub fn save(&self) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        let text = serde_yaml::to_string(&self.entries)?;
        std::fs::write(&self.file, text)
            .with_context(|| format!("cannot write `{}`", self.file.display()))
    }
}
