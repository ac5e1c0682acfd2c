//! The one harness every integration test uses: a runner for the built `stoke` binary in
//! an environment scrubbed of the developer's own settings, assertions that print what was
//! seen, [`require_tool`] for tests that need an outside program, the differential helper
//! for real Helm ([`helm`]), golden files for human output ([`golden`]), and the fixtures
//! of each test family (lifecycle [`release`], packaging [`package`], distribution
//! [`dist`], stores [`store`], a real API server [`kube`], PostgreSQL [`postgres`]).
//!
//! A test file says `mod common;` and uses what it needs; see tests/README.md.
#![allow(dead_code)]

pub mod dist;
pub mod golden;
pub mod helm;
pub mod kube;
pub mod package;
pub mod postgres;
pub mod release;
pub mod store;
pub mod tools;

pub use tools::require_tool;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Writes `files` (relative path, contents) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A chart named `name` under `root` with the given extra files.
pub fn chart(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    let chart_yaml = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\n");
    write_files(&dir, &[("Chart.yaml", chart_yaml.as_str())]);
    write_files(&dir, files);
    dir
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics with both streams unless the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics with both streams unless the run failed with exit status 1.
    #[track_caller]
    pub fn fails(self) -> Self {
        assert_eq!(
            self.code, 1,
            "expected failure\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Stdout parsed as JSON; panics with the text when it is not JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }

    /// Panics with both streams unless stdout contains every one of `needles`.
    #[track_caller]
    pub fn stdout_has(self, needles: &[&str]) -> Self {
        for n in needles {
            assert_contains(&self.stdout, n);
        }
        self
    }

    /// Panics with both streams unless stderr contains every one of `needles`.
    #[track_caller]
    pub fn stderr_has(self, needles: &[&str]) -> Self {
        for n in needles {
            assert_contains(&self.stderr, n);
        }
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Panics, showing the whole text, unless `text` contains `needle`.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(
        text.contains(needle),
        "expected to find {needle:?} in:\n{text}"
    );
}

/// Panics, showing the whole text, when `text` contains `needle`.
#[track_caller]
pub fn assert_lacks(text: &str, needle: &str) {
    assert!(
        !text.contains(needle),
        "did not expect {needle:?} in:\n{text}"
    );
}

/// Variables of the developer's shell that would point the binary at their own cluster,
/// database, registry credentials or configuration; [`isolate`] removes them, together
/// with every `STOKE_*` variable. A test that needs one sets it on the command.
pub const LEAKY_ENV: &[&str] = &[
    "KUBECONFIG",
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
    "HELM_CONFIG_HOME",
    "HELM_CACHE_HOME",
    "HELM_DATA_HOME",
    "HELM_REGISTRY_CONFIG",
    "HELM_REPOSITORY_CONFIG",
    "HELM_REPOSITORY_CACHE",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "PGPASSFILE",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "CLICOLOR_FORCE",
];

/// A HOME of this test process's own (empty, deleted with /tmp), so no `~/.kube/config`,
/// `~/.config` or `~/.local/share/stoke` of the developer is ever read.
pub fn scratch_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("stoke-test-home-")
            .tempdir()
            .expect("a temporary HOME")
    })
    .path()
}

/// Scrubs `cmd`'s environment: every `STOKE_*` variable and [`LEAKY_ENV`] removed, HOME
/// set to [`scratch_home`], colour off. Variables set on `cmd` afterwards win.
pub fn isolate(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && (k.starts_with("STOKE_") || LEAKY_ENV.contains(&k))
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", scratch_home()).env("NO_COLOR", "1")
}

/// The built binary, run in `cwd` with an [`isolate`]d environment and no stdin; the
/// caller adds arguments and whatever environment the test is about.
pub fn stoke_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stoke"));
    isolate(&mut cmd);
    cmd.current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `stoke` with `args` in `cwd`: a store, configuration, cache and data folder under
/// `cwd` (under the scratch HOME when `cwd` is the repository itself, which tests never
/// write to), the scratch HOME, no colour, nothing of the developer's environment.
pub fn stoke_in(cwd: &Path, args: &[&str]) -> Run {
    let state = if cwd == repo() { scratch_home() } else { cwd };
    stoke_command(cwd)
        .args(args)
        .env("STOKE_STORE", state.join(".stoke-store"))
        .env("XDG_CONFIG_HOME", state.join(".config"))
        .env("XDG_CACHE_HOME", state.join(".cache"))
        .env("XDG_DATA_HOME", state.join(".data"))
        .output()
        .expect("the stoke binary runs")
        .into()
}

/// Parses a multi-document YAML stream into its documents.
pub fn documents(text: &str) -> Vec<serde_yaml::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// The repository root, where charts/ and values/ live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (chart, values file) pairs shipped to be used together; every chart test covers each.
pub const COMBINATIONS: &[(&str, &str)] = &[
    ("charts/ignition", "values/dev.yaml"),
    ("charts/ignition", "values/redundant.yaml"),
    ("charts/ignition", "values/edge.yaml"),
    ("charts/ignition-scaleout", "values/scaleout.yaml"),
    ("charts/ignition-scaleout", "values/scaleout-eks.yaml"),
];

/// A small deterministic generator, so a failing run can be replayed from its seed.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `bound`.
    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}
