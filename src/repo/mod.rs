//! Configured chart repositories: adding, updating, searching and downloading from them.
//!
//! The list of repositories lives in `$XDG_CONFIG_HOME/stoke/repositories.yaml` and each
//! repository's last fetched index in `$XDG_CACHE_HOME/stoke/repository/NAME-index.yaml`
//! (with `~/.config` and `~/.cache` as the usual fall-backs; `STOKE_REPOSITORY_CONFIG` and
//! `STOKE_REPOSITORY_CACHE` override both, like Helm's `HELM_REPOSITORY_*`).

pub mod deps;
pub use crate::fetch;
pub mod source;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::package::index::{ChartVersion, IndexFile, MAX_INDEX_SIZE};

/// Where repository configuration and caches are kept.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The repositories file.
    pub config: PathBuf,
    /// The folder of cached indexes and downloaded packages.
    pub cache: PathBuf,
}

impl Paths {
    /// Paths from the environment (XDG base directories).
    pub(crate) fn from_env() -> Result<Paths> {
        let home = || {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .context("cannot find the home folder: set HOME or XDG_CONFIG_HOME/XDG_CACHE_HOME")
        };
        let xdg = |var: &str, fallback: &str| -> Result<PathBuf> {
            match std::env::var_os(var) {
                Some(v) if !v.is_empty() && Path::new(&v).is_absolute() => Ok(PathBuf::from(v)),
                _ => Ok(home()?.join(fallback)),
            }
        };
        let config = match std::env::var_os("STOKE_REPOSITORY_CONFIG") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => xdg("XDG_CONFIG_HOME", ".config")?.join("stoke/repositories.yaml"),
        };
        let cache = match std::env::var_os("STOKE_REPOSITORY_CACHE") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => xdg("XDG_CACHE_HOME", ".cache")?.join("stoke/repository"),
        };
        Ok(Paths { config, cache })
    }

    /// The cached index of repository `name`.
    pub(crate) fn index_cache(&self, name: &str) -> PathBuf {
        self.cache.join(format!("{name}-index.yaml"))
    }
}

/// One configured repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// Its local name, used as `NAME/CHART`.
    pub name: String,
    /// Its URL (http, https, file://) or folder path.
    pub url: String,
    /// User name for HTTP basic authentication.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Password for HTTP basic authentication (the file is kept mode 0600).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// Send the credentials to every host the index points at, not only the repository's.
    #[serde(
        default,
        rename = "pass_credentials_all",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub pass_credentials: bool,
    /// CA bundle to trust for this repository.
    #[serde(default, rename = "caFile", skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    /// Client certificate for this repository.
    #[serde(default, rename = "certFile", skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    /// Client key for this repository.
    #[serde(default, rename = "keyFile", skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    /// Accept any server certificate.
    #[serde(
        default,
        rename = "insecure_skip_tls_verify",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub insecure_skip_tls_verify: bool,
}

impl Repository {
    /// The connection options and credentials for talking to this repository.
    pub fn transport(&self) -> crate::transport::TransportOptions {
        let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
        crate::transport::TransportOptions {
            plain_http: false,
            ca_file: path(&self.ca_file),
            cert_file: path(&self.cert_file),
            key_file: path(&self.key_file),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            username: (!self.username.is_empty()).then(|| self.username.clone()),
            password: (!self.username.is_empty()).then(|| self.password.clone()),
        }
    }

    /// Whether credentials may be sent to `url` (the repository's own origin, or anywhere
    /// with `pass_credentials`).
    pub fn may_send_credentials(&self, url: &str) -> bool {
        self.pass_credentials || fetch::origin(url) == fetch::origin(&self.url)
    }
}

/// The repositories file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoFile {
    /// Format version (`v1`).
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// The repositories, in the order they were added.
    #[serde(default)]
    pub repositories: Vec<Repository>,
}

