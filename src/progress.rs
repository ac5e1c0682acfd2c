//! Progress of long-running work, reported as events through a callback.
//!
//! The library never writes progress to the terminal itself: a download, a wait for
//! readiness or a fleet run emits [`Event`]s to the process's [`Progress`] sink, and the
//! command line decides how to show them (a live line per item on a terminal, plain lines
//! otherwise, nothing under `--quiet` or in the library's own tests). The sink is process-wide
//! because progress comes from deep inside operations (a dependency download inside chart
//! resolution) where threading a parameter through every layer would couple them for no gain.
//!
//! This module is a leaf: it imports nothing from the crate.

use std::sync::{Arc, RwLock};

/// The state of one tracked item (an object being applied or waited on, a hook, a release of
/// a fleet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started or not yet observed.
    Pending,
    /// Under way: applying, rolling out, running.
    Working,
    /// Finished well: applied, ready, complete.
    Ready,
    /// Finished badly; the detail says why.
    Failed,
}

impl State {
    /// The word used in plain progress lines.
    pub fn word(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Working => "working",
            State::Ready => "ready",
            State::Failed => "failed",
        }
    }

    /// True once the item will not change again.
    pub fn is_final(self) -> bool {
        matches!(self, State::Ready | State::Failed)
    }
}

/// One thing that happened during an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A phase of the operation began, e.g. "waiting for 4 resources (timeout 5m)".
    Phase(String),
    /// Something the user should know even when progress is not shown, because the outcome
    /// differs from what they may expect: an object left in place by the keep policy, one
    /// that is another owner's. The text has no `warning:` prefix; the renderer adds it.
    Warning(String),
    /// A tracked item changed state. `id` is stable for the item ("StatefulSet/plant/gw");
    /// `detail` says what is happening now ("1/2 replicas ready").
    Item {
        /// Stable name of the item; the renderer keys its line on it.
        id: String,
        /// Where the item stands.
        state: State,
        /// Human detail for the current state; may be empty.
        detail: String,
    },
    /// Bytes moved so far by a download or upload named `what`; `total` when known.
    Transfer {
        /// What is moving ("index of repository `plant`").
        what: String,
        /// Bytes so far.
        done: u64,
        /// Expected bytes, when the server said.
        total: Option<u64>,
    },
    /// The transfer named `what` ended (finished or failed).
    TransferEnd {
        /// The name given in [`Event::Transfer`].
        what: String,
    },
    /// The operation is over: renderers clear live lines before the final report is printed.
    Finished,
}

/// Where progress events go. Implementations must be cheap: events can come many times a
/// second and from several threads (a fleet renders releases in parallel).
pub trait Progress: Send + Sync {
    /// Receives one event.
    fn report(&self, event: Event);
}

/// Drops every event: the default until the command line installs a renderer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn report(&self, _event: Event) {}
}

fn sink() -> &'static RwLock<Arc<dyn Progress>> {
    static SINK: std::sync::OnceLock<RwLock<Arc<dyn Progress>>> = std::sync::OnceLock::new();
    SINK.get_or_init(|| RwLock::new(Arc::new(Silent)))
}

/// Makes `progress` the process's sink and returns the one it replaced.
pub fn install(progress: Arc<dyn Progress>) -> Arc<dyn Progress> {
    let mut slot = sink().write().unwrap_or_else(|p| p.into_inner());
    std::mem::replace(&mut *slot, progress)
}

/// Sends `event` to the process's sink.
pub fn report(event: Event) {
    let current = sink().read().unwrap_or_else(|p| p.into_inner()).clone();
    current.report(event);
}

/// Reports that item `id` is now in `state`, with `detail`.
pub fn item(id: impl Into<String>, state: State, detail: impl Into<String>) {
    report(Event::Item {
        id: id.into(),
        state,
        detail: detail.into(),
    });
}

/// Reports the start of a phase.
pub fn phase(text: impl Into<String>) {
    report(Event::Phase(text.into()));
}

/// Reports a warning (see [`Event::Warning`]).
pub fn warning(text: impl Into<String>) {
    report(Event::Warning(text.into()));
}

/// Reports that the operation is over (renderers clear their live lines).
pub fn finished() {
    report(Event::Finished);
}

/// Keeps every event it receives, for tests of code that reports progress.
#[derive(Debug, Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<Event>>,
}

impl Recorder {
    /// The events received so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Progress for Recorder {
    fn report(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_the_installed_sink_in_order_and_the_old_sink_comes_back() {
        let rec = Arc::new(Recorder::default());
        let old = install(rec.clone());
        phase("waiting");
        warning("kept ConfigMap/ns/c (helm.sh/resource-policy: keep)");
        item("Job/ns/j", State::Working, "0/1 complete");
        item("Job/ns/j", State::Ready, "");
        finished();
        install(old);
        let ids: Vec<_> = rec
            .events()
            .into_iter()
            .filter(|e| matches!(e, Event::Item { id, .. } if id == "Job/ns/j"))
            .collect();
        assert_eq!(ids.len(), 2, "other tests may report too, but ours arrive");
        assert!(rec.events().contains(&Event::Warning(
            "kept ConfigMap/ns/c (helm.sh/resource-policy: keep)".into()
        )));
        // Events after the old sink is back do not reach the recorder.
        let before = rec.events().len();
        phase("later");
        assert_eq!(rec.events().len(), before);
    }

    #[test]
    fn only_ready_and_failed_are_final() {
        assert!(State::Ready.is_final() && State::Failed.is_final());
        assert!(!State::Pending.is_final() && !State::Working.is_final());
    }
}
