//! The store conformance suite: one body of tests, run against every backend (file,
//! memory, PostgreSQL, Kubernetes), so each keeps the guarantees the file store proves:
//! Helm's statuses through the lifecycle, history-max pruning, repair of interrupted
//! operations, damaged records isolated, concurrent writers from two machines serialised,
//! no corruption under kill -9 at 200 random moments, and nothing lost when the server
//! (PostgreSQL, the API server) stops and restarts in the middle of operations.
//!
//! File, PostgreSQL and Kubernetes run through the built binary. The in-memory store lives
//! in one process, so it runs the same cases through the library in this process
//! (tests/common/store/inproc.rs says how crashes and kills are reproduced there).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::Lcg;
use common::release::assert_one_deployed_at_the_top;
use common::store::{Backend, Site};

fn statuses(site: &Site, release: &str) -> Vec<String> {
    site.history(release).into_iter().map(|r| r.1).collect()
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
    s.crash_at(
        "after-pending",
        &["upgrade", "gw", &chart, "--history-max", "3"],
    );
    for _ in 0..4 {
        s.run(&["upgrade", "gw", &chart, "--history-max", "3"]).ok();
    }
    let h = s.history("gw");
    assert!(h.iter().any(|r| r.0 == 9 && r.1 == "failed"), "{h:?}");
    assert_eq!(h.len(), 3, "{h:?}");
}

fn crash(s: &Site, point: &str, args: &[&str]) {
    s.crash_at(point, args);
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
    assert_one_deployed_at_the_top(&s.history("gw"));

    crash(&s, "after-deployed", &["upgrade", "gw", &chart]);
    assert_one_deployed_at_the_top(&s.history("gw"));
    s.run(&["rollback", "gw", "2"]).ok();
    assert_one_deployed_at_the_top(&s.history("gw"));

    crash(&s, "after-pending", &["rollback", "gw", "2"]);
    assert_eq!(statuses(&s, "gw").last().unwrap(), "pending-rollback");
    s.run(&["rollback", "gw", "2"]).ok();
    assert_one_deployed_at_the_top(&s.history("gw"));

    crash(
        &s,
        "after-uninstalling",
        &["uninstall", "gw", "--keep-history"],
    );
    assert_eq!(statuses(&s, "gw").last().unwrap(), "uninstalling");
    s.run(&["upgrade", "gw", &chart]).ok();
    assert_one_deployed_at_the_top(&s.history("gw"));
    s.check_settled("gw");
}

/// An uninstall killed in the middle of deleting the release's records leaves a release
/// that every reader sees whole or every reader sees gone (never some of its revisions),
/// and the next operation on the name starts from a clean slate.
fn an_uninstall_killed_part_way_reads_as_whole_or_gone(backend: Backend) {
    let s = Site::new(backend);
    let chart = s.chart();
    s.run(&["install", "gw", &chart]).ok();
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=2"])
        .ok();
    s.run(&["upgrade", "gw", &chart, "--set", "replicas=3"])
        .ok();
    crash(&s, "delete-release-part-way", &["uninstall", "gw"]);

    let listed = s.run(&["list", "-a", "-o", "json"]).ok().json();
    let history = s.run(&["history", "gw", "-o", "json"]);
    let status = s.run(&["status", "gw", "-o", "json"]);
    if listed.as_array().unwrap().is_empty() {
        for (what, r) in [("history", &history), ("status", &status)] {
            assert_eq!(
                r.code, 1,
                "{what} of a release list calls gone: {}",
                r.stdout
            );
            assert!(r.stderr.contains("not found"), "{what}: {}", r.stderr);
        }
    } else {
        assert_eq!(
            history.code, 0,
            "history of a listed release: {}",
            history.stderr
        );
        assert_eq!(
            status.code, 0,
            "status of a listed release: {}",
            status.stderr
        );
        let revisions: Vec<u64> = history
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["revision"].as_u64().unwrap())
            .collect();
        assert_eq!(
            revisions,
            [1, 2, 3],
            "a listed release keeps its whole history"
        );
        assert_eq!(status.json()["revision"], 3);
        s.run(&["uninstall", "gw"]).ok();
    }

    let out = s.run(&["install", "gw", &chart, "-o", "json"]).ok().json();
    assert_eq!(out["revision"], 1, "the name starts afresh: {out}");
    assert_eq!(statuses(&s, "gw"), ["deployed"]);
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
    s.run(&["upgrade", "gw", &chart, "--install"]).ok();
    // How long (binary) or how many writes (in memory) one upgrade takes bounds where the
    // kills land, so they fall anywhere in an operation, and some just after it.
    let writes_before = s.memory.as_ref().map_or(0, |m| m.store.writes());
    let t = Instant::now();
    s.run(&["upgrade", "gw", &chart, "--history-max", "5"]).ok();
    let span = (t.elapsed().as_micros() as u64).max(5_000);
    let writes = s
        .memory
        .as_ref()
        .map_or(0, |m| m.store.writes() - writes_before)
        + 1;
    let mut kills = 0;
    let mut i = 0;
    // 200 kills per backend (Backend::kills); tests/release_faults.rs adds 200 more at the
    // file store's own failpoints.
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
        if s.run_killed(&args, &mut rng, span, writes) {
            kills += 1;
        }
        s.check("gw");
        // A killed holder's lock is released by the OS (file), the server (PostgreSQL), its
        // guard (memory) at once, and on Kubernetes taken over at once because the lease
        // names a holder process of this machine that is gone.
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
            assert_one_deployed_at_the_top(&s.history("gw"));
        }
    }
    assert!(
        kills >= target,
        "only {kills} processes were killed mid-operation (seed {seed})"
    );
    assert_one_deployed_at_the_top(&s.history("gw"));
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

