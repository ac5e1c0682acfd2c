//! The release record: the data every layer above the engine exchanges. A [`Revision`]
//! per install, upgrade or rollback, the [`Summary`] history and list show, a release's
//! identity ([`ReleaseKey`]) and its small index ([`Head`]).
//!
//! This module holds data and the rules that make it valid, nothing that acts: stores,
//! targets and the diff read and write these types without depending on the actions.

pub mod key;
pub mod revision;

pub use key::{
    FORMAT_VERSION, Head, MAX_RELEASE_NAME, ReleaseKey, validate_namespace, validate_release_name,
};
pub(crate) use revision::SummaryView;
pub use revision::{ChartInfo, Revision, Status, Summary, chart_digest};
