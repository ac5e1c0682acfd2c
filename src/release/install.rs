//! `stoke install`: the first revision of a release (or a new one after an uninstall that
//! kept history, as Helm's install --replace allows).

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use super::{ChartInput, Done, Env, Locked};
use crate::engine::ReleaseInfo;
use crate::record::ReleaseKey;
use crate::record::{Revision, Status};

/// Options of an install.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Replaces "Install complete" as the description.
    pub description: Option<String>,
    /// Render and report without writing anything.
    pub dry_run: bool,
    /// Labels to record on the release (none when `None`).
    pub labels: Option<BTreeMap<String, String>>,
}

/// Installs `input` as release `key`.
pub fn install(
    env: &Env,
    key: &ReleaseKey,
    input: &ChartInput,
    opts: &InstallOptions,
) -> Result<Done> {
    if opts.dry_run {
        let (_, latest) = super::read_current(env.store, key)?;
        check_free(key, latest.as_ref())?;
        let number = latest.map_or(1, |l| l.revision + 1);
        let (revision, warnings) = plan(key, number, input, opts)?;
        // A target during a dry run means a server-side one: the server checks every object.
        if let Some(t) = env.target {
            t.check(key, &revision.manifests)?;
        }
        return Ok(Done {
            revision,
            warnings,
            dry_run: true,
            installed: true,
        });
    }
    let locked = super::lock_and_recover(env, key)?;
    install_locked(env, key, locked, input, opts)
}

fn check_free(key: &ReleaseKey, latest: Option<&Revision>) -> Result<()> {
    if let Some(l) = latest
        && l.status != Status::Uninstalled
    {
        bail!(
            "cannot re-use a name that is still in use: release {} already exists in namespace {} (revision {}, {}); change it with `stoke upgrade {} CHART`",
            key.name,
            key.namespace,
            l.revision,
            l.status,
            key.name
        );
    }
    Ok(())
}

fn plan(
    key: &ReleaseKey,
    number: u64,
    input: &ChartInput,
    opts: &InstallOptions,
) -> Result<(Revision, Vec<String>)> {
    let release = ReleaseInfo {
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        revision: number,
        is_install: true,
        is_upgrade: false,
        ..ReleaseInfo::default()
    };
    let outcome = super::render(input, input.chart, release, Vec::new())?;
    let warnings = super::warnings_of(&outcome);
    let (status, description) = if opts.dry_run {
        (Status::PendingInstall, "Dry run complete")
    } else {
        (Status::PendingInstall, "Initial install underway")
    };
    let mut rev = super::new_revision(
        key,
        number,
        input.chart,
        input.values.merged.clone(),
        outcome,
        (status, description),
        None,
    );
    rev.labels = opts.labels.clone().unwrap_or_default();
    Ok((rev, warnings))
}

/// The install under an already held lock (also used by `upgrade --install`).
pub(crate) fn install_locked(
    env: &Env,
    key: &ReleaseKey,
    locked: Locked,
    input: &ChartInput,
    opts: &InstallOptions,
) -> Result<Done> {
    check_free(key, locked.latest.as_ref())?;
    let number = locked.latest.as_ref().map_or(1, |l| l.revision + 1);
    let (mut rev, warnings) = plan(key, number, input, opts)?;
    super::check_record_size(&rev)?;
    if let Some(mut old) = locked.latest {
        // Reinstalling over a kept history: the uninstalled revision is now history.
        old.status = Status::Superseded;
        env.store.write_revision(&locked.lock, &old)?;
    }
    let done = opts.description.as_deref().unwrap_or("Install complete");
    let name = key.name.clone();
    let crds = crate::kube::crds::crds(input.chart)?;
    super::perform_with(
        env,
        &locked.lock,
        locked.head.as_ref(),
        &mut rev,
        &crds,
        done,
        |e| format!("Release \"{name}\" failed: {e:#}"),
    )?;
    Ok(Done {
        revision: rev,
        warnings,
        dry_run: false,
        installed: true,
    })
}
