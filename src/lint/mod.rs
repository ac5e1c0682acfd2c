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

impl Report {
    /// The warnings that fail the lint only because of `--strict` (empty when an error
    /// fails it anyway, or when not strict), so the user is told what to fix.
    pub fn strict_failures(&self, strict: bool) -> Vec<&Finding> {
        if !strict || self.findings.iter().any(|f| f.severity == Severity::Error) {
            return Vec::new();
        }
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .collect()
    }
}

/// The subcharts below `chart`'s `charts/` folder, at any depth, as Helm's
/// `lint --with-subcharts` finds them: folders holding a Chart.yaml, and packaged `.tgz`
/// files. Symbolic links are not followed. A packaged chart has none to list.
pub fn subchart_paths(chart: &Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                if path.join("Chart.yaml").is_file() {
                    out.push(path.clone());
                }
                walk(&path, out);
            } else if kind.is_file() && (name.ends_with(".tgz") || name.ends_with(".tar.gz")) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&chart.join("charts"), &mut out);
    out
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
