//! What Helm users type by habit either works as in Helm or fails with a hint naming the
//! stoke way (docs/helm-users.md lists each one).

mod common;

use std::path::{Path, PathBuf};

use common::{Run, stoke_in};
use serde_json::Value;

const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-cm\ndata:\n  replicas: \"{{ values.replicas }}\"\n";
const SCHEMA: &str = r#"{"type":"object","properties":{"replicas":{"type":"integer"}}}"#;

/// A small chart with a schema, in a fresh folder that also holds the store.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let chart = common::chart(
        dir.path(),
        "demo",
        &[
            ("values.yaml", "replicas: 1\n"),
            ("values.schema.json", SCHEMA),
            ("templates/cm.yaml", TEMPLATE),
        ],
    );
    (dir, chart)
}

fn run(dir: &Path, args: &[&str]) -> Run {
    stoke_in(dir, args)
}

fn json(run: Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn version_prints_the_crate_version_and_json_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let v = env!("CARGO_PKG_VERSION");
    let out = run(dir.path(), &["version"]).expect(0);
    assert!(
        out.stdout.starts_with(&format!("stoke v{v} ")),
        "{}",
        out.stdout
    );
    let short = run(dir.path(), &["version", "--short"]).expect(0);
    assert_eq!(short.stdout.trim(), format!("v{v}"));
    let j = json(run(dir.path(), &["version", "-o", "json"]).expect(0));
    assert_eq!(j["version"], v);
    assert!(j["target_os"].is_string() && j["target_arch"].is_string());
}

#[test]
fn template_without_a_release_name_renders_as_release_name() {
    let (dir, chart) = setup();
    let out = run(dir.path(), &["template", chart.to_str().unwrap()]).expect(0);
    assert!(
        out.stdout.contains("name: release-name-cm"),
        "{}",
        out.stdout
    );
    let named = run(dir.path(), &["template", "gw", chart.to_str().unwrap()]).expect(0);
    assert!(named.stdout.contains("name: gw-cm"));
    let generated = run(dir.path(), &["template", "-g", chart.to_str().unwrap()]).expect(0);
    assert!(
        generated.stdout.contains("name: demo-1"),
        "{}",
        generated.stdout
    );
}

#[test]
fn install_makes_a_name_with_generate_name_or_name_template() {
    let (dir, chart) = setup();
    let c = chart.to_str().unwrap();
    let refused = run(dir.path(), &["install", c]).expect(1);
    assert!(
        refused.stderr.contains("--generate-name"),
        "{}",
        refused.stderr
    );
    run(dir.path(), &["install", "--generate-name", c]).expect(0);
    run(
        dir.path(),
        &[
            "install",
            c,
            "--name-template",
            "gw-{{ rand_alpha(length=5) | lower }}",
        ],
    )
    .expect(0);
    let names = run(dir.path(), &["list", "-q"]).expect(0).stdout;
    let names = lines(&names);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("demo-")), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("gw-") && n.len() == 8),
        "{names:?}"
    );
    let go = run(
        dir.path(),
        &[
            "install",
            c,
            "--name-template",
            "gw-{{randAlpha 5 | lower}}",
        ],
    )
    .expect(1);
    assert!(go.stderr.contains("rand_alpha(length=N)"), "{}", go.stderr);
    let both = run(dir.path(), &["install", "gw", c, "--generate-name"]).expect(1);
    assert!(both.stderr.contains("one or the other"), "{}", both.stderr);
    // As in Helm, --name-template with --generate-name makes the name from the template.
    run(
        dir.path(),
        &[
            "install",
            c,
            "--generate-name",
            "--name-template",
            "tpl-{{ rand_alpha(length=4) | lower }}",
        ],
    )
    .expect(0);
    let names = run(dir.path(), &["list", "-q"]).expect(0).stdout;
    assert!(
        lines(&names)
            .iter()
            .any(|n| n.starts_with("tpl-") && n.len() == 8),
        "{names}"
    );
}

