//! Where a lifecycle command's writes go: the store, the target (a folder, a cluster or
//! nothing) and how long to wait for another operation's lock.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::Globals;
use crate::cli::flags::{DryRun, LifecycleFlags, WriteFlags};
use crate::fleet::FleetEnv;
use crate::release::Env;
use crate::storage::{LockWait, Store};
use crate::target::Target;
use crate::target::cluster::ClusterOptions;
use crate::target::dir::DirTarget;

/// The options of the cluster target.
pub fn cluster_options(flags: &LifecycleFlags) -> ClusterOptions {
    ClusterOptions {
        // --atomic implies waiting, as in Helm: a change is only judged once ready.
        wait: flags.wait || flags.atomic,
        wait_for_jobs: flags.wait_for_jobs,
        timeout: flags.timeout,
        force_conflicts: flags.force_conflicts,
        take_ownership: flags.take_ownership,
        create_namespace: flags.create_namespace,
        skip_crds: flags.skip_crds,
        no_hooks: flags.no_hooks,
        atomic: flags.atomic,
        cleanup_on_fail: flags.cleanup_on_fail,
    }
}

/// The resolved [`WriteFlags`]: where a write is delivered and how it waits.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `--output-dir`: a folder target instead of the cluster.
    pub output_dir: Option<PathBuf>,
    /// `--dry-run[=client|server]`.
    pub dry_run: Option<DryRun>,
    /// The lifecycle flags, for the cluster target.
    pub cluster: ClusterOptions,
    /// `--wait-lock`.
    pub wait: LockWait,
    /// `--description`.
    pub description: Option<String>,
}

impl Delivery {
    /// The delivery `flags` ask for.
    pub fn from_flags(flags: &WriteFlags) -> Delivery {
        Delivery {
            output_dir: flags.output_dir.clone(),
            dry_run: flags.dry_run,
            cluster: cluster_options(&flags.lifecycle),
            wait: flags.wait_lock.map_or(LockWait::FailFast, LockWait::Up),
            description: flags.description.clone(),
        }
    }

    /// Whether nothing is to be written (either kind of dry run).
    pub fn dry_run(&self) -> bool {
        self.dry_run.is_some()
    }
}

/// The store and the target of one command, opened.
pub struct Session {
    /// The release store.
    pub store: Box<dyn Store>,
    /// Where manifests go after a revision is recorded.
    pub target: Option<Box<dyn Target + Sync>>,
    /// How long to wait for another operation's lock.
    pub wait: LockWait,
}

impl Session {
    /// Opens the store and, for a write, picks the target: the folder of `--output-dir`,
    /// else the configured cluster (none for a client-side dry run), else nothing.
    pub fn open(globals: &Globals, delivery: Option<&Delivery>) -> Result<Session> {
        let target: Option<Box<dyn Target + Sync>> = match delivery {
            None => None,
            Some(d) => match (&d.output_dir, d.dry_run) {
                (Some(dir), _) => Some(Box::new(DirTarget::new(dir))),
                (None, Some(DryRun::Client)) => None,
                (None, _) => globals
                    .connect(d.cluster.clone())?
                    .map(|t| Box::new(t) as Box<dyn Target + Sync>),
            },
        };
        if delivery.is_some_and(|d| d.dry_run == Some(DryRun::Server)) && target.is_none() {
            bail!(
                "--dry-run=server needs a cluster, and none is configured (give --kubeconfig, set KUBECONFIG, or use --dry-run=client)"
            );
        }
        Ok(Session {
            store: globals.open_store()?,
            target,
            wait: delivery.map_or(LockWait::FailFast, |d| d.wait),
        })
    }

    /// The environment of a release action.
    pub fn env(&self) -> Env<'_> {
        Env {
            store: self.store.as_ref(),
            target: self.target.as_deref().map(|t| t as &dyn Target),
            wait: self.wait,
        }
    }

    /// The environment of a fleet action.
    pub fn fleet_env(&self) -> FleetEnv<'_> {
        FleetEnv {
            store: self.store.as_ref(),
            target: self.target.as_deref(),
            wait: self.wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        write: WriteFlags,
    }

    fn delivery(args: &[&str]) -> Delivery {
        let cmd = Cmd::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap();
        Delivery::from_flags(&cmd.write)
    }

    #[test]
    fn atomic_implies_waiting_as_in_helm() {
        let d = delivery(&["--atomic"]);
        assert!(d.cluster.wait && d.cluster.atomic);
        assert!(!delivery(&[]).cluster.wait);
    }

    #[test]
    fn a_bare_dry_run_is_client_side_and_wait_lock_sets_how_long_to_wait() {
        let d = delivery(&["--dry-run", "--wait-lock", "2m"]);
        assert_eq!(d.dry_run, Some(DryRun::Client));
        assert!(d.dry_run());
        assert_eq!(d.wait, LockWait::Up(std::time::Duration::from_secs(120)));
        assert_eq!(delivery(&[]).wait, LockWait::FailFast);
        assert_eq!(
            delivery(&["--dry-run=server"]).dry_run,
            Some(DryRun::Server)
        );
    }
}
