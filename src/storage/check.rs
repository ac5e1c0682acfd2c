//! `stoke store check` and `stoke store repair` for the file store.
//!
//! Check reads every record and reports what is wrong, one line each, touching nothing.
//! Repair takes each damaged release's lock, moves unreadable records into
//! `<store>/quarantine/<namespace>/<release>/` (nothing is deleted: a person may still
//! recover something from them), rebuilds the head from the revisions that remain, and
//! clears leftovers (temporary files, `trash/`). Records written by a newer stoke are
//! reported but never moved: they are not damaged, only unreadable to this version.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::file::{FileStore, revision_file_name};
use super::{LockWait, Store};
use crate::record::{Head, ReleaseKey, Revision, Status};

/// What is wrong with one record or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// `head.json` does not parse or lacks fields.
    DamagedHead,
    /// A revision file does not parse or lacks fields.
    DamagedRevision,
    /// Written by a newer stoke; left alone.
    NewerFormat,
    /// The head names a latest or deployed revision that does not exist or disagrees.
    StaleHead,
    /// A temporary file a crash left behind.
    Leftover,
    /// A release copy left in `trash/`.
    Trash,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// The release, when the finding belongs to one.
    pub release: Option<String>,
    /// The file concerned.
    pub path: PathBuf,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Details, naming the field or the parse error.
    pub detail: String,
    /// What `stoke store repair` does (or did) about it.
    pub action: String,
}

fn is_newer_format(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("written by a newer stoke")
}

/// Reads every record of the store and lists the problems (empty: the store is sound).
pub fn check(store: &FileStore) -> Result<Vec<Problem>> {
    let mut out = Vec::new();
    for key in store.release_keys()? {
        check_release(store, &key, &mut out)?;
    }
    let trash = store.root().join("trash");
    if let Ok(entries) = std::fs::read_dir(&trash) {
        for e in entries.flatten() {
            out.push(Problem {
                release: None,
                path: e.path(),
                kind: ProblemKind::Trash,
                detail: "a deleted release's records (Secrets included) left by an interrupted uninstall".into(),
                action: "deleted".into(),
            });
        }
    }
    Ok(out)
}

fn check_release(store: &FileStore, key: &ReleaseKey, out: &mut Vec<Problem>) -> Result<()> {
    let dir = store.release_folder(key);
    let release = Some(key.to_string());
    let mut readable: Vec<Revision> = Vec::new();
    for n in store.revision_numbers(key)? {
        let path = dir.join(revision_file_name(n));
        match store.revision(key, n) {
            Ok(Some(r)) => readable.push(r),
            Ok(None) => {}
            Err(e) if is_newer_format(&e) => out.push(Problem {
                release: release.clone(),
                path,
                kind: ProblemKind::NewerFormat,
                detail: format!("{e:#}"),
                action: "left alone (upgrade stoke to read it)".into(),
            }),
            Err(e) => out.push(Problem {
                release: release.clone(),
                path,
                kind: ProblemKind::DamagedRevision,
                detail: format!("{e:#}"),
                action: "moved to quarantine/".into(),
            }),
        }
    }
    let head_path = dir.join("head.json");
    match std::fs::read(&head_path) {
        Ok(bytes) => match serde_json::from_slice::<HeadProbe>(&bytes) {
            Err(e) => out.push(Problem {
                release: release.clone(),
                path: head_path.clone(),
                kind: ProblemKind::DamagedHead,
                detail: e.to_string(),
                action: "moved to quarantine/ and rebuilt from the revisions".into(),
            }),
            Ok(h) => {
                let expected = rebuilt_head(key, &readable);
                let agrees = expected
                    .as_ref()
                    .is_some_and(|e| e.latest == h.latest && e.deployed == h.deployed);
                if !agrees {
                    out.push(Problem {
                        release: release.clone(),
                        path: head_path.clone(),
                        kind: ProblemKind::StaleHead,
                        detail: format!(
                            "names latest {} and deployed {:?}, but the readable revisions say latest {} and deployed {:?}",
                            h.latest,
                            h.deployed,
                            expected.as_ref().map_or(0, |e| e.latest),
                            expected.as_ref().and_then(|e| e.deployed)
                        ),
                        action: "rebuilt from the revisions".into(),
                    });
                }
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", head_path.display())),
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                out.push(Problem {
                    release: release.clone(),
                    path: e.path(),
                    kind: ProblemKind::Leftover,
                    detail: "a temporary file of a write a crash interrupted".into(),
                    action: "deleted".into(),
                });
            }
        }
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct HeadProbe {
    latest: u64,
    deployed: Option<u64>,
}

/// The head the readable revisions imply: the newest is the latest; the newest `deployed`
/// one is the deployed revision.
fn rebuilt_head(key: &ReleaseKey, readable: &[Revision]) -> Option<Head> {
    let latest = readable.iter().max_by_key(|r| r.revision)?;
    let deployed = readable
        .iter()
        .filter(|r| r.status == Status::Deployed)
        .map(|r| r.revision)
        .max();
    Some(Head {
        key: key.clone(),
        latest: latest.revision,
        deployed,
        summary: latest.summary(),
    })
}

fn quarantine(store: &FileStore, key: &ReleaseKey, path: &Path) -> Result<()> {
    let dir = store.quarantine_dir().join(&key.namespace).join(&key.name);
    crate::fsutil::create_private_dir(&dir)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let dest = dir.join(format!("{name}.{stamp}"));
    std::fs::rename(path, &dest)
        .with_context(|| format!("cannot move `{}` to `{}`", path.display(), dest.display()))
}

/// Repairs what [`check`] finds and returns the problems it handled.
pub fn repair(store: &FileStore) -> Result<Vec<Problem>> {
    let problems = check(store)?;
    let mut releases: Vec<String> = problems.iter().filter_map(|p| p.release.clone()).collect();
    releases.dedup();
    for key in store.release_keys()? {
        if !releases.contains(&key.to_string()) {
            continue;
        }
        let lock = store.lock(&key, LockWait::Up(std::time::Duration::from_secs(10)))?;
        for p in problems
            .iter()
            .filter(|p| p.release.as_deref() == Some(&key.to_string()))
        {
            match p.kind {
                ProblemKind::DamagedRevision | ProblemKind::DamagedHead => {
                    quarantine(store, &key, &p.path)?
                }
                ProblemKind::Leftover => {
                    let _ = std::fs::remove_file(&p.path);
                }
                _ => {}
            }
        }
        let mut readable = Vec::new();
        for n in store.revision_numbers(&key)? {
            if let Ok(Some(r)) = store.revision(&key, n) {
                readable.push(r);
            }
        }
        match rebuilt_head(&key, &readable) {
            Some(head) => {
                // Two revisions saying `deployed` (a crash between deploying and
                // superseding): the older one is superseded, as recovery would write.
                for r in &readable {
                    if r.status == Status::Deployed && Some(r.revision) != head.deployed {
                        let mut r = r.clone();
                        r.status = Status::Superseded;
                        store.write_revision(&lock, &r)?;
                    }
                }
                store.write_head(&lock, &head)?;
            }
            None => {
                // Nothing readable is left: the release folder holds only what was not
                // quarantined (records of a newer stoke), so it stays if not empty.
                let dir = store.release_folder(&key);
                let _ = std::fs::remove_file(dir.join("head.json"));
                let _ = std::fs::remove_dir(&dir);
            }
        }
    }
    store.empty_trash();
    Ok(problems)
}
