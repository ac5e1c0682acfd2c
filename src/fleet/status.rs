//! `stoke fleet status`: one line per release of the file — its revision, status and chart
//! version from the store, and whether the live objects drifted from it when a cluster is
//! configured.

use anyhow::Result;
use serde::Serialize;

use super::{Fleet, FleetRelease, Selector, run, track};
use crate::release::live::LiveResource;
use crate::release::record::Revision;
use crate::storage::Store;
use crate::target::cluster::ClusterTarget;

/// Compares a deployed revision with what is live. The cluster target implements it; with
/// no cluster configured there is nothing to compare against and drift is not reported.
pub trait DriftCheck: Sync {
    /// The resources of `revision` that are missing from the cluster or whose applied
    /// fields changed there; empty when the cluster holds the revision as recorded.
    fn drift(&self, revision: &Revision) -> Result<Vec<LiveResource>>;
}

/// Drift as `stoke diff live` judges it.
impl DriftCheck for ClusterTarget {
    fn drift(&self, revision: &Revision) -> Result<Vec<LiveResource>> {
        crate::release::live::drifted(self, revision)
    }
}

/// The drift column: `none`, or how many resources drifted and the first few of them.
pub fn drift_summary(drifted: &[LiveResource]) -> String {
    const SHOWN: usize = 3;
    if drifted.is_empty() {
        return "none".into();
    }
    let mut names: Vec<String> = drifted
        .iter()
        .take(SHOWN)
        .map(|r| {
            if r.state == "missing" {
                format!("{} {} missing", r.kind, r.name)
            } else {
                let n = r.drift.len();
                format!(
                    "{} {} {n} field{}",
                    r.kind,
                    r.name,
                    if n == 1 { "" } else { "s" }
                )
            }
        })
        .collect();
    if drifted.len() > SHOWN {
        names.push(format!("{} more", drifted.len() - SHOWN));
    }
    format!("{} drifted: {}", drifted.len(), names.join(", "))
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
    /// Drift from the live objects ([`drift_summary`]); `None` when no cluster is
    /// configured or nothing is deployed.
    pub drift: Option<String>,
    /// The drifted resources with their differing fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drifted: Vec<LiveResource>,
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
        |r| {
            let result = one(store, r, drift).map_err(|e| super::at(r, e));
            // Reading the store alone is instant; only reading the cluster is worth a line.
            if drift.is_some() {
                track::done(&r.key, &result, |s| match &s.drift {
                    Some(d) => format!("{}, drift {d}", s.status),
                    None => s.status.clone(),
                });
            }
            result
        },
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
        drifted: Vec::new(),
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
        track::working(&release.key, "reading the live objects");
        s.drifted = check.drift(&deployed)?;
        s.drift = Some(drift_summary(&s.drifted));
    }
    Ok(s)
}
