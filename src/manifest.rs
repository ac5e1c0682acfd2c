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
pub(crate) fn sort_for_install(manifests: &mut [Manifest]) {
    manifests.sort_by(|a, b| {
        let (ra, rb) = (kind_rank(&a.kind), kind_rank(&b.kind));
        ra.cmp(&rb).then_with(|| {
            if ra == INSTALL_ORDER.len() {
                a.kind.cmp(&b.kind)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
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
}
