//! `stoke fleet` against a real Kubernetes API server (.ci/kube-up): apply installs and
//! upgrades only what changed, in the store and in the cluster, through the same cluster
//! target as `stoke install`; `--prune` removes the fleet's releases that left the file
//! from both; one release the cluster refuses fails alone; `fleet status` reports drift of
//! the live objects as `stoke diff live` judges it. Each test works in namespaces of its
//! own on the shared test cluster.

mod common;

use std::path::{Path, PathBuf};

// One runner for every fleet case: `None` runs with no cluster configured at all.
use common::chart;
use common::kube::{TestCluster, cm, stoke as kstoke};
use serde_json::{Value, json};

const MAPS: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-a
data:
  v: {{ values.v | default(value='1') | quote }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ release.name }}-b
data:
  site: {{ release.name | quote }}
{% if values.deploy | default(value=false) %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ release.name }}-app
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ release.name }}}
  template:
    metadata:
      labels: {app: {{ release.name }}}
    spec:
      containers:
        - name: app
          image: registry.invalid/app:1
{% endif %}
";

/// One release of the fleet: name, namespace, and the text of its own values file.
struct Site {
    name: String,
    ns: String,
    values: String,
}

/// A fleet of `n` sites, each in a namespace of its own created on the cluster.
fn sites(c: &TestCluster, prefix: &str, n: usize) -> Vec<Site> {
    (1..=n)
        .map(|i| Site {
            name: format!("site-{i}"),
            ns: c.namespace(prefix),
            values: "v: \"1\"\n".into(),
        })
        .collect()
}

