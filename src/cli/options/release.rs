//! Options of the release commands: install, upgrade, rollback, uninstall, history, list,
//! status, get, diff and test.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ArgMatches;

use super::Globals;
use super::chart::Naming;
use super::session::Delivery;
use super::source::chart_source;
use super::values::{capabilities, values};
use crate::cli::OutputFormat;
use crate::cli::cluster_cmds::{DiffLiveArgs, TestArgs};
use crate::cli::flags::{ValuesModeFlags, WriteFlags};
use crate::cli::print::TimeFormat;
use crate::cli::release::{
    DiffRevisionArgs, DiffUpgradeArgs, GetArgs, GetWhat, HistoryArgs, InstallArgs, ListArgs,
    RollbackArgs, StatusArgs, StatusFlags, UninstallArgs, UpgradeArgs,
};
use crate::engine::Capabilities;
use crate::record::{ReleaseKey, Status};
use crate::release::install::InstallOptions;
use crate::release::list::{ListOptions, SortBy};
use crate::release::rollback::RollbackOptions;
use crate::release::uninstall::UninstallOptions;
use crate::release::upgrade::{UpgradeOptions, ValuesMode};
use crate::release::{self, labels};
use crate::repo::source::ChartSource;
use crate::target::cluster::ClusterOptions;
use crate::values::ValuesOptions;

/// A chart to render for a release: the reference, how to fetch it, the values and the
/// cluster it is rendered for.
pub struct ChartRequest {
    /// The chart reference.
    pub chart: PathBuf,
    /// How a remote chart is fetched.
    pub source: ChartSource,
    /// The user's values.
    pub values: ValuesOptions,
    /// The cluster rendered for.
    pub capabilities: Capabilities,
}

impl ChartRequest {
    fn new(
        chart: PathBuf,
        source: &crate::cli::flags::ChartSourceFlags,
        values_flags: &crate::cli::flags::ValuesFlags,
        cluster: &crate::cli::flags::ClusterFlags,
        m: Option<&ArgMatches>,
    ) -> Result<ChartRequest> {
        Ok(ChartRequest {
            chart,
            source: chart_source(source)?,
            values: values(values_flags, m),
            capabilities: capabilities(cluster)?,
        })
    }
}

fn values_mode(flags: &ValuesModeFlags) -> ValuesMode {
    if flags.reuse_values {
        ValuesMode::Reuse
    } else if flags.reset_values {
        ValuesMode::Reset
    } else if flags.reset_then_reuse_values {
        ValuesMode::ResetThenReuse
    } else {
        ValuesMode::Default
    }
}

