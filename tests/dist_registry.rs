//! Charts in a real OCI registry (Debian's docker-registry on loopback, htpasswd basic
//! auth; once over TLS with a throwaway CA), exchanged with real Helm (helm-python-sdk)
//! in both directions through one shared login.

mod common;

use common::dist::{Env, PASSWORD, Registry, USER, keys, portable_chart, sha256};
use common::require_tool;

/// A registry over plain HTTP and an environment logged in to it; None (skipped) when the
/// registry's tools are missing outside CI.
fn logged_in() -> Option<(Registry, Env)> {
    let reg = Registry::start(false)?;
    let env = Env::new();
    env.login(&reg, &["--plain-http"]);
    Some((reg, env))
}

#[test]
fn stoke_pushes_and_helm_pulls_the_same_bytes_with_stokes_login() {
    if !require_tool("helm") {
        return;
    }
    let Some((reg, env)) = logged_in() else {
        return;
    };
    // The login is stored in Helm's registry config.json, readable by the user only.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(env.registry_config())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let pkg = env.package("gw", "1.4.0", &[]);
    let out = env.ok(&["push", &pkg, &reg.url("charts"), "--plain-http"]);
    assert!(
        out.contains(&format!("{}:1.4.0", reg.url("charts/gw"))),
        "{out}"
    );

    // Helm, with no login of its own, uses the credentials stoke stored.
    std::fs::create_dir_all(env.path("helm-dl")).unwrap();
    let r = env.helm(
        &format!(
            "c = h.RegistryClient(plain_http=True, credentials_file=cfg)\nprint(json.dumps({{'tags': c.tags({:?}), 'pull': c.pull({:?}, version='1.4.0', destination='helm-dl', plain_http=True)}}))",
            reg.url("charts/gw"),
            reg.url("charts/gw")
        ),
        &[],
    );
    assert_eq!(r["tags"], serde_json::json!(["1.4.0"]));
    assert_eq!(
        sha256(&env.path("helm-dl/gw-1.4.0.tgz")),
        sha256(&env.path(&pkg))
    );
}

