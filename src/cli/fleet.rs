//! `stoke fleet template|diff|apply|status`: parsing and printing only; the work is in
//! [`crate::fleet`]. Results print release by release as they finish (in file order); the
//! library's progress (one item per release) is shown by [`super::progress`]; a summary
//! ends every run and the exit status is 1 when any release failed.

use std::io::Write;
use std::path::PathBuf;

use anstyle::AnsiColor;
use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Cli;
use super::chart_cmds::ClusterFlags;
use super::kube_args::{self, DryRun};
use super::output::{self, OutputFormat, print_error, print_warning, styled};
use super::progress::suspend;
use super::release::WriteFlags;
use crate::fleet::apply::{Action, ApplyOptions};
use crate::fleet::diff::State;
use crate::fleet::{self, ChartSet, Fleet, FleetEnv, FleetOptions, Selector};
use crate::storage::LockWait;
use crate::target::Target;
use crate::target::dir::DirTarget;

/// Arguments of `stoke fleet`.
#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
}

/// The fleet actions.
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

/// Options every fleet action takes.
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

/// `stoke fleet`.
pub fn run(cli: &Cli, args: &FleetArgs) -> Result<i32> {
    match &args.command {
        FleetCommand::Template(a) => template(cli, a),
        FleetCommand::Diff(a) => diff(cli, a),
        FleetCommand::Apply(a) => apply(cli, a),
        FleetCommand::Status(a) => status(cli, a),
    }
}

fn load(cli: &Cli, flags: &FleetFlags) -> Result<(Fleet, Selector)> {
    let fleet = fleet::spec::load(&flags.file, &cli.namespace)?;
    let selector = Selector::parse(&flags.selector)?;
    Ok((fleet, selector))
}

fn options(cluster: &ClusterFlags) -> Result<FleetOptions> {
    Ok(FleetOptions {
        capabilities: cluster.capabilities()?,
        ..FleetOptions::default()
    })
}

/// Counts per outcome, printed at the end.
#[derive(Default)]
struct Tally {
    counts: Vec<(&'static str, usize)>,
    failed: usize,
}

impl Tally {
    fn add(&mut self, what: &'static str) {
        match self.counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((what, 1)),
        }
    }

    fn fail(&mut self, e: &anyhow::Error) {
        self.failed += 1;
        suspend(|| print_error(e));
    }

    /// Prints the summary line to stderr and returns the exit status.
    fn finish(&self, total: usize) -> i32 {
        crate::progress::finished();
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect();
        if self.failed > 0 {
            parts.push(styled(&format!("{} failed", self.failed), AnsiColor::Red));
        }
        let _ = writeln!(
            anstream::stderr(),
            "fleet: {total} release(s): {}",
            if parts.is_empty() {
                "nothing to do".to_string()
            } else {
                parts.join(", ")
            }
        );
        i32::from(self.failed > 0)
    }
}

fn warn_all(key: &impl std::fmt::Display, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    suspend(|| {
        for w in warnings {
            print_warning(&format!("{key}: {w}"));
        }
    });
}

