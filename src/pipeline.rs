//! The render pipeline shared by `template`, `lint`, `install` and friends:
//! chart + user values -> computed values -> rendered manifests.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::chart::Chart;
use crate::engine::{self, RenderOptions, Rendered};
use crate::values::{self, Computed, UserValues};

/// Everything a render produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The computed values and the notes on them.
    pub computed: Computed,
    /// Manifests and notes.
    pub rendered: Rendered,
}

/// Computes values and renders `chart`. With `strict`, keys the chart does not define are
/// errors rather than warnings.
pub fn render_chart(
    chart: &Chart,
    user: &UserValues,
    opts: &RenderOptions,
    strict: bool,
) -> Result<Outcome> {
    check_kube_version(chart, &opts.capabilities.kube_version)?;
    let tree = crate::resolve::resolve(chart, &user.merged)?;
    let computed = values::compute_resolved(&tree, user)?;
    if strict && !computed.unknown.is_empty() {
        let list: Vec<String> = computed
            .unknown
            .iter()
            .map(|u| format!("  - {u}"))
            .collect();
        bail!(
            "the values set keys that chart `{}` does not define (--strict):\n{}",
            chart.name(),
            list.join("\n")
        );
    }
    let rendered = engine::render(&tree, &computed.values, opts)?;
    Ok(Outcome { computed, rendered })
}

/// Refuses to render for a cluster the chart's `kubeVersion` excludes.
pub fn check_kube_version(chart: &Chart, kube: &semver::Version) -> Result<()> {
    if let Some(constraint) = &chart.metadata.kube_version {
        let c = crate::chart::version::parse_constraint(constraint)?;
        if !c.matches(kube) {
            bail!(
                "chart `{}` requires Kubernetes {constraint}, but the target is v{kube} (set the target with --kube-version)",
                chart.name()
            );
        }
    }
    Ok(())
}

/// Keeps only manifests (and notes) from the templates named in `paths`; a path is
/// relative to the chart (`templates/x.yaml`) or includes the chart path.
pub fn show_only(rendered: &mut Rendered, chart: &Chart, paths: &[String]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    for p in paths {
        let full = format!("{}/{}", chart.path, p.trim_start_matches("./"));
        let hit = rendered
            .manifests
            .iter()
            .any(|m| m.source == *p || m.source == full);
        let notes = p.ends_with("NOTES.txt") && rendered.notes.is_some();
        if !hit && !notes {
            let mut known: Vec<&str> = rendered
                .manifests
                .iter()
                .map(|m| m.source.as_str())
                .collect();
            known.dedup();
            bail!(
                "could not find template `{p}` in chart `{}` (templates with output: {})",
                chart.name(),
                known.join(", ")
            );
        }
    }
    rendered.manifests.retain(|m| {
        paths.iter().any(|p| {
            m.source == *p || m.source == format!("{}/{}", chart.path, p.trim_start_matches("./"))
        })
    });
    Ok(())
}

/// Writes each template's manifests to `dir/<template path>`, as `helm template
/// --output-dir` does.
pub fn write_output_dir(rendered: &Rendered, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut written: Vec<std::path::PathBuf> = Vec::new();
    let mut by_file: std::collections::BTreeMap<&str, String> = Default::default();
    for m in &rendered.manifests {
        let text = by_file.entry(&m.source).or_default();
        text.push_str("---\n# Source: ");
        text.push_str(&m.source);
        text.push('\n');
        text.push_str(&m.body);
    }
    for (source, text) in by_file {
        let path = dir.join(source);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