#[test]
fn helm_pushes_and_stoke_pulls_the_same_bytes_and_installs_from_oci() {
    if !require_tool("helm") {
        return;
    }
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = Env::new();
    let mut pkgs = Vec::new();
    for v in ["1.0.0", "1.1.0", "2.0.0-rc.1"] {
        let src = portable_chart(env.dir.path(), "historian", v);
        std::fs::create_dir_all(env.path("helm-dist")).unwrap();
        env.helm(
            &format!(
                "print(json.dumps(h.package({:?}, destination='helm-dist')))",
                src.to_str().unwrap()
            ),
            &[],
        );
        pkgs.push(format!("helm-dist/historian-{v}.tgz"));
    }
    // Helm logs in; stoke uses Helm's stored login.
    let pushes: Vec<String> = pkgs
        .iter()
        .map(|p| format!("c.push({p:?}, {:?}, plain_http=True)", reg.url("ops")))
        .collect();
    env.helm(
        &format!(
            "c = h.RegistryClient(plain_http=True, credentials_file=cfg)\nc.login({:?}, {USER:?}, {PASSWORD:?}, plain_http=True)\n{}\nprint(json.dumps(c.resolve({:?})))",
            reg.host,
            pushes.join("\n"),
            format!("{}:1.1.0", reg.url("ops/historian"))
        ),
        &[],
    );

    // Newest stable version by default; a constraint is resolved against the tags.
    env.ok(&[
        "pull",
        &reg.url("ops/historian"),
        "--plain-http",
        "-d",
        "dl",
    ]);
    assert_eq!(
        sha256(&env.path("dl/historian-1.1.0.tgz")),
        sha256(&env.path("helm-dist/historian-1.1.0.tgz"))
    );
    env.ok(&[
        "pull",
        &reg.url("ops/historian"),
        "--version",
        "~1.0",
        "--plain-http",
        "-d",
        "dl",
    ]);
    assert_eq!(
        sha256(&env.path("dl/historian-1.0.0.tgz")),
        sha256(&env.path("helm-dist/historian-1.0.0.tgz"))
    );
    env.ok(&[
        "pull",
        &reg.url("ops/historian"),
        "--devel",
        "--plain-http",
        "-d",
        "devel",
    ]);
    assert!(env.path("devel/historian-2.0.0-rc.1.tgz").is_file());

    // By digest: the manifest digest Helm reports.
    let resolved = env.helm(
        &format!(
            "c = h.RegistryClient(plain_http=True, credentials_file=cfg)\nprint(json.dumps(c.resolve({:?})))",
            format!("{}:1.0.0", reg.url("ops/historian"))
        ),
        &[],
    );
    let digest = resolved["digest"].as_str().unwrap();
    env.ok(&[
        "pull",
        &format!("{}@{digest}", reg.url("ops/historian")),
        "--plain-http",
        "-d",
        "by-digest",
    ]);
    assert_eq!(
        sha256(&env.path("by-digest/historian-1.0.0.tgz")),
        sha256(&env.path("helm-dist/historian-1.0.0.tgz"))
    );

    // oci:// as a chart reference everywhere a chart is read.
    let chart = reg.url("ops/historian");
    let shown = env.ok(&[
        "show",
        "chart",
        &chart,
        "--version",
        "1.0.0",
        "--plain-http",
    ]);
    assert!(shown.contains("version: 1.0.0"), "{shown}");
    env.ok(&["lint", &chart, "--plain-http"]);
    let out = env.ok(&["template", "h1", &chart, "--version", "^1", "--plain-http"]);
    assert!(out.contains("name: historian-settings"), "{out}");
    env.ok(&[
        "install",
        "h1",
        &chart,
        "--version",
        "1.0.0",
        "--plain-http",
        "--store",
        "store",
    ]);
    env.ok(&[
        "upgrade",
        "h1",
        &chart,
        "--version",
        "1.1.0",
        "--plain-http",
        "--store",
        "store",
    ]);
    let hist = env.ok(&["history", "h1", "--store", "store", "-o", "json"]);
    assert!(hist.contains("1.1.0"), "{hist}");
    // Both versions render the same ConfigMap: the diff reads the chart and finds nothing.
    env.ok(&[
        "diff",
        "upgrade",
        "h1",
        &chart,
        "--version",
        "1.0.0",
        "--plain-http",
        "--store",
        "store",
    ]);
}

