//! The in-process driver: how the conformance suite runs stoke against the in-memory store.
//!
//! Why in-process: the memory store lives and dies with one process, so two `stoke`
//! processes can never share one, and a binary run against it would start empty each time.
//! The suite's cases are written as stoke command lines; this driver performs each one by
//! calling the same library functions the CLI handlers call (`release::install::install`,
//! `release::history::history_lenient`, `release::status::report`, ...) on one shared
//! [`MemoryStore`], and answers with the exit code, JSON and `error: ...` text the binary
//! would give. It understands exactly the words the suite uses and panics on any other, so
//! a new case cannot silently be run as something else.
//!
//! What stands in for the process boundary:
//! - a crash at a named failpoint (`STOKE_FAILPOINT`) is [`stoke::failpoint::arm_in_thread`]:
//!   the operation's thread unwinds at that point, its lock guard released as the OS
//!   releases a dead process's lock; exit code 86 as the binary's;
//! - kill -9 at a random moment is [`MemoryStore::kill_at_write`]: the operation's writes
//!   stop at a random one. Reads have no effect on the store and each write is atomic, so
//!   "killed before write N" covers every moment a signal can land;
//! - the two "machines" of the concurrency case are threads: separate HOME folders mean
//!   nothing to a store that is not on disk, and the lock is what is under test.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use stoke::record::ReleaseKey;
use stoke::release::{ChartInput, Env};
use stoke::storage::LockWait;
use stoke::storage::memory::MemoryStore;

use super::Run;

/// Exit code of a process stopped at a failpoint, as the binary's.
pub const FAILPOINT_EXIT: i32 = 86;

/// The words of one command line, as the driver understands them.
#[derive(Default)]
struct Words<'a> {
    positional: Vec<&'a str>,
    namespace: Option<&'a str>,
    json: bool,
    sets: Vec<&'a str>,
    history_max: Option<usize>,
    wait: Option<Duration>,
    install: bool,
    keep_history: bool,
    revision: Option<u64>,
    all_namespaces: bool,
    all: bool,
    max: Option<usize>,
}

fn duration(text: &str) -> Duration {
    let (n, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = n.parse().unwrap_or_else(|_| panic!("bad duration {text}"));
    match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(60 * n),
        _ => panic!("the in-process driver does not know the duration {text}"),
    }
}

fn parse<'a>(args: &[&'a str]) -> Words<'a> {
    let mut w = Words::default();
    let mut it = args.iter().copied();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{a} needs a value in {args:?}"))
        };
        match a {
            "-n" => w.namespace = Some(value()),
            "-o" => w.json = value() == "json",
            "--set" => w.sets.push(value()),
            "--history-max" => w.history_max = Some(value().parse().unwrap()),
            "--wait-lock" => w.wait = Some(duration(value())),
            "--revision" => w.revision = Some(value().parse().unwrap()),
            "--max" => w.max = Some(value().parse().unwrap()),
            "--install" => w.install = true,
            "--keep-history" => w.keep_history = true,
            "-A" => w.all_namespaces = true,
            "-a" => w.all = true,
            flag if flag.starts_with('-') => {
                panic!("the in-process driver does not know {flag} (in {args:?}): teach it")
            }
            word => w.positional.push(word),
        }
    }
    w
}

/// Stoke against one shared in-memory store, run in this process.
pub struct InProcess {
    pub store: Arc<MemoryStore>,
}

