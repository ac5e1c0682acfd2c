//! `stoke store ...`: commands about release stores themselves.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::OutputFormat;
use crate::storage::LockWait;
use crate::storage::location::Location;

/// Arguments of `stoke store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

/// The `store` subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every release with its whole history from one store to another (verified,
    /// safe to re-run, never deletes the source).
    #[command(
        after_help = "Example:\n  stoke store migrate --from ~/.local/share/stoke --to 'postgres://stoke@db:5432/stoke?sslmode=verify-full'"
    )]
    Migrate(MigrateArgs),
}

/// Arguments of `stoke store migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy from (any --store LOCATION); it is only read.
    #[arg(long, value_name = "LOCATION")]
    pub from: String,
    /// The store to copy into.
    #[arg(long, value_name = "LOCATION")]
    pub to: String,
    /// Wait up to DURATION for operations in progress on a release, instead of failing.
    #[arg(long, value_name = "DURATION", value_parser = super::release::parse_duration)]
    pub wait_lock: Option<Duration>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs `stoke store ...`.
pub fn run(cli: &super::Cli, args: &StoreArgs) -> Result<i32> {
    match &args.command {
        StoreCommand::Migrate(a) => migrate(cli, a),
    }
}

fn migrate(cli: &super::Cli, a: &MigrateArgs) -> Result<i32> {
    let kube = super::kube_args::kube_options(cli);
    let from = Location::parse(&a.from)?;
    let to = Location::parse(&a.to)?;
    if from == to {
        bail!(
            "--from and --to name the same store ({}): give the store to copy into as --to",
            to.display()
        );
    }
    let source = crate::storage::location::open_location(&from, &kube)?;
    let dest = crate::storage::location::open_location(&to, &kube)?;
    let wait = a.wait_lock.map_or(LockWait::FailFast, LockWait::Up);
    let report = crate::storage::migrate::migrate(source.as_ref(), dest.as_ref(), wait)?;
    match a.output {
        OutputFormat::Table => {
            println!(
                "Migrated {} releases from {} to {}: {} revisions copied, {} already there; verified.",
                report.releases - report.conflicts.len(),
                from.display(),
                to.display(),
                report.revisions_copied,
                report.revisions_unchanged
            );
            for c in &report.conflicts {
                super::output::print_warning(&format!("skipped {c}"));
            }
        }
        f => super::output::print_structured(&report, f)?,
    }
    if !report.conflicts.is_empty() {
        bail!(
            "{} release(s) were not migrated because the destination already holds a different history for them (listed above); the source is unchanged",
            report.conflicts.len()
        );
    }
    Ok(0)
}
