//! Turning kube-rs errors into messages that say which server, which object, what the
//! server said and what to do about it.

use super::client::Cluster;

/// What stoke was doing when a request failed: the verb and resource as RBAC names them,
/// and the object, so a refusal can be quoted back in the cluster's own terms.
#[derive(Debug, Clone, Default)]
pub struct Op {
    /// The RBAC verb: get, list, create, patch, delete, ...
    pub verb: String,
    /// The resource as RBAC names it: `statefulsets.apps`, `secrets`, `version`.
    pub resource: String,
    /// The namespace, for namespaced resources.
    pub namespace: Option<String>,
    /// The object, e.g. `StatefulSet gw-ignition` (from `ignition/templates/statefulset.yaml`).
    pub object: Option<String>,
}

impl Op {
    /// An operation on a resource, outside any namespace.
    pub fn new(verb: &str, resource: &str) -> Op {
        Op {
            verb: verb.into(),
            resource: resource.into(),
            ..Op::default()
        }
    }

    /// The same operation in `namespace`.
    pub fn in_namespace(mut self, namespace: Option<&str>) -> Op {
        self.namespace = namespace.map(str::to_string);
        self
    }

    /// The same operation on a named object.
    pub fn on(mut self, object: impl Into<String>) -> Op {
        self.object = Some(object.into());
        self
    }

    fn what(&self) -> String {
        match &self.object {
            Some(o) => o.clone(),
            None => self.resource.clone(),
        }
    }

    fn where_(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("in namespace `{ns}`"),
            None => "cluster-wide".into(),
        }
    }
}

/// The error of a field-manager conflict, kept typed so callers can tell it apart.
pub fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409)
}

/// Whether the server said the object does not exist.
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}

impl Cluster {
    /// Explains `err`, which happened while doing `op`, as a message that names the server,
    /// the context, the object and what to do.
    pub fn explain(&self, err: kube::Error, op: &Op) -> anyhow::Error {
        let at = self.at();
        let msg = match &err {
            kube::Error::Api(status) => {
                let server_says = if status.message.is_empty() {
                    status.reason.clone()
                } else {
                    status.message.clone()
                };
                match status.code {
                    401 => format!(
                        "{at} refused the credentials of {} (401 Unauthorized: {server_says}); they may have expired: refresh the kubeconfig (log in to the cluster again) or choose another --kube-context",
                        self.user_name()
                    ),
                    403 if server_says.contains("exceeded quota") => format!(
                        "{at} refused {} {}: a ResourceQuota is exhausted ({server_says}); raise the quota or lower the chart's resource requests",
                        op.what(),
                        op.where_()
                    ),
                    403 => format!(
                        "{at}: {} may not {} {} {} (403 Forbidden: {server_says}); ask a cluster administrator for a Role allowing `{}` on `{}` there (docs/cluster.md has a minimal Role)",
                        self.user_name(),
                        op.verb,
                        op.resource,
                        op.where_(),
                        op.verb,
                        op.resource
                    ),
                    409 => conflict_message(&at, op, status),
                    400 | 422 => {
                        let mut m =
                            format!("{at} refused {} {}: {server_says}", op.what(), op.where_());
                        for c in status.details.iter().flat_map(|d| &d.causes) {
                            if !c.field.is_empty() {
                                m.push_str(&format!("\n  - {}: {}", c.field, c.message));
                            }
                        }
                        m.push_str("\nfix the chart or the values that produce this object");
                        m
                    }
                    404 => format!(
                        "{at}: {} {} does not exist ({server_says})",
                        op.what(),
                        op.where_()
                    ),
                    code => format!(
                        "{at} failed to {} {} {} ({code} {}: {server_says})",
                        op.verb,
                        op.what(),
                        op.where_(),
                        status.reason
                    ),
                }
            }
            kube::Error::HyperError(_) | kube::Error::Service(_) => format!(
                "cannot reach {at}: {}; check that the cluster is running and that --kubeconfig / --kube-context point at it",
                chain(&err)
            ),
            kube::Error::Auth(_) => format!(
                "cannot authenticate to {at} as {}: {}; refresh the kubeconfig's credentials",
                self.user_name(),
                chain(&err)
            ),
            _ => format!(
                "{at}: cannot {} {} {}: {}",
                op.verb,
                op.what(),
                op.where_(),
                chain(&err)
            ),
        };
        // The message quotes what the server said; kube-rs's own rendering of the error
        // (a debug dump of the status) would only repeat it less readably.
        drop(err);
        anyhow::anyhow!(msg)
    }
}

fn conflict_message(at: &str, op: &Op, status: &kube::core::Status) -> String {
    let fields: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .filter(|c| c.reason == "FieldManagerConflict" || !c.field.is_empty())
        .map(|c| format!("\n  - {}: {}", c.field, c.message))
        .collect();
    if fields.is_empty() {
        return format!(
            "{at}: {} {} changed while stoke applied it ({}); run the command again",
            op.what(),
            op.where_(),
            status.message
        );
    }
    format!(
        "{at}: {} {} has fields another field manager owns:{}\nre-run with --force-conflicts to take them over, or remove them from the chart",
        op.what(),
        op.where_(),
        fields.concat()
    )
}

/// The causes of an error, innermost last, on one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}
