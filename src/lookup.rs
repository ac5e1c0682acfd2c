//! Where the template function `lookup` finds objects when a live cluster is connected.
//!
//! The engine must not know about Kubernetes clients, and the cluster layer must not know
//! about templates, so they meet here: the cluster layer installs a [`LookupSource`] once a
//! command has connected to a cluster, and the engine's `lookup` asks it. With no source
//! installed (no cluster, `--dry-run=client`, `stoke template`), `lookup` answers from the
//! release's deployed revision in the store, the offline fallback. The source is
//! process-wide for the same reason the progress sink is: a render runs deep inside an
//! action, on a thread of its own, and threading a handle through every layer would couple
//! them for no gain. A process talks to one cluster at a time.
//!
//! This module is a leaf: it imports nothing from the crate.

use std::sync::{Arc, RwLock};

use serde_json::Value;

/// Answers `lookup` from somewhere live.
pub trait LookupSource: Send + Sync {
    /// The objects of `kind` in `api_version`, as the server returns them. An empty
    /// `namespace` means every namespace (or a cluster-scoped kind); an empty `name` means
    /// every object. An object that does not exist is an empty list, not an error.
    fn find(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> anyhow::Result<Vec<Value>>;
}

fn slot() -> &'static RwLock<Option<Arc<dyn LookupSource>>> {
    static SLOT: RwLock<Option<Arc<dyn LookupSource>>> = RwLock::new(None);
    &SLOT
}

/// Makes `source` the one `lookup` asks (or, with `None`, falls back to the store) and
/// returns the one it replaced.
pub fn install(source: Option<Arc<dyn LookupSource>>) -> Option<Arc<dyn LookupSource>> {
    let mut slot = slot().write().unwrap_or_else(|p| p.into_inner());
    std::mem::replace(&mut *slot, source)
}

/// The installed source, if any.
pub fn live() -> Option<Arc<dyn LookupSource>> {
    slot().read().unwrap_or_else(|p| p.into_inner()).clone()
}
