//! The file store: one folder per release, one JSON file per revision, a small head file
//! per release, and an OS file lock per release. docs/store.md is the reference for the
//! layout and the format.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Damaged, LockRetry, LockWait, ReleaseLock, Store};
use crate::fsutil::{atomic_write, create_private_dir, sync_dir};
use crate::record::{FORMAT_VERSION, Head, ReleaseKey};
use crate::record::{Revision, Summary, SummaryView};

/// The marker file at the root of a file store.
const MARKER: &str = "store.json";

/// The file-system store.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
    durable: bool,
}

#[derive(Deserialize)]
struct FormatProbe {
    #[serde(default)]
    format: Option<u32>,
}

impl FileStore {
    /// Opens the store rooted at `root`. A missing folder is an empty store (created on the
    /// first write); a store written by a newer stoke is refused.
    pub fn open(root: &Path) -> Result<FileStore> {
        match std::fs::metadata(root) {
            Ok(m) if !m.is_dir() => bail!(
                "the release store `{}` is not a folder (pass --store DIR or set STOKE_STORE to a folder)",
                root.display()
            ),
            _ => {}
        }
        let store = FileStore {
            root: root.to_path_buf(),
            durable: true,
        };
        let marker = root.join(MARKER);
        if let Some(text) = read_optional(&marker)? {
            let probe: FormatProbe =
                serde_json::from_slice(&text).map_err(|e| corrupt(&marker, &e))?;
            check_format(&marker, probe.format.unwrap_or(0))?;
        }
        Ok(store)
    }

    /// Turns off flushing to disk. Only for building large test and benchmark fixtures:
    /// records stay atomic against other processes but not against power loss.
    pub fn without_fsync(mut self) -> FileStore {
        self.durable = false;
        self
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn release_dir(&self, key: &ReleaseKey) -> PathBuf {
        self.root
            .join("releases")
            .join(&key.namespace)
            .join(&key.name)
    }

    fn revision_path(&self, key: &ReleaseKey, revision: u64) -> PathBuf {
        self.release_dir(key).join(revision_file_name(revision))
    }

    /// Creates the root folder and its marker if missing.
    fn ensure_root(&self) -> Result<()> {
        let marker = self.root.join(MARKER);
        if marker.exists() {
            return Ok(());
        }
        create_private_dir(&self.root)?;
        let text = format!(
            "{{\n  \"format\": {FORMAT_VERSION},\n  \"backend\": \"file\",\n  \"about\": \"stoke release store; see docs/store.md\"\n}}\n"
        );
        atomic_write(&marker, text.as_bytes(), self.durable)
    }

    fn write_json<T: serde::Serialize>(&self, path: &Path, value: &T) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(value)?;
        text.push(b'\n');
        let dir = path.parent().expect("record paths have a folder");
        if !dir.is_dir() {
            create_private_dir(dir)?;
        }
        atomic_write(path, &text, self.durable)
    }

    fn head_from_disk(&self, key: &ReleaseKey) -> Result<Option<Head>> {
        let path = self.release_dir(key).join("head.json");
        let mut head: Option<Head> = match read_optional(&path)? {
            Some(bytes) => Some(parse_record(&path, &bytes)?),
            None => None,
        };
        // The head is written after the revisions it describes; a crash in between leaves
        // newer revision files than the head knows of. Probing the next numbers finds them
        // with a stat each, so readers never need a directory scan.
        let mut next = head.as_ref().map_or(1, |h| h.latest + 1);
        loop {
            let p = self.revision_path(key, next);
            let Some(bytes) = read_optional(&p)? else {
                break;
            };
            let view: SummaryView = parse_record(&p, &bytes)?;
            let summary = view.into_summary();
            head = Some(Head::advanced(head, key, next, summary));
            next += 1;
        }
        // The latest revision the head names may be gone: moved out of the store because it
        // was damaged (as the damage message advises). The newest revision still there is
        // the latest then; the next locked operation rewrites the head to match.
        if let Some(h) = head.as_mut()
            && !self.revision_path(key, h.latest).exists()
        {
            let numbers = self.revision_numbers(key)?;
            let Some(&newest) = numbers.iter().rfind(|n| **n < h.latest) else {
                return Ok(None);
            };
            let p = self.revision_path(key, newest);
            if let Some(bytes) = read_optional(&p)? {
                let view: SummaryView = parse_record(&p, &bytes)?;
                h.summary = view.into_summary();
            }
            h.latest = newest;
            if h.deployed
                .is_some_and(|d| !self.revision_path(key, d).exists())
            {
                h.deployed = None;
            }
        }
        // A crash between rewriting the latest revision in place (deployed -> uninstalling,
        // say) and writing the head can leave the head's summary one step behind; the next
        // locked operation rewrites it (see docs/store.md, "Recovery").
        Ok(head)
    }