/// Applies to the backends with a server (PostgreSQL, Kubernetes); the file and memory
/// stores have none to lose.
fn a_server_restarted_mid_operation_loses_nothing(backend: Backend) {
    let s = Arc::new(Site::with_own_server(backend));
    s.run(&["install", "gw", &s.chart()]).ok();
    // Revisions whose upgrade reported success: each must survive, deployed or superseded.
    let recorded = Arc::new(Mutex::new(Vec::<u64>::new()));
    for round in 0..2 {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (s, stop, recorded) = (s.clone(), stop.clone(), recorded.clone());
                std::thread::spawn(move || {
                    let set = format!("replicas={w}");
                    let mut failures = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let r = s.machine(w).run(&[
                            "upgrade",
                            "gw",
                            &s.chart(),
                            "--set",
                            &set,
                            "--history-max",
                            "0",
                            "--wait-lock",
                            "30s",
                            "-o",
                            "json",
                        ]);
                        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
                        match r.code {
                            0 => recorded
                                .lock()
                                .unwrap()
                                .push(r.json()["revision"].as_u64().unwrap()),
                            1 => failures.push(r.stderr),
                            _ => panic!("a lost server is an error, not a crash: {}", r.stderr),
                        }
                    }
                    failures
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500 + 300 * round));
        s.stop_server();
        std::thread::sleep(Duration::from_millis(500));
        s.start_server();
        std::thread::sleep(Duration::from_millis(800));
        stop.store(true, Ordering::Relaxed);
        let failures: Vec<String> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        assert!(
            !failures.is_empty(),
            "round {round}: some operation met the stopped server"
        );
        eprintln!(
            "round {round}: {} operations met the stopped server, e.g.\n{}",
            failures.len(),
            failures[0]
        );
        for f in &failures {
            // A clean error naming the server (its address) in its message: on the error
            // line itself, or, when a template's `lookup` met the stopped server, in the
            // cause under `cannot render TEMPLATE:`, before the pointer at the template
            // line. Progress lines may come before it.
            let message = f
                .lines()
                .skip_while(|l| !l.starts_with("error: "))
                .take_while(|l| !l.trim_start().starts_with("-->"))
                .collect::<Vec<_>>();
            assert!(
                message.first().is_some_and(|l| l.contains("127.0.0.1"))
                    || (message
                        .first()
                        .is_some_and(|l| l.starts_with("error: cannot render "))
                        && message.iter().any(|l| l.contains("127.0.0.1"))),
                "an error naming the server: {f}"
            );
        }
        // The next operation repairs whatever the lost connections interrupted.
        s.run(&[
            "upgrade",
            "gw",
            &s.chart(),
            "--history-max",
            "0",
            "--wait-lock",
            "30s",
        ])
        .ok();
        let numbers = s.check_settled("gw");
        assert_eq!(
            numbers,
            (1..=*numbers.last().unwrap()).collect::<Vec<_>>(),
            "revisions stay contiguous"
        );
        let h = s.history("gw");
        assert_eq!(h.iter().filter(|r| r.1 == "deployed").count(), 1, "{h:?}");
        assert!(
            h.iter()
                .all(|r| matches!(r.1.as_str(), "deployed" | "superseded" | "failed")),
            "{h:?}"
        );
        for n in recorded.lock().unwrap().iter() {
            let r = h.iter().find(|r| r.0 == *n);
            assert!(
                r.is_some_and(|r| r.1 == "deployed" || r.1 == "superseded"),
                "revision {n} was reported upgraded and must be kept: {h:?}"
            );
        }
    }
    assert!(
        !recorded.lock().unwrap().is_empty(),
        "some upgrades succeeded around the restarts"
    );
}

/// Runs every conformance test against one backend, as `BACKEND::TEST`; `server` adds
/// the cases for backends with a server.
macro_rules! conformance {
    ($module:ident, $backend:expr, server) => {
        conformance!($module, $backend, {
            #[test]
            fn a_server_restarted_mid_operation_loses_nothing() {
                super::a_server_restarted_mid_operation_loses_nothing($backend);
            }
        });
    };
    ($module:ident, $backend:expr) => {
        conformance!($module, $backend, {});
    };
    ($module:ident, $backend:expr, { $($extra:tt)* }) => {
        mod $module {
            use super::*;
            $($extra)*

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
            fn an_uninstall_killed_part_way_reads_as_whole_or_gone() {
                super::an_uninstall_killed_part_way_reads_as_whole_or_gone($backend);
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
conformance!(memory, Backend::Memory);
conformance!(postgres, Backend::Postgres, server);
conformance!(kubernetes, Backend::Kubernetes, server);
