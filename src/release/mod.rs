//! The release lifecycle: one module per action on [`crate::record::Revision`] records.
//!
//! Every write follows the same protocol so that a crash at any moment leaves a store the
//! next operation can continue from (docs/store.md walks through each crash point):
//!
//! 1. take the release's lock, then [`recover`]: a revision still `pending-*` or
//!    `uninstalling` under our lock was left by a process that died, so it is marked
//!    `failed`; a half-finished supersede is completed; the head is brought up to date;
//! 2. render (nothing is written if that fails);
//! 3. write the new revision as `pending-*` before doing the work;
//! 4. do the work (the [`crate::target::Target`]); on error the revision becomes `failed`;
//! 5. [`finalize`]: the new revision becomes `deployed`, then the previous deployed one
//!    `superseded`, then the head records the new deployed revision.

pub mod diff;
pub mod get;
pub mod history;
pub mod install;
pub mod labels;
pub mod list;
pub mod live;
pub mod names;
pub mod rollback;
pub mod status;
pub mod uninstall;
pub mod upgrade;

#[cfg(test)]
mod tests;

use anyhow::{Context, Result, bail};

use crate::chart::Chart;
use crate::engine::{Capabilities, ReleaseInfo, RenderOptions};
use crate::manifest::Manifest;
/// The record types moved to [`crate::record`]; this path stays for code written against it.
pub use crate::record;
use crate::record::{Head, ReleaseKey, Revision, Status};
use crate::storage::{LockWait, ReleaseLock, Store};
use crate::target::{Action, Change, RolledBack, Target};
use crate::timestamp::now_rfc3339;
use crate::values::UserValues;

/// What every action works with.
pub struct Env<'a> {
    /// The release store.
    pub store: &'a dyn Store,
    /// Where manifests go after a revision is recorded (none by default).
    pub target: Option<&'a dyn Target>,
    /// How long to wait for another operation on the same release.
    pub wait: LockWait,
}

/// A chart to render and the values the user gave for it.
pub struct ChartInput<'a> {
    /// The loaded chart.
    pub chart: &'a Chart,
    /// The user-supplied values (files and the `--set` family).
    pub values: UserValues,
    /// The cluster rendered for.
    pub capabilities: Capabilities,
}

/// What a write action produced.
#[derive(Debug, Clone)]
pub struct Done {
    /// The revision written (or, for a dry run, the one that would have been).
    pub revision: Revision,
    /// Warnings from computing values and rendering.
    pub warnings: Vec<String>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Whether this was (or would be) an install, including `upgrade --install`.
    pub installed: bool,
}

pub use crate::failpoint::failpoint;

/// The state of a release under its lock, after [`recover`].
pub struct Locked {
    /// The lock, held until this value is dropped.
    pub lock: ReleaseLock,
    /// The head, when the release exists.
    pub head: Option<Head>,
    /// The latest revision, when the release exists.
    pub latest: Option<Revision>,
}

/// Locks `key` and repairs what an interrupted operation left behind.
pub(crate) fn lock_and_recover(env: &Env, key: &ReleaseKey) -> Result<Locked> {
    let lock = env.store.lock(key, env.wait)?;
    // What was pending before recovery is what a crash may have half-delivered.
    let interrupted = match (env.target, env.store.head(key)?) {
        (Some(_), Some(h)) => env
            .store
            .revision(key, h.latest)?
            .filter(|r| r.status.is_pending()),
        _ => None,
    };
    let (head, latest) = recover(env.store, &lock)?;
    if let (Some(target), Some(interrupted)) = (env.target, interrupted) {
        converge(env, target, &lock, head.as_ref(), &interrupted)?;
    }
    if let Some(target) = env.target {
        repair_target(env.store, target, key, head.as_ref(), latest.as_ref())?;
    }
    Ok(Locked { lock, head, latest })
}

/// Brings the target back to the deployed revision after a crash left `interrupted`
/// half-delivered (or removes what it left when nothing is deployed).
fn converge(
    env: &Env,
    target: &dyn Target,
    lock: &ReleaseLock,
    head: Option<&Head>,
    interrupted: &Revision,
) -> Result<()> {
    let deployed = match head.and_then(|h| h.deployed) {
        Some(n) => Some(load(env.store, lock.key(), n)?),
        None => None,
    };
    let deployed = deployed.map(|d| (d.revision, d.delivered()));
    target
        .converge(
            lock.key(),
            &interrupted.delivered(),
            deployed.as_ref().map(|(n, ms)| (*n, ms.as_slice())),
        )
        .with_context(|| {
            format!(
                "revision {} of {} was interrupted and the cluster could not be brought back to a recorded revision; run the command again once the cluster is reachable",
                interrupted.revision,
                lock.key().name
            )
        })
}

