//! `stoke unittest`: chart unit tests in helm-unittest's suite format, run against stoke's
//! renderer.
//!
//! A suite file (`tests/*_test.yaml`) holds suites; each test renders the chart with its
//! values and release settings, picks documents by template, index or selector, and checks
//! them with assertions. docs/unittest.md lists the fields and where stoke differs.

pub mod assert;
pub mod junit;
pub mod kinds;
pub mod path;
pub mod runner;
pub mod snapshot;
pub mod suite;

use std::path::PathBuf;

use serde_json::Value as Json;

pub use runner::{Options, run};

/// Why an assertion failed, in parts a printer can lay out.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// The template checked, relative to the chart (`templates/deployment.yaml`).
    pub template: Option<String>,
    /// The document's index within the template.
    pub document: Option<usize>,
    /// The path checked.
    pub path: Option<String>,
    /// What went wrong (`expected to equal`, `unknown path ...`).
    pub message: String,
    /// The expected value, as YAML.
    pub expected: Option<String>,
    /// The actual value, as YAML.
    pub actual: Option<String>,
    /// Whether a diff of expected and actual helps.
    pub diff: bool,
}

impl Failure {
    /// A failure that is a plain message.
    pub fn message(msg: impl Into<String>) -> Self {
        Failure {
            message: msg.into(),
            ..Failure::default()
        }
    }

    /// A unified diff from expected to actual, when it helps.
    pub(crate) fn diff_text(&self) -> Option<String> {
        if !self.diff {
            return None;
        }
        let (e, a) = (self.expected.as_deref()?, self.actual.as_deref()?);
        let (e, a) = (format!("{e}\n"), format!("{a}\n"));
        let diff = similar::TextDiff::from_lines(&e, &a);
        Some(
            diff.unified_diff()
                .context_radius(2)
                .header("expected", "actual")
                .to_string(),
        )
    }
}

/// The result of one assertion that failed.
#[derive(Debug, Clone)]
pub struct AssertionFailure {
    /// Its position in the test's `asserts`.
    pub index: usize,
    /// The type as written.
    pub type_name: String,
    /// Whether `not: true` was set.
    pub not: bool,
    /// Its line in the suite file.
    pub line: usize,
    /// What failed.
    pub failures: Vec<Failure>,
}

/// How one test ended.
#[derive(Debug, Clone)]
pub enum TestStatus {
    /// Every assertion held.
    Passed,
    /// Some assertions failed.
    Failed(Vec<AssertionFailure>),
    /// The test could not run (values file missing, render output not YAML, ...).
    Error(String),
    /// Skipped, with the reason.
    Skipped(String),
}

/// One test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// `it:`.
    pub name: String,
    /// Line in the suite file.
    pub line: usize,
    /// Outcome.
    pub status: TestStatus,
    /// Time taken.
    pub duration: std::time::Duration,
}

/// One suite's result.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// `suite:`, or the file name.
    pub name: String,
    /// The suite file.
    pub file: PathBuf,
    /// Test results in order; empty when the suite could not be read.
    pub tests: Vec<TestResult>,
    /// Why the suite file could not be used.
    pub error: Option<String>,
}

impl SuiteResult {
    /// Whether the suite counts as passed (every test passed or was skipped).
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self
                .tests
                .iter()
                .all(|t| matches!(t.status, TestStatus::Passed | TestStatus::Skipped(_)))
    }

    /// Whether every test was skipped.
    pub fn skipped(&self) -> bool {
        self.error.is_none()
            && !self.tests.is_empty()
            && self
                .tests
                .iter()
                .all(|t| matches!(t.status, TestStatus::Skipped(_)))
    }
}

/// Snapshot bookkeeping across the run.
#[derive(Debug, Clone, Default)]
pub struct SnapshotSummary {
    /// Snapshots compared.
    pub total: usize,
    /// Snapshots that did not match (0 with `-u`).
    pub failed: usize,
    /// Snapshots written for the first time.
    pub created: usize,
    /// Snapshots rewritten under `-u`.
    pub updated: usize,
}

impl SnapshotSummary {
    /// Snapshots that matched.
    pub fn passed(&self) -> usize {
        self.total - self.failed - self.created - self.updated
    }

    fn add(&mut self, other: &SnapshotSummary) {
        self.total += other.total;
        self.failed += other.failed;
        self.created += other.created;
        self.updated += other.updated;
    }
}

/// How many items (suites or tests) ended which way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed, or could not run.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

/// The totals a run closes with.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Suites: a suite passes when all its tests passed or were skipped, and is skipped
    /// when all were skipped.
    pub suites: Counts,
    /// Tests.
    pub tests: Counts,
    /// Snapshot counts.
    pub snapshots: SnapshotSummary,
}

/// The result of a whole run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The name of the chart that ran (Chart.yaml's `name`); a report that absorbed others
    /// keeps its own.
    pub chart_name: String,
    /// Suites in the order they ran.
    pub suites: Vec<SuiteResult>,
    /// Snapshot counts.
    pub snapshots: SnapshotSummary,
    /// Suite fields that were ignored, as `file:line: ...` (see `--strict`).
    pub warnings: Vec<String>,
}

impl Report {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        self.suites.iter().any(|s| !s.passed())
    }

    /// Adds another run's suites, snapshot counts and warnings to this one (one report
    /// for several charts).
    pub fn absorb(&mut self, other: Report) {
        self.suites.extend(other.suites);
        self.snapshots.add(&other.snapshots);
        self.warnings.extend(other.warnings);
    }

    /// The counts the run closes with.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            snapshots: self.snapshots.clone(),
            ..Totals::default()
        };
        for s in &self.suites {
            if s.skipped() {
                t.suites.skipped += 1;
            } else if s.passed() {
                t.suites.passed += 1;
            } else {
                t.suites.failed += 1;
            }
            for test in &s.tests {
                match test.status {
                    TestStatus::Passed => t.tests.passed += 1,
                    TestStatus::Skipped(_) => t.tests.skipped += 1,
                    TestStatus::Failed(_) | TestStatus::Error(_) => t.tests.failed += 1,
                }
            }
        }
        t
    }
}

/// Deep equality where numbers compare by value (`1` equals `1.0`), as YAML authors expect.
pub(crate) fn values_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}
