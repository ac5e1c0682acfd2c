//! Where manifests go once a revision is recorded. The store is the record of desired
//! state; a [`Target`] makes that state real somewhere. The first target is a folder a
//! GitOps tool (Flux, Argo CD) reconciles from ([`dir::DirTarget`]); applying to a cluster
//! can come next without touching the actions.

pub mod dir;
pub mod safe;

use anyhow::Result;

use crate::manifest::Manifest;
use crate::record::ReleaseKey;

/// A place the resources of a release are delivered to.
pub trait Target {
    /// Makes the release's resources exactly `manifests`: creates or replaces each one and
    /// removes those the previous apply delivered that are no longer present.
    fn apply(&self, release: &ReleaseKey, manifests: &[Manifest]) -> Result<()>;

    /// Removes every resource of the release (on uninstall).
    fn remove(&self, release: &ReleaseKey) -> Result<()>;
}