    /// The folder damaged records are moved to by `stoke store repair`.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }

    /// The folder of a release's records (for `stoke store check`).
    pub fn release_folder(&self, key: &ReleaseKey) -> PathBuf {
        self.release_dir(key)
    }

    /// Every release folder in the store, damaged or not.
    pub fn release_keys(&self) -> Result<Vec<ReleaseKey>> {
        let base = self.root.join("releases");
        let mut keys = Vec::new();
        for ns in list_dir_names(&base)? {
            for name in list_dir_names(&base.join(&ns))? {
                keys.push(ReleaseKey {
                    namespace: ns.clone(),
                    name,
                });
            }
        }
        Ok(keys)
    }

    /// Deletes what uninstalls left in `trash/` (a crash between the rename and the delete,
    /// or an older stoke): whole release copies, Secrets included. Another process may be
    /// deleting its own entry at the same moment, so failures are ignored.
    pub fn empty_trash(&self) {
        if let Ok(entries) = std::fs::read_dir(self.root.join("trash")) {
            for e in entries.flatten() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// `rev-000042.json`: zero-padded so a plain `ls` lists revisions in order.
pub fn revision_file_name(revision: u64) -> String {
    format!("rev-{revision:06}.json")
}

fn parse_revision_file_name(name: &str) -> Option<u64> {
    name.strip_prefix("rev-")?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        // A path through a regular file cannot exist yet; creating it later gives the
        // clearer error.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

fn check_format(path: &Path, format: u32) -> Result<()> {
    if format > FORMAT_VERSION {
        bail!(
            "`{}` has store format version {format}, but this stoke reads format {FORMAT_VERSION} and older: it was written by a newer stoke. Upgrade stoke to use this store (nothing was changed).",
            path.display()
        );
    }
    if format == 0 {
        bail!(
            "`{}` has no valid `format` field, so it is not a stoke record or it is damaged: restore it from a backup or move it out of the store",
            path.display()
        );
    }
    Ok(())
}

fn corrupt(path: &Path, e: &serde_json::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "release record `{}` is damaged ({e}): restore it from a backup, or move it out of the store folder if it is the latest revision of a release you can reinstall; no other record was changed",
        path.display()
    )
}

/// Parses a record, telling a newer format apart from damage.
fn parse_record<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T> {
    // Every record carries `format`; reading it first means a newer stoke's record is
    // refused with a clear message instead of a confusing field error.
    let probe: FormatProbe = serde_json::from_slice(bytes).map_err(|e| corrupt(path, &e))?;
    check_format(path, probe.format.unwrap_or(0))?;
    serde_json::from_slice(bytes).map_err(|e| corrupt(path, &e))
}

#[derive(serde::Serialize, Deserialize)]
struct HeadFile {
    format: u32,
    #[serde(flatten)]
    head: Head,
}

impl Store for FileStore {
    fn lock(&self, key: &ReleaseKey, wait: LockWait) -> Result<ReleaseLock> {
        use fs4::FileExt;
        self.ensure_root()?;
        let dir = self.root.join("locks").join(&key.namespace);
        create_private_dir(&dir)?;
        let path = dir.join(format!("{}.lock", key.name));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open lock file `{}`", path.display()))?;
        let mut retry = LockRetry::new(wait, Duration::from_millis(2), Duration::from_millis(25));
        loop {
            // Fully qualified: newer std has inherent `File::try_lock` with another signature.
            match FileExt::try_lock(&file) {
                Ok(()) => return Ok(ReleaseLock::new(key.clone(), Box::new(file))),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock `{}`", path.display()));
                }
            }
            retry.before_next_try(key, None)?;
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn head(&self, key: &ReleaseKey) -> Result<Option<Head>> {
        self.head_from_disk(key)
    }

    fn write_head(&self, lock: &ReleaseLock, head: &Head) -> Result<()> {
        lock.check(&head.key)?;
        let path = self.release_dir(&head.key).join("head.json");
        self.write_json(
            &path,
            &HeadFile {
                format: FORMAT_VERSION,
                head: head.clone(),
            },
        )
    }

    fn revision(&self, key: &ReleaseKey, revision: u64) -> Result<Option<Revision>> {
        let path = self.revision_path(key, revision);
        match read_optional(&path)? {
            Some(bytes) => Ok(Some(parse_record(&path, &bytes)?)),
            None => Ok(None),
        }
    }

    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()> {
        let key = revision.key();
        lock.check(&key)?;
        self.write_json(&self.revision_path(&key, revision.revision), revision)
    }

    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>> {
        let mut out = Vec::new();
        for n in self.revision_numbers(key)? {
            let path = self.revision_path(key, n);
            // Pruned between the listing and the read: skip it, as if listed a moment later.
            let Some(bytes) = read_optional(&path)? else {
                continue;
            };
            let view: SummaryView = parse_record(&path, &bytes)?;
            out.push(view.into_summary());
        }
        Ok(out)
    }

    fn revision_numbers(&self, key: &ReleaseKey) -> Result<Vec<u64>> {
        let dir = self.release_dir(key);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot list `{}`", dir.display())),
        };
        let mut numbers = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
            if let Some(n) = entry
                .file_name()
                .to_str()
                .and_then(parse_revision_file_name)
            {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    fn delete_revision(&self, lock: &ReleaseLock, revision: u64) -> Result<()> {
        let path = self.revision_path(lock.key(), revision);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot delete `{}`", path.display()));
            }
        }
        if self.durable {
            sync_dir(&self.release_dir(lock.key()))?;
        }
        Ok(())
    }

    fn delete_release(&self, lock: &ReleaseLock) -> Result<()> {
        let dir = self.release_dir(lock.key());
        if !dir.exists() {
            return Ok(());
        }
        // One rename takes the whole release out of sight atomically; the slow recursive
        // delete happens afterwards in the trash, where a crash leaves only garbage.
        let trash = self.root.join("trash");
        create_private_dir(&trash)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let grave = trash.join(format!(
            "{}.{}.{}.{nanos}",
            lock.key().namespace,
            lock.key().name,
            std::process::id()
        ));
        std::fs::rename(&dir, &grave)
            .with_context(|| format!("cannot move `{}` to the trash", dir.display()))?;
        if self.durable {
            sync_dir(dir.parent().expect("release folders have a parent"))?;
        }
        crate::failpoint::failpoint("delete-release-part-way");
        std::fs::remove_dir_all(&grave)
            .with_context(|| format!("cannot delete `{}`", grave.display()))?;
        self.empty_trash();
        Ok(())
    }

    fn sweep(&self, lock: &ReleaseLock) -> Result<()> {
        let dir = self.release_dir(lock.key());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        // Under the lock no other process writes here, so every temporary file is stale.
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        self.empty_trash();
        Ok(())
    }

    fn list_lenient(&self, namespace: Option<&str>) -> Result<(Vec<Head>, Vec<Damaged>)> {
        let base = self.root.join("releases");
        let namespaces: Vec<String> = match namespace {
            Some(ns) => vec![ns.to_string()],
            None => list_dir_names(&base)?,
        };
        let mut heads = Vec::new();
        let mut damaged = Vec::new();
        for ns in namespaces {
            for name in list_dir_names(&base.join(&ns))? {
                let key = ReleaseKey {
                    namespace: ns.clone(),
                    name,
                };
                match self.head(&key) {
                    Ok(Some(h)) => heads.push(h),
                    Ok(None) => {}
                    Err(e) => damaged.push(Damaged {
                        key,
                        revision: None,
                        problem: format!("{e:#}"),
                    }),
                }
            }
        }
        heads.sort_by(|a, b| {
            a.key
                .name
                .cmp(&b.key.name)
                .then_with(|| a.key.namespace.cmp(&b.key.namespace))
        });
        Ok((heads, damaged))
    }

    fn history_lenient(&self, key: &ReleaseKey) -> Result<Vec<Result<Summary, Damaged>>> {
        let mut out = Vec::new();
        for n in self.revision_numbers(key)? {
            let path = self.revision_path(key, n);
            let Some(bytes) = read_optional(&path)? else {
                continue;
            };
            out.push(
                parse_record::<SummaryView>(&path, &bytes)
                    .map(SummaryView::into_summary)
                    .map_err(|e| Damaged {
                        key: key.clone(),
                        revision: Some(n),
                        problem: format!("{e:#}"),
                    }),
            );
        }
        Ok(out)
    }

    fn list(&self, namespace: Option<&str>) -> Result<Vec<Head>> {
        let base = self.root.join("releases");
        let namespaces: Vec<String> = match namespace {
            Some(ns) => vec![ns.to_string()],
            None => list_dir_names(&base)?,
        };
        let mut heads = Vec::new();
        for ns in namespaces {
            for name in list_dir_names(&base.join(&ns))? {
                let key = ReleaseKey {
                    namespace: ns.clone(),
                    name,
                };
                if let Some(h) = self.head(&key)? {
                    heads.push(h);
                }
            }
        }
        heads.sort_by(|a, b| {
            a.key
                .name
                .cmp(&b.key.name)
                .then_with(|| a.key.namespace.cmp(&b.key.namespace))
        });
        Ok(heads)
    }
}

/// Names of the visible sub-folders of `dir` (none when it does not exist).
fn list_dir_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list `{}`", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            names.push(name);
        }
    }
    Ok(names)
}
