//! `registry login`: checks credentials against the registry before storing them.
//!
//! oci-client authenticates lazily per repository and has no "ping" of its own, so the
//! check is the Docker login handshake done here: `GET /v2/` with the credentials; a
//! `WWW-Authenticate: Bearer` challenge sends them to the named token service instead,
//! whose answer decides.

use anyhow::{Context, Result, bail};
use base64::Engine as _;

use crate::transport::TransportOptions;

/// Parameters of a `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `Basic` or `Bearer` (as sent).
    pub scheme: String,
    /// `realm`, `service`, `scope`, ... in order.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `Scheme k="v", k2=v2`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        params.push((key.trim().to_string(), value.to_string()));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        scheme: scheme.to_string(),
        params,
    })
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Checks `user`/`password` against the registry at `host` (`HOST[:PORT]`).
pub fn check_credentials(
    host: &str,
    user: &str,
    password: &str,
    opts: &TransportOptions,
) -> Result<()> {
    let agent = crate::transport::agent(opts)?;
    let scheme = if opts.plain_http { "http" } else { "https" };
    let url = format!("{scheme}://{host}/v2/");
    let resp = agent
        .get(&url)
        .header("Authorization", basic(user, password))
        .call()
        .map_err(|e| unreachable(host, &url, e, opts))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    if status != 401 {
        bail!("registry {host} answered {status} to {url}; is it an OCI registry?");
    }
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_challenge);
    match challenge {
        Some(c) if c.scheme.eq_ignore_ascii_case("bearer") => {
            let realm = c.param("realm").with_context(|| {
                format!("registry {host} sent a Bearer challenge without a realm")
            })?;
            let mut req = agent
                .get(realm)
                .header("Authorization", basic(user, password))
                .query("account", user);
            if let Some(service) = c.param("service") {
                req = req.query("service", service);
            }
            let token = req.call().map_err(|e| unreachable(host, realm, e, opts))?;
            match token.status().as_u16() {
                200..=299 => Ok(()),
                401 | 403 => bail!(
                    "registry {host} refused the credentials of `{user}` (its token service {realm} answered {}): check the user name and password",
                    token.status().as_u16()
                ),
                s => bail!("the token service {realm} of registry {host} answered {s}"),
            }
        }
        _ => bail!(
            "registry {host} refused the credentials of `{user}` (401 Unauthorized): check the user name and password"
        ),
    }
}

fn unreachable(host: &str, url: &str, e: ureq::Error, opts: &TransportOptions) -> anyhow::Error {
    let mut text = e.to_string().to_lowercase();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}").to_lowercase());
        source = s.source();
    }
    if crate::transport::refused_client_certificate(&text) {
        let hint = crate::transport::client_certificate_hint(host, opts);
        return anyhow::Error::new(e)
            .context(format!("cannot reach registry {host} at {url}: {hint}"));
    }
    let tls = matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
        || text.contains("certificate")
        || text.contains("tls")
        || text.contains("handshake");
    let hint = if tls {
        " (TLS failed: pass the registry's CA with --ca-file, --insecure-skip-tls-verify for a test registry, or --plain-http for a plain-HTTP registry)"
    } else if !opts.plain_http {
        " (is it running and is the address right? a plain-HTTP registry needs --plain-http)"
    } else {
        " (is it running and is the address right?)"
    };
    anyhow::Error::new(e).context(format!("cannot reach registry {host} at {url}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_parsed_with_quoted_and_bare_values() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com", scope=repository:a/b:pull"#,
        )
        .unwrap();
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c.param("service"), Some("registry.example.com"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull"));
        let b = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(b.scheme, "Basic");
    }
}