fn template(cli: &Cli, args: &TemplateArgs) -> Result<i32> {
    let (fleet, selector) = load(cli, &args.fleet)?;
    let opts = options(&args.cluster)?;
    let releases = fleet.select(&selector);
    let charts = ChartSet::load(&releases);
    let mut tally = Tally::default();
    let mut out = std::io::stdout().lock();
    let mut write_error: Option<std::io::Error> = None;
    fleet::template::template(
        &releases,
        &charts,
        &opts,
        args.output_dir.as_deref(),
        |r, result| match result {
            Ok(t) => {
                warn_all(&r.key, &t.warnings);
                tally.add("rendered");
                let written = suspend(|| match (&t.text, &t.dir) {
                    (Some(text), _) => out
                        .write_all(format!("# Release: {}\n", r.key).as_bytes())
                        .and_then(|_| out.write_all(text.as_bytes())),
                    (None, Some(dir)) => {
                        writeln!(out, "wrote {} ({} resources)", dir.display(), t.resources)
                    }
                    (None, None) => Ok(()),
                });
                if let Err(e) = written
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
    out.flush()?;
    Ok(tally.finish(releases.len()))
}

/// The store and the target of a fleet run, chosen as `stoke install` chooses them.
struct Session {
    store: Box<dyn crate::storage::Store>,
    target: Option<Box<dyn Target + Sync>>,
    wait: LockWait,
}

impl Session {
    /// Opens the store and, for `write`, the target: the folder of `--output-dir`, else
    /// the configured cluster (none for a client-side dry run), else nothing.
    fn open(cli: &Cli, write: Option<&WriteFlags>) -> Result<Session> {
        let target: Option<Box<dyn Target + Sync>> = match write {
            None => None,
            Some(w) => match (&w.output_dir, w.dry_run) {
                (Some(dir), _) => Some(Box::new(DirTarget::new(dir))),
                (None, Some(DryRun::Client)) => None,
                (None, _) => kube_args::connect(cli, Some(&w.lifecycle))?
                    .map(|t| Box::new(t) as Box<dyn Target + Sync>),
            },
        };
        if write.is_some_and(|w| w.dry_run == Some(DryRun::Server)) && target.is_none() {
            anyhow::bail!(
                "--dry-run=server needs a cluster, and none is configured (give --kubeconfig, set KUBECONFIG, or use --dry-run=client)"
            );
        }
        Ok(Session {
            store: crate::storage::location::open(
                cli.store.as_deref(),
                &kube_args::kube_options(cli),
            )?,
            target,
            wait: match write.and_then(|w| w.wait_lock) {
                Some(d) => LockWait::Up(d),
                None => LockWait::FailFast,
            },
        })
    }

    fn env(&self) -> FleetEnv<'_> {
        FleetEnv {
            store: self.store.as_ref(),
            target: self.target.as_deref(),
            wait: self.wait,
        }
    }

    /// Where the changes went, for the line after the summary.
    fn delivered(&self) -> String {
        match &self.target {
            Some(t) => format!(
                "recorded in {} and applied to {}",
                self.store.describe(),
                t.describe()
            ),
            None => format!(
                "recorded in {}; no cluster configured",
                self.store.describe()
            ),
        }
    }
}

/// A release that failed, in structured output.
#[derive(Serialize)]
struct Failure {
    name: String,
    namespace: String,
    error: String,
}

fn failure(key: &crate::storage::ReleaseKey, e: &anyhow::Error) -> Failure {
    Failure {
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        error: format!("{e:#}"),
    }
}

#[derive(Serialize)]
struct Report<T> {
    releases: Vec<T>,
    failed: Vec<Failure>,
}

fn diff(cli: &Cli, args: &DiffArgs) -> Result<i32> {
    let (fleet, selector) = load(cli, &args.fleet)?;
    let opts = options(&args.cluster)?;
    let releases = fleet.select(&selector);
    let charts = ChartSet::load(&releases);
    let session = Session::open(cli, None)?;
    let mut tally = Tally::default();
    let mut report = Report {
        releases: Vec::new(),
        failed: Vec::new(),
    };
    let table = args.output == OutputFormat::Table;
    let mut total = 0;
    fleet::diff::diff(
        &session.env(),
        &fleet,
        &selector,
        &charts,
        &opts,
        |key, result| {
            total += 1;
            match result {
                Ok(d) => {
                    warn_all(key, &d.warnings);
                    tally.add(d.state.as_str());
                    if table {
                        suspend(|| print_release_diff(&d));
                    } else {
                        report.releases.push(d);
                    }
                }
                Err(e) => {
                    if !table {
                        report.failed.push(failure(key, &e));
                    }
                    tally.fail(&e);
                }
            }
        },
    )?;
    if !table {
        output::print_structured(&report, args.output)?;
    }
    Ok(tally.finish(total))
}

fn print_release_diff(d: &fleet::diff::ReleaseDiff) {
    let mut out = anstream::stdout();
    let (label, color) = match d.state {
        State::New => ("new", AnsiColor::Green),
        State::Changed => ("changed", AnsiColor::Yellow),
        State::Unchanged => ("unchanged", AnsiColor::White),
        State::Removed => ("removed", AnsiColor::Red),
    };
    let why = if d.reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.reasons.join(", "))
    };
    let _ = writeln!(
        out,
        "{}/{}: {}{why}",
        d.namespace,
        d.name,
        styled(label, color)
    );
    if d.state == State::Unchanged {
        return;
    }
    for r in &d.resources {
        let _ = writeln!(
            out,
            "  {} {} {}",
            r.kind,
            r.name,
            serde_json::to_value(r.change)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        for line in r.diff.lines() {
            let colored = if line.starts_with("+++") || line.starts_with("---") {
                styled(line, AnsiColor::White)
            } else if line.starts_with('+') {
                styled(line, AnsiColor::Green)
            } else if line.starts_with('-') {
                styled(line, AnsiColor::Red)
            } else if line.starts_with("@@") {
                styled(line, AnsiColor::Cyan)
            } else {
                line.to_string()
            };
            let _ = writeln!(out, "    {colored}");
        }
    }
}

fn apply(cli: &Cli, args: &ApplyArgs) -> Result<i32> {
    let (fleet, selector) = load(cli, &args.fleet)?;
    let opts = options(&args.cluster)?;
    let releases = fleet.select(&selector);
    let charts = ChartSet::load(&releases);
    let session = Session::open(cli, Some(&args.write))?;
    let mut tally = Tally::default();
    let mut report = Report {
        releases: Vec::new(),
        failed: Vec::new(),
    };
    let table = args.output == OutputFormat::Table;
    let aopts = ApplyOptions {
        prune: args.prune,
        dry_run: args.write.dry_run.is_some(),
        description: args.write.description.clone(),
    };
    let mut total = 0;
    fleet::apply::apply(
        &session.env(),
        &fleet,
        &selector,
        &charts,
        &opts,
        &aopts,
        |key, result| {
            total += 1;
            match result {
                Ok(a) => {
                    warn_all(key, &a.warnings);
                    tally.add(a.action.as_str());
                    if table {
                        let why = if a.reasons.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", a.reasons.join(", "))
                        };
                        let color = match a.action {
                            Action::Installed => AnsiColor::Green,
                            Action::Upgraded => AnsiColor::Yellow,
                            Action::Unchanged => AnsiColor::White,
                            Action::Uninstalled => AnsiColor::Red,
                        };
                        let dry = if a.dry_run { ", dry run" } else { "" };
                        suspend(|| {
                            let _ = writeln!(
                                anstream::stdout(),
                                "{key}: {} (revision {}{dry}){why}",
                                styled(a.action.as_str(), color),
                                a.revision
                            );
                        });
                    } else {
                        report.releases.push(a);
                    }
                }
                Err(e) => {
                    if !table {
                        report.failed.push(failure(key, &e));
                    }
                    tally.fail(&e);
                }
            }
        },
    )?;
    if !table {
        output::print_structured(&report, args.output)?;
    }
    let code = tally.finish(total);
    let _ = writeln!(
        anstream::stderr(),
        "fleet: {}",
        if aopts.dry_run {
            "dry run, nothing written".to_string()
        } else {
            session.delivered()
        }
    );
    Ok(code)
}

