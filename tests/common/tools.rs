//! Outside programs some tests need (real Helm, a registry, gpg, schema validators), and
//! the one rule for when one is missing: in CI the test fails, elsewhere it is skipped
//! with a notice on the terminal that says what to install.
//!
//! ```ignore
//! if !require_tool("helm") { return; }
//! ```

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// True when the tests run in CI: `CI` is set to anything but an empty string, `0` or
/// `false` (CI services set `CI=true`; some set `CI=1`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE"))
}

/// Whether `name` can be used, by name:
///
/// - `helm`: python3 importing helm-python-sdk (real Helm's Go code); setting
///   `STOKE_SKIP_HELM_DIFF=1` counts as missing, so it too fails in CI;
/// - `cert-manager-schemas`: node plus tests/validate/node_modules (npm install there);
/// - anything else: an executable of that name on PATH.
///
/// When it cannot, the test fails under CI ([`in_ci`]); otherwise this prints a notice
/// straight to the terminal (past the test harness's capture, so a skip is never silent)
/// and returns false, and the test returns early.
#[track_caller]
#[must_use = "return from the test when the tool is missing"]
pub fn require_tool(name: &str) -> bool {
    let Err(why) = probe(name) else {
        return true;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    let install = install_hint(name);
    if in_ci() {
        panic!("{test} needs {name}, which is missing in CI: {why} ({install})");
    }
    // Written to the process's stderr directly: libtest captures only the print macros,
    // and a skip must be seen.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test}: {name} is missing ({why}); {install}. Under CI=true this fails."
    );
    false
}

/// [`require_tool`] for each of `names`, checking all of them (so one notice names every
/// missing tool) and true only when every one is there.
#[track_caller]
#[must_use = "return from the test when a tool is missing"]
pub fn require_tools(names: &[&str]) -> bool {
    // Collected first: `all` would stop at the first missing tool and hide the others.
    let found: Vec<bool> = names.iter().map(|n| require_tool(n)).collect();
    found.into_iter().all(|ok| ok)
}

fn probe(name: &str) -> Result<(), String> {
    match name {
        "helm" => {
            if std::env::var("STOKE_SKIP_HELM_DIFF").as_deref() == Ok("1") {
                return Err("STOKE_SKIP_HELM_DIFF=1".into());
            }
            let ok = Command::new("python3")
                .args(["-c", "import helm_python"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            ok.then_some(())
                .ok_or_else(|| "python3 cannot import helm_python".into())
        }
        "cert-manager-schemas" => {
            on_path("node")?;
            let models = super::repo().join("tests/validate/node_modules/@kubernetes-models");
            models
                .join("cert-manager")
                .is_dir()
                .then_some(())
                .ok_or_else(|| format!("{} is missing", models.display()))
        }
        program => on_path(program),
    }
}

/// Finds `program` as an executable file in one of PATH's folders.
fn on_path(program: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| {
        let candidate = Path::new(&dir).join(program);
        candidate
            .metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    });
    found
        .then_some(())
        .ok_or_else(|| format!("`{program}` is not on PATH"))
}

fn install_hint(name: &str) -> &'static str {
    match name {
        "helm" => "run .ci/install-test-deps (pip install helm-python-sdk)",
        "cert-manager-schemas" => "run .ci/install-test-deps (npm install in tests/validate)",
        _ => "run .ci/install-test-deps",
    }
}
