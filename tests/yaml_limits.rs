//! YAML input that would take a parser minutes or its stack: 100,000 levels of nesting, in
//! each place stoke reads YAML from a user or a server, must fail fast with a message that
//! names the file and line; and a YAML error deep in a file is reported at its own line.

mod common;

use std::time::{Duration, Instant};

use common::package::{Env, HttpServer, Raw, gzip, raw_tar, write_chart};

/// `depth` levels of nested flow sequences under a key: 200 KB at 100,000 levels.
fn deep_yaml(depth: usize) -> String {
    format!("a: {}1{}\n", "[".repeat(depth), "]".repeat(depth))
}

/// Runs stoke and checks it failed within a few seconds.
fn fails_fast(env: &Env, args: &[&str]) -> String {
    let start = Instant::now();
    let err = env.fails(args);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} to refuse: {args:?}"
    );
    err
}

fn assert_depth_error(err: &str, origin: &str) {
    assert!(err.contains(origin), "names the file: {err}");
    assert!(err.contains(":1:"), "names the line: {err}");
    assert!(err.contains("128 levels"), "says what the limit is: {err}");
    assert!(
        err.contains("STOKE_YAML_MAX_DEPTH"),
        "says how to raise it: {err}"
    );
}

#[test]
fn a_values_file_nested_100000_deep_is_refused_at_once() {
    let env = Env::new();
    write_chart(&env.path("c"), "c", "1.0.0");
    std::fs::write(env.path("deep.yaml"), deep_yaml(100_000)).unwrap();
    let err = fails_fast(&env, &["template", "x", "c", "-f", "deep.yaml"]);
    assert_depth_error(&err, "deep.yaml");
}

#[test]
fn block_style_nesting_is_limited_too() {
    let env = Env::new();
    write_chart(&env.path("c"), "c", "1.0.0");
    let mut text = String::new();
    for i in 0..1_000 {
        text.push_str(&" ".repeat(i));
        text.push_str("k:\n");
    }
    std::fs::write(env.path("deep.yaml"), text).unwrap();
    let err = fails_fast(&env, &["template", "x", "c", "-f", "deep.yaml"]);
    assert!(err.contains("deep.yaml:"), "{err}");
    assert!(err.contains("STOKE_YAML_MAX_DEPTH"), "{err}");
}

#[test]
fn nested_block_sequences_on_one_line_are_limited_too() {
    let env = Env::new();
    write_chart(&env.path("c"), "c", "1.0.0");
    std::fs::write(
        env.path("deep.yaml"),
        format!("a:\n{}x\n", "- ".repeat(100_000)),
    )
    .unwrap();
    let err = fails_fast(&env, &["template", "x", "c", "-f", "deep.yaml"]);
    assert!(err.contains("deep.yaml:"), "{err}");
    assert!(err.contains("STOKE_YAML_MAX_DEPTH"), "{err}");
}

#[test]
fn the_limit_can_be_raised() {
    let env = Env::new();
    write_chart(&env.path("c"), "c", "1.0.0");
    std::fs::write(env.path("deep.yaml"), deep_yaml(200)).unwrap();
    let err = env.fails(&["values", "c", "-f", "deep.yaml"]);
    assert!(err.contains("STOKE_YAML_MAX_DEPTH"), "{err}");
    let out = common::stoke_command(&env.path(""))
        .env("STOKE_YAML_MAX_DEPTH", "250")
        .args(["values", "c", "-f", "deep.yaml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_packaged_chart_whose_values_yaml_is_nested_100000_deep_is_refused_at_once() {
    let env = Env::new();
    let values = deep_yaml(100_000);
    let tgz = gzip(&raw_tar(&[
        Raw::file(
            "deep/Chart.yaml",
            b"apiVersion: v2\nname: deep\nversion: 1.0.0\n",
        ),
        Raw::file("deep/values.yaml", values.as_bytes()),
    ]));
    std::fs::write(env.path("deep-1.0.0.tgz"), tgz).unwrap();
    let err = fails_fast(&env, &["template", "x", "deep-1.0.0.tgz"]);
    assert_depth_error(&err, "values.yaml");
}

#[test]
fn a_repository_index_nested_100000_deep_is_refused_at_once() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("srv")).unwrap();
    std::fs::write(
        env.path("srv/index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  x: {}\n",
            deep_yaml(100_000).trim_start_matches("a: ")
        ),
    )
    .unwrap();
    let server = HttpServer::start(&env.path("srv"));
    let err = fails_fast(&env, &["repo", "add", "deep", &server.url]);
    assert!(
        err.contains("index.yaml:3:"),
        "names the file and line: {err}"
    );
    assert!(err.contains("STOKE_YAML_MAX_DEPTH"), "{err}");
}

#[test]
fn a_duplicate_key_on_line_52_is_reported_at_line_52() {
    let env = Env::new();
    write_chart(&env.path("c"), "c", "1.0.0");
    let mut text = String::from("gateway:\n");
    for i in 0..50 {
        text.push_str(&format!("  key{i}: {i}\n"));
    }
    text.push_str("  key7: again\n");
    assert_eq!(text.lines().count(), 52);
    std::fs::write(env.path("dup.yaml"), &text).unwrap();
    let err = env.fails(&["values", "c", "-f", "dup.yaml"]);
    assert!(err.contains("dup.yaml:52:"), "{err}");
    assert!(err.contains("duplicate"), "{err}");
    assert!(err.contains("key7"), "names the key: {err}");
}
