//! The release commands: install, upgrade, rollback, uninstall, history, list, status, get
//! and diff. Parsing and printing only; the work is in [`crate::release`].
//!
//! JSON field names (stable, documented in docs/store.md): list rows and history rows use
//! `name`, `namespace`, `revision`, `status`, `chart`, `app_version`, `updated`,
//! `description`; status adds `first_deployed`, `chart_digest`, `resources` and `notes`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anstyle::AnsiColor;
use anyhow::{Context, Result};
use clap::{ArgMatches, Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::Cli;
use super::chart_cmds::ClusterFlags;
use super::kube_args::{self, DryRun, LifecycleFlags};
use super::output::{self, OutputFormat, print_warning, styled};
use super::package::{ChartSourceFlags, resolve_chart};
use super::values_args::{ValuesFlags, options};
use crate::diff::{Change, ResourceDiff};
use crate::record::ReleaseKey;
use crate::record::Revision;
use crate::release::install::InstallOptions;
use crate::release::rollback::RollbackOptions;
use crate::release::uninstall::UninstallOptions;
use crate::release::upgrade::{UpgradeOptions, ValuesMode};
use crate::release::{self, ChartInput, Env};
use crate::storage::LockWait;
use crate::target::Target;
use crate::target::dir::DirTarget;
use crate::timestamp::human_time;

/// Options of every command that writes to the store.
#[derive(Debug, Clone, Args)]
pub struct WriteFlags {
    /// Wait up to DURATION (e.g. 60s, 2m, 500ms) for another operation on the release to
    /// finish, instead of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_lock: Option<Duration>,
    /// Also keep DIR/<namespace>/<release>/ in step: one YAML file per resource, for a
    /// GitOps tool to apply.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Work out and report the result without writing anything: `client` (the default)
    /// renders and validates locally, `server` also has the API server check every object.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: Option<DryRun>,
    #[command(flatten)]
    pub lifecycle: LifecycleFlags,
    /// Description recorded with the revision.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

/// Arguments of `stoke install`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct InstallArgs {
    /// Release name (lowercase letters, digits, `-`, `.`; at most 53); with
    /// --generate-name or --name-template, give only the chart.
    pub release: String,
    /// Chart directory, packaged .tgz, or REPO/CHART from a configured repository.
    pub chart: Option<PathBuf>,
    #[command(flatten)]
    pub naming: NamingFlags,
    /// Labels recorded on the release (`KEY=VALUE`, comma-separated; repeatable);
    /// `stoke list -l KEY=VALUE` selects on them.
    #[arg(long, value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub source: ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    #[command(flatten)]
    pub write: WriteFlags,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke upgrade`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct UpgradeArgs {
    /// Release name.
    pub release: String,
    /// Chart directory, packaged .tgz, or REPO/CHART from a configured repository.
    pub chart: PathBuf,
    #[command(flatten)]
    pub source: ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Install the release if it does not exist.
    #[arg(short = 'i', long)]
    pub install: bool,
    #[command(flatten)]
    pub modes: ValuesModeFlags,
    /// Labels merged over the release's current ones (`KEY=VALUE`, comma-separated;
    /// `KEY=null` removes one).
    #[arg(long, value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Keep at most N revisions (0 = unlimited); only superseded ones are pruned.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub history_max: usize,
    #[command(flatten)]
    pub write: WriteFlags,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Helm's ways to have a release name made: `--generate-name`, `--name-template`.
#[derive(Debug, Clone, Args, Default)]
pub struct NamingFlags {
    /// Make up the release name (`CHART-<unix seconds>`, as Helm's); give only the chart.
    #[arg(short = 'g', long)]
    pub generate_name: bool,
    /// Make the release name from a Tera template, e.g. 'gw-{{ rand_alpha(length=5) | lower }}';
    /// give only the chart.
    #[arg(long, value_name = "TEMPLATE", conflicts_with = "generate_name")]
    pub name_template: Option<String>,
}

impl NamingFlags {
    /// Whether a name is to be made rather than given.
    pub fn makes_name(&self) -> bool {
        self.generate_name || self.name_template.is_some()
    }

    /// The release name for `chart_name`: made up, from the template, or `given`.
    pub fn name(&self, given: Option<&str>, chart_name: &str) -> Result<String> {
        if let Some(t) = &self.name_template {
            return crate::release::names::from_template(t, chart_name);
        }
        if self.generate_name {
            return Ok(crate::release::names::generate(chart_name));
        }
        Ok(given
            .unwrap_or(crate::release::names::PLACEHOLDER)
            .to_string())
    }
}

/// Splits `COMMAND [RELEASE] CHART` positionals: with one, it is the chart.
pub fn release_and_chart<'a>(
    first: &'a str,
    second: Option<&'a std::path::Path>,
) -> (Option<&'a str>, std::path::PathBuf) {
    match second {
        Some(chart) => (Some(first), chart.to_path_buf()),
        None => (None, std::path::PathBuf::from(first)),
    }
}

/// Helm's values flags for upgrades.
#[derive(Debug, Clone, Args)]
pub struct ValuesModeFlags {
    /// Reuse the last revision's values and merge the given ones over them.
    #[arg(long, conflicts_with_all = ["reset_values", "reset_then_reuse_values"])]
    pub reuse_values: bool,
    /// Use only the chart's defaults and the given values.
    #[arg(long, conflicts_with = "reset_then_reuse_values")]
    pub reset_values: bool,
    /// Use the new chart's defaults, then the last revision's values, then the given ones.
    #[arg(long)]
    pub reset_then_reuse_values: bool,
}

impl ValuesModeFlags {
    fn mode(&self) -> ValuesMode {
        if self.reuse_values {
            ValuesMode::Reuse
        } else if self.reset_values {
            ValuesMode::Reset
        } else if self.reset_then_reuse_values {
            ValuesMode::ResetThenReuse
        } else {
            ValuesMode::Default
        }
    }
}

/// Arguments of `stoke rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Release name.
    pub release: String,
    /// Revision to roll back to (default: the previous one).
    pub revision: Option<u64>,
    /// Keep at most N revisions (0 = unlimited).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub history_max: usize,
    #[command(flatten)]
    pub write: WriteFlags,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Release name.
    pub release: String,
    /// Keep the release's history, marking it uninstalled.
    #[arg(long)]
    pub keep_history: bool,
    #[command(flatten)]
    pub write: WriteFlags,
}

/// Arguments of `stoke history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Release name.
    pub release: String,
    /// Show at most the newest N revisions.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show releases in every status (default: deployed and failed).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// List releases of every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only releases whose name matches this regular expression.
    #[arg(short = 'f', long, value_name = "REGEX")]
    pub filter: Option<String>,
    /// Only releases whose labels match (`KEY=VALUE`, `KEY!=VALUE`, `KEY`, `!KEY`,
    /// comma-separated; see `install --labels`).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    #[command(flatten)]
    pub statuses: StatusFlags,
    /// Sort by the time of the latest revision instead of by name.
    #[arg(short = 'd', long)]
    pub date: bool,
    /// Reverse the order.
    #[arg(short = 'r', long)]
    pub reverse: bool,
    /// Show at most N releases (0 = all).
    #[arg(short = 'm', long, value_name = "N", default_value_t = 256)]
    pub max: usize,
    /// Skip the first N releases.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: usize,
    /// Print release names only, one a line.
    #[arg(short = 'q', long)]
    pub short: bool,
    /// Leave out the header row of the table.
    #[arg(long)]
    pub no_headers: bool,
    /// Print times with this Go layout (e.g. '2006-01-02 15:04:05'), as Helm's flag takes it.
    #[arg(long, value_name = "LAYOUT")]
    pub time_format: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Helm's status filters of `list`; several add up, `-a` takes every status.
#[derive(Debug, Clone, Args, Default)]
pub struct StatusFlags {
    /// Releases whose latest revision is deployed.
    #[arg(long)]
    pub deployed: bool,
    /// Failed releases.
    #[arg(long)]
    pub failed: bool,
    /// Releases with an install, upgrade or rollback under way (or interrupted).
    #[arg(long)]
    pub pending: bool,
    /// Releases whose latest revision is superseded.
    #[arg(long)]
    pub superseded: bool,
    /// Releases uninstalled with --keep-history.
    #[arg(long)]
    pub uninstalled: bool,
    /// Releases being uninstalled.
    #[arg(long)]
    pub uninstalling: bool,
}

impl StatusFlags {
    fn statuses(&self) -> Vec<crate::record::Status> {
        use crate::record::Status;
        let mut out = Vec::new();
        for (on, statuses) in [
            (self.deployed, &[Status::Deployed][..]),
            (self.failed, &[Status::Failed]),
            (self.pending, &release::list::PENDING),
            (self.superseded, &[Status::Superseded]),
            (self.uninstalled, &[Status::Uninstalled]),
            (self.uninstalling, &[Status::Uninstalling]),
        ] {
            if on {
                out.extend_from_slice(statuses);
            }
        }
        out
    }
}

/// Arguments of `stoke status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Release name.
    pub release: String,
    /// Revision (default: the latest).
    #[arg(long, value_name = "N")]
    pub revision: Option<u64>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// What `stoke get` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GetWhat {
    /// The user-supplied values (with --all, the computed values).
    Values,
    /// The rendered manifest (the release's resources, hooks apart).
    Manifest,
    /// The hook objects (helm.sh/hook), which are not part of the manifest.
    Hooks,
    /// The rendered notes.
    Notes,
    /// Everything recorded.
    All,
    /// Name, chart, version, revision, status, time and labels.
    Metadata,
}

