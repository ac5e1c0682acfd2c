//! The variables every template sees: `values`, `release`, `chart`, `capabilities` and
//! `template`. docs/templates.md documents each next to its Helm equivalent.

use serde::Serialize;
use serde_json::{Map, Value as Json};
use tera::{Context, Value};

use std::sync::{Arc, OnceLock};

use super::RenderOptions;
use super::convert::{Like, from_json, from_json_map};
use crate::chart::{Chart, ChartCache};

/// The release a render is for.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseInfo {
    /// Release name.
    pub name: String,
    /// Namespace the release lives in.
    pub namespace: String,
    /// Revision being written (1 on install).
    pub revision: u64,
    /// Whether this render is for an install.
    pub is_install: bool,
    /// Whether this render is for an upgrade or rollback.
    pub is_upgrade: bool,
    /// The tool doing the release (`.Release.Service` in Helm).
    pub service: String,
}

impl Default for ReleaseInfo {
    fn default() -> Self {
        ReleaseInfo {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "stoke".into(),
        }
    }
}

impl ReleaseInfo {
    /// Revision 1 of release `name` in `namespace`, rendered as an install or, with
    /// `as_upgrade`, as an upgrade (what `stoke template` renders; Helm's `--is-upgrade`).
    pub fn first_revision(name: String, namespace: String, as_upgrade: bool) -> ReleaseInfo {
        ReleaseInfo {
            name,
            namespace,
            revision: 1,
            is_install: !as_upgrade,
            is_upgrade: as_upgrade,
            ..ReleaseInfo::default()
        }
    }

    /// The release lint renders with: the default name in `namespace`.
    pub fn for_lint(namespace: String) -> ReleaseInfo {
        ReleaseInfo {
            namespace,
            ..ReleaseInfo::default()
        }
    }
}

/// What the target cluster offers.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// Kubernetes version, e.g. `v1.31.0`.
    pub kube_version: semver::Version,
    /// API versions available, as `group/version` and `group/version/Kind`.
    pub api_versions: Vec<String>,
}

/// The Kubernetes version assumed when none is given.
pub(crate) const DEFAULT_KUBE_VERSION: semver::Version = semver::Version::new(1, 31, 0);

/// API versions every supported cluster serves.
pub(crate) const BUILTIN_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
];

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: DEFAULT_KUBE_VERSION,
            api_versions: BUILTIN_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The context shared by every template of one chart.
pub fn base(chart: &Chart, values: &Map<String, Json>, opts: &RenderOptions) -> Context {
    let mut ctx = Context::new();
    ctx.insert_value("values", values_value(chart, values));
    ctx.insert("release", &opts.release);
    ctx.insert_value("chart", chart_value(chart));
    let kv = &opts.capabilities.kube_version;
    let caps = serde_json::json!({
        "kube_version": {
            "version": format!("v{}.{}.{}", kv.major, kv.minor, kv.patch),
            "major": kv.major.to_string(),
            "minor": kv.minor.to_string(),
        },
        "api_versions": opts.capabilities.api_versions,
    });
    ctx.insert_value("capabilities", from_json(&caps));
    ctx
}

/// `chart`: Chart.yaml's fields in snake_case, every documented field present (null when
/// unset), so templates can test them without tripping over undefined names.
/// Charts rendered many times in this process (a fleet's), each with the values of its
/// first render kept converted: a later render's values share every part equal to those,
/// and each render's conversion was the largest cost of a render after the templates.
static SHARED: ChartCache<OnceLock<Like>> = ChartCache::new();

/// Keeps converted values of `chart` to share with its later renders (see [`SHARED`]). A
/// one-off render does not: keeping a copy would only cost it time.
pub(crate) fn share_conversions(chart: &Chart) {
    let _ = SHARED.get_or_try_insert(&chart.id, || {
        Ok::<_, std::convert::Infallible>(Arc::new(OnceLock::new()))
    });
}

/// `values` as templates see them.
fn values_value(chart: &Chart, values: &Map<String, Json>) -> Value {
    let Some(slot) = SHARED.get(&chart.id) else {
        return from_json_map(values);
    };
    let mut first = None;
    let like = slot.get_or_init(|| {
        let like = Like::new(values.clone());
        first = Some(like.value());
        like
    });
    first.unwrap_or_else(|| like.convert(values))
}

fn chart_value(chart: &Chart) -> Value {
    let m = &chart.metadata;
    from_json(&serde_json::json!({
        "name": m.name,
        "version": m.version,
        "app_version": m.app_version,
        "api_version": m.api_version,
        "description": m.description,
        "type": m.chart_type.clone().unwrap_or_else(|| "application".into()),
        "kube_version": m.kube_version,
        "keywords": m.keywords,
        "home": m.home,
        "sources": m.sources,
        "icon": m.icon,
        "deprecated": m.deprecated,
        "annotations": m.annotations,
        "maintainers": m.maintainers,
    }))
}

/// The context of one template: the chart's, plus `template`.
pub(crate) fn for_template(base: &Context, name: &str, base_path: &str) -> Context {
    let mut ctx = base.clone();
    ctx.insert_value(
        "template",
        from_json(&serde_json::json!({ "name": name, "base_path": base_path })),
    );
    ctx
}
