//! Provenance files in Helm's format, checked both ways against real Helm (helm-python-sdk)
//! with keys made by gpg: stoke signs and Helm verifies, Helm signs and stoke verifies, and
//! a tampered package, a wrong key or a missing .prov is refused by both.

mod common;

use common::dist::{Env, SIGNER, keys, portable_chart};
use common::require_tool;

#[test]
fn stoke_signs_in_helms_layout_and_helm_verifies() {
    let Some(k) = keys() else { return };
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    let out = {
        let src = portable_chart(env.dir.path(), "gw", "1.2.0");
        env.ok(&[
            "package",
            src.to_str().unwrap(),
            "-d",
            "dist",
            "--sign",
            "--key",
            "Plant Signer",
            "--keyring",
            k.secring.to_str().unwrap(),
        ])
    };
    assert!(out.contains("gw-1.2.0.tgz.prov"), "{out}");
    let prov = std::fs::read_to_string(env.path("dist/gw-1.2.0.tgz.prov")).unwrap();
    let digest = common::dist::sha256(&env.path("dist/gw-1.2.0.tgz"));
    assert!(
        prov.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\n"),
        "{prov}"
    );
    assert!(
        prov.contains(&format!(
            "\n...\nfiles:\n  gw-1.2.0.tgz: sha256:{digest}\n\n-----BEGIN PGP SIGNATURE-----"
        )),
        "{prov}"
    );
    let r = env.helm(
        &format!(
            "print(json.dumps(h.verify('dist/gw-1.2.0.tgz', {:?})))",
            k.pubring.to_str().unwrap()
        ),
        &[],
    );
    assert_eq!(r["file_hash"], format!("sha256:{digest}"));
    assert_eq!(r["signed_by"], serde_json::json!([SIGNER]));

    let out = env.ok(&[
        "verify",
        "dist/gw-1.2.0.tgz",
        "--keyring",
        k.pubring.to_str().unwrap(),
    ]);
    assert!(out.contains(&format!("Signed by: {SIGNER}")), "{out}");
    assert!(out.contains(&format!("sha256:{digest}")), "{out}");
}

