//! `stoke store check|repair|migrate`: argument parsing and printing only (logic in
//! storage::check and storage::migrate).

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::Cli;
use super::output::{self, OutputFormat};
use crate::storage::LockWait;
use crate::storage::location::Location;

/// `stoke store ...`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

/// What to do with the store.
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
    #[arg(long, value_name = "DURATION", value_parser = super::release::parse_duration)]
    pub wait_lock: Option<Duration>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs `stoke store ...`.
pub fn run(cli: &Cli, args: &StoreArgs) -> Result<i32> {
    match &args.action {
        StoreAction::Check(o) => check_or_repair(cli, o, false),
        StoreAction::Repair(o) => check_or_repair(cli, o, true),
        StoreAction::Migrate(a) => migrate(cli, a),
    }
}

fn check_or_repair(cli: &Cli, opts: &StoreOpts, repairing: bool) -> Result<i32> {
    let store =
        crate::storage::open_file(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let problems = if repairing {
        crate::storage::check::repair(&store)?
    } else {
        crate::storage::check::check(&store)?
    };
    if opts.output != OutputFormat::Table {
        output::print_structured(&problems, opts.output)?;
    } else if problems.is_empty() {
        println!("store `{}`: no problems found", store.root().display());
    } else {
        for p in &problems {
            let kind = serde_json::to_value(&p.kind).unwrap_or_default();
            println!(
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
            );
        }
        if !repairing {
            println!(
                "{} problem(s); `stoke store repair` fixes them (damaged records are kept in quarantine/)",
                problems.len()
            );
        }
    }
    Ok(if !repairing && !problems.is_empty() {
        1
    } else {
        0
    })
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
