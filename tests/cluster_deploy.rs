//! Deploying to a real Kubernetes API server (.ci/kube-up): install, upgrade, rollback and
//! uninstall change the cluster; ownership, prune, keep policy, waiting, --atomic, hooks,
//! crash recovery and RBAC refusals, each driven through the built binary. No controllers
//! run, so where readiness matters the test writes status as a controller would.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::kube::{
    TestCluster, cm, command, finish, history, job, kstoke, pod, spawn, statuses, sts, wait_until,
};
use common::{Lcg, Run, chart};
use serde_json::{Value, json};

const CONFIGMAPS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-a
data:
  v: {{ values.v | default(value='1') | quote }}
{% if values.b | default(value=true) %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-b
data: {}
{% endif %}
{% if values.kept | default(value=true) %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-kept
  annotations:
    helm.sh/resource-policy: keep
data: {}
{% endif %}
";

fn configmap_chart(root: &Path) -> PathBuf {
    chart(root, "maps", &[("templates/maps.yaml", CONFIGMAPS)])
}

#[test]
fn install_applies_every_object_marked_as_the_releases_and_uninstall_deletes_them() {
    let c = TestCluster::shared();
    let ns = c.namespace("install");
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let out = kstoke(
        tmp.path(),
        c.kubeconfig(),
        &ns,
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(0);
    assert!(out.stdout.contains("STATUS: deployed"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("applied to the API server at {}", c.server())),
        "{}",
        out.stdout
    );

    let a = c.get(&cm(&ns, "gw-a")).expect("gw-a applied");
    assert_eq!(a["data"]["v"], "1");
    assert_eq!(a["metadata"]["annotations"]["stoke.dev/release-name"], "gw");
    assert_eq!(
        a["metadata"]["annotations"]["stoke.dev/release-namespace"],
        ns.as_str()
    );
    assert_eq!(a["metadata"]["labels"]["stoke.dev/release"], "gw");
    let managers: Vec<&str> = a["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert_eq!(
        managers,
        ["stoke"],
        "server-side applied as field manager stoke"
    );

    kstoke(tmp.path(), c.kubeconfig(), &ns, &["uninstall", "gw"]).expect(0);
    assert!(c.get(&cm(&ns, "gw-a")).is_none(), "uninstall deletes");
    assert!(c.get(&cm(&ns, "gw-b")).is_none(), "uninstall deletes");
    assert!(
        c.get(&cm(&ns, "gw-kept")).is_some(),
        "helm.sh/resource-policy: keep survives uninstall"
    );
}

#[test]
fn upgrade_and_rollback_prune_what_the_new_revision_lacks_except_kept_objects() {
    let c = TestCluster::shared();
    let ns = c.namespace("prune");
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(0);
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &[
            "upgrade",
            "gw",
            chs,
            "--set",
            "b=false",
            "--set",
            "kept=false",
            "--set",
            "v=2",
        ],
    )
    .expect(0);
    assert!(c.get(&cm(&ns, "gw-b")).is_none(), "pruned on upgrade");
    assert!(
        c.get(&cm(&ns, "gw-kept")).is_some(),
        "the keep policy survives prune"
    );
    assert!(out.stderr.contains("kept ConfigMap"), "{}", out.stderr);
    common::assert_contains(
        &out.stderr,
        &format!("warning: kept ConfigMap {ns}/gw-kept (helm.sh/resource-policy: keep)"),
    );
    assert_eq!(c.get(&cm(&ns, "gw-a")).unwrap()["data"]["v"], "2");

    kstoke(tmp.path(), kc, &ns, &["rollback", "gw", "1"]).expect(0);
    assert!(
        c.get(&cm(&ns, "gw-b")).is_some(),
        "rollback brings revision 1's objects back"
    );
    assert_eq!(c.get(&cm(&ns, "gw-a")).unwrap()["data"]["v"], "1");
    // With progress off the pruning goes unreported, but the kept object is still a warning.
    let out: Run = command(tmp.path(), kc, &ns, &["rollback", "gw", "2"])
        .env("STOKE_PROGRESS", "off")
        .output()
        .unwrap()
        .into();
    let out = out.expect(0);
    assert!(c.get(&cm(&ns, "gw-b")).is_none(), "rollback prunes too");
    common::assert_contains(
        &out.stderr,
        &format!("warning: kept ConfigMap {ns}/gw-kept (helm.sh/resource-policy: keep)"),
    );
    common::assert_lacks(&out.stderr, "pruned ConfigMap");
}

#[test]
fn objects_of_no_release_or_another_release_are_refused_unless_taken_over() {
    let c = TestCluster::shared();
    let ns = c.namespace("owner");
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    let by_hand = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gw-a"}, "data": {"v": "hand"}});
    c.post(&format!("/api/v1/namespaces/{ns}/configmaps"), &by_hand);

    let out = kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(1);
    assert!(
        out.stderr.contains(&format!(
            "ConfigMap {ns}/gw-a exists and belongs to no release"
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--take-ownership"), "{}", out.stderr);
    assert!(c.get(&cm(&ns, "gw-b")).is_none(), "nothing was applied");
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["failed"]);

    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--take-ownership"],
    )
    .expect(0);
    let a = c.get(&cm(&ns, "gw-a")).unwrap();
    assert_eq!(a["metadata"]["annotations"]["stoke.dev/release-name"], "gw");
    assert_eq!(a["data"]["v"], "1", "adopting takes the fields over");

    // A field someone else set since is a conflict, reported per field, unless forced.
    let edit = json!({"data": {"v": "edited"}});
    c.patch(&cm(&ns, "gw-a"), &edit);
    let out = kstoke(tmp.path(), kc, &ns, &["upgrade", "gw", chs, "--set", "v=3"]).expect(1);
    assert!(
        out.stderr.contains("has fields another field manager owns"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("- .data.v: conflict with \"curl\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force-conflicts"), "{}", out.stderr);
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--set", "v=3", "--force-conflicts"],
    )
    .expect(0);
    assert_eq!(c.get(&cm(&ns, "gw-a")).unwrap()["data"]["v"], "3");

    // A second release rendering the same names may not take them.
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw2", chs, "--set", "b=false"],
    )
    .expect(0);
    drop(out);
    let other = chart(
        tmp.path(),
        "other",
        &[(
            "templates/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gw-a\ndata: {}\n",
        )],
    );
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "thief", other.to_str().unwrap()],
    )
    .expect(1);
    assert!(
        out.stderr
            .contains(&format!("belongs to stoke release {ns}/gw")),
        "{}",
        out.stderr
    );
}

