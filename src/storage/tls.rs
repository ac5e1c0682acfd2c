//! TLS for the PostgreSQL store, with libpq's `sslmode` meanings (tokio-postgres itself
//! only knows disable/prefer/require and never verifies anything on its own):
//!
//! | sslmode       | encrypted             | certificate checked        |
//! |---------------|-----------------------|----------------------------|
//! | `disable`     | no                    | -                          |
//! | `prefer`      | if the server offers  | no                         |
//! | `require`     | yes                   | no (yes with `sslrootcert`, as libpq) |
//! | `verify-ca`   | yes                   | chain to a trusted root    |
//! | `verify-full` | yes                   | chain and host name        |
//!
//! Trusted roots are `sslrootcert=FILE` (PEM) when given, else the bundled Mozilla roots.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The sslmode values accepted, for messages.
const MODES: &str = "disable, prefer, require, verify-ca or verify-full";

/// How much to check of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// The TLS settings taken out of a PostgreSQL URL.
#[derive(Debug, Clone)]
pub struct TlsChoice {
    mode: Option<(tokio_postgres::config::SslMode, Check)>,
    root_cert: Option<PathBuf>,
}

impl TlsChoice {
    /// Splits the TLS parameters off `url`, returning the URL tokio-postgres should parse
    /// and the choice. Without `sslmode`, `prefer` (libpq's default).
    pub fn from_url(url: &str) -> Result<(String, TlsChoice)> {
        use tokio_postgres::config::SslMode;
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut kept = Vec::new();
        let mut mode_text = None;
        let mut root_cert = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" => mode_text = Some(v.to_string()),
                "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(v))),
                "sslcert" | "sslkey" | "sslpassword" => bail!(
                    "PostgreSQL URL parameter `{k}`: client certificates are not supported by stoke's PostgreSQL store; authenticate with a password (in the URL or PGPASSWORD)"
                ),
                _ => kept.push(pair),
            }
        }
        let has_root = root_cert.is_some();
        let mode = match mode_text.as_deref().unwrap_or("prefer") {
            "disable" => None,
            "prefer" => Some((SslMode::Prefer, Check::Nothing)),
            "require" if has_root => Some((SslMode::Require, Check::Chain)),
            "require" => Some((SslMode::Require, Check::Nothing)),
            "verify-ca" => Some((SslMode::Require, Check::Chain)),
            "verify-full" => Some((SslMode::Require, Check::ChainAndName)),
            other => bail!("PostgreSQL URL: unknown sslmode `{other}` (use {MODES})"),
        };
        let ssl_param = match mode {
            None => "sslmode=disable",
            Some((SslMode::Prefer, _)) => "sslmode=prefer",
            Some(_) => "sslmode=require",
        };
        kept.push(ssl_param);
        Ok((
            format!("{base}?{}", kept.join("&")),
            TlsChoice { mode, root_cert },
        ))
    }

    /// The connector to hand tokio-postgres, or `None` for a plain connection. Reads the
    /// root certificates, so a bad `sslrootcert` is reported before connecting.
    pub fn connector(&self) -> Result<Option<MakeRustlsConnect>> {
        let Some((_, check)) = self.mode else {
            return Ok(None);
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                    .with_context(|| format!("cannot read sslrootcert `{}`", path.display()))?
                    .collect::<Result<_, _>>()
                    .with_context(|| {
                        format!(
                            "sslrootcert `{}` is not a PEM certificate file",
                            path.display()
                        )
                    })?;
                if certs.is_empty() {
                    bail!("sslrootcert `{}` holds no certificate", path.display());
                }
                for c in certs {
                    roots.add(c).with_context(|| {
                        format!(
                            "sslrootcert `{}` holds an unusable certificate",
                            path.display()
                        )
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let verifier: Arc<dyn ServerCertVerifier> = match check {
            Check::ChainAndName => {
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .context("cannot set up certificate verification")?
            }
            Check::Chain => Arc::new(WithoutName {
                roots: Some(Arc::new(roots)),
                provider: provider.clone(),
            }),
            Check::Nothing => Arc::new(WithoutName {
                roots: None,
                provider: provider.clone(),
            }),
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Some(MakeRustlsConnect::new(config)))
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The verifier for the modes that never compare the host name: `verify-ca` (and `require`
/// with `sslrootcert`), where the chain must lead to one of `roots`, and `prefer` /
/// `require`, where with no `roots` the certificate is neither trusted nor refused. Either
/// way the handshake signature is checked, so the peer holds the certificate's key.
#[derive(Debug)]
struct WithoutName {
    roots: Option<Arc<RootCertStore>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for WithoutName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            verify_server_cert_signed_by_trust_anchor(
                &rustls::server::ParsedCertificate::try_from(end_entity)?,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_taken_out_and_mapped_for_tokio_postgres() {
        let (rest, t) =
            TlsChoice::from_url("postgres://u@h/db?sslmode=verify-full&connect_timeout=3").unwrap();
        assert_eq!(rest, "postgres://u@h/db?connect_timeout=3&sslmode=require");
        assert_eq!(t.mode.unwrap().1, Check::ChainAndName);
        let (rest, t) = TlsChoice::from_url("postgres://u@h/db").unwrap();
        assert_eq!(rest, "postgres://u@h/db?sslmode=prefer");
        assert_eq!(t.mode.unwrap().1, Check::Nothing);
        let (_, t) =
            TlsChoice::from_url("postgres://u@h/db?sslmode=require&sslrootcert=%2Ftmp%2Fca.pem")
                .unwrap();
        assert_eq!(t.mode.unwrap().1, Check::Chain);
        assert_eq!(t.root_cert.unwrap(), PathBuf::from("/tmp/ca.pem"));
        let (rest, t) = TlsChoice::from_url("postgres://u@h/db?sslmode=disable").unwrap();
        assert!(t.mode.is_none() && rest.ends_with("sslmode=disable"));
    }

    #[test]
    fn unknown_modes_and_client_certificates_are_refused() {
        let e = TlsChoice::from_url("postgres://u@h/db?sslmode=allow")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown sslmode `allow`") && e.contains("verify-full"),
            "{e}"
        );
        assert!(TlsChoice::from_url("postgres://u@h/db?sslcert=/x").is_err());
    }

    #[test]
    fn a_missing_root_certificate_file_is_named() {
        let (_, t) = TlsChoice::from_url(
            "postgres://u@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
        )
        .unwrap();
        let e = format!("{:#}", t.connector().err().expect("refused"));
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
