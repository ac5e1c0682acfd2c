//! Release storage: the [`Store`] trait every backend implements, and the file backend
//! ([`file::FileStore`]), the embedded default. docs/store.md documents the file layout
//! and the write protocol that keeps records whole across crashes.
//!
//! A store keeps releases by (namespace, name). Each release has numbered revisions and a
//! small [`Head`] (latest revision, deployed revision and a summary of the latest) so that
//! `list`, `status` and `upgrade` never read the whole history. Writers hold the release's
//! [`ReleaseLock`]; readers never lock and see each record either whole-old or whole-new.

pub mod check;
pub mod file;
pub mod kubernetes;
pub mod location;
pub mod memory;
pub mod migrate;
pub mod postgres;
pub mod process;
mod tls;

/// The atomic writer moved to [`crate::fsutil`]; this path stays for code written against it.
pub use crate::fsutil;

use std::any::Any;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::record::{
    FORMAT_VERSION, Head, MAX_RELEASE_NAME, ReleaseKey, validate_namespace, validate_release_name,
};
use crate::record::{Revision, Summary};
use anyhow::{Result, bail};

/// A record a reader could not use, reported in place of what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Damaged {
    /// The release it belongs to.
    pub key: ReleaseKey,
    /// The revision, or `None` for the release's head.
    pub revision: Option<u64>,
    /// What is wrong, naming the record.
    pub problem: String,
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

/// Waiting for a release's lock that another process holds, the same way on every backend
/// that can wait: pauses doubling from `first` up to `max` until the [`LockWait`] runs out,
/// then the error that says the release is busy.
pub(crate) struct LockRetry {
    wait: LockWait,
    deadline: Option<Instant>,
    pause: Duration,
    max: Duration,
}

impl LockRetry {
    /// Starts the clock for `wait`.
    pub(crate) fn new(wait: LockWait, first: Duration, max: Duration) -> LockRetry {
        let deadline = match wait {
            LockWait::FailFast => None,
            LockWait::Up(d) => Some(Instant::now() + d),
        };
        LockRetry {
            wait,
            deadline,
            pause: first,
            max,
        }
    }

    /// Called after a failed attempt at `key`'s lock: sleeps before the next one, or fails
    /// when there is none. `holder` names where the lock lives when that helps the user
    /// find it (a Lease).
    pub(crate) fn before_next_try(&mut self, key: &ReleaseKey, holder: Option<&str>) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() < d => {
                std::thread::sleep(self.pause.min(d.saturating_duration_since(Instant::now())));
                self.pause = (self.pause * 2).min(self.max);
                Ok(())
            }
            Some(_) => bail!(
                "another operation on {} is in progress (still locked after waiting {:?}; try a longer --wait-lock)",
                key.name,
                match self.wait {
                    LockWait::Up(d) => d,
                    LockWait::FailFast => Duration::ZERO,
                }
            ),
            None => {
                let holder = holder.map(|h| format!("; {h}")).unwrap_or_default();
                bail!(
                    "another operation on {} is in progress (in namespace {}{holder}); wait for it with --wait-lock 60s",
                    key.name,
                    key.namespace
                )
            }
        }
    }
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
pub trait Store: Send + Sync {
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

    /// Like [`Store::list`], but a release whose head cannot be read is reported among the
    /// damaged ones instead of failing the whole listing (damage stays local).
    fn list_lenient(&self, namespace: Option<&str>) -> Result<(Vec<Head>, Vec<Damaged>)> {
        Ok((self.list(namespace)?, Vec::new()))
    }

    /// Like [`Store::history`], with each revision that cannot be read reported in its
    /// place instead of failing the whole history.
    fn history_lenient(
        &self,
        key: &ReleaseKey,
    ) -> Result<Vec<std::result::Result<Summary, Damaged>>> {
        Ok(self.history(key)?.into_iter().map(Ok).collect())
    }
}

/// A shared store is a store: several holders (threads of one process, a test and the
/// code it drives) use one backend through `Arc`.
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn lock(&self, key: &ReleaseKey, wait: LockWait) -> Result<ReleaseLock> {
        (**self).lock(key, wait)
    }
    fn head(&self, key: &ReleaseKey) -> Result<Option<Head>> {
        (**self).head(key)
    }
    fn write_head(&self, lock: &ReleaseLock, head: &Head) -> Result<()> {
        (**self).write_head(lock, head)
    }
    fn revision(&self, key: &ReleaseKey, revision: u64) -> Result<Option<Revision>> {
        (**self).revision(key, revision)
    }
    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()> {
        (**self).write_revision(lock, revision)
    }
    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>> {
        (**self).history(key)
    }
    fn revision_numbers(&self, key: &ReleaseKey) -> Result<Vec<u64>> {
        (**self).revision_numbers(key)
    }
    fn delete_revision(&self, lock: &ReleaseLock, revision: u64) -> Result<()> {
        (**self).delete_revision(lock, revision)
    }
    fn delete_release(&self, lock: &ReleaseLock) -> Result<()> {
        (**self).delete_release(lock)
    }
    fn sweep(&self, lock: &ReleaseLock) -> Result<()> {
        (**self).sweep(lock)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn list(&self, namespace: Option<&str>) -> Result<Vec<Head>> {
        (**self).list(namespace)
    }
    fn list_lenient(&self, namespace: Option<&str>) -> Result<(Vec<Head>, Vec<Damaged>)> {
        (**self).list_lenient(namespace)
    }
    fn history_lenient(
        &self,
        key: &ReleaseKey,
    ) -> Result<Vec<std::result::Result<Summary, Damaged>>> {
        (**self).history_lenient(key)
    }
}

/// Where the store lives when neither `--store` nor `STOKE_STORE` says:
/// `$XDG_DATA_HOME/stoke`, else `~/.local/share/stoke`.
pub(crate) fn default_location() -> Result<PathBuf> {
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
/// default one ([`location::choose`]: the Kubernetes store when KUBECONFIG or
/// `~/.kube/config` configures a cluster, else the file store). Commands that take
/// `--kubeconfig` call [`location::open`] with their cluster options instead.
pub fn open(location: Option<&str>) -> Result<Box<dyn Store>> {
    location::open(location, &crate::kube::KubeOptions::default())
}

/// Opens the file store at `location` (a path or `file://PATH`), or the default one, for the
/// commands that work on files themselves (`store check`, `store repair`). When the store
/// in use is another backend (given, or the Kubernetes store chosen because `kube`
/// configures a cluster) it is refused rather than checking a file store nobody uses.
pub fn open_file(
    location: Option<&str>,
    kube: &crate::kube::KubeOptions,
) -> Result<file::FileStore> {
    match location::choose(location, kube)? {
        location::Location::File(p) => file::FileStore::open(&p),
        other => {
            let why = if location.is_none() {
                " (chosen because a cluster is configured; pass --store DIR for a file store)"
            } else {
                ""
            };
            bail!(
                "--store {}{why}: `store check` and `store repair` work on the file store; for this backend the server keeps records whole (see docs/store.md)",
                other.display()
            )
        }
    }
}
