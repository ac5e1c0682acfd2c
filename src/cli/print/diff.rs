//! Coloured unified diffs: of a release's resources (`diff upgrade`, `diff revision`) and
//! the line colouring `fleet diff` and `unittest` share.

use std::io::Write;

use anstyle::AnsiColor;
use anyhow::Result;

use super::{OutputFormat, structured, styled};
use crate::diff::{Change, ResourceDiff};

/// One line of a unified diff, coloured by its kind (headers, additions, removals, hunks).
pub fn colour_line(line: &str) -> String {
    if line.starts_with("+++") || line.starts_with("---") {
        styled(line, AnsiColor::White)
    } else if line.starts_with('+') {
        styled(line, AnsiColor::Green)
    } else if line.starts_with('-') {
        styled(line, AnsiColor::Red)
    } else if line.starts_with("@@") {
        styled(line, AnsiColor::Cyan)
    } else {
        line.to_string()
    }
}

/// The resources' diffs, each under a `NAMESPACE, NAME, KIND has changed:` line, then the
/// counts; `namespace` stands in for resources that name none.
pub fn resource_diffs(namespace: &str, diffs: &[ResourceDiff], format: OutputFormat) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&diffs, format);
    }
    let mut out = anstream::stdout();
    if diffs.is_empty() {
        writeln!(out, "No changes.")?;
        return Ok(());
    }
    for d in diffs {
        let ns = d.namespace.as_deref().unwrap_or(namespace);
        let (verb, color) = match d.change {
            Change::Added => ("has been added", AnsiColor::Green),
            Change::Removed => ("has been removed", AnsiColor::Red),
            Change::Changed => ("has changed", AnsiColor::Yellow),
        };
        writeln!(
            out,
            "{}",
            styled(&format!("{ns}, {}, {} {verb}:", d.name, d.kind), color)
        )?;
        for line in d.diff.lines() {
            writeln!(out, "{}", colour_line(line))?;
        }
    }
    let count = |c: Change| diffs.iter().filter(|d| d.change == c).count();
    writeln!(
        out,
        "{} added, {} changed, {} removed",
        count(Change::Added),
        count(Change::Changed),
        count(Change::Removed)
    )?;
    Ok(())
}
