//! The commands that read the live cluster: `stoke test`, `stoke diff live`, and the live
//! part of `stoke status`. Parsing and printing only; the work is in
//! [`crate::release::live`].

use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use super::Cli;
use super::kube_args::{self, LifecycleFlags};
use super::output::{self, OutputFormat};
use super::release::parse_duration;
use crate::record::ReleaseKey;
use crate::release::live::{self, LiveResource};
use crate::target::cluster::ClusterTarget;

/// Arguments of `stoke test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Release name.
    pub release: String,
    /// How long each test may take (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,
    /// Print each test Pod's logs, when the cluster can give them.
    #[arg(long)]
    pub logs: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Arguments of `stoke diff live`.
#[derive(Debug, Args)]
pub struct DiffLiveArgs {
    /// Release name.
    pub release: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn require_cluster(cli: &Cli, flags: Option<&LifecycleFlags>, what: &str) -> Result<ClusterTarget> {
    match kube_args::connect(cli, flags)? {
        Some(t) => Ok(t),
        None => bail!(
            "`{what}` reads the cluster, and none is configured (give --kubeconfig, set KUBECONFIG, or create ~/.kube/config)"
        ),
    }
}

#[derive(Serialize)]
struct TestRow {
    name: String,
    phase: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logs: Option<String>,
}

/// `stoke test`: exit 1 when a test failed.
pub fn test(cli: &Cli, args: &TestArgs) -> Result<i32> {
    let key = ReleaseKey::new(&cli.namespace, &args.release)?;
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let mut flags = crate::target::cluster::ClusterOptions {
        timeout: args.timeout,
        ..Default::default()
    };
    flags.wait = false;
    let target = match crate::kube::Cluster::connect(&kube_args::kube_options(cli))? {
        Some(c) => ClusterTarget::new(c, flags),
        None => require_cluster(cli, None, "stoke test")?,
    };
    let (rev, runs) = live::test(store.as_ref(), &target, &key, args.logs)?;
    let failed = runs.iter().any(|r| r.phase == "Failed");
    let rows: Vec<TestRow> = runs
        .into_iter()
        .map(|r| TestRow {
            name: r.object,
            phase: r.phase,
            message: r.message,
            logs: r.logs,
        })
        .collect();
    if args.output != OutputFormat::Table {
        output::print_structured(&rows, args.output)?;
        return Ok(i32::from(failed));
    }
    println!(
        "NAME: {}\nNAMESPACE: {}\nREVISION: {}",
        key.name, key.namespace, rev.revision
    );
    if rows.is_empty() {
        println!("TEST SUITE: None (the chart has no helm.sh/hook: test objects)");
    }
    for r in &rows {
        println!("TEST SUITE:     {}\nPhase:          {}", r.name, r.phase);
        if let Some(m) = &r.message {
            println!("Message:        {}", m.replace('\n', "\n                "));
        }
        if let Some(l) = &r.logs {
            println!("POD LOGS: {}\n{}", r.name, l.trim_end());
        }
    }
    Ok(i32::from(failed))
}

/// `stoke diff live`: exit 2 when the cluster drifted from the deployed revision.
pub fn diff_live(cli: &Cli, args: &DiffLiveArgs) -> Result<i32> {
    let key = ReleaseKey::new(&cli.namespace, &args.release)?;
    let store =
        crate::storage::location::open(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let target = require_cluster(cli, None, "stoke diff live")?;
    let rev = live::deployed(store.as_ref(), &key)?;
    let resources: Vec<LiveResource> = live::resources(&target, &rev)?
        .into_iter()
        .filter(|r| r.state == "missing" || !r.drift.is_empty())
        .collect();
    let code = if resources.is_empty() { 0 } else { 2 };
    if args.output != OutputFormat::Table {
        output::print_structured(&resources, args.output)?;
        return Ok(code);
    }
    if resources.is_empty() {
        println!(
            "release {} matches revision {} in {}",
            key.name,
            rev.revision,
            target.cluster().at()
        );
    }
    for r in &resources {
        let ns = r
            .namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        if r.state == "missing" {
            println!("{} {ns}{}: missing from the cluster", r.kind, r.name);
            continue;
        }
        println!("{} {ns}{}:", r.kind, r.name);
        for f in &r.drift {
            println!(
                "  {}: revision {} has {}, the cluster has {}",
                f.path,
                rev.revision,
                f.applied.as_deref().unwrap_or("nothing"),
                f.live.as_deref().unwrap_or("nothing")
            );
        }
    }
    Ok(code)
}

/// The live states of `report`'s resources when a cluster is configured (`stoke status`).
pub fn live_status(
    cli: &Cli,
    key: &ReleaseKey,
    rev: &crate::release::record::Revision,
) -> Result<Option<Vec<LiveResource>>> {
    let _ = key;
    match kube_args::connect(cli, None)? {
        None => Ok(None),
        Some(t) => live::resources(&t, rev).map(Some),
    }
}

/// The live states as lines under `RESOURCES:`.
pub fn live_text(resources: &[LiveResource]) -> String {
    let mut out = String::from("LIVE RESOURCES:\n");
    for r in resources {
        let ns = r
            .namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        match &r.reason {
            Some(why) => out.push_str(&format!(
                "  {} {ns}{}: {} ({why})\n",
                r.kind, r.name, r.state
            )),
            None => out.push_str(&format!("  {} {ns}{}: {}\n", r.kind, r.name, r.state)),
        }
    }
    out
}
