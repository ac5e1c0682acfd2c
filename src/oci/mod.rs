//! Charts in OCI registries, stored exactly as Helm stores them: an OCI image manifest whose
//! config is the chart metadata as JSON (`application/vnd.cncf.helm.config.v1+json`), one
//! layer with the package (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`) and, when
//! the package is signed, one with its `.prov` file
//! (`application/vnd.cncf.helm.chart.provenance.v1.prov`). The chart name is the last
//! repository path component and the version is the tag (`+` written as `_`).
//!
//! The registry protocol (manifests, blobs, tag lists, the bearer-token handshake) is
//! oci-client's, driven on the process-wide runtime ([`crate::rt`]).

pub mod credentials;
pub mod helpers;
pub mod login;
pub mod reference;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use oci_client::client::{
    Certificate, CertificateEncoding, ClientConfig, ClientProtocol, Config, ImageLayer,
};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;

pub use reference::{OciRef, is_oci};

use crate::transport::TransportOptions;

/// Media type of the chart metadata config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of the chart package layer.
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Media type of the provenance layer.
pub const PROV_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
/// The media type charts had before Helm 3.7; still accepted on pull.
pub const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";

fn client(opts: &TransportOptions) -> Result<oci_client::Client> {
    opts.check()?;
    crate::transport::install_crypto_provider();
    let mut config = ClientConfig {
        protocol: if opts.plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        accept_invalid_certificates: opts.insecure_skip_tls_verify,
        platform_resolver: None,
        connect_timeout: Some(std::time::Duration::from_secs(15)),
        read_timeout: Some(std::time::Duration::from_secs(300)),
        user_agent: concat!("stoke/", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    if let Some(pem) = opts.ca_pem()? {
        config.tls_certs_only = vec![Certificate {
            encoding: CertificateEncoding::Pem,
            data: pem,
        }];
    }
    config.client_identity_pem = opts.identity_pem()?;
    oci_client::Client::try_from(config).with_context(|| {
        if opts.cert_file.is_some() {
            format!(
                "cannot set up the registry client: is --key-file `{}` the private key (PEM) of --cert-file `{}`?",
                opts.key_file.as_deref().unwrap_or(Path::new("")).display(),
                opts.cert_file.as_deref().unwrap_or(Path::new("")).display()
            )
        } else {
            "cannot set up the registry client".to_string()
        }
    })
}

/// Credentials for `registry`: those given on the command line, else the stored login,
/// else anonymous.
fn auth(registry: &str, opts: &TransportOptions) -> Result<RegistryAuth> {
    if let Some((u, p)) = opts.credentials() {
        return Ok(RegistryAuth::Basic(u, p));
    }
    let path = credentials::config_path()?;
    Ok(match credentials::lookup(&path, registry)? {
        Some((u, p)) => RegistryAuth::Basic(u, p),
        None => RegistryAuth::Anonymous,
    })
}

fn client_ref(text: &str) -> Result<oci_client::Reference> {
    text.parse()
        .with_context(|| format!("`{text}` is not a valid registry reference"))
}

/// Turns a registry client error into one that says what happened and what to do.
fn explain(
    e: OciDistributionError,
    what: &str,
    r: &OciRef,
    opts: &TransportOptions,
) -> anyhow::Error {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    let lower = chain.to_lowercase();
    let host = &r.registry;
    // A TLS alert about the client certificate can surface inside an authentication error
    // (oci-client's first request is the auth probe), so it is recognised before the
    // credential checks.
    let hint = if crate::transport::refused_client_certificate(&lower) {
        crate::transport::client_certificate_hint(host, opts)
    } else if has_status(&lower, "401")
        || lower.contains("unauthorized")
        || lower.contains("not authorized")
        || lower.contains("authentication")
    {
        format!(
            "registry {host} refused the credentials: log in with `stoke registry login {host} -u USER --password-stdin` or pass --username/--password-stdin"
        )
    } else if has_status(&lower, "403") || lower.contains("denied") {
        format!("registry {host} denied access to {}", r.repository)
    } else if lower.contains("manifest unknown")
        || lower.contains("manifest_unknown")
        || lower.contains("not found")
        || lower.contains("name_unknown")
        || lower.contains("not known")
        || has_status(&lower, "404")
    {
        format!("{} does not exist in registry {host}", r.display(None))
    } else if matches!(e, OciDistributionError::RequestError(_)) {
        let tls =
            lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake");
        if tls {
            format!(
                "cannot talk TLS to registry {host}: pass its CA with --ca-file (or --insecure-skip-tls-verify for a test registry; --plain-http if it speaks plain HTTP)"
            )
        } else {
            // A registry that demands a client certificate may close the connection before
            // its TLS alert is read, so a dropped connection over TLS without one names it.
            let tls_hints = if opts.plain_http {
                String::new()
            } else if opts.cert_file.is_none() {
                " a plain-HTTP registry needs --plain-http; one that demands a TLS client certificate needs --cert-file and --key-file".to_string()
            } else {
                " a plain-HTTP registry needs --plain-http".to_string()
            };
            format!(
                "cannot reach registry {host} (is it running and is the address right?{tls_hints})"
            )
        }
    } else {
        format!("registry {host} failed")
    };
    anyhow::anyhow!("{what}: {hint} ({chain})")
}

/// Whether `text` has the HTTP status `code` as a number of its own, not inside another
/// (the registry's port, `127.0.0.1:40153`, is not a 401).
fn has_status(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// What a push wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pushed {
    /// `oci://HOST/PATH/NAME:TAG`.
    pub reference: String,
    /// The manifest digest (`sha256:...`).
    pub digest: String,
    /// Whether a provenance layer was included.
    pub signed: bool,
}

/// The manifest annotations Helm writes for a chart.
fn annotations(meta: &crate::chart::metadata::Metadata) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            a.insert(k.to_string(), v.to_string());
        }
    };
    put(
        "org.opencontainers.image.description",
        meta.description.as_deref(),
    );
    put("org.opencontainers.image.title", Some(&meta.name));
    put("org.opencontainers.image.version", Some(&meta.version));
    put("org.opencontainers.image.url", meta.home.as_deref());
    put(
        "org.opencontainers.image.source",
        meta.sources.first().map(String::as_str),
    );
    let authors: Vec<String> = meta
        .maintainers
        .iter()
        .map(|m| match &m.email {
            Some(e) if !e.is_empty() => format!("{} ({e})", m.name),
            _ => m.name.clone(),
        })
        .collect();
    put(
        "org.opencontainers.image.authors",
        Some(&authors.join(", ")),
    );
    put(
        "org.opencontainers.image.created",
        Some(&crate::timestamp::now_rfc3339()),
    );
    for (k, v) in &meta.annotations {
        if k != "org.opencontainers.image.title" && k != "org.opencontainers.image.version" {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

/// `push`: uploads the package at `package` (and `PACKAGE.prov` beside it, if present) to
/// `remote` (`oci://HOST[:PORT]/PATH`) as `PATH/NAME:VERSION`.
pub fn push(package: &Path, remote: &str, opts: &TransportOptions) -> Result<Pushed> {
    let (registry, parent) = split_remote(remote)?;
    let bytes =
        std::fs::read(package).with_context(|| format!("cannot read `{}`", package.display()))?;
    let meta = crate::package::index::package_metadata(&bytes, package)?;
    let prov_path = crate::provenance::prov_path(package);
    let prov = match std::fs::read(&prov_path) {
        Ok(p) => Some(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", prov_path.display())),
    };
    let target = OciRef {
        registry,
        repository: if parent.is_empty() {
            meta.name.clone()
        } else {
            format!("{parent}/{}", meta.name)
        },
        tag: Some(reference::version_to_tag(&meta.version)),
        digest: None,
    };
    // Helm lists the provenance layer first.
    let mut layers = Vec::new();
    if let Some(p) = &prov {
        layers.push(ImageLayer::new(
            p.clone(),
            PROV_LAYER_MEDIA_TYPE.to_string(),
            None,
        ));
    }
    layers.push(ImageLayer::new(
        bytes,
        CHART_LAYER_MEDIA_TYPE.to_string(),
        None,
    ));
    let config = Config::new(
        serde_json::to_vec(&meta)?,
        CONFIG_MEDIA_TYPE.to_string(),
        None,
    );
    let manifest = OciImageManifest::build(&layers, &config, Some(annotations(&meta)));
    let manifest_json = serde_json::to_vec(&manifest)?;
    let digest = format!("sha256:{}", crate::package::digest(&manifest_json));
    let c = client(opts)?;
    let a = auth(&target.registry, opts)?;
    let r = client_ref(&target.client_reference(None))?;
    let what = format!(
        "cannot push {} to {}",
        package.display(),
        target.display(None)
    );
    crate::rt::block_on(async {
        c.auth(&r, &a, oci_client::RegistryOperation::Push)
            .await
            .map_err(|e| explain(e, &what, &target, opts))?;
        c.push(&r, &layers, config, &a, Some(manifest))
            .await
            .map_err(|e| explain(e, &what, &target, opts))
    })?;
    Ok(Pushed {
        reference: target.display(None),
        digest,
        signed: prov.is_some(),
    })
}

/// Splits a push location `oci://HOST[:PORT][/PATH]` into host and path.
fn split_remote(remote: &str) -> Result<(String, String)> {
    let Some(rest) = remote.strip_prefix("oci://") else {
        bail!("`{remote}` is not a registry location; write oci://HOST[:PORT]/PATH");
    };
    let rest = rest.trim_end_matches('/');
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        bail!("`{remote}` names no registry host; write oci://HOST[:PORT]/PATH");
    }
    if path.contains('@')
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
    {
        bail!(
            "`{remote}`: give the registry location without a tag or digest; the chart's name and version become the repository and tag"
        );
    }
    if !path.is_empty() {
        // Validates the path with the same rules as a full reference.
        OciRef::parse(&format!("oci://{host}/{path}"))?;
    }
    Ok((host.to_string(), path.to_string()))
}

/// The chart versions (tags that are SemVer versions) in repository `r`, newest first.
pub fn versions(r: &OciRef, opts: &TransportOptions) -> Result<Vec<semver::Version>> {
    let c = client(opts)?;
    let a = auth(&r.registry, opts)?;
    let cr = client_ref(&format!("{}/{}", r.registry, r.repository))?;
    let what = format!("cannot list the versions of {}", r.display(None));
    let tags = crate::rt::block_on(async {
        let mut all = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = c
                .list_tags(&cr, &a, Some(1000), last.as_deref())
                .await
                .map_err(|e| explain(e, &what, r, opts))?;
            let n = page.tags.len();
            last = page.tags.last().cloned();
            all.extend(page.tags);
            if n < 1000 {
                break;
            }
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    let mut versions: Vec<semver::Version> = tags
        .iter()
        .filter_map(|t| semver::Version::parse(&reference::tag_to_version(t)).ok())
        .collect();
    versions.sort();
    versions.reverse();
    Ok(versions)
}

/// The tag to pull for `r` under `constraint`: the tag or digest in the reference itself,
/// else the newest version satisfying the constraint (stable versions only, unless
/// `devel` or the constraint names a pre-release).
pub fn resolve_tag(
    r: &OciRef,
    constraint: Option<&str>,
    devel: bool,
    opts: &TransportOptions,
) -> Result<Option<String>> {
    if r.digest.is_some() {
        return Ok(None);
    }
    if let Some(t) = &r.tag {
        if let Some(c) = constraint {
            let v = semver::Version::parse(&reference::tag_to_version(t)).ok();
            let ok = crate::chart::version::parse_constraint(c)
                .ok()
                .zip(v)
                .is_some_and(|(c, v)| c.matches(&v));
            if !ok {
                bail!(
                    "{} has tag `{t}`, which does not satisfy --version `{c}`",
                    r.display(None)
                );
            }
        }
        return Ok(Some(t.clone()));
    }
    let versions = versions(r, opts)?;
    if versions.is_empty() {
        bail!(
            "{} has no chart versions (no SemVer tags); push one with `stoke push PACKAGE oci://{}/{}`",
            r.display(None),
            r.registry,
            r.repository.rsplit_once('/').map_or("", |(p, _)| p)
        );
    }
    let c = match constraint {
        Some(c) => Some(
            crate::chart::version::parse_constraint(c)
                .with_context(|| format!("--version `{c}` is not a version constraint"))?,
        ),
        None => None,
    };
    let chosen = versions.iter().find(|v| match &c {
        Some(c) => {
            c.matches(v) || (devel && c.matches(&semver::Version::new(v.major, v.minor, v.patch)))
        }
        None => devel || v.pre.is_empty(),
    });
    match chosen {
        Some(v) => Ok(Some(reference::version_to_tag(&v.to_string()))),
        None => {
            let list: Vec<String> = versions.iter().take(10).map(|v| v.to_string()).collect();
            bail!(
                "no version of {} satisfies {} (available: {}{})",
                r.display(None),
                constraint.map_or("a stable release".to_string(), |c| format!("`{c}`")),
                list.join(", "),
                if versions.len() > 10 { ", ..." } else { "" }
            )
        }
    }
}

/// A chart pulled from a registry.
#[derive(Debug, Clone)]
pub struct PulledChart {
    /// Chart name (from the package).
    pub name: String,
    /// Chart version (from the package).
    pub version: String,
    /// The package bytes.
    pub bytes: Vec<u8>,
    /// The provenance file, when the registry holds one.
    pub prov: Option<Vec<u8>>,
    /// The manifest digest.
    pub digest: String,
    /// The exact reference pulled.
    pub reference: String,
}

impl PulledChart {
    /// `NAME-VERSION.tgz`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }
}

/// `pull` from a registry: resolves `r` under `constraint` and downloads the chart, checking
/// every blob against its digest and the package against the manifest's name and version.
pub fn pull(
    r: &OciRef,
    constraint: Option<&str>,
    devel: bool,
    opts: &TransportOptions,
) -> Result<PulledChart> {
    let tag = resolve_tag(r, constraint, devel, opts)?;
    let exact = r.client_reference(tag.as_deref());
    let shown = r.display(tag.as_deref());
    let c = client(opts)?;
    let a = auth(&r.registry, opts)?;
    let cr = client_ref(&exact)?;
    let what = format!("cannot pull {shown}");
    let image = crate::rt::block_on(async {
        c.pull(
            &cr,
            &a,
            vec![
                CHART_LAYER_MEDIA_TYPE,
                LEGACY_CHART_LAYER_MEDIA_TYPE,
                PROV_LAYER_MEDIA_TYPE,
            ],
        )
        .await
        .map_err(|e| explain(e, &what, r, opts))
    })?;
    if image.config.media_type != CONFIG_MEDIA_TYPE {
        bail!(
            "{shown} is not a Helm chart: its config media type is `{}`, not `{CONFIG_MEDIA_TYPE}`",
            image.config.media_type
        );
    }
    let manifest = image
        .manifest
        .as_ref()
        .context("the registry sent no manifest")?;
    let mut chart = None;
    let mut prov = None;
    // Layers arrive in download order, not manifest order: match them by digest.
    for layer in &image.layers {
        let actual = format!("sha256:{}", crate::package::digest(&layer.data));
        if !manifest
            .layers
            .iter()
            .any(|d| d.digest.eq_ignore_ascii_case(&actual) && d.media_type == layer.media_type)
        {
            bail!(
                "{shown}: a `{}` layer's content has digest {actual}, which the manifest does not list; refusing it",
                layer.media_type
            );
        }
        match layer.media_type.as_str() {
            CHART_LAYER_MEDIA_TYPE | LEGACY_CHART_LAYER_MEDIA_TYPE if chart.is_some() => {
                bail!("{shown} holds more than one chart layer");
            }
            CHART_LAYER_MEDIA_TYPE | LEGACY_CHART_LAYER_MEDIA_TYPE => {
                chart = Some(layer.data.to_vec());
            }
            PROV_LAYER_MEDIA_TYPE => prov = Some(layer.data.to_vec()),
            _ => {}
        }
    }
    let bytes = chart.with_context(|| format!("{shown} holds no chart layer"))?;
    let meta = crate::package::index::package_metadata(&bytes, Path::new(&shown))?;
    if meta.name != r.name() {
        bail!(
            "{shown} holds chart `{}`, not `{}`; refusing it",
            meta.name,
            r.name()
        );
    }
    if let Some(t) = &tag
        && reference::tag_to_version(t) != meta.version
        && r.tag.is_none()
    {
        bail!(
            "{shown} holds version {} of {}, not {}; refusing it",
            meta.version,
            meta.name,
            reference::tag_to_version(t)
        );
    }
    Ok(PulledChart {
        name: meta.name,
        version: meta.version,
        bytes,
        prov,
        digest: image.digest.unwrap_or_default(),
        reference: shown,
    })
}

/// `registry login`: checks the credentials with the registry, then stores them (through
/// the configured credential helper, if any); says where they went.
pub fn login(
    host: &str,
    user: &str,
    password: &str,
    opts: &TransportOptions,
) -> Result<credentials::Keeper> {
    let host = normalise_host(host)?;
    login::check_credentials(&host, user, password, opts)?;
    let path = credentials::config_path()?;
    credentials::save_login(&path, &host, user, password)
}

/// `registry logout`: forgets the stored credentials of `host`; says where they were.
pub fn logout(host: &str) -> Result<credentials::Keeper> {
    let host = normalise_host(host)?;
    let path = credentials::config_path()?;
    match credentials::forget_login(&path, &host)? {
        Some(k) => Ok(k),
        None => bail!(
            "not logged in to {host} (no credentials in `{}` or its credential helper)",
            path.display()
        ),
    }
}

fn normalise_host(host: &str) -> Result<String> {
    let h = host
        .trim_start_matches("oci://")
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    if h.is_empty() || h.contains('/') || h.contains(char::is_whitespace) {
        bail!("`{host}` is not a registry host; write HOST or HOST:PORT");
    }
    Ok(h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_code_is_a_number_of_its_own_not_part_of_a_port() {
        assert!(has_status("server answered 401 unauthorized", "401"));
        assert!(has_status("status: 404", "404"));
        assert!(!has_status(
            "url http://127.0.0.1:40153/v2/x: manifest unknown",
            "401"
        ));
        assert!(!has_status("port 14041", "404"));
    }
}
