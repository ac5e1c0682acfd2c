//! The container scripts of charts/ignition, run with bash against temporary folders: what the
//! preconfigure init container, the gateway entrypoint shim and the readiness probe do.
//! Scripts that need xmlstarlet or keytool go through `require_tool`: under CI a missing
//! tool fails the test, elsewhere it is skipped with a notice.

mod common;

use common::require_tool;
use common::tools::require_tools;
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
    if !require_tool("xmlstarlet") {
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
    if !require_tools(&["keytool", "openssl"]) {
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

#[test]
fn invoke_args_expands_an_unset_variable_to_nothing_as_the_official_script_does() {
    let tmp = tempfile::tempdir().unwrap();
    let run = bash(
        "invoke-args.sh",
        &["echo \"value=[${NOT_SET_ANYWHERE}]\"", "echo after"],
        &[],
        tmp.path(),
    );
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(String::from_utf8_lossy(&run.stdout), "value=[]\nafter\n");
}

#[test]
fn prepare_redundancy_writes_the_tuning_into_redundancy_xml_on_every_start() {
    if !require_tool("xmlstarlet") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let base = script("../config/redundancy-base.xml");
    let prepare = |settings: &[&str]| {
        let mut args = vec![
            "-g",
            "gw-0.gw",
            "-d",
            data.to_str().unwrap(),
            "-c",
            base.to_str().unwrap(),
        ];
        for s in settings {
            args.extend(["-s", s]);
        }
        bash(
            "prepare-redundancy.sh",
            &args,
            &[("HOSTNAME", "gw-1")],
            tmp.path(),
        )
    };
    let run = prepare(&[
        "redundancy.standbyactivitylevel=Warm",
        "redundancy.backupfailovertimeout=15000",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let xml = std::fs::read_to_string(data.join("redundancy.xml")).unwrap();
    assert!(
        xml.contains("<entry key=\"redundancy.standbyactivitylevel\">Warm</entry>"),
        "{xml}"
    );
    assert!(
        xml.contains("<entry key=\"redundancy.backupfailovertimeout\">15000</entry>"),
        "{xml}"
    );
    // A changed value replaces the one written before; the file is not seeded again.
    let run = prepare(&["redundancy.standbyactivitylevel=Active"]);
    assert!(run.status.success(), "{}", text(&run));
    let xml = std::fs::read_to_string(data.join("redundancy.xml")).unwrap();
    assert!(
        xml.contains("<entry key=\"redundancy.standbyactivitylevel\">Active</entry>"),
        "{xml}"
    );
    assert_eq!(
        xml.matches("redundancy.standbyactivitylevel").count(),
        1,
        "{xml}"
    );
    assert!(
        xml.contains("redundancy.backupfailovertimeout"),
        "kept: {xml}"
    );
    let bad = prepare(&["standbyactivitylevel=Warm"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

/// A fake `curl` first on PATH: records its arguments (one per line) and its standard input in
/// `dir`, writes `body` to `-o`/`--output` when given, else prints it.
fn recording_curl(dir: &Path, body: &str) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(dir.join("body"), body).unwrap();
    let curl = bin.join("curl");
    std::fs::write(
        &curl,
        format!(
            r#"#!/usr/bin/env bash
log="{log}"
printf '%s\n' "$@" >> "$log/args"
echo "--" >> "$log/args"
out=""
while (( $# )); do
  case "$1" in
    -o|--output) out="$2"; shift ;;
    --config) [[ "$2" == "-" ]] && cat >> "$log/stdin" ;;
  esac
  shift
done
if [[ -n "$out" ]]; then cp "$log/body" "$out"; else cat "$log/body"; fi
"#,
            log = dir.display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&curl).status().unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

#[test]
fn prepare_restore_stages_a_backup_only_on_a_new_data_volume() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("lost+found")).unwrap();
    let backup = tmp.path().join("site.gwbk");
    std::fs::write(&backup, "PK\u{3}\u{4}backup").unwrap();
    let restore = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["-d", data.to_str().unwrap()];
        all.extend(args);
        bash("optional/prepare-restore.sh", &all, env, tmp.path())
    };
    let staged = data.join(".stoke-restore");
    let run = restore(&["-f", backup.to_str().unwrap()], &[]);
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        std::fs::read(staged.join("gateway.gwbk")).unwrap(),
        std::fs::read(&backup).unwrap()
    );
    assert!(staged.join("pending").is_file());

    // The pod restarts before the gateway ran (seeding happened meanwhile): still pending.
    std::fs::write(data.join("gateway.xml_clean"), "seeded").unwrap();
    let run = restore(&["-f", backup.to_str().unwrap()], &[]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(staged.join("pending").is_file(), "{}", text(&run));

    // The gateway took it (the shim removed the marker): the next start cleans up and never
    // restores over the gateway's data.
    std::fs::remove_file(staged.join("pending")).unwrap();
    let run = restore(&["-f", backup.to_str().unwrap()], &[]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(!staged.exists());
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("not restored"),
        "{}",
        text(&run)
    );
}

#[test]
fn prepare_restore_restores_only_on_the_redundancy_primary_and_refuses_what_is_not_a_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let backup = tmp.path().join("site.gwbk");
    std::fs::write(&backup, "PK\u{3}\u{4}").unwrap();
    let args = [
        "-d",
        data.to_str().unwrap(),
        "-f",
        backup.to_str().unwrap(),
        "-p",
    ];
    let backup_node = bash(
        "optional/prepare-restore.sh",
        &args,
        &[("HOSTNAME", "gw-1")],
        tmp.path(),
    );
    assert!(backup_node.status.success(), "{}", text(&backup_node));
    assert!(!data.join(".stoke-restore").exists());
    let primary = bash(
        "optional/prepare-restore.sh",
        &args,
        &[("HOSTNAME", "gw-0")],
        tmp.path(),
    );
    assert!(primary.status.success(), "{}", text(&primary));
    assert!(data.join(".stoke-restore/pending").is_file());

    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let html = tmp.path().join("error.html");
    std::fs::write(&html, "<html>Forbidden</html>").unwrap();
    let run = bash(
        "optional/prepare-restore.sh",
        &["-d", other.to_str().unwrap(), "-f", html.to_str().unwrap()],
        &[],
        tmp.path(),
    );
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("not a gateway backup"));
    assert!(!other.join(".stoke-restore/gateway.gwbk").exists());
    let missing = bash(
        "optional/prepare-restore.sh",
        &["-d", other.to_str().unwrap(), "-f", "/nonexistent.gwbk"],
        &[],
        tmp.path(),
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("gateway.restore.file"));
}

#[test]
fn prepare_restore_downloads_with_credentials_kept_off_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let path = recording_curl(tmp.path(), "PK\u{3}\u{4}downloaded");
    let run = bash(
        "optional/prepare-restore.sh",
        &[
            "-d",
            data.to_str().unwrap(),
            "-u",
            "https://backups.example.com/site.gwbk",
        ],
        &[
            ("PATH", &path),
            ("RESTORE_USERNAME", "ops"),
            ("RESTORE_PASSWORD", "pa\"ss"),
        ],
        tmp.path(),
    );
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        std::fs::read_to_string(data.join(".stoke-restore/gateway.gwbk")).unwrap(),
        "PK\u{3}\u{4}downloaded"
    );
    let args = std::fs::read_to_string(tmp.path().join("args")).unwrap();
    assert!(
        args.contains("https://backups.example.com/site.gwbk"),
        "{args}"
    );
    assert!(!args.contains("pa\"ss") && !args.contains("ops"), "{args}");
    let stdin = std::fs::read_to_string(tmp.path().join("stdin")).unwrap();
    assert_eq!(stdin, "user = \"ops:pa\\\"ss\"\n");
}

#[test]
fn entrypoint_shim_restores_a_staged_backup_once() {
    let tmp = tempfile::tempdir().unwrap();
    let staging = tmp.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("gateway.gwbk"), "PK").unwrap();
    std::fs::write(staging.join("pending"), "").unwrap();
    let entry = tmp.path().join("entry.sh");
    std::fs::write(&entry, "#!/bin/sh\necho \"started with: $*\"\n").unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&entry)
        .status()
        .unwrap();
    let env = [
        ("IGNITION_INSTALL_LOCATION", tmp.path().to_str().unwrap()),
        ("IGNITION_RESTORE_STAGING", staging.to_str().unwrap()),
        ("IGNITION_DOCKER_ENTRYPOINT", entry.to_str().unwrap()),
    ];
    let first = bash(
        "docker-entrypoint-shim.sh",
        &["-n", "gw", "--"],
        &env,
        tmp.path(),
    );
    assert!(first.status.success(), "{}", text(&first));
    let expected = format!(
        "started with: -r {}/gateway.gwbk -n gw --",
        staging.display()
    );
    assert!(
        String::from_utf8_lossy(&first.stdout).contains(&expected),
        "{}",
        text(&first)
    );
    assert!(!staging.join("pending").exists());
    let again = bash(
        "docker-entrypoint-shim.sh",
        &["-n", "gw", "--"],
        &env,
        tmp.path(),
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("started with: -n gw --"),
        "{}",
        text(&again)
    );
}

