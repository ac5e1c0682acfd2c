//! stoke: a Helm-like chart engine and package manager for Ignition gateways on Kubernetes.
//!
//! Data flows one way: a [`chart::Chart`] and user values are coalesced by [`values`],
//! rendered by [`engine`] into manifests, and (for lifecycle commands) recorded as a
//! release revision in a store. The [`cli`] layer only parses arguments and prints results.

pub(crate) mod artifact_cache;
pub mod chart;
pub mod cli;
pub mod diff;
pub mod engine;
pub mod environment;
pub mod failpoint;
pub mod fetch;
pub mod fleet;
pub mod fsutil;
pub mod kube;
pub mod limits;
pub mod lint;
pub mod lookup;
pub mod manifest;
pub mod mask;
pub mod merge;
pub mod oci;
pub mod package;
pub mod pipeline;
pub mod progress;
pub mod provenance;
pub mod record;
pub mod release;
pub mod repo;
pub mod resolve;
pub mod rt;
pub mod scaffold;
pub mod storage;
pub mod suggest;
pub mod target;
#[cfg(test)]
pub(crate) mod testing;
pub mod timefmt;
pub mod timestamp;
pub mod transport;
pub mod unittest;
pub mod values;
pub mod yaml;