const STATEFULSET: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ release.name }}-gw
spec:
  replicas: 1
  serviceName: gw
  selector:
    matchLabels: {app: gw}
  template:
    metadata:
      labels: {app: gw}
    spec:
      containers:
      - name: gw
        image: {{ values.image | default(value='ignition:8.1') }}
";

/// The StatefulSet chart, plus a ConfigMap `extra` when the value `extra` is true: what a
/// failed change creates.
fn statefulset_chart(root: &Path) -> PathBuf {
    let extra = "{% if values.extra | default(value=false) %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {}\n{% endif %}";
    chart(
        root,
        "sts",
        &[
            ("templates/sts.yaml", STATEFULSET),
            ("templates/extra.yaml", extra),
        ],
    )
}

#[test]
fn wait_holds_the_release_until_the_statefulset_is_ready_and_a_timeout_marks_it_failed() {
    let c = TestCluster::shared();
    let ns = c.namespace("wait");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(tmp.path(), "sts", &[("templates/sts.yaml", STATEFULSET)]);
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();

    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--wait", "--timeout", "60s"],
    );
    wait_until("the StatefulSet exists", || {
        c.get(&sts(&ns, "gw-gw")).is_some()
    });
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        statuses(tmp.path(), kc, &ns, "gw"),
        ["pending-install"],
        "not deployed before ready"
    );
    c.set_statefulset_ready(&sts(&ns, "gw-gw"), 1, 1);
    let out = finish(child).expect(0);
    assert!(
        out.stderr
            .contains(&format!("StatefulSet/{ns}/gw-gw: ready")),
        "{}",
        out.stderr
    );
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed"]);

    // A new image is a new generation the controller has not seen: not ready in time.
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &[
            "upgrade",
            "gw",
            chs,
            "--set",
            "image=ignition:8.3",
            "--wait",
            "--timeout",
            "2s",
        ],
    )
    .expect(1);
    assert!(out.stderr.contains("timed out after 2s"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "StatefulSet {ns}/gw-gw: the controller has seen generation 1 of 2"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed", "failed"]);
}

#[test]
fn atomic_returns_cluster_and_record_to_the_last_deployed_revision() {
    let c = TestCluster::shared();
    let ns = c.namespace("atomic");
    let tmp = tempfile::tempdir().unwrap();
    let ch = statefulset_chart(tmp.path());
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(0);

    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &[
            "upgrade",
            "gw",
            chs,
            "--set",
            "image=broken:1",
            "--set",
            "extra=true",
            "--rollback-on-failure",
            "--timeout",
            "2s",
        ],
    )
    .expect(1);
    assert!(
        out.stderr.contains("rolled back to revision 1"),
        "{}",
        out.stderr
    );
    assert_eq!(
        statuses(tmp.path(), kc, &ns, "gw"),
        ["superseded", "failed", "deployed"]
    );
    let h = history(tmp.path(), kc, &ns, "gw");
    assert!(
        h[2]["description"]
            .as_str()
            .unwrap()
            .starts_with("Rollback to 1"),
        "{h:?}"
    );
    let gateway = c.get(&sts(&ns, "gw-gw")).unwrap();
    assert_eq!(
        gateway["spec"]["template"]["spec"]["containers"][0]["image"],
        "ignition:8.1"
    );
    assert!(
        c.get(&cm(&ns, "extra")).is_none(),
        "the failed revision's new object is gone"
    );

    // A failed atomic install leaves neither objects nor a record.
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw2", chs, "--atomic", "--timeout", "1s"],
    )
    .expect(1);
    assert!(
        out.stderr.contains("removed from the cluster"),
        "{}",
        out.stderr
    );
    assert!(c.get(&sts(&ns, "gw2-gw")).is_none());
    kstoke(tmp.path(), kc, &ns, &["history", "gw2"]).expect(1);
}

