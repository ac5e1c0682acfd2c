//! One rendered resource on its way to the cluster: its parsed body, its identity, and the
//! ownership marks stoke puts on it.
//!
//! Ownership (docs/cluster.md): every object stoke applies carries the annotations
//! [`RELEASE_NAME`] and [`RELEASE_NAMESPACE`] and the label [`RELEASE_LABEL`]. The
//! annotations decide ownership; the label is there for `kubectl get -l`.

use anyhow::Result;
use serde_json::{Map, Value};

use crate::manifest::Manifest;
use crate::record::ReleaseKey;

/// Annotation naming the release that owns an object.
pub const RELEASE_NAME: &str = "stoke.dev/release-name";
/// Annotation naming the namespace of that release.
pub const RELEASE_NAMESPACE: &str = "stoke.dev/release-namespace";
/// Label with the release name, for selecting a release's objects.
pub const RELEASE_LABEL: &str = "stoke.dev/release";
/// Helm's annotation for objects that survive uninstall and prune.
pub const RESOURCE_POLICY: &str = "helm.sh/resource-policy";
/// Helm's ownership annotation, recognised to say whose object it is in a refusal.
pub const HELM_RELEASE_NAME: &str = "meta.helm.sh/release-name";
/// Helm's ownership annotation for the namespace.
pub const HELM_RELEASE_NAMESPACE: &str = "meta.helm.sh/release-namespace";

/// What identifies an object in a cluster: API group, kind, namespace and name. The
/// namespace of a namespaced object without one is the release's; the version is left out
/// so that a chart moving an object to a newer apiVersion does not prune it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`None` for cluster-scoped objects once discovery has told).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl Id {
    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped): how progress names the
    /// object, one stable key per object.
    pub fn progress_key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// The API group of an `apiVersion` (`apps/v1` -> `apps`, `v1` -> ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The version of an `apiVersion` (`apps/v1` -> `v1`).
pub fn version_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or(api_version, |(_, v)| v)
}

/// The identity of a manifest, with namespaced-ness not yet known: a manifest without a
/// namespace gets the release's (prune compares like with like, so this is consistent).
pub fn id_of(m: &Manifest, release: &ReleaseKey) -> Id {
    Id {
        group: group_of(&m.api_version).to_string(),
        kind: m.kind.clone(),
        namespace: Some(
            m.namespace
                .clone()
                .unwrap_or_else(|| release.namespace.clone()),
        ),
        name: m.name.clone(),
    }
}

/// Parses a manifest's YAML body into the JSON the API takes.
pub fn parse(m: &Manifest) -> Result<Value> {
    let origin = format!("{} {} (from {})", m.kind, m.name, m.source);
    let json = crate::yaml::parse_json(&yaml11_octals(&m.body), &origin)?;
    if !json.is_object() {
        anyhow::bail!("{} {} (from {}) is not a mapping", m.kind, m.name, m.source);
    }
    Ok(json)
}

/// Kubernetes reads manifests as YAML 1.1, where a plain `0755` is the octal number 493
/// (file modes in charts are written so); the YAML 1.2 parser here would read a string
/// the API server then refuses. Plain (unquoted) scalars of that form, as a mapping value
/// or list item at the end of a line, are rewritten to their decimal value first.
fn yaml11_octals(body: &str) -> std::borrow::Cow<'_, str> {
    fn octal(tok: &str) -> Option<u64> {
        let digits = tok.strip_prefix('0')?;
        if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        u64::from_str_radix(digits, 8).ok()
    }
    if !body.contains(" 0") {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut changed = false;
    for line in body.split_inclusive('\n') {
        let (text, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        let trimmed = text.trim_end();
        let split = trimmed.rfind(": ").map(|i| i + 2).or_else(|| {
            let lead = trimmed.len() - trimmed.trim_start().len();
            trimmed[lead..].starts_with("- ").then_some(lead + 2)
        });
        if let Some(at) = split
            && let Some(n) = octal(trimmed[at..].trim())
            && !trimmed[..at].contains('#')
        {
            out.push_str(&trimmed[..at]);
            out.push_str(&n.to_string());
            out.push_str(end);
            changed = true;
        } else {
            out.push_str(line);
        }
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(body)
    }
}

fn meta_map<'a>(obj: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    let meta = obj
        .as_object_mut()
        .expect("checked to be an object")
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let map = meta
        .as_object_mut()
        .expect("just made an object")
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !map.is_object() {
        *map = Value::Object(Map::new());
    }
    map.as_object_mut().expect("just made an object")
}

/// Puts the ownership marks of `release` on `obj`.
pub fn mark_owned(obj: &mut Value, release: &ReleaseKey) {
    let ann = meta_map(obj, "annotations");
    ann.insert(RELEASE_NAME.into(), Value::String(release.name.clone()));
    ann.insert(
        RELEASE_NAMESPACE.into(),
        Value::String(release.namespace.clone()),
    );
    meta_map(obj, "labels").insert(RELEASE_LABEL.into(), Value::String(release.name.clone()));
}

