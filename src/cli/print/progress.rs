//! Shows the library's progress events: a live line per item on a terminal (indicatif), one
//! plain line per change otherwise, so logs of CI jobs stay readable.
//!
//! The mode is chosen by the options layer ([`crate::cli::options::progress_mode`]:
//! `STOKE_PROGRESS=live|plain|off`, else from whether stderr is a terminal).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Event, Progress, State};

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Live lines redrawn in place (a terminal).
    Live,
    /// One line per change, never redrawn (pipes, CI logs).
    Plain,
    /// Nothing.
    Off,
}

/// Installs the renderer for `mode` as the process's progress sink.
pub fn install(mode: Mode) {
    let sink: Arc<dyn Progress> = match mode {
        Mode::Live => {
            let live = Live::default();
            *active().lock().unwrap_or_else(|p| p.into_inner()) = Some(live.multi.clone());
            Arc::new(live)
        }
        Mode::Plain => Arc::new(Plain::default()),
        Mode::Off => Arc::new(WarningsOnly),
    };
    crate::progress::install(sink);
}

/// The live lines on screen, when the live renderer is installed.
fn active() -> &'static Mutex<Option<MultiProgress>> {
    static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);
    &ACTIVE
}

/// Runs `print` with the live lines taken off the screen and draws them again afterwards,
/// so output written while work is under way (a fleet's results, an error) is not torn by
/// a redraw. Without live lines it just runs `print`.
pub fn suspend<R>(print: impl FnOnce() -> R) -> R {
    let multi = active().lock().unwrap_or_else(|p| p.into_inner()).clone();
    match multi {
        Some(m) => m.suspend(print),
        None => print(),
    }
}

fn mark(state: State) -> &'static str {
    match state {
        State::Pending => "·",
        State::Working => "…",
        State::Ready => "✓",
        State::Failed => "✗",
    }
}

fn line(id: &str, state: State, detail: &str) -> String {
    if detail.is_empty() {
        format!("{id}: {}", state.word())
    } else {
        format!("{id}: {} ({detail})", state.word())
    }
}

/// Shows warnings and nothing else: with progress off, a warning still says how the outcome
/// differs from what the user asked for.
struct WarningsOnly;

impl Progress for WarningsOnly {
    fn report(&self, event: Event) {
        if let Event::Warning(text) = event {
            super::warning(&text);
        }
    }
}

/// Prints a line whenever an item's state or detail changes; transfers are not shown.
#[derive(Default)]
struct Plain {
    last: Mutex<HashMap<String, (State, String)>>,
}

impl Progress for Plain {
    fn report(&self, event: Event) {
        let text = match event {
            Event::Phase(text) => text,
            Event::Warning(text) => {
                super::warning(&text);
                return;
            }
            Event::Item { id, state, detail } => {
                let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
                let now = (state, detail);
                if last.get(&id) == Some(&now) {
                    return;
                }
                let text = line(&id, now.0, &now.1);
                last.insert(id, now);
                text
            }
            Event::Transfer { .. } | Event::TransferEnd { .. } => return,
            Event::Finished => {
                self.last.lock().unwrap_or_else(|p| p.into_inner()).clear();
                return;
            }
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }
}

/// Keeps one redrawn line per item and per transfer.
struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Live {
    fn bar(&self, key: &str, make: impl FnOnce() -> ProgressBar) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.entry(key.to_string())
            .or_insert_with(|| self.multi.add(make()))
            .clone()
    }
}

fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn transfer_bar(total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{msg} {bytes}/{total_bytes} {wide_bar}"
    } else {
        "{spinner} {msg} {bytes}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

impl Progress for Live {
    fn report(&self, event: Event) {
        match event {
            Event::Phase(text) => {
                let _ = self.multi.println(text);
            }
            Event::Warning(text) => {
                self.multi.suspend(|| super::warning(&text));
            }
            Event::Item { id, state, detail } => {
                let text = format!("{} {}", mark(state), line(&id, state, &detail));
                if state.is_final() {
                    // A finished item leaves the live area for a line above it, so the area
                    // holds only what is under way: with a fleet of hundreds it would
                    // otherwise outgrow the terminal and hide the items still working.
                    let bar = self
                        .bars
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                        self.multi.remove(&bar);
                    }
                    let _ = self.multi.println(text);
                } else {
                    self.bar(&id, spinner).set_message(text);
                }
            }
            Event::Transfer { what, done, total } => {
                let bar = self.bar(&format!("transfer:{what}"), || transfer_bar(total));
                bar.set_message(format!("Downloading {what}"));
                bar.set_position(done);
            }
            Event::TransferEnd { what } => {
                let key = format!("transfer:{what}");
                if let Some(bar) = self
                    .bars
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&key)
                {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
            }
            Event::Finished => {
                let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
                for (_, bar) in bars.drain() {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self.multi.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_name_the_item_its_state_and_the_detail() {
        assert_eq!(
            line("StatefulSet/plant/gw", State::Working, "0/1 ready"),
            "StatefulSet/plant/gw: working (0/1 ready)"
        );
        assert_eq!(line("Job/plant/m", State::Ready, ""), "Job/plant/m: ready");
    }
}