impl RepoFile {
    /// Reads the repositories file; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<RepoFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => crate::yaml::from_str(&text, &path.display().to_string())
                .map_err(|e| anyhow::anyhow!("{e} (fix or delete the file)")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepoFile {
                api_version: "v1".into(),
                repositories: Vec::new(),
            }),
            Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
        }
    }

    /// Writes the repositories file, creating its folder.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        let mut out = self.clone();
        out.api_version = "v1".into();
        // The file may hold repository passwords.
        crate::transport::write_private(path, crate::yaml::to_string(&out)?.as_bytes())
    }

    /// The repository called `name`.
    pub fn get(&self, name: &str) -> Result<&Repository> {
        self.repositories.iter().find(|r| r.name == name).with_context(|| {
            let known: Vec<&str> = self.repositories.iter().map(|r| r.name.as_str()).collect();
            if known.is_empty() {
                format!("no repository named `{name}`: none are configured (add one with `stoke repo add {name} URL`)")
            } else {
                format!(
                    "no repository named `{name}` (configured: {}; add one with `stoke repo add {name} URL`)",
                    known.join(", ")
                )
            }
        })
    }
}

fn check_repo_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !ok {
        bail!(
            "`{name}` is not a valid repository name: use letters, digits, `-`, `_` and `.` (it becomes part of file names)"
        );
    }
    Ok(())
}

/// Downloads and validates the index of the repository at `url`.
pub fn download_index(url: &str, what: &str) -> Result<(IndexFile, Vec<u8>, Vec<String>)> {
    download_index_for(&anonymous(url), what)
}

/// A repository known only by its URL: no credentials, default TLS.
fn anonymous(url: &str) -> Repository {
    Repository {
        name: String::new(),
        url: url.to_string(),
        ..Default::default()
    }
}

/// Downloads and validates the index of `repo`, with its credentials and TLS options.
pub fn download_index_for(
    repo: &Repository,
    what: &str,
) -> Result<(IndexFile, Vec<u8>, Vec<String>)> {
    let index_url = fetch::join(&repo.url, "index.yaml")?;
    let bytes = fetch::fetch_with(
        &index_url,
        MAX_INDEX_SIZE,
        what,
        &repo.transport(),
        repo.may_send_credentials(&index_url),
    )?;
    let (index, warnings) = IndexFile::parse(&bytes, &index_url)?;
    Ok((index, bytes, warnings))
}

/// Credentials and TLS options for `repo add`.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Replace an existing repository of the same name with a different URL.
    pub force: bool,
    /// User name for basic authentication.
    pub username: Option<String>,
    /// Password for basic authentication.
    pub password: Option<String>,
    /// Send the credentials to other hosts the index points at.
    pub pass_credentials: bool,
    /// CA bundle (PEM).
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM).
    pub cert_file: Option<PathBuf>,
    /// Client key (PEM).
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate.
    pub insecure_skip_tls_verify: bool,
}

/// `repo add`: checks that `url` serves an index, caches it and records the repository.
/// Re-adding the same name with the same URL refreshes it; a different URL needs `force`.
pub fn add(paths: &Paths, name: &str, url: &str, force: bool) -> Result<Vec<String>> {
    add_with(
        paths,
        name,
        url,
        &AddOptions {
            force,
            ..Default::default()
        },
    )
}

/// `repo add` with credentials and TLS options, kept in the repositories file (mode 0600).
pub fn add_with(paths: &Paths, name: &str, url: &str, opts: &AddOptions) -> Result<Vec<String>> {
    let force = opts.force;
    check_repo_name(name)?;
    let url = normalise_url(url)?;
    let mut file = RepoFile::load(&paths.config)?;
    if let Some(existing) = file.repositories.iter().find(|r| r.name == name)
        && existing.url != url
        && !force
    {
        bail!(
            "repository `{name}` already exists with URL {}; remove it first or pass --force-update",
            existing.url
        );
    }
    let abs = |p: &Option<PathBuf>| -> Result<String> {
        match p {
            None => Ok(String::new()),
            Some(p) => Ok(std::fs::canonicalize(p)
                .with_context(|| format!("`{}` does not exist", p.display()))?
                .display()
                .to_string()),
        }
    };
    if opts.password.is_some() && opts.username.is_none() {
        bail!("a password was given without --username");
    }
    let repo = Repository {
        name: name.to_string(),
        url,
        username: opts.username.clone().unwrap_or_default(),
        password: opts.password.clone().unwrap_or_default(),
        pass_credentials: opts.pass_credentials,
        ca_file: abs(&opts.ca_file)?,
        cert_file: abs(&opts.cert_file)?,
        key_file: abs(&opts.key_file)?,
        insecure_skip_tls_verify: opts.insecure_skip_tls_verify,
    };
    let (_, bytes, warnings) = download_index_for(&repo, &format!("index of repository `{name}`"))?;
    write_cache(paths, name, &bytes)?;
    file.repositories.retain(|r| r.name != name);
    file.repositories.push(repo);
    file.save(&paths.config)?;
    Ok(warnings)
}

