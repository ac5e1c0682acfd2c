//! The store conformance suite: one body of tests, run through the built binary against
//! every backend (file, PostgreSQL), so each keeps the guarantees the file store proves:
//! Helm's statuses through the lifecycle, history-max pruning, repair of interrupted
//! operations, damaged records isolated, concurrent writers from two machines serialised,
//! and no corruption under kill -9 at random moments.

mod store_support;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use store_support::{Backend, Lcg, Site};

fn statuses(site: &Site, release: &str) -> Vec<String> {
    site.history(release).into_iter().map(|r| r.1).collect()
}

fn assert_one_deployed_at_the_top(site: &Site, release: &str) {
    let h = site.history(release);
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

fn lifecycle_and_history_statuses(backend: Backend) {
    let s = Site::new(backend);
    let chart = s.chart();
    let out = s.run(&["install", "gw", &chart, "-o", "json"]).ok().json();
    assert_eq!(out["revision"], 1);
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=2"])
        .ok();
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=3"])
        .ok();
    s.run(&["rollback", "gw", "1"]).ok();
    assert_eq!(
        statuses(&s, "gw"),
        ["superseded", "superseded", "superseded", "deployed"]
    );
    let h = s.history("gw");
    assert_eq!(h[0].2, "Install complete");
    assert_eq!(h[1].2, "Upgrade complete");
    assert_eq!(h[3].2, "Rollback to 1");

    let st = s.run(&["status", "gw", "-o", "json"]).ok().json();
    assert_eq!(st["revision"], 4);
    assert_eq!(st["status"], "deployed");
    let values = s
        .run(&["get", "values", "gw", "--revision", "3", "-o", "json"])
        .ok()
        .json();
    assert_eq!(values["replicas"], 3);

    s.run(&["install", "other", &chart, "-n", "plant-2"]).ok();
    let list = s.run(&["list", "-A", "-o", "json"]).ok().json();
    let names: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["namespace"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("gw", "default"), ("other", "plant-2")]);

    s.run(&["uninstall", "gw", "--keep-history"]).ok();
    assert_eq!(statuses(&s, "gw").last().unwrap(), "uninstalled");
    let listed = s.run(&["list", "-o", "json"]).ok().json();
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");
    let all = s.run(&["list", "-a", "-o", "json"]).ok().json();
    assert_eq!(all[0]["status"], "uninstalled");
    // An uninstalled release can be installed again, continuing its history.
    s.run(&["install", "gw", &chart]).ok();
    assert_eq!(statuses(&s, "gw").last().unwrap(), "deployed");
    assert_eq!(s.check("gw").len(), 5);

    s.run(&["uninstall", "gw"]).ok();
    let err = s.run(&["history", "gw"]).fails().stderr;
    assert!(err.contains("release gw not found"), "{err}");
    assert!(s.check("gw").is_empty());
    s.run(&["status", "other", "-n", "plant-2"]).ok();
}

fn history_max_prunes_only_superseded_revisions(backend: Backend) {
    let s = Site::new(backend);
    let chart = s.chart();
    s.run(&["install", "gw", &chart]).ok();
    for i in 2..=8 {
        let r = i.to_string();
        s.run(&[
            "upgrade",
            "gw",
            &chart,
            "--set",
            &format!("replicas={r}"),
            "--history-max",
            "3",
        ])
        .ok();
    }
    let h = s.history("gw");
    assert_eq!(
        h.iter().map(|r| r.0).collect::<Vec<_>>(),
        [6, 7, 8],
        "{h:?}"
    );
    assert_eq!(s.check("gw"), [6, 7, 8]);
    // A failed revision is kept: it is evidence, and pruning only removes superseded ones.
    let crashed = s
        .command(&["upgrade", "gw", &chart, "--history-max", "3"])
        .env("STOKE_FAILPOINT", "after-pending")
        .output()
        .unwrap();
    assert_eq!(crashed.status.code(), Some(86));
    for _ in 0..4 {
        s.run(&["upgrade", "gw", &chart, "--history-max", "3"]).ok();
    }
    let h = s.history("gw");
    assert!(h.iter().any(|r| r.0 == 9 && r.1 == "failed"), "{h:?}");
    assert_eq!(h.len(), 3, "{h:?}");
}

