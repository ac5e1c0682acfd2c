//! More of deploying to a real Kubernetes API server (.ci/kube-up), each driven through the
//! built binary: hooks recorded apart from the manifest, `lookup` reading the live
//! cluster, progress lines while waiting, readiness of every kind Helm 4 waits for, the
//! errors a cluster gives (refused credentials, exhausted quota, admission policies) and
//! rollback and delete hooks. No controllers run, so the tests write status subresources
//! as controllers would.

mod common;

use std::time::Duration;

use common::kube::{TestCluster, cm, finish, job, kstoke, spawn, statuses, sts, wait_until};
use common::{Run, chart};
use serde_json::{Value, json};

const HOOKED: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after-install
  annotations:
    helm.sh/hook: post-install
data: {}
---
apiVersion: v1
kind: Pod
metadata:
  name: smoke
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers: [{name: t, image: busybox}]
";

#[test]
fn hooks_are_recorded_apart_from_the_manifest_in_the_file_and_kubernetes_stores() {
    let c = TestCluster::shared();
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "hooked", &[("templates/all.yaml", HOOKED)]);
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    for store in ["file", "kubernetes"] {
        let ns = c.namespace(&format!("hookrec-{store}"));
        let with_store = |args: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            if store == "kubernetes" {
                v.extend(["--store".into(), "kubernetes".into()]);
            }
            v
        };
        let run = |args: &[&str]| {
            let args = with_store(args);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            kstoke(tmp.path(), kc, &ns, &refs)
        };
        run(&["install", "gw", chs]).expect(0);
        assert!(c.get(&cm(&ns, "after-install")).is_some(), "the hook ran");

        let manifest = run(&["get", "manifest", "gw"]).expect(0).stdout;
        assert!(manifest.contains("name: app"), "{store}: {manifest}");
        assert!(!manifest.contains("helm.sh/hook"), "{store}: {manifest}");
        let hooks = run(&["get", "hooks", "gw"]).expect(0).stdout;
        assert!(hooks.contains("name: after-install"), "{store}: {hooks}");
        assert!(hooks.contains("name: smoke"), "{store}: {hooks}");
        assert!(!hooks.contains("name: app\n"), "{store}: {hooks}");

        // The record itself keeps them in a field of their own.
        let all: Value =
            serde_json::from_str(&run(&["get", "all", "gw", "-o", "json"]).expect(0).stdout)
                .unwrap();
        let names = |field: &str| -> Vec<String> {
            all[field]
                .as_array()
                .unwrap_or_else(|| panic!("{store}: no `{field}` in {all}"))
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("manifests"), ["app"], "{store}");
        assert_eq!(names("hooks"), ["after-install", "smoke"], "{store}");
        // Prune and uninstall leave hooks alone.
        run(&["uninstall", "gw"]).expect(0);
        assert!(c.get(&cm(&ns, "app")).is_none(), "{store}");
        assert!(c.get(&cm(&ns, "after-install")).is_some(), "{store}");
    }
}

