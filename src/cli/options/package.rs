//! Options of the packaging and distribution commands: package, repo, search, pull,
//! dependency, push, registry, verify, unittest and env.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::Globals;
use super::source::{
    public_keyring, read_password_stdin, secret_keyring, transport, verify_keyring,
};
use crate::cli::OutputFormat;
use crate::cli::dist::{PushArgs, RegistryCommand, VerifyArgs};
use crate::cli::flags::{TransportFlags, VerifyFlags};
use crate::cli::info::EnvArgs;
use crate::cli::package::{DependencyCommand, PackageArgs, PullArgs, RepoCommand, SearchCommand};
use crate::cli::unittest::UnittestArgs;
use crate::package::index::IndexOptions;
use crate::repo::deps::DepsOptions;
use crate::repo::{AddOptions, Paths, PullOptions};
use crate::transport::TransportOptions;

/// How `package --sign` signs.
pub struct Signing {
    /// `--key`: the signing key's user ID.
    pub key: String,
    /// The secret keyring.
    pub keyring: PathBuf,
    /// `--passphrase-file`.
    pub passphrase_file: Option<PathBuf>,
}

/// `stoke package`.
pub struct Package {
    /// The chart folders.
    pub charts: Vec<PathBuf>,
    /// `-d`.
    pub destination: PathBuf,
    /// `--version`.
    pub version: Option<String>,
    /// `--app-version`.
    pub app_version: Option<String>,
    /// `--sign`.
    pub signing: Option<Signing>,
}

impl Package {
    /// Resolves `stoke package`'s flags.
    pub fn from_args(args: &PackageArgs) -> Package {
        Package {
            charts: args.charts.clone(),
            destination: args.destination.clone(),
            version: args.version.clone(),
            app_version: args.app_version.clone(),
            signing: args.sign.then(|| Signing {
                key: args.key.clone().unwrap_or_default(),
                keyring: secret_keyring(args.keyring.as_ref()),
                passphrase_file: args.passphrase_file.clone(),
            }),
        }
    }
}

/// `stoke repo ...`, resolved.
pub enum Repo {
    /// `repo index`.
    Index {
        /// The folder of packages.
        dir: PathBuf,
        /// `--url`, `--merge`.
        opts: IndexOptions,
    },
    /// `repo add`.
    Add {
        /// The repository files.
        paths: Paths,
        /// The local name.
        name: String,
        /// The URL or folder.
        url: String,
        /// Credentials and TLS.
        opts: AddOptions,
    },
    /// `repo list`.
    List {
        /// The repository files.
        paths: Paths,
        /// `-o`.
        format: OutputFormat,
    },
    /// `repo update`.
    Update {
        /// The repository files.
        paths: Paths,
        /// The repositories (all when empty).
        names: Vec<String>,
    },
    /// `repo remove`.
    Remove {
        /// The repository files.
        paths: Paths,
        /// The repositories.
        names: Vec<String>,
    },
}

impl Repo {
    /// Resolves `stoke repo`'s flags.
    pub fn from_args(command: &RepoCommand) -> Result<Repo> {
        Ok(match command {
            RepoCommand::Index { dir, url, merge } => Repo::Index {
                dir: dir.clone(),
                opts: IndexOptions {
                    url: url.clone(),
                    merge: merge.clone(),
                },
            },
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
                Repo::Add {
                    paths,
                    name: name.clone(),
                    url: url.clone(),
                    opts: AddOptions {
                        force: *force_update,
                        username: username.clone(),
                        password: if *password_stdin {
                            Some(read_password_stdin()?)
                        } else {
                            None
                        },
                        pass_credentials: *pass_credentials,
                        ca_file: ca_file.clone(),
                        cert_file: cert_file.clone(),
                        key_file: key_file.clone(),
                        insecure_skip_tls_verify: *insecure_skip_tls_verify,
                    },
                }
            }
            RepoCommand::List { output } => Repo::List {
                paths: Paths::from_env()?,
                format: *output,
            },
            RepoCommand::Update { names } => Repo::Update {
                paths: Paths::from_env()?,
                names: names.clone(),
            },
            RepoCommand::Remove { names } => Repo::Remove {
                paths: Paths::from_env()?,
                names: names.clone(),
            },
        })
    }
}

