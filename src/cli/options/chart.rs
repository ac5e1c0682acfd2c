//! Options of the chart commands: lint, template, values, show, and the release naming
//! flags template and install share.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::ArgMatches;

use super::Globals;
use super::source::chart_source;
use super::values::{capabilities, values};
use crate::cli::OutputFormat;
use crate::cli::chart_cmds::{LintArgs, ShowArgs, ShowWhat, TemplateArgs, ValuesArgs};
use crate::cli::flags::NamingFlags;
use crate::engine::{Capabilities, ReleaseInfo, RenderOptions};
use crate::repo::source::ChartSource;
use crate::values::ValuesOptions;

/// How the release name is chosen: given, made up, or made from a template.
#[derive(Debug, Clone)]
pub enum Naming {
    /// The name on the command line (or Helm's placeholder when there is none).
    Given(Option<String>),
    /// `--generate-name`.
    Generate,
    /// `--name-template`.
    Template(String),
}

impl Naming {
    /// Splits `COMMAND [RELEASE] CHART` positionals (with one, it is the chart) and checks
    /// that a name is not both given and to be made. Returns the naming and the chart.
    pub fn from_positionals(
        first: &str,
        second: Option<&Path>,
        flags: &NamingFlags,
    ) -> Result<(Naming, PathBuf)> {
        let (given, chart) = match second {
            Some(chart) => (Some(first.to_string()), chart.to_path_buf()),
            None => (None, PathBuf::from(first)),
        };
        let makes_name = flags.generate_name || flags.name_template.is_some();
        if let (Some(name), true) = (&given, makes_name) {
            bail!(
                "both a release name (`{name}`) and --generate-name/--name-template were given; give one or the other"
            );
        }
        let naming = match (&flags.name_template, flags.generate_name) {
            (Some(t), _) => Naming::Template(t.clone()),
            (None, true) => Naming::Generate,
            (None, false) => Naming::Given(given),
        };
        Ok((naming, chart))
    }

    /// The release name for a chart called `chart_name`.
    pub fn name(&self, chart_name: &str) -> Result<String> {
        match self {
            Naming::Template(t) => crate::release::names::from_template(t, chart_name),
            Naming::Generate => Ok(crate::release::names::generate(chart_name)),
            Naming::Given(given) => Ok(given
                .as_deref()
                .unwrap_or(crate::release::names::PLACEHOLDER)
                .to_string()),
        }
    }
}

/// `stoke lint`.
pub struct Lint {
    /// The charts, with their subcharts under --with-subcharts.
    pub charts: Vec<PathBuf>,
    /// How `REPO/CHART` and `oci://` references are fetched.
    pub source: ChartSource,
    /// The values to lint with.
    pub values: ValuesOptions,
    /// Release and cluster the charts are rendered for.
    pub render: RenderOptions,
    /// `--strict`.
    pub strict: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `-o`.
    pub format: OutputFormat,
}

impl Lint {
    /// Resolves `stoke lint`'s flags.
    pub fn from_args(g: &Globals, args: &LintArgs, m: Option<&ArgMatches>) -> Result<Lint> {
        let values = values(&args.values, m);
        let render = RenderOptions {
            release: ReleaseInfo::for_lint(g.namespace.clone()),
            capabilities: capabilities(&args.cluster)?,
            deployed: Vec::new(),
        };
        let mut charts = args.charts.clone();
        if args.with_subcharts {
            for c in &args.charts {
                charts.extend(crate::lint::subchart_paths(c));
            }
        }
        Ok(Lint {
            charts,
            source: chart_source(&args.source)?,
            values,
            render,
            strict: args.strict,
            quiet: args.quiet,
            format: args.output,
        })
    }
}

