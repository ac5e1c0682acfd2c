//! `stoke fleet diff`: what `fleet apply` would do to each release — install it (new),
//! upgrade it (changed, with the manifest diff, Secret values masked), leave it
//! (unchanged) — and which releases of the fleet left the file (removed, uninstalled by
//! `fleet apply --prune`).

use std::collections::BTreeSet;

use anyhow::Result;
use serde::Serialize;

use super::{ChartSet, Fleet, FleetEnv, FleetOptions, FleetRelease, Selector, run, track};
use crate::release::ChartInput;
use crate::release::diff::{ResourceDiff, diff_manifests};
use crate::release::record::{Revision, Status};
use crate::release::upgrade::{Plan, UpgradeOptions, ValuesMode};
use crate::storage::{ReleaseKey, Store};

/// What applying the fleet would do to one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not in the store (or uninstalled): it would be installed.
    New,
    /// Its rendered manifest or hooks, its values, labels or chart version differ, or its
    /// last operation failed: it would be upgraded.
    Changed,
    /// Nothing would change.
    Unchanged,
    /// Recorded as part of the fleet but no longer in the file: `--prune` uninstalls it.
    Removed,
}

impl State {
    /// Lower-case name, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Changed => "changed",
            State::Unchanged => "unchanged",
            State::Removed => "removed",
        }
    }
}

/// The planned change of one release.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseDiff {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// What would happen.
    pub state: State,
    /// Why it is changed (`manifest`, `hooks`, `values`, `labels`, `chart version`, `last
    /// operation failed`); empty otherwise.
    pub reasons: Vec<String>,
    /// The revision it would change from, if it exists.
    pub current_revision: Option<u64>,
    /// Per-resource changes, hooks included (unchanged ones left out), as `stoke diff
    /// upgrade` shows them.
    pub resources: Vec<ResourceDiff>,
    /// Warnings from the render.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The upgrade options every fleet release is planned and applied with: the file is the
/// whole truth about a release's values (`--reset-values`), a missing release is
/// installed, and the release carries the fleet's labels.
pub(crate) fn upgrade_options(fleet: &Fleet, release: &FleetRelease) -> UpgradeOptions {
    UpgradeOptions {
        install: true,
        values_mode: ValuesMode::Reset,
        labels: Some(release.recorded_labels(&fleet.name)),
        ..UpgradeOptions::default()
    }
}

/// Plans one release against the store without writing.
pub(crate) fn plan_release(
    fenv: &FleetEnv,
    fleet: &Fleet,
    release: &FleetRelease,
    charts: &ChartSet,
    opts: &FleetOptions,
) -> Result<ReleaseDiff> {
    let chart = charts.get(release)?;
    let input = ChartInput {
        chart: &chart,
        values: charts.user_values(release)?,
        capabilities: opts.capabilities.clone(),
    };
    let mut uopts = upgrade_options(fleet, release);
    uopts.dry_run = true;
    let env = fenv.env();
    let base = |state, current_revision, resources, warnings| ReleaseDiff {
        name: release.key.name.clone(),
        namespace: release.key.namespace.clone(),
        state,
        reasons: Vec::new(),
        current_revision,
        resources,
        warnings,
    };
    Ok(
        match crate::release::upgrade::plan_only(&env, &release.key, &input, &uopts)? {
            Plan::Install(rev, warnings) => base(
                State::New,
                None,
                diff_manifests(&[], &rev.delivered(), "(not installed)", "install"),
                warnings,
            ),
            Plan::Upgrade {
                current,
                new,
                warnings,
            } => {
                // Resources and hooks, as `stoke diff upgrade` compares them: a change to
                // a hook alone is a change to the release.
                let resources = diff_manifests(
                    &current.delivered(),
                    &new.delivered(),
                    &format!("revision {}", current.revision),
                    "upgrade",
                );
                let reasons = reasons(&env, &current, &new)?;
                let state = if reasons.is_empty() {
                    State::Unchanged
                } else {
                    State::Changed
                };
                let mut d = base(state, Some(current.revision), resources, warnings);
                d.reasons = reasons;
                d
            }
        },
    )
}