#[test]
fn cleanup_on_fail_deletes_what_the_failed_change_created() {
    let c = TestCluster::shared();
    let ns = c.namespace("cleanup");
    let tmp = tempfile::tempdir().unwrap();
    let ch = statefulset_chart(tmp.path());
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    kstoke(tmp.path(), kc, &ns, &["install", "gw", chs]).expect(0);
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &[
            "upgrade",
            "gw",
            chs,
            "--set",
            "extra=true",
            "--set",
            "image=x:2",
            "--wait",
            "--timeout",
            "1s",
            "--cleanup-on-fail",
        ],
    )
    .expect(1);
    assert!(
        c.get(&cm(&ns, "extra")).is_none(),
        "created by the failed upgrade, deleted"
    );
    assert!(c.get(&sts(&ns, "gw-gw")).is_some(), "existing objects stay");
}

const HOOKS: &str = "apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: \"5\"
    helm.sh/hook-delete-policy: hook-succeeded
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: backup
  annotations:
    helm.sh/hook: pre-install
    helm.sh/hook-weight: \"-1\"
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: b, image: busybox}]
";

#[test]
fn hooks_run_by_weight_before_the_resources_and_follow_their_delete_policies() {
    let c = TestCluster::shared();
    let ns = c.namespace("hooks");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(
        tmp.path(),
        "hooked",
        &[
            ("templates/hooks.yaml", HOOKS),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata: {}\n",
            ),
        ],
    );
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();

    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--timeout", "60s"],
    );
    wait_until("the weight -1 hook exists", || {
        c.get(&job(&ns, "backup")).is_some()
    });
    assert!(
        c.get(&job(&ns, "migrate")).is_none(),
        "weight 5 waits for weight -1"
    );
    assert!(
        c.get(&cm(&ns, "app")).is_none(),
        "resources wait for pre-install hooks"
    );
    c.complete_job(&ns, "backup", true);
    wait_until("the weight 5 hook exists", || {
        c.get(&job(&ns, "migrate")).is_some()
    });
    c.complete_job(&ns, "migrate", true);
    let out = finish(child).expect(0);
    assert!(c.get(&cm(&ns, "app")).is_some(), "{}", out.stderr);
    wait_until("hook-succeeded deletes migrate", || {
        c.get(&job(&ns, "migrate")).is_none()
    });
    assert!(
        c.get(&job(&ns, "backup")).is_some(),
        "no delete policy beyond before-hook-creation: kept"
    );

    // A failed pre-upgrade hook fails the upgrade before any resource changes.
    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--timeout", "60s"],
    );
    wait_until("the pre-upgrade hook exists", || {
        c.get(&job(&ns, "migrate")).is_some()
    });
    c.complete_job(&ns, "migrate", false);
    let out = finish(child).expect(1);
    assert!(
        out.stderr.contains("pre-upgrade hook Job migrate failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("BackoffLimitExceeded"),
        "{}",
        out.stderr
    );
    assert_eq!(statuses(tmp.path(), kc, &ns, "gw"), ["deployed", "failed"]);

    // --no-hooks skips them.
    kstoke(tmp.path(), kc, &ns, &["upgrade", "gw", chs, "--no-hooks"]).expect(0);
}