/// Writes the chart under `root/maps` and the fleet under `root/fleet/`: `fleet.yaml`
/// naming the chart and each site's values file relative to itself, as users write them.
fn write_fleet(root: &Path, sites: &[Site]) -> PathBuf {
    if !root.join("maps").exists() {
        chart(root, "maps", &[("templates/maps.yaml", MAPS)]);
    }
    let dir = root.join("fleet");
    std::fs::create_dir_all(dir.join("sites")).unwrap();
    let mut text = String::from("name: plants\nreleases:\n");
    for s in sites {
        std::fs::write(dir.join(format!("sites/{}.yaml", s.name)), &s.values).unwrap();
        text.push_str(&format!(
            "  - name: {}\n    namespace: {}\n    chart: ../maps\n    values: [sites/{}.yaml]\n    labels: {{region: eu}}\n",
            s.name, s.ns, s.name
        ));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn resource_version(c: &TestCluster, ns: &str, name: &str) -> String {
    c.get(&cm(ns, name))
        .unwrap_or_else(|| panic!("{ns}/{name} is in the cluster"))["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The line of `site`'s entry in the fleet file, as errors cite it.
fn line_of(fleet: &Path, site: &str) -> usize {
    std::fs::read_to_string(fleet)
        .unwrap()
        .lines()
        .position(|l| l.contains(&format!("name: {site}")))
        .unwrap()
        + 1
}

#[test]
fn apply_installs_then_upgrades_only_what_changed_and_prune_removes_from_the_cluster() {
    let c = TestCluster::shared();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut sites = sites(c, "fleet-apply", 3);
    write_fleet(root, &sites);
    // Records kept in the cluster too (Secrets in each release's namespace): pruning then
    // finds the fleet's releases across every namespace of the cluster.
    let kstoke = |root: &Path, kc: Option<&Path>, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--store", "kubernetes"]);
        kstoke(root, kc, &all)
    };
    let kc = Some(c.kubeconfig());

    let first = kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(0);
    for s in &sites {
        assert!(
            first
                .stdout
                .contains(&format!("{}/{}: installed (revision 1)", s.ns, s.name)),
            "{}",
            first.stdout
        );
        let a = c
            .get(&cm(&s.ns, &format!("{}-a", s.name)))
            .expect("applied to the cluster");
        assert_eq!(a["data"]["v"], "1");
        assert_eq!(
            a["metadata"]["labels"]["stoke.dev/release"],
            s.name.as_str()
        );
        // What the cluster holds is exactly the recorded revision: `diff live` finds no drift.
        kstoke(root, kc, &["diff", "live", &s.name, "-n", &s.ns]).expect(0);
    }
    assert!(first.stderr.contains("3 installed"), "{}", first.stderr);
    assert!(
        first
            .stderr
            .contains(&format!("applied to the API server at {}", c.server())),
        "{}",
        first.stderr
    );
    // The record went to the cluster's own store, with the fleet's labels.
    let secrets = c
        .get(&format!(
            "/api/v1/namespaces/{}/secrets?labelSelector=owner%3Dstoke",
            sites[0].ns
        ))
        .unwrap();
    assert!(
        !secrets["items"].as_array().unwrap().is_empty(),
        "records are Secrets: {secrets}"
    );
    let all = kstoke(
        root,
        kc,
        &["get", "all", "site-1", "-n", &sites[0].ns, "-o", "json"],
    )
    .expect(0);
    let rev: Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(rev["labels"]["stoke.dev/fleet"], "plants");

    // Nothing changed: nothing is applied, not even re-sent to the API server.
    let before = resource_version(c, &sites[0].ns, "site-1-a");
    let again = kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(0);
    assert!(again.stderr.contains("3 unchanged"), "{}", again.stderr);

    // One site's values change: only that release is upgraded, in the cluster too.
    sites[1].values = "v: \"2\"\n".into();
    write_fleet(root, &sites);
    let applied = kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(0);
    assert!(
        applied.stdout.contains(&format!(
            "{}/site-2: upgraded (revision 2) (manifest, values)",
            sites[1].ns
        )),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stderr.contains("2 unchanged, 1 upgraded")
            || applied.stderr.contains("1 upgraded, 2 unchanged"),
        "{}",
        applied.stderr
    );
    assert_eq!(
        c.get(&cm(&sites[1].ns, "site-2-a")).unwrap()["data"]["v"],
        "2"
    );
    assert_eq!(
        resource_version(c, &sites[0].ns, "site-1-a"),
        before,
        "an unchanged release is not touched"
    );

    // A site leaves the file: --prune uninstalls it from the store and the cluster.
    let gone = sites.pop().unwrap();
    write_fleet(root, &sites);
    let kept = kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(0);
    assert!(!kept.stdout.contains("site-3"), "{}", kept.stdout);
    assert!(c.get(&cm(&gone.ns, "site-3-a")).is_some());
    let pruned = kstoke(
        root,
        kc,
        &["fleet", "apply", "-f", "fleet/fleet.yaml", "--prune"],
    )
    .expect(0);
    assert!(
        pruned
            .stdout
            .contains(&format!("{}/site-3: uninstalled", gone.ns)),
        "{}",
        pruned.stdout
    );
    assert!(c.get(&cm(&gone.ns, "site-3-a")).is_none(), "pruned");
    assert!(c.get(&cm(&gone.ns, "site-3-b")).is_none(), "pruned");
    kstoke(root, kc, &["status", "site-3", "-n", &gone.ns]).expect(1);
    assert!(c.get(&cm(&sites[0].ns, "site-1-a")).is_some());
}

#[test]
fn a_release_the_cluster_refuses_fails_alone_and_the_run_exits_non_zero() {
    let c = TestCluster::shared();
    let kc = Some(c.kubeconfig());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sites = sites(c, "fleet-refuse", 3);
    let fleet = write_fleet(root, &sites);
    // Someone else's object stands where site-2 would create one.
    c.post(
        &format!("/api/v1/namespaces/{}/configmaps", sites[1].ns),
        &json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "site-2-a"}, "data": {"v": "hand-made"}
        }),
    );

    let run = kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(1);
    assert!(
        run.stderr.contains(&format!(
            "error: fleet/fleet.yaml:{} (release {}/site-2)",
            line_of(&fleet, "site-2"),
            sites[1].ns
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("exists and belongs to no release"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 installed, 1 failed"),
        "{}",
        run.stderr
    );
    for s in [&sites[0], &sites[2]] {
        assert!(c.get(&cm(&s.ns, &format!("{}-b", s.name))).is_some());
    }
    assert!(
        c.get(&cm(&sites[1].ns, "site-2-b")).is_none(),
        "nothing of the refused release is applied"
    );
    assert_eq!(
        c.get(&cm(&sites[1].ns, "site-2-a")).unwrap()["data"]["v"],
        "hand-made"
    );
    // Progress names each release with how it ended (plain lines off a terminal).
    assert!(
        run.stderr.contains(&format!(
            "{}/site-1: ready (installed, revision 1)",
            sites[0].ns
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("{}/site-2: failed (", sites[1].ns)),
        "{}",
        run.stderr
    );

    // The refusal is recorded as a failed revision; once the object is out of the way the
    // next apply repairs that release alone.
    c.delete(&cm(&sites[1].ns, "site-2-a"));
    let again = kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(0);
    assert!(
        again.stdout.contains(&format!(
            "{}/site-2: upgraded (revision 2) (last operation failed)",
            sites[1].ns
        )),
        "{}",
        again.stdout
    );
    assert!(again.stderr.contains("2 unchanged"), "{}", again.stderr);
    assert_eq!(
        c.get(&cm(&sites[1].ns, "site-2-a")).unwrap()["metadata"]["labels"]["stoke.dev/release"],
        "site-2"
    );
}

#[test]
fn wait_and_timeout_apply_to_each_release_and_a_timed_out_one_fails_alone() {
    let c = TestCluster::shared();
    let kc = Some(c.kubeconfig());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut sites = sites(c, "fleet-wait", 2);
    // No controller runs, so site-2's Deployment never becomes ready.
    sites[1].values = "deploy: true\n".into();
    write_fleet(root, &sites);
    let run = kstoke(
        root,
        kc,
        &[
            "fleet",
            "apply",
            "-f",
            "fleet/fleet.yaml",
            "--wait",
            "--timeout",
            "2s",
        ],
    )
    .expect(1);
    assert!(
        run.stdout
            .contains(&format!("{}/site-1: installed (revision 1)", sites[0].ns)),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 installed, 1 failed"),
        "{}",
        run.stderr
    );
    let status = kstoke(
        root,
        kc,
        &["fleet", "status", "-f", "fleet/fleet.yaml", "-o", "json"],
    )
    .expect(0);
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    let states: Vec<&str> = report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["deployed", "failed"], "{report}");
}

#[test]
fn status_shows_each_releases_drift_from_the_live_objects() {
    let c = TestCluster::shared();
    let kc = Some(c.kubeconfig());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sites = sites(c, "fleet-drift", 3);
    write_fleet(root, &sites);
    kstoke(root, kc, &["fleet", "apply", "-f", "fleet/fleet.yaml"]).expect(0);

    // Someone edits site-1's object by hand and deletes one of site-2's.
    c.patch(
        &cm(&sites[0].ns, "site-1-a"),
        &json!({"data": {"v": "tampered"}}),
    );
    c.delete(&cm(&sites[1].ns, "site-2-b"));

    let status = kstoke(root, kc, &["fleet", "status", "-f", "fleet/fleet.yaml"]).expect(0);
    let row = |name: &str| {
        status
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {}", status.stdout))
            .to_string()
    };
    assert!(
        row("site-1").contains("1 drifted: ConfigMap site-1-a 1 field"),
        "{}",
        status.stdout
    );
    assert!(
        row("site-2").contains("1 drifted: ConfigMap site-2-b missing"),
        "{}",
        status.stdout
    );
    let third: Vec<String> = row("site-3")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(third[2..], ["1", "deployed", "maps-0.1.0", "none"]);

    // The same judgement as `stoke diff live`, field by field in JSON.
    kstoke(root, kc, &["diff", "live", "site-1", "-n", &sites[0].ns]).expect(2);
    let json = kstoke(
        root,
        kc,
        &["fleet", "status", "-f", "fleet/fleet.yaml", "-o", "json"],
    )
    .expect(0);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let first = &report["releases"][0];
    assert_eq!(first["drifted"][0]["name"], "site-1-a");
    assert_eq!(
        first["drifted"][0]["drift"][0]["path"], ".data.v",
        "{first}"
    );
    assert_eq!(report["releases"][2]["drift"], "none");

    // With no cluster configured there is nothing to compare: the column says so.
    let store = root.join("empty-store");
    let offline = kstoke(
        root,
        None,
        &[
            "fleet",
            "status",
            "-f",
            "fleet/fleet.yaml",
            "--store",
            store.to_str().unwrap(),
        ],
    )
    .expect(0);
    assert!(
        offline.stdout.contains("not-installed") && offline.stdout.contains("n/a (no cluster)"),
        "{}",
        offline.stdout
    );
}

#[test]
fn dry_run_server_has_the_api_server_check_every_release_and_writes_nothing() {
    let c = TestCluster::shared();
    let kc = Some(c.kubeconfig());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sites = sites(c, "fleet-dry", 2);
    write_fleet(root, &sites);
    let run = kstoke(
        root,
        kc,
        &[
            "fleet",
            "apply",
            "-f",
            "fleet/fleet.yaml",
            "--dry-run=server",
        ],
    )
    .expect(0);
    assert!(
        run.stdout.contains(&format!(
            "{}/site-1: installed (revision 1, dry run)",
            sites[0].ns
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("dry run, nothing written"),
        "{}",
        run.stderr
    );
    for s in &sites {
        assert!(c.get(&cm(&s.ns, &format!("{}-a", s.name))).is_none());
    }
    let status = kstoke(root, kc, &["fleet", "status", "-f", "fleet/fleet.yaml"]).expect(0);
    assert_eq!(
        status.stdout.matches("not-installed").count(),
        2,
        "{}",
        status.stdout
    );

    // A server dry run needs a server.
    let offline = kstoke(
        root,
        None,
        &[
            "fleet",
            "apply",
            "-f",
            "fleet/fleet.yaml",
            "--dry-run=server",
        ],
    )
    .expect(1);
    assert!(
        offline.stderr.contains("--dry-run=server needs a cluster"),
        "{}",
        offline.stderr
    );
}
