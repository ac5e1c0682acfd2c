//! Output of `stoke store check|repair|migrate`.

use std::path::Path;

use anyhow::Result;

use super::{OutputFormat, lines, structured, warning};
use crate::storage::check::Problem;
use crate::storage::location::Location;
use crate::storage::migrate::MigrateReport;

/// `store check` (`repairing` false) or `store repair`: each problem and what repair does
/// or did about it.
pub fn problems(
    root: &Path,
    problems: &[Problem],
    repairing: bool,
    format: OutputFormat,
) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&problems, format);
    }
    if problems.is_empty() {
        return lines(&[format!("store `{}`: no problems found", root.display())]);
    }
    let mut text: Vec<String> = problems
        .iter()
        .map(|p| {
            let kind = serde_json::to_value(&p.kind).unwrap_or_default();
            format!(
                "{}: {} ({}); {}: {}",
                p.path.display(),
                kind.as_str().unwrap_or_default(),
                p.detail,
                if repairing {
                    "repaired"
                } else {
                    "repair would"
                },
                p.action
            )
        })
        .collect();
    if !repairing {
        text.push(format!(
            "{} problem(s); `stoke store repair` fixes them (damaged records are kept in quarantine/)",
            problems.len()
        ));
    }
    lines(&text)
}

/// `store migrate`: what was copied, then each skipped release as a warning.
pub fn migrated(
    from: &Location,
    to: &Location,
    report: &MigrateReport,
    format: OutputFormat,
) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(report, format);
    }
    lines(&[format!(
        "Migrated {} releases from {} to {}: {} revisions copied, {} already there; verified.",
        report.releases - report.conflicts.len(),
        from.display(),
        to.display(),
        report.revisions_copied,
        report.revisions_unchanged
    )])?;
    for c in &report.conflicts {
        warning(&format!("skipped {c}"));
    }
    Ok(())
}
