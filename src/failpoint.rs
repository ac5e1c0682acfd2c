//! Test-only crash points. `STOKE_FAILPOINT=NAME` makes the process exit at the point of
//! that name, as if killed there, so the binary-level tests can reproduce a crash at an
//! exact step of the store's write protocol (docs/store.md lists the points). In-process
//! tests inject faults through [`crate::storage::memory::MemoryStore`] instead.

use std::sync::OnceLock;

/// Exit status of a process stopped at a failpoint.
pub(crate) const EXIT_CODE: i32 = 86;

/// The panic payload of a thread stopped at a failpoint armed with [`arm_in_thread`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Killed(pub String);

thread_local! {
    static ARMED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Arms failpoint `name` for the current thread only, for in-process drivers (the store
/// conformance suite runs the in-memory store this way, as it lives in one process):
/// reaching it unwinds the thread with a [`Killed`] payload instead of exiting, so the
/// operation stops there as a killed process would, its locks released by their guards.
/// `None` disarms.
pub fn arm_in_thread(name: Option<&str>) {
    ARMED.with(|a| *a.borrow_mut() = name.map(str::to_string));
}

/// Stops the process at `name` when `STOKE_FAILPOINT` names it; `NAME@N` stops the N-th
/// time the point is reached (to cut a write of many files half-way). Costs one environment
/// lookup per process.
pub fn failpoint(name: &str) {
    if ARMED.with(|a| a.borrow().as_deref() == Some(name)) {
        arm_in_thread(None);
        std::panic::panic_any(Killed(name.to_string()));
    }
    static ACTIVE: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let active = ACTIVE.get_or_init(|| {
        let v = std::env::var("STOKE_FAILPOINT").ok()?;
        Some(match v.split_once('@') {
            Some((n, k)) => (n.to_string(), k.parse().unwrap_or(1)),
            None => (v, 1),
        })
    });
    if let Some((point, nth)) = active
        && point == name
        && HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1 == *nth
    {
        eprintln!("stoke: failpoint `{name}` reached; exiting as if killed");
        std::process::exit(EXIT_CODE);
    }
}
