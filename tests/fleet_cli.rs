//! `stoke fleet`, driven through the built binary: every release of a fleet renders and
//! records exactly what its own `stoke template` / `stoke install` would, apply touches only
//! what changed, prune removes only the fleet's own releases, and one broken release
//! never stops the others.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, repo, stoke_in};

/// A site's own values. The admin password comes from the values, so the Secret (random
/// otherwise) renders the same every time and outputs can be compared byte for byte.
fn site_values(n: usize, storage: &str) -> String {
    format!(
        "gateway:\n  dataVolumeStorageSize: {storage}\n  env:\n    GATEWAY_ADMIN_PASSWORD: site-{n}-secret\n    GATEWAY_SYSTEM_NAME: site-{n}\n"
    )
}

struct Site {
    name: String,
    namespace: String,
    region: &'static str,
}

fn sites() -> Vec<Site> {
    (1..=3)
        .map(|n| Site {
            name: format!("site-{n}"),
            namespace: format!("plant-{n}"),
            region: if n == 3 { "us" } else { "eu" },
        })
        .collect()
}

/// Writes `fleet.yaml` and `sites/<name>.yaml` under `dir` for `sites`; the chart and the
/// edge values are the repository's own, the per-site files relative to the fleet file.
fn write_fleet(dir: &Path, sites: &[Site]) -> PathBuf {
    let root = repo();
    let mut text = String::from("name: plants\nreleases:\n");
    for s in sites {
        let file = dir.join(format!("sites/{}.yaml", s.name));
        if !file.exists() {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let n: usize = s.name.trim_start_matches("site-").parse().unwrap();
            std::fs::write(&file, site_values(n, "1Gi")).unwrap();
        }
        text.push_str(&format!(
            "  - name: {}\n    namespace: {}\n    chart: {}\n    values: [{}, sites/{}.yaml]\n    set: {{gateway.maxRAMPercentage: 60}}\n    labels: {{region: {}}}\n",
            s.name,
            s.namespace,
            root.join("charts/ignition").display(),
            root.join("values/edge.yaml").display(),
            s.name,
            s.region
        ));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The arguments that render `site` on its own, as the fleet file describes it.
fn own_args(dir: &Path, site: &Site) -> Vec<String> {
    let root = repo();
    vec![
        site.name.clone(),
        root.join("charts/ignition").display().to_string(),
        "-n".into(),
        site.namespace.clone(),
        "-f".into(),
        root.join("values/edge.yaml").display().to_string(),
        "-f".into(),
        dir.join(format!("sites/{}.yaml", site.name))
            .display()
            .to_string(),
        "--set".into(),
        "gateway.maxRAMPercentage=60".into(),
    ]
}

fn stoke(dir: &Path, args: &[&str]) -> Run {
    stoke_in(dir, args)
}

fn stoke_owned(dir: &Path, first: &[&str], rest: &[String]) -> Run {
    let mut all: Vec<&str> = first.to_vec();
    all.extend(rest.iter().map(String::as_str));
    stoke_in(dir, &all)
}

/// Splits `fleet template` output into (release, manifest) sections.
fn sections(stdout: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in stdout.split_inclusive('\n') {
        if let Some(key) = line.strip_prefix("# Release: ") {
            out.push((key.trim().to_string(), String::new()));
        } else {
            out.last_mut()
                .expect("output starts with a release header")
                .1
                .push_str(line);
        }
    }
    out
}

/// Every file under `dir`, relative path -> contents.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn each_release_renders_exactly_as_its_own_stoke_template() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sites = sites();
    write_fleet(dir, &sites);

    let fleet = stoke(dir, &["fleet", "template", "-f", "fleet.yaml"]).expect(0);
    let got = sections(&fleet.stdout);
    assert_eq!(
        got.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["plant-1/site-1", "plant-2/site-2", "plant-3/site-3"],
        "releases print in file order"
    );
    for (site, (_, text)) in sites.iter().zip(&got) {
        let own = stoke_owned(dir, &["template"], &own_args(dir, site)).expect(0);
        assert!(own.stdout.contains("kind: StatefulSet"));
        assert_eq!(
            *text, own.stdout,
            "{} differs from its own render",
            site.name
        );
    }
    assert!(
        fleet.stderr.contains("fleet: 3 release(s): 3 rendered"),
        "{}",
        fleet.stderr
    );

    // The output folder is the directory target's layout, file for file what `stoke install
    // --output-dir` writes for the same release.
    stoke(
        dir,
        &[
            "fleet",
            "template",
            "-f",
            "fleet.yaml",
            "--output-dir",
            "gitops",
        ],
    )
    .expect(0);
    for site in &sites {
        let mut args = own_args(dir, site);
        args.extend(["--output-dir".to_string(), "own".to_string()]);
        stoke_owned(dir, &["install"], &args).expect(0);
        let fleet_dir = dir.join("gitops").join(&site.namespace).join(&site.name);
        let own_dir = dir.join("own").join(&site.namespace).join(&site.name);
        let files = tree(&fleet_dir);
        assert!(
            files.iter().any(|(f, _)| f.starts_with("statefulset-")),
            "{files:?}"
        );
        assert_eq!(files, tree(&own_dir), "{}", site.name);
    }
}

#[test]
fn labels_select_releases() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_fleet(dir, &sites());
    let eu = stoke(
        dir,
        &["fleet", "template", "-f", "fleet.yaml", "-l", "region=eu"],
    )
    .expect(0);
    let keys: Vec<String> = sections(&eu.stdout).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["plant-1/site-1", "plant-2/site-2"]);
    let none = stoke(
        dir,
        &["fleet", "template", "-f", "fleet.yaml", "-l", "region=mars"],
    )
    .expect(0);
    assert_eq!(none.stdout, "");
    stoke(
        dir,
        &["fleet", "template", "-f", "fleet.yaml", "-l", "region"],
    )
    .expect(1);
}

