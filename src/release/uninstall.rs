//! `stoke uninstall`: removes a release, or with `--keep-history` marks its latest revision
//! uninstalled ("Uninstallation complete") and keeps every record.

use anyhow::{Result, bail};

use super::Env;
use crate::record::{Head, ReleaseKey};
use crate::record::{Revision, Status};
use crate::timestamp::now_rfc3339;

/// Options of an uninstall.
#[derive(Debug, Clone, Default)]
pub struct UninstallOptions {
    /// Keep the records, marking the latest revision uninstalled.
    pub keep_history: bool,
    /// Replaces "Uninstallation complete" as the description.
    pub description: Option<String>,
    /// Report without writing.
    pub dry_run: bool,
}

/// What an uninstall did.
#[derive(Debug, Clone)]
pub struct Uninstalled {
    /// The revision marked uninstalled (with `--keep-history`).
    pub kept: Option<Revision>,
}

/// Uninstalls release `key`.
pub fn uninstall(env: &Env, key: &ReleaseKey, opts: &UninstallOptions) -> Result<Uninstalled> {
    if opts.dry_run {
        let (_, latest) = super::read_current(env.store, key)?;
        let latest = latest.ok_or_else(|| super::not_found(key))?;
        return Ok(Uninstalled { kept: Some(latest) });
    }
    let locked = super::lock_and_recover(env, key)?;
    let (Some(head), Some(mut latest)) = (locked.head, locked.latest) else {
        return Err(super::not_found(key));
    };
    if latest.status == Status::Uninstalled {
        if opts.keep_history {
            bail!(
                "release {} is already uninstalled (history kept); remove its history with `stoke uninstall {} -n {}`",
                key.name,
                key.name,
                key.namespace
            );
        }
        env.store.delete_release(&locked.lock)?;
        return Ok(Uninstalled { kept: None });
    }
    let before = (latest.status, latest.description.clone());
    latest.status = Status::Uninstalling;
    latest.description = "Deletion in progress (or silently failed)".into();
    env.store.write_revision(&locked.lock, &latest)?;
    super::failpoint("after-uninstalling");
    if let Some(t) = env.target {
        // A failed latest revision may have left objects the deployed one lacks.
        let mut manifests = latest.delivered();
        if let Some(d) = head.deployed.filter(|d| *d != latest.revision)
            && let Some(dep) = env.store.revision(key, d)?
        {
            // Its resources only: the delete hooks are the latest revision's, run once.
            manifests.extend(dep.resources());
        }
        if let Err(e) = t.remove(key, &manifests) {
            // A refusal (a failed pre-delete hook, RBAC) deleted nothing or only part:
            // the release keeps its state rather than stay `uninstalling`, which the next
            // operation would take for a crash and converge without running hooks.
            (latest.status, latest.description) = before;
            env.store.write_revision(&locked.lock, &latest)?;
            return Err(e.context(format!(
                "cannot uninstall {}: it stays {}; fix the cause and run `stoke uninstall {} -n {}` again",
                key.name, latest.status, key.name, key.namespace
            )));
        }
    }
    if !opts.keep_history {
        env.store.delete_release(&locked.lock)?;
        return Ok(Uninstalled { kept: None });
    }
    let now = now_rfc3339();
    latest.status = Status::Uninstalled;
    latest.description = opts
        .description
        .clone()
        .unwrap_or_else(|| "Uninstallation complete".into());
    latest.deleted = Some(now.clone());
    latest.last_deployed = now;
    env.store.write_revision(&locked.lock, &latest)?;
    env.store.write_head(
        &locked.lock,
        &Head {
            key: head.key.clone(),
            latest: latest.revision,
            deployed: None,
            summary: latest.summary(),
        },
    )?;
    Ok(Uninstalled { kept: Some(latest) })
}