/// Why applying would upgrade `current` to `new`: each part of the release record that
/// the upgrade would change, compared as recorded (so order counts, as it does for the
/// order resources are applied and hooks run in).
///
/// Left out: the chart's digest, since a chart edited in a way that renders the same
/// release (a comment, a helper nobody calls) changes nothing that is applied; and the
/// notes, which describe the operation (charts commonly word them by `release.revision`
/// or `release.is_upgrade`), so judging by them would upgrade every release once after
/// its install, and again whenever they name the revision.
fn reasons(env: &crate::release::Env, current: &Revision, new: &Revision) -> Result<Vec<String>> {
    let mut why = Vec::new();
    // Records written before hooks were kept apart hold them in `manifests`; comparing
    // the split views judges such a record by what it holds, not by where.
    if current.resources() != new.resources() {
        why.push("manifest".to_string());
    }
    if current.hook_manifests() != new.hook_manifests() {
        why.push("hooks".to_string());
    }
    if current.user_values != new.user_values {
        why.push("values".to_string());
    }
    if current.labels != new.labels {
        why.push("labels".to_string());
    }
    if current.chart.name != new.chart.name
        || current.chart.version != new.chart.version
        || current.chart.app_version != new.chart.app_version
    {
        why.push("chart version".to_string());
    }
    // Anything but "the upgraded-from revision is the latest and deployed" means an
    // operation failed or was interrupted since; applying again repairs it.
    let healthy = env
        .store
        .head(&current.key())?
        .is_some_and(|h| h.latest == current.revision && h.deployed == Some(current.revision))
        && current.status == Status::Deployed;
    if !healthy {
        why.push("last operation failed".to_string());
    }
    Ok(why)
}

/// Releases recorded with this fleet's label (and matching `selector`) that the file no
/// longer lists, with their latest revision.
pub fn removed(
    store: &dyn Store,
    fleet: &Fleet,
    selector: &Selector,
) -> Result<Vec<(ReleaseKey, Revision)>> {
    let listed: BTreeSet<&ReleaseKey> = fleet.releases.iter().map(|r| &r.key).collect();
    let mut out = Vec::new();
    for head in store.list(None)? {
        let labels = &head.summary.labels;
        // The head carries the latest revision's labels: only the fleet's own releases are
        // read in full (a store shared with other teams may hold many more).
        if listed.contains(&head.key)
            || head.summary.status == Status::Uninstalled
            || labels.get(super::FLEET_LABEL) != Some(&fleet.name)
            || !selector.matches(labels)
        {
            continue;
        }
        let rev = crate::release::load(store, &head.key, head.latest)?;
        out.push((head.key, rev));
    }
    Ok(out)
}

/// Plans every selected release in parallel, then the removed ones; `sink` gets each
/// result in file order, removed releases last.
pub fn diff(
    fenv: &FleetEnv,
    fleet: &Fleet,
    selector: &Selector,
    charts: &ChartSet,
    opts: &FleetOptions,
    mut sink: impl FnMut(&ReleaseKey, Result<ReleaseDiff>),
) -> Result<()> {
    let releases = fleet.select(selector);
    run::for_each_ordered(
        &releases,
        opts.threads,
        |r| {
            track::working(&r.key, "comparing");
            let result = plan_release(fenv, fleet, r, charts, opts).map_err(|e| super::at(r, e));
            track::done(&r.key, &result, |d| d.state.as_str().to_string());
            result
        },
        |i, result| sink(&releases[i].key, result),
    );
    for (key, rev) in removed(fenv.store, fleet, selector)? {
        sink(
            &key,
            Ok(ReleaseDiff {
                name: key.name.clone(),
                namespace: key.namespace.clone(),
                state: State::Removed,
                reasons: Vec::new(),
                current_revision: Some(rev.revision),
                resources: diff_manifests(
                    &rev.delivered(),
                    &[],
                    &format!("revision {}", rev.revision),
                    "(uninstalled)",
                ),
                warnings: Vec::new(),
            }),
        );
    }
    Ok(())
}
