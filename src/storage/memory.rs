//! An in-memory [`Store`] with fault injection, for specifications of the lifecycle
//! actions: a write can be made to fail (the Nth write from now, or the Nth call of a named
//! operation), which is what a crash looks like to the next operation. Nothing is kept
//! after the store is dropped.
//!
//! It keeps the guarantees of the file store that the actions rely on: each write is
//! atomic, readers see the true latest revision even when the head write was lost, and a
//! release's lock is exclusive.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{LockWait, ReleaseLock, Store};
use crate::record::{Head, ReleaseKey, Revision, Summary};

/// The store operations a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// [`Store::write_head`].
    WriteHead,
    /// [`Store::write_revision`].
    WriteRevision,
    /// [`Store::delete_revision`].
    DeleteRevision,
    /// [`Store::delete_release`].
    DeleteRelease,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::WriteHead => "write_head",
            Op::WriteRevision => "write_revision",
            Op::DeleteRevision => "delete_revision",
            Op::DeleteRelease => "delete_release",
        }
    }
}

/// When the next injected fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The Nth write of any kind from now (1 = the next one).
    NthWrite(usize),
    /// The Nth call of one operation from now.
    NthOf(Op, usize),
}

#[derive(Default)]
struct Release {
    head: Option<Head>,
    revisions: BTreeMap<u64, Revision>,
}

#[derive(Default)]
struct State {
    releases: BTreeMap<ReleaseKey, Release>,
    fault: Option<Fault>,
    writes: usize,
}

/// Releases held locked, shared with the lock guards so dropping a guard unlocks.
type Held = Arc<Mutex<BTreeSet<ReleaseKey>>>;

/// Removes its key from the held set when the [`ReleaseLock`] wrapping it is dropped.
struct Guard {
    key: ReleaseKey,
    held: Held,
}

impl Drop for Guard {
    fn drop(&mut self) {
        lock_ignoring_poison(&self.held).remove(&self.key);
    }
}

fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    held: Held,
}

impl MemoryStore {
    /// An empty store without faults.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes the `n`th write from now (of any kind; 1 = the next) fail, once.
    pub fn fail_nth_write(&self, n: usize) {
        assert!(n >= 1, "writes are counted from 1");
        self.state().fault = Some(Fault::NthWrite(n));
    }

    /// Makes the `n`th call of `op` from now (1 = the next) fail, once.
    pub fn fail_nth(&self, op: Op, n: usize) {
        assert!(n >= 1, "calls are counted from 1");
        self.state().fault = Some(Fault::NthOf(op, n));
    }

    /// Whether an injected fault is still waiting to fire.
    pub fn fault_pending(&self) -> bool {
        self.state().fault.is_some()
    }

    /// How many writes succeeded so far.
    pub fn writes(&self) -> usize {
        self.state().writes
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock_ignoring_poison(&self.state)
    }

    /// Counts a write of `op` and fails it if a fault says so; the store is left untouched
    /// by a failed write, as by a crash before an atomic rename.
    fn write(&self, op: Op, apply: impl FnOnce(&mut State)) -> Result<()> {
        let mut st = self.state();
        let fire = match st.fault {
            Some(Fault::NthWrite(1)) => true,
            Some(Fault::NthWrite(n)) => {
                st.fault = Some(Fault::NthWrite(n - 1));
                false
            }
            Some(Fault::NthOf(o, 1)) if o == op => true,
            Some(Fault::NthOf(o, n)) if o == op => {
                st.fault = Some(Fault::NthOf(o, n - 1));
                false
            }
            _ => false,
        };
        if fire {
            st.fault = None;
            bail!("injected fault: {} failed", op.name());
        }
        apply(&mut st);
        st.writes += 1;
        Ok(())
    }
}

impl Store for MemoryStore {
    fn lock(&self, key: &ReleaseKey, wait: LockWait) -> Result<ReleaseLock> {
        let deadline = match wait {
            LockWait::FailFast => None,
            LockWait::Up(d) => Some(Instant::now() + d),
        };
        loop {
            if lock_ignoring_poison(&self.held).insert(key.clone()) {
                let guard = Guard {
                    key: key.clone(),
                    held: self.held.clone(),
                };
                return Ok(ReleaseLock::new(key.clone(), Box::new(guard)));
            }
            match deadline {
                Some(d) if Instant::now() < d => std::thread::sleep(Duration::from_millis(2)),
                _ => bail!(
                    "another operation on {} is in progress (in namespace {})",
                    key.name,
                    key.namespace
                ),
            }
        }
    }

