//! `stoke rollback`: a new revision carrying an earlier revision's chart, values and
//! manifest, described "Rollback to N" as Helm describes it.

use anyhow::{Result, bail};

use super::{Done, Env};
use crate::record::ReleaseKey;
use crate::record::Status;
use crate::timestamp::now_rfc3339;

/// Options of a rollback.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// The revision to return to; `None` (or 0) means the one before the latest.
    pub revision: Option<u64>,
    /// Keep at most this many revisions (0 = all).
    pub history_max: usize,
    /// Replaces "Rollback to N" as the description.
    pub description: Option<String>,
    /// Report without writing.
    pub dry_run: bool,
}

impl Default for RollbackOptions {
    fn default() -> Self {
        RollbackOptions {
            revision: None,
            history_max: 10,
            description: None,
            dry_run: false,
        }
    }
}

/// Rolls release `key` back.
pub fn rollback(env: &Env, key: &ReleaseKey, opts: &RollbackOptions) -> Result<Done> {
    let locked = if opts.dry_run {
        None
    } else {
        Some(super::lock_and_recover(env, key)?)
    };
    let (head, latest) = match &locked {
        Some(l) => (l.head.clone(), l.latest.clone()),
        None => super::read_current(env.store, key)?,
    };
    let (Some(head), Some(latest)) = (head, latest) else {
        return Err(super::not_found(key));
    };
    super::require_live(key, &latest, "roll back")?;
    let to = match opts.revision {
        Some(n) if n > 0 => n,
        _ => latest.revision.saturating_sub(1),
    };
    if to == 0 {
        bail!(
            "release {} has no previous revision to roll back to (it has only revision {})",
            key.name,
            latest.revision
        );
    }
    if to > latest.revision {
        bail!(
            "release {} has no revision {to}: the latest is {} (see `stoke history {}`)",
            key.name,
            latest.revision,
            key.name
        );
    }
    let target = super::load(env.store, key, to)?;
    let mut rev = target.clone();
    rev.revision = latest.revision + 1;
    rev.status = Status::PendingRollback;
    rev.description = format!("Rollback to {to}");
    rev.first_deployed = latest.first_deployed.clone();
    rev.last_deployed = now_rfc3339();
    rev.deleted = None;
    rev.format = crate::record::FORMAT_VERSION;
    let Some(locked) = locked else {
        return Ok(Done {
            revision: rev,
            warnings: Vec::new(),
            dry_run: true,
            installed: false,
        });
    };
    let done = opts
        .description
        .clone()
        .unwrap_or_else(|| format!("Rollback to {to}"));
    let name = key.name.clone();
    let new_head = super::perform(env, &locked.lock, Some(&head), &mut rev, &done, |e| {
        format!("Rollback \"{name}\" failed: {e:#}")
    })?;
    super::prune(env, &locked.lock, &new_head, opts.history_max)?;
    Ok(Done {
        revision: rev,
        warnings: Vec::new(),
        dry_run: false,
        installed: false,
    })
}