/// Arguments of `stoke get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// What to print.
    #[arg(value_enum)]
    pub what: GetWhat,
    /// Release name.
    pub release: String,
    /// Revision (default: the latest).
    #[arg(long, value_name = "N")]
    pub revision: Option<u64>,
    /// With `values`: the computed values rather than only the user-supplied ones.
    #[arg(long)]
    pub all: bool,
    /// Output format (values and all).
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(subcommand)]
    pub command: DiffCommand,
}

/// The two diffs.
#[derive(Debug, Subcommand)]
pub enum DiffCommand {
    /// What an upgrade would change.
    #[command(
        after_help = "Example:\n  stoke diff upgrade gw charts/ignition -f values/prod.yaml --reuse-values"
    )]
    Upgrade(Box<DiffUpgradeArgs>),
    /// What changed between two stored revisions.
    #[command(after_help = "Example:\n  stoke diff revision gw 2 3")]
    Revision(DiffRevisionArgs),
    /// Where the live cluster differs from the deployed revision; exit 2 on drift.
    #[command(after_help = "Example:\n  stoke diff live gw || echo drifted")]
    Live(super::cluster_cmds::DiffLiveArgs),
}

/// Arguments of `stoke diff upgrade`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct DiffUpgradeArgs {
    /// Release name.
    pub release: String,
    /// Chart directory, packaged .tgz, or REPO/CHART from a configured repository.
    pub chart: PathBuf,
    #[command(flatten)]
    pub source: ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Compare against an empty release if it does not exist.
    #[arg(short = 'i', long)]
    pub install: bool,
    #[command(flatten)]
    pub modes: ValuesModeFlags,
    /// Output format (table is a coloured unified diff).
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke diff revision`.
#[derive(Debug, Args)]
pub struct DiffRevisionArgs {
    /// Release name.
    pub release: String,
    /// The older revision.
    pub from: u64,
    /// The newer revision.
    pub to: u64,
    /// Output format (table is a coloured unified diff).
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Parses `60s`, `2m`, `500ms`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 60s, 2m or 500ms"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
            ));
        }
    };
    Ok(Duration::from_secs_f64(secs))
}

struct Session {
    store: Box<dyn crate::storage::Store>,
    target: Option<Box<dyn Target>>,
    wait: LockWait,
}

impl Session {
    /// Opens the store and picks the target: the folder of `--output-dir`, else the
    /// configured cluster (none for a client-side dry run), else nothing.
    fn open(cli: &Cli, write: Option<&WriteFlags>) -> Result<Session> {
        let target: Option<Box<dyn Target>> = match write {
            None => None,
            Some(w) => match (&w.output_dir, w.dry_run) {
                (Some(dir), _) => Some(Box::new(DirTarget::new(dir))),
                (None, Some(DryRun::Client)) => None,
                (None, _) => kube_args::connect(cli, Some(&w.lifecycle))?
                    .map(|t| Box::new(t) as Box<dyn Target>),
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
                &super::kube_args::kube_options(cli),
            )?,
            target,
            wait: match write.and_then(|w| w.wait_lock) {
                Some(d) => LockWait::Up(d),
                None => LockWait::FailFast,
            },
        })
    }

    fn env(&self) -> Env<'_> {
        Env {
            store: self.store.as_ref(),
            target: self.target.as_deref(),
            wait: self.wait,
        }
    }

    /// Where a write went, for the last line of a lifecycle command's output.
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

/// Says where a lifecycle command's change went: on stdout after a table, on stderr when
/// stdout carries JSON or YAML.
fn report_delivery(session: &Session, format: OutputFormat, dry_run: bool) {
    if dry_run {
        return;
    }
    let line = session.delivered();
    if format == OutputFormat::Table {
        println!("{line}");
    } else {
        eprintln!("{line}");
    }
}

fn key(cli: &Cli, release: &str) -> Result<ReleaseKey> {
    ReleaseKey::new(&cli.namespace, release)
}

fn load_input<'a>(
    chart: &'a crate::chart::Chart,
    values: &ValuesFlags,
    cluster: &ClusterFlags,
    m: Option<&ArgMatches>,
) -> Result<ChartInput<'a>> {
    Ok(ChartInput {
        chart,
        values: crate::values::read_user_values(&options(values, m))?,
        capabilities: cluster.capabilities()?,
    })
}

fn print_done(done: &release::Done, format: OutputFormat, show_manifest: bool) -> Result<()> {
    for w in &done.warnings {
        print_warning(w);
    }
    let report = release::status::report(&done.revision);
    if format != OutputFormat::Table {
        return output::print_structured(&report, format);
    }
    let mut out = anstream::stdout();
    write!(out, "{}", report.to_text())?;
    if show_manifest {
        // A dry run shows what would be applied, but never the Secret values themselves
        // (`get manifest` prints the stored revision as it is).
        let masked = crate::engine::Rendered {
            manifests: crate::mask::mask_manifests(&done.revision.delivered()),
            notes: None,
            warnings: Vec::new(),
        };
        write!(out, "MANIFEST:\n{}", masked.manifest_text())?;
    }
    Ok(())
}

/// `stoke install`.
pub fn install(cli: &Cli, args: &InstallArgs, m: Option<&ArgMatches>) -> Result<i32> {
    let (given, chart_ref) = release_and_chart(&args.release, args.chart.as_deref());
    match (given, args.naming.makes_name()) {
        (None, false) => anyhow::bail!(
            "install needs a release name and a chart: `stoke install NAME {}`, or pass --generate-name to have a name made up (as in Helm)",
            chart_ref.display()
        ),
        (Some(name), true) => anyhow::bail!(
            "both a release name (`{name}`) and --generate-name/--name-template were given; give one or the other"
        ),
        _ => {}
    }
    let chart = crate::chart::load::load(&resolve_chart(&chart_ref, &args.source)?)?;
    let name = args.naming.name(given, chart.name())?;
    let key = key(cli, &name)?;
    let input = load_input(&chart, &args.values, &args.cluster, m)?;
    let session = Session::open(cli, Some(&args.write))?;
    let labels = release::labels::parse_labels(args.labels.iter().map(String::as_str))?;
    let opts = InstallOptions {
        description: args.write.description.clone(),
        dry_run: args.write.dry_run.is_some(),
        labels: Some(release::labels::for_install(&labels)),
    };
    let done = release::install::install(&session.env(), &key, &input, &opts)?;
    print_done(&done, args.output, done.dry_run)?;
    report_delivery(&session, args.output, done.dry_run);
    Ok(0)
}

/// `stoke upgrade`.
pub fn upgrade(cli: &Cli, args: &UpgradeArgs, m: Option<&ArgMatches>) -> Result<i32> {
    let key = key(cli, &args.release)?;
    let chart = crate::chart::load::load(&resolve_chart(&args.chart, &args.source)?)?;
    let input = load_input(&chart, &args.values, &args.cluster, m)?;
    let session = Session::open(cli, Some(&args.write))?;
    let opts = UpgradeOptions {
        install: args.install,
        values_mode: args.modes.mode(),
        history_max: args.history_max,
        description: args.write.description.clone(),
        dry_run: args.write.dry_run.is_some(),
        label_changes: release::labels::parse_labels(args.labels.iter().map(String::as_str))?,
        ..UpgradeOptions::default()
    };
    let done = release::upgrade::upgrade(&session.env(), &key, &input, &opts)?;
    if args.output == OutputFormat::Table && !done.dry_run {
        if done.installed {
            println!(
                "Release \"{}\" does not exist. Installing it now.",
                key.name
            );
        } else {
            println!("Release \"{}\" has been upgraded.", key.name);
        }
    }
    print_done(&done, args.output, done.dry_run)?;
    report_delivery(&session, args.output, done.dry_run);
    Ok(0)
}

/// `stoke rollback`.
pub fn rollback(cli: &Cli, args: &RollbackArgs) -> Result<i32> {
    let key = key(cli, &args.release)?;
    let session = Session::open(cli, Some(&args.write))?;
    let opts = RollbackOptions {
        revision: args.revision,
        history_max: args.history_max,
        description: args.write.description.clone(),
        dry_run: args.write.dry_run.is_some(),
    };
    let done = release::rollback::rollback(&session.env(), &key, &opts)?;
    if args.output == OutputFormat::Table {
        if done.dry_run {
            println!(
                "Rollback of {} would write revision {} (dry run).",
                key.name, done.revision.revision
            );
        } else {
            println!(
                "Rollback was a success: revision {} of {} is deployed.",
                done.revision.revision, key.name
            );
        }
        report_delivery(&session, args.output, done.dry_run);
        return Ok(0);
    }
    output::print_structured(&release::status::report(&done.revision), args.output)?;
    Ok(0)
}

/// `stoke uninstall`.
pub fn uninstall(cli: &Cli, args: &UninstallArgs) -> Result<i32> {
    let key = key(cli, &args.release)?;
    let session = Session::open(cli, Some(&args.write))?;
    let opts = UninstallOptions {
        keep_history: args.keep_history,
        description: args.write.description.clone(),
        dry_run: args.write.dry_run.is_some(),
    };
    release::uninstall::uninstall(&session.env(), &key, &opts)?;
    if args.write.dry_run.is_some() {
        println!("release \"{}\" would be uninstalled (dry run)", key.name);
    } else {
        println!("release \"{}\" uninstalled", key.name);
        report_delivery(&session, OutputFormat::Table, false);
    }
    Ok(0)
}

/// A row of `list` and `history` output: the stable JSON field names.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    revision: u64,
    updated: String,
    status: String,
    chart: String,
    app_version: String,
    description: String,
}

fn row(key: Option<&ReleaseKey>, s: &crate::record::Summary) -> Row {
    Row {
        name: key.map(|k| k.name.clone()),
        namespace: key.map(|k| k.namespace.clone()),
        revision: s.revision,
        updated: s.updated.clone(),
        status: s.status.to_string(),
        chart: format!("{}-{}", s.chart, s.chart_version),
        app_version: s.app_version.clone().unwrap_or_default(),
        description: s.description.clone(),
    }
}

/// The row of a record that cannot be read: status `damaged`, the problem as description,
/// and a warning pointing at `stoke store check`.
fn damaged_row(with_key: bool, d: &crate::storage::Damaged) -> Row {
    print_warning(&format!(
        "{}: {} (see `stoke store check`, then `stoke store repair`)",
        d.key, d.problem
    ));
    Row {
        name: with_key.then(|| d.key.name.clone()),
        namespace: with_key.then(|| d.key.namespace.clone()),
        revision: d.revision.unwrap_or(0),
        updated: String::new(),
        status: "damaged".into(),
        chart: String::new(),
        app_version: String::new(),
        description: "unreadable record; see `stoke store check`".into(),
    }
}

fn print_table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    output::print_table(header, rows)
}

/// `stoke history`.
pub fn history(cli: &Cli, args: &HistoryArgs) -> Result<i32> {
    let key = key(cli, &args.release)?;
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let summaries = release::history::history_lenient(store.as_ref(), &key, Some(args.max))?;
    let rows: Vec<Row> = summaries
        .iter()
        .map(|s| match s {
            Ok(s) => row(None, s),
            Err(d) => damaged_row(false, d),
        })
        .collect();
    if args.output != OutputFormat::Table {
        return output::print_structured(&rows, args.output).map(|_| 0);
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.revision.to_string(),
                human_time(&r.updated),
                r.status,
                r.chart,
                r.app_version,
                r.description,
            ]
        })
        .collect();
    print_table(
        &[
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
            "DESCRIPTION",
        ],
        &cells,
    )?;
    Ok(0)
}

/// `stoke list`.
pub fn list(cli: &Cli, args: &ListArgs) -> Result<i32> {
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let filter = match &args.filter {
        Some(f) => Some(
            regex::Regex::new(f)
                .with_context(|| format!("--filter `{f}` is not a valid regular expression"))?,
        ),
        None => None,
    };
    if let Some(layout) = &args.time_format {
        crate::timefmt::check_layout(layout)?;
    }
    let opts = release::list::ListOptions {
        all: args.all,
        statuses: args.statuses.statuses(),
        namespace: (!args.all_namespaces).then(|| cli.namespace.clone()),
        filter,
        selector: args
            .selector
            .as_deref()
            .map(release::labels::Selector::parse)
            .transpose()?,
        sort: if args.date {
            release::list::SortBy::Date
        } else {
            release::list::SortBy::Name
        },
        reverse: args.reverse,
        offset: args.offset,
        max: args.max,
    };
    let (heads, damaged) = release::list::list_lenient(store.as_ref(), &opts)?;
    if args.short {
        let names: Vec<&str> = heads.iter().map(|h| h.key.name.as_str()).collect();
        if args.output != OutputFormat::Table {
            return output::print_structured(&names, args.output).map(|_| 0);
        }
        let mut out = std::io::stdout().lock();
        for n in names {
            writeln!(out, "{n}")?;
        }
        return Ok(0);
    }
    let mut rows: Vec<Row> = heads
        .iter()
        .map(|h| row(Some(&h.key), &h.summary))
        .collect();
    rows.extend(damaged.iter().map(|d| damaged_row(true, d)));
    if args.output != OutputFormat::Table {
        return output::print_structured(&rows, args.output).map(|_| 0);
    }
    let time = |t: &str| match &args.time_format {
        Some(layout) => crate::timefmt::format(t, layout),
        None => human_time(t),
    };
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.name.unwrap_or_default(),
                r.namespace.unwrap_or_default(),
                r.revision.to_string(),
                time(&r.updated),
                r.status,
                r.chart,
                r.app_version,
            ]
        })
        .collect();
    if args.no_headers {
        return output::print_table_rows(&cells).map(|_| 0);
    }
    print_table(
        &[
            "NAME",
            "NAMESPACE",
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
        ],
        &cells,
    )?;
    Ok(0)
}

/// `stoke status`.
pub fn status(cli: &Cli, args: &StatusArgs) -> Result<i32> {
    let key = key(cli, &args.release)?;
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let rev = release::get::revision(store.as_ref(), &key, args.revision)?;
    let mut report = release::status::report(&rev);
    // The live states are those of the deployed revision, shown when it is the one asked for.
    let live = if rev.status == crate::release::record::Status::Deployed {
        super::cluster_cmds::live_status(cli, &key, &rev)?
    } else {
        None
    };
    report.live = live.clone();
    if args.output != OutputFormat::Table {
        return output::print_structured(&report, args.output).map(|_| 0);
    }
    print!("{}", report.to_text());
    if let Some(live) = &live {
        print!("{}", super::cluster_cmds::live_text(live));
    }
    Ok(0)
}

/// `stoke get`.
pub fn get(cli: &Cli, args: &GetArgs) -> Result<i32> {
    let key = key(cli, &args.release)?;
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let rev: Revision = release::get::revision(store.as_ref(), &key, args.revision)?;
    let mut out = anstream::stdout();
    match args.what {
        GetWhat::Values => {
            let values = if args.all {
                &rev.computed_values
            } else {
                &rev.user_values
            };
            match args.output {
                OutputFormat::Table => {
                    writeln!(
                        out,
                        "{}",
                        if args.all {
                            "COMPUTED VALUES:"
                        } else {
                            "USER-SUPPLIED VALUES:"
                        }
                    )?;
                    write!(out, "{}", values_yaml(values)?)?;
                }
                f => output::print_structured(values, f)?,
            }
        }
        GetWhat::Manifest => write!(out, "{}", rev.manifest_text())?,
        GetWhat::Hooks => write!(out, "{}", rev.hooks_text())?,
        GetWhat::Notes => {
            if let Some(n) = &rev.notes {
                writeln!(out, "NOTES:\n{}", n.trim_end())?;
            }
        }
        GetWhat::All => match args.output {
            OutputFormat::Table => {
                write!(out, "{}", release::status::report(&rev).to_text())?;
                write!(
                    out,
                    "USER-SUPPLIED VALUES:\n{}COMPUTED VALUES:\n{}HOOKS:\n{}MANIFEST:\n{}",
                    values_yaml(&rev.user_values)?,
                    values_yaml(&rev.computed_values)?,
                    rev.hooks_text(),
                    rev.manifest_text()
                )?;
            }
            f => output::print_structured(&rev, f)?,
        },
        GetWhat::Metadata => {
            let meta = release::get::metadata(&rev);
            if args.output != OutputFormat::Table {
                output::print_structured(&meta, args.output)?;
                return Ok(0);
            }
            let labels: Vec<String> = meta
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(
                out,
                "NAME: {}\nCHART: {}\nVERSION: {}\nAPP_VERSION: {}\nNAMESPACE: {}\nREVISION: {}\nSTATUS: {}\nDEPLOYED_AT: {}\nDESCRIPTION: {}\nLABELS: {}\n",
                meta.name,
                meta.chart,
                meta.version,
                meta.app_version.as_deref().unwrap_or(""),
                meta.namespace,
                meta.revision,
                meta.status,
                meta.deployed_at,
                meta.description,
                labels.join(",")
            )?;
        }
    }
    Ok(0)
}

fn values_yaml(values: &serde_json::Map<String, serde_json::Value>) -> Result<String> {
    if values.is_empty() {
        return Ok("null\n".into());
    }
    crate::yaml::to_string(values)
}

/// `stoke diff`.
pub fn diff(cli: &Cli, args: &DiffArgs, m: Option<&ArgMatches>) -> Result<i32> {
    let sub = m.and_then(|m| m.subcommand()).map(|(_, m)| m);
    match &args.command {
        DiffCommand::Live(a) => super::cluster_cmds::diff_live(cli, a),
        DiffCommand::Revision(a) => {
            let key = key(cli, &a.release)?;
            let store = crate::storage::location::open(
                cli.store.as_deref(),
                &super::kube_args::kube_options(cli),
            )?;
            let diffs = release::diff::diff_revisions(store.as_ref(), &key, a.from, a.to)?;
            print_diffs(&key, &diffs, a.output)
        }
        DiffCommand::Upgrade(a) => {
            let key = key(cli, &a.release)?;
            let chart = crate::chart::load::load(&resolve_chart(&a.chart, &a.source)?)?;
            let input = load_input(&chart, &a.values, &a.cluster, sub)?;
            let session = Session::open(cli, None)?;
            let opts = UpgradeOptions {
                install: a.install,
                values_mode: a.modes.mode(),
                ..UpgradeOptions::default()
            };
            let (diffs, warnings) =
                release::diff::diff_upgrade(&session.env(), &key, &input, &opts)?;
            for w in &warnings {
                print_warning(w);
            }
            print_diffs(&key, &diffs, a.output)
        }
    }
}

fn print_diffs(key: &ReleaseKey, diffs: &[ResourceDiff], format: OutputFormat) -> Result<i32> {
    if format != OutputFormat::Table {
        output::print_structured(&diffs, format)?;
        return Ok(0);
    }
    let mut out = anstream::stdout();
    if diffs.is_empty() {
        writeln!(out, "No changes.")?;
        return Ok(0);
    }
    for d in diffs {
        let ns = d.namespace.as_deref().unwrap_or(&key.namespace);
        let (verb, color) = match d.change {
            Change::Added => ("has been added", AnsiColor::Green),
            Change::Removed => ("has been removed", AnsiColor::Red),
            Change::Changed => ("has changed", AnsiColor::Yellow),
        };
        writeln!(
            out,
            "{}",
            styled(&format!("{ns}, {}, {} {verb}:", d.name, d.kind), color)
        )?;
        for line in d.diff.lines() {
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
            writeln!(out, "{colored}")?;
        }
    }
    let count = |c: Change| diffs.iter().filter(|d| d.change == c).count();
    writeln!(
        out,
        "{} added, {} changed, {} removed",
        count(Change::Added),
        count(Change::Changed),
        count(Change::Removed)
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("5 parsecs").is_err());
    }
}
