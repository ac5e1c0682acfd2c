//! `stoke store check|repair`: argument parsing and printing only (logic in
//! storage::check).

use anyhow::Result;
use clap::{Args, Subcommand};

use super::Cli;
use super::output::{self, OutputFormat};

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
}

/// Options of `store check` and `store repair`.
#[derive(Debug, Args)]
pub struct StoreOpts {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs `stoke store ...`.
pub fn run(cli: &Cli, args: &StoreArgs) -> Result<i32> {
    let store = crate::storage::open(cli.store.as_deref())?;
    let (opts, repairing) = match &args.action {
        StoreAction::Check(o) => (o, false),
        StoreAction::Repair(o) => (o, true),
    };
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