#[test]
fn a_user_without_rights_gets_an_error_naming_verb_resource_and_namespace() {
    let c = TestCluster::shared();
    let ns = c.namespace("rbac");
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let user_kc = c.user("reader", &[]);
    // May read configmaps in the namespace, nothing more.
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "read"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]});
    c.post(
        &format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles"),
        &role,
    );
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "read"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read"},
        "subjects": [{"kind": "User", "name": "reader", "apiGroup": "rbac.authorization.k8s.io"}]});
    c.post(
        &format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"),
        &binding,
    );

    let out = kstoke(
        tmp.path(),
        &user_kc,
        &ns,
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(1);
    assert!(
        out.stderr
            .contains("user `reader` may not patch configmaps"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("in namespace `{ns}`")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("403 Forbidden"), "{}", out.stderr);
    assert!(out.stderr.contains(c.server()), "{}", out.stderr);
}

#[test]
fn an_unreachable_server_is_an_error_before_anything_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let kc = tmp.path().join("kc");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\ncurrent-context: far\nclusters:\n- name: far\n  cluster: {server: 'https://127.0.0.1:9'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: far\n  context: {cluster: far, user: u}\n").unwrap();
    let out = kstoke(
        tmp.path(),
        &kc,
        "default",
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(1);
    assert!(
        out.stderr
            .contains("cannot reach the API server at https://127.0.0.1:9 (context `far`)"),
        "{}",
        out.stderr
    );
    kstoke(tmp.path(), &kc, "default", &["history", "gw"]).expect(1);
}

#[test]
fn without_any_kubeconfig_lifecycle_commands_record_only_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let out: Run = common::stoke_command(tmp.path())
        .args(["install", "gw", ch.to_str().unwrap()])
        .env("HOME", tmp.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("STOKE_STORE", tmp.path().join("store"))
        .output()
        .unwrap()
        .into();
    let out = out.expect(0);
    assert!(out.stdout.contains("STATUS: deployed"), "{}", out.stdout);
    assert!(
        out.stdout.contains("; no cluster configured"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_process_killed_mid_apply_leaves_a_pending_revision_the_next_operation_converges() {
    let c = TestCluster::shared();
    let ns = c.namespace("crash");
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--set", "b=false"],
    )
    .expect(0);

    // Killed after the first object of revision 2 went out.
    let out: Run = command(tmp.path(), kc, &ns, &["upgrade", "gw", chs, "--set", "v=2"])
        .env("STOKE_FAILPOINT", "cluster-after-first-apply")
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 86, "{}", out.stderr);
    assert_eq!(
        statuses(tmp.path(), kc, &ns, "gw"),
        ["deployed", "pending-upgrade"]
    );
    assert_eq!(
        c.get(&cm(&ns, "gw-a")).unwrap()["data"]["v"],
        "2",
        "half applied"
    );

    // The next operation marks it failed and puts revision 1 back before doing its own work.
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--set", "b=false", "--set", "v=3"],
    )
    .expect(0);
    assert!(
        out.stderr.contains("restoring revision 1"),
        "{}",
        out.stderr
    );
    assert_eq!(
        statuses(tmp.path(), kc, &ns, "gw"),
        ["superseded", "failed", "deployed"]
    );
    assert_eq!(c.get(&cm(&ns, "gw-a")).unwrap()["data"]["v"], "3");

    // kill -9 at random moments of upgrades that add or remove an object; whatever the
    // moment, the next operation (an upgrade or a rollback, also chosen at random) leaves
    // the cluster at a recorded revision and nothing pending. STOKE_TEST_SEED replays a run.
    let seed: u64 = std::env::var("STOKE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut rng = Lcg(seed);
    let started = Instant::now();
    for i in 0..20 {
        let delay = rng.next(700);
        let with_b = rng.next(2) == 1;
        let why = format!(
            "seed {seed} (STOKE_TEST_SEED={seed} replays it), kill {i} after {delay} ms, b={with_b}"
        );
        let mut child = spawn(
            tmp.path(),
            kc,
            &ns,
            &[
                "upgrade",
                "gw",
                chs,
                "--set",
                &format!("v=k{i}"),
                "--set",
                &format!("b={with_b}"),
            ],
        );
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let next = if rng.next(2) == 0 {
            kstoke(tmp.path(), kc, &ns, &["rollback", "gw"])
        } else {
            kstoke(
                tmp.path(),
                kc,
                &ns,
                &["upgrade", "gw", chs, "--set", &format!("v=n{i}")],
            )
        };
        assert_eq!(next.code, 0, "{why}: {}", next.stderr);
        let h = history(tmp.path(), kc, &ns, "gw");
        assert!(
            h.iter()
                .all(|r| !r["status"].as_str().unwrap().starts_with("pending")),
            "{why}: {h:?}"
        );
        let deployed = h.iter().filter(|r| r["status"] == "deployed").count();
        assert_eq!(deployed, 1, "{why}: {h:?}");
        let manifest = kstoke(tmp.path(), kc, &ns, &["get", "manifest", "gw"])
            .expect(0)
            .stdout;
        assert_eq!(
            c.get(&cm(&ns, "gw-b")).is_some(),
            manifest.contains("gw-b"),
            "{why}: the cluster holds gw-b exactly when the deployed revision has it"
        );
        let live_v = c.get(&cm(&ns, "gw-a")).unwrap()["data"]["v"].clone();
        assert!(
            manifest.contains(&format!("v: {live_v}")),
            "{why}: gw-a holds v={live_v}, the deployed revision:\n{manifest}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "20 kills took {:?}",
        started.elapsed()
    );
}

const TEST_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: {{ release.name }}-{{ name }}
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers: [{name: t, image: busybox}]
";

#[test]
fn stoke_test_runs_the_test_hooks_and_reports_each_phase() {
    let c = TestCluster::shared();
    let ns = c.namespace("test");
    c.default_service_account(&ns);
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(
        tmp.path(),
        "tested",
        &[
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata: {}\n",
            ),
            (
                "templates/tests/ok.yaml",
                &TEST_POD.replace("{{ name }}", "ok"),
            ),
        ],
    );
    let kc = c.kubeconfig();
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(0);
    assert!(
        c.get(&pod(&ns, "gw-ok")).is_none(),
        "test hooks do not run on install"
    );
    let hooks = kstoke(tmp.path(), kc, &ns, &["get", "hooks", "gw"])
        .expect(0)
        .stdout;
    assert!(hooks.contains("name: gw-ok"), "{hooks}");
    let manifest = kstoke(tmp.path(), kc, &ns, &["get", "manifest", "gw"])
        .expect(0)
        .stdout;
    assert!(
        !manifest.contains("gw-ok") && manifest.contains("name: app"),
        "{manifest}"
    );

    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["test", "gw", "--timeout", "60s", "--logs"],
    );
    wait_until("the test Pod exists", || {
        c.get(&pod(&ns, "gw-ok")).is_some()
    });
    c.set_pod_phase(&ns, "gw-ok", "Succeeded");
    let out = finish(child).expect(0);
    assert!(
        out.stdout
            .contains("TEST SUITE:     Pod gw-ok\nPhase:          Succeeded"),
        "{}",
        out.stdout
    );

    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["test", "gw", "--timeout", "60s", "-o", "json"],
    );
    wait_until("the test Pod is created again", || {
        c.get(&pod(&ns, "gw-ok"))
            .is_some_and(|p| p["status"]["phase"] != "Succeeded")
    });
    c.set_pod_phase(&ns, "gw-ok", "Failed");
    let out = finish(child).expect(1);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows[0]["phase"], "Failed", "{rows}");
    assert_eq!(rows[0]["name"], "Pod gw-ok");
}