fn status(cli: &Cli, args: &StatusArgs) -> Result<i32> {
    let (fleet, selector) = load(cli, &args.fleet)?;
    let session = Session::open(cli, None)?;
    // Drift is judged against the configured cluster; without one it is not reported.
    let cluster = kube_args::connect(cli, None)?;
    let drift = cluster
        .as_ref()
        .map(|t| t as &dyn fleet::status::DriftCheck);
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    let mut tally = Tally::default();
    fleet::status::status(
        session.store.as_ref(),
        &fleet,
        &selector,
        drift,
        fleet::run::default_threads(),
        |r, result| match result {
            Ok(s) => rows.push(s),
            Err(e) => {
                failed.push(failure(&r.key, &e));
                tally.fail(&e);
            }
        },
    );
    crate::progress::finished();
    if args.output != OutputFormat::Table {
        output::print_structured(
            &Report {
                releases: rows,
                failed,
            },
            args.output,
        )?;
        return Ok(i32::from(tally.failed > 0));
    }
    let no_drift = if cluster.is_some() {
        "-"
    } else {
        "n/a (no cluster)"
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.namespace.clone(),
                s.revision.map(|r| r.to_string()).unwrap_or("-".into()),
                s.status.clone(),
                s.chart.clone().unwrap_or("-".into()),
                s.drift.clone().unwrap_or(no_drift.into()),
            ]
        })
        .collect();
    output::print_table(
        &["NAME", "NAMESPACE", "REVISION", "STATUS", "CHART", "DRIFT"],
        &cells,
    )?;
    Ok(i32::from(tally.failed > 0))
}
