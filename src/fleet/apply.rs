//! `stoke fleet apply`: installs the new releases and upgrades the changed ones through the
//! ordinary lifecycle actions (so the store, the output folder and any cluster target see
//! exactly what `stoke upgrade --install` would do), leaves unchanged ones alone, and with
//! `--prune` uninstalls the fleet's releases that left the file.

use anyhow::Result;
use serde::Serialize;

use super::diff::{State, plan_release, removed, upgrade_options};
use super::{ChartSet, Fleet, FleetEnv, FleetOptions, FleetRelease, Selector, run};
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
    /// Warnings from the render.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Options of `fleet apply`.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Uninstall releases recorded with the fleet's label that left the file.
    pub prune: bool,
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
        |r| one(fenv, fleet, r, charts, opts).map_err(|e| super::at(r, e)),
        |i, result| sink(&releases[i].key, result),
    );
    if aopts.prune {
        for (key, rev) in removed(fenv.store, fleet, selector)? {
            let result = crate::release::uninstall::uninstall(
                &fenv.env(),
                &key,
                &UninstallOptions::default(),
            )
            .map(|_| Applied {
                name: key.name.clone(),
                namespace: key.namespace.clone(),
                action: Action::Uninstalled,
                revision: rev.revision,
                reasons: Vec::new(),
                warnings: Vec::new(),
            });
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
) -> Result<Applied> {
    let chart = charts.get(release)?;
    let env = fenv.env();
    let (_, latest) = crate::release::read_current(env.store, &release.key)?;
    let exists = latest.is_some_and(|l| l.status != Status::Uninstalled);
    let mut reasons = Vec::new();
    if exists {
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
    let done = crate::release::upgrade::upgrade(
        &env,
        &release.key,
        &input,
        &upgrade_options(fleet, release),
    )?;
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
        warnings: done.warnings,
    })
}
