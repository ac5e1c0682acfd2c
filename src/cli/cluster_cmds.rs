//! The commands that read the live cluster: `stoke test` and `stoke diff live` (the live
//! part of `stoke status` is in [`super::release`]). Each handler receives its resolved
//! options, calls [`crate::release::live`] and hands the result to
//! [`super::print::cluster`].

use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::options::Globals;
use super::options::parse_duration;
use super::options::release::{DiffLive, Test};
use super::{OutputFormat, print};
use crate::release::live;

// Arguments of `stoke test` (no doc comment: see the note on `Command`).
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

/// `stoke test`: exit 1 when a test failed.
pub fn test(g: &Globals, o: &Test) -> Result<i32> {
    let store = g.open_store()?;
    let target = g.require_cluster(o.cluster.clone(), "stoke test")?;
    let (rev, runs) = live::test(store.as_ref(), &target, &o.key, o.logs)?;
    let failed = live::any_failed(&runs);
    print::cluster::tests(&o.key, &rev, runs, o.format)?;
    Ok(i32::from(failed))
}

/// `stoke diff live`: exit 2 when the cluster drifted from the deployed revision.
pub fn diff_live(g: &Globals, o: &DiffLive) -> Result<i32> {
    let store = g.open_store()?;
    let target = g.require_cluster(o.cluster.clone(), "stoke diff live")?;
    let rev = live::deployed(store.as_ref(), &o.key)?;
    let resources = live::drifted(&target, &rev)?;
    print::cluster::drift(&o.key, &rev, &target.cluster().at(), &resources, o.format)?;
    Ok(if resources.is_empty() { 0 } else { 2 })
}
