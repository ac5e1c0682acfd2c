//! A reader that goes away early (`stoke ... | head`) must stop stoke quietly, never make it
//! panic.

use std::io::Read;
use std::process::Stdio;

mod common;

/// Runs stoke with `args`, reads one byte of its output and closes the pipe, then returns
/// the exit status and stderr.
fn run_and_close_early(
    args: &[&str],
    store: &std::path::Path,
) -> (Option<i32>, Option<i32>, String) {
    use std::os::unix::process::ExitStatusExt;
    let mut child = common::stoke_command(&common::repo())
        .args(args)
        .env("STOKE_STORE", store)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    out.read_exact(&mut one).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), status.signal(), err)
}

#[test]
fn commands_whose_reader_goes_away_stop_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    common::stoke_in(
        &common::repo(),
        &[
            "install",
            "gw",
            "charts/ignition",
            "-f",
            "values/dev.yaml",
            "--store",
            store.to_str().unwrap(),
        ],
    )
    .expect(0);
    // A chart whose output is far larger than a pipe's buffer, so stoke is still writing
    // when the reader leaves.
    let big = common::chart(
        tmp.path(),
        "big",
        &[(
            "templates/cms.yaml",
            "{% for i in range(end=3000) %}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ i }}\ndata:\n  k: \"{{ i }} padding padding padding padding padding padding padding\"\n{% endfor %}",
        )],
    );
    let big = big.to_str().unwrap();
    common::stoke_in(
        tmp.path(),
        &["install", "many", big, "--store", store.to_str().unwrap()],
    )
    .expect(0);
    for args in [
        vec!["completion", "bash"],
        vec!["template", "gw", big],
        vec!["get", "manifest", "many"],
        vec!["history", "gw"],
    ] {
        let (code, signal, err) = run_and_close_early(&args, &store);
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
        assert_ne!(code, Some(101), "{args:?} exited 101:\n{err}");
        // Either it finished before noticing (0) or SIGPIPE stopped it, as it stops `cat`.
        assert!(
            code == Some(0) || signal == Some(libc_sigpipe()),
            "{args:?}: code {code:?}, signal {signal:?}\n{err}"
        );
    }
}

fn libc_sigpipe() -> i32 {
    13
}