#[test]
fn a_signed_chart_travels_with_its_provenance_both_ways() {
    if !require_tool("helm") {
        return;
    }
    let Some(k) = keys() else { return };
    let Some((reg, env)) = logged_in() else {
        return;
    };
    env.signed_package(k, "gw", "3.0.0");
    let out = env.ok(&[
        "push",
        "dist/gw-3.0.0.tgz",
        &reg.url("signed"),
        "--plain-http",
    ]);
    assert!(out.contains("Provenance: included"), "{out}");
    let pubring = k.pubring.to_str().unwrap();
    let out = env.ok(&[
        "pull",
        &reg.url("signed/gw"),
        "--plain-http",
        "--verify",
        "--keyring",
        pubring,
        "-d",
        "dl",
    ]);
    assert!(out.contains("Verified gw-3.0.0.tgz"), "{out}");
    assert_eq!(
        std::fs::read(env.path("dl/gw-3.0.0.tgz.prov")).unwrap(),
        std::fs::read(env.path("dist/gw-3.0.0.tgz.prov")).unwrap()
    );
    // The manifest in the registry has Helm's shape: Helm's config media type, the
    // provenance layer first, then the chart, and Helm's annotations.
    let manifest = env.helm(
        &format!(
            "import urllib.request, base64\nreq = urllib.request.Request('http://{}/v2/signed/gw/manifests/3.0.0', headers={{'Accept': 'application/vnd.oci.image.manifest.v1+json', 'Authorization': 'Basic ' + base64.b64encode(b'{USER}:{PASSWORD}').decode()}})\nprint(urllib.request.urlopen(req).read().decode())",
            reg.host
        ),
        &[],
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.cncf.helm.config.v1+json"
    );
    let layers: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "application/vnd.cncf.helm.chart.provenance.v1.prov",
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
        ]
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "gw"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "3.0.0"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.authors"],
        "Plant Ops (ops@example.com)"
    );
    // Helm pulls the chart stoke pushed.
    std::fs::create_dir_all(env.path("helm-dl")).unwrap();
    env.helm(
        &format!(
            "c = h.RegistryClient(plain_http=True, credentials_file=cfg)\nc.pull({:?}, version='3.0.0', destination='helm-dl', plain_http=True)\nprint(json.dumps(True))",
            reg.url("signed/gw")
        ),
        &[],
    );
    assert_eq!(
        sha256(&env.path("helm-dl/gw-3.0.0.tgz")),
        sha256(&env.path("dist/gw-3.0.0.tgz"))
    );

    // Helm pushes a signed chart; stoke pulls its .prov and verifies it.
    let src = portable_chart(env.dir.path(), "hsigned", "0.9.0");
    std::fs::create_dir_all(env.path("helm-dist")).unwrap();
    env.helm(
        &format!(
            "p = h.package({:?}, destination='helm-dist')\nh.sign(p, key='Plant Signer', keyring={:?})\nc = h.RegistryClient(plain_http=True, credentials_file=cfg)\nc.push(p, {:?}, plain_http=True)\nprint(json.dumps(True))",
            src.to_str().unwrap(),
            k.secring.to_str().unwrap(),
            reg.url("signed")
        ),
        &[],
    );
    env.ok(&[
        "install",
        "hs",
        &reg.url("signed/hsigned"),
        "--plain-http",
        "--verify",
        "--keyring",
        pubring,
        "--store",
        "store",
    ]);
    // The wrong keyring is refused before anything is installed.
    let err = env.fails(&[
        "install",
        "hs2",
        &reg.url("signed/hsigned"),
        "--plain-http",
        "--verify",
        "--keyring",
        k.other_pubring.to_str().unwrap(),
        "--store",
        "store",
    ]);
    assert!(err.contains("does not verify with any key"), "{err}");
    // An unsigned chart cannot pass --verify.
    let pkg = env.package("plain", "1.0.0", &[]);
    env.ok(&["push", &pkg, &reg.url("signed"), "--plain-http"]);
    let err = env.fails(&[
        "pull",
        &reg.url("signed/plain"),
        "--plain-http",
        "--verify",
        "--keyring",
        pubring,
    ]);
    assert!(err.contains("no provenance layer"), "{err}");
}

#[test]
fn a_chart_with_an_oci_dependency_builds_its_charts_folder_from_the_registry() {
    let Some((reg, env)) = logged_in() else {
        return;
    };
    for v in ["0.1.0", "0.2.0", "1.0.0"] {
        let pkg = env.package("db", v, &[]);
        env.ok(&["push", &pkg, &reg.url("deps"), "--plain-http"]);
    }
    let parent = env.path("site");
    std::fs::create_dir_all(parent.join("templates")).unwrap();
    std::fs::write(
        parent.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: site\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: \"^0.1\"\n    repository: {}\n",
            reg.url("deps")
        ),
    )
    .unwrap();
    env.ok(&["dependency", "update", "site", "--plain-http"]);
    assert_eq!(
        sha256(&parent.join("charts/db-0.1.0.tgz")),
        sha256(&env.path("dist/db-0.1.0.tgz"))
    );
    let lock = std::fs::read_to_string(parent.join("Chart.lock")).unwrap();
    assert!(lock.contains("version: 0.1.0"), "{lock}");
    assert!(lock.contains(&reg.url("deps")), "{lock}");

    std::fs::remove_dir_all(parent.join("charts")).unwrap();
    env.ok(&["dependency", "build", "site", "--plain-http"]);
    assert!(parent.join("charts/db-0.1.0.tgz").is_file());
    let out = env.ok(&["template", "s", "site"]);
    assert!(out.contains("name: db-settings"), "{out}");
}

