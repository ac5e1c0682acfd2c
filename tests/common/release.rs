//! Shared by the release_* integration tests: a small chart exercising the lifecycle
//! (a generated-once admin password kept through `lookup`, values, notes, an optional
//! resource) and a runner for the built binary with a private store.

use std::path::{Path, PathBuf};
use std::process::Command;

pub use super::Run;

/// A temporary folder with a chart (`chart/`) and a store (`store/`).
pub struct World {
    pub dir: tempfile::TempDir,
}

pub const CHART_YAML: &str =
    "apiVersion: v2\nname: gateway\nversion: 1.0.0\nappVersion: \"8.1.40\"\n";

pub const VALUES: &str = "replicas: 1\nedition: standard\nextra: false\n";

pub const SECRET: &str = r#"{% set existing = lookup(api_version="v1", kind="Secret", namespace=release.namespace, name=release.name ~ "-admin") %}
apiVersion: v1
kind: Secret
metadata:
  name: {{ release.name }}-admin
type: Opaque
data:
{% if has_key(map=existing, key="data") %}  password: {{ existing.data.password }}
{% else %}  password: {{ rand_alphanumeric(length=20) | b64encode }}
{% endif %}"#;

pub const CONFIG: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-config
data:
  replicas: "{{ values.replicas }}"
  edition: "{{ values.edition }}"
"#;

pub const EXTRA: &str = r#"{% if values.extra %}apiVersion: v1
kind: Service
metadata:
  name: {{ release.name }}-extra
spec:
  ports:
    - port: 8088
{% endif %}"#;

pub const NOTES: &str =
    "Gateway {{ release.name }} revision {{ release.revision }} ({{ values.edition }})\n";

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let w = World { dir };
        w.write_chart("1.0.0");
        w
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.path().join("store")
    }

    pub fn chart(&self) -> String {
        self.path().join("chart").display().to_string()
    }

    /// (Re)writes the chart with the given version.
    pub fn write_chart(&self, version: &str) {
        let c = self.path().join("chart");
        std::fs::create_dir_all(c.join("templates")).unwrap();
        std::fs::write(c.join("Chart.yaml"), CHART_YAML.replace("1.0.0", version)).unwrap();
        std::fs::write(c.join("values.yaml"), VALUES).unwrap();
        std::fs::write(c.join("templates/secret.yaml"), SECRET).unwrap();
        std::fs::write(c.join("templates/config.yaml"), CONFIG).unwrap();
        std::fs::write(c.join("templates/extra.yaml"), EXTRA).unwrap();
        std::fs::write(c.join("templates/NOTES.txt"), NOTES).unwrap();
    }

    /// Writes a values file and returns its path.
    pub fn values(&self, name: &str, text: &str) -> String {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = super::stoke_command(self.path());
        c.args(args).env("STOKE_STORE", self.store());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("stoke runs").into()
    }

    /// (revision, status, description) of every revision.
    pub fn history(&self, release: &str) -> Vec<(u64, String, String)> {
        history_rows(&self.run(&["history", release, "-o", "json", "--max", "0"]))
    }
}

/// (revision, status, description) of every revision in a successful
/// `stoke history RELEASE -o json`.
pub fn history_rows(history: &Run) -> Vec<(u64, String, String)> {
    assert_eq!(history.code, 0, "history failed: {}", history.stderr);
    let h = history.json();
    h.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_string(),
                r["description"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Checks a history (as [`history_rows`] gives it) ends in its one deployed revision and
/// holds no revision still in flight.
#[track_caller]
pub fn assert_one_deployed_at_the_top(h: &[(u64, String, String)]) {
    let deployed: Vec<u64> = h
        .iter()
        .filter(|r| r.1 == "deployed")
        .map(|r| r.0)
        .collect();
    assert_eq!(deployed, [h.last().unwrap().0], "{h:?}");
    assert!(
        h.iter()
            .all(|r| matches!(r.1.as_str(), "deployed" | "superseded" | "failed")),
        "{h:?}"
    );
}

/// Checks the store's invariants through the library: every record parses, each live
/// release has exactly one deployed revision (its head's), and no temporary file is left
/// once an operation has run since the last crash.
pub fn check_store(store: &Path, release: &str) -> Vec<u64> {
    use stoke::storage::Store;
    let s = stoke::storage::file::FileStore::open(store).expect("store opens");
    let key = stoke::record::ReleaseKey::new("default", release).unwrap();
    let numbers = s.revision_numbers(&key).unwrap();
    for n in &numbers {
        s.revision(&key, *n)
            .unwrap_or_else(|e| panic!("revision {n} unreadable: {e:#}"))
            .expect("listed revision exists");
    }
    if let Some(head) = s.head(&key).expect("head loads") {
        assert_eq!(
            Some(&head.latest),
            numbers.last(),
            "head points at the latest revision"
        );
    }
    numbers
}
