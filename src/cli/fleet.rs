//! `stoke fleet template|diff|apply|status`: each handler receives its resolved options
//! ([`super::options::fleet`]), runs [`crate::fleet`] and hands every release's result to
//! [`super::print::fleet`] as it finishes (in file order); the library's progress (one item
//! per release) is shown by [`super::print::progress`]; a summary ends every run and the
//! exit status is 1 when any release failed.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::OutputFormat;
use super::flags::{ClusterFlags, WriteFlags};
use super::options::Globals;
use super::options::fleet::{Apply, Diff, Status, Template};
use super::options::session::Session;
use super::print;
use super::print::fleet::{Report, Tally};
use crate::fleet::{self, ChartSet};

// Arguments of `stoke fleet` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
}

// The fleet actions.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Render every release of the fleet, as `stoke template` renders each.
    #[command(
        after_help = "Examples:\n  stoke fleet template -f examples/fleet/fleet.yaml\n  stoke fleet template -f fleet.yaml -l region=eu --output-dir gitops/"
    )]
    Template(TemplateArgs),
    /// Show what `fleet apply` would change, release by release.
    #[command(after_help = "Example:\n  stoke fleet diff -f fleet.yaml -l region=eu")]
    Diff(DiffArgs),
    /// Install new releases and upgrade changed ones; --prune uninstalls those that left.
    #[command(
        after_help = "Examples:\n  stoke fleet apply -f fleet.yaml --prune\n  stoke fleet apply -f fleet.yaml --kubeconfig ~/.kube/plant.yaml --wait --timeout 10m\n  stoke fleet apply -f fleet.yaml --dry-run=server"
    )]
    Apply(ApplyArgs),
    /// One line per release: revision, status, chart version, drift from the cluster.
    #[command(
        after_help = "Examples:\n  stoke fleet status -f fleet.yaml\n  stoke fleet status -f fleet.yaml --kubeconfig ~/.kube/plant.yaml -o json"
    )]
    Status(StatusArgs),
}

// Options every fleet action takes.
#[derive(Debug, Clone, Args)]
pub struct FleetFlags {
    /// The fleet file (see docs/fleet.md).
    #[arg(short = 'f', long = "file", value_name = "FLEET.yaml")]
    pub file: PathBuf,
    /// Only releases whose labels match KEY=VALUE (or KEY!=VALUE); repeatable, all must
    /// match.
    #[arg(short = 'l', long = "selector", value_name = "KEY=VALUE")]
    pub selector: Vec<String>,
}

/// Arguments of `stoke fleet template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub fleet: FleetFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Write DIR/<namespace>/<release>/, one file per resource, instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// Arguments of `stoke fleet diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub fleet: FleetFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Output format (table is a coloured unified diff per release).
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke fleet apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub fleet: FleetFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Uninstall releases recorded as part of this fleet that the file no longer lists.
    #[arg(long)]
    pub prune: bool,
    /// The options of `stoke upgrade --install`, applied to every release.
    #[command(flatten)]
    pub write: WriteFlags,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke fleet status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub fleet: FleetFlags,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `stoke fleet template`.
pub fn template(o: &Template) -> Result<i32> {
    let fleet = o.fleet.load()?;
    let releases = fleet.select(&o.fleet.selector);
    let charts = ChartSet::load(&releases);
    let mut tally = Tally::default();
    let mut write_error: Option<std::io::Error> = None;
    fleet::template::template(
        &releases,
        &charts,
        &o.opts,
        o.output_dir.as_deref(),
        |r, result| match result {
            Ok(t) => {
                print::fleet::warnings(&r.key, &t.warnings);
                tally.add("rendered");
                if let Err(e) = print::fleet::templated(&r.key, &t)
                    && write_error.is_none()
                {
                    write_error = Some(e);
                }
            }
            Err(e) => tally.fail(&e),
        },
    );
    if let Some(e) = write_error {
        return Err(e.into());
    }
    print::flush()?;
    Ok(tally.finish(releases.len()))
}

/// `stoke fleet diff`.
pub fn diff(g: &Globals, o: &Diff) -> Result<i32> {
    let fleet = o.fleet.load()?;
    let releases = fleet.select(&o.fleet.selector);
    let charts = ChartSet::load(&releases);
    let session = Session::open(g, None)?;
    let mut tally = Tally::default();
    let mut report = Report::default();
    let table = o.format == OutputFormat::Table;
    let mut total = 0;
    fleet::diff::diff(
        &session.fleet_env(),
        &fleet,
        &o.fleet.selector,
        &charts,
        &o.opts,
        |key, result| {
            total += 1;
            match result {
                Ok(d) => {
                    print::fleet::warnings(key, &d.warnings);
                    tally.add(d.state.as_str());
                    if table {
                        print::fleet::release_diff(&d);
                    } else {
                        report.push(d);
                    }
                }
                Err(e) => {
                    if !table {
                        report.fail(key, &e);
                    }
                    tally.fail(&e);
                }
            }
        },
    )?;
    if !table {
        report.print(o.format)?;
    }
    Ok(tally.finish(total))
}

/// `stoke fleet apply`.
pub fn apply(g: &Globals, o: &Apply) -> Result<i32> {
    let fleet = o.fleet.load()?;
    let releases = fleet.select(&o.fleet.selector);
    let charts = ChartSet::load(&releases);
    let session = Session::open(g, Some(&o.delivery))?;
    let mut tally = Tally::default();
    let mut report = Report::default();
    let table = o.format == OutputFormat::Table;
    let mut total = 0;
    fleet::apply::apply(
        &session.fleet_env(),
        &fleet,
        &o.fleet.selector,
        &charts,
        &o.opts,
        &o.apply,
        |key, result| {
            total += 1;
            match result {
                Ok(a) => {
                    print::fleet::warnings(key, &a.warnings);
                    tally.add(a.action.as_str());
                    if table {
                        print::fleet::applied(key, &a);
                    } else {
                        report.push(a);
                    }
                }
                Err(e) => {
                    if !table {
                        report.fail(key, &e);
                    }
                    tally.fail(&e);
                }
            }
        },
    )?;
    if !table {
        report.print(o.format)?;
    }
    let code = tally.finish(total);
    print::fleet::delivered(&if o.apply.dry_run {
        "dry run, nothing written".to_string()
    } else {
        print::release::delivered(&session)
    });
    Ok(code)
}

/// `stoke fleet status`: drift is judged against the configured cluster, and not reported
/// without one.
pub fn status(g: &Globals, o: &Status) -> Result<i32> {
    let fleet = o.fleet.load()?;
    let session = Session::open(g, None)?;
    let cluster = g.connect_to_read()?;
    let drift = cluster
        .as_ref()
        .map(|t| t as &dyn fleet::status::DriftCheck);
    let mut rows = Vec::new();
    let mut report = Report::default();
    let mut tally = Tally::default();
    fleet::status::status(
        session.store.as_ref(),
        &fleet,
        &o.fleet.selector,
        drift,
        o.threads,
        |r, result| match result {
            Ok(s) => rows.push(s),
            Err(e) => {
                report.fail(&r.key, &e);
                tally.fail(&e);
            }
        },
    );
    crate::progress::finished();
    if o.format != OutputFormat::Table {
        for s in rows {
            report.push(s);
        }
        report.print(o.format)?;
        return Ok(i32::from(tally.any_failed()));
    }
    print::fleet::status(&rows, cluster.is_some())?;
    Ok(i32::from(tally.any_failed()))
}
