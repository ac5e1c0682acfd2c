//! What only the PostgreSQL store has: its schema (created, versioned, a newer one
//! refused), TLS per sslmode, and a server that goes away in the middle of operations.

mod store_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use store_support::postgres::{Postgres, shared};
use store_support::{Backend, Site};

#[test]
fn the_schema_is_created_on_first_use_and_a_newer_one_is_refused() {
    let s = Site::new(Backend::Postgres);
    let pg = shared();
    let db = s.database.clone().unwrap();
    s.run(&["list"]).ok();
    assert_eq!(
        pg.sql(
            &db,
            "SELECT value FROM stoke_meta WHERE key = 'schema_version'"
        ),
        "1"
    );
    s.run(&["install", "gw", &s.chart()]).ok();
    assert_eq!(
        pg.sql(&db, "SELECT count(*) FROM stoke_revisions"),
        "1",
        "one row per revision"
    );

    pg.sql(
        &db,
        "UPDATE stoke_meta SET value = '7' WHERE key = 'schema_version'",
    );
    for args in [vec!["list"], vec!["upgrade", "gw", &s.chart()]] {
        let err = s.run(&args).fails().stderr;
        assert!(
            err.contains("schema version 7") && err.contains("schema version 1"),
            "both versions are named: {err}"
        );
        assert!(err.contains("Upgrade stoke"), "{err}");
    }
    assert_eq!(
        pg.sql(&db, "SELECT count(*) FROM stoke_revisions"),
        "1",
        "nothing was written"
    );
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let s = Site::new(Backend::File);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://stoke:hunter2@127.0.0.1:{port}/x?sslmode=disable");
    let r = s
        .command(&["list"])
        .env("STOKE_STORE", &url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot connect to the PostgreSQL store"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2") && err.contains("stoke:***@"),
        "the password is hidden: {err}"
    );
}

#[test]
fn tls_is_used_and_verified_per_sslmode() {
    let pg = Postgres::start_with(true);
    let db = pg.create_database();
    let s = Site::new(Backend::File);
    let run = |url: &str, args: &[&str]| {
        let o = s.command(args).env("STOKE_STORE", url).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let base = format!("postgres://stoke@127.0.0.1:{}/{db}", pg.port);
    let ca = pg.ca.as_ref().unwrap().display().to_string();

    // Verified against the server's own certificate: name and chain.
    let verified = format!("{base}?sslmode=verify-full&sslrootcert={ca}");
    let (code, err) = run(&verified, &["install", "gw", &s.chart()]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(
        &format!("{base}?sslmode=verify-ca&sslrootcert={ca}"),
        &["list"],
    );
    assert_eq!(code, Some(0), "{err}");
    // Encrypted without verification, as libpq's require.
    let (code, err) = run(&format!("{base}?sslmode=require"), &["status", "gw"]);
    assert_eq!(code, Some(0), "{err}");

    // The server refuses plain connections, so the above were encrypted.
    let (code, err) = run(&format!("{base}?sslmode=disable"), &["list"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot connect to the PostgreSQL store"),
        "{err}"
    );
    // A self-signed certificate is not trusted by the public roots.
    let (code, err) = run(&format!("{base}?sslmode=verify-full"), &["list"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
    let (code, err) = run(&format!("{base}?sslmode=sometimes"), &["list"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unknown sslmode `sometimes`"), "{err}");
}

#[test]
fn a_server_stopped_and_restarted_mid_operation_leaves_no_partial_revision() {
    // A server of its own: stopping the shared one would disturb the other tests.
    let pg = Arc::new(Postgres::start());
    let db = pg.create_database();
    let mut s = Site::new(Backend::File);
    s.location = pg.url(&db);
    s.backend = Backend::Postgres;
    let s = Arc::new(s);
    s.run(&["install", "gw", &s.chart()]).ok();

    for round in 0..3 {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let s = s.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut outcomes = (0, 0);
                    let set = format!("replicas={w}");
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
                        ]);
                        assert!(
                            r.code == 0 || r.code == 1,
                            "a lost server is an error, not a crash: {}",
                            r.stderr
                        );
                        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
                        if r.code == 0 {
                            outcomes.0 += 1;
                        } else {
                            assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
                            outcomes.1 += 1;
                        }
                    }
                    outcomes
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400 + 150 * round));
        pg.stop();
        std::thread::sleep(Duration::from_millis(300));
        pg.restart();
        std::thread::sleep(Duration::from_millis(400));
        stop.store(true, Ordering::Relaxed);
        let mut failed = 0;
        for w in writers {
            failed += w.join().unwrap().1;
        }
        assert!(
            failed > 0,
            "round {round}: some operation met the stopped server"
        );
        // The next operation repairs whatever the lost connections interrupted.
        s.run(&["upgrade", "gw", &s.chart(), "--history-max", "0"])
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
    }
}
