//! `stoke store migrate`: copies every release, with its whole history and statuses, from
//! one store to another. Idempotent (a revision already identical in the destination is not
//! written again), verified (every copied record and head is read back and compared), and
//! it never deletes or changes anything in the source.

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{Head, LockWait, ReleaseKey, Store};
use crate::record::Revision;

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MigrateReport {
    /// Releases found in the source.
    pub releases: usize,
    /// Revisions written to the destination.
    pub revisions_copied: usize,
    /// Revisions the destination already held, identical, and were left alone.
    pub revisions_unchanged: usize,
    /// Revisions copied before whose status changed in the source since (a deployed one
    /// superseded by a later upgrade, say), brought up to date.
    pub revisions_updated: usize,
    /// Release heads (indexes) written to the destination.
    pub heads_written: usize,
    /// Releases skipped because the destination holds a different history for them.
    pub conflicts: Vec<String>,
}

impl MigrateReport {
    /// Fails when some releases were skipped as conflicts: a migration that left releases
    /// behind is not a success, even though everything else was copied and verified.
    pub fn ensure_complete(&self) -> Result<()> {
        if !self.conflicts.is_empty() {
            anyhow::bail!(
                "{} release(s) were not migrated because the destination already holds a different history for them (listed above); the source is unchanged",
                self.conflicts.len()
            );
        }
        Ok(())
    }
}

/// Copies every release of `from` into `to`. Each release is locked in both stores while
/// it is copied, so its history cannot change half-way. A revision copied by an earlier
/// run whose status has changed in the source since is brought up to date. A release whose
/// destination history is not the source's (a revision with other content, or revisions
/// the source does not have) is not touched and is reported in `conflicts`.
pub fn migrate(from: &dyn Store, to: &dyn Store, wait: LockWait) -> Result<MigrateReport> {
    let mut report = MigrateReport::default();
    let heads = from
        .list(None)
        .context("cannot list the source store's releases")?;
    report.releases = heads.len();
    for listed in heads {
        let key = listed.key.clone();
        copy_release(from, to, &key, wait, &mut report)
            .with_context(|| format!("cannot migrate release {key}"))?;
    }
    Ok(report)
}

fn copy_release(
    from: &dyn Store,
    to: &dyn Store,
    key: &ReleaseKey,
    wait: LockWait,
    report: &mut MigrateReport,
) -> Result<()> {
    let _source_lock = from.lock(key, wait).context("locking it in the source")?;
    let dest_lock = to
        .lock(key, wait)
        .context("locking it in the destination")?;
    // Re-read under the lock: the listing may be older than the release.
    let Some(head) = from.head(key)? else {
        return Ok(());
    };
    let numbers = from.revision_numbers(key)?;
    let dest_numbers = to.revision_numbers(key)?;
    if let Some(extra) = dest_numbers.iter().find(|n| !numbers.contains(n)) {
        report.conflicts.push(format!(
            "{key}: the destination has revision {extra}, which the source does not (was the release used in the destination already?)"
        ));
        return Ok(());
    }
    let (mut plan, mut updates) = (Vec::new(), 0);
    for &n in &numbers {
        let rev = from
            .revision(key, n)?
            .with_context(|| format!("revision {n} vanished from the source under its lock"))?;
        match to.revision(key, n)? {
            Some(existing) if existing == rev => report.revisions_unchanged += 1,
            Some(existing) if same_revision(&existing, &rev) => {
                updates += 1;
                plan.push(rev);
            }
            Some(_) => {
                report.conflicts.push(format!(
                    "{key}: revision {n} differs between source and destination (changed in either after an earlier migrate?); nothing of this release was written"
                ));
                return Ok(());
            }
            None => plan.push(rev),
        }
    }
    // Ascending, head last: an interrupted copy is a prefix of the history that the next
    // run completes.
    for rev in &plan {
        to.write_revision(&dest_lock, rev)?;
    }
    report.revisions_copied += plan.len() - updates;
    report.revisions_updated += updates;
    if to.head(key)?.as_ref() != Some(&head) {
        to.write_head(&dest_lock, &head)?;
        report.heads_written += 1;
    }
    verify(from, to, key, &numbers, &head)
}

/// Whether two records are the same revision, possibly at different points of its life:
/// the same install (first deployment time), chart, values and manifests. Anything else
/// means the destination release was written by someone other than a migrate.
fn same_revision(a: &Revision, b: &Revision) -> bool {
    a.first_deployed == b.first_deployed
        && a.chart == b.chart
        && a.user_values == b.user_values
        && a.manifests == b.manifests
        && a.hooks == b.hooks
}

fn verify(
    from: &dyn Store,
    to: &dyn Store,
    key: &ReleaseKey,
    numbers: &[u64],
    head: &Head,
) -> Result<()> {
    for &n in numbers {
        let a = from.revision(key, n)?;
        let b = to
            .revision(key, n)
            .with_context(|| format!("verifying revision {n} in the destination"))?;
        if a != b {
            bail!("verification failed: revision {n} reads back differently from the destination");
        }
    }
    if to.head(key)?.as_ref() != Some(head) {
        bail!("verification failed: the release index reads back differently from the destination");
    }
    if to.revision_numbers(key)? != numbers {
        bail!("verification failed: the destination lists other revisions than the source");
    }
    Ok(())
}
