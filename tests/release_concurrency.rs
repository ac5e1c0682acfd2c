//! Operations on one release are serialised across processes: with --wait-lock every one
//! lands, in order, none lost; without it, every loser fails at once with the in-progress
//! error and leaves nothing half-written.

mod common;

use std::sync::{Arc, Barrier};

use common::release::{World, check_store};

#[test]
fn eight_processes_upgrading_25_times_each_with_wait_lock_leave_201_contiguous_revisions() {
    let w = Arc::new(World::new());
    w.run(&["install", "gw", &w.chart()]).ok();
    let barrier = Arc::new(Barrier::new(8));
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let w = w.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let values = w.values(&format!("w{i}.yaml"), &format!("replicas: {i}\n"));
                barrier.wait();
                for _ in 0..25 {
                    w.run(&[
                        "upgrade",
                        "gw",
                        &w.chart(),
                        "-f",
                        &values,
                        "--history-max",
                        "0",
                        "--wait-lock",
                        "120s",
                        "-o",
                        "json",
                    ])
                    .ok();
                }
            })
        })
        .collect();
    for t in workers {
        t.join().unwrap();
    }
    let h = w.history("gw");
    let numbers: Vec<u64> = h.iter().map(|r| r.0).collect();
    assert_eq!(numbers, (1..=201).collect::<Vec<u64>>());
    let deployed: Vec<u64> = h
        .iter()
        .filter(|r| r.1 == "deployed")
        .map(|r| r.0)
        .collect();
    assert_eq!(deployed, [201]);
    assert!(h[..200].iter().all(|r| r.1 == "superseded"), "{h:?}");
    assert_eq!(check_store(&w.store(), "gw").len(), 201);
}

#[test]
fn without_wait_lock_losers_fail_at_once_and_nothing_is_half_written() {
    let w = Arc::new(World::new());
    w.run(&["install", "gw", &w.chart()]).ok();

    // While another process holds the release, every attempt fails fast.
    {
        use stoke::storage::Store;
        let store = stoke::storage::file::FileStore::open(&w.store()).unwrap();
        let key = stoke::record::ReleaseKey::new("default", "gw").unwrap();
        let _held = store
            .lock(&key, stoke::storage::LockWait::FailFast)
            .unwrap();
        let start = std::time::Instant::now();
        for args in [
            vec!["upgrade", "gw", &w.chart()],
            vec!["rollback", "gw", "1"],
            vec!["uninstall", "gw"],
        ] {
            let err = w.run(&args).fails().stderr;
            assert!(
                err.contains("another operation on gw is in progress"),
                "{err}"
            );
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        // Other releases are not blocked.
        w.run(&["install", "other", &w.chart()]).ok();
    }

    // Eight at once, three rounds: each either lands or fails with the in-progress error.
    let mut landed = 0;
    for _ in 0..3 {
        let barrier = Arc::new(Barrier::new(8));
        let results: Vec<_> = (0..8)
            .map(|_| {
                let w = w.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    w.run(&["upgrade", "gw", &w.chart(), "--history-max", "0"])
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        for r in results {
            if r.code == 0 {
                landed += 1;
            } else {
                assert!(
                    r.stderr.contains("another operation on gw is in progress"),
                    "a loser fails only with the in-progress error: {}",
                    r.stderr
                );
            }
        }
    }
    assert!(landed >= 3, "at least one per round lands");
    let h = w.history("gw");
    assert_eq!(h.len(), 1 + landed);
    assert_eq!(
        h.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=1 + landed as u64).collect::<Vec<_>>()
    );
    assert_eq!(h.iter().filter(|r| r.1 == "deployed").count(), 1);
    assert_eq!(h.last().unwrap().1, "deployed");
    check_store(&w.store(), "gw");
}
