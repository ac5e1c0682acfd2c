//! The chart commands: create, lint, template, values, show, completion. Each handler
//! receives its resolved options ([`super::options::chart`]), calls the library and hands
//! the result to [`super::print::chart`].

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, CommandFactory, ValueEnum};

use super::flags::{ChartSourceFlags, ClusterFlags, NamingFlags, ValuesFlags};
use super::options::chart::{Lint, Show, Template, Values};
use super::{Cli, OutputFormat, print};
use crate::repo::source::ChartSource;

// Arguments of `stoke create` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the chart (and of the directory created for it).
    pub name: PathBuf,
}

// Arguments of `stoke lint` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct LintArgs {
    /// Chart directory, packaged .tgz, REPO/CHART or oci:// reference (repeatable).
    #[arg(required = true)]
    pub charts: Vec<PathBuf>,
    #[command(flatten)]
    pub source: ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Fail on warnings too (unknown values keys among them).
    #[arg(long)]
    pub strict: bool,
    /// Also lint every chart below each chart's charts/ folder.
    #[arg(long)]
    pub with_subcharts: bool,
    /// Print only warnings and errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

// Arguments of `stoke template` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct TemplateArgs {
    /// Release name (optional, as in Helm: `template CHART` renders as `release-name`).
    pub release: String,
    /// Chart directory, packaged .tgz, or REPO/CHART from a configured repository.
    pub chart: Option<PathBuf>,
    #[command(flatten)]
    pub naming: NamingFlags,
    #[command(flatten)]
    pub source: ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Only print the output of these templates (e.g. templates/service.yaml); repeatable.
    #[arg(short = 's', long = "show-only", value_name = "PATH")]
    pub show_only: Vec<String>,
    /// Write each template's output to a file under DIR instead of printing it.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Also print the rendered NOTES.txt.
    #[arg(long)]
    pub notes: bool,
    /// Render as an upgrade rather than an install (`release.is_upgrade`).
    #[arg(long)]
    pub is_upgrade: bool,
    /// Also print the chart's crds/ objects, first, as an install applies them.
    #[arg(long)]
    pub include_crds: bool,
    /// Fail when the values set keys the chart does not define.
    #[arg(long)]
    pub strict: bool,
}

// Arguments of `stoke values` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// Chart directory or packaged .tgz.
    pub chart: PathBuf,
    #[command(flatten)]
    pub values: ValuesFlags,
    /// Output format (yaml or json).
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: OutputFormat,
}

/// What `stoke show` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShowWhat {
    /// Chart.yaml.
    Chart,
    /// values.yaml as written.
    Values,
    /// The README.
    Readme,
    /// The objects of the chart's crds/ folders (subcharts' included).
    Crds,
    /// All of the above.
    All,
}

// Arguments of `stoke show` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct ShowArgs {
    /// What to show.
    #[arg(value_enum)]
    pub what: ShowWhat,
    /// Chart directory, packaged .tgz, REPO/CHART, package URL or oci:// reference.
    pub chart: PathBuf,
    #[command(flatten)]
    pub source: ChartSourceFlags,
}

// Arguments of `stoke completion` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The local path of CHART: unchanged for a folder or package, a verified download in the
/// cache for `REPO/CHART`, an `oci://` reference or a package URL (the check is reported).
pub(super) fn locate(chart: &Path, source: &ChartSource) -> Result<PathBuf> {
    let located = crate::repo::source::locate(chart, source)?;
    if let Some(v) = &located.verification {
        print::chart::verified(v);
    }
    Ok(located.path)
}

/// `stoke create`.
pub fn create(args: &CreateArgs) -> Result<i32> {
    let dir = crate::scaffold::create(&args.name)?;
    print::chart::created(&dir)?;
    Ok(0)
}

/// `stoke lint`: exit 1 when a chart failed.
pub fn lint(o: &Lint) -> Result<i32> {
    let reports: Vec<_> = o
        .charts
        .iter()
        .map(|c| locate(c, &o.source).map(|p| crate::lint::lint(&p, &o.values, &o.render)))
        .collect::<Result<_>>()?;
    let failed = reports.iter().filter(|r| r.failed(o.strict)).count();
    print::chart::lint(&reports, failed, o.strict, o.quiet, o.format)?;
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `stoke template`.
pub fn template(o: &Template) -> Result<i32> {
    let chart = crate::chart::load::load(&locate(&o.chart, &o.source)?)?;
    let name = o.naming.name(chart.name())?;
    let user = crate::values::read_user_values(&o.values)?;
    let mut outcome =
        crate::pipeline::render_chart(&chart, &user, &o.render_options(name), o.strict)?;
    print::warnings(&outcome.warnings());
    crate::pipeline::show_only(&mut outcome.rendered, &chart, &o.show_only)?;
    if let Some(dir) = &o.output_dir {
        print::chart::written(&crate::pipeline::write_output_dir(&outcome.rendered, dir)?)?;
        return Ok(0);
    }
    let crds = if o.include_crds {
        Some(crate::kube::crds::crds_text(&crate::kube::crds::crds(
            &chart,
        )?))
    } else {
        None
    };
    let notes = match (&outcome.rendered.notes, o.notes) {
        (Some(n), true) => Some((chart.path.as_str(), n.as_str())),
        _ => None,
    };
    print::chart::manifests(crds.as_deref(), &outcome.rendered.manifest_text(), notes)?;
    // The process exits right after this; freeing the compiled templates, the schema and
    // the manifests one allocation at a time would cost more than the render's last steps.
    crate::pipeline::skip_teardown((chart, user, outcome));
    Ok(0)
}

/// `stoke values`.
pub fn values(o: &Values) -> Result<i32> {
    let chart = crate::chart::load::load(&o.chart)?;
    let user = crate::values::read_user_values(&o.values)?;
    let computed = crate::resolve::compute_values(&chart, &user)?;
    print::warnings(&computed.warnings);
    for u in &computed.unknown {
        print::warning(&u.to_string());
    }
    print::structured(&computed.values, o.format)?;
    Ok(0)
}

/// `stoke show`.
pub fn show(o: &Show) -> Result<i32> {
    let chart = crate::chart::load::load(&locate(&o.chart, &o.source)?)?;
    let crds = match o.what {
        ShowWhat::Crds => Some(crate::kube::crds::crds_text(&crate::kube::crds::crds(
            &chart,
        )?)),
        _ => None,
    };
    print::chart::show(o.what, &chart, crds.as_deref())?;
    Ok(0)
}

/// `stoke completion`.
pub fn completion(args: &CompletionArgs) -> Result<i32> {
    print::completion(args.shell, &mut Cli::command());
    Ok(0)
}
