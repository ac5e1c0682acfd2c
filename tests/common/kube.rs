//! A real Kubernetes control plane (etcd and kube-apiserver on 127.0.0.1) for the
//! integration tests, started with `.ci/kube-up` and stopped with `.ci/kube-down`.
//!
//! No kubelet or controllers run: a test that needs an object to look ready writes its
//! status subresource itself, as a controller would. Requests go through `curl`, so the
//! tests depend on nothing of the product's own client. A cluster that cannot be built or
//! started fails the test that asked for it; it is never skipped.
//!
//! Besides the cluster itself: the runners every cluster test uses for the built binary
//! ([`stoke`], [`kstoke`], [`command`], [`spawn`], [`finish`], [`statuses`]), the admin's
//! requests ([`TestCluster::get`], [`TestCluster::post`], ...), the status writes that stand
//! in for controllers ([`TestCluster::set_status`], [`TestCluster::complete_job`],
//! [`TestCluster::set_statefulset_ready`], ...) and the API paths of the objects they touch.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Run;

/// One running cluster: its folder (certificates, logs, pids) and the admin kubeconfig.
pub struct TestCluster {
    dir: PathBuf,
    kubeconfig: PathBuf,
    server: String,
    /// Only a cluster of its own is stopped on drop; the shared one is stopped by
    /// kube-up's watchdog when the test binary exits, as statics are never dropped.
    owned: bool,
    /// Guards [`TestCluster::cert_manager_crds`], which every test of a binary may ask for.
    cert_manager: Once,
}

/// An answer from the API server.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("API answer is not JSON ({e}): {}", self.body))
    }

    /// Panics with the body unless the status is `status`.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "HTTP status; body:\n{}", self.body);
        self
    }
}

fn script(name: &str) -> PathBuf {
    super::repo().join(".ci").join(name)
}

/// Runs a `.ci` script and returns its last stdout line, or an error with its stderr.
fn run_script(name: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run .ci/{name}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            ".ci/{name} {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .last()
        .map(str::to_owned)
        .ok_or_else(|| format!(".ci/{name} printed nothing on stdout"))
}

impl TestCluster {
    /// Starts a cluster of this test's own in a fresh temporary folder; it is stopped and
    /// the folder deleted when the value is dropped. Prefer [`TestCluster::shared`]: each
    /// start costs seconds.
    pub fn start() -> TestCluster {
        Self::try_start(true).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The cluster shared by every test of this test binary, started on first use. Tests
    /// keep apart by each working in its own namespace ([`TestCluster::namespace`]).
    pub fn shared() -> &'static TestCluster {
        static SHARED: OnceLock<Result<TestCluster, String>> = OnceLock::new();
        match SHARED.get_or_init(|| Self::try_start(false)) {
            Ok(cluster) => cluster,
            Err(e) => panic!("{e}"),
        }
    }