/// A service account folder and a fake curl that answers the StatefulSet GET with `annotations`
/// on its metadata and records every call.
fn api_fixture(dir: &Path, annotations: &str) -> (String, PathBuf) {
    let account = dir.join("sa");
    std::fs::create_dir_all(&account).unwrap();
    for (f, t) in [("token", "tok"), ("ca.crt", "ca"), ("namespace", "plant")] {
        std::fs::write(account.join(f), t).unwrap();
    }
    let body = format!(
        "{{\"metadata\": {{\"name\": \"site-ignition-gateway\", \"annotations\": {{{annotations}}}}}, \"spec\": {{}}}}"
    );
    (recording_curl(dir, &body), account)
}

#[test]
fn restart_on_renewal_records_first_then_rolls_the_pods_when_a_certificate_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let gan = tmp.path().join("gan-tls");
    let ca = tmp.path().join("gan-issuer-tls");
    for (d, t) in [(&gan, "leaf-1"), (&ca, "ca-1")] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("tls.crt"), t).unwrap();
    }
    let fingerprint = {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cat {}/tls.crt {}/tls.crt | sha256sum",
                gan.display(),
                ca.display()
            ))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)[..64].to_string()
    };
    let run_with = |annotations: &str| {
        let dir = tempfile::tempdir().unwrap();
        let (path, account) = api_fixture(dir.path(), annotations);
        let run = bash(
            "optional/restart-on-renewal.sh",
            &[
                "-s",
                "site-ignition-gateway",
                gan.to_str().unwrap(),
                ca.to_str().unwrap(),
            ],
            &[
                ("PATH", &path),
                ("SERVICE_ACCOUNT_DIR", account.to_str().unwrap()),
                ("KUBERNETES_API", "https://api.test"),
            ],
            tmp.path(),
        );
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap_or_default();
        (run, args)
    };

    // First run: nothing recorded yet, so record without restarting.
    let (run, args) = run_with("");
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        args.contains(
            "https://api.test/apis/apps/v1/namespaces/plant/statefulsets/site-ignition-gateway"
        ),
        "{args}"
    );
    assert!(args.contains("Authorization: Bearer tok"), "{args}");
    let patch = args
        .split("--data\n")
        .nth(1)
        .expect("a PATCH")
        .lines()
        .next()
        .unwrap();
    assert_eq!(
        patch,
        format!(
            "{{\"metadata\":{{\"annotations\":{{\"stoke.dev/certificates-seen\":\"{fingerprint}\"}}}}}}"
        )
    );

    // Unchanged: no PATCH.
    let (run, args) = run_with(&format!(
        "\"stoke.dev/certificates-seen\": \"{fingerprint}\""
    ));
    assert!(run.status.success(), "{}", text(&run));
    assert!(!args.contains("PATCH"), "{args}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("unchanged"));

    // Renewed: the pod template changes, which rolls the pods.
    let old = "0".repeat(64);
    let (run, args) = run_with(&format!("\"stoke.dev/certificates-seen\": \"{old}\""));
    assert!(run.status.success(), "{}", text(&run));
    assert!(args.contains("application/merge-patch+json"), "{args}");
    let patch = args
        .split("--data\n")
        .nth(1)
        .expect("a PATCH")
        .lines()
        .next()
        .unwrap();
    assert!(
        patch.contains(&format!(
            "\"spec\":{{\"template\":{{\"metadata\":{{\"annotations\":{{\"stoke.dev/certificates\":\"{fingerprint}\"}}}}}}}}"
        )),
        "{patch}"
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("restarting"));

    // A missing Secret is an error that says so.
    let dir = tempfile::tempdir().unwrap();
    let (path, account) = api_fixture(dir.path(), "");
    let run = bash(
        "optional/restart-on-renewal.sh",
        &["-s", "x", "/nonexistent"],
        &[
            ("PATH", &path),
            ("SERVICE_ACCOUNT_DIR", account.to_str().unwrap()),
        ],
        tmp.path(),
    );
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no tls.crt"));
}