/// Brings the target back to the deployed revision (or to nothing when none is deployed).
/// An earlier operation may have been killed or run out of disk half-way through writing
/// it; applying is idempotent and skips files that are already right, so on an intact
/// target this only reads.
fn repair_target(
    store: &dyn Store,
    target: &dyn Target,
    key: &ReleaseKey,
    head: Option<&Head>,
    latest: Option<&Revision>,
) -> Result<()> {
    let deployed = match (head.and_then(|h| h.deployed), latest) {
        (Some(d), Some(l)) if d == l.revision => Some(l.clone()),
        (Some(d), _) => Some(load(store, key, d)?),
        (None, _) => None,
    };
    let deployed = deployed.map(|d| d.delivered());
    target
        .restore(key, deployed.as_deref())
        .context("cannot bring the output folder back to the deployed revision")
}

/// Reads the head and latest revision without locking (for dry runs and diffs).
pub(crate) fn read_current(
    store: &dyn Store,
    key: &ReleaseKey,
) -> Result<(Option<Head>, Option<Revision>)> {
    let Some(head) = store.head(key)? else {
        return Ok((None, None));
    };
    let latest = load(store, key, head.latest)?;
    Ok((Some(head), Some(latest)))
}

/// Loads a revision that must exist.
pub fn load(store: &dyn Store, key: &ReleaseKey, revision: u64) -> Result<Revision> {
    if let Some(r) = store.revision(key, revision)? {
        return Ok(r);
    }
    // Readers take no lock: an uninstall may have removed the whole release meanwhile.
    if store.head(key).ok().flatten().is_none() {
        return Err(anyhow::anyhow!(
            "release {} in namespace {} was uninstalled while it was being read (or does not exist); see `stoke list -A`",
            key.name,
            key.namespace
        ));
    }
    store.revision(key, revision)?.with_context(|| {
        format!(
            "release {} has no revision {revision} (it was pruned or never written; see `stoke history {} -n {}`)",
            key.name, key.name, key.namespace
        )
    })
}

fn interrupted_description(status: Status) -> String {
    let what = match status {
        Status::PendingInstall => "Install",
        Status::PendingUpgrade => "Upgrade",
        Status::PendingRollback => "Rollback",
        _ => "Uninstall",
    };
    format!("{what} interrupted before it finished; marked failed by the next operation")
}

/// Under the lock, nothing else is working on the release, so any pending state was left
/// by a process that died. Brings the release back to a consistent state and returns the
/// head and latest revision.
pub(crate) fn recover(
    store: &dyn Store,
    lock: &ReleaseLock,
) -> Result<(Option<Head>, Option<Revision>)> {
    let key = lock.key().clone();
    let Some(mut head) = store.head(&key)? else {
        // A first install may have died before its first record landed.
        store.sweep(lock)?;
        return Ok((None, None));
    };
    let mut latest = load(store, &key, head.latest)?;
    let before = head.clone();
    if latest.status.is_pending() {
        latest.description = interrupted_description(latest.status);
        latest.status = Status::Failed;
        latest.last_deployed = now_rfc3339();
        store.write_revision(lock, &latest)?;
    }
    if latest.status == Status::Deployed && head.deployed != Some(latest.revision) {
        // The crash came between deploying the latest revision and recording it in the
        // head; the previous deployed revision may still say `deployed`.
        if let Some(d) = head.deployed {
            supersede(store, lock, &key, d)?;
        }
        head.deployed = Some(latest.revision);
    }
    if head.deployed == Some(latest.revision) && latest.status != Status::Deployed {
        head.deployed = None;
    }
    head.latest = latest.revision;
    head.summary = latest.summary();
    if head != before {
        store.sweep(lock)?;
        store.write_head(lock, &head)?;
    }
    Ok((Some(head), Some(latest)))
}

fn supersede(store: &dyn Store, lock: &ReleaseLock, key: &ReleaseKey, revision: u64) -> Result<()> {
    if let Some(mut old) = store.revision(key, revision)?
        && old.status == Status::Deployed
    {
        old.status = Status::Superseded;
        store.write_revision(lock, &old)?;
    }
    Ok(())
}

