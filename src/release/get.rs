//! `stoke get` and the revision lookups `status` shares.

use anyhow::Result;

use crate::record::ReleaseKey;
use crate::record::Revision;
use crate::storage::Store;

/// Revision `revision` of `key`, or its latest.
pub fn revision(store: &dyn Store, key: &ReleaseKey, revision: Option<u64>) -> Result<Revision> {
    let head = store.head(key)?.ok_or_else(|| super::not_found(key))?;
    super::load(store, key, revision.unwrap_or(head.latest))
}
