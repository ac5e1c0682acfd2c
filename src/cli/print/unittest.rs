//! Output of `stoke unittest`: per-suite results, failures with their diffs, the totals,
//! and the JUnit report file.

use std::io::Write;
use std::path::Path;

use anstyle::{AnsiColor, Style};
use anyhow::{Context, Result};

use crate::unittest::{AssertionFailure, Report, TestStatus};

const PASS: Style = AnsiColor::Green.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const SKIP: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const ADD: Style = AnsiColor::Green.on_default();
const DEL: Style = AnsiColor::Red.on_default();

/// One chart's run: its warnings, a header naming the chart, then each suite.
pub fn chart_report(chart: &Path, report: &Report) -> Result<()> {
    super::warnings(&report.warnings);
    let mut out = anstream::stdout();
    writeln!(
        out,
        "\n### Chart [ {} ] {}\n",
        report.chart_name,
        chart.display()
    )?;
    print_suites(&mut out, report)
}

/// The totals of every chart's run.
pub fn totals(combined: &Report) -> Result<()> {
    print_totals(&mut anstream::stdout(), combined)
}

/// Writes the JUnit XML report of `combined` to `file`, failures described as on screen
/// but without colour.
pub fn junit_file(file: &Path, combined: &Report) -> Result<()> {
    let xml = crate::unittest::junit::render(combined, |st| match st {
        TestStatus::Failed(f) => f.iter().map(|a| assertion_text(a, false)).collect(),
        _ => String::new(),
    });
    std::fs::write(file, xml)
        .with_context(|| format!("cannot write the test report `{}`", file.display()))
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
