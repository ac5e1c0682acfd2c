//! The command line: clap definitions and output formatting. No logic lives here; each
//! handler calls the library and prints what it returns.

mod chart_cmds;
pub mod output;
mod unittest;
mod values_args;

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use output::OutputFormat;

/// stoke: Helm-like charts with Tera templates, for Ignition gateways on Kubernetes.
#[derive(Debug, Parser)]
#[command(
    name = "stoke",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Namespace of the release.
    #[arg(short = 'n', long, global = true, default_value = "default")]
    pub namespace: String,
    /// Where releases are stored: a directory selects the file store.
    #[arg(long, global = true, env = "STOKE_STORE", value_name = "LOCATION")]
    pub store: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Every stoke command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new chart with a working scaffold.
    #[command(after_help = "Example:\n  stoke create my-gateway\n  stoke lint my-gateway --strict")]
    Create(chart_cmds::CreateArgs),
    /// Check a chart for problems: metadata, values, schema and rendered output.
    #[command(
        after_help = "Examples:\n  stoke lint charts/ignition --strict\n  stoke lint charts/ignition -f values/redundant.yaml"
    )]
    Lint(chart_cmds::LintArgs),
    /// Render a chart's templates locally and print the manifests.
    #[command(
        after_help = "Examples:\n  stoke template gw charts/ignition -f values/dev.yaml\n  stoke template gw charts/ignition --set gateway.replicas=2 --show-only templates/statefulset.yaml"
    )]
    Template(chart_cmds::TemplateArgs),
    /// Print the values a chart would render with.
    #[command(after_help = "Example:\n  stoke values charts/ignition -f values/dev.yaml -o json")]
    Values(chart_cmds::ValuesArgs),
    /// Show a chart's metadata, default values or README.
    #[command(after_help = "Example:\n  stoke show values charts/ignition")]
    Show(chart_cmds::ShowArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  stoke completion bash > /etc/bash_completion.d/stoke")]
    Completion(chart_cmds::CompletionArgs),
    /// Run a chart's unit tests (helm-unittest suites in tests/*_test.yaml).
    #[command(
        after_help = "Examples:\n  stoke unittest charts/ignition\n  stoke unittest charts/ignition -f 'tests/statefulset_test.yaml' -u\n  stoke unittest charts/ignition --output-type junit --output-file results.xml"
    )]
    Unittest(unittest::UnittestArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return 2;
        }
    };
    let sub = matches.subcommand().map(|(_, m)| m);
    let result = match &cli.command {
        Command::Create(a) => chart_cmds::create(a),
        Command::Lint(a) => chart_cmds::lint(&cli, a, sub),
        Command::Template(a) => chart_cmds::template(&cli, a, sub),
        Command::Values(a) => chart_cmds::values(a, sub),
        Command::Show(a) => chart_cmds::show(a),
        Command::Completion(a) => chart_cmds::completion(a),
        Command::Unittest(a) => unittest::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e);
            1
        }
    }
}
