//! The printer: everything stoke writes to stdout and stderr about a command's result.
//!
//! Command handlers hand library results to the functions here, one module per command
//! family; nothing else under src/cli/ writes to the terminal (tests/module_layers.rs keeps
//! it so). The shared pieces are here and in the submodules: structured output (JSON and
//! YAML), [`table::Table`] (aligned columns, `--no-headers`), [`diff`] (coloured unified
//! diffs), errors and warnings, and [`progress`] (the library's progress events).
//!
//! Colour goes through `anstream`, which drops it when the stream is not a terminal or
//! `NO_COLOR` is set, so nothing here decides about colour on its own.

pub mod chart;
pub mod cluster;
pub mod diff;
pub mod fleet;
pub mod info;
pub mod package;
pub mod progress;
pub mod release;
pub mod store;
pub mod table;
pub mod unittest;

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

pub use table::Table;

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

/// How record times are shown in tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// Local, readable (`timestamp::human_time`).
    Human,
    /// A Go layout, as Helm's `--time-format` takes it (checked by the options layer).
    Layout(String),
}

impl TimeFormat {
    /// `rfc3339` in this format.
    pub fn show(&self, rfc3339: &str) -> String {
        match self {
            TimeFormat::Human => crate::timestamp::human_time(rfc3339),
            TimeFormat::Layout(layout) => crate::timefmt::format(rfc3339, layout),
        }
    }
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();

/// Prints `error: <what>` and each cause on its own line to stderr.
pub fn error(err: &anyhow::Error) {
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

/// Prints a usage error that already carries its own `error:` text (a Helm-habit hint).
pub fn usage_hint(text: &str) {
    let _ = writeln!(anstream::stderr(), "{text}");
}

/// Prints `warning: <what>` to stderr.
pub fn warning(text: &str) {
    let mut stderr = anstream::stderr();
    let _ = writeln!(stderr, "{WARNING}warning{WARNING:#}: {text}");
}

/// Prints each of `warnings`.
pub fn warnings(warnings: &[String]) {
    for w in warnings {
        warning(w);
    }
}

/// A line on stderr that is not a warning: a note beside the data on stdout (`No results
/// found`, where a write went when stdout carries JSON).
pub fn note(text: &str) {
    let _ = writeln!(anstream::stderr(), "{text}");
}

/// Lines on stdout, each as given.
pub fn lines<S: AsRef<str>>(lines: &[S]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for l in lines {
        writeln!(out, "{}", l.as_ref())?;
    }
    Ok(())
}

/// Whether stderr (where progress and warnings go) is a terminal.
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Flushes what was written to stdout, so an error writing it surfaces here.
pub fn flush() -> std::io::Result<()> {
    std::io::stdout().flush()
}

/// Writes `value` as JSON (pretty, with a trailing newline) or YAML to stdout.
pub fn structured<T: Serialize>(value: &T, format: OutputFormat) -> anyhow::Result<()> {
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

/// Prints a shell completion script for `cmd`.
pub fn completion(shell: clap_complete::Shell, cmd: &mut clap::Command) {
    clap_complete::generate(shell, cmd, "stoke", &mut std::io::stdout());
}
