//! `stoke store migrate`: every release with its whole history and statuses, copied
//! between backends, verified, idempotent, and the source never changed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::store::{Backend, Site};

/// Every file under `dir` with its contents, to prove a store was not changed.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(base).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// What a user sees of every release: list, and per release its history and full records.
fn everything(s: &Site, location: &str) -> Vec<String> {
    let run = |args: &[&str]| {
        let o = s
            .command(args)
            .env("STOKE_STORE", location)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let mut out = vec![run(&["list", "-A", "-a", "-o", "json"])];
    for (ns, name) in [("default", "gw"), ("default", "kept"), ("plant-2", "edge")] {
        let h = run(&["history", name, "-n", ns, "--max", "0", "-o", "json"]);
        let revs: Vec<serde_json::Value> = serde_json::from_str(&h).unwrap();
        out.push(h);
        for r in revs {
            let n = r["revision"].to_string();
            out.push(run(&[
                "get",
                "all",
                name,
                "-n",
                ns,
                "--revision",
                &n,
                "-o",
                "json",
            ]));
        }
    }
    out
}

fn migrate(s: &Site, from: &str, to: &str) -> serde_json::Value {
    s.run(&["store", "migrate", "--from", from, "--to", to, "-o", "json"])
        .ok()
        .json()
}

#[test]
fn file_to_postgres_and_back_copies_every_revision_and_status_once() {
    let s = Site::new(Backend::File);
    let chart = s.chart();
    s.run(&["install", "gw", &chart]).ok();
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=2"])
        .ok();
    let crashed = s
        .command(&["upgrade", "gw", &chart])
        .env("STOKE_FAILPOINT", "after-pending")
        .output()
        .unwrap();
    assert_eq!(crashed.status.code(), Some(86));
    s.run(&["rollback", "gw", "1"]).ok();
    s.run(&["install", "kept", &chart]).ok();
    s.run(&["uninstall", "kept", "--keep-history"]).ok();
    s.run(&["install", "edge", &chart, "-n", "plant-2"]).ok();
    let file = s.location.clone();
    let before = snapshot(Path::new(&file));
    let expected = everything(&s, &file);

    let pg = Site::new(Backend::Postgres);
    let report = migrate(&s, &file, &pg.location);
    assert_eq!(report["releases"], 3);
    assert_eq!(report["revisions_copied"], 4 + 1 + 1);
    assert_eq!(report["revisions_unchanged"], 0);
    assert_eq!(everything(&s, &pg.location), expected);
    assert_eq!(
        snapshot(Path::new(&file)),
        before,
        "the source is never changed"
    );

    // Running it again copies nothing.
    let again = migrate(&s, &file, &pg.location);
    assert_eq!(again["revisions_copied"], 0);
    assert_eq!(again["revisions_unchanged"], 6);
    assert_eq!(again["heads_written"], 0);

    // What changed in the source since the last run is brought over, and only that: the
    // new revision, and the old one's new status (deployed -> superseded).
    s.run(&["upgrade", "edge", &chart, "-n", "plant-2"]).ok();
    let third = migrate(&s, &file, &pg.location);
    assert_eq!(third["revisions_copied"], 1, "{third}");
    assert_eq!(third["revisions_updated"], 1, "{third}");
    assert_eq!(third["revisions_unchanged"], 5, "{third}");
    let expected = everything(&s, &file);
    assert_eq!(everything(&s, &pg.location), expected);

    // And back into a new file store: the same releases as the source.
    let back = s.world.path().join("back");
    let back = format!("file://{}", back.display());
    let report = migrate(&s, &pg.location, &back);
    assert_eq!(report["revisions_copied"], 7);
    assert_eq!(everything(&s, &back), expected);
}

#[test]
fn a_release_already_used_in_the_destination_is_not_overwritten() {
    let src = Site::new(Backend::File);
    let chart = src.chart();
    src.run(&["install", "gw", &chart]).ok();
    src.run(&["install", "other", &chart]).ok();
    let dest = Site::new(Backend::Postgres);
    dest.run(&["install", "gw", &chart, "--set", "replicas=9"])
        .ok();
    dest.run(&["upgrade", "gw", &chart]).ok();

    let r = src.run(&[
        "store",
        "migrate",
        "--from",
        &src.location,
        "--to",
        &dest.location,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("default/gw"), "{}", r.stderr);
    assert!(r.stderr.contains("the source is unchanged"), "{}", r.stderr);
    // The destination's own gw is intact; the other release was copied.
    assert_eq!(dest.history("gw").len(), 2);
    dest.run(&["status", "other"]).ok();

    let same = src.run(&[
        "store",
        "migrate",
        "--from",
        &src.location,
        "--to",
        &src.location,
    ]);
    assert_eq!(same.code, 1);
    assert!(same.stderr.contains("same store"), "{}", same.stderr);
}