/// Makes a relative folder path absolute so the repository works from any directory.
fn normalise_url(url: &str) -> Result<String> {
    match fetch::location(url)? {
        fetch::Location::Http(u) => Ok(u.trim_end_matches('/').to_string()),
        fetch::Location::File(p) => {
            let abs = std::fs::canonicalize(&p)
                .with_context(|| format!("repository folder `{}` does not exist", p.display()))?;
            Ok(format!("file://{}", abs.display()))
        }
    }
}

fn write_cache(paths: &Paths, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(&paths.cache)
        .with_context(|| format!("cannot create `{}`", paths.cache.display()))?;
    crate::fsutil::AtomicWrite::PUBLIC.write(&paths.index_cache(name), bytes)
}

/// `repo remove`: forgets repositories and deletes their cached index.
pub fn remove(paths: &Paths, names: &[String]) -> Result<()> {
    let mut file = RepoFile::load(&paths.config)?;
    for name in names {
        file.get(name)?;
        file.repositories.retain(|r| &r.name != name);
        let _ = std::fs::remove_file(paths.index_cache(name));
    }
    file.save(&paths.config)
}

/// Outcome of updating one repository.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateResult {
    /// Repository name.
    pub name: String,
    /// Number of charts in its index.
    pub charts: usize,
    /// Malformed entries that were skipped.
    pub warnings: Vec<String>,
}

/// `repo update`: refreshes the cached index of the named repositories (all when empty).
/// Every repository is tried; the first failure is returned after the others finished.
pub fn update(paths: &Paths, names: &[String]) -> Result<Vec<UpdateResult>> {
    let file = RepoFile::load(&paths.config)?;
    let selected: Vec<&Repository> = if names.is_empty() {
        file.repositories.iter().collect()
    } else {
        names.iter().map(|n| file.get(n)).collect::<Result<_>>()?
    };
    if selected.is_empty() {
        bail!("no repositories are configured (add one with `stoke repo add NAME URL`)");
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for repo in selected {
        match download_index_for(repo, &format!("index of repository `{}`", repo.name)) {
            Ok((index, bytes, warnings)) => {
                write_cache(paths, &repo.name, &bytes)?;
                results.push(UpdateResult {
                    name: repo.name.clone(),
                    charts: index.entries.len(),
                    warnings,
                });
            }
            Err(e) => errors.push(format!("{}: {e:#}", repo.name)),
        }
    }
    if !errors.is_empty() {
        bail!(
            "some repositories could not be updated:\n  {}",
            errors.join("\n  ")
        );
    }
    Ok(results)
}

/// The cached index of repository `name` (run `repo update` to refresh it).
pub(crate) fn cached_index(paths: &Paths, name: &str) -> Result<IndexFile> {
    let path = paths.index_cache(name);
    if !path.is_file() {
        bail!("repository `{name}` has no cached index (run `stoke repo update {name}`)");
    }
    Ok(IndexFile::load(&path)?.0)
}

/// One search hit.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// `REPO/CHART`.
    pub name: String,
    /// Chart version.
    pub version: String,
    /// Application version.
    pub app_version: String,
    /// Description.
    pub description: String,
}

