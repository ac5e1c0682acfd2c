//! How stoke reaches registries and repositories: TLS trust, client certificates, plain
//! HTTP and credentials given on the command line. One set of options serves OCI registries
//! and HTTP chart repositories alike, as Helm's `--ca-file`, `--cert-file`, `--key-file`,
//! `--insecure-skip-tls-verify`, `--plain-http`, `--username` and `--password-stdin` do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Connection options for a registry or repository.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// Speak plain HTTP instead of HTTPS (registries on loopback).
    pub plain_http: bool,
    /// Trust only the certificate authorities in this PEM file.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) to present.
    pub cert_file: Option<PathBuf>,
    /// Private key (PEM) of the client certificate.
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate (testing only).
    pub insecure_skip_tls_verify: bool,
    /// User name; with `password` it overrides stored credentials.
    pub username: Option<String>,
    /// Password or token.
    pub password: Option<String>,
}

impl TransportOptions {
    /// The explicit credentials, when both halves were given.
    pub fn credentials(&self) -> Option<(String, String)> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => None,
        }
    }

    /// Checks that the options make sense together.
    pub fn check(&self) -> Result<()> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            bail!("--cert-file and --key-file go together: give both or neither");
        }
        if self.password.is_some() && self.username.is_none() {
            bail!("a password was given without --username");
        }
        Ok(())
    }

    /// The PEM certificates of `--ca-file`, if given.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>> {
        self.ca_file
            .as_deref()
            .map(|p| read_pem(p, "--ca-file"))
            .transpose()
    }
}

impl TransportOptions {
    /// The client identity of `--cert-file` and `--key-file` as one PEM text (the key,
    /// then the certificate chain), if both were given.
    pub fn identity_pem(&self) -> Result<Option<Vec<u8>>> {
        self.check()?;
        let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) else {
            return Ok(None);
        };
        let mut pem = read_pem(key, "--key-file")?;
        if !pem.ends_with(b"\n") {
            pem.push(b'\n');
        }
        pem.extend(read_pem(cert, "--cert-file")?);
        Ok(Some(pem))
    }
}

fn read_pem(path: &Path, flag: &str) -> Result<Vec<u8>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read {flag} `{}`", path.display()))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        bail!(
            "{flag} `{}` is not a PEM file (expected -----BEGIN ...-----)",
            path.display()
        );
    }
    Ok(bytes)
}

/// Whether a (lower-cased) connection error says the server wanted a client certificate
/// or refused the one sent (the TLS alerts `certificate_required`, `bad_certificate`,
/// `unknown_ca`, as rustls names them).
pub fn refused_client_certificate(lower: &str) -> bool {
    [
        "certificaterequired",
        "certificate required",
        "badcertificate",
        "bad certificate",
    ]
    .iter()
    .any(|s| lower.contains(s))
        || (lower.contains("alert") && lower.contains("unknownca"))
}

/// What to tell the user when `host` refused the TLS client certificate (or its absence).
pub fn client_certificate_hint(host: &str, opts: &TransportOptions) -> String {
    match &opts.cert_file {
        None => format!(
            "registry {host} demands a TLS client certificate: pass --cert-file CERT.pem and --key-file KEY.pem"
        ),
        Some(c) => format!(
            "registry {host} refused the client certificate --cert-file `{}`: is it signed by a CA the registry trusts, and still valid?",
            c.display()
        ),
    }
}

/// Installs the TLS crypto provider (ring) once, for the clients that take it from the
/// process default (oci-client's HTTP stack).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one first; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A blocking HTTP agent honouring the TLS options.
pub fn agent(opts: &TransportOptions) -> Result<ureq::Agent> {
    use ureq::tls::{ClientCert, PrivateKey, RootCerts, TlsConfig};
    opts.check()?;
    let mut tls = TlsConfig::builder().disable_verification(opts.insecure_skip_tls_verify);
    if let Some(pem) = opts.ca_pem()? {
        let certs = certificates(&pem)
            .with_context(|| format!("cannot parse --ca-file `{}`", display(&opts.ca_file)))?;
        if certs.is_empty() {
            bail!(
                "--ca-file `{}` holds no certificates",
                display(&opts.ca_file)
            );
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    if let (Some(cert), Some(key)) = (&opts.cert_file, &opts.key_file) {
        let cert_pem = read_pem(cert, "--cert-file")?;
        let key_pem = read_pem(key, "--key-file")?;
        let chain = certificates(&cert_pem)
            .with_context(|| format!("cannot parse --cert-file `{}`", cert.display()))?;
        let key = PrivateKey::from_pem(&key_pem)
            .with_context(|| format!("cannot parse --key-file `{}`", key.display()))?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .user_agent(concat!("stoke/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build()
        .into())
}

/// The certificates of a PEM text, in order; other PEM items (keys) are passed over.
fn certificates(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, ureq::Error> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect()
}

fn display(p: &Option<PathBuf>) -> String {
    p.as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// Writes `bytes` to `path` through a temporary file created with mode 0600 (and its folder
/// with 0700 when missing), so a secret is never readable by others, not even for a moment.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create `{}`", dir.display()))?;
    crate::fsutil::AtomicWrite::PRIVATE.write(path, bytes)
}