#[test]
fn apply_records_what_install_records_then_touches_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sites = sites();
    write_fleet(dir, &sites);

    let first = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    assert!(
        first
            .stdout
            .contains("plant-1/site-1: installed (revision 1)"),
        "{}",
        first.stdout
    );
    assert!(first.stderr.contains("3 installed"), "{}", first.stderr);

    // What the fleet recorded is what a plain install records (in a store of its own).
    for site in &sites {
        let own_store = dir.join("own-store");
        let mut args = own_args(dir, site);
        args.extend(["--store".to_string(), own_store.display().to_string()]);
        stoke_owned(dir, &["install"], &args).expect(0);
        let ns = site.namespace.as_str();
        for what in [
            &["get", "manifest"][..],
            &["get", "values", "-o", "json"][..],
        ] {
            let mut fleet_args: Vec<&str> = what.to_vec();
            fleet_args.extend([site.name.as_str(), "-n", ns]);
            let ours = stoke(dir, &fleet_args).expect(0).stdout;
            let own_store_text = own_store.display().to_string();
            fleet_args.extend(["--store", own_store_text.as_str()]);
            let theirs = stoke(dir, &fleet_args).expect(0).stdout;
            assert_eq!(ours, theirs, "{what:?} of {}", site.name);
        }
        let all = stoke(dir, &["get", "all", &site.name, "-n", ns, "-o", "json"]).expect(0);
        let rev: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
        assert_eq!(rev["labels"]["region"], site.region);
        assert_eq!(rev["labels"]["stoke.dev/fleet"], "plants");
    }

    let again = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    assert!(again.stderr.contains("3 unchanged"), "{}", again.stderr);
    let diff = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        diff.stdout.contains("plant-2/site-2: unchanged"),
        "{}",
        diff.stdout
    );

    // One site's file changes: only that release is planned and upgraded.
    std::fs::write(dir.join("sites/site-2.yaml"), site_values(2, "5Gi")).unwrap();
    let diff = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        diff.stdout
            .contains("plant-2/site-2: changed (manifest, values)"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("+          storage: 5Gi"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("plant-1/site-1: unchanged"),
        "{}",
        diff.stdout
    );
    let json = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml", "-o", "json"]).expect(0);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let states: Vec<&str> = report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["unchanged", "changed", "unchanged"]);

    let applied = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    assert!(
        applied
            .stdout
            .contains("plant-2/site-2: upgraded (revision 2) (manifest, values)"),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stderr.contains("1 upgraded, 2 unchanged")
            || applied.stderr.contains("2 unchanged, 1 upgraded"),
        "{}",
        applied.stderr
    );
    let status = stoke(dir, &["fleet", "status", "-f", "fleet.yaml"]).expect(0);
    let line = |name: &str| {
        status
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {}", status.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line("site-1")[..5],
        ["site-1", "plant-1", "1", "deployed", "ignition-0.2.1"]
    );
    assert_eq!(
        line("site-2")[..5],
        ["site-2", "plant-2", "2", "deployed", "ignition-0.2.1"]
    );
}

