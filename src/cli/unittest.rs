//! `stoke unittest`: runs helm-unittest suites and prints per-suite results, failures with
//! their diffs, and the totals.

use std::io::Write;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use crate::unittest::{self, AssertionFailure, Report, TestStatus};

/// Arguments of `stoke unittest`.
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

const PASS: Style = AnsiColor::Green.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const SKIP: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const ADD: Style = AnsiColor::Green.on_default();
const DEL: Style = AnsiColor::Red.on_default();

/// Runs the suites of every chart; exit code 1 when any test or suite failed.
pub fn run(args: &UnittestArgs) -> Result<i32> {
    let mut out = anstream::stdout();
    let mut combined = Report::default();
    for chart in &args.charts {
        let report = unittest::run(&unittest::Options {
            chart: chart.clone(),
            files: args.files.clone(),
            update_snapshots: args.update_snapshot,
            values: args.values.clone(),
            strict: args.strict,
            release_service: Some(args.release_service.clone()),
        })?;
        for w in &report.warnings {
            super::output::print_warning(w);
        }
        writeln!(
            out,
            "\n### Chart [ {} ] {}\n",
            report.chart_name,
            chart.display()
        )?;
        print_suites(&mut out, &report)?;
        combined.absorb(report);
    }
    print_totals(&mut out, &combined)?;
    if let Some(file) = &args.output_file {
        let xml = match args.output_type {
            ReportType::JUnit => unittest::junit::render(&combined, |st| match st {
                TestStatus::Failed(f) => f.iter().map(|a| assertion_text(a, false)).collect(),
                _ => String::new(),
            }),
        };
        std::fs::write(file, xml)
            .with_context(|| format!("cannot write the test report `{}`", file.display()))?;
    }
    Ok(if combined.failed() { 1 } else { 0 })
}

fn print_suites(out: &mut impl Write, report: &Report) -> Result<()> {
    for s in &report.suites {
        let file = s.file.display();
        let label = if s.skipped() {
            format!("{SKIP}SKIP{SKIP:#}")
        } else if s.passed() {
            format!("{PASS}PASS{PASS:#}")
        } else {
            format!("{FAIL}FAIL{FAIL:#}")
        };
        writeln!(out, " {label}  {}\t{DIM}{file}{DIM:#}", s.name)?;
        if let Some(e) = &s.error {
            for line in format!("error: {e}").lines() {
                writeln!(out, "\t{line}")?;
            }
            writeln!(out)?;
        }
        for t in &s.tests {
            match &t.status {
                TestStatus::Passed => {}
                TestStatus::Skipped(reason) => {
                    writeln!(out, "\t{SKIP}- {}{SKIP:#}  (skipped: {reason})", t.name)?;
                }
                TestStatus::Error(e) => {
                    writeln!(
                        out,
                        "\t{FAIL}- {}{FAIL:#}  {DIM}{file}:{}{DIM:#}",
                        t.name, t.line
                    )?;
                    for line in format!("error: {e}").lines() {
                        writeln!(out, "\t\t{line}")?;
                    }
                    writeln!(out)?;
                }
                TestStatus::Failed(fails) => {
                    writeln!(
                        out,
                        "\t{FAIL}- {}{FAIL:#}  {DIM}{file}:{}{DIM:#}",
                        t.name, t.line
                    )?;
                    for a in fails {
                        for line in assertion_text(a, true).lines() {
                            writeln!(out, "\t\t{line}")?;
                        }
                    }
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}

/// One failed assertion, laid out as helm-unittest does: type, template, document, path,
/// expected, actual and a diff.
fn assertion_text(a: &AssertionFailure, colour: bool) -> String {
    let style = |s: Style, text: &str| {
        if colour {
            format!("{s}{text}{s:#}")
        } else {
            text.to_string()
        }
    };
    let mut t = String::new();
    let not = if a.not { " (not: true)" } else { "" };
    t.push_str(&format!(
        "- asserts[{}] `{}`{not} failed (line {})\n",
        a.index, a.type_name, a.line
    ));
    let indent = |text: &str| -> String {
        text.lines()
            .map(|l| format!("\t\t{l}\n"))
            .collect::<String>()
    };
    for f in &a.failures {
        if let Some(tpl) = &f.template {
            t.push_str(&format!("\tTemplate:\t{tpl}\n"));
        }
        if let Some(d) = f.document {
            t.push_str(&format!("\tDocumentIndex:\t{d}\n"));
        }
        if let Some(p) = &f.path {
            t.push_str(&format!("\tPath:\t{p}\n"));
        }
        let colon = if f.expected.is_some() { ":" } else { "" };
        for line in format!("{}{colon}", f.message).lines() {
            t.push_str(&format!("\t{line}\n"));
        }
        if let Some(e) = &f.expected {
            t.push_str(&indent(if e.is_empty() { "<none>" } else { e }));
        }
        if let Some(actual) = &f.actual {
            t.push_str("\tActual:\n");
            t.push_str(&indent(if actual.is_empty() { "<none>" } else { actual }));
        }
        if let Some(diff) = f.diff_text() {
            t.push_str("\tDiff:\n");
            for line in diff.lines() {
                let shown = if line.starts_with('+') && !line.starts_with("+++") {
                    style(ADD, line)
                } else if line.starts_with('-') && !line.starts_with("---") {
                    style(DEL, line)
                } else {
                    line.to_string()
                };
                t.push_str(&format!("\t\t{shown}\n"));
            }
        }
    }
    t
}

fn print_totals(out: &mut impl Write, r: &Report) -> Result<()> {
    let t = r.totals();
    let skipped_text = |n: usize| {
        if n > 0 {
            format!(", {n} skipped")
        } else {
            String::new()
        }
    };
    writeln!(
        out,
        "Suites: {} passed, {} failed{}",
        t.suites.passed,
        t.suites.failed,
        skipped_text(t.suites.skipped)
    )?;
    writeln!(
        out,
        "Tests: {} passed, {} failed{}",
        t.tests.passed,
        t.tests.failed,
        skipped_text(t.tests.skipped)
    )?;
    let s = &t.snapshots;
    if s.total > 0 {
        writeln!(
            out,
            "Snapshots: {} passed, {} failed, {} created, {} updated",
            s.passed(),
            s.failed,
            s.created,
            s.updated
        )?;
        if s.failed > 0 {
            writeln!(
                out,
                "Run with -u (--update-snapshot) to accept the changed snapshots after reviewing them."
            )?;
        }
    }
    Ok(())
}
