//! Readiness of a live object, judged as Helm 4 judges it (the kstatus rules): a workload
//! is ready when its controller has seen the latest spec and rolled it out everywhere; a
//! Job when it completed; a PVC when bound; a LoadBalancer Service when it has an address;
//! anything with a `Ready` condition when that condition is true. Pure functions over the
//! object's JSON, so each rule is tested without a cluster.

use serde_json::Value;

/// What a live object's state amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Done: nothing more to wait for.
    Ready,
    /// Not yet; the reason says what is still missing.
    Progressing(String),
    /// It will not become ready by waiting; the reason says why (a condition's message).
    Failed(String),
}

impl Readiness {
    /// Whether waiting is over, for good or bad.
    pub fn is_final(&self) -> bool {
        !matches!(self, Readiness::Progressing(_))
    }
}

/// What to wait for besides rollouts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// Jobs must complete (`--wait-for-jobs`); otherwise a Job is ready once it exists.
    pub jobs: bool,
}

fn int(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_i64()
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// The condition of `type_` in `status.conditions`: (status, reason, message).
fn condition<'a>(obj: &'a Value, type_: &str) -> Option<(&'a str, &'a str, &'a str)> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            (s("status"), s("reason"), s("message"))
        })
}

fn because(reason: &str, message: &str) -> String {
    match (reason.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({reason})"),
        (true, false) => format!(": {message}"),
        (false, false) => format!(" ({reason}: {message})"),
    }
}

/// Judges one live object of `kind`.
pub fn judge(kind: &str, obj: &Value, rules: Rules) -> Readiness {
    // A controller that has not yet seen the latest spec says nothing about it.
    if let (Some(generation), Some(observed)) = (
        int(obj, &["metadata", "generation"]),
        int(obj, &["status", "observedGeneration"]),
    ) && observed < generation
    {
        return Readiness::Progressing(format!(
            "the controller has seen generation {observed} of {generation}"
        ));
    }
    match kind {
        "Deployment" => deployment(obj),
        "StatefulSet" => statefulset(obj),
        "DaemonSet" => daemonset(obj),
        "ReplicaSet" | "ReplicationController" => replicaset(obj),
        "Job" if rules.jobs => job(obj),
        "Pod" => pod(obj),
        "PersistentVolumeClaim" => pvc(obj),
        "Service" => service(obj),
        "Certificate" | "Issuer" | "ClusterIssuer" | "CertificateRequest" => {
            ready_condition(obj, true)
        }
        _ => ready_condition(obj, false),
    }
}

fn needs_observation(obj: &Value) -> Option<Readiness> {
    if obj
        .get("status")
        .is_none_or(|s| s.get("observedGeneration").is_none())
    {
        return Some(Readiness::Progressing(
            "no controller has reported on it yet".into(),
        ));
    }
    None
}

fn deployment(obj: &Value) -> Readiness {
    if let Some((_, "ProgressDeadlineExceeded", msg)) = condition(obj, "Progressing") {
        return Readiness::Failed(format!("rollout stopped (ProgressDeadlineExceeded: {msg})"));
    }
    if let Some(r) = needs_observation(obj) {
        return r;
    }
    let want = int(obj, &["spec", "replicas"]).unwrap_or(1);
    let updated = int(obj, &["status", "updatedReplicas"]).unwrap_or(0);
    let total = int(obj, &["status", "replicas"]).unwrap_or(0);
    let available = int(obj, &["status", "availableReplicas"]).unwrap_or(0);
    if updated < want {
        return Readiness::Progressing(format!("{updated} of {want} replicas updated"));
    }
    if total > updated {
        return Readiness::Progressing(format!("{} old replicas still running", total - updated));
    }
    if available < want {
        return Readiness::Progressing(format!("{available} of {want} replicas available"));
    }
    Readiness::Ready
}

fn statefulset(obj: &Value) -> Readiness {
    if let Some(r) = needs_observation(obj) {
        return r;
    }
    let want = int(obj, &["spec", "replicas"]).unwrap_or(1);
    let strategy = text(obj, &["spec", "updateStrategy", "type"]).unwrap_or("RollingUpdate");
    let ready = int(obj, &["status", "readyReplicas"]).unwrap_or(0);
    if ready < want {
        return Readiness::Progressing(format!("{ready} of {want} replicas ready"));
    }
    if strategy == "OnDelete" {
        return Readiness::Ready;
    }
    let partition = int(
        obj,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    )
    .unwrap_or(0);
    let updated = int(obj, &["status", "updatedReplicas"]).unwrap_or(0);
    if partition > 0 {
        let expected = (want - partition).max(0);
        return if updated < expected {
            Readiness::Progressing(format!(
                "{updated} of {expected} replicas above the partition updated"
            ))
        } else {
            Readiness::Ready
        };
    }
    if updated < want {
        return Readiness::Progressing(format!("{updated} of {want} replicas updated"));
    }
    let current = text(obj, &["status", "currentRevision"]).unwrap_or("");
    let update = text(obj, &["status", "updateRevision"]).unwrap_or("");
    if !update.is_empty() && current != update {
        return Readiness::Progressing(format!(
            "rolling out revision {update} (current {current})"
        ));
    }
    Readiness::Ready
}