/// Renders `input` for `release`, with `deployed` visible to `lookup`.
pub fn render(
    input: &ChartInput,
    chart: &Chart,
    release: ReleaseInfo,
    deployed: Vec<Manifest>,
) -> Result<crate::pipeline::Outcome> {
    let opts = RenderOptions {
        release,
        capabilities: input.capabilities.clone(),
        deployed,
    };
    crate::pipeline::render_chart(chart, &input.values, &opts, false)
}

/// Builds a new revision record from a render.
pub(crate) fn new_revision(
    key: &ReleaseKey,
    number: u64,
    chart: &Chart,
    user_values: serde_json::Map<String, serde_json::Value>,
    outcome: crate::pipeline::Outcome,
    (status, description): (Status, &str),
    first_deployed: Option<String>,
) -> Revision {
    let now = now_rfc3339();
    let mut rev = Revision {
        format: crate::record::FORMAT_VERSION,
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        revision: number,
        status,
        description: description.to_string(),
        first_deployed: first_deployed.unwrap_or_else(|| now.clone()),
        last_deployed: now,
        deleted: None,
        chart: record::ChartInfo::of(chart),
        user_values,
        computed_values: outcome.computed.values,
        notes: outcome.rendered.notes,
        manifests: Vec::new(),
        hooks: Vec::new(),
        labels: Default::default(),
    };
    rev.set_rendered(outcome.rendered.manifests);
    rev
}

/// Collects warnings of a render for the user.
pub(crate) fn warnings_of(outcome: &crate::pipeline::Outcome) -> Vec<String> {
    outcome.warnings()
}

/// Refuses a revision whose record would be larger than [`crate::limits::RECORD_BYTES`],
/// before anything about it is written to any store.
pub(crate) fn check_record_size(rev: &Revision) -> Result<()> {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    serde_json::to_writer(&mut n, rev).context("cannot encode the release record")?;
    let limit = crate::limits::RECORD_BYTES;
    if n.0 > limit.get() {
        return Err(limit.exceeded(format!(
            "revision {} of release `{}` in namespace `{}` would be a record of {} bytes (rendered manifests, values and notes); nothing was written",
            rev.revision, rev.name, rev.namespace, n.0
        )));
    }
    Ok(())
}

/// Records `rev` (already written as pending) as deployed, supersedes the previously
/// deployed revision and updates the head, in that order (see the module docs).
pub(crate) fn finalize(
    env: &Env,
    lock: &ReleaseLock,
    head: Option<&Head>,
    rev: &mut Revision,
    description: &str,
) -> Result<Head> {
    rev.status = Status::Deployed;
    rev.description = description.to_string();
    rev.last_deployed = now_rfc3339();
    env.store.write_revision(lock, rev)?;
    failpoint("after-deployed");
    if let Some(d) = head.and_then(|h| h.deployed)
        && d != rev.revision
    {
        supersede(env.store, lock, lock.key(), d)?;
    }
    failpoint("after-supersede");
    let new_head = Head {
        key: lock.key().clone(),
        latest: rev.revision,
        deployed: Some(rev.revision),
        summary: rev.summary(),
    };
    env.store.write_head(lock, &new_head)?;
    Ok(new_head)
}

/// Writes `rev` as pending, applies it to the target, and finalizes it; a target error
/// marks the revision failed (keeping the previous deployed revision live).
pub(crate) fn perform(
    env: &Env,
    lock: &ReleaseLock,
    head: Option<&Head>,
    rev: &mut Revision,
    done_description: &str,
    failed_description: impl Fn(&anyhow::Error) -> String,
) -> Result<Head> {
    perform_with(
        env,
        lock,
        head,
        rev,
        &[],
        done_description,
        failed_description,
    )
}

