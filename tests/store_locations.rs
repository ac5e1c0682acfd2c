//! `--store` / `STOKE_STORE` accept a folder, file://PATH, `kubernetes` or postgres://...;
//! anything else is refused before anything is created.

mod common;

use common::stoke_in;

#[test]
fn an_unknown_scheme_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for location in [
        "http://db.example/stoke",
        "s3://bucket/stoke",
        "mysql://h/db",
    ] {
        let r = stoke_in(dir.path(), &["list", "--store", location]).expect(1);
        assert!(
            r.stderr.contains("unknown store scheme")
                && r.stderr.contains("file://PATH")
                && r.stderr.contains("postgres://")
                && r.stderr.contains("`kubernetes`"),
            "the accepted forms are listed: {}",
            r.stderr
        );
    }
    let chart = common::chart(dir.path(), "gw", &[]);
    let r = stoke_in(
        dir.path(),
        &[
            "install",
            "gw",
            chart.to_str().unwrap(),
            "--store",
            "http://db/x",
        ],
    )
    .expect(1);
    assert!(r.stderr.contains("unknown store scheme"), "{}", r.stderr);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("http")), "{names:?}");
}

#[test]
fn a_file_url_and_a_plain_path_are_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let chart = common::chart(dir.path(), "gw", &[]);
    let store = dir.path().join("shared-store");
    let url = format!("file://{}", store.display());
    stoke_in(
        dir.path(),
        &["install", "gw", chart.to_str().unwrap(), "--store", &url],
    )
    .expect(0);
    let r = stoke_in(
        dir.path(),
        &["status", "gw", "--store", store.to_str().unwrap()],
    )
    .expect(0);
    assert!(r.stdout.contains("STATUS: deployed"), "{}", r.stdout);
}