fn daemonset(obj: &Value) -> Readiness {
    if let Some(r) = needs_observation(obj) {
        return r;
    }
    let want = int(obj, &["status", "desiredNumberScheduled"]).unwrap_or(0);
    let updated = int(obj, &["status", "updatedNumberScheduled"]).unwrap_or(0);
    let available = int(obj, &["status", "numberAvailable"]).unwrap_or(0);
    if updated < want {
        return Readiness::Progressing(format!("{updated} of {want} pods updated"));
    }
    if available < want {
        return Readiness::Progressing(format!("{available} of {want} pods available"));
    }
    Readiness::Ready
}

fn replicaset(obj: &Value) -> Readiness {
    if let Some(r) = needs_observation(obj) {
        return r;
    }
    let want = int(obj, &["spec", "replicas"]).unwrap_or(1);
    let ready = int(obj, &["status", "readyReplicas"]).unwrap_or(0);
    if ready < want {
        return Readiness::Progressing(format!("{ready} of {want} replicas ready"));
    }
    Readiness::Ready
}

fn job(obj: &Value) -> Readiness {
    if let Some(("True", reason, msg)) = condition(obj, "Failed") {
        return Readiness::Failed(format!("the Job failed{}", because(reason, msg)));
    }
    if let Some(("True", ..)) = condition(obj, "Complete") {
        return Readiness::Ready;
    }
    let active = int(obj, &["status", "active"]).unwrap_or(0);
    let done = int(obj, &["status", "succeeded"]).unwrap_or(0);
    Readiness::Progressing(format!("not complete ({active} active, {done} succeeded)"))
}

fn pod(obj: &Value) -> Readiness {
    match text(obj, &["status", "phase"]).unwrap_or("Pending") {
        "Succeeded" => Readiness::Ready,
        "Failed" => {
            let reason = text(obj, &["status", "reason"]).unwrap_or("");
            let msg = text(obj, &["status", "message"]).unwrap_or("");
            Readiness::Failed(format!("the Pod failed{}", because(reason, msg)))
        }
        "Running" => match condition(obj, "Ready") {
            Some(("True", ..)) => Readiness::Ready,
            Some((_, reason, msg)) => {
                Readiness::Progressing(format!("running, not ready{}", because(reason, msg)))
            }
            None => Readiness::Progressing("running, not ready".into()),
        },
        phase => Readiness::Progressing(format!("phase {phase}")),
    }
}

fn pvc(obj: &Value) -> Readiness {
    match text(obj, &["status", "phase"]) {
        Some("Bound") => Readiness::Ready,
        Some("Lost") => Readiness::Failed("the claim lost its volume (phase Lost)".into()),
        Some(p) => Readiness::Progressing(format!("not bound (phase {p})")),
        None => Readiness::Progressing("not bound".into()),
    }
}

fn service(obj: &Value) -> Readiness {
    if text(obj, &["spec", "type"]) != Some("LoadBalancer") {
        return Readiness::Ready;
    }
    let has_address = obj
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_address {
        Readiness::Ready
    } else {
        Readiness::Progressing("no load balancer address yet".into())
    }
}

