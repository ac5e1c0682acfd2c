//! The flag groups several commands flatten in (the "low" arguments: clap structs, as parsed,
//! with no meaning attached yet). [`super::options`] turns them into the library's options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::options::parse_duration;

// `-f` and the `--set` family.
#[derive(Debug, Clone, Args, Default)]
pub struct ValuesFlags {
    /// Values file or http(s):// URL (repeatable; later files win; `-` reads stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Set values: `a.b=1,c[0]=x` (typed: numbers, true/false, null).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set values as strings.
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set a value from a file's contents: `key=path`.
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set values as JSON: `key={"a":1}`.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set one literal string value, no escapes or lists.
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
    /// Do not check the values against the chart's values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
}

// Target-cluster options shared by commands that render.
#[derive(Debug, Clone, Args)]
pub struct ClusterFlags {
    /// Kubernetes version to render for (e.g. 1.29 or v1.29.3).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Extra API versions the cluster serves (e.g. cert-manager.io/v1); repeatable.
    #[arg(short = 'a', long = "api-versions", value_name = "API_VERSION")]
    pub api_versions: Vec<String>,
}

/// `--dry-run[=client|server]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Render and validate locally; nothing is sent anywhere.
    Client,
    /// Also send every object to the API server as a server-side dry run.
    Server,
}

// How a lifecycle command treats the cluster.
#[derive(Debug, Clone, Args)]
pub struct LifecycleFlags {
    /// Wait until every resource is ready (rolled out, bound, addressed) before marking
    /// the release deployed.
    #[arg(long)]
    pub wait: bool,
    /// With --wait, also wait for Jobs to complete.
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// How long --wait and each hook may take (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,
    /// On failure, return the cluster and the record to the last deployed revision (an
    /// install is removed).
    #[arg(long, visible_alias = "rollback-on-failure")]
    pub atomic: bool,
    /// On failure, delete the objects the failed change created.
    #[arg(long)]
    pub cleanup_on_fail: bool,
    /// Create the release namespace if it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Take over fields another field manager (kubectl, a controller) owns.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Adopt existing objects that belong to no release or to another one.
    #[arg(long)]
    pub take_ownership: bool,
    /// Do not install the chart's crds/ folder.
    #[arg(long)]
    pub skip_crds: bool,
    /// Run no hooks.
    #[arg(long)]
    pub no_hooks: bool,
}

// Options of every command that writes to the store.
#[derive(Debug, Clone, Args)]
pub struct WriteFlags {
    /// Wait up to DURATION (e.g. 60s, 2m, 500ms) for another operation on the release to
    /// finish, instead of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_lock: Option<Duration>,
    /// Also keep DIR/<namespace>/<release>/ in step: one YAML file per resource, for a
    /// GitOps tool to apply.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Work out and report the result without writing anything: `client` (the default)
    /// renders and validates locally, `server` also has the API server check every object.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: Option<DryRun>,
    #[command(flatten)]
    pub lifecycle: LifecycleFlags,
    /// Description recorded with the revision.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

// Helm's ways to have a release name made: `--generate-name`, `--name-template`.
#[derive(Debug, Clone, Args, Default)]
pub struct NamingFlags {
    /// Make up the release name (`CHART-<unix seconds>`, as Helm's); give only the chart.
    #[arg(short = 'g', long)]
    pub generate_name: bool,
    /// Make the release name from a Tera template, e.g. 'gw-{{ rand_alpha(length=5) | lower }}';
    /// give only the chart. With --generate-name too, the template wins (as in Helm).
    #[arg(long, value_name = "TEMPLATE")]
    pub name_template: Option<String>,
}

// Helm's values flags for upgrades.
#[derive(Debug, Clone, Args)]
pub struct ValuesModeFlags {
    /// Reuse the last revision's values and merge the given ones over them.
    #[arg(long, conflicts_with_all = ["reset_values", "reset_then_reuse_values"])]
    pub reuse_values: bool,
    /// Use only the chart's defaults and the given values.
    #[arg(long, conflicts_with = "reset_then_reuse_values")]
    pub reset_values: bool,
    /// Use the new chart's defaults, then the last revision's values, then the given ones.
    #[arg(long)]
    pub reset_then_reuse_values: bool,
}

// `--version`/`--devel` for commands whose CHART may be `REPO/CHART` (template, install,
// upgrade, diff). Flatten it into their arguments; such a command needs
// `#[command(disable_version_flag = true)]`, as `--version` is taken.
#[derive(Debug, Clone, Default, Args)]
pub struct ChartSourceFlags {
    /// Version constraint when CHART is REPO/CHART (Helm's syntax, e.g. ^1.2).
    #[arg(long = "version", value_name = "CONSTRAINT")]
    pub chart_version: Option<String>,
    /// Consider pre-release versions when CHART is REPO/CHART and no --version is given.
    #[arg(long)]
    pub devel: bool,
    #[command(flatten)]
    pub transport: TransportFlags,
    #[command(flatten)]
    pub verify: VerifyFlags,
}

// Registry and repository connection flags (Helm's names).
#[derive(Debug, Clone, Default, Args)]
pub struct TransportFlags {
    /// Use plain HTTP instead of HTTPS for the registry (loopback registries).
    #[arg(long)]
    pub plain_http: bool,
    /// Trust only the certificate authorities in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) to present.
    #[arg(long, value_name = "FILE", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// Private key (PEM) of --cert-file.
    #[arg(long, value_name = "FILE", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate (for test registries only).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// User name for the registry or repository (overrides a stored login).
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Read the password from standard input (with --username).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
}

// `--verify --keyring FILE`.
#[derive(Debug, Clone, Default, Args)]
pub struct VerifyFlags {
    /// Check the chart against its provenance (.prov) file before using it.
    #[arg(long)]
    pub verify: bool,
    /// Public keyring for --verify (default ~/.gnupg/pubring.gpg, as Helm's).
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
}
