//! The cluster flags of the lifecycle commands (Helm's names) and the choice of target
//! they make: a folder (`--output-dir`), a cluster (a kubeconfig was found), or none.

use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::Cli;
use super::release::parse_duration;
use crate::kube::{Cluster, KubeOptions};
use crate::target::cluster::{ClusterOptions, ClusterTarget};

/// `--dry-run[=client|server]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Render and validate locally; nothing is sent anywhere.
    Client,
    /// Also send every object to the API server as a server-side dry run.
    Server,
}

/// How a lifecycle command treats the cluster.
#[derive(Debug, Clone, Args)]
pub struct LifecycleFlags {
    /// Wait until every resource is ready (rolled out, bound, addressed) before marking
    /// the release deployed.
    #[arg(long)]
    pub wait: bool,
    /// With --wait, also wait for Jobs to complete.
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// How long --wait and each hook may take (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,
    /// On failure, return the cluster and the record to the last deployed revision (an
    /// install is removed).
    #[arg(long, visible_alias = "rollback-on-failure")]
    pub atomic: bool,
    /// On failure, delete the objects the failed change created.
    #[arg(long)]
    pub cleanup_on_fail: bool,
    /// Create the release namespace if it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Take over fields another field manager (kubectl, a controller) owns.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Adopt existing objects that belong to no release or to another one.
    #[arg(long)]
    pub take_ownership: bool,
    /// Do not install the chart's crds/ folder.
    #[arg(long)]
    pub skip_crds: bool,
    /// Run no hooks.
    #[arg(long)]
    pub no_hooks: bool,
}

impl LifecycleFlags {
    /// The options of the cluster target.
    pub fn options(&self) -> ClusterOptions {
        ClusterOptions {
            // --atomic implies waiting, as in Helm: a change is only judged once ready.
            wait: self.wait || self.atomic,
            wait_for_jobs: self.wait_for_jobs,
            timeout: self.timeout,
            force_conflicts: self.force_conflicts,
            take_ownership: self.take_ownership,
            create_namespace: self.create_namespace,
            skip_crds: self.skip_crds,
            no_hooks: self.no_hooks,
            atomic: self.atomic,
            cleanup_on_fail: self.cleanup_on_fail,
        }
    }
}

/// The connection options of the global flags.
pub fn kube_options(cli: &Cli) -> KubeOptions {
    KubeOptions {
        kubeconfig: cli.kubeconfig.clone(),
        context: cli.kube_context.clone(),
    }
}

/// Connects to the configured cluster (`None`: no kubeconfig anywhere); from then on
/// templates' `lookup` reads that cluster.
pub fn connect(cli: &Cli, flags: Option<&LifecycleFlags>) -> Result<Option<ClusterTarget>> {
    let opts = flags.map(LifecycleFlags::options).unwrap_or_default();
    let cluster = Cluster::connect(&kube_options(cli))?;
    if let Some(c) = &cluster {
        crate::kube::lookup::serve_from(c);
    }
    Ok(cluster.map(|c| ClusterTarget::new(c, opts)))
}
