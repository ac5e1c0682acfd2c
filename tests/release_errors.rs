//! Bad input never damages the store: damaged and truncated records, a newer format, an
//! unwritable store and unsafe release names each give a clear error.

mod common;

use common::release::World;

fn installed() -> World {
    let w = World::new();
    w.run(&["install", "gw", &w.chart()]).ok();
    w.run(&["upgrade", "gw", &w.chart()]).ok();
    w
}

fn rev_path(w: &World, n: u64) -> std::path::PathBuf {
    w.store()
        .join(format!("releases/default/gw/rev-{n:06}.json"))
}

#[test]
fn a_truncated_record_is_named_and_nothing_else_is_touched() {
    let w = installed();
    let path = rev_path(&w, 2);
    let text = std::fs::read(&path).unwrap();
    std::fs::write(&path, &text[..text.len() * 2 / 3]).unwrap();
    let before_rev1 = std::fs::read(rev_path(&w, 1)).unwrap();

    for args in [vec!["status", "gw"], vec!["upgrade", "gw", &w.chart()]] {
        let err = w.run(&args).fails().stderr;
        assert!(
            err.contains("rev-000002.json") && err.contains("is damaged"),
            "{args:?}: {err}"
        );
        assert!(err.contains("restore it from a backup"), "{err}");
    }
    // History shows the readable revisions and flags the damaged one, naming its file.
    let history = w.run(&["history", "gw"]).ok();
    assert!(
        history.stderr.contains("rev-000002.json") && history.stderr.contains("is damaged"),
        "{}",
        history.stderr
    );
    assert!(history.stdout.contains("damaged"), "{}", history.stdout);
    assert_eq!(std::fs::read(rev_path(&w, 1)).unwrap(), before_rev1);
    assert!(
        !rev_path(&w, 3).exists(),
        "no revision was written over damage"
    );
    assert_eq!(
        w.run(&["get", "values", "gw", "--revision", "1", "-o", "json"])
            .ok()
            .stdout
            .trim(),
        "{}"
    );
    w.run(&["install", "other", &w.chart()]).ok();
    let listed = w.run(&["list", "-o", "json"]).ok().json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "list reads heads, not revisions"
    );
}

#[test]
fn garbage_in_a_head_or_record_is_reported_with_its_path() {
    let w = installed();
    let head = w.store().join("releases/default/gw/head.json");
    std::fs::write(&head, "{ not json").unwrap();
    // The listing goes on, flagging the release and naming the file.
    let err = w.run(&["list"]).ok().stderr;
    assert!(
        err.contains("head.json") && err.contains("is damaged"),
        "{err}"
    );
    std::fs::write(&head, "[]").unwrap();
    let err = w.run(&["status", "gw"]).fails().stderr;
    assert!(err.contains("head.json"), "{err}");
    std::fs::write(&head, "{\"hello\": 1}").unwrap();
    let err = w.run(&["status", "gw"]).fails().stderr;
    assert!(err.contains("has no valid `format` field"), "{err}");
}

#[test]
fn a_newer_format_is_refused_with_what_to_do() {
    let w = installed();
    let path = rev_path(&w, 2);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"format\": 1", "\"format\": 7", 1)).unwrap();
    let err = w.run(&["get", "manifest", "gw"]).fails().stderr;
    assert!(
        err.contains("format version 7") && err.contains("Upgrade stoke"),
        "{err}"
    );
    let err = w.run(&["upgrade", "gw", &w.chart()]).fails().stderr;
    assert!(err.contains("format version 7"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text.replacen("\"format\": 1", "\"format\": 7", 1)
    );

    std::fs::write(
        w.store().join("store.json"),
        "{\"format\": 3, \"backend\": \"file\"}",
    )
    .unwrap();
    let err = w.run(&["list"]).fails().stderr;
    assert!(
        err.contains("store.json") && err.contains("format version 3"),
        "{err}"
    );
}

#[test]
fn an_unwritable_store_is_a_clear_error() {
    let w = World::new();
    // A store path under a regular file cannot be created by anyone, root included.
    let blocker = w.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let store = blocker.join("store");
    let r = w
        .command(&["install", "gw", &w.chart()])
        .env("STOKE_STORE", &store)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot create folder") && err.contains("--store"),
        "{err}"
    );

    let err = w
        .command(&["list"])
        .env("STOKE_STORE", &blocker)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(err.contains("is not a folder"), "{err}");

    // A read-only store folder (meaningful when not running as root).
    use std::os::unix::fs::PermissionsExt;
    w.run(&["install", "gw", &w.chart()]).ok();
    let dir = w.store().join("releases/default/gw");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let privileged = std::fs::write(dir.join("probe"), "").is_ok();
    let _ = std::fs::remove_file(dir.join("probe"));
    if !privileged {
        let err = w.run(&["upgrade", "gw", &w.chart()]).fails().stderr;
        assert!(err.contains("cannot create"), "{err}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        w.run(&["upgrade", "gw", &w.chart()]).ok();
        assert_eq!(w.history("gw").len(), 2);
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn release_names_and_namespaces_must_be_dns_safe() {
    let w = World::new();
    for bad in [
        "Gateway",
        "../escape",
        "gw_1",
        "gw-",
        "a/b",
        &"x".repeat(54),
    ] {
        let err = w.run(&["install", bad, &w.chart()]).fails().stderr;
        assert!(err.contains("invalid release name"), "{bad}: {err}");
    }
    let err = w.run(&["status", "gw", "-n", "../etc"]).fails().stderr;
    assert!(err.contains("invalid namespace"), "{err}");
    assert!(!w.store().join("releases").exists(), "nothing was written");
    let err = w.run(&["rollback", "gw"]).fails().stderr;
    assert!(err.contains("release gw not found"), "{err}");
}

#[test]
fn rollback_targets_must_exist() {
    let w = World::new();
    w.run(&["install", "gw", &w.chart()]).ok();
    let err = w.run(&["rollback", "gw"]).fails().stderr;
    assert!(err.contains("no previous revision"), "{err}");
    let err = w.run(&["rollback", "gw", "9"]).fails().stderr;
    assert!(err.contains("has no revision 9"), "{err}");
    let err = w.run(&["upgrade", "gw", &w.chart(), "--wait-lock", "soon"]);
    assert_eq!(err.code, 2, "{}", err.stderr);
}
