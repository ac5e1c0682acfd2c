//! `stoke status`: a revision's state, its notes and its resources by kind. Never shows
//! resource contents, so Secret data cannot leak through it.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use crate::record::ReleaseKey;
use crate::record::{Revision, Status};
use crate::storage::Store;

/// What `status` reports; the JSON field names are stable (docs/store.md).
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Release name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Revision shown.
    pub revision: u64,
    /// Its status.
    pub status: Status,
    /// `chart-version`.
    pub chart: String,
    /// The chart's appVersion.
    pub app_version: Option<String>,
    /// When the revision was last written (RFC 3339).
    pub updated: String,
    /// What happened.
    pub description: String,
    /// When the release was first deployed.
    pub first_deployed: String,
    /// The chart digest.
    pub chart_digest: String,
    /// Resource names by kind.
    pub resources: BTreeMap<String, Vec<String>>,
    /// Rendered notes.
    pub notes: Option<String>,
    /// Each resource's live state, when a cluster is configured (docs/cluster.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Vec<super::live::LiveResource>>,
}

/// The status of `key` at `revision` (default: latest).
pub fn status(store: &dyn Store, key: &ReleaseKey, revision: Option<u64>) -> Result<StatusReport> {
    Ok(report(&super::get::revision(store, key, revision)?))
}

/// The status report of one revision.
pub fn report(rev: &Revision) -> StatusReport {
    let mut resources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &rev.resources() {
        resources
            .entry(m.kind.clone())
            .or_default()
            .push(m.name.clone());
    }
    StatusReport {
        name: rev.name.clone(),
        namespace: rev.namespace.clone(),
        revision: rev.revision,
        status: rev.status,
        chart: rev.chart.display(),
        app_version: rev.chart.app_version.clone(),
        updated: rev.last_deployed.clone(),
        description: rev.description.clone(),
        first_deployed: rev.first_deployed.clone(),
        chart_digest: rev.chart.digest.clone(),
        resources,
        notes: rev.notes.clone(),
        live: None,
    }
}
