//! `stoke repo index`: Helm's index.yaml for a folder of packages, with a stable order.

mod common;

use common::package::{Env, sha256, write_chart};

fn publish(env: &Env, name: &str, version: &str, dest: &str) {
    let src = env.path(&format!("src/{name}-{version}"));
    write_chart(&src, name, version);
    env.ok(&["package", src.to_str().unwrap(), "-d", dest]);
}

fn index(env: &Env, path: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(env.path(path)).unwrap()).unwrap()
}

#[test]
fn entries_are_grouped_by_name_newest_first_with_digests_and_urls() {
    let env = Env::new();
    for v in ["1.9.0", "1.10.0", "1.10.0-rc.2"] {
        publish(&env, "gw", v, "srv");
    }
    publish(&env, "historian", "0.1.0", "srv/sub");
    env.ok(&[
        "repo",
        "index",
        "srv",
        "--url",
        "https://charts.example.com/ia/",
    ]);
    let idx = index(&env, "srv/index.yaml");
    assert_eq!(idx["apiVersion"], "v1");
    let gw = idx["entries"]["gw"].as_sequence().unwrap();
    let versions: Vec<&str> = gw.iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.10.0", "1.10.0-rc.2", "1.9.0"]);
    assert_eq!(
        gw[0]["digest"].as_str().unwrap(),
        sha256(&env.path("srv/gw-1.10.0.tgz"))
    );
    assert_eq!(
        gw[0]["urls"][0],
        "https://charts.example.com/ia/gw-1.10.0.tgz"
    );
    assert_eq!(gw[0]["appVersion"], "8.1.40");
    assert_eq!(gw[0]["description"], "Test chart gw for gateways");
    assert_eq!(
        idx["entries"]["historian"][0]["urls"][0],
        "https://charts.example.com/ia/sub/historian-0.1.0.tgz"
    );
}

#[test]
fn re_indexing_an_unchanged_folder_changes_only_generated() {
    let env = Env::new();
    publish(&env, "gw", "1.0.0", "srv");
    publish(&env, "gw", "1.1.0", "srv");
    env.ok(&["repo", "index", "srv"]);
    let first = std::fs::read_to_string(env.path("srv/index.yaml")).unwrap();
    // Even when the files' times change, entries already indexed keep their `created`.
    std::process::Command::new("touch")
        .arg(env.path("srv/gw-1.0.0.tgz"))
        .status()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    env.ok(&["repo", "index", "srv"]);
    let second = std::fs::read_to_string(env.path("srv/index.yaml")).unwrap();
    let strip = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.starts_with("generated:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_ne!(first, second, "generated moves on");
    assert_eq!(strip(&first), strip(&second));
}

#[test]
fn merge_keeps_versions_the_folder_no_longer_holds() {
    let env = Env::new();
    publish(&env, "gw", "1.0.0", "old");
    env.ok(&[
        "repo",
        "index",
        "old",
        "--url",
        "https://charts.example.com",
    ]);
    publish(&env, "gw", "2.0.0", "new");
    env.ok(&[
        "repo",
        "index",
        "new",
        "--url",
        "https://charts.example.com",
        "--merge",
        "old/index.yaml",
    ]);
    let idx = index(&env, "new/index.yaml");
    let versions: Vec<&str> = idx["entries"]["gw"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2.0.0", "1.0.0"]);
    let err = env.fails(&["repo", "index", "new", "--merge", "missing.yaml"]);
    assert!(err.contains("missing.yaml"), "{err}");
}
