//! What the cluster holds of a release: each resource's live state (`stoke status`), drift
//! from the deployed revision (`stoke diff live`), and the chart's test hooks (`stoke test`).

use anyhow::{Result, bail};
use serde::Serialize;

use super::record::{Revision, Status};
use crate::kube::drift::{FieldDrift, drift};
use crate::kube::ready::{self, Readiness, Rules};
use crate::record::ReleaseKey;
use crate::storage::Store;
use crate::target::cluster::{ClusterTarget, HookRun};

/// One resource as the cluster has it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveResource {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (none for cluster-scoped objects).
    pub namespace: Option<String>,
    /// `ready`, `progressing`, `failed`, `missing` or `drifted`.
    pub state: String,
    /// Why, for anything but ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The fields that differ from the revision (for `drifted`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<FieldDrift>,
}

/// The revision the cluster should hold: the deployed one.
pub fn deployed(store: &dyn Store, key: &ReleaseKey) -> Result<Revision> {
    let head = store.head(key)?.ok_or_else(|| super::not_found(key))?;
    let Some(n) = head.deployed else {
        bail!(
            "release {} has no deployed revision (the latest, {}, is {}); see `stoke history {}`",
            key.name,
            head.latest,
            head.summary.status,
            key.name
        );
    };
    let rev = super::load(store, key, n)?;
    debug_assert_eq!(rev.status, Status::Deployed);
    Ok(rev)
}

/// Whether `stoke status` shows the live states of `rev`'s objects: only the deployed
/// revision's are in the cluster (an older or failed revision's would be someone else's).
pub fn shows_live(rev: &Revision) -> bool {
    rev.status == crate::record::Status::Deployed
}

/// Whether any test hook of a `stoke test` run failed.
pub fn any_failed(runs: &[crate::target::cluster::HookRun]) -> bool {
    runs.iter().any(|r| r.phase == "Failed")
}

/// The live state of every resource of `rev`.
pub fn resources(target: &ClusterTarget, rev: &Revision) -> Result<Vec<LiveResource>> {
    let key = rev.key();
    let mut out = Vec::new();
    for (p, live) in target.live_states(&key, &rev.resources())? {
        let (state, reason, fields) = match live {
            None => (
                "missing",
                Some("not in the cluster".to_string()),
                Vec::new(),
            ),
            Some(live) => {
                let fields = drift(&p.manifest.kind, &p.body, &live);
                match ready::judge(&p.manifest.kind, &live, Rules { jobs: true }) {
                    Readiness::Failed(why) => ("failed", Some(why), fields),
                    _ if !fields.is_empty() => (
                        "drifted",
                        Some(format!(
                            "{} fields differ from revision {}",
                            fields.len(),
                            rev.revision
                        )),
                        fields,
                    ),
                    Readiness::Ready => ("ready", None, fields),
                    Readiness::Progressing(why) => ("progressing", Some(why), fields),
                }
            }
        };
        out.push(LiveResource {
            kind: p.manifest.kind.clone(),
            name: p.manifest.name.clone(),
            namespace: p.id.namespace.clone(),
            state: state.into(),
            reason,
            drift: fields,
        });
    }
    Ok(out)
}

/// The resources of `rev` that the cluster no longer holds as recorded: missing ones and
/// those whose applied fields changed (drift, as `stoke diff live` reports it).
pub fn drifted(target: &ClusterTarget, rev: &Revision) -> Result<Vec<LiveResource>> {
    Ok(resources(target, rev)?
        .into_iter()
        .filter(|r| r.state == "missing" || !r.drift.is_empty())
        .collect())
}

/// Runs the test hooks of the deployed revision.
pub fn test(
    store: &dyn Store,
    target: &ClusterTarget,
    key: &ReleaseKey,
    logs: bool,
) -> Result<(Revision, Vec<HookRun>)> {
    let rev = deployed(store, key)?;
    let runs = target.run_tests(key, &rev.hook_manifests(), logs)?;
    Ok((rev, runs))
}
