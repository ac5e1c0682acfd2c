//! Shared set-up for the distribution tests: a real OCI registry (Debian's
//! `docker-registry`, CNCF distribution) on loopback with htpasswd basic auth, optionally
//! behind TLS with a throwaway CA; OpenPGP test keys made with gpg in batch mode; and real
//! Helm through helm-python-sdk. Missing tools go through [`super::require_tool`]: the test
//! fails in CI and is skipped with a notice elsewhere.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use super::package::Env;
use super::require_tool;

/// The registry and Helm side of the scratch [`Env`]: its credentials file, Helm run in it,
/// packages and logins.
impl Env {
    /// The registry credentials file both stoke and Helm use here.
    pub fn registry_config(&self) -> PathBuf {
        self.path("config/helm/registry/config.json")
    }

    /// Packages a fresh [`portable_chart`] `name` `version` into `dist/` with the extra
    /// `package` arguments; returns the package's path relative to the environment.
    pub fn package(&self, name: &str, version: &str, extra: &[&str]) -> String {
        let src = portable_chart(self.dir.path(), name, version);
        let mut args = vec!["package", src.to_str().unwrap(), "-d", "dist"];
        args.extend_from_slice(extra);
        self.ok(&args);
        format!("dist/{name}-{version}.tgz")
    }

    /// [`Env::package`] signed by "Plant Signer", so `dist/` holds its `.prov` too.
    pub fn signed_package(&self, keys: &Keys, name: &str, version: &str) -> String {
        let secring = keys.secring.to_str().unwrap();
        self.package(
            name,
            version,
            &["--sign", "--key", "Plant Signer", "--keyring", secring],
        )
    }

    /// `stoke registry login` to `reg` as [`USER`] (password on stdin) with `extra`
    /// arguments, asserting it succeeded; returns what it printed.
    pub fn login(&self, reg: &Registry, extra: &[&str]) -> String {
        let mut args = vec![
            "registry",
            "login",
            &reg.host,
            "-u",
            USER,
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        let out = self.ok_in(&args, &format!("{PASSWORD}\n"));
        assert!(out.contains("Login Succeeded"), "{out}");
        out
    }

    /// Runs a Python snippet with helm_python imported as `h` and `cfg` set to the
    /// registry credentials file; returns its JSON output. `extra_env` adds variables
    /// (e.g. SSL_CERT_FILE for a TLS registry).
    pub fn helm(&self, script: &str, extra_env: &[(&str, &Path)]) -> serde_json::Value {
        match self.helm_result(script, extra_env) {
            Ok(v) => v,
            Err(e) => panic!("helm script failed:\n{script}\n{e}"),
        }
    }

    /// Like [`Env::helm`], returning Helm's error text instead of panicking.
    pub fn helm_result(
        &self,
        script: &str,
        extra_env: &[(&str, &Path)],
    ) -> Result<serde_json::Value, String> {
        let mut helm = super::helm::Helm::in_dir(self.dir.path()).prelude(&format!(
            "cfg = {:?}",
            self.registry_config().to_str().unwrap()
        ));
        let path = std::path::PathBuf::from(self.search_path());
        helm = helm.env("PATH", &path);
        for (k, v) in extra_env {
            helm = helm.env(k, v);
        }
        helm.try_run(script)
    }
}

/// A chart whose templates are plain YAML (valid for Tera and Go templates alike).
pub fn portable_chart(root: &Path, name: &str, version: &str) -> PathBuf {
    let dir = root.join(format!("src/{name}-{version}"));
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"8.1\"\ndescription: Portable chart {name}\nhome: https://example.com/{name}\nmaintainers:\n  - name: Plant Ops\n    email: ops@example.com\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "replicas: 1\n").unwrap();
    std::fs::write(
        dir.join("templates/configmap.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-settings\ndata:\n  mode: \"standalone\"\n"
        ),
    )
    .unwrap();
    dir
}

/// Hex sha256 of a file.
pub fn sha256(path: &Path) -> String {
    stoke::package::digest(&std::fs::read(path).unwrap())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Test user and password of every registry started here.
pub const USER: &str = "plant-ci";
pub const PASSWORD: &str = "s3cret-Pa55";

/// A throwaway certificate authority and a server certificate for 127.0.0.1.
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed for the TLS registry test");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Tls {
    pub fn make(dir: &Path) -> Tls {
        std::fs::create_dir_all(dir).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=stoke test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
        // A client certificate from the same CA, for servers that demand one.
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "client.key",
                "-out",
                "client.csr",
                "-subj",
                "/CN=plant-ci",
            ],
        );
        std::fs::write(
            dir.join("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "client.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "client.crt",
                "-days",
                "2",
                "-extfile",
                "client.ext",
            ],
        );
        Tls {
            ca: dir.join("ca.crt"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
        }
    }
}

