//! Identity of a loaded chart, and caches keyed by it. Compiling a chart's templates or its
//! schema costs far more than using them, and the same loaded chart is rendered many times
//! (upgrades, unit tests, benchmarks). The chart model carries only an identity token;
//! the layer that compiles owns its cache (the engine its templates, values the schema).

use std::sync::{Arc, Mutex, Weak};

/// Which loaded chart (or part of one) this is. Clones share the identity; a copy whose
/// compiled form would differ (renamed for an alias, cut down to some templates) gets a
/// fresh one with [`ChartId::new`].
#[derive(Debug, Clone, Default)]
pub struct ChartId(Arc<()>);

impl ChartId {
    /// A new identity, shared with nothing.
    pub fn new() -> ChartId {
        ChartId::default()
    }
}

/// Compiled forms of charts, one per identity, dropped once no chart with that identity is
/// left. Meant to live in a `static` of the layer that compiles.
pub struct ChartCache<T> {
    entries: Mutex<Vec<(Weak<()>, Arc<T>)>>,
}

impl<T> Default for ChartCache<T> {
    fn default() -> Self {
        ChartCache::new()
    }
}

impl<T> ChartCache<T> {
    /// An empty cache.
    pub const fn new() -> ChartCache<T> {
        ChartCache {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The compiled form for `id`, built with `build` on first use. The lock is not held
    /// while building, so two threads may both build; the first stored wins.
    pub(crate) fn get_or_try_insert<E>(
        &self,
        id: &ChartId,
        build: impl FnOnce() -> Result<Arc<T>, E>,
    ) -> Result<Arc<T>, E> {
        if let Some(found) = self.get(id) {
            return Ok(found);
        }
        let built = build()?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(w, _)| w.strong_count() > 0);
        if let Some((_, v)) = entries.iter().find(|(w, _)| same(w, id)) {
            return Ok(v.clone());
        }
        entries.push((Arc::downgrade(&id.0), built.clone()));
        Ok(built)
    }

    /// The compiled form for `id`, if one was built and is still kept.
    pub(crate) fn get(&self, id: &ChartId) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(w, _)| same(w, id))
            .map(|(_, v)| v.clone())
    }
}

fn same(w: &Weak<()>, id: &ChartId) -> bool {
    std::ptr::eq(w.as_ptr(), Arc::as_ptr(&id.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_a_compiled_form_and_fresh_identities_do_not() {
        let cache: ChartCache<String> = ChartCache::new();
        let a = ChartId::new();
        let mut builds = 0;
        let mut get = |id: &ChartId| {
            cache
                .get_or_try_insert(id, || {
                    builds += 1;
                    Ok::<_, ()>(Arc::new(format!("build {builds}")))
                })
                .unwrap()
        };
        assert_eq!(*get(&a), "build 1");
        assert_eq!(*get(&a.clone()), "build 1");
        assert_eq!(*get(&ChartId::new()), "build 2");
    }

    #[test]
    fn entries_go_when_their_chart_is_gone() {
        let cache: ChartCache<u32> = ChartCache::new();
        for n in 0..10 {
            let id = ChartId::new();
            cache
                .get_or_try_insert(&id, || Ok::<_, ()>(Arc::new(n)))
                .unwrap();
        }
        let kept = ChartId::new();
        cache
            .get_or_try_insert(&kept, || Ok::<_, ()>(Arc::new(99)))
            .unwrap();
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
    }
}
