//! Release records under pressure, on every store backend (file, PostgreSQL, Kubernetes):
//! a revision larger than `STOKE_MAX_RECORD_BYTES` is refused before anything is written,
//! and readers racing an uninstall get the whole answer or a clear "not found", never a
//! message about pruned revisions.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Run;
use common::store::{Backend, Site};

/// A `--set` value big enough to push a revision record past a 64 KiB limit.
fn filler() -> String {
    format!("filler={}", "x".repeat(96 * 1024))
}

fn run_limited(site: &Site, args: &[&str]) -> Run {
    let o = site
        .command(args)
        .env("STOKE_MAX_RECORD_BYTES", "65536")
        .output()
        .expect("stoke runs");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn an_oversized_record_is_refused_before_anything_is_written(backend: Backend) {
    let site = Site::new(backend);
    let chart = site.chart();
    let big = filler();

    let r = run_limited(&site, &["install", "huge", &chart, "--set", &big]).fails();
    for part in [
        "huge",
        "65536",
        "STOKE_MAX_RECORD_BYTES",
        "nothing was written",
    ] {
        assert!(
            r.stderr.contains(part),
            "`{part}` missing from: {}",
            r.stderr
        );
    }
    let list = site.run(&["list", "-a", "-o", "json"]).ok().json();
    assert_eq!(
        list,
        serde_json::json!([]),
        "no trace of the refused install"
    );

    // An upgrade past the limit leaves the release exactly as it was.
    run_limited(&site, &["install", "gw", &chart]).ok();
    let r = run_limited(&site, &["upgrade", "gw", &chart, "--set", &big]).fails();
    assert!(
        r.stderr.contains("revision 2 of release `gw`"),
        "{}",
        r.stderr
    );
    let history = site.history("gw");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].1, "deployed");

    // Raising the limit lets the same upgrade through.
    site.run(&["upgrade", "gw", &chart, "--set", &big]).ok();
    assert_eq!(site.history("gw").len(), 2);
}

/// What a reader may say about a release that an uninstall is removing.
fn acceptable(args: &[&str], r: &Run) -> Result<(), String> {
    if r.stderr.to_lowercase().contains("pruned") || r.stdout.to_lowercase().contains("pruned") {
        return Err(format!("{args:?} spoke of pruning: {}", r.stderr));
    }
    let whole = match args[0] {
        // Every revision, each on a row of its own.
        "history" => (1..=3).all(|n| r.stdout.lines().any(|l| l.starts_with(&format!("{n} ")))),
        "get" if args[1] == "manifest" => r.stdout.contains("kind: "),
        "get" => r.stdout.contains(':'),
        _ => r.stdout.contains("gw"),
    };
    match r.code {
        0 if whole => Ok(()),
        0 => Err(format!(
            "{args:?} succeeded with a partial answer: {}",
            r.stdout
        )),
        1 if r.stderr.contains("not found") || r.stderr.contains("uninstalled") => Ok(()),
        c => Err(format!("{args:?} exited {c}: {}", r.stderr)),
    }
}

fn readers_racing_an_uninstall_never_hear_of_pruned_revisions(backend: Backend, rounds: usize) {
    let site = Site::new(backend);
    let chart = site.chart();
    let readers: [&[&str]; 5] = [
        &["status", "gw"],
        &["history", "gw"],
        &["get", "manifest", "gw"],
        &["get", "values", "gw", "--revision", "1", "--all"],
        &["status", "gw", "--revision", "2"],
    ];
    let mut misses = 0;
    for round in 0..rounds {
        site.run(&["install", "gw", &chart]).ok();
        for r in 2..=3 {
            site.run(&[
                "upgrade",
                "gw",
                &chart,
                "--set",
                &format!("round={round}{r}"),
            ])
            .ok();
        }
        let mut uninstall = site
            .command(&["uninstall", "gw"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut i = 0;
        loop {
            let args = readers[i % readers.len()];
            i += 1;
            let r = site.run(args);
            if let Err(e) = acceptable(args, &r) {
                panic!("round {round}: {e}");
            }
            misses += usize::from(r.code == 1);
            if uninstall.try_wait().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "the uninstall never finished");
        }
        let out = uninstall.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "uninstall failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // After it, every reader says the release is gone.
        for args in readers {
            let r = site.run(args).fails();
            assert!(r.stderr.contains("not found"), "{args:?}: {}", r.stderr);
        }
    }
    eprintln!("{backend:?}: {misses} reads met the uninstall in {rounds} rounds");
}

macro_rules! on_every_store {
    ($name:ident, $backend:expr, $rounds:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn an_oversized_record_is_refused_before_anything_is_written() {
                super::an_oversized_record_is_refused_before_anything_is_written($backend);
            }

            #[test]
            fn readers_racing_an_uninstall_never_hear_of_pruned_revisions() {
                super::readers_racing_an_uninstall_never_hear_of_pruned_revisions(
                    $backend, $rounds,
                );
            }
        }
    };
}

on_every_store!(file, Backend::File, 20);
on_every_store!(postgres, Backend::Postgres, 10);
on_every_store!(kubernetes, Backend::Kubernetes, 5);