#[test]
fn diff_live_reports_drift_field_by_field_and_status_shows_live_states() {
    let c = TestCluster::shared();
    let ns = c.namespace("drift");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(
        tmp.path(),
        "drifty",
        &[
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  mode: prod\n",
            ),
            (
                "templates/secret.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2\n",
            ),
            ("templates/sts.yaml", STATEFULSET),
        ],
    );
    let kc = c.kubeconfig();
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(0);
    let out = kstoke(tmp.path(), kc, &ns, &["diff", "live", "gw"]).expect(0);
    assert!(out.stdout.contains("matches revision 1"), "{}", out.stdout);

    let status = kstoke(tmp.path(), kc, &ns, &["status", "gw"])
        .expect(0)
        .stdout;
    assert!(
        status.contains(&format!("ConfigMap {ns}/app: ready")),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "StatefulSet {ns}/gw-gw: progressing (no controller has reported on it yet)"
        )),
        "{status}"
    );
    c.set_statefulset_ready(&sts(&ns, "gw-gw"), 1, 1);
    let status = kstoke(tmp.path(), kc, &ns, &["status", "gw", "-o", "json"])
        .expect(0)
        .stdout;
    let report: Value = serde_json::from_str(&status).unwrap();
    let states: Vec<&str> = report["live"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["ready", "ready", "ready"], "{report}");

    c.patch(&cm(&ns, "app"), &json!({"data": {"mode": "debug"}}));
    c.patch(
        &format!("/api/v1/namespaces/{ns}/secrets/creds"),
        &json!({"data": {"password": "b3RoZXI="}}),
    );
    c.delete(&sts(&ns, "gw-gw"));
    let out = kstoke(tmp.path(), kc, &ns, &["diff", "live", "gw"]).expect(2);
    assert!(
        out.stdout.contains(&format!(
            "ConfigMap {ns}/app:\n  .data.mode: revision 1 has \"prod\", the cluster has \"debug\""
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(".data.password: revision 1 has (hidden), the cluster has (hidden)"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("hunter2") && !out.stdout.contains("b3RoZXI="),
        "Secret data masked: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("StatefulSet {ns}/gw-gw: missing from the cluster")),
        "{}",
        out.stdout
    );
    let status = kstoke(tmp.path(), kc, &ns, &["status", "gw"])
        .expect(0)
        .stdout;
    assert!(
        status.contains(&format!("ConfigMap {ns}/app: drifted")),
        "{status}"
    );
    assert!(
        status.contains(&format!("StatefulSet {ns}/gw-gw: missing")),
        "{status}"
    );
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
";

#[test]
fn crds_are_installed_first_never_changed_and_custom_resources_wait_for_ready() {
    let c = TestCluster::shared();
    let ns = c.namespace("crds");
    let tmp = tempfile::tempdir().unwrap();
    let ch = chart(
        tmp.path(),
        "widgets",
        &[
            ("crds/widgets.yaml", CRD),
            (
                "templates/widget.yaml",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: {{ values.size | default(value=1) }}\n",
            ),
        ],
    );
    let chs = ch.to_str().unwrap();
    let kc = c.kubeconfig();
    let shown = common::stoke_in(tmp.path(), &["show", "crds", chs])
        .expect(0)
        .stdout;
    assert!(
        shown.starts_with("---\n# Source: widgets/crds/widgets.yaml\n"),
        "{shown}"
    );
    let templ = common::stoke_in(tmp.path(), &["template", "gw", chs, "--include-crds"])
        .expect(0)
        .stdout;
    assert!(
        templ.find("kind: CustomResourceDefinition").unwrap() < templ.find("kind: Widget").unwrap(),
        "{templ}"
    );
    let plain = common::stoke_in(tmp.path(), &["template", "gw", chs])
        .expect(0)
        .stdout;
    assert!(!plain.contains("CustomResourceDefinition"), "{plain}");

    // The server dry run checks every object without changing anything.
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--skip-crds", "--dry-run=server"],
    )
    .expect(1);
    assert!(
        out.stderr
            .contains("does not serve kind Widget in example.com/v1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("install the CRD"), "{}", out.stderr);

    let crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com";
    let widget = format!("/apis/example.com/v1/namespaces/{ns}/widgets/w");
    // Widgets report readiness with a Ready condition: wait for it.
    let child = spawn(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", chs, "--wait", "--timeout", "60s"],
    );
    wait_until("the Widget exists", || c.get(&widget).is_some());
    let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    c.patch(&format!("{widget}/status"), &ready);
    let out = finish(child).expect(0);
    assert!(
        out.stderr.contains("installed CRD widgets.example.com"),
        "{}",
        out.stderr
    );
    let crd_version = c.get(crd_path).unwrap()["metadata"]["resourceVersion"].clone();

    kstoke(
        tmp.path(),
        kc,
        &ns,
        &["upgrade", "gw", chs, "--set", "size=2"],
    )
    .expect(0);
    assert_eq!(c.get(&widget).unwrap()["spec"]["size"], 2);
    kstoke(tmp.path(), kc, &ns, &["uninstall", "gw"]).expect(0);
    assert!(c.get(&widget).is_none());
    let crd = c
        .get(crd_path)
        .expect("a CRD is never deleted by a release");
    assert_eq!(
        crd["metadata"]["resourceVersion"], crd_version,
        "nor changed"
    );
}

#[test]
fn create_namespace_makes_the_release_namespace() {
    let c = TestCluster::shared();
    let ns = format!("fresh-{}", std::process::id());
    let tmp = tempfile::tempdir().unwrap();
    let ch = configmap_chart(tmp.path());
    let kc = c.kubeconfig();
    let out = kstoke(
        tmp.path(),
        kc,
        &ns,
        &["install", "gw", ch.to_str().unwrap()],
    )
    .expect(1);
    assert!(
        out.stderr.contains("404") || out.stderr.contains("not found"),
        "{}",
        out.stderr
    );
    kstoke(
        tmp.path(),
        kc,
        &ns,
        &[
            "upgrade",
            "--install",
            "gw",
            ch.to_str().unwrap(),
            "--create-namespace",
        ],
    )
    .expect(0);
    assert!(c.get(&format!("/api/v1/namespaces/{ns}")).is_some());
    assert!(c.get(&cm(&ns, "gw-a")).is_some());
}

#[test]
fn the_ignition_charts_deploy_with_every_shipped_values_file() {
    let c = TestCluster::shared();
    c.cert_manager_crds();
    let kc = c.kubeconfig();
    for (chart_dir, values) in common::COMBINATIONS {
        let ns = c.namespace("ignition");
        let tmp = tempfile::tempdir().unwrap();
        let chart_path = common::repo().join(chart_dir);
        let values_path = common::repo().join(values);
        let out = kstoke(
            tmp.path(),
            kc,
            &ns,
            &[
                "install",
                "gw",
                chart_path.to_str().unwrap(),
                "-f",
                values_path.to_str().unwrap(),
            ],
        );
        let out = out.expect(0);
        assert!(
            out.stdout.contains("STATUS: deployed"),
            "{chart_dir} {values}: {}",
            out.stdout
        );
        let manifest = kstoke(tmp.path(), kc, &ns, &["get", "manifest", "gw"])
            .expect(0)
            .stdout;
        let docs = common::documents(&manifest);
        assert!(!docs.is_empty(), "{chart_dir} {values}");
        let live = kstoke(tmp.path(), kc, &ns, &["status", "gw", "-o", "json"])
            .expect(0)
            .stdout;
        let report: Value = serde_json::from_str(&live).unwrap();
        let resources = report["live"].as_array().unwrap();
        assert_eq!(
            resources.len(),
            docs.len(),
            "{chart_dir} {values}: every object is live"
        );
        assert!(
            resources
                .iter()
                .all(|r| r["state"] != "missing" && r["state"] != "drifted"),
            "{chart_dir} {values}: {report}"
        );
        assert!(
            docs.iter().any(|d| d["kind"] == "StatefulSet"),
            "{chart_dir} {values}: a gateway StatefulSet"
        );
        kstoke(tmp.path(), kc, &ns, &["diff", "live", "gw"]).expect(0);
        kstoke(tmp.path(), kc, &ns, &["uninstall", "gw"]).expect(0);
        let left: Vec<&serde_yaml::Value> = docs
            .iter()
            .filter(|d| {
                d["metadata"]["annotations"]["helm.sh/resource-policy"].as_str() == Some("keep")
            })
            .collect();
        for d in left {
            let kind = d["kind"].as_str().unwrap();
            let name = d["metadata"]["name"].as_str().unwrap();
            let path = match kind {
                "Secret" => format!("/api/v1/namespaces/{ns}/secrets/{name}"),
                "PersistentVolumeClaim" => {
                    format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}")
                }
                _ => continue,
            };
            assert!(
                c.get(&path).is_some(),
                "{chart_dir} {values}: kept {kind} {name} survives uninstall"
            );
        }
    }
}
