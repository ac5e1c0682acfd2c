//! `stoke history`: every stored revision of a release, oldest first.

use anyhow::Result;

use crate::record::ReleaseKey;
use crate::record::{Status, Summary};
use crate::storage::Store;

/// The summaries of `key`'s revisions, oldest first; with `max`, only the newest `max`.
///
/// Reads are lock-free, so a crash between deploying a revision and superseding the
/// previous one can leave two revisions saying `deployed` until the next operation repairs
/// it; the newer one is the deployed one, and the older is shown as superseded.
pub fn history(store: &dyn Store, key: &ReleaseKey, max: Option<usize>) -> Result<Vec<Summary>> {
    let mut all = store.history(key)?;
    if all.is_empty() {
        return Err(super::not_found(key));
    }
    let newest_deployed = all
        .iter()
        .rev()
        .find(|s| s.status == Status::Deployed)
        .map(|s| s.revision);
    for s in &mut all {
        if s.status == Status::Deployed && Some(s.revision) != newest_deployed {
            s.status = Status::Superseded;
        }
    }
    if let Some(max) = max
        && max > 0
        && all.len() > max
    {
        all.drain(..all.len() - max);
    }
    Ok(all)
}

/// [`history`], keeping every readable revision and reporting each unreadable one in its
/// place (oldest first), so one damaged record does not hide the rest.
pub fn history_lenient(
    store: &dyn Store,
    key: &ReleaseKey,
    max: Option<usize>,
) -> Result<Vec<std::result::Result<Summary, crate::storage::Damaged>>> {
    let mut all = store.history_lenient(key)?;
    if all.is_empty() {
        return Err(super::not_found(key));
    }
    let newest_deployed = all
        .iter()
        .rev()
        .filter_map(|s| s.as_ref().ok())
        .find(|s| s.status == Status::Deployed)
        .map(|s| s.revision);
    for s in all.iter_mut().flatten() {
        if s.status == Status::Deployed && Some(s.revision) != newest_deployed {
            s.status = Status::Superseded;
        }
    }
    if let Some(max) = max
        && max > 0
        && all.len() > max
    {
        all.drain(..all.len() - max);
    }
    Ok(all)
}