/// A record-only install (no cluster, no --output-dir) must not claim a deployment or hand
/// out advice for a running release; it says where the record went and how to deploy.
#[test]
fn a_record_only_install_says_it_deployed_nothing() {
    let (dir, chart) = setup();
    let c = chart.to_str().unwrap();
    let out = run(dir.path(), &["install", "gw", c]).expect(0).stdout;
    assert!(!out.contains("STATUS: deployed"), "{out}");
    assert!(!out.contains("LAST DEPLOYED"), "{out}");
    assert!(
        out.contains("STATUS: recorded only, not deployed (no cluster is configured)"),
        "{out}"
    );
    assert!(out.contains("To deploy, configure a cluster"), "{out}");
    assert!(out.contains("no cluster configured"), "{out}");
    let up = run(dir.path(), &["upgrade", "gw", c]).expect(0).stdout;
    assert!(!up.contains("STATUS: deployed"), "{up}");
    let back = run(dir.path(), &["rollback", "gw", "1"]).expect(0).stdout;
    assert!(!back.contains("is deployed"), "{back}");
    assert!(back.contains("recorded only"), "{back}");
    let folder = dir.path().join("gitops");
    let written = run(
        dir.path(),
        &["upgrade", "gw", c, "--output-dir", folder.to_str().unwrap()],
    )
    .expect(0)
    .stdout;
    assert!(written.contains("STATUS: deployed"), "{written}");
    assert!(written.contains("applied to"), "{written}");
}

