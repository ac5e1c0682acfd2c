//! Test-only crash points. `STOKE_FAILPOINT=NAME` makes the process exit at the point of
//! that name, as if killed there, so the binary-level tests can reproduce a crash at an
//! exact step of the store's write protocol (docs/store.md lists the points). In-process
//! tests inject faults through [`crate::storage::memory::MemoryStore`] instead.

use std::sync::OnceLock;

/// Exit status of a process stopped at a failpoint.
pub const EXIT_CODE: i32 = 86;

/// Stops the process at `name` when `STOKE_FAILPOINT` names it. Costs one environment
/// lookup per process.
pub fn failpoint(name: &str) {
    static ACTIVE: OnceLock<Option<String>> = OnceLock::new();
    let active = ACTIVE.get_or_init(|| std::env::var("STOKE_FAILPOINT").ok());
    if active.as_deref() == Some(name) {
        eprintln!("stoke: failpoint `{name}` reached; exiting as if killed");
        std::process::exit(EXIT_CODE);
    }
}