const LOOKUP: &str = "{%- set found = lookup(api_version=\"v1\", kind=\"ConfigMap\", namespace=release.namespace, name=\"external\") -%}
{%- set all = lookup(api_version=\"v1\", kind=\"ConfigMap\", namespace=release.namespace) -%}
apiVersion: v1
kind: ConfigMap
metadata:
  name: seen
data:
  color: {{ found?.data?.color or \"none\" | quote }}
  listed: \"{% for o in all?.items or [] %}{{ o.metadata.name }}{% if not loop.last %},{% endif %}{% endfor %}\"
";

#[test]
fn lookup_reads_objects_the_cluster_holds_that_stoke_never_made() {
    let c = TestCluster::shared();
    let ns = c.namespace("lookup");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "looker", &[("templates/seen.yaml", LOOKUP)]);
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    let external = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "external"}, "data": {"color": "blue"}});
    c.post(&format!("/api/v1/namespaces/{ns}/configmaps"), &external);

    // Offline (no cluster), `lookup` only knows the store: nothing.
    let offline = common::stoke_in(tmp.path(), &["template", "gw", chs]).expect(0);
    assert!(
        offline.stdout.contains("color: \"none\""),
        "{}",
        offline.stdout
    );

    // The server dry run renders against the cluster and sends nothing.
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--dry-run=server"],
    )
    .expect(0);
    assert!(c.get(&cm(&ns, "seen")).is_none());

    kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(0);
    let seen = c.get(&cm(&ns, "seen")).unwrap();
    assert_eq!(seen["data"]["color"], "blue", "{seen}");
    assert_eq!(seen["data"]["listed"], "external", "{seen}");

    // Changed behind stoke's back: the next render sees the change, not the record.
    c.patch(&cm(&ns, "external"), &json!({"data": {"color": "green"}}));
    kstoke(tmp.path(), kc, &ns, &["upgrade", "gw", chs]).expect(0);
    let seen = c.get(&cm(&ns, "seen")).unwrap();
    assert_eq!(seen["data"]["color"], "green", "{seen}");
    assert_eq!(seen["data"]["listed"], "external,seen", "{seen}");
}

const STATEFULSET: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: gw
spec:
  replicas: 2
  serviceName: gw
  selector: {matchLabels: {app: gw}}
  template:
    metadata: {labels: {app: gw}}
    spec:
      containers: [{name: gw, image: ignition}]
";

#[test]
fn waiting_reports_each_resource_as_a_plain_progress_line_until_it_is_ready() {
    let c = TestCluster::shared();
    let ns = c.namespace("progress");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "sts", &[("templates/sts.yaml", STATEFULSET)]);
    let kc = c.kubeconfig();
    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &[
            "install",
            "gw",
            ch.to_str().unwrap(),
            "--wait",
            "--timeout",
            "60s",
        ],
    );
    wait_until("the StatefulSet exists", || {
        c.get(&sts(&ns, "gw")).is_some()
    });
    std::thread::sleep(Duration::from_millis(800));
    c.set_statefulset_ready(&sts(&ns, "gw"), 2, 1);
    // The wait polls twice a second: give it time to see the half-ready state.
    std::thread::sleep(Duration::from_millis(1500));
    c.set_statefulset_ready(&sts(&ns, "gw"), 2, 2);
    let out = finish(child).expect(0);
    let id = format!("StatefulSet/{ns}/gw");
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = |line: &str| {
        lines
            .iter()
            .position(|l| *l == line)
            .unwrap_or_else(|| panic!("no line `{line}` in:\n{}", out.stderr))
    };
    let applied = at(&format!("{id}: working (applied)"));
    let unobserved = at(&format!(
        "{id}: working (no controller has reported on it yet)"
    ));
    let half = at(&format!("{id}: working (1 of 2 replicas ready)"));
    let ready = at(&format!("{id}: ready"));
    assert!(
        applied < unobserved && unobserved < half && half < ready,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("waiting up to 1m for 1 resources"),
        "{}",
        out.stderr
    );
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed"]);
}

const WORKLOADS: &str = "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata:
  name: edge
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: tls
spec:
  secretName: tls
  dnsNames: [gw.example.com]
  issuerRef: {name: ca, kind: Issuer}
";

