//! The command line, in three layers (docs/architecture.md): clap definitions (this file,
//! [`flags`] and the `Args` structs of the command files), [`options`] (flags and
//! environment resolved into the library's options, once per command) and [`print`]
//! (everything written to stdout and stderr). A command handler receives its options,
//! calls the library and hands the result to the printer; no logic lives here.

mod chart_cmds;
mod cluster_cmds;
mod dist;
mod flags;
mod fleet;
mod hints;
mod info;
pub mod options;
mod package;
pub mod print;
mod release;
mod store;
mod unittest;

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use print::OutputFormat;
pub use print::progress;

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
///
/// Each command's arguments are defined only when that command runs (`defer`): building
/// every command's flags took about a tenth of a one-chart `stoke template`. A deferred
/// definition is applied after the variant's attributes, so a doc comment on an `Args`
/// struct, or on a flag group flattened into one, would replace the help text written
/// here: those structs carry plain comments (tests/cli_render.rs checks every command).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
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
                print::usage_hint(&hint);
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
    progress::install(options::progress_mode());
    print::warnings(&options::limit_warnings());
    let result = dispatch(&cli, sub);
    crate::progress::finished();
    match result {
        Ok(code) => code,
        // A reader that stopped early (`stoke history gw | head`) is not a failure.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            print::error(&e);
            1
        }
    }
}

/// Resolves the command's options ([`options`]) and runs its handler. `sub` are the
/// subcommand's matches, which order the `--set` family.
fn dispatch(cli: &Cli, sub: Option<&clap::ArgMatches>) -> anyhow::Result<i32> {
    use options::{chart, fleet as fo, package as po, release as ro, store as so};
    let g = options::Globals::from_cli(cli);
    match &cli.command {
        Command::Create(a) => chart_cmds::create(a),
        Command::Lint(a) => chart_cmds::lint(&chart::Lint::from_args(&g, a, sub)?),
        Command::Template(a) => chart_cmds::template(&chart::Template::from_args(&g, a, sub)?),
        Command::Values(a) => chart_cmds::values(&chart::Values::from_args(a, sub)),
        Command::Show(a) => chart_cmds::show(&chart::Show::from_args(a)?),
        Command::Unittest(a) => unittest::run(&po::Unittest::from_args(a)),
        Command::Completion(a) => chart_cmds::completion(a),
        Command::Install(a) => release::install(&g, &ro::Install::from_args(a, sub)?),
        Command::Upgrade(a) => release::upgrade(&g, &ro::Upgrade::from_args(&g, a, sub)?),
        Command::Rollback(a) => release::rollback(&g, &ro::Rollback::from_args(&g, a)?),
        Command::Uninstall(a) => release::uninstall(&g, &ro::Uninstall::from_args(&g, a)?),
        Command::History(a) => release::history(&g, &ro::History::from_args(&g, a)?),
        Command::List(a) => release::list(&g, &ro::List::from_args(&g, a)?),
        Command::Status(a) => release::status(&g, &ro::StatusRequest::from_args(&g, a)?),
        Command::Get(a) => release::get(&g, &ro::Get::from_args(&g, a)?),
        Command::Diff(a) => {
            let sub = sub.and_then(|m| m.subcommand()).map(|(_, m)| m);
            match &a.command {
                release::DiffCommand::Live(a) => {
                    cluster_cmds::diff_live(&g, &ro::DiffLive::from_args(&g, a)?)
                }
                release::DiffCommand::Revision(a) => {
                    release::diff_revision(&g, &ro::DiffRevision::from_args(&g, a)?)
                }
                release::DiffCommand::Upgrade(a) => {
                    release::diff_upgrade(&g, &ro::DiffUpgrade::from_args(&g, a, sub)?)
                }
            }
        }
        Command::Test(a) => cluster_cmds::test(&g, &ro::Test::from_args(&g, a)?),
        Command::Store(a) => match &a.action {
            store::StoreAction::Check(o) => store::check_or_repair(&g, o, false),
            store::StoreAction::Repair(o) => store::check_or_repair(&g, o, true),
            store::StoreAction::Migrate(a) => store::migrate(&g, &so::Migrate::from_args(a)?),
        },
        Command::Package(a) => package::package(&po::Package::from_args(a)),
        Command::Repo(a) => package::repo(&po::Repo::from_args(&a.command)?),
        Command::Search(a) => package::search(&po::Search::from_args(&a.command)?),
        Command::Pull(a) => package::pull(&po::Pull::from_args(a)?),
        Command::Dependency(a) => package::dependency(&po::Dependency::from_args(&a.command)?),
        Command::Version(a) => info::version(a),
        Command::Env(a) => info::env(&po::Env::from_args(&g, a)?),
        Command::Push(a) => dist::push(&po::Push::from_args(a)?),
        Command::Registry(a) => dist::registry(&po::Registry::from_args(&a.command)?),
        Command::Verify(a) => dist::verify(&po::Verify::from_args(a)?),
        Command::Fleet(a) => match &a.command {
            fleet::FleetCommand::Template(a) => fleet::template(&fo::Template::from_args(&g, a)?),
            fleet::FleetCommand::Diff(a) => fleet::diff(&g, &fo::Diff::from_args(&g, a)?),
            fleet::FleetCommand::Apply(a) => fleet::apply(&g, &fo::Apply::from_args(&g, a)?),
            fleet::FleetCommand::Status(a) => fleet::status(&g, &fo::Status::from_args(&g, a)?),
        },
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