/// `required`: the kind is known to report readiness (cert-manager's), so a missing
/// condition means "not yet" rather than "nothing to wait for".
fn ready_condition(obj: &Value, required: bool) -> Readiness {
    match condition(obj, "Ready") {
        Some(("True", ..)) => Readiness::Ready,
        Some((_, reason, msg)) => {
            Readiness::Progressing(format!("Ready is not True{}", because(reason, msg)))
        }
        None if required => Readiness::Progressing("no Ready condition yet".into()),
        None => Readiness::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(r: Readiness) -> bool {
        matches!(r, Readiness::Progressing(_))
    }

    #[test]
    fn a_statefulset_is_ready_when_every_replica_is_ready_on_the_update_revision() {
        let mut s = json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2,
                       "currentRevision": "a", "updateRevision": "a"}
        });
        assert!(
            p(judge("StatefulSet", &s, Rules::default())),
            "old generation"
        );
        s["status"]["observedGeneration"] = json!(2);
        s["status"]["updateRevision"] = json!("b");
        assert!(
            p(judge("StatefulSet", &s, Rules::default())),
            "revisions differ"
        );
        s["status"]["currentRevision"] = json!("b");
        assert_eq!(judge("StatefulSet", &s, Rules::default()), Readiness::Ready);
        s["status"]["readyReplicas"] = json!(1);
        assert_eq!(
            judge("StatefulSet", &s, Rules::default()),
            Readiness::Progressing("1 of 2 replicas ready".into())
        );
    }

    #[test]
    fn a_workload_without_status_waits_for_its_controller() {
        let d = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1}});
        assert!(p(judge("Deployment", &d, Rules::default())));
        assert!(p(judge("StatefulSet", &d, Rules::default())));
        assert!(p(judge("DaemonSet", &d, Rules::default())));
    }

    #[test]
    fn a_deployment_needs_updated_and_available_replicas_and_fails_past_its_deadline() {
        let mut d = json!({
            "metadata": {"generation": 1}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}
        });
        assert!(
            p(judge("Deployment", &d, Rules::default())),
            "an old replica remains"
        );
        d["status"]["replicas"] = json!(3);
        assert_eq!(judge("Deployment", &d, Rules::default()), Readiness::Ready);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
        assert!(
            matches!(judge("Deployment", &d, Rules::default()), Readiness::Failed(m) if m.contains("too slow"))
        );
    }

    #[test]
    fn a_daemonset_needs_every_scheduled_pod_updated_and_available() {
        let mut d = json!({"status": {"observedGeneration": 1, "desiredNumberScheduled": 2,
            "updatedNumberScheduled": 2, "numberAvailable": 1}});
        assert!(p(judge("DaemonSet", &d, Rules::default())));
        d["status"]["numberAvailable"] = json!(2);
        assert_eq!(judge("DaemonSet", &d, Rules::default()), Readiness::Ready);
    }

    #[test]
    fn jobs_count_only_with_wait_for_jobs() {
        let mut j = json!({"status": {"active": 1}});
        assert_eq!(judge("Job", &j, Rules::default()), Readiness::Ready);
        let jobs = Rules { jobs: true };
        assert!(p(judge("Job", &j, jobs)));
        j["status"]["conditions"] = json!([{"type": "Complete", "status": "True"}]);
        assert_eq!(judge("Job", &j, jobs), Readiness::Ready);
        j["status"]["conditions"] = json!([{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]);
        assert_eq!(
            judge("Job", &j, jobs),
            Readiness::Failed("the Job failed (BackoffLimitExceeded: Job has reached the specified backoff limit)".into())
        );
    }

    #[test]
    fn pods_pvcs_and_load_balancers() {
        assert!(p(judge(
            "Pod",
            &json!({"status": {"phase": "Pending"}}),
            Rules::default()
        )));
        assert_eq!(
            judge(
                "Pod",
                &json!({"status": {"phase": "Succeeded"}}),
                Rules::default()
            ),
            Readiness::Ready
        );
        let running = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(judge("Pod", &running, Rules::default()), Readiness::Ready);
        assert!(matches!(
            judge(
                "Pod",
                &json!({"status": {"phase": "Failed"}}),
                Rules::default()
            ),
            Readiness::Failed(_)
        ));

        assert!(p(judge(
            "PersistentVolumeClaim",
            &json!({"status": {"phase": "Pending"}}),
            Rules::default()
        )));
        assert_eq!(
            judge(
                "PersistentVolumeClaim",
                &json!({"status": {"phase": "Bound"}}),
                Rules::default()
            ),
            Readiness::Ready
        );

        let lb = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
        assert!(p(judge("Service", &lb, Rules::default())));
        let lb = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}});
        assert_eq!(judge("Service", &lb, Rules::default()), Readiness::Ready);
        assert_eq!(
            judge(
                "Service",
                &json!({"spec": {"type": "ClusterIP"}}),
                Rules::default()
            ),
            Readiness::Ready
        );
    }

    #[test]
    fn cert_manager_objects_need_a_true_ready_condition_other_objects_only_if_they_have_one() {
        assert!(p(judge("Certificate", &json!({}), Rules::default())));
        let not = json!({"status": {"conditions": [{"type": "Ready", "status": "False",
            "reason": "Pending", "message": "Issuing certificate"}]}});
        assert_eq!(
            judge("Certificate", &not, Rules::default()),
            Readiness::Progressing("Ready is not True (Pending: Issuing certificate)".into())
        );
        let yes = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(judge("Issuer", &yes, Rules::default()), Readiness::Ready);
        assert_eq!(
            judge("ConfigMap", &json!({"data": {}}), Rules::default()),
            Readiness::Ready
        );
        assert!(p(judge("Widget", &not, Rules::default())));
    }
}
