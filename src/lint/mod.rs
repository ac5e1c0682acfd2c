//! Lint rules over a chart, its values and its rendered output.

mod rules;

use std::path::Path;

use serde::Serialize;

use crate::engine::RenderOptions;
use crate::values::ValuesOptions;

/// How serious a finding is. With `--strict`, warnings fail the lint too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails.
    Info,
    /// Probably wrong; fails with `--strict`.
    Warning,
    /// Wrong; always fails.
    Error,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The file (or template) it is about.
    pub location: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// All findings for one chart.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The chart that was linted.
    pub chart: String,
    /// Findings in the order the rules ran.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether the lint fails: any error, or any warning under `strict`.
    pub fn failed(&self, strict: bool) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Error || (strict && f.severity == Severity::Warning))
    }
}

/// Lints the chart at `path`, rendering it with the given values.
pub fn lint(path: &Path, values: &ValuesOptions, opts: &RenderOptions) -> Report {
    let mut findings = Vec::new();
    rules::run(path, values, opts, &mut findings);
    Report {
        chart: path.display().to_string(),
        findings,
    }
}
