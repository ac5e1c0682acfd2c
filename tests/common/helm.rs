//! Real Helm for differential tests, through PyPI's helm-python-sdk (Helm's own Go code
//! behind a Python module): a test writes a short Python snippet that drives Helm and
//! prints JSON, and compares that with what stoke printed. Call
//! `require_tool("helm")` first.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Helm, confined to `dir`: its HOME and Helm's config, cache and data folders live
/// there, so nothing of the developer's Helm set-up is read or changed.
pub struct Helm {
    dir: PathBuf,
    env: Vec<(String, PathBuf)>,
    prelude: String,
}

impl Helm {
    /// Helm working in (and keeping its state under) `dir`.
    pub fn in_dir(dir: &Path) -> Helm {
        Helm {
            dir: dir.to_path_buf(),
            env: Vec::new(),
            prelude: String::new(),
        }
    }

    /// Adds `key=value` to the environment of every script (e.g. SSL_CERT_FILE).
    pub fn env(mut self, key: &str, value: &Path) -> Helm {
        self.env.push((key.to_string(), value.to_path_buf()));
        self
    }

    /// Python lines run before every script (after the imports), e.g. `cfg = "..."`.
    pub fn prelude(mut self, lines: &str) -> Helm {
        self.prelude = lines.to_string();
        self
    }

    /// Runs `script` with `helm_python` imported as `h` (and `json`, `sys`); returns the
    /// JSON it printed, or Helm's error text.
    pub fn try_run(&self, script: &str) -> Result<serde_json::Value, String> {
        let full = format!(
            "import helm_python as h, json, sys\n{}\n{script}\n",
            self.prelude
        );
        let mut cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(full)
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("HELM_CACHE_HOME", self.dir.join("helm-cache"))
            .env("HELM_CONFIG_HOME", self.dir.join("helm-config"))
            .env("HELM_DATA_HOME", self.dir.join("helm-data"))
            .env_remove("KUBECONFIG")
            .env_remove("HELM_REGISTRY_CONFIG")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "helm script printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// [`Helm::try_run`], panicking with the script and Helm's error when it fails.
    #[track_caller]
    pub fn run(&self, script: &str) -> serde_json::Value {
        match self.try_run(script) {
            Ok(v) => v,
            Err(e) => panic!("helm script failed:\n{script}\n{e}"),
        }
    }
}

/// Compares what Helm and stoke produced for the same input, naming `what` and showing
/// both sides when they differ.
#[track_caller]
pub fn assert_same(what: &str, helm: &serde_json::Value, stoke: &serde_json::Value) {
    if helm != stoke {
        panic!(
            "{what}: stoke differs from Helm\n--- helm\n{}\n--- stoke\n{}",
            serde_json::to_string_pretty(helm).unwrap(),
            serde_json::to_string_pretty(stoke).unwrap()
        );
    }
}