/// A Docker credential helper as a keychain would be: it keeps each login in a JSON file
/// beside itself and logs the actions it was asked for.
const FAKE_HELPER: &str = r#"#!/usr/bin/env python3
import json, os, sys
db = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keychain")
os.makedirs(db, exist_ok=True)
action, data = sys.argv[1], sys.stdin.read()
with open(os.path.join(db, "log"), "a") as log:
    log.write(action + "\n")
def entry(host):
    return os.path.join(db, host.replace(":", "_").replace("/", "_") + ".json")
if action == "store":
    login = json.loads(data)
    with open(entry(login["ServerURL"]), "w") as f:
        json.dump(login, f)
elif action in ("get", "erase"):
    path = entry(data.strip())
    if not os.path.exists(path):
        print("credentials not found in native keychain")
        sys.exit(1)
    if action == "get":
        with open(path) as f:
            print(f.read())
    else:
        os.remove(path)
else:
    sys.exit(2)
"#;

#[test]
fn logins_go_through_the_docker_credential_helper_the_config_names() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = Env::new();
    env.install_program("docker-credential-keychain", FAKE_HELPER);
    let config = env.registry_config();
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"credsStore": "keychain"}"#).unwrap();

    let out = env.login(&reg, &["--plain-http"]);
    assert!(out.contains("docker-credential-keychain"), "{out}");
    let file = std::fs::read_to_string(&config).unwrap();
    assert!(
        !file.contains("auths"),
        "the password went to the helper, not the file: {file}"
    );
    let kept = std::fs::read_to_string(
        env.path(&format!("bin/keychain/{}.json", reg.host.replace(':', "_"))),
    )
    .unwrap();
    assert!(kept.contains(PASSWORD), "{kept}");

    // Push and pull ask the helper for the login.
    let pkg = env.package("gw", "3.1.0", &[]);
    env.ok(&["push", &pkg, &reg.url("charts"), "--plain-http"]);
    env.ok(&["pull", &reg.url("charts/gw"), "--plain-http", "-d", "dl"]);
    assert_eq!(
        sha256(&env.path("dl/gw-3.1.0.tgz")),
        sha256(&env.path(&pkg))
    );
    if require_tool("helm") {
        // Helm reads the same file and runs the same helper.
        std::fs::create_dir_all(env.path("helm-dl")).unwrap();
        env.helm(
            &format!(
                "c = h.RegistryClient(plain_http=True, credentials_file=cfg)\nc.pull({:?}, version='3.1.0', destination='helm-dl', plain_http=True)\nprint(json.dumps(True))",
                reg.url("charts/gw")
            ),
            &[],
        );
        assert_eq!(
            sha256(&env.path("helm-dl/gw-3.1.0.tgz")),
            sha256(&env.path(&pkg))
        );
    }

    // Logout erases the login from the helper; the registry then refuses us.
    let out = env.ok(&["registry", "logout", &reg.host]);
    assert!(out.contains("docker-credential-keychain"), "{out}");
    let err = env.fails(&[
        "pull",
        &reg.url("charts/gw"),
        "--version",
        "3.1.0",
        "--plain-http",
        "-d",
        "x",
    ]);
    assert!(err.contains("refused the credentials"), "{err}");
    let err = env.fails(&["registry", "logout", &reg.host]);
    assert!(err.contains("not logged in"), "{err}");
    let log = std::fs::read_to_string(env.path("bin/keychain/log")).unwrap();
    for action in ["store", "get", "erase"] {
        assert!(
            log.lines().any(|l| l == action),
            "the helper was never asked to {action}: {log}"
        );
    }

    // A per-host helper (credHelpers) wins over credsStore; a missing one is named.
    std::fs::write(
        &config,
        format!(
            r#"{{"credsStore": "missing", "credHelpers": {{"{}": "keychain"}}}}"#,
            reg.host
        ),
    )
    .unwrap();
    env.login(&reg, &["--plain-http"]);
    env.ok(&[
        "pull",
        &reg.url("charts/gw"),
        "--version",
        "3.1.0",
        "--plain-http",
        "-d",
        "again",
    ]);
    std::fs::write(&config, r#"{"credsStore": "missing"}"#).unwrap();
    let err = env.fails(&[
        "pull",
        &reg.url("charts/gw"),
        "--version",
        "3.1.0",
        "--plain-http",
        "-d",
        "y",
    ]);
    assert!(err.contains("docker-credential-missing"), "{err}");
    assert!(err.contains("not on PATH"), "{err}");
}

