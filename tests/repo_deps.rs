//! `stoke dependency` with local (`file://`) and vendored dependencies: no server needed.

mod common;

use common::package::{Env, sha256, write_chart, write_chart_with};

fn app_with(env: &Env, deps: &str) {
    write_chart_with(
        &env.path("app"),
        "app",
        "1.0.0",
        &format!("dependencies:\n{deps}"),
    );
}

#[test]
fn local_dependencies_are_packaged_reproducibly_into_charts() {
    let env = Env::new();
    write_chart(&env.path("lib/common"), "common", "0.2.0");
    app_with(
        &env,
        "- name: common\n  version: ^0.2\n  repository: file://../lib/common\n",
    );
    env.ok(&["dependency", "update", "app"]);
    let first = sha256(&env.path("app/charts/common-0.2.0.tgz"));
    env.ok(&["package", "lib/common", "-d", "direct"]);
    assert_eq!(first, sha256(&env.path("direct/common-0.2.0.tgz")));
    std::fs::remove_dir_all(env.path("app/charts")).unwrap();
    env.ok(&["dependency", "build", "app"]);
    assert_eq!(first, sha256(&env.path("app/charts/common-0.2.0.tgz")));
}

#[test]
fn a_local_dependency_outside_the_constraint_is_refused() {
    let env = Env::new();
    write_chart(&env.path("lib/common"), "common", "0.3.0");
    app_with(
        &env,
        "- name: common\n  version: ~0.2.0\n  repository: file://../lib/common\n",
    );
    let err = env.fails(&["dependency", "update", "app"]);
    assert!(err.contains("wants version `~0.2.0`"), "{err}");
    assert!(err.contains("0.3.0"), "{err}");
    assert!(!env.path("app/Chart.lock").exists());
}

#[test]
fn vendored_dependencies_are_locked_as_found_and_missing_ones_are_reported() {
    let env = Env::new();
    app_with(&env, "- name: vendored\n  version: 1.x\n");
    let err = env.fails(&["dependency", "update", "app"]);
    assert!(
        err.contains("dependency `vendored` has no repository"),
        "{err}"
    );
    let list = env.ok(&["dependency", "list", "app"]);
    assert!(list.lines().nth(1).unwrap().ends_with("missing"), "{list}");

    write_chart(&env.path("app/charts/vendored"), "vendored", "1.4.0");
    env.ok(&["dependency", "update", "app"]);
    let lock = std::fs::read_to_string(env.path("app/Chart.lock")).unwrap();
    assert!(
        lock.contains("name: vendored") && lock.contains("version: 1.4.0"),
        "{lock}"
    );
}

#[test]
fn chart_lock_replaces_a_symlink_instead_of_writing_through_it() {
    let env = Env::new();
    write_chart(&env.path("lib/common"), "common", "0.2.0");
    app_with(
        &env,
        "- name: common\n  version: ^0.2\n  repository: file://../lib/common\n",
    );
    std::fs::write(env.path("victim.txt"), "untouched").unwrap();
    std::os::unix::fs::symlink(env.path("victim.txt"), env.path("app/Chart.lock")).unwrap();
    env.ok(&["dependency", "update", "app"]);
    assert_eq!(
        std::fs::read_to_string(env.path("victim.txt")).unwrap(),
        "untouched"
    );
    let meta = std::fs::symlink_metadata(env.path("app/Chart.lock")).unwrap();
    assert!(meta.file_type().is_file());
}

#[test]
fn an_unknown_repository_alias_is_explained() {
    let env = Env::new();
    app_with(&env, "- name: gw\n  version: ^1\n  repository: \"@ia\"\n");
    let err = env.fails(&["dependency", "update", "app"]);
    assert!(err.contains("no repository named `ia`"), "{err}");
    assert!(err.contains("stoke repo add ia URL"), "{err}");
}
