//! `stoke fleet template`: every selected release rendered as its own `stoke template`
//! renders it, printed one after another or written to `DIR/<namespace>/<release>/` in
//! the layout of the GitOps directory target ([`crate::target::dir::DirTarget`]).

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{ChartSet, FleetOptions, FleetRelease, run, track};
use crate::target::Target;
use crate::target::dir::DirTarget;

/// What one release's render produced.
#[derive(Debug, Clone)]
pub struct Templated {
    /// The manifest text exactly as `stoke template` prints it (when no output folder).
    pub text: Option<String>,
    /// The release's folder (when writing to an output folder).
    pub dir: Option<PathBuf>,
    /// How many resources were rendered.
    pub resources: usize,
    /// Warnings from computing values and rendering.
    pub warnings: Vec<String>,
}

/// Renders `releases` in parallel and hands each result to `sink` in file order. With
/// `output_dir`, each release's files are written by the worker that rendered it and
/// `text` is `None`.
pub fn template(
    releases: &[&FleetRelease],
    charts: &ChartSet,
    opts: &FleetOptions,
    output_dir: Option<&Path>,
    mut sink: impl FnMut(&FleetRelease, Result<Templated>),
) {
    let target = output_dir.map(DirTarget::new);
    run::for_each_ordered(
        releases,
        opts.threads,
        |r| {
            let result = one(r, charts, opts, target.as_ref()).map_err(|e| super::at(r, e));
            track::done(&r.key, &result, |t| {
                format!("rendered, {} resources", t.resources)
            });
            result
        },
        |i, result| sink(releases[i], result),
    );
}

fn one(
    release: &FleetRelease,
    charts: &ChartSet,
    opts: &FleetOptions,
    target: Option<&DirTarget>,
) -> Result<Templated> {
    let chart = charts.get(release)?;
    let user = charts.user_values(release)?;
    let outcome = super::render_release(release, &chart, &user, &opts.capabilities)?;
    let warnings = crate::release::warnings_of(&outcome);
    let resources = outcome.rendered.manifests.len();
    match target {
        Some(t) => {
            t.apply(&crate::target::Change {
                release: &release.key,
                action: crate::target::Action::Install,
                manifests: &outcome.rendered.manifests,
                previous: &[],
                stale: &[],
                previous_revision: None,
                crds: &[],
            })?;
            Ok(Templated {
                text: None,
                dir: Some(t.release_dir(&release.key)),
                resources,
                warnings,
            })
        }
        None => Ok(Templated {
            text: Some(outcome.rendered.manifest_text()),
            dir: None,
            resources,
            warnings,
        }),
    }
}