/// `search repo`: charts whose name, description or keywords contain `keyword`
/// (case-insensitively) in every cached repository index. Only the newest matching version
/// of each chart unless `all_versions`. Repositories whose cache cannot be read are
/// skipped and described in the returned warnings.
pub fn search(
    paths: &Paths,
    keyword: &str,
    constraint: Option<&str>,
    devel: bool,
    all_versions: bool,
) -> Result<(Vec<SearchHit>, Vec<String>)> {
    let file = RepoFile::load(&paths.config)?;
    let needle = keyword.to_lowercase();
    let c = match constraint {
        Some(c) => Some(
            crate::chart::version::parse_constraint(c)
                .with_context(|| format!("--version `{c}` is not a version constraint"))?,
        ),
        None if devel => Some(crate::chart::version::parse_constraint(">=0.0.0-0")?),
        None => None,
    };
    let mut hits = Vec::new();
    let mut warnings = Vec::new();
    for repo in &file.repositories {
        // One repository without a usable cache should not hide the others' results.
        let index = match cached_index(paths, &repo.name) {
            Ok(i) => i,
            Err(e) => {
                warnings.push(format!("{e:#}"));
                continue;
            }
        };
        for (name, versions) in &index.entries {
            let full = format!("{}/{name}", repo.name);
            for v in versions {
                let m = &v.metadata;
                let text_hit = needle.is_empty()
                    || full.to_lowercase().contains(&needle)
                    || m.description
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&needle)
                    || m.keywords
                        .iter()
                        .any(|k| k.to_lowercase().contains(&needle));
                if !text_hit || v.removed {
                    continue;
                }
                let sv = v.semver();
                let version_ok = match &c {
                    Some(c) => c.matches(&sv),
                    None => sv.pre.is_empty(),
                };
                if !version_ok {
                    continue;
                }
                hits.push(SearchHit {
                    name: full.clone(),
                    version: m.version.clone(),
                    app_version: m.app_version.clone().unwrap_or_default(),
                    description: m.description.clone().unwrap_or_default(),
                });
                if !all_versions {
                    break;
                }
            }
        }
    }
    Ok((hits, warnings))
}

/// A chart downloaded from a repository and verified against its index.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The index entry it came from.
    pub entry: ChartVersion,
    /// The archive bytes.
    pub bytes: Vec<u8>,
    /// Where it was downloaded from.
    pub url: String,
}

/// Downloads the package of `entry` from the repository at `base` and checks its digest;
/// a package whose SHA-256 differs from the index is refused. The package must also load
/// through the hardened reader and be the chart and version the index promised.
pub fn download_verified(base: &str, entry: &ChartVersion) -> Result<Downloaded> {
    download_verified_for(&anonymous(base), entry)
}

/// [`download_verified`] from `repo`, with its credentials and TLS options.
pub fn download_verified_for(repo: &Repository, entry: &ChartVersion) -> Result<Downloaded> {
    let base = repo.url.as_str();
    let name = &entry.metadata.name;
    let version = &entry.metadata.version;
    let Some(rel) = entry.urls.first() else {
        bail!("index entry {name} {version} has no download URL");
    };
    let url = fetch::join(base, rel)?;
    let bytes = fetch::fetch_with(
        &url,
        fetch::MAX_PACKAGE_SIZE,
        &format!("{name} {version}"),
        &repo.transport(),
        repo.may_send_credentials(&url),
    )?;
    let actual = crate::package::digest(&bytes);
    let expected = entry.digest.trim().trim_start_matches("sha256:");
    if expected.is_empty() {
        bail!(
            "the index lists no digest for {name} {version}, so the download cannot be verified; ask the repository owner to re-index it"
        );
    }
    if !actual.eq_ignore_ascii_case(expected) {
        bail!(
            "{url} does not match the repository index: its sha256 is {actual}, the index says {expected}; the package was changed after indexing or tampered with (nothing was saved)"
        );
    }
    let origin = PathBuf::from(url.rsplit('/').next().unwrap_or(&url));
    let meta = crate::package::index::package_metadata(&bytes, &origin)?;
    if &meta.name != name || &meta.version != version {
        bail!(
            "{url} holds {} {}, but the index says {name} {version}; refusing it",
            meta.name,
            meta.version
        );
    }
    Ok(Downloaded {
        entry: entry.clone(),
        bytes,
        url,
    })
}

/// Splits `REPO/CHART`.
pub(crate) fn split_reference(reference: &str) -> Result<(&str, &str)> {
    match reference.split_once('/') {
        Some((repo, chart)) if !repo.is_empty() && !chart.is_empty() && !chart.contains('/') => {
            Ok((repo, chart))
        }
        _ => bail!(
            "`{reference}` is not a repository chart reference; write it as REPO/CHART (e.g. stable/ignition)"
        ),
    }
}

