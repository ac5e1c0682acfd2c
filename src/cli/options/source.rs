//! Where charts come from and how to reach registries: transport flags, `--verify`
//! keyrings, passwords on standard input, and the chart source of `REPO/CHART` and `oci://`
//! references.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::flags::{ChartSourceFlags, TransportFlags, VerifyFlags};
use crate::repo::source::ChartSource;
use crate::transport::TransportOptions;

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

/// The library's transport options (reading the password from stdin if asked).
pub fn transport(flags: &TransportFlags) -> Result<TransportOptions> {
    Ok(TransportOptions {
        plain_http: flags.plain_http,
        ca_file: flags.ca_file.clone(),
        cert_file: flags.cert_file.clone(),
        key_file: flags.key_file.clone(),
        insecure_skip_tls_verify: flags.insecure_skip_tls_verify,
        username: flags.username.clone(),
        password: if flags.password_stdin {
            Some(read_password_stdin()?)
        } else {
            None
        },
    })
}

/// The keyring to verify with, when --verify is given.
pub fn verify_keyring(flags: &VerifyFlags) -> Result<Option<PathBuf>> {
    if !flags.verify {
        if flags.keyring.is_some() {
            bail!("--keyring is only used with --verify");
        }
        return Ok(None);
    }
    match &flags.keyring {
        Some(k) => Ok(Some(k.clone())),
        None => Ok(Some(default_public_keyring()?)),
    }
}

/// `--keyring FILE`, else Helm's default public keyring `~/.gnupg/pubring.gpg`.
pub fn public_keyring(given: Option<&PathBuf>) -> Result<PathBuf> {
    match given {
        Some(k) => Ok(k.clone()),
        None => default_public_keyring(),
    }
}

fn default_public_keyring() -> Result<PathBuf> {
    let home =
        std::env::var_os("HOME").context("--verify needs --keyring FILE (HOME is not set)")?;
    Ok(PathBuf::from(home).join(".gnupg/pubring.gpg"))
}

/// `--keyring FILE` of `package --sign`, else `~/.gnupg/secring.gpg`.
pub fn secret_keyring(given: Option<&PathBuf>) -> PathBuf {
    given
        .cloned()
        .unwrap_or_else(|| super::in_home(".gnupg/secring.gpg"))
}

/// The source of a `REPO/CHART`, `oci://` or URL chart reference.
pub fn chart_source(flags: &ChartSourceFlags) -> Result<ChartSource> {
    Ok(ChartSource {
        constraint: flags.chart_version.clone(),
        devel: flags.devel,
        transport: transport(&flags.transport)?,
        verify_keyring: verify_keyring(&flags.verify)?,
    })
}
