//! `stoke upgrade`: a new revision from a chart and values, with Helm's values modes.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::install::{InstallOptions, install_locked};
use super::{ChartInput, Done, Env};
use crate::engine::ReleaseInfo;
use crate::record::{Head, ReleaseKey};
use crate::record::{Revision, Status};

/// How an upgrade combines the given values with the current revision's (Helm's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValuesMode {
    /// Given values only; when none are given, the current revision's user values.
    #[default]
    Default,
    /// `--reuse-values`: the current revision's values (as defaults) with the given ones
    /// merged over them.
    Reuse,
    /// `--reset-values`: the chart's defaults and the given values only.
    Reset,
    /// `--reset-then-reuse-values`: the new chart's defaults, the current user values, then
    /// the given ones.
    ResetThenReuse,
}

/// Options of an upgrade.
#[derive(Debug, Clone)]
pub struct UpgradeOptions {
    /// Install when the release does not exist (or was uninstalled).
    pub install: bool,
    /// How values combine.
    pub values_mode: ValuesMode,
    /// Keep at most this many revisions (0 = all); only superseded ones are pruned.
    pub history_max: usize,
    /// Replaces "Upgrade complete" as the description.
    pub description: Option<String>,
    /// Render and report without writing anything.
    pub dry_run: bool,
    /// Labels of the new revision, replacing the current ones (a fleet's); `None` keeps
    /// the current revision's, with `label_changes` applied.
    pub labels: Option<BTreeMap<String, String>>,
    /// `--labels`: merged over the current revision's labels; a `None` value removes a
    /// label (Helm's upgrade semantics).
    pub label_changes: BTreeMap<String, Option<String>>,
}

impl Default for UpgradeOptions {
    fn default() -> Self {
        UpgradeOptions {
            install: false,
            values_mode: ValuesMode::Default,
            history_max: 10,
            description: None,
            dry_run: false,
            labels: None,
            label_changes: Default::default(),
        }
    }
}

/// The revision an upgrade starts from: the deployed one, or when none is, the latest if
/// it failed or was superseded (as Helm does).
pub fn current(
    store: &dyn crate::storage::Store,
    key: &ReleaseKey,
    head: &Head,
    latest: &Revision,
) -> Result<Revision> {
    if let Some(d) = head.deployed {
        if d == latest.revision {
            return Ok(latest.clone());
        }
        return super::load(store, key, d);
    }
    super::require_live(key, latest, "upgrade")?;
    if matches!(latest.status, Status::Failed | Status::Superseded) {
        return Ok(latest.clone());
    }
    bail!(
        "release {} has no deployed revision to upgrade from",
        key.name
    )
}

/// Computes the user values of the new revision.
pub(crate) fn combine_values(
    mode: ValuesMode,
    given: &Map<String, Value>,
    current: &Revision,
) -> Map<String, Value> {
    let mut warnings = Vec::new();
    match mode {
        ValuesMode::Reset => given.clone(),
        ValuesMode::Reuse | ValuesMode::ResetThenReuse => {
            let mut v = given.clone();
            crate::values::coalesce::coalesce_tables(
                &mut v,
                current.user_values.clone(),
                "",
                false,
                &mut warnings,
            );
            v
        }
        ValuesMode::Default => {
            if given.is_empty() {
                current.user_values.clone()
            } else {
                given.clone()
            }
        }
    }
}

/// Renders the upgrade of `current` (revision `number`) without writing.
pub(crate) fn plan(
    key: &ReleaseKey,
    number: u64,
    current: &Revision,
    input: &ChartInput,
    opts: &UpgradeOptions,
) -> Result<(Revision, Vec<String>)> {
    let user = combine_values(opts.values_mode, &input.values.merged, current);
    let mut chart = input.chart.clone();
    if opts.values_mode == ValuesMode::Reuse {
        // Helm's --reuse-values keeps the old computed values as the chart's defaults.
        chart.values = current.computed_values.clone();
    }
    let mut values = input.values.clone();
    values.merged = user.clone();
    let input = ChartInput {
        chart: &chart,
        values,
        capabilities: input.capabilities.clone(),
    };
    let release = ReleaseInfo {
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        revision: number,
        is_install: false,
        is_upgrade: true,
        ..ReleaseInfo::default()
    };
    let outcome = super::render(&input, &chart, release, current.manifests.clone())?;
    let warnings = super::warnings_of(&outcome);
    let description = if opts.dry_run {
        "Dry run complete"
    } else {
        "Preparing upgrade"
    };
    let mut rev = super::new_revision(
        key,
        number,
        input.chart,
        user,
        outcome,
        (Status::PendingUpgrade, description),
        Some(current.first_deployed.clone()),
    );
    rev.chart = crate::record::ChartInfo::of(input.chart);
    rev.labels = match &opts.labels {
        Some(labels) => labels.clone(),
        None => super::labels::merged(&current.labels, &opts.label_changes),
    };
    Ok((rev, warnings))
}

