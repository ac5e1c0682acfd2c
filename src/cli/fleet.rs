//! `stoke fleet template|diff|apply|status`: parsing and printing only; the work is in
//! [`crate::fleet`]. Results print release by release as they finish (in file order); a
//! progress bar shows on stderr when it is a terminal; a summary ends every run and the
//! exit status is 1 when any release failed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anstyle::AnsiColor;
use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Cli;
use super::chart_cmds::ClusterFlags;
use super::output::{self, OutputFormat, print_error, print_warning, styled};
use super::release::parse_duration;
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
    #[command(after_help = "Example:\n  stoke fleet apply -f fleet.yaml --prune")]
    Apply(ApplyArgs),
    /// One line per release: revision, status, chart version.
    #[command(after_help = "Example:\n  stoke fleet status -f fleet.yaml -o json")]
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
    /// Also keep DIR/<namespace>/<release>/ in step, for a GitOps tool to apply.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Wait up to DURATION for another operation on a release to finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_lock: Option<std::time::Duration>,
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

/// A progress bar on stderr when it is a terminal; hidden (and free) otherwise.
fn progress(len: usize, verb: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {verb} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
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

    fn fail(&mut self, bar: &indicatif::ProgressBar, e: &anyhow::Error) {
        self.failed += 1;
        bar.suspend(|| print_error(e));
    }

    /// Prints the summary line to stderr and returns the exit status.
    fn finish(&self, bar: &indicatif::ProgressBar, total: usize) -> i32 {
        bar.finish_and_clear();
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

fn warn_all(bar: &indicatif::ProgressBar, key: &impl std::fmt::Display, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    bar.suspend(|| {
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
    let bar = progress(releases.len(), "rendering");
    let mut tally = Tally::default();
    let mut out = std::io::stdout().lock();
    let mut write_error: Option<std::io::Error> = None;
    fleet::template::template(
        &releases,
        &charts,
        &opts,
        args.output_dir.as_deref(),
        |r, result| {
            bar.inc(1);
            match result {
                Ok(t) => {
                    warn_all(&bar, &r.key, &t.warnings);
                    tally.add("rendered");
                    let written = bar.suspend(|| match (&t.text, &t.dir) {
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
                Err(e) => tally.fail(&bar, &e),
            }
        },
    );
    if let Some(e) = write_error {
        return Err(e.into());
    }
    out.flush()?;
    Ok(tally.finish(&bar, releases.len()))
}

struct Session {
    store: Box<dyn crate::storage::Store>,
    target: Option<DirTarget>,
    wait: LockWait,
}

impl Session {
    fn open(
        cli: &Cli,
        output_dir: Option<&std::path::Path>,
        wait: Option<std::time::Duration>,
    ) -> Result<Session> {
        Ok(Session {
            store: crate::storage::location::open(
                cli.store.as_deref(),
                &super::kube_args::kube_options(cli),
            )?,
            target: output_dir.map(DirTarget::new),
            wait: wait.map_or(LockWait::FailFast, LockWait::Up),
        })
    }

    fn env(&self) -> FleetEnv<'_> {
        FleetEnv {
            store: self.store.as_ref(),
            target: self.target.as_ref().map(|t| t as &(dyn Target + Sync)),
            wait: self.wait,
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
    let session = Session::open(cli, None, None)?;
    let bar = progress(releases.len(), "comparing");
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
            bar.inc(1);
            total += 1;
            match result {
                Ok(d) => {
                    warn_all(&bar, key, &d.warnings);
                    tally.add(d.state.as_str());
                    if table {
                        bar.suspend(|| print_release_diff(&d));
                    } else {
                        report.releases.push(d);
                    }
                }
                Err(e) => {
                    if !table {
                        report.failed.push(failure(key, &e));
                    }
                    tally.fail(&bar, &e);
                }
            }
        },
    )?;
    if !table {
        output::print_structured(&report, args.output)?;
    }
    Ok(tally.finish(&bar, total))
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
    let session = Session::open(cli, args.output_dir.as_deref(), args.wait_lock)?;
    let bar = progress(releases.len(), "applying");
    let mut tally = Tally::default();
    let mut report = Report {
        releases: Vec::new(),
        failed: Vec::new(),
    };
    let table = args.output == OutputFormat::Table;
    let aopts = ApplyOptions { prune: args.prune };
    let mut total = 0;
    fleet::apply::apply(
        &session.env(),
        &fleet,
        &selector,
        &charts,
        &opts,
        &aopts,
        |key, result| {
            bar.inc(1);
            total += 1;
            match result {
                Ok(a) => {
                    warn_all(&bar, key, &a.warnings);
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
                        bar.suspend(|| {
                            let _ = writeln!(
                                anstream::stdout(),
                                "{key}: {} (revision {}){why}",
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
                    tally.fail(&bar, &e);
                }
            }
        },
    )?;
    if !table {
        output::print_structured(&report, args.output)?;
    }
    Ok(tally.finish(&bar, total))
}

fn status(cli: &Cli, args: &StatusArgs) -> Result<i32> {
    let (fleet, selector) = load(cli, &args.fleet)?;
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    let mut tally = Tally::default();
    let bar = indicatif::ProgressBar::hidden();
    // Drift needs the cluster target; with none configured it is not reported.
    let drift: Option<&dyn fleet::status::DriftCheck> = None;
    let threads = fleet::run::default_threads();
    fleet::status::status(
        store.as_ref(),
        &fleet,
        &selector,
        drift,
        threads,
        |r, result| match result {
            Ok(s) => rows.push(s),
            Err(e) => {
                failed.push(failure(&r.key, &e));
                tally.fail(&bar, &e);
            }
        },
    );
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
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.namespace.clone(),
                s.revision.map(|r| r.to_string()).unwrap_or("-".into()),
                s.status.clone(),
                s.chart.clone().unwrap_or("-".into()),
                s.drift.clone().unwrap_or("n/a (no cluster)".into()),
            ]
        })
        .collect();
    output::print_table(
        &["NAME", "NAMESPACE", "REVISION", "STATUS", "CHART", "DRIFT"],
        &cells,
    )?;
    Ok(i32::from(tally.failed > 0))
}
