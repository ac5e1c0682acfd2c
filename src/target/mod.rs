//! Where manifests go once a revision is recorded. The store is the record of desired
//! state; a [`Target`] makes that state real somewhere: a folder a GitOps tool (Flux,
//! Argo CD) reconciles from ([`dir::DirTarget`]), or a Kubernetes cluster
//! ([`cluster::ClusterTarget`]).

pub mod cluster;
pub mod dir;
pub mod safe;

use anyhow::Result;

use crate::manifest::Manifest;
use crate::record::ReleaseKey;

/// Which lifecycle action a change comes from (it decides which hooks run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The first revision (or one after an uninstall that kept history).
    Install,
    /// A new revision from a chart.
    Upgrade,
    /// A new revision carrying an earlier one.
    Rollback,
}

/// One revision to deliver.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The release.
    pub release: &'a ReleaseKey,
    /// Why.
    pub action: Action,
    /// The revision's resources, in install order (hooks among them are told apart by
    /// their `helm.sh/hook` annotation).
    pub manifests: &'a [Manifest],
    /// The resources of the deployed revision this one replaces (empty on install):
    /// those not in `manifests` are removed.
    pub previous: &'a [Manifest],
    /// Resources of a failed revision since then, which may also be in the cluster and
    /// are removed too when not in `manifests` (they are never restored).
    pub stale: &'a [Manifest],
    /// The number of that deployed revision.
    pub previous_revision: Option<u64>,
    /// The chart's `crds/` objects; only an install creates them.
    pub crds: &'a [Manifest],
}

impl<'a> Change<'a> {
    /// Putting revision `revision`'s `manifests` back over what an interrupted operation
    /// left half-delivered (`interrupted`), as a rollback to it.
    pub fn restoring(
        release: &'a ReleaseKey,
        revision: u64,
        manifests: &'a [Manifest],
        interrupted: &'a [Manifest],
    ) -> Change<'a> {
        Change {
            release,
            action: Action::Rollback,
            manifests,
            previous: interrupted,
            stale: &[],
            previous_revision: Some(revision),
            crds: &[],
        }
    }
}

/// A place the resources of a release are delivered to.
pub trait Target {
    /// Makes the release's resources exactly `change.manifests`: creates or updates each
    /// one and removes those of `change.previous` that are no longer present.
    fn apply(&self, change: &Change) -> Result<()>;

    /// Removes every resource of the release (on uninstall); `manifests` are those of the
    /// revisions that may have left objects behind.
    fn remove(&self, release: &ReleaseKey, manifests: &[Manifest]) -> Result<()>;

    /// Sends `manifests` for validation only (`--dry-run=server`); nothing changes.
    fn check(&self, _release: &ReleaseKey, _manifests: &[Manifest]) -> Result<()> {
        Ok(())
    }

    /// After a crash left `interrupted` half-delivered: brings the place back to the
    /// `deployed` revision's resources, or removes `interrupted`'s when nothing is deployed.
    fn converge(
        &self,
        release: &ReleaseKey,
        interrupted: &[Manifest],
        deployed: Option<(u64, &[Manifest])>,
    ) -> Result<()> {
        match deployed {
            Some((n, manifests)) => {
                self.apply(&Change::restoring(release, n, manifests, interrupted))
            }
            None => self.remove(release, interrupted),
        }
    }

    /// Brings a target that keeps a full copy of the release (a folder) back to the
    /// `deployed` resources, or to nothing; run under every lock, so it must be cheap when
    /// nothing is wrong. A cluster does nothing here: it is converged only after an
    /// interrupted operation ([`Target::converge`]).
    fn restore(&self, release: &ReleaseKey, deployed: Option<&[Manifest]>) -> Result<()> {
        match deployed {
            Some(manifests) => self.apply(&Change {
                release,
                action: Action::Upgrade,
                manifests,
                previous: &[],
                stale: &[],
                previous_revision: None,
                crds: &[],
            }),
            None => self.remove(release, &[]),
        }
    }

    /// How the CLI names this target in its output ("the cluster at ...").
    fn describe(&self) -> String;
}

/// The error a target returns when a failed change was undone (`--atomic`): the cluster
/// holds revision `to` again, or, for a failed install (`to` is `None`), nothing.
#[derive(Debug)]
pub struct RolledBack {
    /// What failed.
    pub cause: anyhow::Error,
    /// The revision restored.
    pub to: Option<u64>,
}

impl std::fmt::Display for RolledBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to {
            Some(n) => write!(
                f,
                "{:#}\n(--atomic: rolled back to revision {n})",
                self.cause
            ),
            None => write!(
                f,
                "{:#}\n(--atomic: the failed install was removed from the cluster)",
                self.cause
            ),
        }
    }
}

impl std::error::Error for RolledBack {}
