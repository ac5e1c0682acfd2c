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

/// What `get metadata` shows of a revision (Helm's `helm get metadata`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metadata {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Chart name.
    pub chart: String,
    /// Chart version.
    pub version: String,
    /// The chart's appVersion, if any.
    pub app_version: Option<String>,
    /// Revision number.
    pub revision: u64,
    /// Status of the revision.
    pub status: String,
    /// When the revision was written (RFC 3339, UTC).
    pub deployed_at: String,
    /// The revision's description.
    pub description: String,
    /// The release's labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The metadata of `rev`.
pub fn metadata(rev: &Revision) -> Metadata {
    Metadata {
        name: rev.name.clone(),
        namespace: rev.namespace.clone(),
        chart: rev.chart.name.clone(),
        version: rev.chart.version.clone(),
        app_version: rev.chart.app_version.clone(),
        revision: rev.revision,
        status: rev.status.to_string(),
        deployed_at: rev.last_deployed.clone(),
        description: rev.description.clone(),
        labels: rev.labels.clone(),
    }
}
