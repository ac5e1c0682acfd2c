//! Hostile values input: devices, FIFOs and endless standard input are refused or capped;
//! list growth by `--set` indices is bounded in total; unknown-key warnings name the key
//! once and never echo a value; many `--set` arguments cost linear time; `.nan`/`.inf` are
//! refused rather than turned into null.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{chart, stoke_in};

fn gw(root: &std::path::Path) -> String {
    chart(
        root,
        "gw",
        &[
            ("values.yaml", "replicas: 1\nimage:\n  tag: \"8.1\"\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  r: \"{{ values.replicas }}\"\n",
            ),
        ],
    )
    .to_str()
    .unwrap()
    .to_string()
}

/// Runs `stoke values` with a wall-clock bound, so a regression to reading forever fails
/// instead of hanging the suite.
fn bounded(
    cwd: &std::path::Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
) -> common::Run {
    let mut child = common::stoke_command(cwd)
        .args(args)
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    // Waiting in another thread drains both pipes, so a chatty child never blocks.
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(out) => out.unwrap().into(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("stoke {} did not finish within 20 s", args[0]);
        }
    }
}

#[test]
fn devices_fifos_and_folders_are_refused_as_values_files() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gw(tmp.path());
    let fifo = tmp.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap();
    for (flag, arg) in [
        ("-f", "/dev/zero".to_string()),
        ("-f", fifo.to_string()),
        ("-f", tmp.path().to_str().unwrap().to_string()),
        ("--set-file", "a=/dev/urandom".to_string()),
        ("--set-file", format!("a={fifo}")),
    ] {
        let r = bounded(tmp.path(), &["values", &c, flag, &arg], None, &[]).expect(1);
        assert!(
            r.stderr.contains("regular files only"),
            "{flag} {arg}: {}",
            r.stderr
        );
    }
}

#[test]
fn standard_input_is_read_only_through_dash_and_is_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gw(tmp.path());
    let r = bounded(
        tmp.path(),
        &["values", &c, "-f", "-"],
        Some(b"replicas: 3\n"),
        &[],
    )
    .expect(0);
    assert!(r.stdout.contains("replicas: 3"), "{}", r.stdout);
    let big = vec![b'#'; 2 * 1024 * 1024];
    let r = bounded(
        tmp.path(),
        &["values", &c, "-f", "-"],
        Some(&big),
        &[("STOKE_MAX_VALUES_FILE_BYTES", "1000000")],
    )
    .expect(1);
    assert!(
        r.stderr.contains("standard input") && r.stderr.contains("STOKE_MAX_VALUES_FILE_BYTES"),
        "{}",
        r.stderr
    );
}

#[test]
fn list_growth_by_set_indices_is_bounded_in_total() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gw(tmp.path());
    let one: Vec<String> = (0..1000).map(|i| format!("a{i}[65536]=1")).collect();
    let one = one.join(",");
    let r = bounded(tmp.path(), &["values", &c, "--set", &one], None, &[]).expect(1);
    assert!(
        r.stderr.contains("STOKE_MAX_SET_LIST_ITEMS"),
        "{}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    // Spread over many arguments, the same budget applies.
    let mut args = vec!["values".to_string(), c.clone()];
    for i in 0..100 {
        args.push("--set".into());
        args.push(format!("b{i}[65536]=1"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = bounded(tmp.path(), &args, None, &[]).expect(1);
    assert!(
        r.stderr.contains("STOKE_MAX_SET_LIST_ITEMS"),
        "{}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    // A real list index is fine.
    stoke_in(tmp.path(), &["values", &c, "--set", "hosts[3]=x"]).expect(0);
}

#[test]
fn unknown_key_warnings_name_the_key_once_and_never_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gw(tmp.path());
    let keys: Vec<String> = (0..5000).map(|i| format!("typo{i}=hunter2")).collect();
    let arg = keys.join(",");
    let r = bounded(
        tmp.path(),
        &[
            "values",
            &c,
            "--set",
            &arg,
            "--set",
            "replicsa=hunter2",
            "--set",
            "replicsa=hunter2",
        ],
        None,
        &[],
    )
    .expect(0);
    assert!(!r.stderr.contains("hunter2"), "a value was echoed");
    assert_eq!(
        r.stderr.matches("key `replicsa`").count(),
        1,
        "{}",
        &r.stderr[r.stderr.len() - 500..]
    );
    assert!(r.stderr.contains("did you mean `replicas`"));
    assert!(
        r.stderr.len() < 5000 * 120,
        "{} bytes of warnings",
        r.stderr.len()
    );
}

/// CPU seconds (user + system) that one `stoke values` process with `count` separate
/// `--set` arguments spends, read from the kernel's accounting of that child alone (so the
/// load of the machine and the other tests' processes do not enter it).
// The child is reaped by wait4, which std's Child cannot do while also returning the
// child's own resource use.
#[allow(clippy::zombie_processes)]
fn cpu_of_set_arguments(cwd: &std::path::Path, chart: &str, count: usize) -> f64 {
    let mut cmd = common::stoke_command(cwd);
    cmd.arg("values").arg(chart);
    for i in 0..count {
        cmd.arg("--set").arg(format!("image.k{i}=v"));
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value, and wait4 only writes into the two
    // out-parameters, which live for the whole call; `child` is never waited on again.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(
        waited,
        pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "stoke values with {count} --set arguments failed (status {status})"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// 20,000 `--set` arguments took 33 s when each one re-parsed everything before it. Ten times
/// the arguments must cost about ten times the CPU, not a hundred: judged on the CPU time of
/// the process (not the wall clock, which a loaded machine stretches), with room for noise.
#[test]
fn twenty_thousand_set_arguments_take_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gw(tmp.path());
    let small = cpu_of_set_arguments(tmp.path(), &c, 2_000);
    let large = cpu_of_set_arguments(tmp.path(), &c, 20_000);
    // The start-up of the process is in both, so a linear cost gives a ratio below 10; the
    // quadratic one gave about 100.
    let ratio = large / small.max(0.001);
    assert!(
        ratio < 35.0,
        "2,000 --set: {small:.3} s CPU, 20,000: {large:.3} s CPU (x{ratio:.1}; linear is about x10)"
    );
}

#[test]
fn nan_and_infinity_in_values_are_refused_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let c = gw(tmp.path());
    for (text, shown, key) in [
        ("replicas: .nan\n", ".nan", "replicas"),
        ("image:\n  tag: .inf\n", ".inf", "image.tag"),
        ("list:\n- 1\n- -.inf\n", "-.inf", "list[1]"),
    ] {
        std::fs::write(tmp.path().join("v.yaml"), text).unwrap();
        let r = stoke_in(tmp.path(), &["values", &c, "-f", "v.yaml"]).expect(1);
        assert!(
            r.stderr.contains("v.yaml") && r.stderr.contains(&format!("`{key}` is {shown}")),
            "{}",
            r.stderr
        );
    }
    // Quoted, it is text and passes.
    std::fs::write(tmp.path().join("v.yaml"), "image:\n  tag: \".nan\"\n").unwrap();
    stoke_in(tmp.path(), &["values", &c, "-f", "v.yaml"]).expect(0);
}
