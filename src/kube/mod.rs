//! Talking to a Kubernetes cluster: finding its kubeconfig ([`config`]), connecting
//! ([`client::Cluster`]), explaining what the server refuses ([`error`]), finding how
//! each kind is served ([`discovery`]), single-object requests ([`apply`]), ownership marks
//! ([`object`]), readiness ([`ready`]), hooks ([`hooks`]) and the live answer to templates'
//! `lookup` ([`lookup`]). Everything here is async underneath (kube-rs) and synchronous on
//! the outside: calls go through the process-wide runtime, [`crate::rt::block_on`]. The
//! delivery of whole revisions is [`crate::target::cluster`].

pub mod apply;
pub mod client;
pub mod config;
pub mod crds;
pub mod discovery;
pub mod drift;
pub mod error;
pub mod hooks;
pub mod lookup;
pub mod object;
pub mod ready;

pub use client::Cluster;
pub use config::{KubeOptions, Source};
pub use error::Op;