/// A running `docker-registry` on 127.0.0.1 with htpasswd auth; stopped on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA that signed its certificate, when it speaks TLS.
    pub tls: Option<Tls>,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// None (skipped) when docker-registry or htpasswd is missing outside CI.
    pub fn start(with_tls: bool) -> Option<Registry> {
        let (dir, auth) = Self::htpasswd()?;
        Some(Registry::serve(dir, with_tls, &auth))
    }

    /// A TLS registry with htpasswd auth that also demands a client certificate signed by
    /// its CA (`http.tls.clientcas`); `tls.client_cert` / `tls.client_key` is one.
    pub fn start_with_client_certs() -> Option<Registry> {
        let (dir, auth) = Self::htpasswd()?;
        Some(Registry::serve_with(dir, true, true, &auth))
    }

    /// A folder holding an htpasswd file for [`USER`] and the `auth:` configuration naming
    /// it; None (skipped) when docker-registry or htpasswd is missing outside CI.
    fn htpasswd() -> Option<(tempfile::TempDir, String)> {
        if !require_tool("docker-registry") || !require_tool("htpasswd") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("htpasswd")
            .args(["-Bbn", USER, PASSWORD])
            .output()
            .unwrap();
        assert!(out.status.success(), "htpasswd failed");
        std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: stoke-test\n    path: {}\n",
            dir.path().join("htpasswd").display()
        );
        Some((dir, auth))
    }

    /// A registry that sends clients to `token`'s service (`WWW-Authenticate: Bearer`).
    pub fn start_with_tokens(token: &TokenServer) -> Option<Registry> {
        if !require_tool("docker-registry") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: {}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
            token.url,
            token.cert.display()
        );
        Some(Registry::serve(dir, false, &auth))
    }

    fn serve(dir: tempfile::TempDir, with_tls: bool, auth: &str) -> Registry {
        Registry::serve_with(dir, with_tls, false, auth)
    }

    fn serve_with(
        dir: tempfile::TempDir,
        with_tls: bool,
        client_certs: bool,
        auth: &str,
    ) -> Registry {
        let tls = with_tls.then(|| Tls::make(&dir.path().join("tls")));
        let port = free_port();
        let tls_block = match &tls {
            Some(t) => format!(
                "  tls:\n    certificate: {}\n    key: {}\n{}",
                t.cert.display(),
                t.key.display(),
                if client_certs {
                    format!("    clientcas:\n      - {}\n", t.ca.display())
                } else {
                    String::new()
                }
            ),
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{tls_block}{auth}",
            dir.path().join("data").display(),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start on port {port}: {}",
                std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            tls,
            _dir: dir,
        }
    }

    /// `oci://HOST/PATH`.
    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// OpenPGP keyrings made once per test binary with gpg in batch mode (no passphrase
/// prompts): a signer, a second unrelated key, and a passphrase-protected key.
pub struct Keys {
    /// Secret keyring of "Plant Signer" (`gpg --export-secret-keys`).
    pub secring: PathBuf,
    /// Public keyring of "Plant Signer" (`gpg --export`).
    pub pubring: PathBuf,
    /// Public keyring holding only an unrelated key.
    pub other_pubring: PathBuf,
    /// Secret keyring of "Locked Signer", protected by the passphrase in `passphrase_file`.
    pub locked_secring: PathBuf,
    pub locked_pubring: PathBuf,
    pub passphrase_file: PathBuf,
}

pub const SIGNER: &str = "Plant Signer <signer@example.com>";