/// `stoke search repo`.
pub struct Search {
    /// The repository files.
    pub paths: Paths,
    /// The text looked for.
    pub keyword: String,
    /// `--version`.
    pub constraint: Option<String>,
    /// `--devel`.
    pub devel: bool,
    /// `--versions`: every version, not only the newest.
    pub all_versions: bool,
    /// `-o`.
    pub format: OutputFormat,
}

impl Search {
    /// Resolves `stoke search`'s flags.
    pub fn from_args(command: &SearchCommand) -> Result<Search> {
        let SearchCommand::Repo {
            keyword,
            versions,
            version,
            devel,
            output,
        } = command;
        Ok(Search {
            paths: Paths::from_env()?,
            keyword: keyword.clone(),
            constraint: version.clone(),
            devel: *devel,
            all_versions: *versions,
            format: *output,
        })
    }
}

/// `stoke pull`.
pub struct Pull {
    /// The repository files.
    pub paths: Paths,
    /// The chart reference.
    pub chart: String,
    /// `-d`.
    pub destination: PathBuf,
    /// What pull fetches and how.
    pub opts: PullOptions,
}

impl Pull {
    /// Resolves `stoke pull`'s flags.
    pub fn from_args(args: &PullArgs) -> Result<Pull> {
        let paths = Paths::from_env()?;
        Ok(Pull {
            paths,
            chart: args.chart.clone(),
            destination: args.destination.clone(),
            opts: PullOptions {
                source: crate::repo::source::ChartSource {
                    constraint: args.version.clone(),
                    devel: args.devel,
                    transport: transport(&args.transport)?,
                    verify_keyring: verify_keyring(&args.verify)?,
                },
                untar: args.untar,
                prov: args.prov,
                repo_url: args.repo.clone(),
            },
        })
    }
}

fn deps_options(transport_flags: &TransportFlags, verify: &VerifyFlags) -> Result<DepsOptions> {
    Ok(DepsOptions {
        transport: transport(transport_flags)?,
        verify_keyring: verify_keyring(verify)?,
    })
}

/// `stoke dependency ...`, resolved.
pub enum Dependency {
    /// `dependency update`.
    Update {
        /// The chart folder.
        chart: PathBuf,
        /// `--skip-refresh`.
        skip_refresh: bool,
        /// Transport and verification.
        opts: DepsOptions,
    },
    /// `dependency build`.
    Build {
        /// The chart folder.
        chart: PathBuf,
        /// Transport and verification.
        opts: DepsOptions,
    },
    /// `dependency list`.
    List {
        /// The chart folder.
        chart: PathBuf,
        /// `-o`.
        format: OutputFormat,
    },
}

impl Dependency {
    /// Resolves `stoke dependency`'s flags.
    pub fn from_args(command: &DependencyCommand) -> Result<Dependency> {
        Ok(match command {
            DependencyCommand::Update {
                chart,
                skip_refresh,
                transport,
                verify,
            } => Dependency::Update {
                chart: chart.clone(),
                skip_refresh: *skip_refresh,
                opts: deps_options(transport, verify)?,
            },
            DependencyCommand::Build {
                chart,
                transport,
                verify,
            } => Dependency::Build {
                chart: chart.clone(),
                opts: deps_options(transport, verify)?,
            },
            DependencyCommand::List { chart, output } => Dependency::List {
                chart: chart.clone(),
                format: *output,
            },
        })
    }

    /// The repository files `update` and `build` read.
    pub fn paths() -> Result<Paths> {
        Paths::from_env()
    }
}

/// `stoke push`.
pub struct Push {
    /// The package.
    pub package: PathBuf,
    /// `oci://HOST/PATH`.
    pub remote: String,
    /// Registry connection.
    pub transport: TransportOptions,
    /// `-o`.
    pub format: OutputFormat,
}

