//! Output folders under attack and under faults: a planted `.stoke-managed` list or symbolic
//! link never makes stoke touch anything outside the folder, Secrets are written private,
//! and a crash half-way through writing the GitOps folder is repaired by the next operation.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{chart, stoke_in};

const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-config\ndata:\n  replicas: \"{{ values.replicas }}\"\n";
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ release.name }}-admin\nstringData:\n  password: {{ values.password }}\n";
const EXTRA: &str = "{% if values.extra %}apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ release.name }}-extra\n{% endif %}";
const FAIL: &str = "{% if values.fail %}{{ fail(message=\"asked to fail\") }}{% endif %}";

fn gitops_chart(root: &Path) -> PathBuf {
    chart(
        root,
        "gw",
        &[
            (
                "values.yaml",
                "replicas: 1\npassword: s3cret\nextra: false\nfail: false\n",
            ),
            ("templates/config.yaml", CONFIG),
            ("templates/secret.yaml", SECRET),
            ("templates/extra.yaml", EXTRA),
            ("templates/fail.yaml", FAIL),
        ],
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_managed_list_naming_files_outside_the_folder_is_refused_and_nothing_outside_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gitops_chart(tmp.path());
    let c = c.to_str().unwrap();
    stoke_in(tmp.path(), &["install", "gw", c, "--output-dir", "out"]).expect(0);
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let managed = tmp.path().join("out/default/gw/.stoke-managed");
    for bad in [
        "../../../victim.txt",
        victim.to_str().unwrap(),
        "sub/x.yaml",
    ] {
        std::fs::write(&managed, format!("configmap-gw-config.yaml\n{bad}\n")).unwrap();
        for args in [
            &["uninstall", "gw", "--output-dir", "out"][..],
            &[
                "upgrade",
                "gw",
                c,
                "--set",
                "replicas=2",
                "--output-dir",
                "out",
            ][..],
        ] {
            let r = stoke_in(tmp.path(), args).expect(1);
            assert!(r.stderr.contains(".stoke-managed"), "{}", r.stderr);
            assert!(r.stderr.contains("line 2"), "{}", r.stderr);
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        }
    }
}

#[test]
fn template_output_never_follows_links_and_keeps_secrets_private() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gitops_chart(tmp.path());
    let c = c.to_str().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("gw/templates")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("gw/templates/secret.yaml")).unwrap();
    stoke_in(tmp.path(), &["template", "gw", c, "--output-dir", "out"]).expect(0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let secret = out.join("gw/templates/secret.yaml");
    assert!(std::fs::symlink_metadata(&secret).unwrap().is_file());
    assert_eq!(mode(&secret), 0o600, "Secrets are private");
    assert_eq!(mode(&out.join("gw/templates/config.yaml")) & 0o600, 0o600);

    // A folder replaced by a link to elsewhere is refused, naming the link.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    std::os::unix::fs::symlink(&elsewhere, fresh.join("gw")).unwrap();
    let r = stoke_in(tmp.path(), &["template", "gw", c, "--output-dir", "fresh"]).expect(1);
    assert!(
        r.stderr.contains("fresh/gw") && r.stderr.contains("symbolic link"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // New folders are private.
    stoke_in(tmp.path(), &["template", "gw", c, "--output-dir", "new"]).expect(0);
    assert_eq!(mode(&tmp.path().join("new/gw/templates")), 0o700);
}

#[test]
fn the_gitops_target_refuses_links_and_writes_secrets_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gitops_chart(tmp.path());
    let c = c.to_str().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("gw")).unwrap();
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, tmp.path().join("out/default")).unwrap();
    let r = stoke_in(tmp.path(), &["install", "gw", c, "--output-dir", "out"]).expect(1);
    assert!(
        r.stderr.contains("out/default") && r.stderr.contains("symbolic link"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(elsewhere.join("gw")).unwrap().count(), 0);

    std::fs::remove_file(tmp.path().join("out/default")).unwrap();
    stoke_in(tmp.path(), &["install", "gw", c, "--output-dir", "out"]).expect(0);
    let dir = tmp.path().join("out/default/gw");
    assert_eq!(mode(&dir.join("secret-gw-admin.yaml")), 0o600);
    assert_eq!(mode(&dir), 0o700);
}

fn folder(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_crash_half_way_through_the_folder_is_repaired_by_the_next_operation_even_a_failing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gitops_chart(tmp.path());
    let c = c.to_str().unwrap();
    stoke_in(tmp.path(), &["install", "gw", c, "--output-dir", "out"]).expect(0);
    let dir = tmp.path().join("out/default/gw");
    let good = folder(&dir);
    // Cut the upgrade after its journal and two of its files: the folder now mixes
    // revisions and holds a Service the deployed revision does not have.
    for nth in 2..=3 {
        let r = common::stoke_command(tmp.path())
            .args([
                "upgrade",
                "gw",
                c,
                "--set",
                "replicas=5",
                "--set",
                "extra=true",
            ])
            .args(["--output-dir", "out"])
            .current_dir(tmp.path())
            .env("STOKE_STORE", tmp.path().join(".stoke-store"))
            .env("STOKE_FAILPOINT", format!("outdir-before-rename@{nth}"))
            .output()
            .unwrap();
        assert_eq!(
            r.status.code(),
            Some(86),
            "crash {nth}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert_ne!(folder(&dir), good, "the crash left the folder half-written");
        // The next operation fails (its render throws), yet the folder is repaired first.
        let r = stoke_in(
            tmp.path(),
            &[
                "upgrade",
                "gw",
                c,
                "--set",
                "fail=true",
                "--output-dir",
                "out",
            ],
        )
        .expect(1);
        assert!(r.stderr.contains("asked to fail"), "{}", r.stderr);
        assert_eq!(folder(&dir), good, "after crash {nth}");
    }
}
