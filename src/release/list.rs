//! `stoke list`: releases and the state of their latest revision, from the heads alone,
//! filtered, ordered and paged as Helm's `list` does it.

use anyhow::Result;
use regex::Regex;

use super::labels::Selector;
use crate::record::Head;
use crate::record::Status;
use crate::storage::Store;

/// How releases are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// By name, then namespace (Helm's default).
    #[default]
    Name,
    /// By the time the latest revision was written, oldest first (Helm's `-d`).
    Date,
}

/// Which releases to list, and in what order.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Every status; otherwise the `statuses` asked for, or, as Helm, only releases whose
    /// latest revision is deployed or failed.
    pub all: bool,
    /// Only releases whose latest revision has one of these statuses (Helm's
    /// `--deployed`, `--failed`, `--pending`, ... flags, which add up).
    pub statuses: Vec<Status>,
    /// The namespace to list, or `None` for all namespaces.
    pub namespace: Option<String>,
    /// Only release names this regular expression matches.
    pub filter: Option<Regex>,
    /// Only releases whose labels match.
    pub selector: Option<Selector>,
    /// The order.
    pub sort: SortBy,
    /// Reverse the order (Helm's `-r`).
    pub reverse: bool,
    /// Skip this many releases (after filtering and ordering).
    pub offset: usize,
    /// Return at most this many releases; 0 means no limit.
    pub max: usize,
}

/// Whether a release whose latest revision has status `s` is listed.
fn status_wanted(opts: &ListOptions, s: Status) -> bool {
    if opts.all {
        return true;
    }
    if opts.statuses.is_empty() {
        return matches!(s, Status::Deployed | Status::Failed);
    }
    opts.statuses.contains(&s)
}

/// The statuses Helm's `--pending` stands for.
pub const PENDING: [Status; 3] = [
    Status::PendingInstall,
    Status::PendingUpgrade,
    Status::PendingRollback,
];

/// Lists releases: filtered, ordered (name then namespace by default), then paged.
pub fn list(store: &dyn Store, opts: &ListOptions) -> Result<Vec<Head>> {
    Ok(select(store.list(opts.namespace.as_deref())?, opts))
}

/// [`list`], with releases whose records cannot be read reported apart (after the filter
/// on names) instead of failing the listing.
pub fn list_lenient(
    store: &dyn Store,
    opts: &ListOptions,
) -> Result<(Vec<Head>, Vec<crate::storage::Damaged>)> {
    let (heads, mut damaged) = store.list_lenient(opts.namespace.as_deref())?;
    damaged.retain(|d| opts.filter.as_ref().is_none_or(|f| f.is_match(&d.key.name)));
    Ok((select(heads, opts), damaged))
}

/// Applies the status, name and label filters, the order and the page of `opts`.
fn select(mut heads: Vec<Head>, opts: &ListOptions) -> Vec<Head> {
    heads.retain(|h| {
        status_wanted(opts, h.summary.status)
            && opts.filter.as_ref().is_none_or(|f| f.is_match(&h.key.name))
            && opts
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(&h.summary.labels))
    });
    match opts.sort {
        SortBy::Name => heads
            .sort_by(|a, b| (&a.key.name, &a.key.namespace).cmp(&(&b.key.name, &b.key.namespace))),
        // RFC 3339 UTC times with a fixed width order as text; ties fall back to the name.
        SortBy::Date => heads.sort_by(|a, b| {
            (&a.summary.updated, &a.key.name).cmp(&(&b.summary.updated, &b.key.name))
        }),
    }
    if opts.reverse {
        heads.reverse();
    }
    let heads = heads.into_iter().skip(opts.offset);
    if opts.max == 0 {
        heads.collect()
    } else {
        heads.take(opts.max).collect()
    }
}