fn gpg(home: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args(["--batch", "--yes", "--no-tty", "--quiet"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("gpg is needed for the provenance tests");
    assert!(
        out.status.success(),
        "gpg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The test keys; None (skipped) when gpg is missing outside CI.
pub fn keys() -> Option<&'static Keys> {
    static KEYS: OnceLock<Option<Keys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        if !require_tool("gpg") {
            return None;
        }
        // Kept for the whole test run; gpg's agent for this home is stopped at the end.
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()))
            .path()
            .to_path_buf();
        let home = dir.join("gnupg");
        std::fs::create_dir_all(&home).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        let gen_key = |uid: &str, pass: &str| {
            gpg(
                &home,
                &[
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    pass,
                    "--quick-gen-key",
                    uid,
                    "rsa2048",
                    "sign",
                    "never",
                ],
            );
        };
        gen_key(SIGNER, "");
        gen_key("Someone Else <else@example.com>", "");
        gen_key("Locked Signer <locked@example.com>", "open-sesame");
        let write = |name: &str, bytes: Vec<u8>| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let export_secret = |uid: &str, pass: &str| {
            gpg(
                &home,
                &[
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    pass,
                    "--export-secret-keys",
                    uid,
                ],
            )
        };
        let keys = Keys {
            secring: write("secring.gpg", export_secret("signer@example.com", "")),
            pubring: write(
                "pubring.gpg",
                gpg(&home, &["--export", "signer@example.com"]),
            ),
            other_pubring: write("other.gpg", gpg(&home, &["--export", "else@example.com"])),
            locked_secring: write(
                "locked-secring.gpg",
                export_secret("locked@example.com", "open-sesame"),
            ),
            locked_pubring: write(
                "locked-pubring.gpg",
                gpg(&home, &["--export", "locked@example.com"]),
            ),
            passphrase_file: write("passphrase.txt", b"open-sesame\n".to_vec()),
        };
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(&home)
            .args(["--kill", "gpg-agent"])
            .status();
        Some(keys)
    })
    .as_ref()
}

pub const TOKEN_SERVICE: &str = "stoke-test-registry";
pub const TOKEN_ISSUER: &str = "stoke-test-issuer";

/// The token service docker-registry's `token` auth sends clients to: it checks basic
/// auth for USER/PASSWORD and issues RS256 JWTs (signed with openssl, certificate in
/// `x5c`) granting the requested scopes. Killed on drop.
pub struct TokenServer {
    child: Child,
    pub url: String,
    pub cert: PathBuf,
    /// Every token request's query string, for the test to inspect.
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

const TOKEN_SERVER: &str = r#"
import base64, http.server, json, subprocess, sys, time, urllib.parse, uuid
port, key, cert_der, user, password, log = sys.argv[1:7]
port = int(port)
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
x5c = base64.b64encode(open(cert_der, "rb").read()).decode()
def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        with open(log, "a") as f:
            f.write(url.query + "\n")
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        q = urllib.parse.parse_qs(url.query)
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                kind, name, actions = one.split(":", 2)
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
        claims = {"iss": "stoke-test-issuer", "sub": user, "aud": q.get("service", [""])[0],
                  "exp": now + 600, "nbf": now - 60, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                             capture_output=True, check=True).stdout
        token = signing_input + "." + b64(sig)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 600,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

impl TokenServer {
    /// None (skipped) when openssl is missing outside CI.
    pub fn start() -> Option<TokenServer> {
        if !require_tool("openssl") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "token.key",
                "-out",
                "token.crt",
                "-days",
                "2",
                "-subj",
                "/CN=stoke test token issuer",
            ],
        );
        openssl(
            dir.path(),
            &[
                "x509",
                "-in",
                "token.crt",
                "-outform",
                "DER",
                "-out",
                "token.der",
            ],
        );
        let port = free_port();
        let log = dir.path().join("requests.log");
        let child = Command::new("python3")
            .args(["-c", TOKEN_SERVER, &port.to_string()])
            .arg(dir.path().join("token.key"))
            .arg(dir.path().join("token.der"))
            .args([USER, PASSWORD])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the token service");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "token service did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(TokenServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            cert: dir.path().join("token.crt"),
            log,
            _dir: dir,
        })
    }

    /// The query strings of the token requests so far.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