fn crash(s: &Site, point: &str, args: &[&str]) {
    let o = s
        .command(args)
        .env("STOKE_FAILPOINT", point)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(86),
        "{point}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn pending_states_are_visible_and_repaired(backend: Backend) {
    let s = Site::new(backend);
    let chart = s.chart();
    crash(&s, "after-pending", &["install", "gw", &chart]);
    assert_eq!(statuses(&s, "gw"), ["pending-install"]);
    s.run(&["upgrade", "gw", &chart, "--install"]).ok();
    assert_eq!(statuses(&s, "gw"), ["failed", "deployed"]);

    crash(&s, "after-pending", &["upgrade", "gw", &chart]);
    let st = s.run(&["status", "gw", "-o", "json"]).ok().json();
    assert_eq!(st["status"], "pending-upgrade");
    s.run(&["upgrade", "gw", &chart]).ok();
    let h = s.history("gw");
    assert_eq!(h[2].1, "failed");
    assert!(h[2].2.starts_with("Upgrade interrupted"), "{h:?}");
    assert_one_deployed_at_the_top(&s, "gw");

    crash(&s, "after-deployed", &["upgrade", "gw", &chart]);
    assert_one_deployed_at_the_top(&s, "gw");
    s.run(&["rollback", "gw", "2"]).ok();
    assert_one_deployed_at_the_top(&s, "gw");

    crash(&s, "after-pending", &["rollback", "gw", "2"]);
    assert_eq!(statuses(&s, "gw").last().unwrap(), "pending-rollback");
    s.run(&["rollback", "gw", "2"]).ok();
    assert_one_deployed_at_the_top(&s, "gw");

    crash(
        &s,
        "after-uninstalling",
        &["uninstall", "gw", "--keep-history"],
    );
    assert_eq!(statuses(&s, "gw").last().unwrap(), "uninstalling");
    s.run(&["upgrade", "gw", &chart]).ok();
    assert_one_deployed_at_the_top(&s, "gw");
    s.check_settled("gw");
}