#[test]
fn wait_waits_for_deployments_daemonsets_claims_load_balancers_and_certificates() {
    let c = TestCluster::shared();
    c.cert_manager_crds();
    let ns = c.namespace("ready");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "kinds", &[("templates/all.yaml", WORKLOADS)]);
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    let pvc = format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/data");
    let svc = format!("/api/v1/namespaces/{ns}/services/edge");
    let deploy = format!("/apis/apps/v1/namespaces/{ns}/deployments/web");
    let ds = format!("/apis/apps/v1/namespaces/{ns}/daemonsets/agent");
    let cert = format!("/apis/cert-manager.io/v1/namespaces/{ns}/certificates/tls");

    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--wait", "--timeout", "60s"],
    );
    wait_until("every object exists", || c.get(&cert).is_some());
    // One controller after the other reports; until the last, the release stays pending.
    let steps: [(&str, Value); 5] = [
        (
            &pvc,
            json!({"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}),
        ),
        (
            &svc,
            json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}),
        ),
        (
            &deploy,
            json!({"observedGeneration": c.generation(&deploy), "replicas": 1,
            "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}),
        ),
        (
            &ds,
            json!({"observedGeneration": c.generation(&ds), "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 1,
            "updatedNumberScheduled": 1, "numberAvailable": 1}),
        ),
        (
            &cert,
            json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
            "message": "Certificate is up to date and has not expired"}]}),
        ),
    ];
    for (path, status) in steps {
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            statuses(tmp.path(), kc, &ns, "gw"),
            ["pending-install"],
            "deployed before {path} was ready"
        );
        c.set_status(path, status);
    }
    let out = finish(child).expect(0);
    for id in [
        format!("PersistentVolumeClaim/{ns}/data: working (not bound (phase Pending))"),
        format!("Service/{ns}/edge: working (no load balancer address yet)"),
        format!("Deployment/{ns}/web: working (no controller has reported on it yet)"),
        format!("Certificate/{ns}/tls: working (no Ready condition yet)"),
        format!("Certificate/{ns}/tls: ready"),
        format!("DaemonSet/{ns}/agent: ready"),
    ] {
        assert!(
            out.stderr.lines().any(|l| l == id),
            "no `{id}` in:\n{}",
            out.stderr
        );
    }
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed"]);

    // A timeout names each resource still not ready and the condition's message. Here the
    // certificate's issuer and the volume's provisioner report trouble before the upgrade.
    c.set_status(
        &cert,
        json!({"conditions": [{"type": "Ready", "status": "False", "reason": "DoesNotExist",
            "message": "Issuing certificate as Secret does not exist"}]}),
    );
    c.set_status(&pvc, json!({"phase": "Pending"}));
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--wait", "--timeout", "4s"],
    )
    .expect(1);
    assert!(out.stderr.contains("timed out after 4s"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "Certificate {ns}/tls: Ready is not True (DoesNotExist: Issuing certificate as Secret does not exist)"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "PersistentVolumeClaim {ns}/data: not bound (phase Pending)"
        )),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains(&format!("Deployment {ns}/web:")),
        "a ready resource is not named: {}",
        out.stderr
    );
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed", "failed"]);
}

const CONFIGMAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-a
data:
  mode: {{ values.mode | default(value='safe') | quote }}
";

