//! The human output of the main commands, byte for byte, against tests/golden/*.txt (as
//! Helm keeps pkg/cmd/testdata/output): a change to what people read is a reviewed change
//! to a golden file. Times, temporary paths and stoke's version are normalised first
//! (tests/common/golden.rs). After an intended change, regenerate with
//! `STOKE_UPDATE_GOLDEN=1 cargo test --test cli_golden` and review the diff.

mod common;

use std::path::Path;

use common::golden::{assert_golden, transcript};
use common::{Run, stoke_command};

/// A chart with nothing random in it (no generated passwords), so every render is the same.
fn write_chart(root: &Path) {
    common::write_files(
        root,
        &[
            (
                "chart/Chart.yaml",
                "apiVersion: v2\nname: gateway\nversion: 1.0.0\nappVersion: \"8.1.40\"\ndescription: An Ignition gateway\n",
            ),
            (
                "chart/values.yaml",
                "replicas: 1\nedition: standard\nextra: false\nadmin:\n  password: changeme\n",
            ),
            (
                "chart/templates/config.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-config\ndata:\n  replicas: \"{{ values.replicas }}\"\n  edition: \"{{ values.edition }}\"\n",
            ),
            (
                "chart/templates/secret.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ release.name }}-admin\ntype: Opaque\nstringData:\n  password: \"{{ values.admin.password }}\"\n",
            ),
            (
                "chart/templates/extra.yaml",
                "{% if values.extra %}apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ release.name }}-extra\nspec:\n  ports:\n    - port: 8088\n{% endif %}",
            ),
            (
                "chart/templates/NOTES.txt",
                "Gateway {{ release.name }} revision {{ release.revision }} ({{ values.edition }} edition)\n",
            ),
        ],
    );
}

/// A folder with the chart and a store of its own.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        write_chart(dir.path());
        Site { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        stoke_command(self.root())
            .args(args)
            .env("STOKE_STORE", self.root().join("store"))
            .env("XDG_CONFIG_HOME", self.root().join("config"))
            .env("XDG_CACHE_HOME", self.root().join("cache"))
            .env("STOKE_PROGRESS", "off")
            .output()
            .expect("stoke runs")
            .into()
    }

    /// Runs `args`, which must succeed, and compares what it printed with golden file
    /// `name`.
    #[track_caller]
    fn golden(&self, name: &str, args: &[&str]) {
        let run = self.run(args).ok();
        assert_golden(name, &transcript(&run), self.root());
    }
}

#[test]
fn lifecycle_commands_print_what_the_golden_files_show() {
    let site = Site::new();
    site.golden("install", &["install", "gw", "chart"]);
    site.golden(
        "upgrade",
        &["upgrade", "gw", "chart", "--set", "replicas=2,extra=true"],
    );
    site.golden("status", &["status", "gw"]);
    site.golden("history", &["history", "gw"]);
    site.golden("list", &["list"]);
    site.golden("get-values", &["get", "values", "gw"]);
    site.golden("get-values-all", &["get", "values", "gw", "--all"]);
    site.golden("diff-revision", &["diff", "revision", "gw", "1", "2"]);
    site.golden(
        "diff-upgrade",
        &[
            "diff",
            "upgrade",
            "gw",
            "chart",
            "--reuse-values",
            "--set",
            "edition=maker,admin.password=s3cret,extra=false",
        ],
    );
    site.golden("rollback", &["rollback", "gw", "1"]);
    site.golden("history-after-rollback", &["history", "gw"]);
    site.golden("uninstall", &["uninstall", "gw", "--keep-history"]);
    site.golden("list-all", &["list", "-a"]);
}

#[test]
fn lint_prints_what_the_golden_file_shows() {
    let site = Site::new();
    // No icon (information) and a folder named unlike the chart (a warning).
    common::write_files(
        site.root(),
        &[(
            "chart/templates/config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-config\ndata:\n  edition: \"{{ values.edition }}\"\n",
        )],
    );
    site.golden("lint", &["lint", "chart"]);
}

#[test]
fn template_with_notes_prints_what_the_golden_file_shows() {
    let site = Site::new();
    site.golden("template-notes", &["template", "gw", "chart", "--notes"]);
}

#[test]
fn version_prints_what_the_golden_file_shows() {
    let site = Site::new();
    site.golden("version", &["version"]);
}

/// The normalisation itself: what it hides and what it must keep (a hidden time keeps its
/// width, so table columns stay aligned).
#[test]
fn golden_normalisation_hides_times_paths_and_version_only() {
    let root = Path::new("/tmp/.tmpAbC123");
    let human = "2026-12-01 11:54:07 +0000 UTC";
    let text = format!(
        "LAST DEPLOYED: 2026-12-01T11:54:07.123Z\nat {human} in /tmp/.tmpAbC123/store\n{human}   deployed\nstoke v{} ({}/{})\nreplicas: 2   \n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let time = format!("{:<29}", "[TIME]");
    assert_eq!(
        common::golden::normalise(&text, root),
        format!(
            "LAST DEPLOYED: [TIME]\nat {time} in [TMP]/store\n{time}   deployed\nstoke v[VERSION] ([OS]/[ARCH])\nreplicas: 2\n"
        )
    );
}
