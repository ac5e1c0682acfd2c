//! The rendering engine: Tera setup, the template context, Helm-parity functions and
//! filters, and turning rendered text into ordered manifests.
//!
//! Each chart in the tree gets its own Tera instance holding its templates and the helpers
//! of its library subcharts, so two aliases of one chart never clash over helper names.

mod alarm;
pub mod budget;
pub mod context;
pub mod convert;
pub mod error;
pub mod filters;
pub mod functions;
pub mod manifest;
mod saved;
pub mod yaml_emit;

use std::sync::{Arc, OnceLock};

use anyhow::{Result, anyhow};
use serde_json::{Map, Value as Json};
use tera::Tera;

use crate::chart::{Chart, ChartCache};
pub use crate::manifest::Manifest;
use crate::resolve::ResolvedChart;
pub use context::{Capabilities, ReleaseInfo};
use functions::FunctionScope;

/// Everything about the render that does not come from the chart or its values.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The release being rendered.
    pub release: ReleaseInfo,
    /// The cluster the manifests are for.
    pub capabilities: Capabilities,
    /// Resources of the currently deployed revision, for `lookup`.
    pub deployed: Vec<Manifest>,
}

/// The result of rendering a chart.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Kubernetes objects in Helm's install order.
    pub manifests: Vec<Manifest>,
    /// The rendered `NOTES.txt` of the top-level chart.
    pub notes: Option<String>,
    /// Things worth telling the user that do not stop the render.
    pub warnings: Vec<String>,
}

impl Rendered {
    /// All manifests as one multi-document YAML stream, each under a `# Source:` line.
    pub(crate) fn manifest_text(&self) -> String {
        crate::manifest::manifest_text(&self.manifests)
    }
}

/// Whether a template file is a helper (never rendered on its own).
pub(crate) fn is_helper(template_name: &str) -> bool {
    let base = template_name.rsplit('/').next().unwrap_or(template_name);
    base.starts_with('_')
}

fn is_notes(template_name: &str) -> bool {
    template_name == "templates/NOTES.txt"
}

/// Renders a resolved chart with its computed `values` (see [`crate::resolve`] and
/// [`crate::values::compute_resolved`]).
pub fn render(
    chart: &ResolvedChart,
    values: &Map<String, Json>,
    opts: &RenderOptions,
) -> Result<Rendered> {
    let raw = render_raw(chart, values, opts)?;
    let mut rendered = Rendered {
        notes: raw.notes,
        ..Rendered::default()
    };
    rendered.warnings = raw.warnings;
    rendered.manifests = parse_outputs(&raw.outputs)?;
    crate::manifest::sort_for_install(&mut rendered.manifests);
    Ok(rendered)
}

/// Each template's rendered text, before it is split into documents and checked.
#[derive(Debug, Clone, Default)]
pub struct RawRender {
    /// (template name, rendered text), in rendering order: the chart's templates by path,
    /// then each subchart's.
    pub outputs: Vec<(String, String)>,
    /// The top-level chart's rendered `NOTES.txt`.
    pub notes: Option<String>,
    /// Warnings the templates raised with `warn`.
    pub warnings: Vec<String>,
}

/// Renders every template to text without checking the output; for tools that look at
/// documents per template (unit tests) or at the raw text.
pub(crate) fn render_raw(
    chart: &ResolvedChart,
    values: &Map<String, Json>,
    opts: &RenderOptions,
) -> Result<RawRender> {
    // Under the render budget, on a large stack (engine/budget.rs).
    budget::run(chart.chart().name(), || {
        let mut rendered = Rendered::default();
        let _deployed = functions::DeployedGuard::set(Arc::new(opts.deployed.clone()));
        let mut outputs = Vec::new();
        functions::take_warnings();
        let result = render_tree(
            chart.chart(),
            values,
            opts,
            true,
            &mut outputs,
            &mut rendered,
        );
        let warnings = functions::take_warnings();
        result?;
        Ok(RawRender {
            outputs,
            notes: rendered.notes,
            warnings,
        })
    })
}