    fn try_start(owned: bool) -> Result<TestCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("stoke-kube-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the test cluster: {e}"))?
            .keep();
        let dir_arg = dir.to_string_lossy().into_owned();
        let pid = std::process::id().to_string();
        let kubeconfig = run_script("kube-up", &["--owner-pid", &pid, &dir_arg])?;
        let server = std::fs::read_to_string(dir.join("server"))
            .map_err(|e| format!("kube-up wrote no {}/server: {e}", dir.display()))?
            .trim()
            .to_owned();
        Ok(TestCluster {
            kubeconfig: PathBuf::from(kubeconfig),
            dir,
            server,
            owned,
            cert_manager: Once::new(),
        })
    }

    /// The admin kubeconfig (user `admin` in group `system:masters`, context `stoke-test`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The folder holding the cluster's certificates, kubeconfigs, logs and pids.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The API server's URL, `https://127.0.0.1:PORT`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Mints user `name` (in `groups`) with `.ci/kube-user` and returns its kubeconfig. The
    /// user may do nothing until a Role or ClusterRole is bound to it.
    pub fn user(&self, name: &str, groups: &[&str]) -> PathBuf {
        let mut args = vec![self.dir.to_str().unwrap(), name];
        args.extend_from_slice(groups);
        PathBuf::from(run_script("kube-user", &args).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Kills the API server at once (etcd keeps running, with every object), as a crash
    /// of the control plane would. Only for a cluster of the test's own
    /// ([`TestCluster::start`]): the shared one serves other tests.
    pub fn stop_apiserver(&self) {
        assert!(
            self.owned,
            "stop the API server of a cluster of your own (TestCluster::start)"
        );
        self.apiserver("stop");
    }

    /// Starts the API server again on the same etcd and port, returning once it is ready.
    pub fn start_apiserver(&self) {
        self.apiserver("start");
    }

    /// Runs `.ci/kube-apiserver ACTION` on this cluster's folder (it may print nothing).
    fn apiserver(&self, action: &str) {
        run_script("kube-apiserver", &[action, self.dir.to_str().unwrap()])
            .map(|_| ())
            .or_else(|e| {
                if e.contains("printed nothing") {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// A namespace no other test uses, created now; `prefix` says which test owns it.
    pub fn namespace(&self, prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let body = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}
        });
        self.request("admin", "POST", "/api/v1/namespaces", Some(&body))
            .expect(201);
        name
    }

    /// Sends one request to the API server as `user` (`admin`, or a user minted with
    /// [`TestCluster::user`]). A `PATCH` body is sent as a JSON merge patch.
    pub fn request(
        &self,
        user: &str,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Response {
        let file = |ext: &str| self.dir.join(format!("{user}.{ext}"));
        let content_type = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "30", "-X", method])
            .arg("--cacert")
            .arg(self.dir.join("ca.crt"))
            .arg("--cert")
            .arg(file("crt"))
            .arg("--key")
            .arg(file("key"))
            .args(["-H", &format!("Content-Type: {content_type}")])
            .args(["-w", "\n%{http_code}"])
            .arg(format!("{}{path}", self.server))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if body.is_some() {
            cmd.args(["--data-binary", "@-"]);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("curl is needed to talk to the test cluster: {e}"));
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            if let Some(body) = body {
                stdin.write_all(body.to_string().as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "curl {method} {path} as {user} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        Response {
            status: status
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("curl printed no status: {text}")),
            body: body.to_owned(),
        }
    }
}

/// The admin's requests and the status writes that stand in for the controllers no test
/// cluster runs. Each panics with the server's answer when the server refuses.
impl TestCluster {
    /// The object at `path`, or None when the server says 404.
    pub fn get(&self, path: &str) -> Option<Value> {
        let r = self.request("admin", "GET", path, None);
        match r.status {
            200 => Some(r.json()),
            404 => None,
            s => panic!("GET {path}: {s} {}", r.body),
        }
    }

    /// Creates `body` in the collection at `path`.
    pub fn post(&self, path: &str, body: &Value) {
        let r = self.request("admin", "POST", path, Some(body));
        assert_eq!(r.status, 201, "POST {path}: {}", r.body);
    }

    /// Merges `patch` into the object at `path`, as someone editing it by hand would.
    pub fn patch(&self, path: &str, patch: &Value) {
        self.request("admin", "PATCH", path, Some(patch))
            .expect(200);
    }

    /// Deletes the object at `path`.
    pub fn delete(&self, path: &str) {
        self.request("admin", "DELETE", path, None).expect(200);
    }

    /// `metadata.generation` of the object at `path`, which a controller's report names.
    pub fn generation(&self, path: &str) -> Value {
        self.get(path).unwrap_or_else(|| panic!("{path} exists"))["metadata"]["generation"].clone()
    }

    /// Writes `status` into the status subresource of the object at `path`, as its
    /// controller would.
    pub fn set_status(&self, path: &str, status: Value) {
        self.patch(&format!("{path}/status"), &json!({ "status": status }));
    }

    /// Reports the StatefulSet at `path` as its controller would with `ready` of `replicas`
    /// replicas ready, for the generation it has now.
    pub fn set_statefulset_ready(&self, path: &str, replicas: i64, ready: i64) {
        let status = json!({"observedGeneration": self.generation(path), "replicas": replicas,
            "readyReplicas": ready, "updatedReplicas": replicas, "currentReplicas": replicas,
            "currentRevision": "r1", "updateRevision": "r1", "availableReplicas": ready});
        self.set_status(path, status);
    }

    /// Marks Job `ns/name` complete (or failed), with the conditions the Job controller
    /// writes.
    pub fn complete_job(&self, ns: &str, name: &str, ok: bool) {
        let now = "2026-01-01T00:00:00Z";
        let status = if ok {
            json!({"conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
                    {"type": "Complete", "status": "True", "lastTransitionTime": now}],
                   "startTime": now, "completionTime": now, "succeeded": 1})
        } else {
            json!({"conditions": [
                    {"type": "FailureTarget", "status": "True", "lastTransitionTime": now},
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                     "message": "Job has reached the specified backoff limit", "lastTransitionTime": now}],
                   "startTime": now, "failed": 1})
        };
        self.set_status(&job(ns, name), status);
    }

    /// Sets the phase of Pod `ns/name`, as the kubelet would.
    pub fn set_pod_phase(&self, ns: &str, name: &str, phase: &str) {
        self.set_status(&pod(ns, name), json!({ "phase": phase }));
    }

    /// Lets Pods in `ns` pass the ServiceAccount admission plugin (no controller creates
    /// the `default` account in a new namespace here).
    pub fn default_service_account(&self, ns: &str) {
        let sa =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
        self.post(&format!("/api/v1/namespaces/{ns}/serviceaccounts"), &sa);
    }

    /// Just enough of cert-manager for the API server to serve Certificates, Issuers and
    /// ClusterIssuers (no controller), once per cluster, waiting until all three are served.
    pub fn cert_manager_crds(&self) {
        self.cert_manager.call_once(|| {
            for (kind, plural, scope) in [
                ("Certificate", "certificates", "Namespaced"),
                ("Issuer", "issuers", "Namespaced"),
                ("ClusterIssuer", "clusterissuers", "Cluster"),
            ] {
                let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": format!("{plural}.cert-manager.io")},
                    "spec": {"group": "cert-manager.io", "scope": scope,
                        "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase()},
                        "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
                let r = self.request(
                    "admin",
                    "POST",
                    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                    Some(&crd),
                );
                assert!(r.status == 201 || r.status == 409, "{}", r.body);
            }
            wait_until("cert-manager.io/v1 is served", || {
                self.get("/apis/cert-manager.io/v1").is_some_and(|g| {
                    g["resources"].as_array().is_some_and(|r| r.len() >= 3)
                })
            });
        });
    }
}