    fn head(&self, key: &ReleaseKey) -> Result<Option<Head>> {
        let st = self.state();
        let Some(rel) = st.releases.get(key) else {
            return Ok(None);
        };
        let mut head = rel.head.clone();
        // Revisions newer than the head are what a lost head write leaves behind.
        let known = head.as_ref().map_or(0, |h| h.latest);
        if let Some((&n, rev)) = rel.revisions.range(known + 1..).next_back() {
            head = Some(match head {
                Some(mut h) => {
                    h.latest = n;
                    h.summary = rev.summary();
                    h
                }
                None => Head {
                    key: key.clone(),
                    latest: n,
                    deployed: None,
                    summary: rev.summary(),
                },
            });
        }
        Ok(head)
    }

    fn write_head(&self, lock: &ReleaseLock, head: &Head) -> Result<()> {
        lock.check(&head.key)?;
        self.write(Op::WriteHead, |st| {
            st.releases.entry(head.key.clone()).or_default().head = Some(head.clone());
        })
    }

    fn revision(&self, key: &ReleaseKey, revision: u64) -> Result<Option<Revision>> {
        Ok(self
            .state()
            .releases
            .get(key)
            .and_then(|r| r.revisions.get(&revision).cloned()))
    }

    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()> {
        let key = revision.key();
        lock.check(&key)?;
        self.write(Op::WriteRevision, |st| {
            st.releases
                .entry(key)
                .or_default()
                .revisions
                .insert(revision.revision, revision.clone());
        })
    }

    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>> {
        Ok(self
            .state()
            .releases
            .get(key)
            .map(|r| r.revisions.values().map(Revision::summary).collect())
            .unwrap_or_default())
    }

    fn revision_numbers(&self, key: &ReleaseKey) -> Result<Vec<u64>> {
        Ok(self
            .state()
            .releases
            .get(key)
            .map(|r| r.revisions.keys().copied().collect())
            .unwrap_or_default())
    }

    fn delete_revision(&self, lock: &ReleaseLock, revision: u64) -> Result<()> {
        let key = lock.key().clone();
        self.write(Op::DeleteRevision, |st| {
            if let Some(r) = st.releases.get_mut(&key) {
                r.revisions.remove(&revision);
            }
        })
    }

    fn delete_release(&self, lock: &ReleaseLock) -> Result<()> {
        let key = lock.key().clone();
        self.write(Op::DeleteRelease, |st| {
            st.releases.remove(&key);
        })
    }

    fn list(&self, namespace: Option<&str>) -> Result<Vec<Head>> {
        let keys: Vec<ReleaseKey> = self
            .state()
            .releases
            .keys()
            .filter(|k| namespace.is_none_or(|ns| k.namespace == ns))
            .cloned()
            .collect();
        let mut heads = Vec::new();
        for k in keys {
            if let Some(h) = self.head(&k)? {
                heads.push(h);
            }
        }
        heads.sort_by(|a, b| (&a.key.name, &a.key.namespace).cmp(&(&b.key.name, &b.key.namespace)));
        Ok(heads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ReleaseKey {
        ReleaseKey::new("default", "gw").unwrap()
    }

    #[test]
    fn a_lock_is_exclusive_until_dropped() {
        let s = MemoryStore::new();
        let held = s.lock(&key(), LockWait::FailFast).unwrap();
        let Err(err) = s.lock(&key(), LockWait::FailFast) else {
            panic!("a second lock on the same release was granted");
        };
        let err = err.to_string();
        assert!(
            err.contains("another operation on gw is in progress"),
            "{err}"
        );
        assert!(
            s.lock(
                &ReleaseKey::new("default", "other").unwrap(),
                LockWait::FailFast
            )
            .is_ok()
        );
        drop(held);
        assert!(s.lock(&key(), LockWait::FailFast).is_ok());
    }

    #[test]
    fn an_injected_fault_fails_one_write_and_leaves_the_store_untouched() {
        let s = MemoryStore::new();
        let lock = s.lock(&key(), LockWait::FailFast).unwrap();
        s.fail_nth(Op::DeleteRelease, 1);
        assert!(s.fault_pending());
        let err = s.delete_release(&lock).unwrap_err().to_string();
        assert_eq!(err, "injected fault: delete_release failed");
        assert!(!s.fault_pending());
        assert_eq!(s.writes(), 0);
        s.delete_release(&lock).unwrap();
        assert_eq!(s.writes(), 1);
    }
}
