//! `stoke fleet apply`: installs the new releases and upgrades the changed ones through the
//! ordinary lifecycle actions (so the store, the output folder and any cluster target see
//! exactly what `stoke upgrade --install` would do), leaves unchanged ones alone, and with
//! `--prune` uninstalls the fleet's releases that left the file.

use anyhow::Result;
use serde::Serialize;

use super::diff::{State, plan_release, removed, upgrade_options};
use super::{ChartSet, Fleet, FleetEnv, FleetOptions, FleetRelease, Selector, run, track};
use crate::release::ChartInput;
use crate::release::record::Status;
use crate::release::uninstall::UninstallOptions;
use crate::storage::ReleaseKey;

/// What `fleet apply` did to one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Installed as a new release.
    Installed,
    /// Upgraded to a new revision.
    Upgraded,
    /// Nothing changed, nothing written.
    Unchanged,
    /// Uninstalled by `--prune`.
    Uninstalled,
}

impl Action {
    /// Lower-case name, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Installed => "installed",
            Action::Upgraded => "upgraded",
            Action::Unchanged => "unchanged",
            Action::Uninstalled => "uninstalled",
        }
    }
}

/// The outcome for one release.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// What was done.
    pub action: Action,
    /// The release's revision afterwards (the removed one's last, for uninstalls).
    pub revision: u64,
    /// Why it was upgraded.
    pub reasons: Vec<String>,
    /// Nothing was written (`--dry-run`): the action is what would have been done.
    pub dry_run: bool,
    /// Warnings from the render.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Options of `fleet apply`.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Uninstall releases recorded with the fleet's label that left the file.
    pub prune: bool,
    /// Work out and report every action without writing (`--dry-run`); with a cluster
    /// target for `--dry-run=server`, the API server checks each changed release.
    pub dry_run: bool,
    /// Recorded with every revision written, instead of the lifecycle's own words.
    pub description: Option<String>,
}

/// What a release's progress line says once it is done.
fn detail(a: &Applied) -> String {
    let dry = if a.dry_run { ", dry run" } else { "" };
    format!("{}, revision {}{dry}", a.action.as_str(), a.revision)
}

/// Applies the selected releases in parallel (results to `sink` in file order), then
/// prunes when asked.
pub fn apply(
    fenv: &FleetEnv,
    fleet: &Fleet,
    selector: &Selector,
    charts: &ChartSet,
    opts: &FleetOptions,
    aopts: &ApplyOptions,
    mut sink: impl FnMut(&ReleaseKey, Result<Applied>),
) -> Result<()> {
    let releases = fleet.select(selector);
    run::for_each_ordered(
        &releases,
        opts.threads,
        |r| {
            let result = one(fenv, fleet, r, charts, opts, aopts).map_err(|e| super::at(r, e));
            track::done(&r.key, &result, detail);
            result
        },
        |i, result| sink(&releases[i].key, result),
    );
    if aopts.prune {
        let uopts = UninstallOptions {
            dry_run: aopts.dry_run,
            description: aopts.description.clone(),
            ..UninstallOptions::default()
        };
        for (key, rev) in removed(fenv.store, fleet, selector)? {
            track::working(&key, "uninstalling");
            let result =
                crate::release::uninstall::uninstall(&fenv.env(), &key, &uopts).map(|_| Applied {
                    name: key.name.clone(),
                    namespace: key.namespace.clone(),
                    action: Action::Uninstalled,
                    revision: rev.revision,
                    reasons: Vec::new(),
                    dry_run: aopts.dry_run,
                    warnings: Vec::new(),
                });
            track::done(&key, &result, detail);
            sink(&key, result);
        }
    }
    Ok(())
}

fn one(
    fenv: &FleetEnv,
    fleet: &Fleet,
    release: &FleetRelease,
    charts: &ChartSet,
    opts: &FleetOptions,
    aopts: &ApplyOptions,
) -> Result<Applied> {
    let chart = charts.get(release)?;
    let env = fenv.env();
    let (_, latest) = crate::release::read_current(env.store, &release.key)?;
    let exists = latest.is_some_and(|l| l.status != Status::Uninstalled);
    let mut reasons = Vec::new();
    if exists {
        track::working(&release.key, "comparing");
        // Only an existing release needs the comparison; a new one is installed at once
        // and rendered only once.
        let plan = plan_release(fenv, fleet, release, charts, opts)?;
        if plan.state == State::Unchanged {
            return Ok(Applied {
                name: release.key.name.clone(),
                namespace: release.key.namespace.clone(),
                action: Action::Unchanged,
                revision: plan.current_revision.unwrap_or_default(),
                reasons: Vec::new(),
                dry_run: aopts.dry_run,
                warnings: plan.warnings,
            });
        }
        reasons = plan.reasons;
    }
    let input = ChartInput {
        chart: &chart,
        values: charts.user_values(release)?,
        capabilities: opts.capabilities.clone(),
    };
    let mut uopts = upgrade_options(fleet, release);
    uopts.dry_run = aopts.dry_run;
    uopts.description = aopts.description.clone();
    track::working(
        &release.key,
        if exists { "upgrading" } else { "installing" },
    );
    let done = crate::release::upgrade::upgrade(&env, &release.key, &input, &uopts)?;
    Ok(Applied {
        name: release.key.name.clone(),
        namespace: release.key.namespace.clone(),
        action: if done.installed {
            Action::Installed
        } else {
            Action::Upgraded
        },
        revision: done.revision.revision,
        reasons,
        dry_run: done.dry_run,
        warnings: done.warnings,
    })
}