#[test]
fn helm_signs_and_stoke_verifies() {
    let Some(k) = keys() else { return };
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    let src = portable_chart(env.dir.path(), "historian", "0.3.0");
    std::fs::create_dir_all(env.path("dist")).unwrap();
    env.helm(
        &format!(
            "p = h.package({:?}, destination='dist')\nprint(json.dumps(h.sign(p, key='Plant Signer', keyring={:?})))",
            src.to_str().unwrap(),
            k.secring.to_str().unwrap()
        ),
        &[],
    );
    let out = env.ok(&[
        "verify",
        "dist/historian-0.3.0.tgz",
        "--keyring",
        k.pubring.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["signed_by"], serde_json::json!([SIGNER]));
    assert_eq!(v["file_name"], "historian-0.3.0.tgz");
    // install --verify accepts the signed package and records the release.
    let out = env.ok(&[
        "install",
        "hist",
        "dist/historian-0.3.0.tgz",
        "--verify",
        "--keyring",
        k.pubring.to_str().unwrap(),
        "--store",
        "store",
    ]);
    assert!(out.contains("hist"), "{out}");
    // So does upgrade; a package without its .prov is refused before anything changes.
    env.ok(&[
        "upgrade",
        "hist",
        "dist/historian-0.3.0.tgz",
        "--verify",
        "--keyring",
        k.pubring.to_str().unwrap(),
        "--store",
        "store",
    ]);
    std::fs::remove_file(env.path("dist/historian-0.3.0.tgz.prov")).unwrap();
    let err = env.fails(&[
        "upgrade",
        "hist",
        "dist/historian-0.3.0.tgz",
        "--verify",
        "--keyring",
        k.pubring.to_str().unwrap(),
        "--store",
        "store",
    ]);
    assert!(err.contains("has no provenance file"), "{err}");
    let history = env.ok(&["history", "hist", "--store", "store", "-o", "json"]);
    let revisions: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(revisions.as_array().unwrap().len(), 2, "{history}");
}

#[test]
fn a_tampered_package_is_refused_by_stoke_and_by_helm() {
    let Some(k) = keys() else { return };
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    let pkg = env.package(
        "gw",
        "2.0.0",
        &[
            "--sign",
            "--key",
            "signer@example.com",
            "--keyring",
            k.secring.to_str().unwrap(),
        ],
    );
    // Replace the archive with another build of the chart: same name, other bytes.
    let other = portable_chart(env.dir.path(), "gw", "2.0.0");
    std::fs::write(other.join("values.yaml"), "replicas: 9\n").unwrap();
    env.ok(&["package", other.to_str().unwrap(), "-d", "tampered"]);
    std::fs::copy(env.path("tampered/gw-2.0.0.tgz"), env.path(&pkg)).unwrap();

    let err = env.fails(&["verify", &pkg, "--keyring", k.pubring.to_str().unwrap()]);
    assert!(
        err.contains("gw-2.0.0.tgz has been changed since it was signed"),
        "{err}"
    );
    let err = env.fails(&[
        "install",
        "gw",
        &pkg,
        "--verify",
        "--keyring",
        k.pubring.to_str().unwrap(),
        "--store",
        "store",
    ]);
    assert!(err.contains("changed since it was signed"), "{err}");
    let helm = env.helm_result(
        &format!(
            "print(json.dumps(h.verify({pkg:?}, {:?})))",
            k.pubring.to_str().unwrap()
        ),
        &[],
    );
    let helm_err = helm.expect_err("Helm must refuse the tampered package");
    assert!(helm_err.contains("sha256 sum does not match"), "{helm_err}");

    // A changed provenance text breaks the signature itself.
    let prov_path = env.path(&format!("{pkg}.prov"));
    let prov = std::fs::read_to_string(&prov_path).unwrap();
    std::fs::write(&prov_path, prov.replace("name: gw", "name: gx")).unwrap();
    let err = env.fails(&["verify", &pkg, "--keyring", k.pubring.to_str().unwrap()]);
    assert!(err.contains("does not verify with any key"), "{err}");
}

#[test]
fn a_wrong_key_or_a_missing_provenance_file_is_refused_naming_what_failed() {
    let Some(k) = keys() else { return };
    let env = Env::new();
    let pkg = env.signed_package(k, "gw", "1.0.0");
    let err = env.fails(&[
        "verify",
        &pkg,
        "--keyring",
        k.other_pubring.to_str().unwrap(),
    ]);
    assert!(err.contains("does not verify with any key in"), "{err}");
    assert!(err.contains("other.gpg"), "{err}");

    std::fs::remove_file(env.path(&format!("{pkg}.prov"))).unwrap();
    let err = env.fails(&["verify", &pkg, "--keyring", k.pubring.to_str().unwrap()]);
    assert!(err.contains("has no provenance file"), "{err}");

    let err = env.fails(&[
        "package",
        portable_chart(env.dir.path(), "gw", "1.0.1")
            .to_str()
            .unwrap(),
        "-d",
        "dist",
        "--sign",
        "--key",
        "Nobody",
        "--keyring",
        k.secring.to_str().unwrap(),
    ]);
    assert!(err.contains("no key in"), "{err}");
    assert!(err.contains("Plant Signer"), "{err}");
}

#[test]
fn a_passphrase_protected_key_signs_with_a_passphrase_file_only() {
    let Some(k) = keys() else { return };
    let env = Env::new();
    let src = portable_chart(env.dir.path(), "edge", "0.1.0");
    let base = [
        "package",
        src.to_str().unwrap(),
        "-d",
        "dist",
        "--sign",
        "--key",
        "Locked Signer",
        "--keyring",
        k.locked_secring.to_str().unwrap(),
    ];
    let err = env.fails(&base);
    assert!(err.contains("--passphrase-file"), "{err}");
    let mut with_pass = base.to_vec();
    with_pass.extend(["--passphrase-file", k.passphrase_file.to_str().unwrap()]);
    env.ok(&with_pass);
    env.ok(&[
        "verify",
        "dist/edge-0.1.0.tgz",
        "--keyring",
        k.locked_pubring.to_str().unwrap(),
    ]);
}