/// Finds and downloads `REPO/CHART` at the newest version satisfying `constraint`, using
/// the cached index (fetched once if missing).
pub(crate) fn fetch_chart(
    paths: &Paths,
    reference: &str,
    constraint: Option<&str>,
    devel: bool,
) -> Result<Downloaded> {
    let (repo_name, chart) = split_reference(reference)?;
    let file = RepoFile::load(&paths.config)?;
    let repo = file.get(repo_name)?;
    let index = match cached_index(paths, repo_name) {
        Ok(i) => i,
        Err(_) => {
            let (i, bytes, _) =
                download_index_for(repo, &format!("index of repository `{repo_name}`"))?;
            write_cache(paths, repo_name, &bytes)?;
            i
        }
    };
    let entry = index.resolve(chart, constraint, devel).with_context(|| {
        format!("in repository `{repo_name}` (refresh it with `stoke repo update {repo_name}`)")
    })?;
    download_verified_for(repo, entry)
}

/// `pull`: downloads `REPO/CHART` into `dest` as NAME-VERSION.tgz, or with `untar`
/// unpacks it into `dest/NAME/` (which must not exist). Returns what was written.
pub fn pull(
    paths: &Paths,
    reference: &str,
    constraint: Option<&str>,
    devel: bool,
    dest: &Path,
    untar: bool,
) -> Result<PathBuf> {
    let opts = PullOptions {
        source: source::ChartSource {
            constraint: constraint.map(str::to_string),
            devel,
            ..Default::default()
        },
        untar,
        ..Default::default()
    };
    Ok(pull_with(paths, reference, dest, &opts)?.path)
}

/// What `pull` may do besides fetching.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Version, transport and verification.
    pub source: source::ChartSource,
    /// Unpack into `dest/NAME/`.
    pub untar: bool,
    /// Also write the provenance file next to the package.
    pub prov: bool,
    /// Look CHART up in the repository at this URL instead of a configured one.
    pub repo_url: Option<String>,
}

/// What `pull` wrote.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The package or folder written.
    pub path: PathBuf,
    /// Where it came from.
    pub origin: String,
    /// The provenance check, when asked for.
    pub verification: Option<crate::provenance::Verification>,
}

