//! Packaging and repositories: package, repo, search, pull, dependency. Each handler
//! receives its resolved options ([`super::options::package`]), calls the library and hands
//! the result to [`super::print::package`].

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::OutputFormat;
use super::flags::{TransportFlags, VerifyFlags};
use super::options::package::{Dependency, Package, Pull, Repo, Search};
use super::print;
use crate::repo;

// Arguments of `stoke package` (no doc comment: see the note on `Command`).
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

// Arguments of `stoke repo` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

// Repository subcommands.
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

// Arguments of `stoke search` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(subcommand)]
    pub command: SearchCommand,
}

// Search subcommands.
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

// Arguments of `stoke pull` (no doc comment: see the note on `Command`).
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
    pub transport: TransportFlags,
    #[command(flatten)]
    pub verify: VerifyFlags,
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

// Arguments of `stoke dependency` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct DependencyArgs {
    #[command(subcommand)]
    pub command: DependencyCommand,
}

// Dependency subcommands.
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
        transport: TransportFlags,
        #[command(flatten)]
        verify: VerifyFlags,
    },
    /// Restore charts/ to exactly the versions in Chart.lock.
    #[command(after_help = "Example:\n  stoke dependency build charts/ignition-scaleout")]
    Build {
        /// Chart directory.
        #[arg(default_value = ".")]
        chart: PathBuf,
        #[command(flatten)]
        transport: TransportFlags,
        #[command(flatten)]
        verify: VerifyFlags,
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

/// `stoke package`.
pub fn package(o: &Package) -> Result<i32> {
    for chart in &o.charts {
        let path = crate::package::package(
            chart,
            &o.destination,
            o.version.as_deref(),
            o.app_version.as_deref(),
        )?;
        print::package::packaged(&path, &crate::package::digest_file(&path)?)?;
        if let Some(s) = &o.signing {
            let prov = crate::provenance::sign_file(
                &path,
                &s.key,
                &s.keyring,
                s.passphrase_file.as_deref(),
            )?;
            print::package::signed(&prov, &s.key)?;
        }
    }
    Ok(0)
}

/// `stoke repo ...`.
pub fn repo(o: &Repo) -> Result<i32> {
    match o {
        Repo::Index { dir, opts } => {
            print::package::index_written(&crate::package::index::write_index(dir, opts)?)?;
        }
        Repo::Add {
            paths,
            name,
            url,
            opts,
        } => print::package::repo_added(name, &repo::add_with(paths, name, url, opts)?)?,
        Repo::List { paths, format } => {
            print::package::repo_list(&repo::RepoFile::load(&paths.config)?, *format)?;
        }
        Repo::Update { paths, names } => {
            print::package::repos_updated(&repo::update(paths, names)?)?;
        }
        Repo::Remove { paths, names } => {
            repo::remove(paths, names)?;
            print::package::repos_removed(names)?;
        }
    }
    Ok(0)
}

/// `stoke search repo`.
pub fn search(o: &Search) -> Result<i32> {
    let (hits, warnings) = repo::search(
        &o.paths,
        &o.keyword,
        o.constraint.as_deref(),
        o.devel,
        o.all_versions,
    )?;
    print::package::search(hits, &warnings, o.format)?;
    Ok(0)
}

/// `stoke pull`.
pub fn pull(o: &Pull) -> Result<i32> {
    let pulled = repo::pull_with(&o.paths, &o.chart, &o.destination, &o.opts)?;
    print::package::pulled(&pulled)?;
    Ok(0)
}

/// `stoke dependency ...`.
pub fn dependency(o: &Dependency) -> Result<i32> {
    match o {
        Dependency::Update {
            chart,
            skip_refresh,
            opts,
        } => {
            let lock = repo::deps::update_with(&Dependency::paths()?, chart, *skip_refresh, opts)?;
            print::package::deps_saved(&lock, chart)?;
        }
        Dependency::Build { chart, opts } => {
            let lock = repo::deps::build_with(&Dependency::paths()?, chart, opts)?;
            print::package::deps_restored(&lock)?;
        }
        Dependency::List { chart, format } => {
            print::package::deps_list(&repo::deps::list(chart)?, *format)?;
        }
    }
    Ok(0)
}
