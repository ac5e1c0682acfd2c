//! `stoke store check|repair|migrate`: each handler receives its resolved options, calls
//! [`crate::storage::check`] or [`crate::storage::migrate`] and hands the result to
//! [`super::print::store`].

use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::OutputFormat;
use super::options::Globals;
use super::options::store::{Migrate, file_store};
use super::print;

// Arguments of `stoke store` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

// What to do with the store.
#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Read every record and report damage, stale heads and leftovers (exit 1 if any).
    #[command(after_help = "Example:\n  stoke store check -o json")]
    Check(StoreOpts),
    /// Quarantine damaged records, rebuild heads from the revisions, clear leftovers.
    #[command(after_help = "Example:\n  stoke store repair --store ~/.local/share/stoke")]
    Repair(StoreOpts),
    /// Copy every release and its whole history to another store.
    ///
    /// The copy is verified, re-running it copies nothing twice, and the source is never
    /// deleted.
    #[command(
        after_help = "Example:\n  stoke store migrate --from ~/.local/share/stoke --to 'postgres://stoke@db:5432/stoke?sslmode=verify-full'"
    )]
    Migrate(MigrateArgs),
}

/// Options of `store check` and `store repair`.
#[derive(Debug, Args)]
pub struct StoreOpts {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
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
    #[arg(long, value_name = "DURATION", value_parser = super::options::parse_duration)]
    pub wait_lock: Option<Duration>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `store check` (exit 1 when there are problems) or `store repair`.
pub fn check_or_repair(g: &Globals, opts: &StoreOpts, repairing: bool) -> Result<i32> {
    let store = file_store(g)?;
    let problems = if repairing {
        crate::storage::check::repair(&store)?
    } else {
        crate::storage::check::check(&store)?
    };
    print::store::problems(store.root(), &problems, repairing, opts.output)?;
    Ok(if !repairing && !problems.is_empty() {
        1
    } else {
        0
    })
}

/// `store migrate`.
pub fn migrate(g: &Globals, o: &Migrate) -> Result<i32> {
    let (source, dest) = o.open(g)?;
    let report = crate::storage::migrate::migrate(source.as_ref(), dest.as_ref(), o.wait)?;
    print::store::migrated(&o.from, &o.to, &report, o.format)?;
    report.ensure_complete()?;
    Ok(0)
}
