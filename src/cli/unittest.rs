//! `stoke unittest`: argument parsing and the report, printed for people or as JUnit XML.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::output::styled;
use crate::unittest::{Options, Outcome, Report};

/// Machine-readable report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportType {
    /// JUnit XML.
    #[value(name = "JUnit", alias = "junit")]
    JUnit,
}

/// Arguments of `stoke unittest`.
#[derive(Debug, Args)]
pub struct UnittestArgs {
    /// Chart directory.
    pub chart: PathBuf,
    /// Suite files to run, as globs relative to the chart (repeatable; default tests/*_test.yaml).
    #[arg(short = 'f', long = "file", value_name = "GLOB")]
    pub files: Vec<String>,
    /// Rewrite snapshots that differ instead of failing.
    #[arg(short = 'u', long = "update-snapshot")]
    pub update_snapshot: bool,
    /// Also write a report in this format (with --output-file).
    #[arg(
        short = 't',
        long = "output-type",
        value_enum,
        requires = "output_file"
    )]
    pub output_type: Option<ReportType>,
    /// Where to write the report.
    #[arg(long = "output-file", value_name = "FILE", requires = "output_type")]
    pub output_file: Option<PathBuf>,
}

/// Runs the suites and prints the report; exit status 1 when anything failed.
pub fn run(args: &UnittestArgs) -> Result<i32> {
    let report = crate::unittest::run(&Options {
        chart: args.chart.clone(),
        patterns: args.files.clone(),
        update_snapshots: args.update_snapshot,
    })?;
    print(&report)?;
    if let (Some(ReportType::JUnit), Some(file)) = (args.output_type, &args.output_file) {
        std::fs::write(file, crate::unittest::junit::render(&report))
            .with_context(|| format!("cannot write the JUnit report to `{}`", file.display()))?;
    }
    Ok(if report.failed() { 1 } else { 0 })
}

fn print(report: &Report) -> Result<()> {
    let mut out = anstream::stdout();
    for s in &report.suites {
        let label = if s.failed() {
            styled(" FAIL ", anstyle::AnsiColor::Red)
        } else {
            styled(" PASS ", anstyle::AnsiColor::Green)
        };
        writeln!(out, "{label} {}\t{}", s.name, s.file.display())?;
        if let Some(e) = &s.error {
            for line in e.lines() {
                writeln!(out, "    {line}")?;
            }
        }
        for t in &s.tests {
            match &t.outcome {
                Outcome::Passed => {}
                Outcome::Skipped(reason) => writeln!(out, "    - {} (skipped: {reason})", t.name)?,
                Outcome::Failed(failures) => {
                    writeln!(out, "    - {}", t.name)?;
                    for f in failures {
                        for line in f.to_string().lines() {
                            writeln!(out, "        {line}")?;
                        }
                    }
                }
            }
        }
    }
    let suites_failed = report.suites.iter().filter(|s| s.failed()).count();
    let (tests, failed, skipped) = report.counts();
    writeln!(out)?;
    writeln!(
        out,
        "Suites: {} passed, {suites_failed} failed",
        report.suites.len() - suites_failed
    )?;
    let passed = tests - failed - skipped;
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    writeln!(out, "Tests: {passed} passed, {failed} failed{skipped}")?;
    if report.snapshots_created + report.snapshots_updated > 0 {
        writeln!(
            out,
            "Snapshots: {} created, {} updated",
            report.snapshots_created, report.snapshots_updated
        )?;
    }
    Ok(())
}