/// Parses every template's output back into manifests, in template order. (Splitting the
/// work across threads was measured slower on two cores: the parser allocates heavily.)
pub fn parse_outputs(outputs: &[(String, String)]) -> Result<Vec<Manifest>> {
    let mut all = Vec::new();
    for (name, text) in outputs {
        all.extend(manifest::parse_output(name, text)?);
    }
    Ok(all)
}

fn render_tree(
    chart: &Chart,
    values: &Map<String, Json>,
    opts: &RenderOptions,
    top: bool,
    outputs: &mut Vec<(String, String)>,
    out: &mut Rendered,
) -> Result<()> {
    if !chart.metadata.is_library() {
        let (tera, base) = compiled(chart)?;
        let base_ctx = context::base(chart, values, opts);
        for t in &chart.templates {
            if is_helper(&t.name) || (is_notes(&t.name) && !top) {
                continue;
            }
            let full = format!("{}/{}", chart.path, t.name);
            let ctx = context::for_template(&base_ctx, &full, &base);
            let mut bytes = Vec::new();
            tera.render_to(&full, &ctx, budget::CappedOutput(&mut bytes))
                .map_err(|e| {
                    if budget::output_exceeded() {
                        return budget::output_error(&full);
                    }
                    anyhow!("cannot render {full}:\n{}", error::describe(&e))
                })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow!("cannot render {full}: the output is not UTF-8"))?;
            if is_notes(&t.name) {
                out.notes = Some(text);
            } else {
                outputs.push((full, text));
            }
        }
    }
    for sub in &chart.subcharts {
        let sub_values = match values.get(sub.name()) {
            Some(Json::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        render_tree(sub, &sub_values, opts, false, outputs, out)?;
    }
    Ok(())
}

/// Compiles the chart's templates now (they are otherwise compiled on first render), so
/// renders on several threads share one instance instead of racing to build it, and has
/// the chart's renders share their values' conversion (`context::share_conversions`).
pub(crate) fn precompile(chart: &Chart) -> Result<()> {
    context::share_conversions(chart);
    compiled(chart).map(|_| ())
}

/// Compiled templates of every chart rendered in this process, by chart identity.
static TEMPLATES: ChartCache<Tera> = ChartCache::new();

/// The chart's Tera instance, built on first use and kept while the chart lives.
fn compiled(chart: &Chart) -> Result<(Arc<Tera>, String)> {
    let base = format!("{}/templates", chart.path);
    let tera = TEMPLATES.get_or_try_insert(&chart.id, || build(chart))?;
    Ok((tera, base))
}

/// Builds the Tera instance for one chart: its templates, its library subcharts' helpers,
/// the filters and the functions.
fn build(chart: &Chart) -> Result<Arc<Tera>> {
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    filters::register(&mut tera);
    let handle = Arc::new(OnceLock::new());
    let scope = FunctionScope::new(chart.files.clone(), handle.clone());
    functions::register(&mut tera, &scope);

    let mut sources: Vec<(String, &str)> = Vec::new();
    for t in &chart.templates {
        let text = std::str::from_utf8(&t.data)
            .map_err(|_| anyhow!("{}/{} is not UTF-8 text", chart.path, t.name))?;
        sources.push((format!("{}/{}", chart.path, t.name), text));
    }
    for lib in chart.subcharts.iter().filter(|c| c.metadata.is_library()) {
        for t in lib.templates.iter().filter(|t| is_helper(&t.name)) {
            let text = std::str::from_utf8(&t.data)
                .map_err(|_| anyhow!("{}/{} is not UTF-8 text", lib.path, t.name))?;
            sources.push((format!("{}/{}", lib.path, t.name), text));
        }
    }
    saved::add_templates(&mut tera, &sources).map_err(|e| {
        anyhow!(
            "cannot load the templates of chart `{}`:\n{}",
            chart.name(),
            error::describe(&e)
        )
    })?;
    let tera = Arc::new(tera);
    let _ = handle.set(Arc::downgrade(&tera));
    Ok(tera)
}
