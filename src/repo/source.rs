//! Chart references wherever a chart is read: a folder, a `.tgz`, `REPO/NAME`, an
//! `http(s)://` URL of a package, or `oci://HOST/PATH/NAME` (with a version constraint, a
//! tag or `@sha256:DIGEST`). Remote charts are downloaded into the cache, optionally checked
//! against their provenance file, and handed on as a local package path.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Paths, RepoFile, fetch};
use crate::transport::TransportOptions;

/// How to find and trust a chart reference.
#[derive(Debug, Clone, Default)]
pub struct ChartSource {
    /// Version constraint for repository and registry charts.
    pub constraint: Option<String>,
    /// Consider pre-releases when no constraint is given.
    pub devel: bool,
    /// Registry/repository connection options.
    pub transport: TransportOptions,
    /// Check the chart against its provenance file with the public keys in this keyring.
    pub verify_keyring: Option<PathBuf>,
}

/// The kinds of chart reference.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartRef {
    /// A folder or package on disk.
    Local(PathBuf),
    /// `REPO/NAME` from a configured repository.
    Repo(String),
    /// An `http(s)://` URL of a package.
    Url(String),
    /// An `oci://` reference.
    Oci(crate::oci::OciRef),
}

impl ChartRef {
    /// Classifies `text`; an existing path always wins.
    pub fn parse(text: &str) -> Result<ChartRef> {
        if crate::oci::is_oci(text) {
            return Ok(ChartRef::Oci(crate::oci::OciRef::parse(text)?));
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(ChartRef::Url(text.to_string()));
        }
        if Path::new(text).exists() {
            return Ok(ChartRef::Local(PathBuf::from(text)));
        }
        if super::split_reference(text).is_ok() {
            return Ok(ChartRef::Repo(text.to_string()));
        }
        Ok(ChartRef::Local(PathBuf::from(text)))
    }
}

/// A chart fetched to local disk.
#[derive(Debug, Clone)]
pub struct Located {
    /// The local path (folder or package).
    pub path: PathBuf,
    /// The provenance check, when one was asked for.
    pub verification: Option<crate::provenance::Verification>,
}

/// Resolves `reference` to a local chart path, downloading and verifying as needed.
pub fn locate(reference: &Path, source: &ChartSource) -> Result<Located> {
    let text = reference.to_string_lossy();
    match ChartRef::parse(&text)? {
        ChartRef::Local(path) => {
            if let Some(ring) = &source.verify_keyring {
                if path.is_dir() {
                    bail!(
                        "--verify checks a packaged chart against its .prov file; `{}` is a folder (package and sign it first)",
                        path.display()
                    );
                }
                let v = crate::provenance::verify_file(&path, None, ring)?;
                return Ok(Located {
                    path,
                    verification: Some(v),
                });
            }
            Ok(Located {
                path,
                verification: None,
            })
        }
        ChartRef::Repo(r) => {
            let paths = Paths::from_env()?;
            let (repo_name, _) = super::split_reference(&r)?;
            let file = RepoFile::load(&paths.config)?;
            let repo = match file.get(repo_name) {
                Ok(repo) => repo.clone(),
                Err(_) => bail!(
                    "`{r}` is neither a chart folder or package nor a chart in a configured repository (there is no repository named `{repo_name}`; add one with `stoke repo add {repo_name} URL`)"
                ),
            };
            let d = super::fetch_chart(&paths, &r, source.constraint.as_deref(), source.devel)?;
            let prov = match &source.verify_keyring {
                Some(_) => Some(fetch_prov(
                    &d.url,
                    &repo.transport(),
                    repo.may_send_credentials(&d.url),
                )?),
                None => None,
            };
            save(
                &paths,
                &format!("{}-{}.tgz", d.entry.metadata.name, d.entry.metadata.version),
                &d.bytes,
                prov.as_deref(),
                source,
            )
        }
        ChartRef::Url(url) => {
            let paths = Paths::from_env()?;
            let (opts, send) = url_transport(&paths, &url, &source.transport)?;
            let bytes = fetch::fetch_with(
                &url,
                fetch::MAX_PACKAGE_SIZE,
                &format!("chart {url}"),
                &opts,
                send,
            )?;
            let meta = crate::package::index::package_metadata(&bytes, Path::new(&url))?;
            let prov = match &source.verify_keyring {
                Some(_) => Some(fetch_prov(&url, &opts, send)?),
                None => None,
            };
            // The provenance file names the package as it was published.
            let published = url
                .rsplit('/')
                .next()
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("");
            let name = if published.ends_with(".tgz") {
                published.to_string()
            } else {
                format!("{}-{}.tgz", meta.name, meta.version)
            };
            save(&paths, &name, &bytes, prov.as_deref(), source)
        }
        ChartRef::Oci(r) => {
            let paths = Paths::from_env()?;
            let pulled = crate::oci::pull(
                &r,
                source.constraint.as_deref(),
                source.devel,
                &source.transport,
            )?;
            let prov = match (&source.verify_keyring, &pulled.prov) {
                (Some(_), None) => bail!(
                    "{} has no provenance layer, so --verify cannot check it (sign the package and push it with its .prov)",
                    pulled.reference
                ),
                (_, p) => p.clone(),
            };
            save(
                &paths,
                &pulled.file_name(),
                &pulled.bytes,
                prov.as_deref(),
                source,
            )
        }
    }
}

