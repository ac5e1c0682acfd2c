//! An in-memory [`Store`] with fault injection, for specifications of the lifecycle
//! actions and for the store conformance suite: a write can be made to fail (the Nth write
//! from now, or the Nth call of a named operation), the "process" can be killed at a write
//! (that write and every later one fail until [`MemoryStore::revive`], which is what
//! kill -9 between two writes leaves), and a revision can be damaged. Nothing is kept
//! after the store is dropped.
//!
//! It keeps the guarantees of the file store that the actions rely on: each write is
//! atomic, readers see the true latest revision even when the head write was lost, and a
//! release's lock is exclusive.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{Damaged, LockWait, ReleaseLock, Store};
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
    /// The Nth write of any kind from now, and every write after it until revived.
    KillAt(usize),
}

#[derive(Default)]
struct Release {
    head: Option<Head>,
    revisions: BTreeMap<u64, Revision>,
}

#[derive(Default)]
struct State {
    releases: BTreeMap<ReleaseKey, Release>,
    /// Revisions whose record reads as damaged (see [`MemoryStore::damage`]).
    damaged: BTreeSet<(ReleaseKey, u64)>,
    fault: Option<Fault>,
    /// A [`Fault::KillAt`] fired: every write fails until revived.
    dead: bool,
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

/// What reading a damaged revision says, in the words the other backends use.
fn damaged(key: &ReleaseKey, revision: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "release record {key} revision {revision} in the in-memory store is damaged (it does not parse): write the revision again or delete it; no other record was changed"
    )
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

    /// Kills the writer at the `n`th write from now (1 = the next): that write and every
    /// later one fail, as if the process had died between two writes, until
    /// [`MemoryStore::revive`]. Reads keep working, so the operation runs on to its error
    /// without changing anything more, leaving what kill -9 at that moment leaves.
    pub fn kill_at_write(&self, n: usize) {
        assert!(n >= 1, "writes are counted from 1");
        let mut st = self.state();
        st.fault = Some(Fault::KillAt(n));
        st.dead = false;
    }

    /// Ends a kill (and any fault still waiting); says whether the kill had fired.
    pub fn revive(&self) -> bool {
        let mut st = self.state();
        st.fault = None;
        std::mem::take(&mut st.dead)
    }

    /// Makes revision `revision` of `key` unreadable, as a disk fault or a careless hand
    /// edit would: reading it fails naming the record, and the lenient readers report it
    /// in its place. Writing the revision again heals it.
    pub fn damage(&self, key: &ReleaseKey, revision: u64) {
        self.state().damaged.insert((key.clone(), revision));
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
        if st.dead {
            bail!("the writer was killed (simulated): {} not done", op.name());
        }
        if let Some(Fault::KillAt(n)) = st.fault {
            if n > 1 {
                st.fault = Some(Fault::KillAt(n - 1));
            } else {
                st.fault = None;
                st.dead = true;
                bail!("the writer was killed (simulated): {} not done", op.name());
            }
        }
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
            head = Some(Head::advanced(head, key, n, rev.summary()));
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
        let st = self.state();
        let found = st
            .releases
            .get(key)
            .and_then(|r| r.revisions.get(&revision).cloned());
        if found.is_some() && st.damaged.contains(&(key.clone(), revision)) {
            return Err(damaged(key, revision));
        }
        Ok(found)
    }

    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()> {
        let key = revision.key();
        lock.check(&key)?;
        self.write(Op::WriteRevision, |st| {
            st.damaged.remove(&(key.clone(), revision.revision));
            st.releases
                .entry(key)
                .or_default()
                .revisions
                .insert(revision.revision, revision.clone());
        })
    }

    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>> {
        self.history_lenient(key)?
            .into_iter()
            .map(|r| r.map_err(|d| damaged(&d.key, d.revision.unwrap_or(0))))
            .collect()
    }

    fn history_lenient(
        &self,
        key: &ReleaseKey,
    ) -> Result<Vec<std::result::Result<Summary, Damaged>>> {
        let st = self.state();
        let Some(r) = st.releases.get(key) else {
            return Ok(Vec::new());
        };
        Ok(r.revisions
            .iter()
            .map(|(&n, rev)| {
                if st.damaged.contains(&(key.clone(), n)) {
                    Err(Damaged {
                        key: key.clone(),
                        revision: Some(n),
                        problem: damaged(key, n).to_string(),
                    })
                } else {
                    Ok(rev.summary())
                }
            })
            .collect())
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
            st.damaged.remove(&(key.clone(), revision));
            if let Some(r) = st.releases.get_mut(&key) {
                r.revisions.remove(&revision);
            }
        })
    }

    fn delete_release(&self, lock: &ReleaseLock) -> Result<()> {
        let key = lock.key().clone();
        self.write(Op::DeleteRelease, |st| {
            st.damaged.retain(|(k, _)| k != &key);
            st.releases.remove(&key);
        })?;
        // One atomic write: there is no middle of it to stop in, only after.
        crate::failpoint::failpoint("delete-release-part-way");
        Ok(())
    }

    fn describe(&self) -> String {
        "the in-memory store".to_string()
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
    fn a_kill_stops_every_write_from_that_one_on_until_revived() {
        let s = MemoryStore::new();
        let lock = s.lock(&key(), LockWait::FailFast).unwrap();
        s.kill_at_write(2);
        s.delete_release(&lock).unwrap();
        for _ in 0..3 {
            let err = s.delete_release(&lock).unwrap_err().to_string();
            assert!(err.contains("killed"), "{err}");
        }
        assert_eq!(s.writes(), 1);
        assert!(s.revive(), "the kill fired");
        s.delete_release(&lock).unwrap();
        s.kill_at_write(5);
        assert!(!s.revive(), "a kill that never fired is reported as such");
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