#[test]
fn prune_uninstalls_only_the_fleets_releases_that_left_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut sites = sites();
    write_fleet(dir, &sites);
    stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    // A release installed by hand in the same store is not the fleet's to remove.
    let mut args = own_args(dir, &sites[0]);
    args[0] = "by-hand".into();
    stoke_owned(dir, &["install"], &args).expect(0);

    let gone = sites.pop().unwrap();
    write_fleet(dir, &sites);
    let diff = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        diff.stdout.contains("plant-3/site-3: removed"),
        "{}",
        diff.stdout
    );
    assert!(!diff.stdout.contains("by-hand"), "{}", diff.stdout);

    let kept = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    assert!(
        !kept.stdout.contains("site-3"),
        "without --prune nothing is removed"
    );
    stoke(dir, &["status", &gone.name, "-n", &gone.namespace]).expect(0);

    // Pruning a selection only considers the releases the selector picks.
    stoke(
        dir,
        &[
            "fleet",
            "apply",
            "-f",
            "fleet.yaml",
            "--prune",
            "-l",
            "region=eu",
        ],
    )
    .expect(0);
    stoke(dir, &["status", &gone.name, "-n", &gone.namespace]).expect(0);

    let pruned = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml", "--prune"]).expect(0);
    assert!(
        pruned.stdout.contains("plant-3/site-3: uninstalled"),
        "{}",
        pruned.stdout
    );
    stoke(dir, &["status", &gone.name, "-n", &gone.namespace]).expect(1);
    stoke(dir, &["status", "by-hand", "-n", "plant-1"]).expect(0);
}

#[test]
fn one_broken_release_fails_alone_and_is_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sites = sites();
    let fleet = write_fleet(dir, &sites);
    // Release 2's site file goes missing; releases 1 and 3 still render and apply.
    std::fs::remove_file(dir.join("sites/site-2.yaml")).unwrap();
    let text = std::fs::read_to_string(&fleet).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("name: site-2"))
        .unwrap()
        + 1;

    let run = stoke(dir, &["fleet", "template", "-f", "fleet.yaml"]).expect(1);
    let keys: Vec<String> = sections(&run.stdout).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["plant-1/site-1", "plant-3/site-3"]);
    assert!(
        run.stderr.contains(&format!(
            "error: fleet.yaml:{line} (release plant-2/site-2)"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("site-2.yaml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("2 rendered, 1 failed"),
        "{}",
        run.stderr
    );

    let applied = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml", "-o", "json"]).expect(1);
    let report: serde_json::Value = serde_json::from_str(&applied.stdout).unwrap();
    assert_eq!(report["releases"].as_array().unwrap().len(), 2);
    assert_eq!(report["failed"][0]["name"], "site-2");
    stoke(dir, &["status", "site-3", "-n", "plant-3"]).expect(0);

    // A mistake in the file itself stops everything, pointing at the line.
    std::fs::write(&fleet, format!("{text}  - name: site-9\n    chrat: x\n")).unwrap();
    let bad = stoke(dir, &["fleet", "template", "-f", "fleet.yaml"]).expect(1);
    let bad_line = text.lines().count() + 1;
    assert!(
        bad.stderr.contains(&format!("fleet.yaml:{bad_line}")) && bad.stderr.contains("chrat"),
        "{}",
        bad.stderr
    );
}

/// A chart with one resource and one hook; `hook_data` is what only the hook renders.
fn hooked_chart(root: &Path, hook_data: &str) -> PathBuf {
    let hook = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ release.name }}}}-migrate\n  annotations:\n    helm.sh/hook: pre-upgrade\ndata:\n  step: {hook_data}\n"
    );
    common::chart(
        root,
        "hooked",
        &[
            (
                "templates/config.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-config\ndata:\n  mode: {{ values.mode }}\n",
            ),
            ("templates/migrate.yaml", hook.as_str()),
            ("values.yaml", "mode: edge\n"),
        ],
    )
}

