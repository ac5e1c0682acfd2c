//! A release's identity and its small index: [`ReleaseKey`] (validated namespace and
//! name), [`Head`], and the record [`FORMAT_VERSION`].

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::Summary;

/// The record format version this stoke reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A release's identity: namespace and name, both validated as DNS-safe so they can name
/// folders and Kubernetes objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReleaseKey {
    /// Namespace (a DNS-1123 label).
    pub namespace: String,
    /// Release name (Helm's rule: DNS-1123 subdomain of at most 53 characters).
    pub name: String,
}

impl ReleaseKey {
    /// Validates and builds a key.
    pub fn new(namespace: &str, name: &str) -> Result<ReleaseKey> {
        validate_release_name(name)?;
        validate_namespace(namespace)?;
        Ok(ReleaseKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for ReleaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Longest release name Helm accepts (names end up in labels together with suffixes).
pub const MAX_RELEASE_NAME: usize = 53;

fn dns_label_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Checks a release name the way Helm does: lowercase letters, digits, `-` and `.`,
/// starting and ending with a letter or digit, at most 53 characters.
pub fn validate_release_name(name: &str) -> Result<()> {
    let ok =
        !name.is_empty() && name.len() <= MAX_RELEASE_NAME && name.split('.').all(dns_label_ok);
    if !ok {
        bail!(
            "invalid release name `{name}`: use at most {MAX_RELEASE_NAME} lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit (e.g. `gateway-1`)"
        );
    }
    Ok(())
}

/// Checks a namespace: a DNS-1123 label of at most 63 characters.
pub fn validate_namespace(ns: &str) -> Result<()> {
    if ns.len() > 63 || !dns_label_ok(ns) {
        bail!(
            "invalid namespace `{ns}`: use at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
        );
    }
    Ok(())
}

/// The small per-release index: enough for `list`, `status` and the start of `upgrade`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// The release.
    #[serde(flatten)]
    pub key: ReleaseKey,
    /// Highest revision number written.
    pub latest: u64,
    /// The revision whose status is `deployed`, if any. Writers update it only after the
    /// revisions themselves, so it doubles as the commit mark of a supersede (see
    /// docs/store.md).
    pub deployed: Option<u64>,
    /// Summary of the latest revision.
    pub summary: Summary,
}

impl Head {
    /// `head` moved on to revision `latest` with `summary`, or a new head for `key` that
    /// knows of no deployed revision: how a store accounts for revisions written after its
    /// head (a crash between the two writes leaves them).
    pub fn advanced(head: Option<Head>, key: &ReleaseKey, latest: u64, summary: Summary) -> Head {
        match head {
            Some(mut h) => {
                h.latest = latest;
                h.summary = summary;
                h
            }
            None => Head {
                key: key.clone(),
                latest,
                deployed: None,
                summary,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_follow_helms_rule() {
        for ok in ["gw", "gateway-1", "a.b", "x".repeat(53).as_str()] {
            assert!(validate_release_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Gateway",
            "-gw",
            "gw-",
            "a..b",
            "a/b",
            "..",
            "gw_1",
            "x".repeat(54).as_str(),
        ] {
            let err = validate_release_name(bad).unwrap_err().to_string();
            assert!(err.contains("invalid release name"), "{bad}: {err}");
        }
    }

    #[test]
    fn namespaces_are_dns_labels() {
        assert!(validate_namespace("default").is_ok());
        assert!(validate_namespace("kube.system").is_err());
        assert!(validate_namespace("../etc").is_err());
    }
}
