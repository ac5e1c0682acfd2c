//! Handlers for packaging and distribution: package, repo, search, pull, dependency.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::output::{self, OutputFormat, print_warning};
use crate::repo::{self, Paths};

/// Arguments of `stoke package`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct PackageArgs {
    /// Chart directories to package.
    #[arg(required = true)]
    pub charts: Vec<PathBuf>,
    /// Folder to write NAME-VERSION.tgz into.
    #[arg(short = 'd', long, value_name = "DIR", default_value = ".")]
    pub destination: PathBuf,
    /// Package with this chart version instead of Chart.yaml's.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Package with this appVersion instead of Chart.yaml's.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
    /// Sign the package: write NAME-VERSION.tgz.prov (Helm's provenance format).
    #[arg(long, requires = "key")]
    pub sign: bool,
    /// User ID (or unique part of one) of the signing key.
    #[arg(long, value_name = "NAME", requires = "sign")]
    pub key: Option<String>,
    /// Secret keyring holding the key (binary, `gpg --export-secret-keys`); default
    /// ~/.gnupg/secring.gpg.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub keyring: Option<PathBuf>,
    /// File whose first line is the key's passphrase.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub passphrase_file: Option<PathBuf>,
}

/// Arguments of `stoke repo`.
#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

/// Repository subcommands.
#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Write index.yaml for a folder of packages (Helm's format).
    #[command(
        after_help = "Example:\n  stoke repo index ./public --url https://charts.example.com"
    )]
    Index {
        /// Folder holding the .tgz packages (and one level of subfolders).
        dir: PathBuf,
        /// URL the folder will be served from; without it URLs are relative.
        #[arg(long)]
        url: Option<String>,
        /// Keep versions from this existing index that the folder no longer holds.
        #[arg(long, value_name = "FILE")]
        merge: Option<PathBuf>,
    },
    /// Add a chart repository (http, https, file:// or a folder).
    #[command(after_help = "Example:\n  stoke repo add ia https://charts.example.com")]
    Add {
        /// Local name for the repository.
        name: String,
        /// Its URL or folder.
        url: String,
        /// Replace an existing repository of the same name with a different URL.
        #[arg(long)]
        force_update: bool,
        /// User name for the repository (HTTP basic authentication).
        #[arg(long, value_name = "USER")]
        username: Option<String>,
        /// Read the repository password from standard input.
        #[arg(long, requires = "username")]
        password_stdin: bool,
        /// Send the credentials to every host the index points at, not only this one.
        #[arg(long)]
        pass_credentials: bool,
        /// Trust only the certificate authorities in this PEM file.
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// Client certificate (PEM).
        #[arg(long, value_name = "FILE", requires = "key_file")]
        cert_file: Option<PathBuf>,
        /// Client key (PEM).
        #[arg(long, value_name = "FILE", requires = "cert_file")]
        key_file: Option<PathBuf>,
        /// Accept any server certificate.
        #[arg(long)]
        insecure_skip_tls_verify: bool,
    },
    /// List configured repositories.
    #[command(after_help = "Example:\n  stoke repo list -o json")]
    List {
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Download fresh indexes of configured repositories.
    #[command(after_help = "Example:\n  stoke repo update ia")]
    Update {
        /// Repositories to update (all when none given).
        names: Vec<String>,
    },
    /// Remove repositories.
    #[command(alias = "rm", after_help = "Example:\n  stoke repo remove ia")]
    Remove {
        /// Repositories to remove.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// Arguments of `stoke search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(subcommand)]
    pub command: SearchCommand,
}

/// Search subcommands.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Search the cached indexes of configured repositories.
    #[command(
        disable_version_flag = true,
        after_help = "Example:\n  stoke search repo ignition --versions --version '^0.2'"
    )]
    Repo {
        /// Text to look for in chart names, descriptions and keywords (empty lists all).
        #[arg(default_value = "")]
        keyword: String,
        /// Show every matching version, not only the newest.
        #[arg(short = 'l', long)]
        versions: bool,
        /// Only versions satisfying this constraint (e.g. ^1.2).
        #[arg(long, value_name = "CONSTRAINT")]
        version: Option<String>,
        /// Include pre-release versions.
        #[arg(long)]
        devel: bool,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

/// Arguments of `stoke pull`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct PullArgs {
    /// The chart: REPO/CHART, oci://HOST/PATH/NAME[@sha256:DIGEST], a package URL, or
    /// CHART with --repo URL.
    pub chart: String,
    /// Look CHART up in the repository at this URL (no `repo add` needed).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// Also download the provenance file (NAME-VERSION.tgz.prov).
    #[arg(long)]
    pub prov: bool,
    #[command(flatten)]
    pub transport: super::dist::TransportFlags,
    #[command(flatten)]
    pub verify: super::dist::VerifyFlags,
    /// Version constraint (Helm's syntax: 1.2.3, ^1.2, ~1.2.3, >=1.0 <2.0, 1.x).
    #[arg(long, value_name = "CONSTRAINT")]
    pub version: Option<String>,
    /// Consider pre-release versions when no --version is given.
    #[arg(long)]
    pub devel: bool,
    /// Folder to write into.
    #[arg(short = 'd', long, value_name = "DIR", default_value = ".")]
    pub destination: PathBuf,
    /// Unpack the chart into DIR/NAME/ instead of keeping the .tgz.
    #[arg(long)]
    pub untar: bool,
}

