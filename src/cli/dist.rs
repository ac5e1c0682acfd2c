//! Distribution: push, registry login/logout, verify. Each handler receives its resolved
//! options ([`super::options::package`]), calls the library and hands the result to
//! [`super::print::package`].

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::OutputFormat;
use super::flags::TransportFlags;
use super::options::package::{Push, Registry, Verify};
use super::print;

// Arguments of `stoke push` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The packaged chart (NAME-VERSION.tgz); a NAME-VERSION.tgz.prov beside it is pushed too.
    pub package: PathBuf,
    /// Registry location, oci://HOST[:PORT]/PATH; the chart lands at PATH/NAME:VERSION.
    pub remote: String,
    #[command(flatten)]
    pub transport: TransportFlags,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

// Arguments of `stoke registry` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

// Registry subcommands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Log in to an OCI registry (the login is shared with Helm).
    ///
    /// The credentials are checked with the registry, then stored (mode 0600) in Helm's
    /// registry config.json, so Helm uses them too.
    #[command(
        after_help = "Example:\n  echo \"$TOKEN\" | stoke registry login registry.example.com -u ci --password-stdin\n\nCredentials file: $STOKE_REGISTRY_CONFIG, else $HELM_REGISTRY_CONFIG, else\n~/.config/helm/registry/config.json (Docker's config.json format)."
    )]
    Login {
        /// Registry host, HOST or HOST:PORT.
        host: String,
        /// User name.
        #[arg(short = 'u', long)]
        username: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Password (prefer --password-stdin: arguments are visible to other users).
        #[arg(short = 'p', long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Use plain HTTP instead of HTTPS.
        #[arg(long)]
        plain_http: bool,
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
    /// Forget the stored credentials of a registry.
    #[command(after_help = "Example:\n  stoke registry logout registry.example.com")]
    Logout {
        /// Registry host, HOST or HOST:PORT.
        host: String,
    },
}

// Arguments of `stoke verify` (no doc comment: see the note on `Command`).
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The packaged chart; its NAME-VERSION.tgz.prov must lie beside it.
    pub package: PathBuf,
    /// Public keyring (binary, `gpg --export`); default ~/.gnupg/pubring.gpg.
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `stoke push`.
pub fn push(o: &Push) -> Result<i32> {
    let pushed = crate::oci::push(&o.package, &o.remote, &o.transport)?;
    print::package::pushed(&pushed, o.format)?;
    Ok(0)
}

/// `stoke registry ...`.
pub fn registry(o: &Registry) -> Result<i32> {
    match o {
        Registry::Login {
            host,
            username,
            password,
            transport,
        } => {
            let kept = crate::oci::login(host, username, password, transport)?;
            print::package::logged_in(&kept.to_string())?;
        }
        Registry::Logout { host } => {
            let kept = crate::oci::logout(host)?;
            print::package::logged_out(host, &kept.to_string())?;
        }
    }
    Ok(0)
}

/// `stoke verify`.
pub fn verify(o: &Verify) -> Result<i32> {
    let v = crate::provenance::verify_file(&o.package, None, &o.keyring)?;
    print::package::verification(&v, o.format)?;
    Ok(0)
}
