//! Getting bytes from a location (repository indexes, packages, values files): `http(s)://`
//! URLs through a blocking client with timeouts and a size limit, `file://` URLs and plain
//! paths from disk. A leaf module, so both repo/ and values/ can use it.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Largest chart package downloaded, in bytes. The archive reader then applies its own,
/// inflated, limits.
pub(crate) const MAX_PACKAGE_SIZE: u64 = 100 * 1024 * 1024;

/// Where a repository location points.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// An `http://` or `https://` URL.
    Http(String),
    /// A local folder or file (from `file://` or a plain path).
    File(PathBuf),
}

/// Classifies a repository URL or path. Other schemes (oci://, ftp://) are refused.
pub(crate) fn location(url: &str) -> Result<Location> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(Location::Http(url.to_string()))
    } else if let Some(path) = url.strip_prefix("file://") {
        Ok(Location::File(PathBuf::from(path)))
    } else if let Some((scheme, _)) = url.split_once("://") {
        bail!(
            "`{url}`: the `{scheme}://` scheme is not supported; use http://, https://, file:// or a folder path"
        )
    } else {
        Ok(Location::File(PathBuf::from(url)))
    }
}

/// Joins a repository base and a (possibly relative) URL from its index.
///
/// An index is untrusted input: an HTTP repository may point at any http(s) address, but
/// never at the local disk (`file://` or an absolute path, which would let a remote index
/// read local files); a leading `/` is relative to the server's root.
pub fn join(base: &str, url: &str) -> Result<String> {
    let remote_base = matches!(location(base)?, Location::Http(_));
    if let Some((scheme, _)) = url.split_once("://") {
        return match scheme {
            "http" | "https" => Ok(url.to_string()),
            "file" if !remote_base => Ok(url.to_string()),
            _ => bail!(
                "the index of {base} points at `{url}`; only http(s) URLs{} are allowed there",
                if remote_base { "" } else { " and files" }
            ),
        };
    }
    if let Some(rooted) = url.strip_prefix('/') {
        if remote_base {
            let after_scheme = base.split_once("://").map_or(base, |(_, r)| r);
            let host_end = after_scheme.find('/').unwrap_or(after_scheme.len());
            let origin_len = base.len() - after_scheme.len() + host_end;
            return Ok(format!("{}/{rooted}", &base[..origin_len]));
        }
        return Ok(url.to_string());
    }
    Ok(format!(
        "{}/{}",
        base.trim_end_matches('/'),
        url.trim_start_matches("./")
    ))
}

/// Reads everything at `url` (at most `limit` bytes). `what` names the thing in messages
/// and progress ("index of repository `x`").
pub(crate) fn fetch(url: &str, limit: u64, what: &str) -> Result<Vec<u8>> {
    match location(url)? {
        Location::File(path) => {
            let meta = std::fs::metadata(&path)
                .with_context(|| format!("cannot read {what} at `{}`", path.display()))?;
            if meta.len() > limit {
                bail!(
                    "{what} at `{}` is {} bytes, over the {limit}-byte limit",
                    path.display(),
                    meta.len()
                );
            }
            std::fs::read(&path)
                .with_context(|| format!("cannot read {what} at `{}`", path.display()))
        }
        Location::Http(url) => fetch_http(&agent(), None, &url, limit, what),
    }
}

/// [`fetch`] with connection options and credentials (`opts`); credentials are sent only
/// when `send_credentials` allows it for this URL.
pub fn fetch_with(
    url: &str,
    limit: u64,
    what: &str,
    opts: &crate::transport::TransportOptions,
    send_credentials: bool,
) -> Result<Vec<u8>> {
    match location(url)? {
        Location::File(_) => fetch(url, limit, what),
        Location::Http(url) => {
            let auth = opts
                .credentials()
                .filter(|_| send_credentials)
                .map(|(u, p)| {
                    use base64::Engine as _;
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                    )
                });
            fetch_http(
                &crate::transport::agent(opts)?,
                auth.as_deref(),
                &url,
                limit,
                what,
            )
        }
    }
}

