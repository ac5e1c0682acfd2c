//! Handlers for the chart commands: create, lint, template, values, show, completion.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{ArgMatches, Args, CommandFactory, ValueEnum};

use super::Cli;
use super::output::{self, OutputFormat, print_warning, styled};
use super::values_args::{ValuesFlags, options};
use crate::engine::{Capabilities, ReleaseInfo, RenderOptions};
use crate::lint::Severity;

/// Arguments of `stoke create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the chart (and of the directory created for it).
    pub name: PathBuf,
}

/// Target-cluster options shared by commands that render.
#[derive(Debug, Clone, Args)]
pub struct ClusterFlags {
    /// Kubernetes version to render for (e.g. 1.29 or v1.29.3).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Extra API versions the cluster serves (e.g. cert-manager.io/v1); repeatable.
    #[arg(short = 'a', long = "api-versions", value_name = "API_VERSION")]
    pub api_versions: Vec<String>,
}

impl ClusterFlags {
    pub(crate) fn capabilities(&self) -> Result<Capabilities> {
        let mut caps = Capabilities::default();
        if let Some(v) = &self.kube_version {
            caps.kube_version = crate::chart::version::parse_lenient(v).with_context(|| {
                format!("--kube-version `{v}` is not a Kubernetes version such as 1.29 or v1.29.3")
            })?;
        }
        caps.api_versions.extend(self.api_versions.iter().cloned());
        Ok(caps)
    }
}

/// Arguments of `stoke lint`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct LintArgs {
    /// Chart directory, packaged .tgz, REPO/CHART or oci:// reference (repeatable).
    #[arg(required = true)]
    pub charts: Vec<PathBuf>,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
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

/// Arguments of `stoke template`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct TemplateArgs {
    /// Release name (optional, as in Helm: `template CHART` renders as `release-name`).
    pub release: String,
    /// Chart directory, packaged .tgz, or REPO/CHART from a configured repository.
    pub chart: Option<PathBuf>,
    #[command(flatten)]
    pub naming: super::release::NamingFlags,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
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

/// Arguments of `stoke values`.
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

/// Arguments of `stoke show`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct ShowArgs {
    /// What to show.
    #[arg(value_enum)]
    pub what: ShowWhat,
    /// Chart directory, packaged .tgz, REPO/CHART, package URL or oci:// reference.
    pub chart: PathBuf,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
}

/// Arguments of `stoke completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn create(args: &CreateArgs) -> Result<i32> {
    let dir = crate::scaffold::create(&args.name)?;
    println!("Created chart {}", dir.display());
    Ok(0)
}

pub fn lint(cli: &Cli, args: &LintArgs, m: Option<&ArgMatches>) -> Result<i32> {
    let values = options(&args.values, m);
    let opts = RenderOptions {
        release: ReleaseInfo::for_lint(cli.namespace.clone()),
        capabilities: args.cluster.capabilities()?,
        deployed: Vec::new(),
    };
    let mut charts = args.charts.clone();
    if args.with_subcharts {
        for c in &args.charts {
            charts.extend(crate::lint::subchart_paths(c));
        }
    }
    let reports: Vec<_> = charts
        .iter()
        .map(|c| {
            super::package::resolve_chart(c, &args.source)
                .map(|p| crate::lint::lint(&p, &values, &opts))
        })
        .collect::<Result<_>>()?;
    let failed = reports.iter().filter(|r| r.failed(args.strict)).count();
    if args.output != OutputFormat::Table {
        output::print_structured(&reports, args.output)?;
        return Ok(if failed > 0 { 1 } else { 0 });
    }
    let mut out = anstream::stdout();
    for r in &reports {
        let shown: Vec<_> = r
            .findings
            .iter()
            .filter(|f| !args.quiet || f.severity != Severity::Info)
            .collect();
        if args.quiet && shown.is_empty() {
            continue;
        }
        writeln!(out, "==> Linting {}", r.chart)?;
        for f in shown {
            let label = match f.severity {
                Severity::Info => styled("[INFO]", anstyle::AnsiColor::Blue),
                Severity::Warning => styled("[WARNING]", anstyle::AnsiColor::Yellow),
                Severity::Error => styled("[ERROR]", anstyle::AnsiColor::Red),
            };
            writeln!(out, "{label} {}: {}", f.location, f.message)?;
        }
        let strict = r.strict_failures(args.strict);
        if !strict.is_empty() {
            writeln!(
                out,
                "{} failed only because --strict fails on warnings; these {} warning(s) did it:",
                r.chart,
                strict.len()
            )?;
            for f in strict {
                writeln!(out, "  - {}: {}", f.location, f.message)?;
            }
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} chart(s) linted, {failed} chart(s) failed",
        reports.len()
    )?;
    Ok(if failed > 0 { 1 } else { 0 })
}