fn a_damaged_record_is_reported_and_isolated(backend: Backend) {
    let s = Site::new(backend);
    let chart = s.chart();
    s.run(&["install", "gw", &chart]).ok();
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=2"])
        .ok();
    s.run(&["install", "other", &chart]).ok();
    s.damage("gw", 1);

    let err = s
        .run(&["get", "values", "gw", "--revision", "1"])
        .fails()
        .stderr;
    assert!(err.contains("damaged"), "{err}");
    assert!(
        err.contains("gw") && (err.contains("revision 1") || err.contains("rev-000001")),
        "the message names the record: {err}"
    );
    assert!(err.contains("no other record was changed"), "{err}");
    // The rest of the release, and every other release, work as before.
    s.run(&["get", "values", "gw", "--revision", "2"]).ok();
    s.run(&["status", "gw"]).ok();
    s.run(&["upgrade", "other", &chart]).ok();
    assert_eq!(statuses(&s, "other"), ["superseded", "deployed"]);
    let list = s.run(&["list", "-o", "json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // Writes to the damaged release do not touch the damaged record.
    s.run(&["upgrade", "gw", &chart, "--history-max", "0"]).ok();
    assert!(s.run(&["get", "values", "gw", "--revision", "1"]).code == 1);
}

fn eight_writers_on_two_machines_are_serialised(backend: Backend) {
    let s = Arc::new(Site::new(backend));
    s.run(&["install", "gw", &s.chart()]).ok();
    const ROUNDS: usize = 8;
    let barrier = Arc::new(Barrier::new(8));
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let machine = s.machine(i % 2);
                let chart = s.chart();
                let set = format!("replicas={i}");
                barrier.wait();
                for _ in 0..ROUNDS {
                    machine
                        .run(&[
                            "upgrade",
                            "gw",
                            &chart,
                            "--set",
                            &set,
                            "--history-max",
                            "0",
                            "--wait-lock",
                            "120s",
                        ])
                        .ok();
                }
            })
        })
        .collect();
    for t in workers {
        t.join().unwrap();
    }
    let h = s.history("gw");
    let total = 1 + 8 * ROUNDS as u64;
    assert_eq!(
        h.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    assert_eq!(
        h.iter()
            .filter(|r| r.1 == "deployed")
            .map(|r| r.0)
            .collect::<Vec<_>>(),
        [total]
    );
    assert_eq!(s.check_settled("gw").len() as u64, total);

    // Without --wait-lock a loser fails at once with the in-progress message.
    let store = s.open();
    let key = stoke::storage::ReleaseKey::new("default", "gw").unwrap();
    let _held = store
        .lock(&key, stoke::storage::LockWait::FailFast)
        .unwrap();
    let start = Instant::now();
    let err = s
        .machine(1)
        .run(&["upgrade", "gw", &s.chart(), "--wait-lock", "0s"])
        .fails()
        .stderr;
    assert!(
        err.contains("another operation on gw is in progress"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    s.machine(1).run(&["install", "free", &s.chart()]).ok();
}

fn random_kills_never_corrupt_the_store(backend: Backend) {
    let s = Site::new(backend);
    let chart = s.chart();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Lcg(seed);
    let t = Instant::now();
    s.run(&["upgrade", "gw", &chart, "--install"]).ok();
    let span = (t.elapsed().as_micros() as u64).max(5_000);
    let mut kills = 0;
    let mut i = 0;
    // Every backend's kills add up to 230 across the suite (see Backend::kills);
    // tests/release_faults.rs adds 200 more against the file store.
    let target = backend.kills();
    while kills < target && i < target * 6 {
        i += 1;
        let set = format!("replicas={i}");
        let args: Vec<&str> = if i % 10 == 0 {
            s.run(&["uninstall", "gw", "--wait-lock", "60s"]);
            vec!["install", "gw", &chart, "--set", &set]
        } else {
            vec!["upgrade", "gw", &chart, "--set", &set, "--history-max", "5"]
        };
        let mut child = s.command(&args).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next(span * 3 / 4)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        s.check("gw");
        // A killed holder's lock is released by the OS (file) or the server (PostgreSQL) at
        // once, and by lease expiry (Kubernetes) within seconds.
        s.run(&[
            "upgrade",
            "gw",
            &chart,
            "--install",
            "--history-max",
            "5",
            "--wait-lock",
            "60s",
        ])
        .ok();
        s.check_settled("gw");
        if i % 20 == 0 {
            assert_one_deployed_at_the_top(&s, "gw");
        }
    }
    assert!(
        kills >= target,
        "only {kills} processes were killed mid-operation (seed {seed})"
    );
    assert_one_deployed_at_the_top(&s, "gw");
}

const SMOKE_TEST: &str = "apiVersion: v1
kind: Pod
metadata:
  name: {{ release.name }}-smoke
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers: [{name: t, image: busybox}]
";

fn hooks_are_recorded_apart_and_read_back(backend: Backend) {
    let s = Site::new(backend);
    std::fs::write(
        s.world.path().join("chart/templates/smoke.yaml"),
        SMOKE_TEST,
    )
    .unwrap();
    let chart = s.chart();
    s.run(&["install", "gw", &chart]).ok();
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=2"])
        .ok();
    s.run(&["rollback", "gw", "1"]).ok();
    for revision in ["1", "3"] {
        let all = s
            .run(&["get", "all", "gw", "--revision", revision, "-o", "json"])
            .ok()
            .json();
        let hooks: Vec<&str> = all["hooks"]
            .as_array()
            .unwrap_or_else(|| panic!("revision {revision} has no hooks field: {all}"))
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(hooks, ["gw-smoke"], "revision {revision}");
        let resources = all["manifests"].as_array().unwrap();
        assert!(
            resources.iter().all(|m| m["name"] != "gw-smoke"),
            "revision {revision}: {all}"
        );
    }
    let hooks = s.run(&["get", "hooks", "gw"]).ok().stdout;
    assert!(hooks.contains("name: gw-smoke"), "{hooks}");
    let manifest = s.run(&["get", "manifest", "gw"]).ok().stdout;
    assert!(!manifest.contains("gw-smoke"), "{manifest}");
}

/// Runs every conformance test against one backend, as `BACKEND::TEST`.
macro_rules! conformance {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn lifecycle_and_history_statuses() {
                super::lifecycle_and_history_statuses($backend);
            }

            #[test]
            fn history_max_prunes_only_superseded_revisions() {
                super::history_max_prunes_only_superseded_revisions($backend);
            }

            #[test]
            fn pending_states_are_visible_and_repaired() {
                super::pending_states_are_visible_and_repaired($backend);
            }

            #[test]
            fn a_damaged_record_is_reported_and_isolated() {
                super::a_damaged_record_is_reported_and_isolated($backend);
            }

            #[test]
            fn eight_writers_on_two_machines_are_serialised() {
                super::eight_writers_on_two_machines_are_serialised($backend);
            }

            #[test]
            fn hooks_are_recorded_apart_and_read_back() {
                super::hooks_are_recorded_apart_and_read_back($backend);
            }

            #[test]
            fn random_kills_never_corrupt_the_store() {
                super::random_kills_never_corrupt_the_store($backend);
            }
        }
    };
}

conformance!(file, Backend::File);
conformance!(postgres, Backend::Postgres);
conformance!(kubernetes, Backend::Kubernetes);
