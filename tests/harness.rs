//! The test harness keeps its promises: a missing tool fails a test under CI and is
//! skipped with a notice elsewhere, a golden mismatch fails with a diff, and the binary
//! never sees the developer's cluster, store or HOME.

mod common;

use std::process::Command;

use common::golden::assert_golden_in;
use common::{require_tool, stoke_command};

/// Not run on its own: the tests below run it in a child process with and without CI.
#[test]
#[ignore = "run by require_tool_fails_in_ci_and_skips_loudly_elsewhere"]
fn needs_a_tool_that_does_not_exist() {
    if !require_tool("stoke-no-such-tool-0x5f3759df") {
        return;
    }
    unreachable!("the tool cannot exist");
}

fn run_inner(ci: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "needs_a_tool_that_does_not_exist",
        "--test-threads=1",
    ]);
    match ci {
        Some(v) => cmd.env("CI", v),
        None => cmd.env_remove("CI"),
    };
    cmd.output().unwrap()
}

#[test]
fn require_tool_fails_in_ci_and_skips_loudly_elsewhere() {
    let ci = run_inner(Some("true"));
    let text =
        String::from_utf8_lossy(&ci.stdout).into_owned() + &String::from_utf8_lossy(&ci.stderr);
    assert!(
        !ci.status.success(),
        "under CI=true a missing tool must fail:\n{text}"
    );
    assert!(text.contains("missing in CI"), "{text}");

    let dev = run_inner(None);
    let text =
        String::from_utf8_lossy(&dev.stdout).into_owned() + &String::from_utf8_lossy(&dev.stderr);
    assert!(
        dev.status.success(),
        "outside CI a missing tool skips:\n{text}"
    );
    assert!(
        String::from_utf8_lossy(&dev.stderr).contains(
            "SKIPPED needs_a_tool_that_does_not_exist: stoke-no-such-tool-0x5f3759df is missing"
        ),
        "the skip is printed past the capture:\n{text}"
    );

    let off = run_inner(Some("false"));
    assert!(off.status.success(), "CI=false is not CI");
}

#[test]
fn a_tool_on_path_is_found() {
    assert!(require_tool("sh"));
}

#[test]
fn a_golden_mismatch_fails_with_a_diff_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.txt"),
        "NAME: gw\nREVISION: 1\nSTATUS: deployed\n",
    )
    .unwrap();
    assert_golden_in(
        dir.path(),
        "demo",
        "NAME: gw\nREVISION: 1\nSTATUS: deployed\n",
        dir.path(),
    );
    let failed = std::panic::catch_unwind(|| {
        assert_golden_in(
            dir.path(),
            "demo",
            "NAME: gw\nREVISION: 2\nSTATUS: deployed\n",
            dir.path(),
        )
    })
    .expect_err("a different output fails");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("tests/golden/demo.txt"), "{message}");
    assert!(message.contains("-REVISION: 1\n+REVISION: 2"), "{message}");
    assert!(message.contains("STOKE_UPDATE_GOLDEN=1"), "{message}");
}

/// Not run on its own: run by the test below in a child process whose environment holds
/// a developer's settings.
#[test]
#[ignore = "run by the_binary_never_sees_the_developers_cluster_store_or_home"]
fn reports_what_the_binary_sees() {
    let dir = tempfile::tempdir().unwrap();
    let run: common::Run = stoke_command(dir.path())
        .args(["env", "-o", "json"])
        .output()
        .unwrap()
        .into();
    let vars = run.ok().json();
    let home = common::scratch_home().display().to_string();
    assert_eq!(vars["KUBECONFIG"], "", "{vars}");
    for key in [
        "STOKE_STORE",
        "STOKE_REPOSITORY_CONFIG",
        "STOKE_REPOSITORY_CACHE",
    ] {
        let value = vars[key].as_str().unwrap();
        assert!(
            value.starts_with(&home),
            "{key}={value} is not under the scratch HOME {home}"
        );
    }
}

/// With KUBECONFIG, a store, repository files and XDG folders set by the developer's
/// shell, the binary run through the harness sees none of them: its settings all come
/// from the scratch HOME.
#[test]
fn the_binary_never_sees_the_developers_cluster_store_or_home() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "reports_what_the_binary_sees"])
        .env("KUBECONFIG", "/home/dev/.kube/prod")
        .env("STOKE_STORE", "postgres://prod-db/stoke")
        .env("STOKE_REPOSITORY_CONFIG", "/home/dev/repos.yaml")
        .env("XDG_DATA_HOME", "/home/dev/.local/share")
        .env("XDG_CONFIG_HOME", "/home/dev/.config")
        .env("HOME", "/home/dev")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the inner test ran"
    );
}