#[test]
fn refused_credentials_are_an_error_naming_the_user_before_anything_is_recorded() {
    let c = TestCluster::shared();
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "one", &[("templates/cm.yaml", CONFIGMAP)]);
    // The cluster's CA and address, but a token no authenticator knows (an expired one
    // looks the same to the client).
    let kc = tmp.path().join("expired.kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: stale\nclusters:\n- name: test\n  cluster: {{server: '{}', certificate-authority: '{}'}}\nusers:\n- name: ops\n  user: {{token: not-a-valid-token}}\ncontexts:\n- name: stale\n  context: {{cluster: test, user: ops}}\n",
            c.server(),
            c.dir().join("ca.crt").display()
        ),
    )
    .unwrap();
    let out = kstoke(
        tmp.path(),
        &kc,
        "default",
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(1);
    assert!(
        out.stderr.contains(&format!(
            "the API server at {} (context `stale`) refused the credentials of user `ops` (401 Unauthorized",
            c.server()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("refresh the kubeconfig"),
        "{}",
        out.stderr
    );
    kstoke(tmp.path(), &kc, "default", &["history", "gw"]).expect(1);
    let store_has_it = common::stoke_in(tmp.path(), &["history", "gw"]);
    assert_ne!(
        store_has_it.code, 0,
        "nothing recorded: {}",
        store_has_it.stdout
    );
}

#[test]
fn an_exhausted_quota_names_the_object_and_what_to_change() {
    let c = TestCluster::shared();
    let ns = c.namespace("quota");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "one", &[("templates/cm.yaml", CONFIGMAP)]);
    let kc = c.kubeconfig();
    let quotas = format!("/api/v1/namespaces/{ns}/resourcequotas");
    c.post(
        &quotas,
        &json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "maps"},
            "spec": {"hard": {"configmaps": "0"}}}),
    );
    // Quota admission only counts against a quota whose usage the controller has written.
    c.set_status(
        &format!("{quotas}/maps"),
        json!({"hard": {"configmaps": "0"}, "used": {"configmaps": "0"}}),
    );
    let mut out = Run {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
    };
    // The admission plugin reads quotas from a cache that may lag the status write.
    wait_until("quota admission refuses the ConfigMap", || {
        out = kstoke(
            tmp.path(),
            kc,
            &ns,
            &["install", "gw", ch.to_str().unwrap()],
        );
        out.code != 0 || {
            kstoke(tmp.path(), kc, &ns, &["uninstall", "gw"]).expect(0);
            false
        }
    });
    let out = out.expect(1);
    assert!(
        out.stderr.contains(&format!(
            "refused ConfigMap gw-a (from one/templates/cm.yaml) in namespace `{ns}`: a ResourceQuota is exhausted"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("exceeded quota: maps"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("raise the quota"), "{}", out.stderr);
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["failed"]);
}

#[test]
fn an_admission_policy_rejection_shows_the_object_and_the_policys_message() {
    let c = TestCluster::shared();
    let ns = c.namespace("admission");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "one", &[("templates/cm.yaml", CONFIGMAP)]);
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    let policy = format!("no-unsafe-{ns}");
    c.post("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
        &json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": policy},
            "spec": {"failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}]},
                "validations": [{"expression": "!has(object.data) || !('mode' in object.data) || object.data.mode != 'unsafe'",
                    "message": "mode `unsafe` is not allowed in this plant"}]}}),
    );
    // Bound to this test's namespace only: the cluster is shared.
    c.post("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
        &json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": policy},
            "spec": {"policyName": policy, "validationActions": ["Deny"],
                "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}),
    );
    // Policies take effect once the API server has loaded them.
    let probe = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"},
        "data": {"mode": "unsafe"}});
    wait_until("the policy is enforced", || {
        let r = c.request(
            "admin",
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps?dryRun=All"),
            Some(&probe),
        );
        r.status != 201
    });

    kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(0);
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--set", "mode=unsafe"],
    )
    .expect(1);
    assert!(
        out.stderr.contains(&format!(
            "refused ConfigMap gw-a (from one/templates/cm.yaml) in namespace `{ns}`"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("ValidatingAdmissionPolicy '{policy}'")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("mode `unsafe` is not allowed in this plant"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("fix the chart or the values"),
        "{}",
        out.stderr
    );
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed", "failed"]);
    assert_eq!(c.get(&cm(&ns, "gw-a")).unwrap()["data"]["mode"], "safe");
}

const LIFECYCLE_HOOKS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  v: {{ values.v | default(value='1') | quote }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: rb-late
  annotations:
    helm.sh/hook: pre-rollback
    helm.sh/hook-weight: \"5\"
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: b, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: rb-early
  annotations:
    helm.sh/hook: pre-rollback
    helm.sh/hook-weight: \"-2\"
    helm.sh/hook-delete-policy: hook-succeeded
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: b, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: rolled-back
  annotations:
    helm.sh/hook: post-rollback
data:
  v: {{ values.v | default(value='1') | quote }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: drain
  annotations:
    helm.sh/hook: pre-delete
    helm.sh/hook-delete-policy: hook-succeeded,hook-failed
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: b, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: farewell
  annotations:
    helm.sh/hook: post-delete
data: {}
";

#[test]
fn rollback_and_delete_hooks_run_by_weight_and_follow_their_delete_policies() {
    let c = TestCluster::shared();
    let ns = c.namespace("rbhooks");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(
        tmp.path(),
        "hooked",
        &[("templates/all.yaml", LIFECYCLE_HOOKS)],
    );
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(0);
    kstoke(tmp.path(), kc, &ns, &["upgrade", "gw", chs, "--set", "v=2"]).expect(0);
    for name in ["rb-early", "rb-late", "drain"] {
        assert!(c.get(&job(&ns, name)).is_none(), "{name} ran too early");
    }
    assert!(c.get(&cm(&ns, "rolled-back")).is_none());

    // Rollback: pre-rollback hooks by weight, then the resources, then post-rollback.
    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["rollback", "gw", "1", "--timeout", "60s"],
    );
    wait_until("the weight -2 hook exists", || {
        c.get(&job(&ns, "rb-early")).is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        c.get(&job(&ns, "rb-late")).is_none(),
        "weight 5 waits for -2"
    );
    assert_eq!(
        c.get(&cm(&ns, "app")).unwrap()["data"]["v"],
        "2",
        "not yet rolled back"
    );
    c.complete_job(&ns, "rb-early", true);
    wait_until("the weight 5 hook exists", || {
        c.get(&job(&ns, "rb-late")).is_some()
    });
    assert_eq!(
        c.get(&cm(&ns, "app")).unwrap()["data"]["v"],
        "2",
        "not yet rolled back"
    );
    c.complete_job(&ns, "rb-late", true);
    let out = finish(child).expect(0);
    assert_eq!(
        c.get(&cm(&ns, "app")).unwrap()["data"]["v"],
        "1",
        "{}",
        out.stderr
    );
    assert_eq!(c.get(&cm(&ns, "rolled-back")).unwrap()["data"]["v"], "1");
    wait_until("hook-succeeded deletes rb-early", || {
        c.get(&job(&ns, "rb-early")).is_none()
    });
    assert!(
        c.get(&job(&ns, "rb-late")).is_some(),
        "only before-hook-creation (the default): kept until it runs again"
    );

    // A failed pre-delete hook stops the uninstall; hook-failed deletes the Job.
    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["uninstall", "gw", "--timeout", "60s"],
    );
    wait_until("the pre-delete hook exists", || {
        c.get(&job(&ns, "drain")).is_some()
    });
    assert!(
        c.get(&cm(&ns, "app")).is_some(),
        "pre-delete runs before deleting"
    );
    c.complete_job(&ns, "drain", false);
    let out = finish(child).expect(1);
    assert!(
        out.stderr.contains("pre-delete hook Job drain failed"),
        "{}",
        out.stderr
    );
    assert!(c.get(&cm(&ns, "app")).is_some(), "nothing deleted");
    assert!(out.stderr.contains("it stays deployed"), "{}", out.stderr);
    assert_eq!(
        statuses(tmp.path(), kc, &ns, "gw"),
        ["superseded", "superseded", "deployed"],
        "not left uninstalling for recovery to take for a crash"
    );
    wait_until("hook-failed deletes drain", || {
        c.get(&job(&ns, "drain")).is_none()
    });

    // Next time it succeeds: resources go, post-delete runs, hook-succeeded deletes drain.
    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["uninstall", "gw", "--timeout", "60s"],
    );
    wait_until("the pre-delete hook exists again", || {
        c.get(&job(&ns, "drain")).is_some()
    });
    c.complete_job(&ns, "drain", true);
    let out = finish(child).expect(0);
    assert!(c.get(&cm(&ns, "app")).is_none(), "{}", out.stderr);
    assert!(c.get(&cm(&ns, "farewell")).is_some(), "post-delete ran");
    wait_until("hook-succeeded deletes drain", || {
        c.get(&job(&ns, "drain")).is_none()
    });
    kstoke(tmp.path(), kc, &ns, &["history", "gw"]).expect(1);
}