/// Sets (or, for a cluster-scoped object, removes) `metadata.namespace`.
pub fn set_namespace(obj: &mut Value, namespace: Option<&str>) {
    let meta = obj
        .as_object_mut()
        .expect("checked to be an object")
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        match namespace {
            Some(ns) => {
                meta.insert("namespace".into(), Value::String(ns.into()));
            }
            None => {
                meta.remove("namespace");
            }
        }
    }
}

/// An annotation of a live or rendered object.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// Whether `helm.sh/resource-policy: keep` protects the object from prune and uninstall.
pub fn is_kept(obj: &Value) -> bool {
    annotation(obj, RESOURCE_POLICY).is_some_and(|p| p.trim() == "keep")
}

/// Who owns a live object, as its marks say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This release.
    Us,
    /// Another stoke release (`namespace/name`).
    Release(String),
    /// A Helm release (`namespace/name`).
    Helm(String),
    /// Nobody: created by hand or by another tool.
    Nobody,
}

/// Reads the owner of a live object relative to `release`.
pub fn owner(live: &Value, release: &ReleaseKey) -> Owner {
    match (
        annotation(live, RELEASE_NAME),
        annotation(live, RELEASE_NAMESPACE),
    ) {
        (Some(n), Some(ns)) if n == release.name && ns == release.namespace => Owner::Us,
        (Some(n), ns) => Owner::Release(format!("{}/{n}", ns.unwrap_or("?"))),
        _ => match (
            annotation(live, HELM_RELEASE_NAME),
            annotation(live, HELM_RELEASE_NAMESPACE),
        ) {
            (Some(n), ns) => Owner::Helm(format!("{}/{n}", ns.unwrap_or("?"))),
            _ => Owner::Nobody,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ReleaseKey {
        ReleaseKey::new("prod", "gw").unwrap()
    }

    #[test]
    fn marks_are_added_without_touching_the_charts_own() {
        let mut obj =
            json!({"metadata": {"name": "x", "labels": {"app": "gw"}, "annotations": {"a": "b"}}});
        mark_owned(&mut obj, &key());
        assert_eq!(obj["metadata"]["labels"]["app"], "gw");
        assert_eq!(obj["metadata"]["labels"][RELEASE_LABEL], "gw");
        assert_eq!(obj["metadata"]["annotations"]["a"], "b");
        assert_eq!(obj["metadata"]["annotations"][RELEASE_NAME], "gw");
        assert_eq!(obj["metadata"]["annotations"][RELEASE_NAMESPACE], "prod");
        assert_eq!(owner(&obj, &key()), Owner::Us);
    }

    #[test]
    fn owners_are_told_apart() {
        let other =
            json!({"metadata": {"annotations": {RELEASE_NAME: "gw", RELEASE_NAMESPACE: "dev"}}});
        assert_eq!(owner(&other, &key()), Owner::Release("dev/gw".into()));
        let helm = json!({"metadata": {"annotations": {HELM_RELEASE_NAME: "x", HELM_RELEASE_NAMESPACE: "prod"}}});
        assert_eq!(owner(&helm, &key()), Owner::Helm("prod/x".into()));
        assert_eq!(owner(&json!({"metadata": {}}), &key()), Owner::Nobody);
    }

    #[test]
    fn the_keep_policy_is_read_from_annotations() {
        assert!(is_kept(
            &json!({"metadata": {"annotations": {RESOURCE_POLICY: "keep"}}})
        ));
        assert!(!is_kept(
            &json!({"metadata": {"annotations": {RESOURCE_POLICY: "delete"}}})
        ));
        assert!(!is_kept(&json!({"metadata": {}})));
    }

    #[test]
    fn plain_octal_scalars_are_read_as_kubernetes_reads_them() {
        let m = Manifest {
            source: "c/templates/x.yaml".into(),
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: "p".into(),
            namespace: None,
            body: "spec:\n  volumes:\n  - configMap:\n      defaultMode: 0755\n      name: '0644'\n  modes:\n  - 0600\n  port: 080\n  zero: 0\n".into(),
        };
        let v = parse(&m).unwrap();
        assert_eq!(v["spec"]["volumes"][0]["configMap"]["defaultMode"], 493);
        assert_eq!(
            v["spec"]["volumes"][0]["configMap"]["name"], "0644",
            "quoted stays a string"
        );
        assert_eq!(v["spec"]["modes"][0], 384);
        assert_eq!(v["spec"]["port"], "080", "not octal: left alone");
        assert_eq!(v["spec"]["zero"], 0);
    }

    #[test]
    fn api_versions_split_into_group_and_version() {
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("v1"), "");
        assert_eq!(version_of("cert-manager.io/v1"), "v1");
        assert_eq!(version_of("v1"), "v1");
    }
}