/// The API path of ConfigMap `ns/name`.
pub fn cm(ns: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps/{name}")
}

/// The API path of Job `ns/name`.
pub fn job(ns: &str, name: &str) -> String {
    format!("/apis/batch/v1/namespaces/{ns}/jobs/{name}")
}

/// The API path of StatefulSet `ns/name`.
pub fn sts(ns: &str, name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{ns}/statefulsets/{name}")
}

/// The API path of Pod `ns/name`.
pub fn pod(ns: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods/{name}")
}

/// Polls `f` every 100 ms until it holds; panics naming `what` after a minute.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The built binary in `cwd` with `args`, talking to the cluster of `kubeconfig` (`None`:
/// no cluster configured at all). Everything else is the test's own: HOME and the
/// configuration, cache and data folders are `cwd`'s, and the store is a file store under
/// `cwd` unless `args` name another: with a cluster configured the default store would be
/// the cluster's, shared by every test of the binary, and one test's `fleet apply --prune`
/// would uninstall another's releases. Progress comes as plain lines.
pub fn stoke_command(cwd: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = super::stoke_command(cwd);
    cmd.args(args);
    if let Some(kc) = kubeconfig {
        cmd.arg("--kubeconfig").arg(kc);
    }
    cmd.env("HOME", cwd)
        .env("STOKE_PROGRESS", "plain")
        .env("STOKE_STORE", cwd.join(".stoke-store"))
        .env("XDG_CONFIG_HOME", cwd.join(".config"))
        .env("XDG_CACHE_HOME", cwd.join(".cache"))
        .env("XDG_DATA_HOME", cwd.join(".data"));
    cmd
}

/// Runs [`stoke_command`] to the end.
pub fn stoke(cwd: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> Run {
    stoke_command(cwd, kubeconfig, args)
        .output()
        .expect("the stoke binary runs")
        .into()
}

/// [`stoke_command`] against the cluster of `kubeconfig` in namespace `ns`.
pub fn command(cwd: &Path, kubeconfig: &Path, ns: &str, args: &[&str]) -> Command {
    let mut cmd = stoke_command(cwd, Some(kubeconfig), args);
    cmd.arg("-n").arg(ns);
    cmd
}

/// Runs stoke against the cluster of `kubeconfig` in namespace `ns` to the end.
pub fn kstoke(cwd: &Path, kubeconfig: &Path, ns: &str, args: &[&str]) -> Run {
    command(cwd, kubeconfig, ns, args)
        .output()
        .expect("the stoke binary runs")
        .into()
}

/// Starts stoke against the cluster of `kubeconfig` in namespace `ns`, for a test that
/// acts while it runs (writes status, kills it); [`finish`] collects it.
pub fn spawn(cwd: &Path, kubeconfig: &Path, ns: &str, args: &[&str]) -> Child {
    command(cwd, kubeconfig, ns, args)
        .spawn()
        .expect("the stoke binary runs")
}

/// Waits for a [`spawn`]ed stoke and returns how it ended.
pub fn finish(child: Child) -> Run {
    child.wait_with_output().unwrap().into()
}

/// `stoke history RELEASE -o json`, oldest revision first.
pub fn history(cwd: &Path, kubeconfig: &Path, ns: &str, release: &str) -> Vec<Value> {
    let out = kstoke(cwd, kubeconfig, ns, &["history", release, "-o", "json"]).expect(0);
    serde_json::from_str::<Vec<Value>>(&out.stdout).unwrap()
}

/// The status of each revision of `release`, oldest first.
pub fn statuses(cwd: &Path, kubeconfig: &Path, ns: &str, release: &str) -> Vec<String> {
    history(cwd, kubeconfig, ns, release)
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if self.owned {
            // A failure here would hide the test's own outcome; kube-up's watchdog stops
            // the cluster anyway when the test binary exits.
            let _ = run_script("kube-down", &["--purge", self.dir.to_str().unwrap()]);
        }
    }
}
