//! `stoke fleet status`: one line per release of the file — its revision, status and chart
//! version from the store, and whether the live objects drifted from it when a cluster is
//! configured.

use anyhow::Result;
use serde::Serialize;

use super::{Fleet, FleetRelease, Selector, run};
use crate::release::record::Revision;
use crate::storage::Store;

/// Compares a deployed revision with what is live. The cluster target implements it; with
/// no cluster configured there is nothing to compare against and drift is not reported.
pub trait DriftCheck: Sync {
    /// A short description of the drift (`none`, `2 objects changed`, ...).
    fn drift(&self, revision: &Revision) -> Result<String>;
}

/// One release's line.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseStatus {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Latest revision, when the release exists.
    pub revision: Option<u64>,
    /// Its status (`deployed`, `failed`, ...), or `not-installed`.
    pub status: String,
    /// The chart version recorded, `name-version`.
    pub chart: Option<String>,
    /// When the latest revision was written (RFC 3339).
    pub updated: Option<String>,
    /// Drift from the live objects; `None` when no cluster is configured.
    pub drift: Option<String>,
}

/// The status of every selected release, in file order, to `sink`.
pub fn status(
    store: &(dyn Store + Sync),
    fleet: &Fleet,
    selector: &Selector,
    drift: Option<&dyn DriftCheck>,
    threads: usize,
    mut sink: impl FnMut(&FleetRelease, Result<ReleaseStatus>),
) {
    let releases = fleet.select(selector);
    run::for_each_ordered(
        &releases,
        threads,
        |r| one(store, r, drift).map_err(|e| super::at(r, e)),
        |i, result| sink(releases[i], result),
    );
}

fn one(
    store: &dyn Store,
    release: &FleetRelease,
    drift: Option<&dyn DriftCheck>,
) -> Result<ReleaseStatus> {
    let (head, latest) = crate::release::read_current(store, &release.key)?;
    let mut s = ReleaseStatus {
        name: release.key.name.clone(),
        namespace: release.key.namespace.clone(),
        revision: None,
        status: "not-installed".into(),
        chart: None,
        updated: None,
        drift: None,
    };
    let (Some(head), Some(latest)) = (head, latest) else {
        return Ok(s);
    };
    s.revision = Some(latest.revision);
    s.status = latest.status.to_string();
    s.chart = Some(latest.chart.display());
    s.updated = Some(latest.last_deployed.clone());
    if let Some(check) = drift
        && let Some(d) = head.deployed
    {
        let deployed = if d == latest.revision {
            latest
        } else {
            crate::release::load(store, &release.key, d)?
        };
        s.drift = Some(check.drift(&deployed)?);
    }
    Ok(s)
}
