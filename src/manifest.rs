//! A rendered Kubernetes object ([`Manifest`]) and Helm's install order: the data the
//! engine produces and releases, targets and diffs consume.

use serde::{Deserialize, Serialize};

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Template it came from, e.g. `ignition/templates/statefulset.yaml`.
    pub source: String,
    /// `apiVersion` of the object.
    pub api_version: String,
    /// `kind` of the object.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when the template sets one.
    pub namespace: Option<String>,
    /// The document's YAML text as rendered (without the `---` separator).
    pub body: String,
}

/// Helm's install order: kinds earlier in the list are applied first; unknown kinds last.
pub(crate) const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn kind_rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Sorts manifests into install order; unknown kinds go last, by kind name; otherwise the
/// rendering order is kept.
///
/// Hooks (documents annotated `helm.sh/hook`, such as test Pods) come after every other
/// document, in the same order among themselves, as `helm template` prints them.
pub(crate) fn sort_for_install(manifests: &mut [Manifest]) {
    manifests.sort_by_cached_key(|m| {
        let rank = kind_rank(&m.kind);
        let unknown = if rank == INSTALL_ORDER.len() {
            m.kind.clone()
        } else {
            String::new()
        };
        (is_hook(m), rank, unknown)
    });
}

/// Whether the document carries a `helm.sh/hook` annotation.
pub fn is_hook(manifest: &Manifest) -> bool {
    // Most documents never mention it; only those are read, from the parser's events when
    // they tell (a full parse of a large hook Job cost more than rendering it).
    if !manifest.body.contains("helm.sh/hook") {
        return false;
    }
    if let Some(head) = crate::yaml::fast::scan(&manifest.body) {
        return head.hook;
    }
    if let Some(found) =
        crate::yaml::has_key_path(&manifest.body, &["metadata", "annotations", "helm.sh/hook"])
    {
        return found;
    }
    crate::yaml::try_from_str::<serde_json::Value>(&manifest.body)
        .is_ok_and(|doc| doc["metadata"]["annotations"].get("helm.sh/hook").is_some())
}

/// The manifests as one multi-document YAML stream, each under a `# Source:` line, as
/// `stoke template` prints them.
pub(crate) fn manifest_text(manifests: &[Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n# Source: ");
        out.push_str(&m.source);
        out.push('\n');
        out.push_str(&m.body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_order_puts_namespaces_first_and_unknown_kinds_last() {
        let mk = |kind: &str| Manifest {
            source: String::new(),
            api_version: "v1".into(),
            kind: kind.into(),
            name: "n".into(),
            namespace: None,
            body: String::new(),
        };
        let mut v = vec![
            mk("Zebra"),
            mk("Deployment"),
            mk("Certificate"),
            mk("Namespace"),
        ];
        sort_for_install(&mut v);
        let kinds: Vec<_> = v.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["Namespace", "Deployment", "Certificate", "Zebra"]);
    }

    #[test]
    fn hooks_come_after_every_other_document_as_helm_template_prints_them() {
        let mk = |kind: &str, name: &str, body: &str| Manifest {
            source: String::new(),
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            body: body.into(),
        };
        let test = "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n";
        let mentions = "kind: Pod\nmetadata:\n  name: p\n  labels:\n    note: helm.sh/hook\n";
        let mut v = vec![
            mk("Pod", "t", test),
            mk("Pod", "p", mentions),
            mk("StatefulSet", "s", ""),
            mk(
                "Job",
                "j",
                "metadata:\n  annotations:\n    \"helm.sh/hook\": post-install\n",
            ),
            mk("Service", "v", ""),
        ];
        sort_for_install(&mut v);
        let names: Vec<_> = v.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["v", "p", "s", "t", "j"]);
    }
}