/// `stoke install`.
pub struct Install {
    /// How the release is named.
    pub naming: Naming,
    /// The chart and its values.
    pub chart: ChartRequest,
    /// Where the write goes.
    pub delivery: Delivery,
    /// The action's options.
    pub opts: InstallOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl Install {
    /// Resolves `stoke install`'s flags.
    pub fn from_args(args: &InstallArgs, m: Option<&ArgMatches>) -> Result<Install> {
        let makes_name = args.naming.generate_name || args.naming.name_template.is_some();
        if args.chart.is_none() && !makes_name {
            bail!(
                "install needs a release name and a chart: `stoke install NAME {}`, or pass --generate-name to have a name made up (as in Helm)",
                args.release
            );
        }
        let (naming, chart) =
            Naming::from_positionals(&args.release, args.chart.as_deref(), &args.naming)?;
        let chart = ChartRequest::new(chart, &args.source, &args.values, &args.cluster, m)?;
        let given = labels::parse_labels(args.labels.iter().map(String::as_str))?;
        Ok(Install {
            naming,
            chart,
            delivery: Delivery::from_flags(&args.write),
            opts: InstallOptions {
                description: args.write.description.clone(),
                dry_run: args.write.dry_run.is_some(),
                labels: Some(labels::for_install(&given)),
            },
            format: args.output,
        })
    }
}

/// `stoke upgrade`.
pub struct Upgrade {
    /// The release.
    pub key: ReleaseKey,
    /// The chart and its values.
    pub chart: ChartRequest,
    /// Where the write goes.
    pub delivery: Delivery,
    /// The action's options.
    pub opts: UpgradeOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl Upgrade {
    /// Resolves `stoke upgrade`'s flags.
    pub fn from_args(g: &Globals, args: &UpgradeArgs, m: Option<&ArgMatches>) -> Result<Upgrade> {
        let key = g.key(&args.release)?;
        let chart = ChartRequest::new(
            args.chart.clone(),
            &args.source,
            &args.values,
            &args.cluster,
            m,
        )?;
        Ok(Upgrade {
            key,
            chart,
            delivery: Delivery::from_flags(&args.write),
            opts: UpgradeOptions {
                install: args.install,
                values_mode: values_mode(&args.modes),
                history_max: args.history_max,
                description: args.write.description.clone(),
                dry_run: args.write.dry_run.is_some(),
                label_changes: labels::parse_labels(args.labels.iter().map(String::as_str))?,
                ..UpgradeOptions::default()
            },
            format: args.output,
        })
    }
}

/// `stoke rollback`.
pub struct Rollback {
    /// The release.
    pub key: ReleaseKey,
    /// Where the write goes.
    pub delivery: Delivery,
    /// The action's options.
    pub opts: RollbackOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl Rollback {
    /// Resolves `stoke rollback`'s flags.
    pub fn from_args(g: &Globals, args: &RollbackArgs) -> Result<Rollback> {
        Ok(Rollback {
            key: g.key(&args.release)?,
            delivery: Delivery::from_flags(&args.write),
            opts: RollbackOptions {
                revision: args.revision,
                history_max: args.history_max,
                description: args.write.description.clone(),
                dry_run: args.write.dry_run.is_some(),
            },
            format: args.output,
        })
    }
}

/// `stoke uninstall`.
pub struct Uninstall {
    /// The release.
    pub key: ReleaseKey,
    /// Where the write goes.
    pub delivery: Delivery,
    /// The action's options.
    pub opts: UninstallOptions,
}

impl Uninstall {
    /// Resolves `stoke uninstall`'s flags.
    pub fn from_args(g: &Globals, args: &UninstallArgs) -> Result<Uninstall> {
        Ok(Uninstall {
            key: g.key(&args.release)?,
            delivery: Delivery::from_flags(&args.write),
            opts: uninstall_options(args.keep_history, &args.write),
        })
    }
}

fn uninstall_options(keep_history: bool, write: &WriteFlags) -> UninstallOptions {
    UninstallOptions {
        keep_history,
        description: write.description.clone(),
        dry_run: write.dry_run.is_some(),
    }
}

/// `stoke history`.
pub struct History {
    /// The release.
    pub key: ReleaseKey,
    /// `--max`.
    pub max: usize,
    /// `-o`.
    pub format: OutputFormat,
}

impl History {
    /// Resolves `stoke history`'s flags.
    pub fn from_args(g: &Globals, args: &HistoryArgs) -> Result<History> {
        Ok(History {
            key: g.key(&args.release)?,
            max: args.max,
            format: args.output,
        })
    }
}

fn statuses(flags: &StatusFlags) -> Vec<Status> {
    let mut out = Vec::new();
    for (on, statuses) in [
        (flags.deployed, &[Status::Deployed][..]),
        (flags.failed, &[Status::Failed]),
        (flags.pending, &release::list::PENDING),
        (flags.superseded, &[Status::Superseded]),
        (flags.uninstalled, &[Status::Uninstalled]),
        (flags.uninstalling, &[Status::Uninstalling]),
    ] {
        if on {
            out.extend_from_slice(statuses);
        }
    }
    out
}

/// `stoke list`.
pub struct List {
    /// What to list.
    pub opts: ListOptions,
    /// `-q`: names only.
    pub short: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// `--time-format`.
    pub time: TimeFormat,
    /// `-o`.
    pub format: OutputFormat,
}

impl List {
    /// Resolves `stoke list`'s flags.
    pub fn from_args(g: &Globals, args: &ListArgs) -> Result<List> {
        let filter = match &args.filter {
            Some(f) => Some(
                regex::Regex::new(f)
                    .with_context(|| format!("--filter `{f}` is not a valid regular expression"))?,
            ),
            None => None,
        };
        let time = match &args.time_format {
            Some(layout) => {
                crate::timefmt::check_layout(layout)?;
                TimeFormat::Layout(layout.clone())
            }
            None => TimeFormat::Human,
        };
        let opts = ListOptions {
            all: args.all,
            statuses: statuses(&args.statuses),
            namespace: (!args.all_namespaces).then(|| g.namespace.clone()),
            filter,
            selector: args
                .selector
                .as_deref()
                .map(labels::Selector::parse)
                .transpose()?,
            sort: if args.date {
                SortBy::Date
            } else {
                SortBy::Name
            },
            reverse: args.reverse,
            offset: args.offset,
            max: args.max,
        };
        Ok(List {
            opts,
            short: args.short,
            no_headers: args.no_headers,
            time,
            format: args.output,
        })
    }
}

/// `stoke status`.
pub struct StatusRequest {
    /// The release.
    pub key: ReleaseKey,
    /// `--revision`.
    pub revision: Option<u64>,
    /// `-o`.
    pub format: OutputFormat,
}

impl StatusRequest {
    /// Resolves `stoke status`'s flags.
    pub fn from_args(g: &Globals, args: &StatusArgs) -> Result<StatusRequest> {
        Ok(StatusRequest {
            key: g.key(&args.release)?,
            revision: args.revision,
            format: args.output,
        })
    }
}

/// `stoke get`.
pub struct Get {
    /// The release.
    pub key: ReleaseKey,
    /// What to print.
    pub what: GetWhat,
    /// `--revision`.
    pub revision: Option<u64>,
    /// `--all`: computed rather than user-supplied values.
    pub all: bool,
    /// `-o`.
    pub format: OutputFormat,
}

impl Get {
    /// Resolves `stoke get`'s flags.
    pub fn from_args(g: &Globals, args: &GetArgs) -> Result<Get> {
        Ok(Get {
            key: g.key(&args.release)?,
            what: args.what,
            revision: args.revision,
            all: args.all,
            format: args.output,
        })
    }
}

/// `stoke diff revision`.
pub struct DiffRevision {
    /// The release.
    pub key: ReleaseKey,
    /// The older revision.
    pub from: u64,
    /// The newer revision.
    pub to: u64,
    /// `-o`.
    pub format: OutputFormat,
}

impl DiffRevision {
    /// Resolves `stoke diff revision`'s flags.
    pub fn from_args(g: &Globals, args: &DiffRevisionArgs) -> Result<DiffRevision> {
        Ok(DiffRevision {
            key: g.key(&args.release)?,
            from: args.from,
            to: args.to,
            format: args.output,
        })
    }
}

/// `stoke diff upgrade`.
pub struct DiffUpgrade {
    /// The release.
    pub key: ReleaseKey,
    /// The chart and its values.
    pub chart: ChartRequest,
    /// The upgrade compared with.
    pub opts: UpgradeOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl DiffUpgrade {
    /// Resolves `stoke diff upgrade`'s flags.
    pub fn from_args(
        g: &Globals,
        args: &DiffUpgradeArgs,
        m: Option<&ArgMatches>,
    ) -> Result<DiffUpgrade> {
        let key = g.key(&args.release)?;
        let chart = ChartRequest::new(
            args.chart.clone(),
            &args.source,
            &args.values,
            &args.cluster,
            m,
        )?;
        Ok(DiffUpgrade {
            key,
            chart,
            opts: UpgradeOptions {
                install: args.install,
                values_mode: values_mode(&args.modes),
                ..UpgradeOptions::default()
            },
            format: args.output,
        })
    }
}

/// `stoke diff live`.
pub struct DiffLive {
    /// The release.
    pub key: ReleaseKey,
    /// The cluster target's options (it is only read).
    pub cluster: ClusterOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl DiffLive {
    /// Resolves `stoke diff live`'s flags.
    pub fn from_args(g: &Globals, args: &DiffLiveArgs) -> Result<DiffLive> {
        Ok(DiffLive {
            key: g.key(&args.release)?,
            cluster: ClusterOptions::default(),
            format: args.output,
        })
    }
}

/// `stoke test`.
pub struct Test {
    /// The release.
    pub key: ReleaseKey,
    /// The cluster target's options: `--timeout` per test, no readiness wait.
    pub cluster: ClusterOptions,
    /// `--logs`.
    pub logs: bool,
    /// `-o`.
    pub format: OutputFormat,
}

impl Test {
    /// Resolves `stoke test`'s flags.
    pub fn from_args(g: &Globals, args: &TestArgs) -> Result<Test> {
        Ok(Test {
            key: g.key(&args.release)?,
            cluster: ClusterOptions {
                timeout: args.timeout,
                wait: false,
                ..Default::default()
            },
            logs: args.logs,
            format: args.output,
        })
    }
}
