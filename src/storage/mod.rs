//! Release storage: the [`Store`] trait every backend implements, and the file backend
//! ([`file::FileStore`]), the embedded default. docs/store.md documents the file layout
//! and the write protocol that keeps records whole across crashes.
//!
//! A store keeps releases by (namespace, name). Each release has numbered revisions and a
//! small [`Head`] (latest revision, deployed revision and a summary of the latest) so that
//! `list`, `status` and `upgrade` never read the whole history. Writers hold the release's
//! [`ReleaseLock`]; readers never lock and see each record either whole-old or whole-new.

pub mod file;
pub mod fsutil;
pub mod kubernetes;
pub mod location;
pub mod migrate;
pub mod postgres;
mod tls;

use std::any::Any;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::release::record::{Revision, Summary};

/// The record format version this stoke reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A release's identity: namespace and name, both validated as DNS-safe so they can name
/// folders and Kubernetes objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReleaseKey {
    /// Namespace (a DNS-1123 label).
    pub namespace: String,
    /// Release name (Helm's rule: DNS-1123 subdomain of at most 53 characters).
    pub name: String,
}

impl ReleaseKey {
    /// Validates and builds a key.
    pub fn new(namespace: &str, name: &str) -> Result<ReleaseKey> {
        validate_release_name(name)?;
        validate_namespace(namespace)?;
        Ok(ReleaseKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for ReleaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Longest release name Helm accepts (names end up in labels together with suffixes).
pub const MAX_RELEASE_NAME: usize = 53;

fn dns_label_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Checks a release name the way Helm does: lowercase letters, digits, `-` and `.`,
/// starting and ending with a letter or digit, at most 53 characters.
pub fn validate_release_name(name: &str) -> Result<()> {
    let ok =
        !name.is_empty() && name.len() <= MAX_RELEASE_NAME && name.split('.').all(dns_label_ok);
    if !ok {
        bail!(
            "invalid release name `{name}`: use at most {MAX_RELEASE_NAME} lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit (e.g. `gateway-1`)"
        );
    }
    Ok(())
}

/// Checks a namespace: a DNS-1123 label of at most 63 characters.
pub fn validate_namespace(ns: &str) -> Result<()> {
    if ns.len() > 63 || !dns_label_ok(ns) {
        bail!(
            "invalid namespace `{ns}`: use at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
        );
    }
    Ok(())
}

/// The small per-release index: enough for `list`, `status` and the start of `upgrade`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// The release.
    #[serde(flatten)]
    pub key: ReleaseKey,
    /// Highest revision number written.
    pub latest: u64,
    /// The revision whose status is `deployed`, if any. Writers update it only after the
    /// revisions themselves, so it doubles as the commit mark of a supersede (see
    /// docs/store.md).
    pub deployed: Option<u64>,
    /// Summary of the latest revision.
    pub summary: Summary,
}

/// How long to wait for another process's lock on a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockWait {
    /// Fail at once with "another operation on RELEASE is in progress".
    #[default]
    FailFast,
    /// Wait up to this long, then fail the same way.
    Up(Duration),
}

/// Proof that the current process holds a release's lock; released on drop (and by the OS
/// if the process dies).
pub struct ReleaseLock {
    key: ReleaseKey,
    _inner: Box<dyn Any + Send>,
}

impl ReleaseLock {
    /// Wraps a backend's lock object for `key`.
    pub fn new(key: ReleaseKey, inner: Box<dyn Any + Send>) -> ReleaseLock {
        ReleaseLock { key, _inner: inner }
    }

    /// The release this lock is for.
    pub fn key(&self) -> &ReleaseKey {
        &self.key
    }

    /// The backend's lock object, for the backend that made it.
    pub fn inner<T: 'static>(&self) -> Option<&T> {
        self._inner.downcast_ref()
    }

    /// Refuses a write to `key` under a lock taken for another release.
    pub fn check(&self, key: &ReleaseKey) -> Result<()> {
        if &self.key != key {
            bail!(
                "internal error: write to release {key} under the lock of {}",
                self.key
            );
        }
        Ok(())
    }
}

/// A release store. Writes take a [`ReleaseLock`] for the release they change; reads do not
/// lock. Each single write is atomic; the order in which the lifecycle actions issue them
/// (see [`crate::release`]) makes every crash recoverable by the next locked operation.
pub trait Store {
    /// Takes the release's lock, failing at once or waiting per `wait`.
    fn lock(&self, key: &ReleaseKey, wait: LockWait) -> Result<ReleaseLock>;

    /// The release's head, or `None` when the release does not exist. Backends must return
    /// the true latest revision even if the last write of the head was lost to a crash.
    fn head(&self, key: &ReleaseKey) -> Result<Option<Head>>;

    /// Replaces the release's head.
    fn write_head(&self, lock: &ReleaseLock, head: &Head) -> Result<()>;

    /// One revision, or `None` if it does not exist (never written or pruned).
    fn revision(&self, key: &ReleaseKey, revision: u64) -> Result<Option<Revision>>;

    /// Creates or replaces a revision.
    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()>;

    /// Summaries of every stored revision, oldest first.
    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>>;

    /// The numbers of the stored revisions, ascending, without reading them.
    fn revision_numbers(&self, key: &ReleaseKey) -> Result<Vec<u64>>;

    /// Deletes one revision.
    fn delete_revision(&self, lock: &ReleaseLock, revision: u64) -> Result<()>;

    /// Deletes the release and all its revisions.
    fn delete_release(&self, lock: &ReleaseLock) -> Result<()>;

    /// Removes leftovers of writes that a crash interrupted (temporary files). Called under
    /// the lock when recovery found signs of a crash; backends without such leftovers keep
    /// the default.
    fn sweep(&self, _lock: &ReleaseLock) -> Result<()> {
        Ok(())
    }

    /// Where the store is, as people read it in messages ("recorded in ...").
    fn describe(&self) -> String {
        "the release store".to_string()
    }

    /// Heads of all releases (of one namespace, or all), sorted by name then namespace,
    /// without reading any revision.
    fn list(&self, namespace: Option<&str>) -> Result<Vec<Head>>;
}

/// Where the store lives when neither `--store` nor `STOKE_STORE` says:
/// `$XDG_DATA_HOME/stoke`, else `~/.local/share/stoke`.
pub fn default_location() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("stoke"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/stoke")),
        None => bail!(
            "cannot find a place for the release store: HOME and XDG_DATA_HOME are unset (pass --store DIR or set STOKE_STORE)"
        ),
    }
}

/// Opens the store at `location` (text as `--store` takes it; see [`location`]), or the
/// default file store.
pub fn open(location: Option<&str>) -> Result<Box<dyn Store>> {
    location::open(location, &crate::kube::KubeOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_follow_helms_rule() {
        for ok in ["gw", "gateway-1", "a.b", "x".repeat(53).as_str()] {
            assert!(validate_release_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Gateway",
            "-gw",
            "gw-",
            "a..b",
            "a/b",
            "..",
            "gw_1",
            "x".repeat(54).as_str(),
        ] {
            let err = validate_release_name(bad).unwrap_err().to_string();
            assert!(err.contains("invalid release name"), "{bad}: {err}");
        }
    }

    #[test]
    fn namespaces_are_dns_labels() {
        assert!(validate_namespace("default").is_ok());
        assert!(validate_namespace("kube.system").is_err());
        assert!(validate_namespace("../etc").is_err());
    }
}
