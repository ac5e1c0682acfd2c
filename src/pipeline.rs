//! The render pipeline shared by `template`, `lint`, `install` and friends:
//! chart + user values -> computed values -> rendered manifests.

use std::path::Path;

use anyhow::{Result, bail};

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

impl Outcome {
    /// Everything a person should be warned about for this render, in order: notes on the
    /// computed values, values keys the chart does not define, then the render's own.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.computed.warnings.clone();
        w.extend(self.computed.unknown.iter().map(|u| u.to_string()));
        w.extend(self.rendered.warnings.iter().cloned());
        w
    }
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
pub(crate) fn check_kube_version(chart: &Chart, kube: &semver::Version) -> Result<()> {
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
pub(crate) fn show_only(rendered: &mut Rendered, chart: &Chart, paths: &[String]) -> Result<()> {
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
/// --output-dir` does, never through a symbolic link found in `dir`; files holding a Secret
/// get mode 0600 and new folders 0700 (see docs/limits.md, "Output folders").
pub(crate) fn write_output_dir(rendered: &Rendered, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut written: Vec<std::path::PathBuf> = Vec::new();
    let mut by_file: std::collections::BTreeMap<&str, (String, bool)> = Default::default();
    for m in &rendered.manifests {
        let (text, secret) = by_file.entry(&m.source).or_default();
        text.push_str("---\n# Source: ");
        text.push_str(&m.source);
        text.push('\n');
        text.push_str(&m.body);
        *secret |= crate::target::safe::holds_secret(&m.kind, &m.body);
    }
    let root = crate::target::safe::OutDir::open_root(dir)?;
    for (source, (text, secret)) in by_file {
        let rel = Path::new(source);
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name().and_then(|n| n.to_str()))
        else {
            bail!("template path `{source}` has no file name");
        };
        let folder = root.subpath(parent)?;
        let mode = if secret {
            crate::target::safe::SECRET_MODE
        } else {
            crate::target::safe::FILE_MODE
        };
        folder.write(name, text.as_bytes(), mode, false)?;
        written.push(dir.join(source));
    }
    Ok(written)
}

/// Leaves `big` (a loaded chart, its compiled templates, rendered output) for the operating
/// system to reclaim at exit instead of freeing it piece by piece: commands call this on
/// their way out, where tearing down large structures is a measurable share of a short
/// process's CPU time (docs/fleet.md, "Cold start"). Only for values the process no longer
/// needs and that hold no buffered output or locks.
pub fn skip_teardown<T>(big: T) {
    std::mem::forget(big);
}