/// `scheme://host[:port]` of a URL, for deciding where credentials may go.
pub fn origin(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let host_end = after_scheme.find('/').unwrap_or(after_scheme.len());
    &url[..url.len() - after_scheme.len() + host_end]
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .user_agent(concat!("stoke/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn fetch_http(
    agent: &ureq::Agent,
    authorization: Option<&str>,
    url: &str,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>> {
    let mut req = agent.get(url);
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let mut resp = match req.call() {
        Ok(r) => r,
        Err(e) => {
            let text = e.to_string().to_lowercase();
            let hint = if text.contains("certificate") || text.contains("tls") {
                "TLS failed: trust the server's CA with --ca-file, or give a client certificate with --cert-file/--key-file if it demands one"
            } else {
                "is the address right and reachable?"
            };
            return Err(anyhow::Error::new(e))
                .with_context(|| format!("cannot download {what} from {url} ({hint})"));
        }
    };
    let status = resp.status();
    if status.as_u16() == 401 {
        bail!(
            "cannot download {what} from {url}: the server answered 401 Unauthorized; {}",
            if authorization.is_some() {
                "the user name or password is wrong"
            } else {
                "it needs credentials (add the repository with --username and --password-stdin; a login is sent only to the repository's own host unless it was added with --pass-credentials)"
            }
        );
    }
    if !status.is_success() {
        bail!(
            "cannot download {what} from {url}: the server answered {}{}",
            status.as_u16(),
            status
                .canonical_reason()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        );
    }
    let expected = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // With a content encoding the length counts encoded bytes, not what the reader yields.
    let encoded = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"));
    if let Some(len) = expected
        && len > limit
    {
        bail!("{what} at {url} is {len} bytes, over the {limit}-byte limit; not downloading it");
    }
    // One byte over the limit is enough to know it is too large.
    let mut reader = resp.body_mut().with_config().limit(limit + 1).reader();
    let mut out = Vec::with_capacity(expected.unwrap_or(0).min(limit) as usize);
    let mut buf = vec![0u8; 64 * 1024];
    // The transfer's line is closed however the loop ends.
    let _end = TransferGuard(what.to_string());
    loop {
        let n = reader.read(&mut buf).with_context(|| {
            format!("download of {what} from {url} failed before it finished; try again")
        })?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() as u64 > limit {
            bail!("{what} at {url} is larger than the {limit}-byte limit; download stopped");
        }
        crate::progress::report(crate::progress::Event::Transfer {
            what: what.to_string(),
            done: out.len() as u64,
            total: expected,
        });
    }
    if let Some(len) = expected
        && !encoded
        && (out.len() as u64) < len
    {
        bail!(
            "download of {what} from {url} ended early ({} of {len} bytes)",
            out.len()
        );
    }
    Ok(out)
}

/// Reports the end of a transfer when dropped, so a failed download leaves no live line.
struct TransferGuard(String);

impl Drop for TransferGuard {
    fn drop(&mut self) {
        crate::progress::report(crate::progress::Event::TransferEnd {
            what: std::mem::take(&mut self.0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_join_the_repository_base() {
        assert_eq!(
            join("http://h/charts/", "a-1.0.0.tgz").unwrap(),
            "http://h/charts/a-1.0.0.tgz"
        );
        assert_eq!(
            join("http://h/charts", "https://cdn/a.tgz").unwrap(),
            "https://cdn/a.tgz"
        );
        assert_eq!(
            join("https://h:8443/charts", "/dl/a.tgz").unwrap(),
            "https://h:8443/dl/a.tgz"
        );
        assert_eq!(join("/srv/repo", "/abs/a.tgz").unwrap(), "/abs/a.tgz");
    }

    #[test]
    fn a_remote_index_cannot_point_at_local_files() {
        assert!(join("http://h/charts", "file:///etc/passwd").is_err());
        assert!(join("http://h/charts", "ftp://h/a.tgz").is_err());
        assert!(join("file:///srv/repo", "file:///srv/other/a.tgz").is_ok());
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(location("oci://registry/charts").is_err());
        assert_eq!(
            location("file:///srv/charts").unwrap(),
            Location::File(PathBuf::from("/srv/charts"))
        );
    }
}