#[test]
fn the_gwinfo_test_passes_only_when_every_gateway_runs_in_its_expected_role() {
    let cases = [
        (
            "ContextStatus=RUNNING;RedundancyStatus=Independent;Version=8.3.3",
            "Independent",
            true,
        ),
        (
            "ContextStatus=RUNNING;RedundancyStatus=Master",
            "Master",
            true,
        ),
        (
            "ContextStatus=RUNNING;RedundancyStatus=Backup",
            "Master",
            false,
        ),
        (
            "ContextStatus=STARTING;RedundancyStatus=Independent",
            "Independent",
            false,
        ),
    ];
    for (body, want, passes) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let path = fake_curl(tmp.path(), body);
        let target = format!("http://gw:8088/system/gwinfo={want}");
        let run = bash(
            "tests/gwinfo-test.sh",
            &["-a", "2", "-w", "0", &target],
            &[("PATH", &path)],
            tmp.path(),
        );
        assert_eq!(run.status.success(), passes, "{body}\n{}", text(&run));
        let out = String::from_utf8_lossy(&run.stdout);
        assert!(out.contains(if passes { "OK" } else { "FAILED" }), "{out}");
    }
}

/// A PKCS12 keystore with one key entry named `certificate`, as cert-manager writes it.
fn pkcs12(dir: &Path, passphrase: &str) -> PathBuf {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
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
    let keystore = dir.join("keystore.p12");
    let exported = Command::new("openssl")
        .args(["pkcs12", "-export", "-name", "certificate", "-passout"])
        .arg(format!("pass:{passphrase}"))
        .arg("-inkey")
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(&keystore)
        .output()
        .unwrap();
    assert!(exported.status.success(), "{}", text(&exported));
    keystore
}

