//! Output of the chart commands: create, lint, template, values and show.

use std::io::Write;
use std::path::{Path, PathBuf};

use anstyle::AnsiColor;
use anyhow::Result;

use super::{OutputFormat, lines, note, structured, styled};
use crate::chart::Chart;
use crate::cli::chart_cmds::ShowWhat;
use crate::lint::{Report as LintReport, Severity};

/// `stoke create`.
pub fn created(dir: &Path) -> Result<()> {
    lines(&[format!("Created chart {}", dir.display())])
}

/// The provenance check of a chart fetched for rendering, on stderr (stdout may carry
/// manifests).
pub fn verified(v: &crate::provenance::Verification) {
    note(&format!(
        "Verified {} (signed by {})",
        v.file_name,
        v.signed_by.join(", ")
    ));
}

/// `stoke lint`: each chart's findings (only warnings and errors when `quiet`), why a
/// chart failed only under --strict, and the totals.
pub fn lint(
    reports: &[LintReport],
    failed: usize,
    strict: bool,
    quiet: bool,
    format: OutputFormat,
) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&reports, format);
    }
    let mut out = anstream::stdout();
    for r in reports {
        let shown: Vec<_> = r
            .findings
            .iter()
            .filter(|f| !quiet || f.severity != Severity::Info)
            .collect();
        if quiet && shown.is_empty() {
            continue;
        }
        writeln!(out, "==> Linting {}", r.chart)?;
        for f in shown {
            let label = match f.severity {
                Severity::Info => styled("[INFO]", AnsiColor::Blue),
                Severity::Warning => styled("[WARNING]", AnsiColor::Yellow),
                Severity::Error => styled("[ERROR]", AnsiColor::Red),
            };
            writeln!(out, "{label} {}: {}", f.location, f.message)?;
        }
        let strict_only = r.strict_failures(strict);
        if !strict_only.is_empty() {
            writeln!(
                out,
                "{} failed only because --strict fails on warnings; these {} warning(s) did it:",
                r.chart,
                strict_only.len()
            )?;
            for f in strict_only {
                writeln!(out, "  - {}: {}", f.location, f.message)?;
            }
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} chart(s) linted, {failed} chart(s) failed",
        reports.len()
    )?;
    Ok(())
}

/// The files `template --output-dir` wrote.
pub fn written(paths: &[PathBuf]) -> Result<()> {
    let text: Vec<String> = paths
        .iter()
        .map(|p| format!("wrote {}", p.display()))
        .collect();
    lines(&text)
}

/// `stoke template`'s stream: the CRDs (with --include-crds), the manifests, then the
/// notes as comments (with --notes) under their own `# Source:` line.
pub fn manifests(crds: Option<&str>, manifests: &str, notes: Option<(&str, &str)>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(crds) = crds {
        out.write_all(crds.as_bytes())?;
    }
    out.write_all(manifests.as_bytes())?;
    if let Some((chart_path, notes)) = notes {
        writeln!(out, "---\n# Source: {chart_path}/templates/NOTES.txt")?;
        for line in notes.lines() {
            writeln!(out, "# {line}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `stoke show`: Chart.yaml, values.yaml, the README, the CRDs, or the first three.
pub fn show(what: ShowWhat, chart: &Chart, crds: Option<&str>) -> Result<()> {
    let readme = chart.readme();
    let chart_yaml = crate::yaml::to_string(&chart.metadata)?;
    let mut out = std::io::stdout().lock();
    match what {
        ShowWhat::Chart => write!(out, "{chart_yaml}")?,
        ShowWhat::Values => write!(out, "{}", chart.values_text)?,
        ShowWhat::Readme => match readme {
            Some(r) => write!(out, "{r}")?,
            None => anyhow::bail!("chart `{}` has no README.md", chart.name()),
        },
        ShowWhat::Crds => write!(out, "{}", crds.unwrap_or_default())?,
        ShowWhat::All => {
            write!(out, "{chart_yaml}---\n{}", chart.values_text)?;
            if let Some(r) = readme {
                write!(out, "---\n{r}")?;
            }
        }
    }
    Ok(())
}
