//! From rendered template text to manifests: splitting documents, dropping blank ones,
//! checking each is a Kubernetes object, and Helm's install order.

use anyhow::{Result, bail};
use serde::Serialize;

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
pub const INSTALL_ORDER: &[&str] = &[
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
pub fn sort_for_install(manifests: &mut [Manifest]) {
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

/// Splits one template's output into documents on `---` lines.
pub fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut start_line = 1;
    for (i, line) in text.lines().enumerate() {
        let is_sep = line.starts_with("---") && line[3..].trim().is_empty();
        if is_sep {
            docs.push((start_line, std::mem::take(&mut current)));
            start_line = i + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push((start_line, current));
    docs
}

/// Whether a document has nothing but blank lines and comments.
pub fn is_blank(doc: &str) -> bool {
    doc.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Parses a template's rendered output into manifests; `template` names the template in
/// errors.
pub fn parse_output(template: &str, text: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for (start_line, doc) in split_documents(text) {
        if is_blank(&doc) {
            continue;
        }
        let value: serde_yaml::Value = match serde_yaml::from_str(&doc) {
            Ok(v) => v,
            Err(e) => {
                let (line, detail) = match e.location() {
                    Some(loc) => {
                        let line = start_line + loc.line() - 1;
                        let shown = doc.lines().nth(loc.line() - 1).unwrap_or("");
                        (line, format!("\n  {line} | {shown}"))
                    }
                    None => (start_line, String::new()),
                };
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg);
                bail!(
                    "{template}: the rendered output is not valid YAML at line {line} of the output: {msg}{detail}\n  (render with `stoke template --debug` to see the whole output)"
                );
            }
        };
        let body = doc.trim_end().to_string() + "\n";
        let Some(map) = value.as_mapping() else {
            bail!("{template}: a rendered document (output line {start_line}) is not a mapping");
        };
        let get = |k: &str| map.get(k);
        let api_version = get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
        let kind = get("kind").and_then(|v| v.as_str()).unwrap_or("");
        let metadata = get("metadata").and_then(|m| m.as_mapping());
        let name = metadata
            .and_then(|m| m.get("name"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let namespace = metadata
            .and_then(|m| m.get("namespace"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let missing: Vec<&str> = [
            ("apiVersion", api_version),
            ("kind", kind),
            ("metadata.name", name),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect();
        if !missing.is_empty() {
            bail!(
                "{template}: the rendered document at output line {start_line} lacks {}; every document must be a Kubernetes object",
                missing.join(", ")
            );
        }
        out.push(Manifest {
            source: template.to_string(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            namespace,
            body,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_comment_only_documents_are_dropped() {
        let text =
            "---\n# nothing\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n";
        let m = parse_output("c/templates/x.yaml", text).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].kind, "ConfigMap");
    }

    #[test]
    fn a_document_without_a_name_is_refused() {
        let err = parse_output("t", "apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert!(err.to_string().contains("lacks metadata.name"), "{err}");
    }

    #[test]
    fn invalid_yaml_names_the_template_and_line() {
        let err = parse_output("c/templates/x.yaml", "---\na: b\n  c: [\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("c/templates/x.yaml: the rendered output is not valid YAML at line"),
            "{msg}"
        );
    }

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
