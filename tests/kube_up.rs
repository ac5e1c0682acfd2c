//! The test cluster itself (.ci/kube-up, .ci/kube-user, .ci/kube-down, tests/common/kube.rs):
//! a real API server on loopback that authenticates client certificates, enforces RBAC and
//! accepts objects and status writes with no controllers running.

mod common;

use common::kube::TestCluster;
use serde_json::json;

#[test]
fn the_admin_kubeconfig_points_at_a_loopback_server_with_the_stoke_test_context() {
    let cluster = TestCluster::shared();
    let text = std::fs::read_to_string(cluster.kubeconfig()).unwrap();
    let config: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(config["current-context"], "stoke-test");
    let server = config["clusters"][0]["cluster"]["server"].as_str().unwrap();
    assert!(server.starts_with("https://127.0.0.1:"), "{server}");
    assert_eq!(server, cluster.server());
    assert_eq!(cluster.kubeconfig(), cluster.dir().join("kubeconfig"));
}

#[test]
fn the_admin_lists_namespaces_including_default() {
    let cluster = TestCluster::shared();
    let list = cluster
        .request("admin", "GET", "/api/v1/namespaces", None)
        .expect(200)
        .json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ns| ns["metadata"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"default"), "{names:?}");
    assert!(names.contains(&"kube-system"), "{names:?}");
}

#[test]
fn the_server_reports_the_release_it_was_built_from() {
    let cluster = TestCluster::shared();
    let version = cluster
        .request("admin", "GET", "/version", None)
        .expect(200)
        .json();
    let git_version = version["gitVersion"].as_str().unwrap();
    let go_mod = std::fs::read_to_string(common::repo().join(".ci/kube/go.mod")).unwrap();
    assert!(
        go_mod.contains(&format!("k8s.io/kubernetes {git_version}\n")),
        "server says {git_version}; .ci/kube/go.mod requires another release"
    );
}

#[test]
fn a_minted_user_without_bindings_is_forbidden() {
    let cluster = TestCluster::shared();
    cluster.user("nobody", &[]);
    let denied = cluster
        .request("nobody", "GET", "/api/v1/namespaces", None)
        .expect(403)
        .json();
    let message = denied["message"].as_str().unwrap();
    assert!(
        message.contains(r#"User "nobody" cannot list resource "namespaces""#),
        "{message}"
    );
}

#[test]
fn a_role_binding_lets_a_minted_user_into_one_namespace_only() {
    let cluster = TestCluster::shared();
    let ns = cluster.namespace("rbac");
    cluster.user("reader", &["stoke:readers"]);
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "read-configmaps"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "readers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "stoke:readers"}]
    });
    let rbac = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}");
    cluster
        .request("admin", "POST", &format!("{rbac}/roles"), Some(&role))
        .expect(201);
    cluster
        .request(
            "admin",
            "POST",
            &format!("{rbac}/rolebindings"),
            Some(&binding),
        )
        .expect(201);

    let own = format!("/api/v1/namespaces/{ns}/configmaps");
    cluster.request("reader", "GET", &own, None).expect(200);
    let create = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    cluster
        .request("reader", "POST", &own, Some(&create))
        .expect(403);
    cluster
        .request(
            "reader",
            "GET",
            "/api/v1/namespaces/default/configmaps",
            None,
        )
        .expect(403);
}

#[test]
fn pods_are_admitted_without_controllers_and_their_status_is_written_by_the_test() {
    let cluster = TestCluster::shared();
    let ns = cluster.namespace("pods");
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gateway"},
        "spec": {"containers": [{"name": "gateway", "image": "inductiveautomation/ignition:8.1"}]}
    });
    let pods = format!("/api/v1/namespaces/{ns}/pods");
    cluster
        .request("admin", "POST", &pods, Some(&pod))
        .expect(201);
    let status = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
    cluster
        .request(
            "admin",
            "PATCH",
            &format!("{pods}/gateway/status"),
            Some(&status),
        )
        .expect(200);
    let live = cluster
        .request("admin", "GET", &format!("{pods}/gateway"), None)
        .expect(200)
        .json();
    assert_eq!(live["status"]["phase"], "Running");
    // Nothing schedules it: no kubelet or scheduler runs.
    assert!(live["spec"]["nodeName"].is_null(), "{live}");
}

#[test]
fn a_cluster_of_its_own_runs_beside_the_shared_one_and_stops_on_drop() {
    let shared = TestCluster::shared();
    let own = TestCluster::start();
    assert_ne!(own.server(), shared.server());
    own.request("admin", "GET", "/readyz", None).expect(200);
    let dir = own.dir().to_path_buf();
    let pids: Vec<String> = ["etcd.pid", "apiserver.pid"]
        .iter()
        .map(|f| {
            std::fs::read_to_string(dir.join(f))
                .unwrap()
                .trim()
                .to_owned()
        })
        .collect();
    drop(own);
    for pid in pids {
        assert!(!runs(&pid), "process {pid} still runs after drop");
    }
    assert!(!dir.exists(), "{} is left behind", dir.display());
    shared.request("admin", "GET", "/readyz", None).expect(200);
}

/// Whether process `pid` runs; an exited one not yet reaped (state Z) does not.
fn runs(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
            !matches!(state, Some("Z" | "X"))
        })
        .unwrap_or(false)
}

#[test]
fn a_cluster_owned_by_a_process_is_stopped_and_deleted_when_that_process_exits() {
    let owner = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let mut owner = Guard(owner);
    let dir = tempfile::tempdir().unwrap().keep();
    let up = std::process::Command::new("bash")
        .arg(common::repo().join(".ci/kube-up"))
        .args(["--owner-pid", &owner.0.id().to_string()])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let apiserver = std::fs::read_to_string(dir.join("apiserver.pid")).unwrap();
    assert!(runs(apiserver.trim()));

    owner.0.kill().unwrap();
    owner.0.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (dir.exists() || runs(apiserver.trim())) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(!runs(apiserver.trim()), "the API server outlived its owner");
    assert!(!dir.exists(), "{} outlived its owner", dir.display());
}

/// Kills the child on drop, so a failed assertion leaves no `sleep` behind.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn custom_resource_definitions_are_established_and_served_without_controllers() {
    let cluster = TestCluster::shared();
    let ns = cluster.namespace("crd");
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.test.stoke.dev"},
        "spec": {
            "group": "test.stoke.dev", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }]
        }
    });
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    cluster
        .request("admin", "POST", crds, Some(&crd))
        .expect(201);
    let established = |c: &serde_json::Value| {
        c["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let live = cluster
            .request(
                "admin",
                "GET",
                &format!("{crds}/widgets.test.stoke.dev"),
                None,
            )
            .expect(200)
            .json();
        if established(&live) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never established: {live}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let widget =
        json!({"apiVersion": "test.stoke.dev/v1", "kind": "Widget", "metadata": {"name": "w"}});
    // Discovery of a new group can lag its Established condition by a moment.
    let path = format!("/apis/test.stoke.dev/v1/namespaces/{ns}/widgets");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let created = cluster.request("admin", "POST", &path, Some(&widget));
        if created.status == 201 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{created:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
