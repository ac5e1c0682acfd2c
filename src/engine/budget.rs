//! The render budget: what one render of a chart may cost, so a hostile or buggy template
//! (or a values file feeding `tpl`) ends in a clear error instead of a crash, a hang or an
//! exhausted machine. docs/limits.md lists the bounds and how to raise them.
//!
//! - nesting of `tpl` and `include` inside one another ([`crate::limits::TEMPLATE_DEPTH`]);
//!   Tera bounds direct component recursion itself, but each `include` starts afresh;
//! - depth of values serialised by `to_json` / `to_yaml` ([`crate::limits::VALUE_DEPTH`]);
//! - loop iterations drawn from `range` ([`crate::limits::RENDER_ITERATIONS`]);
//! - bytes of rendered output, all templates together ([`crate::limits::RENDER_OUTPUT_BYTES`]);
//! - and, for what no counter can see (a loop over a large list nested in itself, a string
//!   doubled in a variable), wall-clock time and memory growth, watched from outside the
//!   render (a timer signal, engine/alarm.rs, or a watchdog thread), which ends the process
//!   with an error naming the chart. That is safe because rendering happens before
//!   anything is written: the store and output folders are untouched, and the OS releases
//!   the release lock.
//!
//! The render runs on a large stack (its own, switched to on the calling thread, or a
//! render thread's), so deep but legitimate recursion (printing a deeply nested value) has
//! room, and the memory watch fires well before that stack could be exhausted.

use std::cell::Cell;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tera::{Error, TeraResult, Value};

use crate::limits::{
    RENDER_ITERATIONS, RENDER_MEMORY_BYTES, RENDER_OUTPUT_BYTES, RENDER_SECONDS, TEMPLATE_DEPTH,
    VALUE_DEPTH,
};

/// Stack reserved for the render thread: more than the memory the render may add, so the
/// memory watch (which sees touched stack pages as resident memory) always fires before the
/// stack could run out. Only the pages used are ever committed.
fn render_stack() -> usize {
    let want = RENDER_MEMORY_BYTES.get().saturating_add(256 << 20);
    usize::try_from(want.clamp(1 << 30, 16 << 30)).unwrap_or(1 << 30)
}

thread_local! {
    static DEPTH: Cell<u64> = const { Cell::new(0) };
    static ITERATIONS: Cell<u64> = const { Cell::new(0) };
    static OUTPUT: Cell<u64> = const { Cell::new(0) };
    static OUTPUT_EXCEEDED: Cell<bool> = const { Cell::new(false) };
    static DEPTH_EXCEEDED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// When this render stopped at the nesting limit, that error: `tpl` and `include` then
/// pass it up as it is instead of wrapping it once per level (a hundred-fold message).
pub fn depth_exceeded() -> Option<Error> {
    DEPTH_EXCEEDED.with(|e| e.borrow().clone().map(Error::message))
}

/// Counts one level of `tpl` / `include` nesting for as long as it lives.
pub struct DepthGuard(());

impl DepthGuard {
    /// Enters one more level, or fails naming `what` when the nesting is too deep.
    pub fn enter(what: &str) -> TeraResult<DepthGuard> {
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        if depth > TEMPLATE_DEPTH.get() {
            DEPTH.with(|d| d.set(d.get() - 1));
            let message = TEMPLATE_DEPTH.message(format!(
                "{what} is nested in itself too deeply (endless recursion?)"
            ));
            DEPTH_EXCEEDED.with(|e| *e.borrow_mut() = Some(message.clone()));
            return Err(Error::message(message));
        }
        Ok(DepthGuard(()))
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Charges `n` loop iterations (a `range` of that many elements).
pub fn charge_iterations(n: u64) -> TeraResult<()> {
    let total = ITERATIONS.with(|i| {
        i.set(i.get().saturating_add(n));
        i.get()
    });
    if total > RENDER_ITERATIONS.get() {
        return Err(Error::message(RENDER_ITERATIONS.message(
            "the loops of this render run too many times (nested `range` loops?)",
        )));
    }
    Ok(())
}

/// Fails when `v` nests deeper than [`VALUE_DEPTH`]; checked without recursion, before
/// anything recursive (serialisation) touches the value.
pub fn check_value_depth(v: &Value, what: &str) -> TeraResult<()> {
    let limit = VALUE_DEPTH.get();
    let mut stack: Vec<(&Value, u64)> = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        if d > limit {
            return Err(Error::message(
                VALUE_DEPTH.message(format!("{what}: the value is nested too deeply")),
            ));
        }
        if let Some(items) = v.as_array() {
            stack.extend(items.iter().map(|i| (i, d + 1)));
        } else if let Some(map) = v.as_map() {
            stack.extend(map.values().map(|i| (i, d + 1)));
        }
    }
    Ok(())
}

/// A writer for rendered output that stops once the render's total passes
/// [`RENDER_OUTPUT_BYTES`].
pub struct CappedOutput<'a>(pub &'a mut Vec<u8>);

impl Write for CappedOutput<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let total = OUTPUT.with(|o| {
            o.set(o.get().saturating_add(buf.len() as u64));
            o.get()
        });
        if total > RENDER_OUTPUT_BYTES.get() {
            OUTPUT_EXCEEDED.with(|e| e.set(true));
            return Err(std::io::Error::other("render output budget exceeded"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether the last render failed because its output passed the budget; the error Tera
/// reports for a failed write says nothing useful, so callers replace it.
pub fn output_exceeded() -> bool {
    OUTPUT_EXCEEDED.with(Cell::get)
}

/// The error for an over-budget output, naming the template where it happened.
pub fn output_error(template: &str) -> anyhow::Error {
    RENDER_OUTPUT_BYTES.exceeded(format!(
        "rendering {template} brings the chart's output past its total size"
    ))
}

struct Watch {
    id: u64,
    chart: String,
    deadline: Instant,
    seconds: u64,
    rss_limit: u64,
}

/// Renders in progress (several at once only in the library's own tests).
static WATCHES: Mutex<Vec<Watch>> = Mutex::new(Vec::new());

fn watches() -> std::sync::MutexGuard<'static, Vec<Watch>> {
    WATCHES.lock().unwrap_or_else(|e| e.into_inner())
}

fn start_watchdog() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("render-watchdog".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(Duration::from_millis(10));
                    let guard = watches();
                    if guard.is_empty() {
                        continue;
                    }
                    let rss = super::alarm::resident_bytes();
                    for w in guard.iter() {
                        let over_time = Instant::now() > w.deadline;
                        let over_memory = rss.is_some_and(|r| r > w.rss_limit);
                        if !over_time && !over_memory {
                            continue;
                        }
                        eprint!("{}", over_budget_message(&w.chart, w.seconds, over_time));
                        std::process::exit(1);
                    }
                }
            });
    });
}

