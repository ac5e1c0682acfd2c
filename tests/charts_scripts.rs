//! The container scripts of charts/ignition, run with bash against temporary folders: what the
//! preconfigure init container, the gateway entrypoint shim and the readiness probe do.
//! Scripts that need xmlstarlet or keytool are checked where those exist (always under CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("charts/ignition/scripts")
        .join(name)
}

fn bash(name: &str, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    Command::new("bash")
        .arg(script(name))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .output()
        .expect("bash runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("{tool} is required in CI (.ci/install-test-deps installs it)");
    }
    if !found {
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

#[test]
fn invoke_args_runs_each_argument_in_order_and_stops_at_the_first_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = bash(
        "invoke-args.sh",
        &["echo one > log", "echo two >> log", "echo three >> log"],
        &[],
        tmp.path(),
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("log")).unwrap(),
        "one\ntwo\nthree\n"
    );
    let failing = bash(
        "invoke-args.sh",
        &["echo a > log2", "false", "echo never >> log2"],
        &[],
        tmp.path(),
    );
    assert!(!failing.status.success());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("log2")).unwrap(),
        "a\n"
    );
}

#[test]
fn seed_data_volume_copies_the_pristine_image_data_once() {
    let tmp = tempfile::tempdir().unwrap();
    let install = tmp.path().join("install");
    std::fs::create_dir_all(install.join("data_clean/config")).unwrap();
    std::fs::write(install.join("data_clean/config/gateway.xml"), "clean").unwrap();
    std::fs::create_dir_all(install.join("data")).unwrap();
    std::fs::write(install.join("data/gateway.xml"), "live").unwrap();
    let data = tmp.path().join("volume");
    std::fs::create_dir_all(&data).unwrap();
    let env = [("IGNITION_INSTALL_LOCATION", install.to_str().unwrap())];
    let run = bash(
        "seed-data-volume.sh",
        &["-d", data.to_str().unwrap()],
        &env,
        tmp.path(),
    );
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        std::fs::read_to_string(data.join("config/gateway.xml")).unwrap(),
        "clean"
    );
    // A second start leaves the gateway's own changes alone.
    std::fs::write(data.join("config/gateway.xml"), "changed by the gateway").unwrap();
    let again = bash(
        "seed-data-volume.sh",
        &["-d", data.to_str().unwrap()],
        &env,
        tmp.path(),
    );
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(data.join("config/gateway.xml")).unwrap(),
        "changed by the gateway"
    );
}

#[test]
fn seed_data_volume_refuses_a_missing_volume() {
    let tmp = tempfile::tempdir().unwrap();
    let run = bash(
        "seed-data-volume.sh",
        &["-d", "/nonexistent/data"],
        &[("IGNITION_INSTALL_LOCATION", "/tmp")],
        tmp.path(),
    );
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("is not mounted"));
}

/// A `curl` that prints the given gwinfo body, first on PATH.
fn fake_curl(dir: &Path, body: &str) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let curl = bin.join("curl");
    std::fs::write(&curl, format!("#!/bin/sh\nprintf '%s' '{body}'\n")).unwrap();
    Command::new("chmod").arg("+x").arg(&curl).status().unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

#[test]
fn redundant_health_check_counts_a_healthy_backup_as_ready() {
    let cases = [
        (
            "ContextStatus=RUNNING;RedundantState=Good;RedundantNodeActiveStatus=Cold",
            true,
        ),
        (
            "ContextStatus=RUNNING;RedundantState=OutOfDate;RedundantNodeActiveStatus=Cold",
            true,
        ),
        (
            "ContextStatus=RUNNING;RedundantState=Faulted;RedundantNodeActiveStatus=Active",
            true,
        ),
        (
            "ContextStatus=RUNNING;RedundantState=Faulted;RedundantNodeActiveStatus=Cold",
            false,
        ),
        ("ContextStatus=NEEDS_COMMISSIONING;", true),
        ("ContextStatus=STARTING;RedundantState=Good", false),
    ];
    for (body, ready) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let path = fake_curl(tmp.path(), body);
        let run = bash(
            "redundant-health-check.sh",
            &["-t", "3"],
            &[("PATH", &path)],
            tmp.path(),
        );
        assert_eq!(run.status.success(), ready, "{body}\n{}", text(&run));
    }
}

#[test]
fn entrypoint_shim_installs_external_modules_then_hands_over() {
    let tmp = tempfile::tempdir().unwrap();
    let install = tmp.path().join("install");
    let modules = install.join("user-lib/modules");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::write(modules.join("shipped.modl"), "image").unwrap();
    let external = tmp.path().join("external");
    std::fs::create_dir_all(&external).unwrap();
    std::fs::write(external.join("shipped.modl"), "external").unwrap();
    std::fs::write(external.join("extra.modl"), "extra").unwrap();
    let entry = tmp.path().join("entry.sh");
    std::fs::write(&entry, "#!/bin/sh\necho \"started with: $*\"\n").unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&entry)
        .status()
        .unwrap();
    let env = [
        ("IGNITION_INSTALL_LOCATION", install.to_str().unwrap()),
        ("EXTERNAL_MODULES_LOCATION", external.to_str().unwrap()),
        ("IGNITION_HELM_LOAD_EXTERNAL_MODULES", "true"),
        ("IGNITION_DOCKER_ENTRYPOINT", entry.to_str().unwrap()),
    ];
    let run = bash(
        "docker-entrypoint-shim.sh",
        &["-n", "gw", "--"],
        &env,
        tmp.path(),
    );
    assert!(run.status.success(), "{}", text(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains("started with: -n gw --"));
    assert_eq!(
        std::fs::read_to_string(modules.join("extra.modl")).unwrap(),
        "extra"
    );
    assert_eq!(
        std::fs::read_to_string(modules.join("shipped.modl")).unwrap(),
        "image",
        "existing modules are kept unless replacing is asked for"
    );
    let mut replace = env.to_vec();
    replace.push(("IGNITION_HELM_LOAD_EXTERNAL_MODULES_REPLACE", "true"));
    let run = bash("docker-entrypoint-shim.sh", &[], &replace, tmp.path());
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        std::fs::read_to_string(modules.join("shipped.modl")).unwrap(),
        "external"
    );
}

