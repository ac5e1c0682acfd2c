//! Where a release store lives: the one place that turns `--store` / `STOKE_STORE` text
//! into a backend, and refuses anything it does not recognise (a typo such as
//! `--store htp://db` must never become a local folder named `htp:`).

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::Store;

/// The forms `--store` accepts, for error messages and help.
pub const ACCEPTED: &str = "a folder path or file://PATH (the file store), `kubernetes` (Secrets in the release's namespace), or postgres://USER@HOST:PORT/DB?sslmode=MODE (PostgreSQL)";

/// A parsed store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file store rooted at this folder.
    File(PathBuf),
    /// Secrets in the cluster of the current kubeconfig.
    Kubernetes,
    /// A PostgreSQL database; the text is the connection URL as given.
    Postgres(String),
}

impl Location {
    /// Parses `text`. A bare path (no `SCHEME://`) is a folder, except the word
    /// `kubernetes`; a folder of that name is written `./kubernetes`.
    pub fn parse(text: &str) -> Result<Location> {
        if text.is_empty() {
            bail!("the store location is empty: use {ACCEPTED}");
        }
        if text == "kubernetes" {
            return Ok(Location::Kubernetes);
        }
        let Some((scheme, rest)) = split_scheme(text) else {
            return Ok(Location::File(PathBuf::from(text)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                // file:///abs and file://rel are both taken at their word; a host part
                // (file://host/path) is not something a local store can honour.
                if rest.is_empty() {
                    bail!("store location `{text}` names no folder: use file:///PATH/TO/STORE");
                }
                Ok(Location::File(PathBuf::from(rest)))
            }
            "postgres" | "postgresql" => Ok(Location::Postgres(text.to_string())),
            "kubernetes" => bail!(
                "store location `{text}`: the Kubernetes store takes no address (it uses the cluster of --kubeconfig / --kube-context); write just `kubernetes`"
            ),
            other => bail!(
                "unknown store scheme `{other}://` in `{text}`: use {ACCEPTED} (a folder whose name contains `://` cannot be a store)"
            ),
        }
    }

    /// The location as people read it in messages (a PostgreSQL password is hidden).
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Kubernetes => "kubernetes".to_string(),
            Location::Postgres(url) => redact_password(url),
        }
    }
}

/// `("postgres", "user@host/db")` for `postgres://user@host/db`; `None` when the text has
/// no `SCHEME://` prefix (RFC 3986 scheme characters).
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    Some((scheme, rest))
}

/// Hides the password of `scheme://user:password@host/...`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// The store stoke uses: `location` (text as given to `--store` / `STOKE_STORE`) when
/// there is one; otherwise the Kubernetes store when a cluster is configured (`kube`, as
/// the cluster target finds one: --kubeconfig, KUBECONFIG, ~/.kube/config or the pod's
/// service account), so the record travels with the cluster as Helm's does; otherwise the
/// default file store. Only configuration is read here, nothing is contacted.
pub fn choose(location: Option<&str>, kube: &crate::kube::KubeOptions) -> Result<Location> {
    choose_with(
        location,
        || Ok(crate::kube::config::locate(kube)?.is_some()),
    )
}

/// [`choose`] with the question "is a cluster configured?" passed in, so the rule can be
/// tested without touching the environment.
pub fn choose_with(
    location: Option<&str>,
    cluster_configured: impl FnOnce() -> Result<bool>,
) -> Result<Location> {
    match location {
        Some(text) => Location::parse(text),
        None if cluster_configured()? => Ok(Location::Kubernetes),
        None => Ok(Location::File(super::default_location()?)),
    }
}

/// Opens the store [`choose`] picks; `kube` says which cluster `kubernetes` means.
pub fn open(location: Option<&str>, kube: &crate::kube::KubeOptions) -> Result<Box<dyn Store>> {
    open_location(&choose(location, kube)?, kube)
}

/// Opens a parsed location.
pub fn open_location(
    location: &Location,
    kube: &crate::kube::KubeOptions,
) -> Result<Box<dyn Store>> {
    match location {
        Location::File(path) => Ok(Box::new(super::file::FileStore::open(path)?)),
        Location::Postgres(url) => Ok(Box::new(super::postgres::PostgresStore::open(url)?)),
        Location::Kubernetes => match crate::kube::Cluster::connect(kube)? {
            Some(cluster) => Ok(Box::new(super::kubernetes::KubeStore::new(cluster))),
            None => bail!(
                "--store kubernetes needs a cluster, and none is configured: give --kubeconfig, set KUBECONFIG, or create ~/.kube/config"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_urls_select_the_file_store() {
        for (text, path) in [
            ("store", "store"),
            ("/var/lib/stoke", "/var/lib/stoke"),
            ("./kubernetes", "./kubernetes"),
            ("file:///var/lib/stoke", "/var/lib/stoke"),
            ("FILE://rel/dir", "rel/dir"),
            ("odd:name", "odd:name"),
            ("a/b://c", "a/b://c"),
        ] {
            assert_eq!(
                Location::parse(text).unwrap(),
                Location::File(PathBuf::from(path)),
                "{text}"
            );
        }
    }

    #[test]
    fn kubernetes_and_postgres_are_recognised() {
        assert_eq!(Location::parse("kubernetes").unwrap(), Location::Kubernetes);
        for url in [
            "postgres://stoke@127.0.0.1:5432/stoke?sslmode=require",
            "postgresql://db/stoke",
        ] {
            assert_eq!(
                Location::parse(url).unwrap(),
                Location::Postgres(url.to_string())
            );
        }
    }

    #[test]
    fn any_other_scheme_is_refused_with_the_accepted_forms() {
        for text in ["http://db", "https://x/y", "s3://bucket", "mysql://h/d"] {
            let err = Location::parse(text).unwrap_err().to_string();
            assert!(err.contains("unknown store scheme"), "{err}");
            assert!(
                err.contains("postgres://") && err.contains("`kubernetes`"),
                "{err}"
            );
        }
        assert!(Location::parse("").is_err());
        assert!(Location::parse("file://").is_err());
        assert!(Location::parse("kubernetes://x").is_err());
    }

    #[test]
    fn kubernetes_is_the_default_only_when_a_cluster_is_configured() {
        let with_cluster = choose_with(None, || Ok(true)).unwrap();
        assert_eq!(with_cluster, Location::Kubernetes);
        let Location::File(_) = choose_with(None, || Ok(false)).unwrap() else {
            panic!("without a cluster the default is the file store");
        };
        // An explicit location wins, and the cluster question is then never asked.
        let asked = std::cell::Cell::new(false);
        let given = choose_with(Some("/srv/store"), || {
            asked.set(true);
            Ok(true)
        })
        .unwrap();
        assert_eq!(given, Location::File(PathBuf::from("/srv/store")));
        assert!(!asked.get());
        // A broken kubeconfig setting is reported, not silently replaced by the file store.
        let err = choose_with(None, || anyhow::bail!("--kubeconfig `x` does not exist"));
        assert!(err.is_err());
    }

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            redact_password("postgres://u:s3cret@h:5/db?sslmode=require"),
            "postgres://u:***@h:5/db?sslmode=require"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
    }
}
