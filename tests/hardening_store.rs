//! Damage stays local: one damaged record never hides the other releases or revisions,
//! `stoke store check` reports each kind of damage, and `stoke store repair` quarantines
//! damaged records, rebuilds heads and clears leftovers so every release works again.

mod common;

use std::path::{Path, PathBuf};

use common::{chart, stoke_in};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}\ndata:\n  r: \"{{ values.r }}\"\n";

fn setup(root: &Path) -> (String, PathBuf) {
    let c = chart(
        root,
        "c",
        &[("values.yaml", "r: 1\n"), ("templates/cm.yaml", CM)],
    );
    let c = c.to_str().unwrap().to_string();
    for name in ["alpha", "beta"] {
        stoke_in(root, &["install", name, &c]).expect(0);
        for r in 2..=4 {
            stoke_in(root, &["upgrade", name, &c, "--set", &format!("r={r}")]).expect(0);
        }
    }
    (c, root.join(".stoke-store/releases/default"))
}

fn truncate(p: &Path) {
    let text = std::fs::read(p).unwrap();
    std::fs::write(p, &text[..text.len() / 2]).unwrap();
}

fn json(r: &common::Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn a_damaged_head_is_flagged_in_list_and_repaired() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, releases) = setup(tmp.path());
    truncate(&releases.join("alpha/head.json"));
    let r = stoke_in(tmp.path(), &["list", "-o", "json"]).expect(0);
    let rows = json(&r);
    let status = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|row| row["name"] == name)
            .map(|row| row["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("beta").as_deref(), Some("deployed"));
    assert_eq!(status("alpha").as_deref(), Some("damaged"));
    assert!(
        r.stderr.contains("alpha") && r.stderr.contains("store check"),
        "{}",
        r.stderr
    );

    let r = stoke_in(tmp.path(), &["store", "check"]).expect(1);
    assert!(
        r.stdout.contains("alpha/head.json") && r.stdout.contains("damaged-head"),
        "{}",
        r.stdout
    );
    stoke_in(tmp.path(), &["store", "repair"]).expect(0);
    stoke_in(tmp.path(), &["store", "check"]).expect(0);
    let r = stoke_in(tmp.path(), &["status", "alpha", "-o", "json"]).expect(0);
    assert_eq!(json(&r)["revision"], 4);
    stoke_in(tmp.path(), &["upgrade", "alpha", &c, "--set", "r=5"]).expect(0);
    assert!(
        std::fs::read_dir(tmp.path().join(".stoke-store/quarantine/default/alpha"))
            .unwrap()
            .count()
            == 1,
        "the damaged head is kept for inspection"
    );
}

#[test]
fn a_damaged_middle_revision_is_flagged_in_history_and_quarantined() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, releases) = setup(tmp.path());
    truncate(&releases.join("alpha/rev-000002.json"));
    let r = stoke_in(tmp.path(), &["history", "alpha", "-o", "json"]).expect(0);
    let statuses: Vec<String> = json(&r)
        .as_array()
        .unwrap()
        .iter()
        .map(|row| format!("{}:{}", row["revision"], row["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        ["1:superseded", "2:damaged", "3:superseded", "4:deployed"]
    );
    let r = stoke_in(tmp.path(), &["store", "check", "-o", "json"]).expect(1);
    let problems = json(&r);
    assert_eq!(problems.as_array().unwrap().len(), 1, "{problems}");
    assert_eq!(problems[0]["kind"], "damaged-revision");
    stoke_in(tmp.path(), &["store", "repair"]).expect(0);
    let r = stoke_in(tmp.path(), &["history", "alpha", "-o", "json"]).expect(0);
    assert_eq!(json(&r).as_array().unwrap().len(), 3);
    stoke_in(tmp.path(), &["rollback", "alpha", "3"]).expect(0);
    stoke_in(tmp.path(), &["upgrade", "beta", &c]).expect(0);
}

#[test]
fn a_damaged_latest_revision_moved_away_as_advised_does_not_leave_the_release_stuck() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, releases) = setup(tmp.path());
    let latest = releases.join("alpha/rev-000004.json");
    truncate(&latest);
    let r = stoke_in(tmp.path(), &["upgrade", "alpha", &c]).expect(1);
    assert!(
        r.stderr.contains("rev-000004.json") && r.stderr.contains("move it out"),
        "{}",
        r.stderr
    );
    // Follow the advice.
    std::fs::rename(&latest, tmp.path().join("rev-000004.json.bad")).unwrap();
    let r = stoke_in(tmp.path(), &["status", "alpha", "-o", "json"]).expect(0);
    assert_eq!(json(&r)["revision"], 3);
    stoke_in(tmp.path(), &["upgrade", "alpha", &c, "--set", "r=9"]).expect(0);
    let r = stoke_in(tmp.path(), &["history", "alpha", "-o", "json"]).expect(0);
    let last = json(&r).as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["revision"].as_u64(), last["status"].as_str()),
        (Some(4), Some("deployed"))
    );
}

#[test]
fn leftovers_are_reported_and_cleared_even_with_unlimited_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, releases) = setup(tmp.path());
    let tmpfile = releases.join("alpha/.rev-000005.json.999.0.tmp");
    std::fs::write(&tmpfile, "{").unwrap();
    let trash = tmp.path().join(".stoke-store/trash/default.old.1.2");
    std::fs::create_dir_all(&trash).unwrap();
    std::fs::write(trash.join("rev-000001.json"), "{\"secret\": true}").unwrap();
    let r = stoke_in(tmp.path(), &["store", "check"]).expect(1);
    assert!(
        r.stdout.contains("leftover") && r.stdout.contains("trash"),
        "{}",
        r.stdout
    );
    // The next operation clears both, with --history-max 0 too.
    stoke_in(tmp.path(), &["upgrade", "alpha", &c, "--history-max", "0"]).expect(0);
    assert!(!tmpfile.exists(), "temporary file left behind");
    assert!(!trash.exists(), "trash kept a release copy");
    stoke_in(tmp.path(), &["store", "check"]).expect(0);
}

#[test]
fn an_unknown_store_scheme_is_refused_listing_the_accepted_ones() {
    let tmp = tempfile::tempdir().unwrap();
    for loc in ["http://127.0.0.1:9/", "s3://bucket/x"] {
        let r = stoke_in(tmp.path(), &["list", "--store", loc]).expect(1);
        assert!(
            r.stderr.contains("unknown store scheme") && r.stderr.contains("file://PATH"),
            "{}",
            r.stderr
        );
    }
    assert!(!tmp.path().join("http:").exists() && !tmp.path().join("s3:").exists());
    // file://PATH is the file store.
    let store = tmp.path().join("st");
    let url = format!("file://{}", store.display());
    let c = chart(
        tmp.path(),
        "c",
        &[("values.yaml", "r: 1\n"), ("templates/cm.yaml", CM)],
    );
    stoke_in(
        tmp.path(),
        &["install", "gw", c.to_str().unwrap(), "--store", &url],
    )
    .expect(0);
    assert!(store.join("releases/default/gw/head.json").is_file());
}
