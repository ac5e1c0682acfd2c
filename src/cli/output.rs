//! Printing: structured output formats, errors and warnings, colour when a person watches.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

/// How a command prints the data it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts (field names are stable).
    Json,
    /// YAML.
    Yaml,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();

/// Prints `error: <what>` and each cause on its own line to stderr.
pub fn print_error(err: &anyhow::Error) {
    let mut stderr = anstream::stderr();
    let _ = writeln!(stderr, "{ERROR}error{ERROR:#}: {err}");
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(stderr, "  caused by: {first}");
        }
        for line in lines {
            let _ = writeln!(stderr, "  {line}");
        }
    }
}

/// Prints `warning: <what>` to stderr.
pub fn print_warning(text: &str) {
    let mut stderr = anstream::stderr();
    let _ = writeln!(stderr, "{WARNING}warning{WARNING:#}: {text}");
}

/// Writes `value` as JSON (pretty, with a trailing newline) or YAML to stdout.
pub fn print_structured<T: Serialize>(value: &T, format: OutputFormat) -> anyhow::Result<()> {
    let mut stdout = anstream::stdout();
    match format {
        OutputFormat::Json | OutputFormat::Table => {
            writeln!(stdout, "{}", serde_json::to_string_pretty(value)?)?;
        }
        OutputFormat::Yaml => {
            write!(stdout, "{}", crate::yaml::to_string(value)?)?;
        }
    }
    Ok(())
}

/// A coloured label for lint levels and statuses.
pub fn styled(text: &str, color: AnsiColor) -> String {
    let style = color.on_default().bold();
    format!("{style}{text}{style:#}")
}

/// Prints rows as aligned columns, the first row being the header, with no borders (like
/// Helm's and kubectl's lists), so the output greps and cuts cleanly.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    table_of(Some(header), rows)
}

/// [`print_table`] without the header row (`--no-headers`).
pub fn print_table_rows(rows: &[Vec<String>]) -> anyhow::Result<()> {
    table_of(None, rows)
}

fn table_of(header: Option<&[&str]>, rows: &[Vec<String>]) -> anyhow::Result<()> {
    use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if let Some(header) = header {
        table.set_header(header.iter().copied());
    }
    for row in rows {
        table.add_row(row.iter().map(String::as_str));
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
        column.set_cell_alignment(CellAlignment::Left);
    }
    let mut stdout = anstream::stdout();
    for line in table.lines() {
        writeln!(stdout, "{}", line.trim_end())?;
    }
    Ok(())
}
