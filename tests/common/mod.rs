//! Helpers shared by the integration tests: fixture charts in temporary folders and a
//! runner for the built `stoke` binary.
#![allow(dead_code)]

pub mod kube;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
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

/// Runs `stoke` with `args` in `cwd`, with a private store and no colour.
pub fn stoke_in(cwd: &Path, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_stoke"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("STOKE_STORE", cwd.join(".stoke-store"))
        .env("XDG_CONFIG_HOME", cwd.join(".config"))
        .env("XDG_CACHE_HOME", cwd.join(".cache"))
        .env("XDG_DATA_HOME", cwd.join(".data"))
        .stdin(Stdio::null())
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