/// Arguments of `stoke dependency`.
#[derive(Debug, Args)]
pub struct DependencyArgs {
    #[command(subcommand)]
    pub command: DependencyCommand,
}

/// Dependency subcommands.
#[derive(Debug, Subcommand)]
pub enum DependencyCommand {
    /// Resolve dependencies to the newest allowed versions, fill charts/, write Chart.lock.
    #[command(
        alias = "up",
        after_help = "Example:\n  stoke dependency update charts/ignition-scaleout"
    )]
    Update {
        /// Chart directory.
        #[arg(default_value = ".")]
        chart: PathBuf,
        /// Use cached repository indexes instead of downloading fresh ones.
        #[arg(long)]
        skip_refresh: bool,
        #[command(flatten)]
        transport: super::dist::TransportFlags,
        #[command(flatten)]
        verify: super::dist::VerifyFlags,
    },
    /// Restore charts/ to exactly the versions in Chart.lock.
    #[command(after_help = "Example:\n  stoke dependency build charts/ignition-scaleout")]
    Build {
        /// Chart directory.
        #[arg(default_value = ".")]
        chart: PathBuf,
        #[command(flatten)]
        transport: super::dist::TransportFlags,
        #[command(flatten)]
        verify: super::dist::VerifyFlags,
    },
    /// Show each dependency and whether charts/ satisfies it.
    #[command(
        alias = "ls",
        after_help = "Example:\n  stoke dependency list charts/ignition-scaleout"
    )]
    List {
        /// Chart directory.
        #[arg(default_value = ".")]
        chart: PathBuf,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

/// Prints rows whose first row is the header.
fn table(rows: &[Vec<String>]) -> Result<()> {
    let header: Vec<&str> = rows
        .first()
        .map(|h| h.iter().map(String::as_str).collect())
        .unwrap_or_default();
    output::print_table(&header, rows.get(1..).unwrap_or_default())
}

/// `stoke package`.
pub fn package(args: &PackageArgs) -> Result<i32> {
    for chart in &args.charts {
        let path = crate::package::package(
            chart,
            &args.destination,
            args.version.as_deref(),
            args.app_version.as_deref(),
        )?;
        let digest = crate::package::digest_file(&path)?;
        println!("Packaged {} (sha256 {digest})", path.display());
        if args.sign {
            let keyring = match &args.keyring {
                Some(k) => k.clone(),
                None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".gnupg/secring.gpg"),
            };
            let key = args.key.as_deref().unwrap_or_default();
            let prov = crate::provenance::sign_file(
                &path,
                key,
                &keyring,
                args.passphrase_file.as_deref(),
            )?;
            println!("Signed {} with `{key}`", prov.display());
        }
    }
    Ok(0)
}

