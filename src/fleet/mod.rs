//! Fleets: many releases declared in one file ([`spec`]), rendered, compared, applied and
//! reported together, one module per action ([`template`], [`diff`], [`apply`],
//! [`status`]).
//!
//! Every release goes through the same code as its own `stoke template` or `install`
//! ([`render_release`], the lifecycle actions in [`crate::release`]), so a fleet never
//! renders differently from the single command. What a fleet adds is sharing and
//! parallelism: each distinct chart is loaded and compiled once ([`ChartSet`]) and the
//! releases run on every core ([`run::for_each_ordered`]), results handed back in file
//! order so output streams release by release and memory stays bounded.
//!
//! One release failing never stops the others: every action reports a result per release
//! and leaves the summary (and the exit status) to the caller.

pub mod apply;
pub mod diff;
pub mod run;
pub mod spec;
pub mod status;
pub mod template;
mod track;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};

use crate::chart::Chart;
use crate::engine::{Capabilities, ReleaseInfo, RenderOptions};
use crate::pipeline::Outcome;
use crate::values::{UserValues, ValuesSource};
pub use spec::{FLEET_LABEL, Fleet, FleetRelease, Selector};

/// The charts a fleet uses, each loaded once and compiled once, shared by every release
/// that names it (clones of a [`Chart`] share its compiled templates and schema); and the
/// values files, each read and parsed once however many releases list it.
#[derive(Default)]
pub struct ChartSet {
    charts: BTreeMap<ChartId, Result<Arc<Chart>, String>>,
    values: Mutex<HashMap<PathBuf, Arc<ValuesSource>>>,
    /// Values files listed by more than one release; only these are kept once parsed, so
    /// per-site files do not pile up in memory over a long fleet.
    shared_values: std::collections::HashSet<PathBuf>,
}

/// A chart as a fleet names it: the reference and the version constraint.
type ChartId = (PathBuf, Option<String>);

impl ChartSet {
    /// Loads every chart the releases name. A chart that fails to load is remembered as
    /// failed: each release using it reports the error, the others go on.
    pub fn load(releases: &[&FleetRelease]) -> ChartSet {
        let mut set = ChartSet::default();
        let mut seen = std::collections::HashSet::new();
        for path in releases.iter().flat_map(|r| &r.values) {
            if !seen.insert(path) {
                set.shared_values.insert(path.clone());
            }
        }
        for r in releases {
            let id = (r.chart_ref.clone(), r.version.clone());
            if set.charts.contains_key(&id) {
                continue;
            }
            let loaded = load_chart(r).map(Arc::new).map_err(|e| format!("{e:#}"));
            set.charts.insert(id, loaded);
        }
        set
    }

    /// The chart of `release`.
    pub fn get(&self, release: &FleetRelease) -> Result<Arc<Chart>> {
        let id = (release.chart_ref.clone(), release.version.clone());
        match self.charts.get(&id) {
            Some(Ok(c)) => Ok(c.clone()),
            Some(Err(e)) => Err(anyhow!("{e}")),
            None => Err(anyhow!(
                "internal error: chart `{}` was not loaded",
                release.chart
            )),
        }
    }

    /// The user values of `release`, combined exactly as `stoke template` combines its
    /// `-f` and `--set` arguments, from files parsed at most once per fleet run.
    pub fn user_values(&self, release: &FleetRelease) -> Result<UserValues> {
        crate::values::read_user_values_with(&release.values_options(), &|path| {
            self.values_file(path)
        })
    }

    fn values_file(&self, path: &Path) -> Result<Arc<ValuesSource>> {
        let cached = self.lock_values().get(path).cloned();
        if let Some(source) = cached {
            return Ok(source);
        }
        // Read outside the lock; two threads may both read a file the first time, and
        // either copy is the same.
        let source = Arc::new(crate::values::read_values_source(path)?);
        if self.shared_values.contains(path) {
            self.lock_values()
                .insert(path.to_path_buf(), source.clone());
        }
        Ok(source)
    }

    fn lock_values(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<ValuesSource>>> {
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many distinct charts were loaded (failed ones included).
    pub fn len(&self) -> usize {
        self.charts.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.charts.is_empty()
    }
}

fn load_chart(r: &FleetRelease) -> Result<Chart> {
    let path = crate::repo::locate_chart(&r.chart_ref, r.version.as_deref(), false)
        .with_context(|| format!("chart `{}`", r.chart))?;
    let chart = crate::chart::load::load(&path).with_context(|| format!("chart `{}`", r.chart))?;
    // Compile now, once, before the releases race to do it on several threads.
    precompile_tree(&chart)?;
    crate::values::schema::precompile(&chart)?;
    Ok(chart)
}

fn precompile_tree(chart: &Chart) -> Result<()> {
    if !chart.metadata.is_library() {
        crate::engine::precompile(chart)?;
    }
    chart.subcharts.iter().try_for_each(precompile_tree)
}

/// What the actions need besides the fleet: the cluster rendered for and how many
/// threads to use.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The cluster the manifests are for (`--kube-version`, `--api-versions`).
    pub capabilities: Capabilities,
    /// Worker threads (at least one).
    pub threads: usize,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            capabilities: Capabilities::default(),
            threads: run::default_threads(),
        }
    }
}

/// Renders one release exactly as `stoke template NAME CHART -n NAMESPACE` with the
/// release's values files and `set:` entries would (`user` from
/// [`ChartSet::user_values`]).
pub fn render_release(
    release: &FleetRelease,
    chart: &Chart,
    user: &UserValues,
    capabilities: &Capabilities,
) -> Result<Outcome> {
    let opts = RenderOptions {
        release: ReleaseInfo {
            name: release.key.name.clone(),
            namespace: release.key.namespace.clone(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            ..ReleaseInfo::default()
        },
        capabilities: capabilities.clone(),
        deployed: Vec::new(),
    };
    crate::pipeline::render_chart(chart, user, &opts, false)
}

/// Prefixes an error with where the release is written in the fleet file.
pub(crate) fn at(release: &FleetRelease, e: anyhow::Error) -> anyhow::Error {
    e.context(release.at())
}

/// The store and target the lifecycle actions work with, shareable across the worker
/// threads (each worker builds its own [`crate::release::Env`] from it).
#[derive(Clone, Copy)]
pub struct FleetEnv<'a> {
    /// The release store.
    pub store: &'a (dyn crate::storage::Store + Sync),
    /// Where manifests go after a revision is recorded.
    pub target: Option<&'a (dyn crate::target::Target + Sync)>,
    /// How long to wait for another operation on the same release.
    pub wait: crate::storage::LockWait,
}

impl FleetEnv<'_> {
    /// The lifecycle actions' view of this environment.
    pub fn env(&self) -> crate::release::Env<'_> {
        crate::release::Env {
            store: self.store,
            target: self.target.map(|t| t as &dyn crate::target::Target),
            wait: self.wait,
        }
    }
}
