//! `oci://` references: `oci://HOST[:PORT]/PATH/NAME[:TAG][@sha256:DIGEST]`.

use anyhow::{Result, bail};

/// A parsed `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// `HOST[:PORT]`.
    pub registry: String,
    /// The repository path below the registry (`PATH/NAME`).
    pub repository: String,
    /// A tag given after `:`.
    pub tag: Option<String>,
    /// A digest given after `@` (`sha256:HEX`).
    pub digest: Option<String>,
}

/// True for text that is an `oci://` reference.
pub fn is_oci(text: &str) -> bool {
    text.starts_with("oci://")
}

impl OciRef {
    /// Parses `oci://HOST[:PORT]/PATH[:TAG][@sha256:DIGEST]`.
    pub fn parse(text: &str) -> Result<OciRef> {
        let Some(rest) = text.strip_prefix("oci://") else {
            bail!("`{text}` is not an OCI reference; write it as oci://HOST[:PORT]/PATH/NAME");
        };
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) => {
                let hex = d.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    bail!(
                        "`{text}`: `@{d}` is not a digest; write @sha256: followed by 64 hex digits"
                    );
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (rest, None),
        };
        let Some((registry, path)) = rest.split_once('/') else {
            bail!("`{text}` names no repository; write it as oci://HOST[:PORT]/PATH/NAME");
        };
        if registry.is_empty() || path.is_empty() {
            bail!("`{text}` needs a host and a path: oci://HOST[:PORT]/PATH/NAME");
        }
        // A `:` after the last `/` starts a tag; one in the host is a port.
        let last = path.rsplit('/').next().unwrap_or(path);
        let (repository, tag) = match last.split_once(':') {
            Some((_, tag)) => (
                path[..path.len() - tag.len() - 1].to_string(),
                Some(tag.to_string()),
            ),
            None => (path.trim_end_matches('/').to_string(), None),
        };
        let valid = repository.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
        });
        if !valid {
            bail!(
                "`{text}`: `{repository}` is not a valid repository path (lower-case letters, digits, `.`, `_`, `-`, separated by `/`)"
            );
        }
        Ok(OciRef {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }

    /// The chart name: the last path component.
    pub fn name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// `HOST/REPOSITORY` with `:TAG` or `@DIGEST` for the registry client.
    pub fn client_reference(&self, tag: Option<&str>) -> String {
        match (&self.digest, tag.or(self.tag.as_deref())) {
            (Some(d), _) => format!("{}/{}@{d}", self.registry, self.repository),
            (None, Some(t)) => format!("{}/{}:{t}", self.registry, self.repository),
            (None, None) => format!("{}/{}", self.registry, self.repository),
        }
    }

    /// The reference for display: `oci://HOST/REPOSITORY[:TAG][@DIGEST]`.
    pub fn display(&self, tag: Option<&str>) -> String {
        format!("oci://{}", self.client_reference(tag))
    }
}

/// The tag of a chart version: OCI tags cannot hold `+`, so Helm writes `_` instead.
pub fn version_to_tag(version: &str) -> String {
    version.replace('+', "_")
}

/// The chart version a tag stands for.
pub fn tag_to_version(tag: &str) -> String {
    tag.replace('_', "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_registry_repository_tag_and_digest() {
        let r = OciRef::parse("oci://127.0.0.1:5000/charts/gw").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "charts/gw");
        assert_eq!(r.name(), "gw");
        assert_eq!(r.tag, None);
        let r = OciRef::parse("oci://reg.example.com/a/b/gw:1.2.3_build.1").unwrap();
        assert_eq!(r.repository, "a/b/gw");
        assert_eq!(r.tag.as_deref(), Some("1.2.3_build.1"));
        let d = format!("sha256:{}", "ab".repeat(32));
        let r = OciRef::parse(&format!("oci://h:1/gw@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.client_reference(None), format!("h:1/gw@{d}"));
    }

    #[test]
    fn malformed_references_are_refused_with_the_expected_form() {
        for bad in [
            "oci://host",
            "oci:///gw",
            "oci://h/Gw",
            "oci://h/gw@sha256:12",
        ] {
            let e = OciRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad.trim_start_matches("x")), "{e}");
        }
    }

    #[test]
    fn build_metadata_travels_as_underscore_in_tags() {
        assert_eq!(version_to_tag("1.0.0+abc"), "1.0.0_abc");
        assert_eq!(tag_to_version("1.0.0_abc"), "1.0.0+abc");
    }
}