/// `stoke repo ...`.
pub fn repo(args: &RepoArgs) -> Result<i32> {
    match &args.command {
        RepoCommand::Index { dir, url, merge } => {
            let written = crate::package::index::write_index(
                dir,
                &crate::package::index::IndexOptions {
                    url: url.clone(),
                    merge: merge.clone(),
                },
            )?;
            for w in &written.warnings {
                print_warning(w);
            }
            println!(
                "Wrote {} ({} charts, {} versions)",
                written.path.display(),
                written.charts,
                written.versions
            );
        }
        RepoCommand::Add {
            name,
            url,
            force_update,
            username,
            password_stdin,
            pass_credentials,
            ca_file,
            cert_file,
            key_file,
            insecure_skip_tls_verify,
        } => {
            let paths = Paths::from_env()?;
            let opts = repo::AddOptions {
                force: *force_update,
                username: username.clone(),
                password: if *password_stdin {
                    Some(super::dist::read_password_stdin()?)
                } else {
                    None
                },
                pass_credentials: *pass_credentials,
                ca_file: ca_file.clone(),
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
                insecure_skip_tls_verify: *insecure_skip_tls_verify,
            };
            for w in repo::add_with(&paths, name, url, &opts)? {
                print_warning(&w);
            }
            println!("\"{name}\" has been added to your repositories");
        }
        RepoCommand::List { output } => {
            let paths = Paths::from_env()?;
            let file = repo::RepoFile::load(&paths.config)?;
            if *output == OutputFormat::Table {
                if file.repositories.is_empty() {
                    eprintln!(
                        "no repositories configured (add one with `stoke repo add NAME URL`)"
                    );
                    return Ok(0);
                }
                let mut rows = vec![vec!["NAME".to_string(), "URL".to_string()]];
                for r in &file.repositories {
                    rows.push(vec![r.name.clone(), r.url.clone()]);
                }
                table(&rows)?;
            } else {
                output::print_structured(&repo::listing(&file), *output)?;
            }
        }
        RepoCommand::Update { names } => {
            let paths = Paths::from_env()?;
            for r in repo::update(&paths, names)? {
                for w in &r.warnings {
                    print_warning(w);
                }
                println!("Updated \"{}\" ({} charts)", r.name, r.charts);
            }
        }
        RepoCommand::Remove { names } => {
            let paths = Paths::from_env()?;
            repo::remove(&paths, names)?;
            for n in names {
                println!("\"{n}\" has been removed from your repositories");
            }
        }
    }
    Ok(0)
}

/// `stoke search repo`.
pub fn search(args: &SearchArgs) -> Result<i32> {
    let SearchCommand::Repo {
        keyword,
        versions,
        version,
        devel,
        output,
    } = &args.command;
    let paths = Paths::from_env()?;
    let (hits, warnings) = repo::search(&paths, keyword, version.as_deref(), *devel, *versions)?;
    for w in &warnings {
        print_warning(w);
    }
    if *output != OutputFormat::Table {
        output::print_structured(&hits, *output)?;
        return Ok(0);
    }
    if hits.is_empty() {
        eprintln!("No results found");
        return Ok(0);
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "CHART VERSION".to_string(),
        "APP VERSION".to_string(),
        "DESCRIPTION".to_string(),
    ]];
    for h in hits {
        rows.push(vec![h.name, h.version, h.app_version, h.description]);
    }
    table(&rows)?;
    Ok(0)
}