impl InProcess {
    pub fn new() -> InProcess {
        // A failpoint crash unwinds with a `Killed` payload; the default hook would print
        // it as a panic of the test. Every other panic is reported as before.
        static QUIET: Once = Once::new();
        QUIET.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if info
                    .payload()
                    .downcast_ref::<stoke::failpoint::Killed>()
                    .is_none()
                {
                    previous(info);
                }
            }));
        });
        InProcess {
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// Performs one command line; `failpoint` crashes it there, as `STOKE_FAILPOINT` does.
    pub fn run(&self, args: &[&str], failpoint: Option<&str>) -> Run {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            stoke::failpoint::arm_in_thread(failpoint);
            let out = self.perform(args);
            stoke::failpoint::arm_in_thread(None);
            out
        }));
        match outcome {
            Ok(Ok(stdout)) => Run {
                code: 0,
                stdout,
                stderr: String::new(),
            },
            Ok(Err(e)) => Run {
                code: 1,
                stdout: String::new(),
                stderr: error_text(&e),
            },
            Err(payload) => match payload.downcast::<stoke::failpoint::Killed>() {
                Ok(k) => Run {
                    code: FAILPOINT_EXIT,
                    stdout: String::new(),
                    stderr: format!("stoke: failpoint `{}` reached; stopped as if killed", k.0),
                },
                Err(other) => std::panic::resume_unwind(other),
            },
        }
    }

    /// Performs `args` with its writes killed at the `nth` one; says whether the kill
    /// landed (an operation with fewer writes completes, as a process signalled after it
    /// exited).
    pub fn run_killed_at_write(&self, args: &[&str], nth: usize) -> bool {
        self.store.kill_at_write(nth);
        let r = self.run(args, None);
        let killed = self.store.revive();
        assert!(
            killed || r.code == 0,
            "an operation that was not killed failed: {}",
            r.stderr
        );
        killed
    }

    fn perform(&self, args: &[&str]) -> anyhow::Result<String> {
        let w = parse(args);
        let store: &dyn stoke::storage::Store = &self.store;
        let env = Env {
            store,
            target: None,
            wait: w.wait.map_or(LockWait::FailFast, LockWait::Up),
        };
        let ns = w.namespace.unwrap_or("default");
        let key = |i: usize| ReleaseKey::new(ns, w.positional[i]);
        let pos = |i: usize| w.positional.get(i).copied();
        // Reports are answered as JSON whatever `-o` says: the suite reads only JSON.
        let json = |v: &dyn erased::Json| -> anyhow::Result<String> { Ok(v.to_json()) };
        match (pos(0), pos(1)) {
            (Some("install"), _) => {
                let chart = stoke::chart::load::load(Path::new(pos(2).unwrap()))?;
                let input = input(&chart, &w.sets)?;
                let opts = stoke::release::install::InstallOptions::default();
                let done = stoke::release::install::install(&env, &key(1)?, &input, &opts)?;
                json_or_done(&w, &stoke::release::status::report(&done.revision))
            }
            (Some("upgrade"), _) => {
                let chart = stoke::chart::load::load(Path::new(pos(2).unwrap()))?;
                let input = input(&chart, &w.sets)?;
                let opts = stoke::release::upgrade::UpgradeOptions {
                    install: w.install,
                    history_max: w.history_max.unwrap_or(10),
                    ..Default::default()
                };
                let done = stoke::release::upgrade::upgrade(&env, &key(1)?, &input, &opts)?;
                json_or_done(&w, &stoke::release::status::report(&done.revision))
            }
            (Some("rollback"), _) => {
                let opts = stoke::release::rollback::RollbackOptions {
                    revision: pos(2).map(|r| r.parse().unwrap()),
                    history_max: w.history_max.unwrap_or(10),
                    ..Default::default()
                };
                let done = stoke::release::rollback::rollback(&env, &key(1)?, &opts)?;
                json_or_done(&w, &stoke::release::status::report(&done.revision))
            }
            (Some("uninstall"), _) => {
                let opts = stoke::release::uninstall::UninstallOptions {
                    keep_history: w.keep_history,
                    ..Default::default()
                };
                stoke::release::uninstall::uninstall(&env, &key(1)?, &opts)?;
                Ok(format!("release \"{}\" uninstalled\n", w.positional[1]))
            }
            (Some("history"), _) => {
                let max = w.max.unwrap_or(256);
                let rows: Vec<serde_json::Value> =
                    stoke::release::history::history_lenient(store, &key(1)?, Some(max))?
                        .into_iter()
                        .map(|r| match r {
                            Ok(s) => serde_json::json!({
                                "revision": s.revision, "status": s.status.to_string(),
                                "description": s.description,
                            }),
                            Err(d) => serde_json::json!({
                                "revision": d.revision, "status": "damaged",
                                "description": d.problem,
                            }),
                        })
                        .collect();
                json(&rows)
            }
            (Some("status"), _) => {
                let rev = stoke::release::get::revision(store, &key(1)?, w.revision)?;
                json(&stoke::release::status::report(&rev))
            }
            (Some("get"), Some("values")) => {
                let rev = stoke::release::get::revision(store, &key(2)?, w.revision)?;
                json(&rev.user_values)
            }
            (Some("get"), Some("all")) => {
                let rev = stoke::release::get::revision(store, &key(2)?, w.revision)?;
                Ok(serde_json::to_string(&rev)?)
            }
            (Some("get"), Some("hooks")) => {
                let rev = stoke::release::get::revision(store, &key(2)?, w.revision)?;
                Ok(rev.hooks_text())
            }
            (Some("get"), Some("manifest")) => {
                let rev = stoke::release::get::revision(store, &key(2)?, w.revision)?;
                Ok(rev.manifest_text())
            }
            (Some("list"), _) => {
                let opts = stoke::release::list::ListOptions {
                    all: w.all,
                    namespace: (!w.all_namespaces).then(|| ns.to_string()),
                    max: w.max.unwrap_or(256),
                    ..Default::default()
                };
                let (heads, damaged) = stoke::release::list::list_lenient(store, &opts)?;
                assert!(damaged.is_empty(), "damaged heads: {damaged:?}");
                let rows: Vec<serde_json::Value> = heads
                    .iter()
                    .map(|h| {
                        serde_json::json!({
                            "name": h.key.name, "namespace": h.key.namespace,
                            "revision": h.summary.revision,
                            "status": h.summary.status.to_string(),
                            "description": h.summary.description,
                        })
                    })
                    .collect();
                json(&rows)
            }
            _ => panic!("the in-process driver does not know the command {args:?}: teach it"),
        }
    }
}

/// A lifecycle command's output: the status JSON with `-o json`, a line otherwise.
fn json_or_done(
    w: &Words,
    report: &stoke::release::status::StatusReport,
) -> anyhow::Result<String> {
    if w.json {
        Ok(serde_json::to_string(report)?)
    } else {
        Ok(format!("revision {} {}\n", report.revision, report.status))
    }
}

fn input<'c>(chart: &'c stoke::chart::Chart, sets: &[&str]) -> anyhow::Result<ChartInput<'c>> {
    let opts = stoke::values::ValuesOptions {
        files: Vec::new(),
        sets: sets
            .iter()
            .map(|s| (stoke::values::SetKind::Set, s.to_string()))
            .collect(),
        skip_schema_validation: false,
    };
    Ok(ChartInput {
        chart,
        values: stoke::values::read_user_values(&opts)?,
        capabilities: Default::default(),
    })
}

/// The binary's error text: `error: ...` and one `caused by:` line per cause.
fn error_text(e: &anyhow::Error) -> String {
    let mut out = format!("error: {e}\n");
    for cause in e.chain().skip(1) {
        out.push_str(&format!("  caused by: {cause}\n"));
    }
    out
}

/// Serializing `&dyn` values for the JSON answers.
mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).expect("JSON")
        }
    }
}