#[test]
fn certificate_scripts_open_keystores_with_a_passphrase_of_your_own() {
    if !require_tools(&["keytool", "openssl"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let secrets = tmp.path().join("tls");
    let ca = tmp.path().join("ca");
    let data = tmp.path().join("data");
    for d in [&secrets, &ca, &data] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(ca.join("tls.crt"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    pkcs12(&secrets, "a-custom-passphrase");
    let dirs = [
        "-c",
        ca.to_str().unwrap(),
        "-s",
        secrets.to_str().unwrap(),
        "-d",
        data.to_str().unwrap(),
    ];
    let default = bash("prepare-gan-certificates.sh", &dirs, &[], tmp.path());
    assert!(
        !default.status.success(),
        "the default passphrase cannot open it"
    );
    let gan = bash(
        "prepare-gan-certificates.sh",
        &dirs,
        &[("GAN_KEYSTORE_PASSPHRASE", "a-custom-passphrase")],
        tmp.path(),
    );
    assert!(gan.status.success(), "{}", text(&gan));
    let web = bash(
        "prepare-tls-certificates.sh",
        &dirs[2..],
        &[("WEB_KEYSTORE_PASSPHRASE", "a-custom-passphrase")],
        tmp.path(),
    );
    assert!(web.status.success(), "{}", text(&web));
    for (file, alias) in [
        (
            "config/local/ignition/gateway-network/keystore/metro-keystore.pfx",
            "metro-key,",
        ),
        (
            "config/local/ignition/webserver/keystore/ssl.pfx",
            "ignition,",
        ),
    ] {
        let list = Command::new("keytool")
            .args([
                "-list",
                "-storetype",
                "PKCS12",
                "-storepass",
                "a-custom-passphrase",
                "-keystore",
            ])
            .arg(data.join(file))
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&list.stdout).contains(alias),
            "{}",
            text(&list)
        );
    }
}
