//! README's tour is a promise: a new user who copies it line by line must see every command
//! succeed. This test takes the tour's shell block from README.md and runs it top to bottom,
//! exactly as written, with the built `stoke` first on PATH, in a fresh folder that holds
//! copies of the repository's charts/, values/ and examples/.

use std::path::Path;
use std::process::Command;

mod common;

/// The lines of the first ```sh block after the `## A tour` heading; comment-only lines and
/// blank lines dropped, trailing comments kept (bash ignores them).
fn tour_commands(readme: &str) -> Vec<String> {
    let start = readme
        .find("\n## A tour")
        .expect("README.md has a `## A tour` section");
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("the tour has a ```sh block") + "```sh\n".len();
    let close = rest[open..]
        .find("```")
        .expect("the tour's block is closed")
        + open;
    rest[open..close]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-R")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp runs");
    assert!(status.success(), "copying {}", from.display());
}

#[test]
fn every_command_of_the_readme_tour_succeeds_as_written() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let commands = tour_commands(&readme);
    assert!(
        commands.len() >= 10,
        "the tour should show the main commands, found {commands:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for dir in ["charts", "values", "examples"] {
        copy_tree(&common::repo().join(dir), &work);
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_stoke")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    for (n, line) in commands.iter().enumerate() {
        let out = Command::new("bash")
            .arg("-o")
            .arg("pipefail")
            .arg("-ec")
            .arg(line)
            .current_dir(&work)
            .env("PATH", &path)
            .env("HOME", &home)
            .env_remove("STOKE_STORE")
            .env_remove("KUBECONFIG")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "tour command {} failed: {line}\n--- stdout\n{}\n--- stderr\n{}",
            n + 1,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_tour_block_is_found_and_split_into_commands() {
    let readme =
        "x\n## A tour\n\n```sh\n# a comment\nstoke lint c   # trailing\n\nstoke list\n```\n";
    assert_eq!(
        tour_commands(readme),
        vec![
            "stoke lint c   # trailing".to_string(),
            "stoke list".to_string()
        ]
    );
}