/// The message the process ends with when a render passes its time or memory budget.
fn over_budget_message(chart: &str, seconds: u64, over_time: bool) -> String {
    let message = if over_time {
        RENDER_SECONDS.message(format!(
            "rendering chart `{chart}` took more than {seconds} s"
        ))
    } else {
        RENDER_MEMORY_BYTES.message(format!("rendering chart `{chart}` needs too much memory"))
    };
    format!("error: {message}\nnothing was written (the render comes before every write)\n")
}

/// Runs `render` (one render of `chart`) under a fresh budget and the time and memory
/// watch, on a large stack:
/// - on a render worker ([`spawn_render_worker`]), in place, watched by the watchdog thread;
/// - else on this thread, switched to a large stack of its own and watched by a timer
///   signal (engine/alarm.rs), so a one-chart command stays single-threaded;
/// - else (another render on this thread's path is already watched by the timer, as in the
///   library's parallel tests) on a new render thread, watched by the watchdog thread.
pub fn run<T: Send>(chart: &str, render: impl FnOnce() -> T + Send) -> T {
    let seconds = RENDER_SECONDS.get();
    let rss_limit = super::alarm::resident_bytes()
        .unwrap_or(0)
        .saturating_add(RENDER_MEMORY_BYTES.get());
    if !ON_RENDER_THREAD.with(Cell::get)
        && let Some(_armed) = super::alarm::arm(
            seconds,
            rss_limit,
            &over_budget_message(chart, seconds, true),
            &over_budget_message(chart, seconds, false),
        )
    {
        reset_counters();
        return stacker::grow(render_stack(), render);
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    watches().push(Watch {
        id,
        chart: chart.to_string(),
        deadline: Instant::now() + Duration::from_secs(seconds),
        seconds,
        rss_limit,
    });
    start_watchdog();
    // Removes the watch however the render ends, a panic included.
    struct Unwatch(u64);
    impl Drop for Unwatch {
        fn drop(&mut self) {
            watches().retain(|w| w.id != self.0);
        }
    }
    let _unwatch = Unwatch(id);
    if ON_RENDER_THREAD.with(Cell::get) {
        reset_counters();
        return render();
    }
    // Counters are per thread, and this thread is new: the budget starts full.
    let result = std::thread::scope(|s| {
        render_thread("render")
            .spawn_scoped(s, || {
                ON_RENDER_THREAD.with(|r| r.set(true));
                render()
            })
            .map(|h| h.join())
    });
    match result {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("cannot start the render thread ({e}); raise the process limits"),
    }
}

thread_local! {
    static ON_RENDER_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn render_thread(name: &str) -> std::thread::Builder {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(render_stack())
}

/// A fresh budget for the next render on a reused render thread.
fn reset_counters() {
    DEPTH.with(|d| d.set(0));
    ITERATIONS.with(|i| i.set(0));
    OUTPUT.with(|o| o.set(0));
    OUTPUT_EXCEEDED.with(|e| e.set(false));
    DEPTH_EXCEEDED.with(|e| *e.borrow_mut() = None);
}

/// Starts `work` on a worker thread in `scope` on which every [`run`] renders in place, each
/// render under a fresh budget. A command rendering many charts (a fleet) keeps a few such
/// workers instead of starting and tearing down a large-stack thread per render, which on
/// this machine class cost more CPU than the render itself (unmapping the stack flushes
/// every core's address cache).
pub fn spawn_render_worker<'scope, 'env, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    work: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    render_thread("render-worker")
        .spawn_scoped(scope, move || {
            ON_RENDER_THREAD.with(|r| r.set(true));
            work()
        })
        .unwrap_or_else(|e| panic!("cannot start a render worker ({e}); raise the process limits"))
}