pub fn template(cli: &Cli, args: &TemplateArgs, m: Option<&ArgMatches>) -> Result<i32> {
    let (given, chart_ref) =
        super::release::release_and_chart(&args.release, args.chart.as_deref());
    if let (Some(name), true) = (given, args.naming.makes_name()) {
        anyhow::bail!(
            "both a release name (`{name}`) and --generate-name/--name-template were given; give one or the other"
        );
    }
    let chart_path = super::package::resolve_chart(&chart_ref, &args.source)?;
    let chart = crate::chart::load::load(&chart_path)?;
    let name = args.naming.name(given, chart.name())?;
    let user = crate::values::read_user_values(&options(&args.values, m))?;
    let opts = RenderOptions {
        release: ReleaseInfo::first_revision(name, cli.namespace.clone(), args.is_upgrade),
        capabilities: args.cluster.capabilities()?,
        deployed: Vec::new(),
    };
    let mut outcome = crate::pipeline::render_chart(&chart, &user, &opts, args.strict)?;
    for w in outcome.warnings() {
        print_warning(&w);
    }
    crate::pipeline::show_only(&mut outcome.rendered, &chart, &args.show_only)?;
    if let Some(dir) = &args.output_dir {
        for path in crate::pipeline::write_output_dir(&outcome.rendered, dir)? {
            println!("wrote {}", path.display());
        }
        return Ok(0);
    }
    let mut out = std::io::stdout().lock();
    if args.include_crds {
        let crds = crate::kube::crds::crds(&chart)?;
        out.write_all(crate::kube::crds::crds_text(&crds).as_bytes())?;
    }
    out.write_all(outcome.rendered.manifest_text().as_bytes())?;
    if args.notes
        && let Some(notes) = &outcome.rendered.notes
    {
        writeln!(out, "---\n# Source: {}/templates/NOTES.txt", chart.path)?;
        for line in notes.lines() {
            writeln!(out, "# {line}")?;
        }
    }
    out.flush()?;
    // The process exits right after this; freeing the compiled templates, the schema and
    // the manifests one allocation at a time would cost more than the render's last steps.
    crate::pipeline::skip_teardown((chart, user, outcome));
    Ok(0)
}

pub fn values(args: &ValuesArgs, m: Option<&ArgMatches>) -> Result<i32> {
    let chart = crate::chart::load::load(&args.chart)?;
    let user = crate::values::read_user_values(&options(&args.values, m))?;
    let computed = crate::resolve::compute_values(&chart, &user)?;
    for w in &computed.warnings {
        print_warning(w);
    }
    for u in &computed.unknown {
        print_warning(&u.to_string());
    }
    let format = if args.output == OutputFormat::Table {
        OutputFormat::Yaml
    } else {
        args.output
    };
    output::print_structured(&computed.values, format)?;
    Ok(0)
}

pub fn show(args: &ShowArgs) -> Result<i32> {
    let chart =
        crate::chart::load::load(&super::package::resolve_chart(&args.chart, &args.source)?)?;
    let readme = chart.readme();
    let chart_yaml = crate::yaml::to_string(&chart.metadata)?;
    let mut out = std::io::stdout().lock();
    match args.what {
        ShowWhat::Chart => write!(out, "{chart_yaml}")?,
        ShowWhat::Values => write!(out, "{}", chart.values_text)?,
        ShowWhat::Readme => match readme {
            Some(r) => write!(out, "{r}")?,
            None => anyhow::bail!("chart `{}` has no README.md", chart.name()),
        },
        ShowWhat::Crds => {
            let crds = crate::kube::crds::crds(&chart)?;
            write!(out, "{}", crate::kube::crds::crds_text(&crds))?;
        }
        ShowWhat::All => {
            write!(out, "{chart_yaml}---\n{}", chart.values_text)?;
            if let Some(r) = readme {
                write!(out, "---\n{r}")?;
            }
        }
    }
    Ok(0)
}

pub fn completion(args: &CompletionArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "stoke", &mut std::io::stdout());
    Ok(0)
}
