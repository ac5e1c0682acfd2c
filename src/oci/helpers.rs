//! Docker credential helpers: programs named `docker-credential-NAME` that keep registry
//! logins in a system keychain instead of the config file. A config file names them with
//! `credsStore` (one helper for every registry) or `credHelpers` (`{"HOST": "NAME"}`, which
//! wins for its host), as Docker, Helm and oras do.
//!
//! The protocol is the helpers' own: the action is the only argument (`get`, `store`,
//! `erase`); `get` and `erase` read the registry host on standard input, `store` reads
//! `{"ServerURL", "Username", "Secret"}`; `get` answers with the same JSON. A helper that
//! has nothing for a host says `credentials not found in native keychain` and fails.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// What a helper prints when it holds nothing for the host.
const NOT_FOUND: &str = "credentials not found";

/// A credential helper chosen for one registry host by a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    /// `NAME` of `docker-credential-NAME`.
    pub name: String,
    /// The config key that chose it (`credsStore` or `credHelpers`), for messages.
    pub key: &'static str,
}

impl Helper {
    /// The program run: `docker-credential-NAME`.
    pub fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// Where the helper was configured, for messages: "`docker-credential-pass` (credsStore
    /// in `/home/u/.config/helm/registry/config.json`)".
    pub fn describe(&self, config: &Path) -> String {
        format!(
            "credential helper `{}` ({} in `{}`)",
            self.program(),
            self.key,
            config.display()
        )
    }
}

/// The helper a config document assigns to `host`: its `credHelpers` entry, else
/// `credsStore`, else none (the logins then live in `auths`).
pub fn for_host(doc: &serde_json::Map<String, serde_json::Value>, host: &str) -> Option<Helper> {
    let named = |v: &serde_json::Value| {
        v.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    if let Some(name) = doc
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| super::credentials::bare_host(k) == host)
                .and_then(|(_, v)| named(v))
        })
    {
        return Some(Helper {
            name,
            key: "credHelpers",
        });
    }
    doc.get("credsStore").and_then(named).map(|name| Helper {
        name,
        key: "credsStore",
    })
}

/// What a helper run produced.
struct Outcome {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn not_found(&self) -> bool {
        !self.ok && (self.stdout.contains(NOT_FOUND) || self.stderr.contains(NOT_FOUND))
    }

    fn message(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            self.stdout.trim()
        } else {
            self.stderr.trim()
        };
        if text.is_empty() {
            "it failed without a message".to_string()
        } else {
            text.to_string()
        }
    }
}

fn run(helper: &Helper, config: &Path, action: &str, input: &[u8]) -> Result<Outcome> {
    let program = helper.program();
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "is not on PATH: install it, or remove the entry from the file".to_string()
            } else {
                format!("cannot be started: {e}")
            };
            anyhow::anyhow!("{} {why}", helper.describe(config))
        })?;
    // A helper that exits without reading its input is answered by its exit status.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("{} did not finish", helper.describe(config)))?;
    Ok(Outcome {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The helper's answer to `get`.
#[derive(serde::Deserialize)]
struct Stored {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// `get`: the user and secret the helper keeps for `host`, or None when it has none.
pub fn get(helper: &Helper, config: &Path, host: &str) -> Result<Option<(String, String)>> {
    let out = run(helper, config, "get", host.as_bytes())?;
    if out.not_found() {
        return Ok(None);
    }
    if !out.ok {
        bail!(
            "{} could not read the login of {host}: {}",
            helper.describe(config),
            out.message()
        );
    }
    let stored: Stored = serde_json::from_str(out.stdout.trim()).with_context(|| {
        format!(
            "{} answered `get {host}` with something that is not its JSON ({{\"Username\", \"Secret\"}})",
            helper.describe(config)
        )
    })?;
    if stored.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((stored.username, stored.secret)))
}

/// `store`: hands the login of `host` to the helper.
pub fn store(helper: &Helper, config: &Path, host: &str, user: &str, secret: &str) -> Result<()> {
    let input = serde_json::json!({ "ServerURL": host, "Username": user, "Secret": secret });
    let out = run(helper, config, "store", input.to_string().as_bytes())?;
    if !out.ok {
        bail!(
            "{} could not store the login of {host}: {}",
            helper.describe(config),
            out.message()
        );
    }
    Ok(())
}

/// `erase`: makes the helper forget `host`; false when it held nothing for it.
pub fn erase(helper: &Helper, config: &Path, host: &str) -> Result<bool> {
    let out = run(helper, config, "erase", host.as_bytes())?;
    if out.not_found() {
        return Ok(false);
    }
    if !out.ok {
        bail!(
            "{} could not erase the login of {host}: {}",
            helper.describe(config),
            out.message()
        );
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_host_helper_wins_over_the_store_and_blank_names_count_as_none() {
        let d = doc(
            r#"{"credsStore": "pass", "credHelpers": {"https://reg.example.com": "ecr-login", "other:5000": " "}}"#,
        );
        assert_eq!(
            for_host(&d, "reg.example.com"),
            Some(Helper {
                name: "ecr-login".into(),
                key: "credHelpers"
            })
        );
        assert_eq!(for_host(&d, "other:5000").unwrap().name, "pass");
        assert_eq!(for_host(&doc(r#"{"credsStore": ""}"#), "x"), None);
        assert_eq!(for_host(&doc("{}"), "x"), None);
    }
}