/// Credentials and TLS for a package URL: the command line's, else those of a configured
/// repository the URL belongs to.
fn url_transport(
    paths: &Paths,
    url: &str,
    given: &TransportOptions,
) -> Result<(TransportOptions, bool)> {
    if given.credentials().is_some()
        || given.ca_file.is_some()
        || given.insecure_skip_tls_verify
        || given.cert_file.is_some()
    {
        return Ok((given.clone(), true));
    }
    let file = RepoFile::load(&paths.config)?;
    let owner = file
        .repositories
        .iter()
        .find(|r| url.starts_with(&format!("{}/", r.url.trim_end_matches('/'))));
    Ok(match owner {
        Some(r) => (r.transport(), r.may_send_credentials(url)),
        None => (given.clone(), false),
    })
}

fn fetch_prov(package_url: &str, opts: &TransportOptions, send: bool) -> Result<Vec<u8>> {
    let url = format!("{package_url}.prov");
    fetch::fetch_with(
        &url,
        1024 * 1024,
        &format!("provenance file {url}"),
        opts,
        send,
    )
    .with_context(|| {
        format!("--verify needs the package's provenance file, and {url} could not be downloaded")
    })
}

/// Keeps a downloaded chart (and its .prov) in the cache, after checking the provenance
/// when asked.
fn save(
    paths: &Paths,
    file_name: &str,
    bytes: &[u8],
    prov: Option<&[u8]>,
    source: &ChartSource,
) -> Result<Located> {
    let verification = match (&source.verify_keyring, prov) {
        (Some(ring), Some(p)) => Some(crate::provenance::verify(
            bytes,
            file_name,
            &String::from_utf8_lossy(p),
            ring,
        )?),
        (Some(_), None) => bail!("{file_name} has no provenance file, so --verify cannot check it"),
        (None, _) => None,
    };
    let dir = paths.cache.join("charts");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let target = dir.join(file_name);
    crate::fsutil::AtomicWrite::PUBLIC.write(&target, bytes)?;
    if let Some(p) = prov {
        crate::fsutil::AtomicWrite::PUBLIC.write(&crate::provenance::prov_path(&target), p)?;
    }
    Ok(Located {
        path: target,
        verification,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_classified_by_form() {
        assert!(matches!(
            ChartRef::parse("oci://h:5000/charts/gw").unwrap(),
            ChartRef::Oci(_)
        ));
        assert_eq!(
            ChartRef::parse("https://h/gw-1.0.0.tgz").unwrap(),
            ChartRef::Url("https://h/gw-1.0.0.tgz".into())
        );
        assert_eq!(
            ChartRef::parse("no-such-repo/gw").unwrap(),
            ChartRef::Repo("no-such-repo/gw".into())
        );
        assert_eq!(
            ChartRef::parse("src").unwrap(),
            ChartRef::Local(PathBuf::from("src"))
        );
    }
}
