//! What only the PostgreSQL store has: its schema (created, versioned, a newer one
//! refused), TLS per sslmode, and an unreachable server.

mod common;

use common::postgres::{Postgres, shared};
use common::store::{Backend, Site};

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

// A server stopped and restarted mid-operation is a case of the conformance suite
// (tests/store_conformance.rs, `postgres::a_server_restarted_mid_operation_loses_nothing`).
