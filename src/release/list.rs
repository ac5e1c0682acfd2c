//! `stoke list`: releases and the state of their latest revision, from the heads alone.

use anyhow::Result;
use regex::Regex;

use crate::record::Head;
use crate::record::Status;
use crate::storage::Store;

/// Which releases to list.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Every status; otherwise, as Helm, only releases whose latest revision is deployed
    /// or failed.
    pub all: bool,
    /// The namespace to list, or `None` for all namespaces.
    pub namespace: Option<String>,
    /// Only release names this regular expression matches.
    pub filter: Option<Regex>,
}

/// Lists releases sorted by name, then namespace.
pub fn list(store: &dyn Store, opts: &ListOptions) -> Result<Vec<Head>> {
    let mut heads = store.list(opts.namespace.as_deref())?;
    heads.retain(|h| {
        (opts.all || matches!(h.summary.status, Status::Deployed | Status::Failed))
            && opts.filter.as_ref().is_none_or(|f| f.is_match(&h.key.name))
    });
    Ok(heads)
}

/// [`list`], with releases whose records cannot be read reported apart (after the filter
/// on names) instead of failing the listing.
pub fn list_lenient(
    store: &dyn Store,
    opts: &ListOptions,
) -> Result<(Vec<Head>, Vec<crate::storage::Damaged>)> {
    let (mut heads, mut damaged) = store.list_lenient(opts.namespace.as_deref())?;
    heads.retain(|h| {
        (opts.all || matches!(h.summary.status, Status::Deployed | Status::Failed))
            && opts.filter.as_ref().is_none_or(|f| f.is_match(&h.key.name))
    });
    damaged.retain(|d| opts.filter.as_ref().is_none_or(|f| f.is_match(&d.key.name)));
    Ok((heads, damaged))
}