#[test]
fn a_change_to_a_hook_alone_is_a_change_diff_shows_and_apply_upgrades() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let chart = hooked_chart(dir, "v1");
    std::fs::write(
        dir.join("fleet.yaml"),
        format!(
            "name: plants\nreleases:\n  - name: gw\n    namespace: plant-1\n    chart: {}\n",
            chart.display()
        ),
    )
    .unwrap();
    stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    let diff = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        diff.stdout.contains("plant-1/gw: unchanged"),
        "{}",
        diff.stdout
    );

    // The chart's hook changes; its resources, values and version do not.
    hooked_chart(dir, "v2");
    let diff = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        diff.stdout.contains("plant-1/gw: changed (hooks)"),
        "{}",
        diff.stdout
    );
    // The same resource diff `stoke diff upgrade` shows for this release on its own.
    let single = stoke(
        dir,
        &[
            "diff",
            "upgrade",
            "gw",
            &chart.display().to_string(),
            "-n",
            "plant-1",
            "-o",
            "json",
        ],
    )
    .expect(0)
    .json();
    let fleet = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(fleet["releases"][0]["resources"], single, "{fleet}");
    assert_eq!(single[0]["name"], "gw-migrate", "{single}");
    assert!(
        single[0]["diff"].as_str().unwrap().contains("+  step: v2"),
        "{single}"
    );

    let applied = stoke(dir, &["fleet", "apply", "-f", "fleet.yaml"]).expect(0);
    assert!(
        applied
            .stdout
            .contains("plant-1/gw: upgraded (revision 2) (hooks)"),
        "{}",
        applied.stdout
    );
    let hooks = stoke(dir, &["get", "hooks", "gw", "-n", "plant-1"]).expect(0);
    assert!(hooks.stdout.contains("step: v2"), "{}", hooks.stdout);
    let again = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        again.stdout.contains("plant-1/gw: unchanged"),
        "{}",
        again.stdout
    );

    // NOTES.txt describes the operation, not the release: a change to it alone is not
    // worth an upgrade (charts word it by revision, which every upgrade changes).
    common::write_files(
        &chart,
        &[("templates/NOTES.txt", "Gateway {{ release.name }} is up.\n")],
    );
    let diff = stoke(dir, &["fleet", "diff", "-f", "fleet.yaml"]).expect(0);
    assert!(
        diff.stdout.contains("plant-1/gw: unchanged"),
        "{}",
        diff.stdout
    );
}

#[test]
fn diff_never_shows_secret_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_fleet(dir, &sites());
    let diff = stoke(
        dir,
        &["fleet", "diff", "-f", "fleet.yaml", "-l", "region=us"],
    )
    .expect(0);
    assert!(
        diff.stdout.contains("plant-3/site-3: new"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains("Secret site-3-ignition-gateway-admin-password added"),
        "{}",
        diff.stdout
    );
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode("site-3-secret");
    assert!(!diff.stdout.contains(&encoded), "{}", diff.stdout);
    assert!(
        diff.stdout.contains("(masked, 13 bytes)"),
        "{}",
        diff.stdout
    );
}

#[test]
fn the_shipped_example_fleet_renders() {
    let root = repo();
    let run = stoke(
        &root,
        &["fleet", "template", "-f", "examples/fleet/fleet.yaml"],
    )
    .expect(0);
    let keys: Vec<String> = sections(&run.stdout).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "plant-detroit/detroit-press",
            "plant-detroit/detroit-paint",
            "plant-monterrey/monterrey-assembly",
            "plant-lyon/lyon-bottling",
            "plant-pilsen/pilsen-brewhouse"
        ]
    );
    assert!(
        run.stdout.contains("value: \"Europe/Paris\""),
        "the set: entry applies"
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}