/// `stoke template`.
pub struct Template {
    /// How the release is named.
    pub naming: Naming,
    /// The chart reference.
    pub chart: PathBuf,
    /// How a remote chart is fetched.
    pub source: ChartSource,
    /// The user's values.
    pub values: ValuesOptions,
    /// The cluster rendered for.
    pub capabilities: Capabilities,
    /// `-n`.
    pub namespace: String,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    /// `--strict`.
    pub strict: bool,
    /// `--show-only`.
    pub show_only: Vec<String>,
    /// `--output-dir`.
    pub output_dir: Option<PathBuf>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--notes`.
    pub notes: bool,
}

impl Template {
    /// Resolves `stoke template`'s flags.
    pub fn from_args(g: &Globals, args: &TemplateArgs, m: Option<&ArgMatches>) -> Result<Template> {
        let (naming, chart) =
            Naming::from_positionals(&args.release, args.chart.as_deref(), &args.naming)?;
        Ok(Template {
            naming,
            chart,
            source: chart_source(&args.source)?,
            values: values(&args.values, m),
            capabilities: capabilities(&args.cluster)?,
            namespace: g.namespace.clone(),
            is_upgrade: args.is_upgrade,
            strict: args.strict,
            show_only: args.show_only.clone(),
            output_dir: args.output_dir.clone(),
            include_crds: args.include_crds,
            notes: args.notes,
        })
    }

    /// The render options for release `name` (revision 1, or an upgrade with
    /// --is-upgrade).
    pub fn render_options(&self, name: String) -> RenderOptions {
        RenderOptions {
            release: ReleaseInfo::first_revision(name, self.namespace.clone(), self.is_upgrade),
            capabilities: self.capabilities.clone(),
            deployed: Vec::new(),
        }
    }
}

/// `stoke values`.
pub struct Values {
    /// The chart.
    pub chart: PathBuf,
    /// The user's values.
    pub values: ValuesOptions,
    /// YAML unless JSON was asked for (a table of values would mean nothing).
    pub format: OutputFormat,
}

impl Values {
    /// Resolves `stoke values`' flags.
    pub fn from_args(args: &ValuesArgs, m: Option<&ArgMatches>) -> Values {
        Values {
            chart: args.chart.clone(),
            values: values(&args.values, m),
            format: if args.output == OutputFormat::Table {
                OutputFormat::Yaml
            } else {
                args.output
            },
        }
    }
}

/// `stoke show`.
pub struct Show {
    /// What to show.
    pub what: ShowWhat,
    /// The chart reference.
    pub chart: PathBuf,
    /// How a remote chart is fetched.
    pub source: ChartSource,
}

impl Show {
    /// Resolves `stoke show`'s flags.
    pub fn from_args(args: &ShowArgs) -> Result<Show> {
        Ok(Show {
            what: args.what,
            chart: args.chart.clone(),
            source: chart_source(&args.source)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming(generate: bool, template: Option<&str>) -> NamingFlags {
        NamingFlags {
            generate_name: generate,
            name_template: template.map(str::to_string),
        }
    }

    #[test]
    fn one_positional_is_the_chart_and_renders_as_helms_placeholder() {
        let (n, chart) =
            Naming::from_positionals("charts/ignition", None, &naming(false, None)).unwrap();
        assert_eq!(chart, PathBuf::from("charts/ignition"));
        assert_eq!(
            n.name("ignition").unwrap(),
            crate::release::names::PLACEHOLDER
        );
    }

    #[test]
    fn a_given_name_is_kept_and_cannot_be_combined_with_making_one() {
        let (n, chart) =
            Naming::from_positionals("gw", Some(Path::new("c")), &naming(false, None)).unwrap();
        assert_eq!(
            (n.name("c").unwrap(), chart),
            ("gw".into(), PathBuf::from("c"))
        );
        let e = Naming::from_positionals("gw", Some(Path::new("c")), &naming(true, None))
            .err()
            .unwrap();
        assert!(e.to_string().contains("both a release name (`gw`)"), "{e}");
    }

    #[test]
    fn a_made_name_starts_with_the_chart_name() {
        let (n, _) = Naming::from_positionals("ignition", None, &naming(true, None)).unwrap();
        assert!(n.name("ignition").unwrap().starts_with("ignition-"));
    }
}
