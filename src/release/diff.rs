//! `stoke diff`: the two sets of resources to compare, from stored revisions or from a
//! planned upgrade, compared by [`crate::diff`].

use anyhow::Result;

use super::upgrade::{Plan, UpgradeOptions};
use super::{ChartInput, Env};
pub use crate::diff::{Change, ResourceDiff, diff_manifests, mask_secret};
use crate::record::ReleaseKey;
use crate::storage::Store;

/// Differences between revisions `a` and `b` of a release.
pub(crate) fn diff_revisions(
    store: &dyn Store,
    key: &ReleaseKey,
    a: u64,
    b: u64,
) -> Result<Vec<ResourceDiff>> {
    let ra = super::load(store, key, a)?;
    let rb = super::load(store, key, b)?;
    Ok(diff_manifests(
        &ra.delivered(),
        &rb.delivered(),
        &format!("revision {a}"),
        &format!("revision {b}"),
    ))
}

/// What an upgrade would change, against the revision it would upgrade from.
pub(crate) fn diff_upgrade(
    env: &Env,
    key: &ReleaseKey,
    input: &ChartInput,
    opts: &UpgradeOptions,
) -> Result<(Vec<ResourceDiff>, Vec<String>)> {
    let mut opts = opts.clone();
    opts.dry_run = true;
    Ok(match super::upgrade::plan_only(env, key, input, &opts)? {
        Plan::Install(rev, warnings) => (
            diff_manifests(&[], &rev.delivered(), "(not installed)", "install"),
            warnings,
        ),
        Plan::Upgrade {
            current,
            new,
            warnings,
        } => (
            diff_manifests(
                &current.delivered(),
                &new.delivered(),
                &format!("revision {}", current.revision),
                "upgrade",
            ),
            warnings,
        ),
    })
}