/// `pull` for every reference form: `REPO/CHART`, `CHART --repo URL`, an `https://` package
/// URL or `oci://HOST/PATH/NAME`. With `--verify` the package is checked against its
/// provenance file before anything is written.
pub fn pull_with(
    paths: &Paths,
    reference: &str,
    dest: &Path,
    opts: &PullOptions,
) -> Result<Pulled> {
    let src = &opts.source;
    let (file_name, bytes, prov, origin): (String, Vec<u8>, Option<Vec<u8>>, String) = if let Some(
        url,
    ) =
        &opts.repo_url
    {
        let repo = Repository {
            name: String::new(),
            url: normalise_url(url)?,
            username: src.transport.username.clone().unwrap_or_default(),
            password: src.transport.password.clone().unwrap_or_default(),
            pass_credentials: false,
            ca_file: path_text(&src.transport.ca_file),
            cert_file: path_text(&src.transport.cert_file),
            key_file: path_text(&src.transport.key_file),
            insecure_skip_tls_verify: src.transport.insecure_skip_tls_verify,
        };
        let (index, _, _) = download_index_for(&repo, &format!("index of {url}"))?;
        let entry = index
            .resolve(reference, src.constraint.as_deref(), src.devel)
            .with_context(|| format!("in the repository at {url}"))?;
        let d = download_verified_for(&repo, entry)?;
        let prov = wanted_prov(opts, || {
            fetch::fetch_with(
                &format!("{}.prov", d.url),
                1024 * 1024,
                "provenance file",
                &repo.transport(),
                repo.may_send_credentials(&d.url),
            )
        })?;
        (
            format!("{}-{}.tgz", entry.metadata.name, entry.metadata.version),
            d.bytes,
            prov,
            d.url,
        )
    } else if crate::oci::is_oci(reference) {
        let r = crate::oci::OciRef::parse(reference)?;
        let p = crate::oci::pull(&r, src.constraint.as_deref(), src.devel, &src.transport)?;
        if (opts.prov || src.verify_keyring.is_some()) && p.prov.is_none() {
            bail!(
                "{} has no provenance layer (it was pushed unsigned), so there is no .prov to {}",
                p.reference,
                if src.verify_keyring.is_some() {
                    "verify"
                } else {
                    "download"
                }
            );
        }
        (p.file_name(), p.bytes, p.prov, p.reference)
    } else if reference.starts_with("http://") || reference.starts_with("https://") {
        let located = source::locate(
            Path::new(reference),
            &source::ChartSource {
                verify_keyring: None,
                ..src.clone()
            },
        )?;
        let bytes = std::fs::read(&located.path)
            .with_context(|| format!("cannot read `{}`", located.path.display()))?;
        let (t, send) = (src.transport.clone(), src.transport.credentials().is_some());
        let prov = wanted_prov(opts, || {
            fetch::fetch_with(
                &format!("{reference}.prov"),
                1024 * 1024,
                "provenance file",
                &t,
                send,
            )
        })?;
        let name = located
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (name, bytes, prov, reference.to_string())
    } else {
        let d = fetch_chart(paths, reference, src.constraint.as_deref(), src.devel)?;
        let (repo_name, _) = split_reference(reference)?;
        let file = RepoFile::load(&paths.config)?;
        let repo = file.get(repo_name)?.clone();
        let prov = wanted_prov(opts, || {
            fetch::fetch_with(
                &format!("{}.prov", d.url),
                1024 * 1024,
                "provenance file",
                &repo.transport(),
                repo.may_send_credentials(&d.url),
            )
        })?;
        (
            format!("{}-{}.tgz", d.entry.metadata.name, d.entry.metadata.version),
            d.bytes,
            prov,
            d.url,
        )
    };
    let verification = match &src.verify_keyring {
        Some(ring) => {
            let p = prov.as_deref().context("no provenance file to verify")?;
            Some(crate::provenance::verify(
                &bytes,
                &file_name,
                &String::from_utf8_lossy(p),
                ring,
            )?)
        }
        None => None,
    };
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create `{}`", dest.display()))?;
    let path = if opts.untar {
        let meta = crate::package::index::package_metadata(&bytes, Path::new(&file_name))?;
        let target = dest.join(&meta.name);
        // symlink_metadata: a dangling symlink counts as existing too.
        if target.symlink_metadata().is_ok() {
            bail!(
                "`{}` already exists; remove it or pull into another folder with -d",
                target.display()
            );
        }
        let (_, files) = crate::chart::archive::read(&bytes, Path::new(&file_name))?;
        extract(&files, &target)?;
        target
    } else {
        let target = dest.join(&file_name);
        crate::fsutil::AtomicWrite::PUBLIC.write(&target, &bytes)?;
        target
    };
    if let Some(p) = &prov
        && (opts.prov || src.verify_keyring.is_some())
    {
        crate::fsutil::AtomicWrite::PUBLIC.write(&dest.join(format!("{file_name}.prov")), p)?;
    }
    Ok(Pulled {
        path,
        origin,
        verification,
    })
}

fn wanted_prov(
    opts: &PullOptions,
    get: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Option<Vec<u8>>> {
    if opts.prov || opts.source.verify_keyring.is_some() {
        get()
            .context("the provenance file (.prov) could not be downloaded")
            .map(Some)
    } else {
        Ok(None)
    }
}

fn path_text(p: &Option<PathBuf>) -> String {
    p.as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// Configured repositories as shown to people and scripts: passwords left out.
pub fn listing(file: &RepoFile) -> Vec<serde_json::Value> {
    file.repositories
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({ "name": r.name, "url": r.url });
            if !r.username.is_empty() {
                v["username"] = serde_json::Value::String(r.username.clone());
            }
            v
        })
        .collect()
}

/// Writes checked archive files below `target`. Paths were validated by the archive reader
/// (relative, no `..`), so they cannot leave `target`.
pub(crate) fn extract(files: &[crate::chart::ChartFile], target: &Path) -> Result<()> {
    for f in files {
        let path = target.join(&f.name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        std::fs::write(&path, &f.data)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

/// For commands that take CHART: a `REPO/CHART` reference that is not a local path is
/// downloaded (verified) into the cache and its path returned; anything else is returned
/// unchanged.
pub fn locate_chart(reference: &Path, constraint: Option<&str>, devel: bool) -> Result<PathBuf> {
    Ok(source::locate(
        reference,
        &source::ChartSource {
            constraint: constraint.map(str::to_string),
            devel,
            ..Default::default()
        },
    )?
    .path)
}
