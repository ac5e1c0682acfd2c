//! Crash safety: processes killed with SIGKILL at random moments inside install and
//! upgrade, and at each named step of the write protocol, never leave a partial record;
//! the store always loads and the next operation succeeds.

mod common;

use std::time::{Duration, Instant};

use common::release::{World, assert_one_deployed_at_the_top, check_store};

/// A small deterministic generator, so a failing run can be replayed from its seed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn temporaries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_hundred_random_kills_never_corrupt_the_store() {
    let w = World::new();
    let chart = w.chart();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Lcg(seed);
    let release_dir = w.store().join("releases/default/gw");

    // How long one operation takes here, so kills land inside it.
    let t = Instant::now();
    w.run(&["upgrade", "gw", &chart, "--install"]).ok();
    let span = (t.elapsed().as_micros() as u64).max(5_000);

    let mut kills = 0;
    let mut i = 0;
    // Kills land early in the operation more often than late; a kill that misses (the
    // process already finished) simply does not count, so allow enough rounds.
    while kills < 200 && i < 1200 {
        i += 1;
        let values = w.values("v.yaml", &format!("replicas: {i}\n"));
        // Every tenth round starts from nothing, so installs get killed too.
        let args: Vec<&str> = if i % 10 == 0 {
            w.run(&["uninstall", "gw"]);
            vec!["install", "gw", &chart, "-f", &values]
        } else {
            vec!["upgrade", "gw", &chart, "-f", &values, "--history-max", "5"]
        };
        let mut child = w.command(&args).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next(span * 3 / 4)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();

        check_store(&w.store(), "gw");
        w.run(&["status", "gw"]);
        w.run(&[
            "upgrade",
            "gw",
            &chart,
            "--install",
            "-f",
            &values,
            "--history-max",
            "5",
        ])
        .ok();
        assert!(
            temporaries(&release_dir).is_empty(),
            "seed {seed}: leftovers {:?}",
            temporaries(&release_dir)
        );
        if i % 25 == 0 {
            assert_one_deployed_at_the_top(&w.history("gw"));
        }
    }
    assert!(
        kills >= 200,
        "only {kills} processes were killed mid-operation (seed {seed})"
    );
    assert_one_deployed_at_the_top(&w.history("gw"));
}

#[test]
fn a_crash_at_each_step_of_the_protocol_is_visible_and_recovered() {
    let w = World::new();
    let chart = w.chart();
    w.run(&["install", "gw", &chart]).ok();
    let crash = |point: &str, args: &[&str]| {
        let o = w
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
    };

    crash("after-pending", &["upgrade", "gw", &chart]);
    let st = w.run(&["status", "gw", "-o", "json"]).ok().json();
    assert_eq!(
        st["status"], "pending-upgrade",
        "an interrupted upgrade is visible"
    );
    w.run(&["upgrade", "gw", &chart]).ok();
    let h = w.history("gw");
    assert_eq!(h[1].1, "failed");
    assert!(h[1].2.starts_with("Upgrade interrupted"), "{h:?}");
    assert_one_deployed_at_the_top(&w.history("gw"));

    crash("after-deployed", &["upgrade", "gw", &chart]);
    assert_one_deployed_at_the_top(&w.history("gw"));
    w.run(&["rollback", "gw", "1"]).ok();
    assert_one_deployed_at_the_top(&w.history("gw"));

    crash("after-supersede", &["upgrade", "gw", &chart]);
    assert_one_deployed_at_the_top(&w.history("gw"));
    w.run(&["upgrade", "gw", &chart]).ok();

    crash("atomic-write-before-rename", &["upgrade", "gw", &chart]);
    w.run(&["upgrade", "gw", &chart]).ok();

    crash("after-pending", &["rollback", "gw", "1"]);
    assert_eq!(w.history("gw").last().unwrap().1, "pending-rollback");
    w.run(&["rollback", "gw", "1"]).ok();
    assert_eq!(
        w.history("gw").iter().rev().nth(1).unwrap().2,
        "Rollback interrupted before it finished; marked failed by the next operation"
    );

    crash("after-uninstalling", &["uninstall", "gw", "--keep-history"]);
    assert_eq!(w.history("gw").last().unwrap().1, "uninstalling");
    w.run(&["upgrade", "gw", &chart]).ok();
    assert_one_deployed_at_the_top(&w.history("gw"));
    let numbers = check_store(&w.store(), "gw");
    assert_eq!(numbers.len(), 10, "history-max keeps ten");
}
