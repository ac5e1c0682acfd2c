//! `stoke unittest`: runs helm-unittest suites chart by chart; [`super::print::unittest`]
//! shows per-suite results, failures with their diffs, the totals and the JUnit report.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::options::package::Unittest;
use super::print;
use crate::unittest::{self, Report};

// Arguments of `stoke unittest` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct UnittestArgs {
    /// Chart directories whose suites to run.
    #[arg(required = true, value_name = "CHART")]
    pub charts: Vec<PathBuf>,
    /// Suite files to run, as globs relative to the chart (repeatable).
    #[arg(short = 'f', long = "file", value_name = "GLOB", default_value = unittest::runner::DEFAULT_SUITES)]
    pub files: Vec<String>,
    /// Values files applied to every suite after the suite's own (repeatable).
    #[arg(short = 'v', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Rewrite snapshots that no longer match instead of failing; review the changes.
    #[arg(short = 'u', long = "update-snapshot")]
    pub update_snapshot: bool,
    /// Fail a suite on fields helm-unittest ignores (unknown top-level keys other than
    /// `x-...`, unknown assertion parameters) instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// What templates see as `release.service` (`.Release.Service`). `Helm`, as under
    /// helm-unittest, so suites written for Helm run unchanged; `--release-service stoke`
    /// checks what `stoke template` and `stoke install` render.
    #[arg(long = "release-service", value_name = "NAME", default_value = unittest::runner::HELM_SERVICE)]
    pub release_service: String,
    /// Format of the --output-file report.
    #[arg(
        short = 't',
        long = "output-type",
        value_enum,
        ignore_case = true,
        default_value = "junit"
    )]
    pub output_type: ReportType,
    /// Also write the results to this file in --output-type's format.
    #[arg(long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

/// Machine-readable report formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportType {
    /// JUnit XML, read by most CI systems.
    #[value(name = "junit")]
    JUnit,
}

/// Runs the suites of every chart; exit code 1 when any test or suite failed.
pub fn run(o: &Unittest) -> Result<i32> {
    let mut combined = Report::default();
    for opts in &o.runs {
        let report = unittest::run(opts)?;
        print::unittest::chart_report(&opts.chart, &report)?;
        combined.absorb(report);
    }
    print::unittest::totals(&combined)?;
    if let Some(file) = &o.report_file {
        print::unittest::junit_file(file, &combined)?;
    }
    Ok(if combined.failed() { 1 } else { 0 })
}
