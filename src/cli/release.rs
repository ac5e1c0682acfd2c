//! The release commands: install, upgrade, rollback, uninstall, history, list, status, get
//! and diff. Each handler receives its resolved options ([`super::options::release`]),
//! calls [`crate::release`] and hands the result to [`super::print::release`].

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};

use super::OutputFormat;

use super::chart_cmds::locate;
use super::flags::{
    ChartSourceFlags, ClusterFlags, NamingFlags, ValuesFlags, ValuesModeFlags, WriteFlags,
};
use super::options::Globals;
use super::options::release::{
    ChartRequest, DiffRevision, DiffUpgrade, Get, History, Install, List, Rollback, StatusRequest,
    Uninstall, Upgrade,
};
use super::options::session::Session;
use super::print;
use crate::release::{self, ChartInput};

// Arguments of `stoke install` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke upgrade` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke rollback` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke uninstall` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke history` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke list` (no doc comment: see the note on `Command`).
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

// Helm's status filters of `list`; several add up, `-a` takes every status.
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

// Arguments of `stoke status` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke get` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke diff` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(subcommand)]
    pub command: DiffCommand,
}

// The two diffs.
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

/// Loads the chart of `request` and reads the user's values for it, then runs `with`
/// on the chart input.
fn with_input<T>(
    request: &ChartRequest,
    with: impl FnOnce(&crate::chart::Chart, ChartInput<'_>) -> Result<T>,
) -> Result<T> {
    let chart = crate::chart::load::load(&locate(&request.chart, &request.source)?)?;
    let input = ChartInput {
        chart: &chart,
        values: crate::values::read_user_values(&request.values)?,
        capabilities: request.capabilities.clone(),
    };
    with(&chart, input)
}

/// `stoke install`.
pub fn install(g: &Globals, o: &Install) -> Result<i32> {
    with_input(&o.chart, |chart, input| {
        let key = g.key(&o.naming.name(chart.name())?)?;
        let session = Session::open(g, Some(&o.delivery))?;
        let done = release::install::install(&session.env(), &key, &input, &o.opts)?;
        print::release::done(&done, o.format, session.target.is_some())?;
        print::release::delivery(&session, o.format, done.dry_run);
        Ok(0)
    })
}

/// `stoke upgrade`.
pub fn upgrade(g: &Globals, o: &Upgrade) -> Result<i32> {
    with_input(&o.chart, |_, input| {
        let session = Session::open(g, Some(&o.delivery))?;
        let done = release::upgrade::upgrade(&session.env(), &o.key, &input, &o.opts)?;
        print::release::upgraded(&o.key, &done, o.format);
        print::release::done(&done, o.format, session.target.is_some())?;
        print::release::delivery(&session, o.format, done.dry_run);
        Ok(0)
    })
}

/// `stoke rollback`.
pub fn rollback(g: &Globals, o: &Rollback) -> Result<i32> {
    let session = Session::open(g, Some(&o.delivery))?;
    let done = release::rollback::rollback(&session.env(), &o.key, &o.opts)?;
    print::release::rolled_back(&o.key, &done, o.format, session.target.is_some())?;
    if o.format == OutputFormat::Table {
        print::release::delivery(&session, o.format, done.dry_run);
    }
    Ok(0)
}

/// `stoke uninstall`.
pub fn uninstall(g: &Globals, o: &Uninstall) -> Result<i32> {
    let session = Session::open(g, Some(&o.delivery))?;
    release::uninstall::uninstall(&session.env(), &o.key, &o.opts)?;
    print::release::uninstalled(&o.key, o.opts.dry_run)?;
    print::release::delivery(&session, OutputFormat::Table, o.opts.dry_run);
    Ok(0)
}

/// `stoke history`.
pub fn history(g: &Globals, o: &History) -> Result<i32> {
    let store = g.open_store()?;
    let summaries = release::history::history_lenient(store.as_ref(), &o.key, Some(o.max))?;
    print::release::history(&summaries, o.format)?;
    Ok(0)
}

/// `stoke list`.
pub fn list(g: &Globals, o: &List) -> Result<i32> {
    let store = g.open_store()?;
    let (heads, damaged) = release::list::list_lenient(store.as_ref(), &o.opts)?;
    let style = print::release::ListStyle {
        format: o.format,
        short: o.short,
        no_headers: o.no_headers,
        time: &o.time,
    };
    print::release::list(&heads, &damaged, &style)?;
    Ok(0)
}

/// `stoke status`: with a cluster configured, the deployed revision's live states too.
pub fn status(g: &Globals, o: &StatusRequest) -> Result<i32> {
    let store = g.open_store()?;
    let rev = release::get::revision(store.as_ref(), &o.key, o.revision)?;
    let live = if release::live::shows_live(&rev) {
        match g.connect_to_read()? {
            Some(t) => Some(release::live::resources(&t, &rev)?),
            None => None,
        }
    } else {
        None
    };
    print::release::status(release::status::report(&rev), live, o.format)?;
    Ok(0)
}

/// `stoke get`.
pub fn get(g: &Globals, o: &Get) -> Result<i32> {
    let store = g.open_store()?;
    let rev = release::get::revision(store.as_ref(), &o.key, o.revision)?;
    print::release::get(&rev, o.what, o.all, o.format)?;
    Ok(0)
}

/// `stoke diff revision`.
pub fn diff_revision(g: &Globals, o: &DiffRevision) -> Result<i32> {
    let store = g.open_store()?;
    let diffs = release::diff::diff_revisions(store.as_ref(), &o.key, o.from, o.to)?;
    print::diff::resource_diffs(&o.key.namespace, &diffs, o.format)?;
    Ok(0)
}

/// `stoke diff upgrade`.
pub fn diff_upgrade(g: &Globals, o: &DiffUpgrade) -> Result<i32> {
    with_input(&o.chart, |_, input| {
        let session = Session::open(g, None)?;
        let (diffs, warnings) =
            release::diff::diff_upgrade(&session.env(), &o.key, &input, &o.opts)?;
        print::warnings(&warnings);
        print::diff::resource_diffs(&o.key.namespace, &diffs, o.format)?;
        Ok(0)
    })
}
