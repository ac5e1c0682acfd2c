//! `stoke version` and `stoke env`: what stoke is and the settings it runs with.

use anyhow::Result;
use clap::Args;

use super::OutputFormat;
use super::options::package::Env;
use super::print;

// Arguments of `stoke version` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print the version number only.
    #[arg(long)]
    pub short: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

// Arguments of `stoke env` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Print only this variable's value.
    pub name: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `stoke version`.
pub fn version(args: &VersionArgs) -> Result<i32> {
    print::info::version(args.short, args.output)?;
    Ok(0)
}

/// `stoke env`.
pub fn env(o: &Env) -> Result<i32> {
    print::info::env(o.variables.clone(), o.name.as_deref(), o.format)?;
    Ok(0)
}