#[test]
fn prepare_redundancy_sets_the_role_primary_and_public_address() {
    if !have("xmlstarlet") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("gateway.xml_clean"),
        "<?xml version=\"1.0\"?>\n<properties>\n<entry key=\"gateway.publicAddress.autoDetect\">true</entry>\n</properties>\n",
    )
    .unwrap();
    let base = script("../config/redundancy-base.xml");
    let run = bash(
        "prepare-redundancy.sh",
        &[
            "-g",
            "site-backend-gateway-0.site-backend",
            "-d",
            data.to_str().unwrap(),
            "-c",
            base.to_str().unwrap(),
        ],
        &[
            ("HOSTNAME", "site-backend-gateway-1"),
            ("GATEWAY_PUBLIC_ADDRESS_BACKUP", "backup.example.com"),
            ("GATEWAY_PUBLIC_HTTPS_PORT_BACKUP", "8443"),
            ("GATEWAY_PUBLIC_ADDRESS_PRIMARY", "primary.example.com"),
        ],
        tmp.path(),
    );
    assert!(run.status.success(), "{}", text(&run));
    let redundancy = std::fs::read_to_string(data.join("redundancy.xml")).unwrap();
    for entry in [
        "<entry key=\"redundancy.noderole\">Backup</entry>",
        "<entry key=\"redundancy.gan.host\">site-backend-gateway-0.site-backend</entry>",
        "<entry key=\"redundancy.gan.port\">8060</entry>",
        "<entry key=\"redundancy.gan.enableSsl\">true</entry>",
    ] {
        assert!(
            redundancy.contains(entry),
            "{entry} missing from:\n{redundancy}"
        );
    }
    let gateway = std::fs::read_to_string(data.join("gateway.xml_clean")).unwrap();
    assert!(
        gateway.contains("<entry key=\"gateway.publicAddress.address\">backup.example.com</entry>"),
        "{gateway}"
    );
    assert!(
        gateway.contains("<entry key=\"gateway.publicAddress.httpsPort\">8443</entry>"),
        "{gateway}"
    );
    assert!(
        gateway.contains("<entry key=\"gateway.publicAddress.autoDetect\">false</entry>"),
        "{gateway}"
    );
    assert!(
        !gateway.contains("primary.example.com"),
        "the primary's address is not the backup's"
    );

    // Without TLS the primary is reached on the HTTP port; a pod that is neither -0 nor -1 is refused.
    let insecure = bash(
        "prepare-redundancy.sh",
        &[
            "-g",
            "p",
            "-k",
            "-d",
            data.to_str().unwrap(),
            "-c",
            base.to_str().unwrap(),
        ],
        &[("HOSTNAME", "gw-0")],
        tmp.path(),
    );
    assert!(insecure.status.success(), "{}", text(&insecure));
    let redundancy = std::fs::read_to_string(data.join("redundancy.xml")).unwrap();
    assert!(redundancy.contains("<entry key=\"redundancy.noderole\">Master</entry>"));
    assert!(redundancy.contains("<entry key=\"redundancy.gan.port\">8088</entry>"));
    let third = bash(
        "prepare-redundancy.sh",
        &[
            "-g",
            "p",
            "-d",
            data.to_str().unwrap(),
            "-c",
            base.to_str().unwrap(),
        ],
        &[("HOSTNAME", "gw-2")],
        tmp.path(),
    );
    assert!(!third.status.success());
}

#[test]
fn prepare_gan_certificates_trusts_the_ca_and_renames_the_key() {
    if !have("keytool") || !have("openssl") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path().join("gan-tls");
    let ca = tmp.path().join("gan-issuer-tls");
    let data = tmp.path().join("data");
    for d in [&secrets, &ca, &data] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(ca.join("tls.crt"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    // cert-manager names the key entry after the certificate; the gateway wants `metro-key`.
    let keystore = secrets.join("keystore.p12");
    // keytool cannot create a keystore with a 5-character passphrase; openssl can, like
    // cert-manager does.
    let key = tmp.path().join("key.pem");
    let cert = tmp.path().join("cert.pem");
    let generated = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=gw", "-days", "1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", text(&generated));
    let exported = Command::new("openssl")
        .args([
            "pkcs12",
            "-export",
            "-name",
            "certificate",
            "-passout",
            "pass:metro",
            "-inkey",
        ])
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(&keystore)
        .output()
        .unwrap();
    assert!(exported.status.success(), "{}", text(&exported));
    let run = bash(
        "prepare-gan-certificates.sh",
        &[
            "-c",
            ca.to_str().unwrap(),
            "-s",
            secrets.to_str().unwrap(),
            "-d",
            data.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    assert!(run.status.success(), "{}", text(&run));
    let gan = data.join("config/local/ignition/gateway-network");
    for side in ["server", "client"] {
        assert!(
            gan.join(side)
                .join("security/pki/trusted/certs/ignition-gan-ca.crt")
                .is_file(),
            "{side} trusts the CA"
        );
    }
    let list = Command::new("keytool")
        .args([
            "-list",
            "-storetype",
            "PKCS12",
            "-storepass",
            "metro",
            "-keystore",
        ])
        .arg(gan.join("keystore/metro-keystore.pfx"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("metro-key,"),
        "{}",
        text(&list)
    );
}