#[test]
fn wrong_password_missing_tag_and_unreachable_registry_give_clear_errors() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let env = Env::new();
    let err = env.fails_in(
        &[
            "registry",
            "login",
            &reg.host,
            "-u",
            USER,
            "--password-stdin",
            "--plain-http",
        ],
        "not-the-password\n",
    );
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(
        !env.registry_config().exists(),
        "a failed login must store nothing"
    );

    let pkg = env.package("gw", "1.0.0", &[]);
    let err = env.fails(&["push", &pkg, &reg.url("charts"), "--plain-http"]);
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(err.contains("stoke registry login"), "{err}");

    env.login(&reg, &["--plain-http"]);
    env.ok(&["push", &pkg, &reg.url("charts"), "--plain-http"]);
    let err = env.fails(&[
        "pull",
        &reg.url("charts/gw"),
        "--version",
        "9.9.9",
        "--plain-http",
    ]);
    assert!(err.contains("no version of"), "{err}");
    assert!(err.contains("available: 1.0.0"), "{err}");
    let err = env.fails(&[
        "pull",
        &format!("{}:9.9.9", reg.url("charts/gw")),
        "--plain-http",
    ]);
    assert!(err.contains("does not exist"), "{err}");
    let err = env.fails(&["pull", &reg.url("charts/nothing"), "--plain-http"]);
    assert!(
        err.contains("does not exist") || err.contains("no chart versions"),
        "{err}"
    );

    // Explicit wrong credentials beat the stored login and are reported.
    let err = env.fails_in(
        &[
            "pull",
            &reg.url("charts/gw"),
            "--plain-http",
            "--username",
            USER,
            "--password-stdin",
        ],
        "wrong\n",
    );
    assert!(err.contains("refused the credentials"), "{err}");

    let logout = env.ok(&["registry", "logout", &reg.host]);
    assert!(logout.contains(&reg.host), "{logout}");
    let err = env.fails(&["registry", "logout", &reg.host]);
    assert!(err.contains("not logged in"), "{err}");

    drop(reg);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = env.fails(&[
        "pull",
        &format!("oci://127.0.0.1:{port}/charts/gw"),
        "--plain-http",
    ]);
    assert!(err.contains("cannot reach registry"), "{err}");
    let err = env.fails_in(
        &[
            "registry",
            "login",
            &format!("127.0.0.1:{port}"),
            "-u",
            USER,
            "--password-stdin",
            "--plain-http",
        ],
        "x\n",
    );
    assert!(err.contains("cannot reach registry"), "{err}");
}

