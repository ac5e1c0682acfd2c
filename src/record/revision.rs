//! One [`Revision`] per install, upgrade or rollback, and the [`Summary`] of it that
//! history and list show.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::chart::Chart;
use crate::manifest::Manifest;

/// A revision's status, worded as Helm words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// An install is under way (or was interrupted).
    PendingInstall,
    /// An upgrade is under way (or was interrupted).
    PendingUpgrade,
    /// A rollback is under way (or was interrupted).
    PendingRollback,
    /// The live revision; exactly one per live release.
    Deployed,
    /// Replaced by a later deployed revision.
    Superseded,
    /// The operation that wrote this revision failed.
    Failed,
    /// An uninstall is under way.
    Uninstalling,
    /// Uninstalled with `--keep-history`.
    Uninstalled,
}

impl Status {
    /// Helm's spelling, e.g. `pending-upgrade`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
            Status::Deployed => "deployed",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::Uninstalled => "uninstalled",
        }
    }

    /// Whether an operation was under way when this status was written.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall
                | Status::PendingUpgrade
                | Status::PendingRollback
                | Status::Uninstalling
        )
    }

    /// Every status, for messages and filters.
    pub const ALL: [Status; 8] = [
        Status::PendingInstall,
        Status::PendingUpgrade,
        Status::PendingRollback,
        Status::Deployed,
        Status::Superseded,
        Status::Failed,
        Status::Uninstalling,
        Status::Uninstalled,
    ];
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which chart a revision was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartInfo {
    /// Chart name.
    pub name: String,
    /// Chart version.
    pub version: String,
    /// The chart's appVersion, if it has one.
    #[serde(default)]
    pub app_version: Option<String>,
    /// `sha256:<hex>` over the chart's files (see [`chart_digest`]).
    #[serde(default)]
    pub digest: String,
}

impl ChartInfo {
    /// Describes `chart`.
    pub fn of(chart: &Chart) -> ChartInfo {
        ChartInfo {
            name: chart.metadata.name.clone(),
            version: chart.metadata.version.to_string(),
            app_version: chart.metadata.app_version.clone(),
            digest: chart_digest(chart),
        }
    }

