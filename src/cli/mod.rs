//! The command line: clap definitions and output formatting. No logic lives here; each
//! handler calls the library and prints what it returns.

mod chart_cmds;
mod cluster_cmds;
mod dist;
mod fleet;
mod hints;
mod info;
mod kube_args;
pub mod output;
mod package;
pub mod progress;
mod release;
mod store;
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
    /// Where releases are stored: a folder or file://PATH (file store), `kubernetes`, or
    /// postgres://USER@HOST:PORT/DB?sslmode=MODE.
    #[arg(long, global = true, env = "STOKE_STORE", value_name = "LOCATION")]
    pub store: Option<String>,
    /// Kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the pod's service
    /// account); with none at all, lifecycle commands only record releases.
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of its current-context.
    #[arg(long, global = true, value_name = "NAME")]
    pub kube_context: Option<String>,
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
    /// Package a chart directory into a reproducible NAME-VERSION.tgz.
    #[command(after_help = "Example:\n  stoke package charts/ignition -d dist --version 1.2.0")]
    Package(package::PackageArgs),
    /// Manage chart repositories and index folders of packages.
    #[command(
        after_help = "Examples:\n  stoke repo add ia https://charts.example.com\n  stoke repo index dist/ --url https://charts.example.com"
    )]
    Repo(package::RepoArgs),
    /// Search configured repositories.
    #[command(after_help = "Example:\n  stoke search repo ignition --versions")]
    Search(package::SearchArgs),
    /// Download a chart from a repository, verified against its index.
    #[command(after_help = "Example:\n  stoke pull ia/ignition --version '^1.2' -d charts --untar")]
    Pull(package::PullArgs),
    /// Manage a chart's dependencies (charts/ and Chart.lock).
    #[command(
        alias = "dep",
        after_help = "Example:\n  stoke dependency update charts/ignition-scaleout"
    )]
    Dependency(package::DependencyArgs),
    /// Run a chart's unit tests (helm-unittest format).
    #[command(
        after_help = "Examples:\n  stoke unittest charts/ignition\n  stoke unittest charts/ignition -f 'tests/service_*.yaml' --output-type JUnit --output-file report.xml"
    )]
    Unittest(unittest::UnittestArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  stoke completion bash > /etc/bash_completion.d/stoke")]
    Completion(chart_cmds::CompletionArgs),
    /// Install a chart as a new release, recorded as revision 1.
    #[command(
        after_help = "Example:\n  stoke install gw charts/ignition -f values/dev.yaml -n scada"
    )]
    Install(release::InstallArgs),
    /// Upgrade a release to a chart and values, recorded as a new revision.
    #[command(
        after_help = "Examples:\n  stoke upgrade gw charts/ignition --reuse-values --set gateway.replicas=2\n  stoke upgrade gw charts/ignition --install --wait-lock 60s"
    )]
    Upgrade(release::UpgradeArgs),
    /// Return a release to an earlier revision (default: the previous one).
    #[command(after_help = "Example:\n  stoke rollback gw 3")]
    Rollback(release::RollbackArgs),
    /// Remove a release (or keep its history with --keep-history).
    #[command(visible_aliases = ["un", "delete", "del"], after_help = "Example:\n  stoke uninstall gw --keep-history")]
    Uninstall(release::UninstallArgs),
    /// Show a release's revisions.
    #[command(
        visible_alias = "hist",
        after_help = "Example:\n  stoke history gw -o json"
    )]
    History(release::HistoryArgs),
    /// List releases.
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  stoke list -A\n  stoke list -a --filter '^gw'"
    )]
    List(release::ListArgs),
    /// Show a release's status, resources and notes.
    #[command(after_help = "Example:\n  stoke status gw --revision 2")]
    Status(release::StatusArgs),
    /// Print a release's recorded values, manifest or notes.
    #[command(
        after_help = "Examples:\n  stoke get values gw --all\n  stoke get manifest gw --revision 2"
    )]
    Get(release::GetArgs),
    /// Compare revisions, or a release with the upgrade a chart would make.
    #[command(
        after_help = "Examples:\n  stoke diff revision gw 2 3\n  stoke diff upgrade gw charts/ignition -f values/redundant.yaml"
    )]
    Diff(release::DiffArgs),
    /// Print stoke's version.
    #[command(after_help = "Example:\n  stoke version -o json")]
    Version(info::VersionArgs),
    /// Print the settings stoke runs with (store, repository files) and their variables.
    #[command(after_help = "Examples:\n  stoke env\n  stoke env STOKE_STORE")]
    Env(info::EnvArgs),
    /// Upload a packaged chart to an OCI registry (as Helm stores charts).
    #[command(
        after_help = "Examples:\n  stoke push dist/ignition-1.2.0.tgz oci://registry.example.com/charts\n  stoke install gw oci://registry.example.com/charts/ignition --version '^1.2'"
    )]
    Push(dist::PushArgs),
    /// Log in to or out of an OCI registry.
    #[command(
        after_help = "Example:\n  stoke registry login registry.example.com -u ci --password-stdin"
    )]
    Registry(dist::RegistryArgs),
    /// Check a packaged chart against its provenance (.prov) file.
    #[command(
        after_help = "Example:\n  stoke verify dist/ignition-1.2.0.tgz --keyring ~/.gnupg/pubring.gpg"
    )]
    Verify(dist::VerifyArgs),
    /// Run a release's test hooks (helm.sh/hook: test) in the cluster and report each.
    #[command(after_help = "Example:\n  stoke test gw --logs --timeout 2m")]
    Test(cluster_cmds::TestArgs),
    /// Check the release store for damage, or repair it.
    #[command(after_help = "Examples:\n  stoke store check\n  stoke store repair -o json")]
    Store(store::StoreArgs),
    /// Render, compare, apply and report many releases declared in one fleet file.
    #[command(
        after_help = "Examples:\n  stoke fleet template -f examples/fleet/fleet.yaml --output-dir gitops/\n  stoke fleet diff -f fleet.yaml -l region=eu\n  stoke fleet apply -f fleet.yaml --prune"
    )]
    Fleet(fleet::FleetArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            if let Some(hint) = hints::for_error(&e) {
                eprintln!("{hint}");
                return 2;
            }
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
    progress::install(progress::Mode::detect());
    let result = match &cli.command {
        Command::Create(a) => chart_cmds::create(a),
        Command::Lint(a) => chart_cmds::lint(&cli, a, sub),
        Command::Template(a) => chart_cmds::template(&cli, a, sub),
        Command::Values(a) => chart_cmds::values(a, sub),
        Command::Show(a) => chart_cmds::show(a),
        Command::Unittest(a) => unittest::run(a),
        Command::Completion(a) => chart_cmds::completion(a),
        Command::Install(a) => release::install(&cli, a, sub),
        Command::Upgrade(a) => release::upgrade(&cli, a, sub),
        Command::Rollback(a) => release::rollback(&cli, a),
        Command::Uninstall(a) => release::uninstall(&cli, a),
        Command::History(a) => release::history(&cli, a),
        Command::List(a) => release::list(&cli, a),
        Command::Status(a) => release::status(&cli, a),
        Command::Get(a) => release::get(&cli, a),
        Command::Diff(a) => release::diff(&cli, a, sub),
        Command::Test(a) => cluster_cmds::test(&cli, a),
        Command::Store(a) => store::run(&cli, a),
        Command::Package(a) => package::package(a),
        Command::Repo(a) => package::repo(a),
        Command::Search(a) => package::search(a),
        Command::Pull(a) => package::pull(a),
        Command::Dependency(a) => package::dependency(a),
        Command::Version(a) => info::version(a),
        Command::Env(a) => info::env(&cli, a),
        Command::Push(a) => dist::push(a),
        Command::Registry(a) => dist::registry(a),
        Command::Verify(a) => dist::verify(a),
        Command::Fleet(a) => fleet::run(&cli, a),
    };
    crate::progress::finished();
    match result {
        Ok(code) => code,
        // A reader that stopped early (`stoke history gw | head`) is not a failure.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            output::print_error(&e);
            1
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
