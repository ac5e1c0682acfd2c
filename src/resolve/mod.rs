//! Resolving a chart's dependencies for one render: aliased copies of subcharts, dropping
//! subcharts that a `condition` or `tags` switch off, and `import-values`. Resolution is
//! kept apart from the chart model (as Helm keeps it in its chart utilities): a loaded
//! [`Chart`] is what is on disk, a [`ResolvedChart`] is what renders, and the engine only
//! accepts the latter, so resolve -> compute values -> render happens once, in that order.

use std::borrow::Cow;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use crate::chart::{Chart, ChartId, Dependency};
use crate::values::{self, Computed, UserValues, coalesce, lookup};

/// A chart tree as it renders with one set of values: aliases applied, disabled subcharts
/// removed, imported values in place. Only [`resolve`] makes one.
#[derive(Debug, Clone)]
pub struct ResolvedChart<'a> {
    tree: Cow<'a, Chart>,
}

impl ResolvedChart<'_> {
    /// The resolved tree.
    pub fn chart(&self) -> &Chart {
        &self.tree
    }

    /// Takes the resolved tree out, for callers that keep it beyond the loaded chart.
    pub fn into_owned(self) -> ResolvedChart<'static> {
        ResolvedChart {
            tree: Cow::Owned(self.tree.into_owned()),
        }
    }
}

impl std::ops::Deref for ResolvedChart<'_> {
    type Target = Chart;

    fn deref(&self) -> &Chart {
        &self.tree
    }
}

/// Returns the chart tree as it renders with `user` values: every `dependencies` entry is
/// matched to a subchart in `charts/` (renamed to its alias), disabled ones are removed.
/// A chart without subcharts or dependencies is borrowed as it is.
pub fn resolve<'a>(chart: &'a Chart, user: &Map<String, Value>) -> Result<ResolvedChart<'a>> {
    if chart.subcharts.is_empty() && chart.metadata.dependencies.is_empty() {
        return Ok(ResolvedChart {
            tree: Cow::Borrowed(chart),
        });
    }
    let mut tree = chart.clone();
    apply_aliases(&mut tree)?;
    let mut warnings = Vec::new();
    let values = coalesce::coalesce(&tree, user, &mut warnings)?;
    let tags = match values.get("tags") {
        Some(Value::Object(t)) => t.clone(),
        _ => Map::new(),
    };
    prune(&mut tree, &values, &tags);
    import_values(&mut tree)?;
    Ok(ResolvedChart {
        tree: Cow::Owned(tree),
    })
}

/// Resolves `chart` for `user` values and computes the values its templates see, keeping
/// warnings and unknown keys (see [`values::compute_resolved`]).
pub fn compute_values(chart: &Chart, user: &UserValues) -> Result<Computed> {
    let tree = resolve(chart, &user.merged)?;
    values::compute_resolved(&tree, user)
}

/// Applies `import-values`, children first, as Helm does: each import copies a table of the
/// child's values into the parent's defaults, where the parent's own values win.
/// `exports.NAME` is the short form. The child is found by its alias when it has one.
fn import_values(chart: &mut Chart) -> Result<()> {
    for sub in &mut chart.subcharts {
        import_values(sub)?;
    }
    let deps = chart.metadata.dependencies.clone();
    if deps.iter().all(|d| d.import_values.is_empty()) {
        return Ok(());
    }
    let mut warnings = Vec::new();
    let current = coalesce::coalesce(chart, &Map::new(), &mut warnings)?;
    let mut imported = Map::new();
    for dep in &deps {
        for iv in &dep.import_values {
            let (child, parent) = match iv {
                Value::String(name) => (format!("exports.{name}"), String::new()),
                Value::Object(m) => {
                    let text = |k: &str| match m.get(k) {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    (text("child"), text("parent"))
                }
                other => bail!(
                    "chart `{}`: import-values of `{}` must be names or {{child, parent}} maps, found {other}",
                    chart.name(),
                    dep.name
                ),
            };
            let from = format!("{}.{child}", dep.effective_name());
            let Some(Value::Object(table)) = lookup(&current, &from) else {
                // Helm skips a missing table with a warning; so does stoke's lint.
                continue;
            };
            let mut piece = table.clone();
            for part in parent.split('.').filter(|p| !p.is_empty()).rev() {
                let mut m = Map::new();
                m.insert(part.to_string(), Value::Object(piece));
                piece = m;
            }
            coalesce::coalesce_tables(&mut imported, piece, "", false, &mut warnings);
        }
    }
    let mut values = current;
    trim_nulls(&mut values);
    coalesce::coalesce_tables(&mut values, imported, "", false, &mut warnings);
    chart.values = values;
    Ok(())
}

fn trim_nulls(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let Value::Object(sub) = v {
            trim_nulls(sub);
        }
    }
}

fn apply_aliases(chart: &mut Chart) -> Result<()> {
    let deps = chart.metadata.dependencies.clone();
    let loaded = std::mem::take(&mut chart.subcharts);
    let mut result: Vec<Chart> = loaded
        .iter()
        .filter(|c| !deps.iter().any(|d| d.name == c.name()))
        .cloned()
        .collect();
    for dep in &deps {
        let Some(found) = loaded.iter().find(|c| c.name() == dep.name) else {
            bail!(
                "chart `{}` depends on `{}`, which is missing from its charts/ folder (run `stoke dependency build {}`)",
                chart.name(),
                dep.name,
                chart.origin.display()
            );
        };
        if !dep.version.is_empty() {
            let c = crate::chart::version::parse_constraint(&dep.version)?;
            let v = semver::Version::parse(&found.metadata.version)?;
            if !c.matches(&v) {
                bail!(
                    "chart `{}` wants `{}` version `{}`, but charts/ holds {} (run `stoke dependency update`)",
                    chart.name(),
                    dep.name,
                    dep.version,
                    found.metadata.version
                );
            }
        }
        let mut sub = found.clone();
        if let Some(alias) = &dep.alias {
            rename(&mut sub, alias, &chart.path);
        }
        result.push(sub);
    }
    chart.subcharts = result;
    for sub in &mut chart.subcharts {
        apply_aliases(sub)?;
    }
    Ok(())
}

fn rename(chart: &mut Chart, name: &str, parent_path: &str) {
    chart.metadata.name = name.to_string();
    set_path(chart, format!("{parent_path}/charts/{name}"));
}

fn set_path(chart: &mut Chart, path: String) {
    for sub in &mut chart.subcharts {
        set_path(sub, format!("{path}/charts/{}", sub.name()));
    }
    chart.path = path;
    chart.id = ChartId::new();
}

fn prune(chart: &mut Chart, values: &Map<String, Value>, tags: &Map<String, Value>) {
    let deps = chart.metadata.dependencies.clone();
    chart.subcharts.retain(|sub| {
        let Some(dep) = deps.iter().find(|d| d.effective_name() == sub.name()) else {
            return true;
        };
        enabled(dep, values, tags)
    });
    for sub in &mut chart.subcharts {
        let scoped = match values.get(sub.name()) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        prune(sub, &scoped, tags);
    }
}

fn enabled(dep: &Dependency, values: &Map<String, Value>, tags: &Map<String, Value>) -> bool {
    if let Some(cond) = &dep.condition {
        for path in cond.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(Value::Bool(b)) = lookup(values, path) {
                return *b;
            }
        }
    }
    let mut any_true = false;
    let mut any_false = false;
    for tag in &dep.tags {
        match tags.get(tag) {
            Some(Value::Bool(true)) => any_true = true,
            Some(Value::Bool(false)) => any_false = true,
            _ => {}
        }
    }
    any_true || !any_false
}