impl Push {
    /// Resolves `stoke push`'s flags.
    pub fn from_args(args: &PushArgs) -> Result<Push> {
        Ok(Push {
            package: args.package.clone(),
            remote: args.remote.clone(),
            transport: transport(&args.transport)?,
            format: args.output,
        })
    }
}

/// `stoke registry ...`, resolved.
pub enum Registry {
    /// `registry login`.
    Login {
        /// The registry host.
        host: String,
        /// `-u`.
        username: String,
        /// From `-p` or standard input.
        password: String,
        /// TLS and plain-HTTP settings.
        transport: TransportOptions,
    },
    /// `registry logout`.
    Logout {
        /// The registry host.
        host: String,
    },
}

impl Registry {
    /// Resolves `stoke registry`'s flags (reading the password from stdin if asked).
    pub fn from_args(command: &RegistryCommand) -> Result<Registry> {
        Ok(match command {
            RegistryCommand::Login {
                host,
                username,
                password_stdin,
                password,
                plain_http,
                ca_file,
                cert_file,
                key_file,
                insecure_skip_tls_verify,
            } => {
                let password = match (password, password_stdin) {
                    (Some(p), _) => p.clone(),
                    (None, true) => read_password_stdin()?,
                    (None, false) => bail!(
                        "give the password with --password-stdin (e.g. `echo \"$TOKEN\" | stoke registry login {host} -u {username} --password-stdin`)"
                    ),
                };
                Registry::Login {
                    host: host.clone(),
                    username: username.clone(),
                    password,
                    transport: TransportOptions {
                        plain_http: *plain_http,
                        ca_file: ca_file.clone(),
                        cert_file: cert_file.clone(),
                        key_file: key_file.clone(),
                        insecure_skip_tls_verify: *insecure_skip_tls_verify,
                        username: None,
                        password: None,
                    },
                }
            }
            RegistryCommand::Logout { host } => Registry::Logout { host: host.clone() },
        })
    }
}

/// `stoke verify`.
pub struct Verify {
    /// The package.
    pub package: PathBuf,
    /// The public keyring.
    pub keyring: PathBuf,
    /// `-o`.
    pub format: OutputFormat,
}

impl Verify {
    /// Resolves `stoke verify`'s flags.
    pub fn from_args(args: &VerifyArgs) -> Result<Verify> {
        Ok(Verify {
            package: args.package.clone(),
            keyring: public_keyring(args.keyring.as_ref())?,
            format: args.output,
        })
    }
}

/// `stoke unittest`.
pub struct Unittest {
    /// One run per chart.
    pub runs: Vec<crate::unittest::Options>,
    /// `--output-file`.
    pub report_file: Option<PathBuf>,
}

impl Unittest {
    /// Resolves `stoke unittest`'s flags.
    pub fn from_args(args: &UnittestArgs) -> Unittest {
        Unittest {
            runs: args
                .charts
                .iter()
                .map(|chart| crate::unittest::Options {
                    chart: chart.clone(),
                    files: args.files.clone(),
                    update_snapshots: args.update_snapshot,
                    values: args.values.clone(),
                    strict: args.strict,
                    release_service: Some(args.release_service.clone()),
                })
                .collect(),
            report_file: args.output_file.clone(),
        }
    }
}

/// `stoke env`: the settings as stoke resolves them.
pub struct Env {
    /// Every setting and its value.
    pub variables: Vec<(String, String)>,
    /// Only this one.
    pub name: Option<String>,
    /// `-o`.
    pub format: OutputFormat,
}

impl Env {
    /// Resolves the settings `stoke env` reports.
    pub fn from_args(g: &Globals, args: &EnvArgs) -> Result<Env> {
        Ok(Env {
            variables: crate::environment::variables(g.store.as_deref(), &g.kube)?,
            name: args.name.clone(),
            format: args.output,
        })
    }
}