    /// `name-version`, as Helm's list shows the chart.
    pub fn display(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// One revision of a release: what was deployed and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Record format version ([`super::FORMAT_VERSION`]).
    pub format: u32,
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Revision number, from 1.
    pub revision: u64,
    /// Status.
    pub status: Status,
    /// What happened, in Helm's words ("Install complete", "Rollback to 3", ...).
    pub description: String,
    /// When the release was first deployed (carried over from revision to revision).
    pub first_deployed: String,
    /// When this revision was written or last changed state (`updated` in listings).
    pub last_deployed: String,
    /// When the release was uninstalled, for `uninstalled` revisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
    /// The chart.
    pub chart: ChartInfo,
    /// Values the user supplied (files and `--set`), merged.
    pub user_values: Map<String, Value>,
    /// The values templates saw: user values coalesced over the chart's defaults.
    pub computed_values: Map<String, Value>,
    /// Rendered NOTES.txt.
    #[serde(default)]
    pub notes: Option<String>,
    /// The rendered resources in install order; [`Revision::manifest_text`] is the
    /// manifest as `stoke template` prints it.
    pub manifests: Vec<Manifest>,
    /// The chart's hooks (documents annotated `helm.sh/hook`), in install order, recorded
    /// apart from the resources: they run at their events, are never pruned and are not
    /// part of `get manifest`; `stoke get hooks` shows them. Records written before this
    /// field existed carry their hooks inside `manifests`; [`Revision::resources`] and
    /// [`Revision::hook_manifests`] read both kinds of record the same way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Manifest>,
    /// Labels recorded on the release, as Helm's release labels (`install --labels`,
    /// selectable with `list -l`; a fleet records its selection labels and its own name
    /// here, see docs/fleet.md); carried from revision to revision.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Revision {
    /// The manifest (the resources, no hooks) as one YAML stream with `# Source:` lines.
    pub fn manifest_text(&self) -> String {
        crate::manifest::manifest_text(&self.resources())
    }

    /// The hooks as one YAML stream with `# Source:` lines (`stoke get hooks`).
    pub fn hooks_text(&self) -> String {
        crate::manifest::manifest_text(&self.hook_manifests())
    }

    /// The release's resources without its hooks, also for records that kept hooks in
    /// `manifests`.
    pub fn resources(&self) -> Vec<Manifest> {
        self.manifests
            .iter()
            .filter(|m| !crate::manifest::is_hook(m))
            .cloned()
            .collect()
    }

    /// The hooks, also those an older record kept in `manifests`.
    pub fn hook_manifests(&self) -> Vec<Manifest> {
        let legacy = self
            .manifests
            .iter()
            .filter(|m| crate::manifest::is_hook(m));
        legacy.chain(&self.hooks).cloned().collect()
    }

    /// Everything a target receives: the resources, then the hooks (targets tell them
    /// apart by their annotation).
    pub fn delivered(&self) -> Vec<Manifest> {
        self.manifests.iter().chain(&self.hooks).cloned().collect()
    }

    /// Moves the hooks among `rendered` (in install order) to [`Revision::hooks`] and the
    /// rest to [`Revision::manifests`].
    pub fn set_rendered(&mut self, rendered: Vec<Manifest>) {
        let (hooks, resources): (Vec<Manifest>, Vec<Manifest>) =
            rendered.into_iter().partition(crate::manifest::is_hook);
        self.manifests = resources;
        self.hooks = hooks;
    }

    /// The release this revision belongs to.
    pub fn key(&self) -> super::ReleaseKey {
        super::ReleaseKey {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The summary history and list show.
    pub fn summary(&self) -> Summary {
        Summary {
            revision: self.revision,
            status: self.status,
            chart: self.chart.name.clone(),
            chart_version: self.chart.version.clone(),
            app_version: self.chart.app_version.clone(),
            updated: self.last_deployed.clone(),
            description: self.description.clone(),
            labels: self.labels.clone(),
        }
    }
}

/// What history and list show of a revision. Reading it from a revision file skips the
/// values and manifests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Revision number.
    pub revision: u64,
    /// Status.
    pub status: Status,
    /// Chart name.
    pub chart: String,
    /// Chart version.
    pub chart_version: String,
    /// The chart's appVersion.
    #[serde(default)]
    pub app_version: Option<String>,
    /// When the revision was last written (RFC 3339, UTC).
    pub updated: String,
    /// What happened.
    pub description: String,
    /// The release's labels (see [`Revision::labels`]), so `list -l` reads heads alone.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The subset of a revision file that [`Summary`] needs; the rest is skipped unparsed.
#[derive(Deserialize)]
pub(crate) struct SummaryView {
    pub revision: u64,
    pub status: Status,
    pub description: String,
    pub last_deployed: String,
    pub chart: ChartView,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
pub(crate) struct ChartView {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub app_version: Option<String>,
}

impl SummaryView {
    pub(crate) fn into_summary(self) -> Summary {
        Summary {
            revision: self.revision,
            status: self.status,
            chart: self.chart.name,
            chart_version: self.chart.version,
            app_version: self.chart.app_version,
            updated: self.last_deployed,
            description: self.description,
            labels: self.labels,
        }
    }
}

/// A digest of everything in a chart that affects rendering: metadata, default values,
/// schema, templates, other files and subcharts, in a fixed order. Two revisions with the
/// same digest were made from the same chart content.
pub fn chart_digest(chart: &Chart) -> String {
    fn feed(h: &mut Sha256, chart: &Chart) {
        let meta = serde_json::to_vec(&chart.metadata).unwrap_or_default();
        for part in [
            chart.path.as_bytes(),
            &meta,
            chart.values_text.as_bytes(),
            chart
                .schema
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default()
                .as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        for f in chart.templates.iter().chain(chart.files.iter()) {
            h.update((f.name.len() as u64).to_le_bytes());
            h.update(f.name.as_bytes());
            h.update((f.data.len() as u64).to_le_bytes());
            h.update(&f.data);
        }
        for sub in &chart.subcharts {
            feed(h, sub);
        }
    }
    let mut h = Sha256::new();
    feed(&mut h, chart);
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: &str, name: &str, hook: Option<&str>) -> Manifest {
        let annotations = hook
            .map(|h| format!("  annotations:\n    helm.sh/hook: {h}\n"))
            .unwrap_or_default();
        Manifest {
            source: format!("c/templates/{name}.yaml"),
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            body: format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n{annotations}"),
        }
    }

    fn record(manifests: Vec<Manifest>) -> Revision {
        Revision {
            format: 1,
            name: "gw".into(),
            namespace: "plant".into(),
            revision: 1,
            status: Status::Deployed,
            description: "Install complete".into(),
            first_deployed: "2026-01-01T00:00:00.000Z".into(),
            last_deployed: "2026-01-01T00:00:00.000Z".into(),
            deleted: None,
            chart: ChartInfo {
                name: "c".into(),
                version: "0.1.0".into(),
                app_version: None,
                digest: String::new(),
            },
            user_values: Map::new(),
            computed_values: Map::new(),
            notes: None,
            manifests,
            hooks: Vec::new(),
            labels: Default::default(),
        }
    }

    #[test]
    fn a_render_is_recorded_with_its_hooks_apart_and_read_back_whole() {
        let mut rev = record(Vec::new());
        rev.set_rendered(vec![
            doc("ConfigMap", "app", None),
            doc("Pod", "smoke", Some("test")),
        ]);
        assert_eq!(rev.manifests, [doc("ConfigMap", "app", None)]);
        assert_eq!(rev.hooks, [doc("Pod", "smoke", Some("test"))]);
        assert!(!rev.manifest_text().contains("smoke"));
        assert!(rev.hooks_text().contains("name: smoke"));
        assert_eq!(rev.delivered().len(), 2, "targets receive both");
        let json = serde_json::to_string(&rev).unwrap();
        let back: Revision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rev);
    }

    #[test]
    fn a_record_from_before_the_hooks_field_still_tells_hooks_from_resources() {
        let old = record(vec![
            doc("ConfigMap", "app", None),
            doc("Pod", "smoke", Some("test")),
        ]);
        let mut json = serde_json::to_value(&old).unwrap();
        assert!(json.get("hooks").is_none(), "an empty field is not written");
        json.as_object_mut().unwrap().remove("hooks");
        let read: Revision = serde_json::from_value(json).unwrap();
        assert_eq!(read.resources(), [doc("ConfigMap", "app", None)]);
        assert_eq!(read.hook_manifests(), [doc("Pod", "smoke", Some("test"))]);
        assert!(!read.manifest_text().contains("smoke"));
    }

    #[test]
    fn statuses_are_spelled_as_helm_spells_them() {
        for s in Status::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!(Status::PendingRollback.is_pending());
        assert!(!Status::Failed.is_pending());
    }
}