/// [`perform`] with the chart's `crds/` objects, which only an install delivers.
pub fn perform_with(
    env: &Env,
    lock: &ReleaseLock,
    head: Option<&Head>,
    rev: &mut Revision,
    crds: &[Manifest],
    done_description: &str,
    failed_description: impl Fn(&anyhow::Error) -> String,
) -> Result<Head> {
    check_record_size(rev)?;
    env.store.write_revision(lock, rev)?;
    failpoint("after-pending");
    if let Some(target) = env.target {
        let deployed = match head.and_then(|h| h.deployed) {
            Some(n) => env.store.revision(lock.key(), n)?,
            None => None,
        };
        let action = match rev.status {
            Status::PendingInstall => Action::Install,
            Status::PendingRollback => Action::Rollback,
            _ => Action::Upgrade,
        };
        // A failed revision after the deployed one may have left objects of its own in
        // the cluster; they are pruned like the deployed revision's.
        let mut stale = Vec::new();
        if let Some(h) = head
            && Some(h.latest) != h.deployed
            && h.latest != rev.revision
            && let Some(failed) = env.store.revision(lock.key(), h.latest)?
            && failed.status == Status::Failed
        {
            stale = failed.delivered();
        }
        let manifests = rev.delivered();
        let previous = deployed
            .as_ref()
            .map(Revision::delivered)
            .unwrap_or_default();
        let change = Change {
            release: lock.key(),
            action,
            manifests: &manifests,
            stale: &stale,
            previous: &previous,
            previous_revision: deployed.as_ref().map(|d| d.revision),
            crds,
        };
        if let Err(e) = target.apply(&change) {
            rev.status = Status::Failed;
            rev.description = failed_description(&e);
            rev.last_deployed = now_rfc3339();
            env.store.write_revision(lock, rev)?;
            let failed_head = Head {
                key: lock.key().clone(),
                latest: rev.revision,
                deployed: head.and_then(|h| h.deployed),
                summary: rev.summary(),
            };
            env.store.write_head(lock, &failed_head)?;
            // Put the previous deployed revision back at once where the target keeps a
            // copy (the folder target); should that fail too, the next operation's repair
            // does it. The cluster target leaves a failed change as it is unless --atomic.
            let _ = repair_target(env.store, target, lock.key(), Some(&failed_head), None);
            if let Some(rb) = e.downcast_ref::<RolledBack>() {
                record_undo(env, lock, &failed_head, rb.to, rev.revision)?;
            }
            return Err(e);
        }
    }
    finalize(env, lock, head, rev, done_description)
}

/// Records what `--atomic` did to the cluster: a rollback revision carrying the restored
/// one, or, for an install, no release at all (as Helm removes a failed atomic install).
fn record_undo(
    env: &Env,
    lock: &ReleaseLock,
    head: &Head,
    to: Option<u64>,
    failed: u64,
) -> Result<()> {
    let Some(to) = to else {
        return env.store.delete_release(lock);
    };
    let mut back = load(env.store, lock.key(), to)?;
    back.revision = failed + 1;
    back.status = Status::PendingRollback;
    back.last_deployed = now_rfc3339();
    back.deleted = None;
    back.format = crate::storage::FORMAT_VERSION;
    env.store.write_revision(lock, &back)?;
    finalize(
        env,
        lock,
        Some(head),
        &mut back,
        &format!("Rollback to {to} (--atomic, after revision {failed} failed)"),
    )?;
    Ok(())
}

/// Deletes the oldest superseded revisions until at most `max` remain (0 keeps all). The
/// deployed and latest revisions, and failed ones, are never pruned.
pub(crate) fn prune(env: &Env, lock: &ReleaseLock, head: &Head, max: usize) -> Result<Vec<u64>> {
    let mut pruned = Vec::new();
    // Every write ends here, so this is where what a crash left (temporary files, trash)
    // is cleared, with or without a history limit.
    env.store.sweep(lock)?;
    if max == 0 {
        return Ok(pruned);
    }
    let numbers = env.store.revision_numbers(lock.key())?;
    let mut excess = numbers.len().saturating_sub(max);
    for n in numbers {
        if excess == 0 {
            break;
        }
        if Some(n) == head.deployed || n == head.latest {
            continue;
        }
        if let Some(r) = env.store.revision(lock.key(), n)?
            && r.status == Status::Superseded
        {
            env.store.delete_revision(lock, n)?;
            pruned.push(n);
            excess -= 1;
        }
    }
    Ok(pruned)
}

/// The "no such release" error, with what to do.
pub(crate) fn not_found(key: &ReleaseKey) -> anyhow::Error {
    anyhow::anyhow!(
        "release {} not found in namespace {} (see `stoke list -A`, or install it with `stoke install {} CHART`)",
        key.name,
        key.namespace,
        key.name
    )
}

/// Refuses an operation on an uninstalled release that needs a live one.
pub(crate) fn require_live(key: &ReleaseKey, latest: &Revision, action: &str) -> Result<()> {
    if latest.status == Status::Uninstalled {
        bail!(
            "cannot {action} {}: it was uninstalled (history kept); install it again with `stoke install {} CHART -n {}`",
            key.name,
            key.name,
            key.namespace
        );
    }
    Ok(())
}