/// What an upgrade would do, worked out without writing (for dry runs and `diff upgrade`).
pub enum Plan {
    /// The release does not exist (or was uninstalled) and `--install` was given.
    Install(Box<Revision>, Vec<String>),
    /// An upgrade from `current`.
    Upgrade {
        /// The revision upgraded from.
        current: Box<Revision>,
        /// The new revision.
        new: Box<Revision>,
        /// Warnings from the render.
        warnings: Vec<String>,
    },
}

/// Plans an upgrade without taking the lock or writing.
pub(crate) fn plan_only(
    env: &Env,
    key: &ReleaseKey,
    input: &ChartInput,
    opts: &UpgradeOptions,
) -> Result<Plan> {
    let (head, latest) = super::read_current(env.store, key)?;
    match (head, latest) {
        (Some(head), Some(latest)) if latest.status != Status::Uninstalled => {
            let current = current(env.store, key, &head, &latest)?;
            let (new, warnings) = plan(key, latest.revision + 1, &current, input, opts)?;
            Ok(Plan::Upgrade {
                current: Box::new(current),
                new: Box::new(new),
                warnings,
            })
        }
        (_, latest) => {
            if !opts.install {
                if let Some(l) = &latest {
                    super::require_live(key, l, "upgrade")?;
                }
                return Err(super::not_found(key));
            }
            let iopts = InstallOptions {
                description: opts.description.clone(),
                dry_run: true,
                labels: opts
                    .labels
                    .clone()
                    .or_else(|| Some(super::labels::for_install(&opts.label_changes))),
            };
            let done = super::install::install(env, key, input, &iopts)?;
            Ok(Plan::Install(Box::new(done.revision), done.warnings))
        }
    }
}

/// Upgrades release `key` to `input`.
pub fn upgrade(
    env: &Env,
    key: &ReleaseKey,
    input: &ChartInput,
    opts: &UpgradeOptions,
) -> Result<Done> {
    if opts.dry_run {
        return Ok(match plan_only(env, key, input, opts)? {
            Plan::Install(revision, warnings) => Done {
                revision: *revision,
                warnings,
                dry_run: true,
                installed: true,
            },
            Plan::Upgrade { new, warnings, .. } => {
                if let Some(t) = env.target {
                    t.check(key, &new.manifests)?;
                }
                Done {
                    revision: *new,
                    warnings,
                    dry_run: true,
                    installed: false,
                }
            }
        });
    }
    let locked = super::lock_and_recover(env, key)?;
    let absent = locked
        .latest
        .as_ref()
        .is_none_or(|l| l.status == Status::Uninstalled);
    if absent {
        if !opts.install {
            if let Some(l) = &locked.latest {
                super::require_live(key, l, "upgrade")?;
            }
            return Err(super::not_found(key));
        }
        let iopts = InstallOptions {
            description: opts.description.clone(),
            dry_run: false,
            labels: opts
                .labels
                .clone()
                .or_else(|| Some(super::labels::for_install(&opts.label_changes))),
        };
        return install_locked(env, key, locked, input, &iopts);
    }
    let head = locked
        .head
        .as_ref()
        .expect("a release with revisions has a head");
    let latest = locked.latest.as_ref().expect("checked above");
    let current = current(env.store, key, head, latest)?;
    let (mut rev, warnings) = plan(key, latest.revision + 1, &current, input, opts)?;
    let done = opts.description.as_deref().unwrap_or("Upgrade complete");
    let name = key.name.clone();
    let new_head = super::perform(env, &locked.lock, Some(head), &mut rev, done, |e| {
        format!("Upgrade \"{name}\" failed: {e:#}")
    })?;
    super::prune(env, &locked.lock, &new_head, opts.history_max)?;
    Ok(Done {
        revision: rev,
        warnings,
        dry_run: false,
        installed: false,
    })
}
