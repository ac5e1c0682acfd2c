//! Rendered manifests of the shipped charts against the Kubernetes and cert-manager schemas:
//! `kubernetes-validate --strict` (PyPI) for Kubernetes 1.29 and for the newest version it
//! ships, and tests/validate/cert-manager.js (npm @kubernetes-models/cert-manager) for the
//! cert-manager resources. `.ci/install-test-deps` installs both tools; without them the test
//! fails under CI and is skipped, with a notice, elsewhere.

mod common;

use common::tools::require_tools;
use common::{COMBINATIONS, repo};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Both validators: kubernetes-validate and node with the cert-manager models.
fn tools_or_skip() -> bool {
    require_tools(&["kubernetes-validate", "cert-manager-schemas"])
}

/// Renders every combination into its own folder; returns the manifest files.
fn render_all(out: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (i, (chart, values)) in COMBINATIONS.iter().enumerate() {
        let dir = out.join(i.to_string());
        let dir_arg = dir.display().to_string();
        common::stoke_in(
            &repo(),
            &[
                "template",
                "site",
                chart,
                "-f",
                values,
                "--output-dir",
                &dir_arg,
            ],
        )
        .expect(0);
        collect(&dir, &mut files);
    }
    assert!(files.len() > 20, "rendered only {} files", files.len());
    files
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn rendered_core_resources_pass_strict_kubernetes_validation() {
    if !tools_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let files = render_all(tmp.path());
    // 1.29 is the oldest Kubernetes the charts support; no -k means the newest one shipped.
    for version in [Some("1.29.0"), None] {
        let mut cmd = Command::new("kubernetes-validate");
        cmd.arg("--strict").arg("--quiet");
        if let Some(v) = version {
            cmd.args(["-k", v]);
        }
        let out = cmd.args(&files).output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        // cert-manager kinds have no Kubernetes schema; they are checked below.
        let problems: Vec<&str> = report
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !(l.contains("Couldn't find schema") && l.contains("cert-manager.io")))
            .collect();
        assert!(
            out.status.success() && problems.is_empty(),
            "kubernetes {}: {}",
            version.unwrap_or("newest"),
            problems.join("\n")
        );
    }
}

#[test]
fn rendered_cert_manager_resources_match_cert_manager_schemas() {
    if !tools_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let files = render_all(tmp.path());
    let out = Command::new("node")
        .arg(repo().join("tests/validate/cert-manager.js"))
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let valid: usize = stdout
        .split("documents: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        valid >= 10,
        "only {valid} cert-manager documents were checked"
    );
}