/// `stoke pull`.
pub fn pull(args: &PullArgs) -> Result<i32> {
    let paths = Paths::from_env()?;
    let opts = repo::PullOptions {
        source: repo::source::ChartSource {
            constraint: args.version.clone(),
            devel: args.devel,
            transport: args.transport.options()?,
            verify_keyring: args.verify.keyring()?,
        },
        untar: args.untar,
        prov: args.prov,
        repo_url: args.repo.clone(),
    };
    let pulled = repo::pull_with(&paths, &args.chart, &args.destination, &opts)?;
    if let Some(v) = &pulled.verification {
        println!(
            "Verified {} (signed by {})",
            v.file_name,
            v.signed_by.join(", ")
        );
    }
    println!("Pulled {} to {}", pulled.origin, pulled.path.display());
    Ok(0)
}

/// `stoke dependency ...`.
pub fn dependency(args: &DependencyArgs) -> Result<i32> {
    match &args.command {
        DependencyCommand::Update {
            chart,
            skip_refresh,
            transport,
            verify,
        } => {
            let opts = repo::deps::DepsOptions {
                transport: transport.options()?,
                verify_keyring: verify.keyring()?,
            };
            let lock = repo::deps::update_with(&Paths::from_env()?, chart, *skip_refresh, &opts)?;
            for d in &lock.dependencies {
                println!("Saved {} {} in charts/", d.name, d.version);
            }
            println!("Wrote {}", chart.join("Chart.lock").display());
        }
        DependencyCommand::Build {
            chart,
            transport,
            verify,
        } => {
            let opts = repo::deps::DepsOptions {
                transport: transport.options()?,
                verify_keyring: verify.keyring()?,
            };
            let lock = repo::deps::build_with(&Paths::from_env()?, chart, &opts)?;
            for d in &lock.dependencies {
                println!("Restored {} {} in charts/", d.name, d.version);
            }
        }
        DependencyCommand::List { chart, output } => {
            let list = repo::deps::list(chart)?;
            if *output != OutputFormat::Table {
                output::print_structured(&list, *output)?;
                return Ok(0);
            }
            let mut rows = vec![vec![
                "NAME".to_string(),
                "VERSION".to_string(),
                "REPOSITORY".to_string(),
                "STATUS".to_string(),
            ]];
            for d in &list {
                rows.push(vec![
                    d.name.clone(),
                    d.version.clone(),
                    d.repository.clone(),
                    d.status.clone(),
                ]);
            }
            table(&rows)?;
        }
    }
    Ok(0)
}

/// `--version`/`--devel` for commands whose CHART may be `REPO/CHART` (template, install,
/// upgrade, diff). Flatten it into their arguments; such a command needs
/// `#[command(disable_version_flag = true)]`, as `--version` is taken.
#[derive(Debug, Clone, Default, Args)]
pub struct ChartSourceFlags {
    /// Version constraint when CHART is REPO/CHART (Helm's syntax, e.g. ^1.2).
    #[arg(long = "version", value_name = "CONSTRAINT")]
    pub chart_version: Option<String>,
    /// Consider pre-release versions when CHART is REPO/CHART and no --version is given.
    #[arg(long)]
    pub devel: bool,
    #[command(flatten)]
    pub transport: super::dist::TransportFlags,
    #[command(flatten)]
    pub verify: super::dist::VerifyFlags,
}

/// The local path of CHART: unchanged for a folder or package, a verified download in the
/// cache for `REPO/CHART`, an `oci://` reference or a package URL.
pub fn resolve_chart(chart: &std::path::Path, flags: &ChartSourceFlags) -> Result<PathBuf> {
    let source = repo::source::ChartSource {
        constraint: flags.chart_version.clone(),
        devel: flags.devel,
        transport: flags.transport.options()?,
        verify_keyring: flags.verify.keyring()?,
    };
    let located = repo::source::locate(chart, &source)?;
    if let Some(v) = &located.verification {
        eprintln!(
            "Verified {} (signed by {})",
            v.file_name,
            v.signed_by.join(", ")
        );
    }
    Ok(located.path)
}
