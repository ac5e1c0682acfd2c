//! Options of `stoke fleet template|diff|apply|status`.

use std::path::PathBuf;

use anyhow::Result;

use super::Globals;
use super::session::Delivery;
use super::values::capabilities;
use crate::cli::OutputFormat;
use crate::cli::flags::ClusterFlags;
use crate::cli::fleet::{ApplyArgs, DiffArgs, FleetFlags, StatusArgs, TemplateArgs};
use crate::fleet::apply::ApplyOptions;
use crate::fleet::{Fleet, FleetOptions, Selector};

/// The fleet file and the selection of its releases.
pub struct FleetFile {
    /// `-f`.
    pub file: PathBuf,
    /// Namespace of releases that name none (`-n`).
    pub namespace: String,
    /// `-l`.
    pub selector: Selector,
}

impl FleetFile {
    fn from_flags(g: &Globals, flags: &FleetFlags) -> Result<FleetFile> {
        Ok(FleetFile {
            file: flags.file.clone(),
            namespace: g.namespace.clone(),
            selector: Selector::parse(&flags.selector)?,
        })
    }

    /// Reads the fleet file.
    pub fn load(&self) -> Result<Fleet> {
        crate::fleet::spec::load(&self.file, &self.namespace)
    }
}

fn fleet_options(cluster: &ClusterFlags) -> Result<FleetOptions> {
    Ok(FleetOptions {
        capabilities: capabilities(cluster)?,
        ..FleetOptions::default()
    })
}

/// `stoke fleet template`.
pub struct Template {
    /// The releases.
    pub fleet: FleetFile,
    /// Rendering options.
    pub opts: FleetOptions,
    /// `--output-dir`.
    pub output_dir: Option<PathBuf>,
}

impl Template {
    /// Resolves `stoke fleet template`'s flags.
    pub fn from_args(g: &Globals, args: &TemplateArgs) -> Result<Template> {
        Ok(Template {
            fleet: FleetFile::from_flags(g, &args.fleet)?,
            opts: fleet_options(&args.cluster)?,
            output_dir: args.output_dir.clone(),
        })
    }
}

/// `stoke fleet diff`.
pub struct Diff {
    /// The releases.
    pub fleet: FleetFile,
    /// Rendering options.
    pub opts: FleetOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl Diff {
    /// Resolves `stoke fleet diff`'s flags.
    pub fn from_args(g: &Globals, args: &DiffArgs) -> Result<Diff> {
        Ok(Diff {
            fleet: FleetFile::from_flags(g, &args.fleet)?,
            opts: fleet_options(&args.cluster)?,
            format: args.output,
        })
    }
}

/// `stoke fleet apply`.
pub struct Apply {
    /// The releases.
    pub fleet: FleetFile,
    /// Rendering options.
    pub opts: FleetOptions,
    /// Where the writes go.
    pub delivery: Delivery,
    /// The action's options.
    pub apply: ApplyOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl Apply {
    /// Resolves `stoke fleet apply`'s flags.
    pub fn from_args(g: &Globals, args: &ApplyArgs) -> Result<Apply> {
        Ok(Apply {
            fleet: FleetFile::from_flags(g, &args.fleet)?,
            opts: fleet_options(&args.cluster)?,
            delivery: Delivery::from_flags(&args.write),
            apply: ApplyOptions {
                prune: args.prune,
                dry_run: args.write.dry_run.is_some(),
                description: args.write.description.clone(),
            },
            format: args.output,
        })
    }
}

/// `stoke fleet status`.
pub struct Status {
    /// The releases.
    pub fleet: FleetFile,
    /// Worker threads.
    pub threads: usize,
    /// `-o`.
    pub format: OutputFormat,
}

impl Status {
    /// Resolves `stoke fleet status`'s flags.
    pub fn from_args(g: &Globals, args: &StatusArgs) -> Result<Status> {
        Ok(Status {
            fleet: FleetFile::from_flags(g, &args.fleet)?,
            threads: crate::fleet::run::default_threads(),
            format: args.output,
        })
    }
}