/// Installs `a`, `b`, `c` in that order (so their times order them too), with labels.
fn three_releases(dir: &Path, chart: &Path) {
    let c = chart.to_str().unwrap();
    for (name, labels) in [
        ("b", "site=plant-1,tier=edge"),
        ("a", "site=plant-2"),
        ("c", "tier=edge"),
    ] {
        run(dir, &["install", name, c, "--labels", labels]).expect(0);
        // Record times have millisecond resolution; keep the installs apart.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn list_orders_pages_and_prints_as_helm_does() {
    let (dir, chart) = setup();
    three_releases(dir.path(), &chart);
    let q = |args: &[&str]| {
        let mut all = vec!["ls", "-q"];
        all.extend_from_slice(args);
        run(dir.path(), &all).expect(0).stdout
    };
    assert_eq!(q(&[]), "a\nb\nc\n");
    assert_eq!(q(&["-r"]), "c\nb\na\n");
    assert_eq!(q(&["-d"]), "b\na\nc\n");
    assert_eq!(q(&["-d", "-r"]), "c\na\nb\n");
    assert_eq!(q(&["--max", "2"]), "a\nb\n");
    assert_eq!(q(&["--offset", "1", "--max", "1"]), "b\n");
    assert_eq!(q(&["-f", "^[ab]$"]), "a\nb\n");

    let table = run(dir.path(), &["list"]).expect(0).stdout;
    assert!(table.starts_with("NAME"), "{table}");
    let bare = run(dir.path(), &["list", "--no-headers"]).expect(0).stdout;
    assert_eq!(lines(&bare).len(), 3, "{bare}");
    assert!(bare.starts_with("a "), "{bare}");
    let timed = run(
        dir.path(),
        &["list", "--no-headers", "--time-format", "2006/01/02"],
    )
    .expect(0)
    .stdout;
    let year = lines(&timed)[0]
        .split_whitespace()
        .nth(3)
        .unwrap()
        .to_string();
    assert!(
        year.len() == 10 && year.as_bytes()[4] == b'/' && year.as_bytes()[7] == b'/',
        "{timed}"
    );
    let strftime = run(dir.path(), &["list", "--time-format", "%Y-%m-%d"]).expect(1);
    assert!(
        strftime.stderr.contains("2006-01-02"),
        "{}",
        strftime.stderr
    );
}

#[test]
fn list_filters_by_status_as_helm_does() {
    let (dir, chart) = setup();
    three_releases(dir.path(), &chart);
    run(dir.path(), &["uninstall", "c", "--keep-history"]).expect(0);
    let q = |args: &[&str]| {
        let mut all = vec!["list", "-q"];
        all.extend_from_slice(args);
        run(dir.path(), &all).expect(0).stdout
    };
    assert_eq!(q(&[]), "a\nb\n", "by default: deployed and failed");
    assert_eq!(q(&["--uninstalled"]), "c\n");
    assert_eq!(q(&["--deployed", "--uninstalled"]), "a\nb\nc\n");
    assert_eq!(q(&["--failed"]), "");
    assert_eq!(q(&["--pending"]), "");
    assert_eq!(q(&["--superseded"]), "");
    assert_eq!(q(&["-a"]), "a\nb\nc\n");
}

#[test]
fn labels_are_recorded_selected_with_l_and_merged_by_upgrade() {
    let (dir, chart) = setup();
    three_releases(dir.path(), &chart);
    let sel = |s: &str| run(dir.path(), &["list", "-q", "-l", s]).expect(0).stdout;
    assert_eq!(sel("tier=edge"), "b\nc\n");
    assert_eq!(sel("tier==edge,site=plant-1"), "b\n");
    assert_eq!(sel("site!=plant-1"), "a\nc\n");
    assert_eq!(sel("!site"), "c\n");
    assert_eq!(sel("site"), "a\nb\n");

    // Helm's upgrade merges labels; `null` removes one.
    run(
        dir.path(),
        &[
            "upgrade",
            "b",
            chart.to_str().unwrap(),
            "--labels",
            "tier=null,owner-team=ops",
        ],
    )
    .expect(0);
    let meta = json(run(dir.path(), &["get", "metadata", "b", "-o", "json"]).expect(0));
    assert_eq!(
        meta["labels"],
        serde_json::json!({"owner-team": "ops", "site": "plant-1"})
    );
    assert_eq!(sel("tier=edge"), "c\n");

    let reserved = run(
        dir.path(),
        &[
            "install",
            "d",
            chart.to_str().unwrap(),
            "--labels",
            "owner=me",
        ],
    )
    .expect(1);
    assert!(reserved.stderr.contains("reserved"), "{}", reserved.stderr);
    let set_based = run(dir.path(), &["list", "-l", "site in (a,b)"]).expect(1);
    assert!(
        set_based.stderr.contains("not supported"),
        "{}",
        set_based.stderr
    );
}

#[test]
fn get_metadata_shows_what_helm_shows() {
    let (dir, chart) = setup();
    run(
        dir.path(),
        &[
            "install",
            "gw",
            chart.to_str().unwrap(),
            "--labels",
            "site=x",
        ],
    )
    .expect(0);
    let table = run(dir.path(), &["get", "metadata", "gw"]).expect(0).stdout;
    for line in [
        "NAME: gw",
        "CHART: demo",
        "VERSION: 0.1.0",
        "APP_VERSION: 1.0",
        "NAMESPACE: default",
        "REVISION: 1",
        "STATUS: deployed",
        "LABELS: site=x",
    ] {
        assert!(table.contains(line), "{line} in\n{table}");
    }
    let j = json(run(dir.path(), &["get", "metadata", "gw", "-o", "json"]).expect(0));
    assert_eq!(j["name"], "gw");
    assert_eq!(j["revision"], 1);
    assert!(j["deployed_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn descriptions_are_recorded_on_every_action_and_history_max_keeps_the_newest() {
    let (dir, chart) = setup();
    let c = chart.to_str().unwrap();
    run(dir.path(), &["install", "gw", c, "--description", "first"]).expect(0);
    run(dir.path(), &["upgrade", "gw", c, "--description", "second"]).expect(0);
    run(
        dir.path(),
        &["rollback", "gw", "1", "--description", "back"],
    )
    .expect(0);
    let meta = json(run(dir.path(), &["get", "metadata", "gw", "-o", "json"]).expect(0));
    assert_eq!(meta["description"], "back");
    run(
        dir.path(),
        &["un", "gw", "--keep-history", "--description", "gone"],
    )
    .expect(0);
    let h = json(run(dir.path(), &["hist", "gw", "-o", "json"]).expect(0));
    let descriptions: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["description"].as_str().unwrap())
        .collect();
    assert_eq!(descriptions, ["first", "second", "gone"]);
    let newest = json(run(dir.path(), &["history", "gw", "--max", "1", "-o", "json"]).expect(0));
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["revision"], 3);
}

#[test]
fn uninstall_answers_to_helm_s_aliases() {
    let (dir, chart) = setup();
    let c = chart.to_str().unwrap();
    for alias in ["un", "delete", "del", "uninstall"] {
        run(dir.path(), &["install", "gw", c]).expect(0);
        run(dir.path(), &[alias, "gw"]).expect(0);
        assert_eq!(run(dir.path(), &["ls", "-q", "-a"]).expect(0).stdout, "");
    }
}

#[test]
fn skip_schema_validation_renders_values_the_schema_refuses() {
    let (dir, chart) = setup();
    let c = chart.to_str().unwrap();
    let refused = run(dir.path(), &["template", "gw", c, "--set", "replicas=many"]).expect(1);
    assert!(refused.stderr.contains("replicas"), "{}", refused.stderr);
    let out = run(
        dir.path(),
        &[
            "template",
            "gw",
            c,
            "--set",
            "replicas=many",
            "--skip-schema-validation",
        ],
    )
    .expect(0);
    assert!(out.stdout.contains("replicas: \"many\""), "{}", out.stdout);
    run(
        dir.path(),
        &[
            "install",
            "gw",
            c,
            "--set",
            "replicas=many",
            "--skip-schema-validation",
        ],
    )
    .expect(0);
}

#[test]
fn lint_with_subcharts_quiet_and_strict_says_which_warnings_failed_it() {
    let (dir, chart) = setup();
    common::chart(&chart.join("charts"), "sub", &[("values.yaml", "a: 1\n")]);
    let c = chart.to_str().unwrap();
    let plain = run(dir.path(), &["lint", c]).expect(0).stdout;
    assert!(plain.contains("1 chart(s) linted"), "{plain}");
    let with = run(dir.path(), &["lint", c, "--with-subcharts"])
        .expect(0)
        .stdout;
    assert!(with.contains("2 chart(s) linted"), "{with}");
    assert!(with.contains("charts/sub"), "{with}");
    let quiet = run(dir.path(), &["lint", c, "--with-subcharts", "--quiet"])
        .expect(0)
        .stdout;
    assert!(!quiet.contains("[INFO]"), "{quiet}");

    let strict = run(dir.path(), &["lint", c, "--strict", "--set", "replicaz=2"]).expect(1);
    assert!(
        strict.stdout.contains("failed only because --strict"),
        "{}",
        strict.stdout
    );
    assert!(
        strict.stdout.contains("  - ") && strict.stdout.contains("replicaz"),
        "{}",
        strict.stdout
    );
}

#[test]
fn env_lists_the_settings_and_prints_one_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let all = run(dir.path(), &["env"]).expect(0).stdout;
    let store = dir.path().join(".stoke-store");
    assert!(
        all.contains(&format!("STOKE_STORE={:?}", store.display().to_string())),
        "{all}"
    );
    assert!(all.contains("STOKE_REPOSITORY_CONFIG="), "{all}");
    let one = run(dir.path(), &["env", "STOKE_STORE"]).expect(0).stdout;
    assert_eq!(one.trim(), store.display().to_string());
    let j = json(run(dir.path(), &["env", "-o", "json"]).expect(0));
    assert_eq!(j["STOKE_VERSION"], env!("CARGO_PKG_VERSION"));
    let unknown = run(dir.path(), &["env", "HELM_BIN"]).expect(1);
    assert!(unknown.stderr.contains("STOKE_STORE"), "{}", unknown.stderr);
}

#[test]
fn helm_habits_stoke_lacks_get_a_hint_naming_the_stoke_way() {
    let dir = tempfile::tempdir().unwrap();
    // `stoke test` exists (it runs a release's test hooks in the cluster), so a Helm command
    // stoke lacks stands in: the hint names the built-in way, never a lookalike command.
    let plugin = run(dir.path(), &["plugin", "list"]).expect(2);
    assert!(
        plugin.stderr.contains("stoke diff upgrade|revision")
            && plugin.stderr.contains("stoke unittest"),
        "{}",
        plugin.stderr
    );
    assert!(!plugin.stderr.contains("template"), "{}", plugin.stderr);
    let debug = run(dir.path(), &["list", "--debug"]).expect(2);
    assert!(debug.stderr.contains("no --debug"), "{}", debug.stderr);
    // Anything else keeps clap's own message and suggestion.
    let typo = run(dir.path(), &["lisst"]).expect(2);
    assert!(typo.stderr.contains("list"), "{}", typo.stderr);
}
