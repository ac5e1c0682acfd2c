//! Output of `stoke fleet`: results release by release as they finish (in file order, with
//! the live progress lines taken off the screen while a result is written), the JSON/YAML
//! report, and the summary line that ends every run.

use std::io::Write;

use anstyle::AnsiColor;
use anyhow::Result;
use serde::Serialize;

use super::diff::colour_line;
use super::progress::suspend;
use super::{OutputFormat, Table, structured, styled};
use crate::fleet::apply::{Action, Applied};
use crate::fleet::diff::{ReleaseDiff, State};
use crate::fleet::status::ReleaseStatus;
use crate::record::ReleaseKey;

/// Counts per outcome, printed at the end.
#[derive(Default)]
pub struct Tally {
    counts: Vec<(&'static str, usize)>,
    failed: usize,
}

impl Tally {
    /// Counts one release that ended as `what`.
    pub fn add(&mut self, what: &'static str) {
        match self.counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((what, 1)),
        }
    }

    /// Counts a failed release and prints its error.
    pub fn fail(&mut self, e: &anyhow::Error) {
        self.failed += 1;
        suspend(|| super::error(e));
    }

    /// Whether any release failed.
    pub fn any_failed(&self) -> bool {
        self.failed > 0
    }

    /// Prints the summary line to stderr and returns the exit status.
    pub fn finish(&self, total: usize) -> i32 {
        crate::progress::finished();
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect();
        if self.failed > 0 {
            parts.push(styled(&format!("{} failed", self.failed), AnsiColor::Red));
        }
        let _ = writeln!(
            anstream::stderr(),
            "fleet: {total} release(s): {}",
            if parts.is_empty() {
                "nothing to do".to_string()
            } else {
                parts.join(", ")
            }
        );
        i32::from(self.failed > 0)
    }
}

/// The line after the summary of `fleet apply`: where the changes went.
pub fn delivered(line: &str) {
    let _ = writeln!(anstream::stderr(), "fleet: {line}");
}

/// A release's warnings, each prefixed with the release.
pub fn warnings(key: &impl std::fmt::Display, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    suspend(|| {
        for w in warnings {
            super::warning(&format!("{key}: {w}"));
        }
    });
}

/// A release that failed, in structured output.
#[derive(Serialize)]
struct Failure {
    name: String,
    namespace: String,
    error: String,
}

/// The JSON/YAML report of a fleet run: the releases' results and the failures.
#[derive(Serialize)]
pub struct Report<T> {
    releases: Vec<T>,
    failed: Vec<Failure>,
}

impl<T> Default for Report<T> {
    fn default() -> Report<T> {
        Report {
            releases: Vec::new(),
            failed: Vec::new(),
        }
    }
}

impl<T: Serialize> Report<T> {
    /// Adds a release's result.
    pub fn push(&mut self, result: T) {
        self.releases.push(result);
    }

    /// Adds a failed release.
    pub fn fail(&mut self, key: &ReleaseKey, e: &anyhow::Error) {
        self.failed.push(Failure {
            name: key.name.clone(),
            namespace: key.namespace.clone(),
            error: format!("{e:#}"),
        });
    }

    /// Prints the report.
    pub fn print(&self, format: OutputFormat) -> Result<()> {
        structured(self, format)
    }
}

/// One release of `fleet template`: its stream under a `# Release:` line, or the folder
/// written. An error writing stdout is returned for the caller to report once.
pub fn templated(key: &ReleaseKey, t: &crate::fleet::template::Templated) -> std::io::Result<()> {
    suspend(|| {
        let mut out = std::io::stdout().lock();
        match (&t.text, &t.dir) {
            (Some(text), _) => out
                .write_all(format!("# Release: {key}\n").as_bytes())
                .and_then(|_| out.write_all(text.as_bytes())),
            (None, Some(dir)) => {
                writeln!(out, "wrote {} ({} resources)", dir.display(), t.resources)
            }
            (None, None) => Ok(()),
        }
    })
}

/// One release of `fleet diff`: its state and reasons, then each changed resource's diff.
pub fn release_diff(d: &ReleaseDiff) {
    suspend(|| {
        let mut out = anstream::stdout();
        let (label, color) = match d.state {
            State::New => ("new", AnsiColor::Green),
            State::Changed => ("changed", AnsiColor::Yellow),
            State::Unchanged => ("unchanged", AnsiColor::White),
            State::Removed => ("removed", AnsiColor::Red),
        };
        let why = if d.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", d.reasons.join(", "))
        };
        let _ = writeln!(
            out,
            "{}/{}: {}{why}",
            d.namespace,
            d.name,
            styled(label, color)
        );
        if d.state == State::Unchanged {
            return;
        }
        for r in &d.resources {
            let _ = writeln!(
                out,
                "  {} {} {}",
                r.kind,
                r.name,
                serde_json::to_value(r.change)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
            for line in r.diff.lines() {
                let _ = writeln!(out, "    {}", colour_line(line));
            }
        }
    });
}

/// One release of `fleet apply`: what was done, at which revision, and why.
pub fn applied(key: &ReleaseKey, a: &Applied) {
    let why = if a.reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", a.reasons.join(", "))
    };
    let color = match a.action {
        Action::Installed => AnsiColor::Green,
        Action::Upgraded => AnsiColor::Yellow,
        Action::Unchanged => AnsiColor::White,
        Action::Uninstalled => AnsiColor::Red,
    };
    let dry = if a.dry_run { ", dry run" } else { "" };
    suspend(|| {
        let _ = writeln!(
            anstream::stdout(),
            "{key}: {} (revision {}{dry}){why}",
            styled(a.action.as_str(), color),
            a.revision
        );
    });
}

/// `fleet status`: one row per release; `cluster` says whether drift could be judged.
pub fn status(rows: &[ReleaseStatus], cluster: bool) -> Result<()> {
    let no_drift = if cluster { "-" } else { "n/a (no cluster)" };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.namespace.clone(),
                s.revision.map(|r| r.to_string()).unwrap_or("-".into()),
                s.status.clone(),
                s.chart.clone().unwrap_or("-".into()),
                s.drift.clone().unwrap_or(no_drift.into()),
            ]
        })
        .collect();
    Table::new(&["NAME", "NAMESPACE", "REVISION", "STATUS", "CHART", "DRIFT"])
        .rows(cells)
        .print()
}
