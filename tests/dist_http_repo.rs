//! Private HTTP chart repositories: basic-auth credentials given once to `repo add` (kept
//! mode 0600), `pull --repo URL`, and a package URL as a chart reference.

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dist::{Env, portable_chart, sha256};
use common::require_tool;

/// A loopback HTTP server for `root` that answers 401 unless the request carries basic
/// auth for `user`/`password`; killed on drop.
struct AuthServer {
    child: Child,
    url: String,
}

const SERVER: &str = r#"
import base64, functools, http.server, ssl, sys
port, root, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tls = sys.argv[5:]
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(H, directory=root))
if tls:
    cert, key, client_ca = tls
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(client_ca)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

impl AuthServer {
    fn start(root: &std::path::Path, user: &str, password: &str) -> AuthServer {
        AuthServer::start_tls(root, user, password, None)
    }

    /// With `tls`, serves HTTPS and demands a client certificate from its CA.
    fn start_tls(
        root: &std::path::Path,
        user: &str,
        password: &str,
        tls: Option<&common::dist::Tls>,
    ) -> AuthServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new("python3");
        cmd.args(["-c", SERVER, &port.to_string()])
            .arg(root)
            .args([user, password]);
        if let Some(t) = tls {
            cmd.arg(&t.cert).arg(&t.key).arg(&t.ca);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the HTTP repository tests");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "auth server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        AuthServer {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
        }
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn private_repo(env: &Env) -> AuthServer {
    for v in ["1.0.0", "1.2.0"] {
        let src = portable_chart(env.dir.path(), "gw", v);
        env.ok(&["package", src.to_str().unwrap(), "-d", "srv"]);
    }
    let server = AuthServer::start(&env.path("srv"), "reader", "hunter2");
    env.ok(&["repo", "index", "srv", "--url", &server.url]);
    server
}

#[test]
fn a_private_repository_is_added_once_with_credentials_kept_private() {
    let env = Env::new();
    let server = private_repo(&env);
    let err = env.fails(&["repo", "add", "plant", &server.url]);
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("--username"), "{err}");
    let err = env.fails_in(
        &[
            "repo",
            "add",
            "plant",
            &server.url,
            "--username",
            "reader",
            "--password-stdin",
        ],
        "wrong\n",
    );
    assert!(err.contains("user name or password is wrong"), "{err}");

    env.ok_in(
        &[
            "repo",
            "add",
            "plant",
            &server.url,
            "--username",
            "reader",
            "--password-stdin",
        ],
        "hunter2\n",
    );
    use std::os::unix::fs::PermissionsExt as _;
    let file = env.path("config/stoke/repositories.yaml");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Listing never shows the password.
    let list = env.ok(&["repo", "list", "-o", "json"]);
    assert!(
        list.contains("reader") && !list.contains("hunter2"),
        "{list}"
    );

    env.ok(&["repo", "update", "plant"]);
    env.ok(&["pull", "plant/gw", "--version", "~1.0", "-d", "dl"]);
    assert_eq!(
        sha256(&env.path("dl/gw-1.0.0.tgz")),
        sha256(&env.path("srv/gw-1.0.0.tgz"))
    );
    let out = env.ok(&["template", "g", "plant/gw"]);
    assert!(out.contains("name: gw-settings"), "{out}");

    // A package URL inside the configured repository borrows its credentials.
    let url = format!("{}/gw-1.2.0.tgz", server.url);
    let out = env.ok(&["show", "chart", &url]);
    assert!(out.contains("version: 1.2.0"), "{out}");
}

#[test]
fn pull_with_repo_url_takes_credentials_on_the_command_line() {
    let env = Env::new();
    let server = private_repo(&env);
    env.ok_in(
        &[
            "pull",
            "gw",
            "--repo",
            &server.url,
            "--username",
            "reader",
            "--password-stdin",
            "-d",
            "dl",
        ],
        "hunter2\n",
    );
    assert_eq!(
        sha256(&env.path("dl/gw-1.2.0.tgz")),
        sha256(&env.path("srv/gw-1.2.0.tgz"))
    );
    let err = env.fails(&["pull", "gw", "--repo", &server.url]);
    assert!(err.contains("401"), "{err}");
}

#[test]
fn an_https_repository_is_trusted_through_its_ca_and_given_a_client_certificate() {
    if !require_tool("openssl") {
        return;
    }
    let env = Env::new();
    let src = portable_chart(env.dir.path(), "gw", "2.0.0");
    env.ok(&["package", src.to_str().unwrap(), "-d", "srv"]);
    let tls = common::dist::Tls::make(&env.path("tls"));
    let server = AuthServer::start_tls(&env.path("srv"), "reader", "hunter2", Some(&tls));
    env.ok(&["repo", "index", "srv", "--url", &server.url]);
    let (ca, cert, key) = (
        tls.ca.to_str().unwrap(),
        tls.client_cert.to_str().unwrap(),
        tls.client_key.to_str().unwrap(),
    );
    let base = [
        "repo",
        "add",
        "secure",
        &server.url,
        "--username",
        "reader",
        "--password-stdin",
    ];
    let err = env.fails_in(&base, "hunter2\n");
    assert!(err.contains("--ca-file"), "{err}");
    let mut with_ca = base.to_vec();
    with_ca.extend(["--ca-file", ca]);
    // The CA is trusted now, but the server still wants a client certificate.
    let err = env.fails_in(&with_ca, "hunter2\n");
    assert!(err.contains("cannot download"), "{err}");
    let mut full = with_ca.clone();
    full.extend(["--cert-file", cert, "--key-file", key]);
    env.ok_in(&full, "hunter2\n");
    env.ok(&["pull", "secure/gw", "-d", "dl"]);
    assert_eq!(
        sha256(&env.path("dl/gw-2.0.0.tgz")),
        sha256(&env.path("srv/gw-2.0.0.tgz"))
    );
}

#[test]
fn credentials_reach_a_package_host_of_another_origin_only_with_pass_credentials() {
    let env = Env::new();
    let src = portable_chart(env.dir.path(), "gw", "1.0.0");
    env.ok(&["package", src.to_str().unwrap(), "-d", "pkgs"]);
    // The index lives on one server, the packages on another (a CDN, say); both want the
    // same login.
    let packages = AuthServer::start(&env.path("pkgs"), "reader", "hunter2");
    std::fs::create_dir_all(env.path("idx")).unwrap();
    std::fs::copy(env.path("pkgs/gw-1.0.0.tgz"), env.path("idx/gw-1.0.0.tgz")).unwrap();
    env.ok(&["repo", "index", "idx", "--url", &packages.url]);
    std::fs::remove_file(env.path("idx/gw-1.0.0.tgz")).unwrap();
    let index = AuthServer::start(&env.path("idx"), "reader", "hunter2");

    let add = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "repo",
            "add",
            name,
            index.url.as_str(),
            "--username",
            "reader",
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        env.ok_in(&args, "hunter2\n");
    };
    add("guarded", &[]);
    let err = env.fails(&["pull", "guarded/gw", "-d", "no"]);
    assert!(
        err.contains("401"),
        "the login stayed with its own origin: {err}"
    );
    assert!(err.contains("--pass-credentials"), "{err}");

    add("trusting", &["--pass-credentials"]);
    env.ok(&["pull", "trusting/gw", "-d", "yes"]);
    assert_eq!(
        sha256(&env.path("yes/gw-1.0.0.tgz")),
        sha256(&env.path("pkgs/gw-1.0.0.tgz"))
    );
}
