//! Registry credentials, kept in the Docker `config.json` format in the file Helm uses, so a
//! `registry login` by either tool serves both.
//!
//! The file is `$STOKE_REGISTRY_CONFIG`, else `$HELM_REGISTRY_CONFIG`, else
//! `$HELM_CONFIG_HOME/registry/config.json`, else `$XDG_CONFIG_HOME/helm/registry/config.json`
//! (`~/.config/helm/registry/config.json`). It is written with mode 0600. When the file
//! names a Docker credential helper (`credsStore`, `credHelpers`), logins go through it
//! instead ([`super::helpers`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;

/// Where registry credentials are stored.
pub fn config_path() -> Result<PathBuf> {
    for var in ["STOKE_REGISTRY_CONFIG", "HELM_REGISTRY_CONFIG"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(v));
        }
    }
    if let Some(v) = std::env::var_os("HELM_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(v).join("registry/config.json"));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(v) if Path::new(&v).is_absolute() => PathBuf::from(v),
        _ => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".config"))
            .context("cannot find the home folder: set HOME or STOKE_REGISTRY_CONFIG")?,
    };
    Ok(base.join("helm/registry/config.json"))
}

fn load(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Default::default()),
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(serde_json::Value::Object(m)) => Ok(m),
            Ok(_) => bail!(
                "`{}` is not a JSON object (fix or delete it)",
                path.display()
            ),
            Err(e) => bail!(
                "`{}` is not valid JSON: {e} (fix or delete it)",
                path.display()
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

fn save(path: &Path, doc: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    crate::transport::write_private(path, text.as_bytes())
}

/// Where a login is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keeper {
    /// In the `auths` of the config file.
    File(PathBuf),
    /// In a credential helper the config file names.
    Helper(super::helpers::Helper, PathBuf),
}

impl std::fmt::Display for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Keeper::File(p) => write!(f, "{}", p.display()),
            Keeper::Helper(h, p) => write!(f, "{}", h.describe(p)),
        }
    }
}

/// The host part of a config key: `https://host:5000/v1/` and `host:5000` both give
/// `host:5000`, as Docker writes either.
pub fn bare_host(key: &str) -> &str {
    key.trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
}

/// Records the login of `host` (`HOST[:PORT]`): through the credential helper the file
/// names for it, else in the file.
pub fn save_login(path: &Path, host: &str, user: &str, password: &str) -> Result<Keeper> {
    if let Some(helper) = super::helpers::for_host(&load(path)?, host) {
        super::helpers::store(&helper, path, host, user, password)?;
        return Ok(Keeper::Helper(helper, path.to_path_buf()));
    }
    store(path, host, user, password)?;
    Ok(Keeper::File(path.to_path_buf()))
}

/// Forgets the login of `host` wherever it is kept (its helper and the file's `auths`);
/// None when there was none.
pub fn forget_login(path: &Path, host: &str) -> Result<Option<Keeper>> {
    let helper = super::helpers::for_host(&load(path)?, host);
    let in_helper = match &helper {
        Some(h) => super::helpers::erase(h, path, host)?,
        None => false,
    };
    let in_file = remove(path, host)?;
    Ok(match helper {
        Some(h) if in_helper => Some(Keeper::Helper(h, path.to_path_buf())),
        _ if in_file => Some(Keeper::File(path.to_path_buf())),
        _ => None,
    })
}

/// Records `user`/`password` for `host` (`HOST[:PORT]`) in the file's `auths`.
pub fn store(path: &Path, host: &str, user: &str, password: &str) -> Result<()> {
    let mut doc = load(path)?;
    let auths = doc
        .entry("auths")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    let Some(auths) = auths.as_object_mut() else {
        bail!(
            "`auths` in `{}` is not an object (fix or delete the file)",
            path.display()
        );
    };
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    auths.insert(host.to_string(), serde_json::json!({ "auth": token }));
    save(path, &doc)
}

/// Forgets the credentials of `host`; false when there were none.
pub fn remove(path: &Path, host: &str) -> Result<bool> {
    let mut doc = load(path)?;
    let removed = doc
        .get_mut("auths")
        .and_then(|a| a.as_object_mut())
        .and_then(|a| a.remove(host))
        .is_some();
    if removed {
        save(path, &doc)?;
    }
    Ok(removed)
}

/// The stored user and password for `host`, if any: from the credential helper the file
/// names for it (which then decides alone, as with Docker), else from `auths`. Entries may
/// be keyed by the bare host or by a URL (`https://host/`), as Docker writes some.
pub fn lookup(path: &Path, host: &str) -> Result<Option<(String, String)>> {
    let doc = load(path)?;
    if let Some(helper) = super::helpers::for_host(&doc, host) {
        return super::helpers::get(&helper, path, host);
    }
    let Some(auths) = doc.get("auths").and_then(|a| a.as_object()) else {
        return Ok(None);
    };
    let entry = auths.iter().find(|(k, _)| bare_host(k) == host);
    let Some((key, entry)) = entry else {
        return Ok(None);
    };
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .with_context(|| {
                format!(
                    "the credentials for `{key}` in `{}` are not valid base64 of USER:PASSWORD; log in again",
                    path.display()
                )
            })?;
        let Some((u, p)) = decoded.split_once(':') else {
            bail!(
                "the credentials for `{key}` in `{}` are not USER:PASSWORD; log in again",
                path.display()
            );
        };
        return Ok(Some((u.to_string(), p.to_string())));
    }
    let field = |n: &str| entry.get(n).and_then(|v| v.as_str()).map(str::to_string);
    Ok(field("username").zip(field("password")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_in_docker_format_and_stay_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry/config.json");
        store(&path, "127.0.0.1:5000", "ci", "s3:cret").unwrap();
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["auths"]["127.0.0.1:5000"]["auth"], "Y2k6czM6Y3JldA==");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            lookup(&path, "127.0.0.1:5000").unwrap(),
            Some(("ci".into(), "s3:cret".into()))
        );
        assert!(remove(&path, "127.0.0.1:5000").unwrap());
        assert_eq!(lookup(&path, "127.0.0.1:5000").unwrap(), None);
        assert!(!remove(&path, "127.0.0.1:5000").unwrap());
    }
}
