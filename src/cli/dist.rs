//! Handlers and flags for distribution: push, registry login/logout, verify, and the
//! registry/repository and provenance flags other commands flatten in.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::output::{self, OutputFormat};
use crate::transport::TransportOptions;

/// Registry and repository connection flags (Helm's names).
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

/// Reads a password from standard input: the whole input, without its final line break.
pub fn read_password_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the password from standard input")?;
    let p = s.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        bail!("--password-stdin read an empty password");
    }
    Ok(p)
}

impl TransportFlags {
    /// The library's options (reading the password from stdin if asked).
    pub fn options(&self) -> Result<TransportOptions> {
        Ok(TransportOptions {
            plain_http: self.plain_http,
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            username: self.username.clone(),
            password: if self.password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            },
        })
    }
}

/// `--verify --keyring FILE`.
#[derive(Debug, Clone, Default, Args)]
pub struct VerifyFlags {
    /// Check the chart against its provenance (.prov) file before using it.
    #[arg(long)]
    pub verify: bool,
    /// Public keyring for --verify (default ~/.gnupg/pubring.gpg, as Helm's).
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
}

impl VerifyFlags {
    /// The keyring to verify with, when --verify is given.
    pub fn keyring(&self) -> Result<Option<PathBuf>> {
        if !self.verify {
            if self.keyring.is_some() {
                bail!("--keyring is only used with --verify");
            }
            return Ok(None);
        }
        match &self.keyring {
            Some(k) => Ok(Some(k.clone())),
            None => Ok(Some(default_keyring()?)),
        }
    }
}

fn default_keyring() -> Result<PathBuf> {
    let home =
        std::env::var_os("HOME").context("--verify needs --keyring FILE (HOME is not set)")?;
    Ok(PathBuf::from(home).join(".gnupg/pubring.gpg"))
}

/// Arguments of `stoke push`.
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

/// Arguments of `stoke registry`.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

/// Registry subcommands.
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

/// Arguments of `stoke verify`.
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
pub fn push(args: &PushArgs) -> Result<i32> {
    let pushed = crate::oci::push(&args.package, &args.remote, &args.transport.options()?)?;
    if args.output != OutputFormat::Table {
        output::print_structured(&pushed, args.output)?;
        return Ok(0);
    }
    println!("Pushed: {}", pushed.reference);
    println!("Digest: {}", pushed.digest);
    if pushed.signed {
        println!("Provenance: included");
    }
    Ok(0)
}

/// `stoke registry ...`.
pub fn registry(args: &RegistryArgs) -> Result<i32> {
    match &args.command {
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
            let opts = TransportOptions {
                plain_http: *plain_http,
                ca_file: ca_file.clone(),
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
                insecure_skip_tls_verify: *insecure_skip_tls_verify,
                username: None,
                password: None,
            };
            let kept = crate::oci::login(host, username, &password, &opts)?;
            println!("Login Succeeded (credentials stored in {kept})");
        }
        RegistryCommand::Logout { host } => {
            let kept = crate::oci::logout(host)?;
            println!("Removing login credentials for {host} (from {kept})");
        }
    }
    Ok(0)
}

/// `stoke verify`.
pub fn verify(args: &VerifyArgs) -> Result<i32> {
    let keyring = match &args.keyring {
        Some(k) => k.clone(),
        None => default_keyring()?,
    };
    let v = crate::provenance::verify_file(&args.package, None, &keyring)?;
    if args.output != OutputFormat::Table {
        output::print_structured(&v, args.output)?;
        return Ok(0);
    }
    for id in &v.signed_by {
        println!("Signed by: {id}");
    }
    println!("Using Key With Fingerprint: {}", v.fingerprint);
    println!("Chart Hash Verified: {}", v.file_hash);
    Ok(0)
}
