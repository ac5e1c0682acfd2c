//! Progress of a fleet run, one item per release, through [`crate::progress`]: the action
//! says when a release starts something slow (comparing, applying, reading the cluster) and
//! how it ended. The command line decides how (and whether) to show it.

use crate::progress::{self, State};
use crate::record::ReleaseKey;

/// Release `key` started `what` ("applying", "comparing", ...).
pub(crate) fn working(key: &ReleaseKey, what: &str) {
    progress::item(key.to_string(), State::Working, what);
}

/// Release `key` is done: `Ok(detail)` ("installed, revision 1") or the error it failed with.
pub(crate) fn done<T>(
    key: &ReleaseKey,
    result: &anyhow::Result<T>,
    detail: impl FnOnce(&T) -> String,
) {
    match result {
        Ok(v) => progress::item(key.to_string(), State::Ready, detail(v)),
        Err(e) => progress::item(key.to_string(), State::Failed, cause(e)),
    }
}

/// The innermost cause's first line, short enough for a progress line; the full error is
/// reported with the results.
fn cause(e: &anyhow::Error) -> String {
    const MAX: usize = 100;
    let text = e.root_cause().to_string();
    let first = text.lines().next().unwrap_or_default();
    match first.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &first[..at]),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_release_reports_its_start_and_its_end_keyed_by_namespace_and_name() {
        let rec = Arc::new(progress::Recorder::default());
        let old = progress::install(rec.clone());
        let key = ReleaseKey::new("track-test-ns", "track-site").unwrap();
        working(&key, "applying");
        done(&key, &Ok(1), |n| format!("installed, revision {n}"));
        let failed: anyhow::Result<()> =
            Err(anyhow::anyhow!("line one\nline two").context("outer"));
        done(&key, &failed, |_| String::new());
        progress::install(old);
        let ours: Vec<_> = rec
            .events()
            .into_iter()
            .filter_map(|e| match e {
                progress::Event::Item { id, state, detail } if id == "track-test-ns/track-site" => {
                    Some((state, detail))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            ours,
            [
                (State::Working, "applying".to_string()),
                (State::Ready, "installed, revision 1".to_string()),
                (State::Failed, "line one".to_string()),
            ]
        );
    }
}