#[test]
fn a_tls_registry_is_trusted_through_its_ca_file() {
    let Some(reg) = Registry::start(true) else {
        return;
    };
    let tls = reg.tls.as_ref().unwrap();
    let ca = tls.ca.to_str().unwrap();
    let env = Env::new();
    let err = env.fails_in(
        &[
            "registry",
            "login",
            &reg.host,
            "-u",
            USER,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(err.contains("--ca-file"), "{err}");
    env.login(&reg, &["--ca-file", ca]);
    let pkg = env.package("gw", "1.5.0", &[]);
    let err = env.fails(&["push", &pkg, &reg.url("charts")]);
    assert!(err.contains("--ca-file"), "{err}");
    env.ok(&["push", &pkg, &reg.url("charts"), "--ca-file", ca]);
    env.ok(&["pull", &reg.url("charts/gw"), "--ca-file", ca, "-d", "dl"]);
    assert_eq!(
        sha256(&env.path("dl/gw-1.5.0.tgz")),
        sha256(&env.path(&pkg))
    );
    env.ok(&[
        "pull",
        &reg.url("charts/gw"),
        "--insecure-skip-tls-verify",
        "-d",
        "insecure",
    ]);
    assert!(env.path("insecure/gw-1.5.0.tgz").is_file());

    if require_tool("helm") {
        // Helm trusts the same CA through the system trust variable Go reads.
        std::fs::create_dir_all(env.path("helm-dl")).unwrap();
        env.helm(
            &format!(
                "c = h.RegistryClient(credentials_file=cfg)\nc.pull({:?}, version='1.5.0', destination='helm-dl')\nprint(json.dumps(True))",
                reg.url("charts/gw")
            ),
            &[("SSL_CERT_FILE", tls.ca.as_path())],
        );
        assert_eq!(
            sha256(&env.path("helm-dl/gw-1.5.0.tgz")),
            sha256(&env.path(&pkg))
        );
    }
}

#[test]
fn a_registry_demanding_client_certificates_is_reached_with_cert_file_and_key_file() {
    let Some(reg) = Registry::start_with_client_certs() else {
        return;
    };
    let tls = reg.tls.as_ref().unwrap();
    let ca = tls.ca.to_str().unwrap();
    let cert = tls.client_cert.to_str().unwrap();
    let key = tls.client_key.to_str().unwrap();
    let env = Env::new();
    let mtls = ["--ca-file", ca, "--cert-file", cert, "--key-file", key];

    // Without a certificate every command fails and says what is missing.
    let err = env.fails_in(
        &[
            "registry",
            "login",
            &reg.host,
            "-u",
            USER,
            "--password-stdin",
            "--ca-file",
            ca,
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(err.contains("--cert-file"), "{err}");
    env.login(&reg, &mtls);
    let pkg = env.package("gw", "2.0.0", &[]);
    let err = env.fails(&["push", &pkg, &reg.url("charts"), "--ca-file", ca]);
    assert!(err.contains("client certificate"), "{err}");
    assert!(err.contains("--cert-file"), "{err}");

    // With it, push, pull and install from oci:// work and the bytes survive.
    let mut push = vec!["push", pkg.as_str()];
    let remote = reg.url("charts");
    push.push(&remote);
    push.extend_from_slice(&mtls);
    let out = env.ok(&push);
    assert!(out.contains("sha256:"), "{out}");
    let chart = reg.url("charts/gw");
    let mut pull = vec!["pull", chart.as_str(), "--version", "^2", "-d", "dl"];
    pull.extend_from_slice(&mtls);
    env.ok(&pull);
    assert_eq!(
        sha256(&env.path("dl/gw-2.0.0.tgz")),
        sha256(&env.path(&pkg))
    );
    let mut install = vec!["install", "plant", chart.as_str(), "--version", "2.0.0"];
    install.extend_from_slice(&mtls);
    env.ok(&install);

    let err = env.fails(&[
        "pull",
        &chart,
        "--version",
        "2.0.0",
        "--ca-file",
        ca,
        "-d",
        "x",
    ]);
    assert!(err.contains("client certificate"), "{err}");

    // A key that does not belong to the certificate is named before anything is sent.
    let err = env.fails(&[
        "pull",
        &chart,
        "--ca-file",
        ca,
        "--cert-file",
        cert,
        "--key-file",
        ca,
        "-d",
        "y",
    ]);
    assert!(err.contains("--key-file"), "{err}");
}

#[test]
fn a_registry_with_bearer_token_auth_is_used_through_its_token_service() {
    let Some(tokens) = common::dist::TokenServer::start() else {
        return;
    };
    let Some(reg) = Registry::start_with_tokens(&tokens) else {
        return;
    };
    let env = Env::new();
    // A wrong password is refused by the token service the challenge names.
    let err = env.fails_in(
        &[
            "registry",
            "login",
            &reg.host,
            "-u",
            USER,
            "--password-stdin",
            "--plain-http",
        ],
        "wrong\n",
    );
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(err.contains("token service"), "{err}");
    env.login(&reg, &["--plain-http"]);

    let pkg = env.package("gw", "1.6.0", &[]);
    env.ok(&["push", &pkg, &reg.url("charts"), "--plain-http"]);
    env.ok(&[
        "pull",
        &reg.url("charts/gw"),
        "--version",
        "^1",
        "--plain-http",
        "-d",
        "dl",
    ]);
    assert_eq!(
        sha256(&env.path("dl/gw-1.6.0.tgz")),
        sha256(&env.path(&pkg))
    );
    // Without a login the token service grants nothing and the registry refuses.
    let stranger = Env::new();
    let err = stranger.fails(&["pull", &reg.url("charts/gw"), "--plain-http"]);
    assert!(err.contains("refused the credentials"), "{err}");
    let requests = tokens.requests();
    assert!(
        requests
            .iter()
            .any(|q| q.contains("scope=repository%3Acharts%2Fgw%3Apull%2Cpush")),
        "no push-scoped token was requested: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|q| q.contains("service=stoke-test-registry")),
        "{requests:?}"
    );
    if require_tool("helm") {
        std::fs::create_dir_all(env.path("helm-dl")).unwrap();
        env.helm(
            &format!(
                "c = h.RegistryClient(plain_http=True, credentials_file=cfg)\nc.pull({:?}, version='1.6.0', destination='helm-dl', plain_http=True)\nprint(json.dumps(True))",
                reg.url("charts/gw")
            ),
            &[],
        );
        assert_eq!(
            sha256(&env.path("helm-dl/gw-1.6.0.tgz")),
            sha256(&env.path(&pkg))
        );
    }
}

#[test]
fn dependency_build_verifies_oci_dependencies_against_their_provenance() {
    let Some(k) = keys() else { return };
    let Some((reg, env)) = logged_in() else {
        return;
    };
    env.signed_package(k, "db", "0.4.0");
    env.ok(&[
        "push",
        "dist/db-0.4.0.tgz",
        &reg.url("signed"),
        "--plain-http",
    ]);
    let unsigned = env.package("cache", "1.0.0", &[]);
    env.ok(&["push", &unsigned, &reg.url("unsigned"), "--plain-http"]);
    let site = |name: &str, dep: &str, repo: &str| {
        let dir = env.path(name);
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::write(
            dir.join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: {name}\nversion: 1.0.0\ndependencies:\n  - name: {dep}\n    version: \"*\"\n    repository: {}\n",
                reg.url(repo)
            ),
        )
        .unwrap();
        dir
    };
    let good = site("good", "db", "signed");
    let pubring = k.pubring.to_str().unwrap();
    env.ok(&[
        "dependency",
        "update",
        "good",
        "--plain-http",
        "--verify",
        "--keyring",
        pubring,
    ]);
    std::fs::remove_dir_all(good.join("charts")).unwrap();
    env.ok(&[
        "dependency",
        "build",
        "good",
        "--plain-http",
        "--verify",
        "--keyring",
        pubring,
    ]);
    assert!(good.join("charts/db-0.4.0.tgz").is_file());
    std::fs::remove_dir_all(good.join("charts")).unwrap();
    let err = env.fails(&[
        "dependency",
        "build",
        "good",
        "--plain-http",
        "--verify",
        "--keyring",
        k.other_pubring.to_str().unwrap(),
    ]);
    assert!(err.contains("dependency `db`"), "{err}");
    assert!(err.contains("does not verify with any key"), "{err}");
    assert!(!good.join("charts/db-0.4.0.tgz").exists());

    site("loose", "cache", "unsigned");
    let err = env.fails(&[
        "dependency",
        "update",
        "loose",
        "--plain-http",
        "--verify",
        "--keyring",
        pubring,
    ]);
    assert!(err.contains("no provenance layer"), "{err}");
}
