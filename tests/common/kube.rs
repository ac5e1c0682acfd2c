//! A real Kubernetes control plane (etcd and kube-apiserver on 127.0.0.1) for the
//! integration tests, started with `.ci/kube-up` and stopped with `.ci/kube-down`.
//!
//! No kubelet or controllers run: a test that needs an object to look ready writes its
//! status subresource itself, as a controller would. Requests go through `curl`, so the
//! tests depend on nothing of the product's own client. A cluster that cannot be built or
//! started fails the test that asked for it; it is never skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One running cluster: its folder (certificates, logs, pids) and the admin kubeconfig.
pub struct TestCluster {
    dir: PathBuf,
    kubeconfig: PathBuf,
    server: String,
    /// Only a cluster of its own is stopped on drop; the shared one is stopped by
    /// kube-up's watchdog when the test binary exits, as statics are never dropped.
    owned: bool,
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
        run_script("kube-apiserver", &["stop", self.dir.to_str().unwrap()])
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

    /// Starts the API server again on the same etcd and port, returning once it is ready.
    pub fn start_apiserver(&self) {
        run_script("kube-apiserver", &["start", self.dir.to_str().unwrap()])
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

impl Drop for TestCluster {
    fn drop(&mut self) {
        if self.owned {
            // A failure here would hide the test's own outcome; kube-up's watchdog stops
            // the cluster anyway when the test binary exits.
            let _ = run_script("kube-down", &["--purge", self.dir.to_str().unwrap()]);
        }
    }
}
