//! Chart dependencies: resolving Chart.yaml `dependencies` to packages in `charts/`,
//! recording the choice in `Chart.lock`, and restoring `charts/` from it.
//!
//! A dependency's `repository` is a URL (`https://…`), a configured repository (`@name` or
//! `alias:name`), a local chart (`file://../path`, packaged on the fly with stoke's
//! reproducible packer), or empty for a chart vendored in `charts/` by hand.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::Paths;
use crate::chart::metadata::{Dependency, Metadata};
use crate::package::index::IndexFile;

/// One resolved dependency in `Chart.lock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedDependency {
    /// Chart name.
    pub name: String,
    /// The exact version chosen.
    pub version: String,
    /// The repository, as written in Chart.yaml.
    #[serde(default)]
    pub repository: String,
}

/// `Chart.lock`, in Helm's layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    /// The resolved dependencies, in Chart.yaml order.
    pub dependencies: Vec<LockedDependency>,
    /// `sha256:` digest of Chart.yaml's dependencies and this resolution; a Chart.yaml edit
    /// makes it stale.
    pub digest: String,
    /// When the lock was written (RFC 3339).
    pub generated: String,
}

/// Digest tying a lock to the Chart.yaml `dependencies` it was resolved from.
pub(crate) fn lock_digest(declared: &[Dependency], locked: &[LockedDependency]) -> String {
    let declared: Vec<(&str, &str, &str)> = declared
        .iter()
        .map(|d| (d.name.as_str(), d.version.as_str(), d.repository.as_str()))
        .collect();
    let json = serde_json::to_vec(&(declared, locked)).expect("plain data serialises");
    format!("sha256:{}", crate::package::digest(&json))
}

/// How a dependency stands in `charts/`.
#[derive(Debug, Clone, Serialize)]
pub struct DependencyStatus {
    /// Chart name.
    pub name: String,
    /// The constraint from Chart.yaml.
    pub version: String,
    /// The repository from Chart.yaml.
    pub repository: String,
    /// `ok`, `missing` or `wrong version`.
    pub status: String,
    /// The version found in charts/, if any.
    pub found: Option<String>,
}

fn read_metadata(chart_dir: &Path) -> Result<Metadata> {
    let path = chart_dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "`{}` is not a chart: cannot read {}",
            chart_dir.display(),
            path.display()
        )
    })?;
    Metadata::parse(&text, &path.display().to_string())
}

/// Charts present in `charts/`: (chart name, version, path), packages and folders alike.
fn present(chart_dir: &Path) -> Result<Vec<(String, String, PathBuf)>> {
    let dir = chart_dir.join("charts");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let meta = if path.is_dir() {
            read_metadata(&path).ok()
        } else if path.extension().is_some_and(|e| e == "tgz") {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            Some(crate::package::index::package_metadata(&bytes, &path)?)
        } else {
            None
        };
        if let Some(m) = meta {
            out.push((m.name, m.version, path));
        }
    }
    Ok(out)
}

/// `dependency list`: each declared dependency and whether charts/ satisfies it.
pub fn list(chart_dir: &Path) -> Result<Vec<DependencyStatus>> {
    let meta = read_metadata(chart_dir)?;
    let have = present(chart_dir)?;
    let mut out = Vec::new();
    for dep in &meta.dependencies {
        let found = have.iter().find(|(n, _, _)| n == &dep.name);
        let status = match found {
            None => "missing",
            Some((_, v, _)) => {
                let ok = dep.version.is_empty()
                    || (crate::chart::version::parse_constraint(&dep.version)?)
                        .matches(&semver::Version::parse(v)?);
                if ok { "ok" } else { "wrong version" }
            }
        };
        out.push(DependencyStatus {
            name: dep.name.clone(),
            version: dep.version.clone(),
            repository: dep.repository.clone(),
            status: status.to_string(),
            found: found.map(|(_, v, _)| v.clone()),
        });
    }
    Ok(out)
}

/// Where a dependency comes from.
enum Source {
    Vendored,
    Local(PathBuf),
    Repo {
        repo: super::Repository,
        cache_name: String,
    },
    Oci(crate::oci::OciRef),
}

/// Options of `dependency update` and `build` for remote dependencies.
#[derive(Debug, Clone, Default)]
pub struct DepsOptions {
    /// Connection options for OCI registries.
    pub transport: crate::transport::TransportOptions,
    /// Check every downloaded chart against its provenance file with this public keyring.
    pub verify_keyring: Option<PathBuf>,
}

fn source(paths: &Paths, chart_dir: &Path, dep: &Dependency) -> Result<Source> {
    let repo = dep.repository.trim();
    if repo.is_empty() {
        return Ok(Source::Vendored);
    }
    if let Some(path) = repo.strip_prefix("file://") {
        return Ok(Source::Local(chart_dir.join(path)));
    }
    if crate::oci::is_oci(repo) {
        let full = format!("{}/{}", repo.trim_end_matches('/'), dep.name);
        let r = crate::oci::OciRef::parse(&full)
            .with_context(|| format!("dependency `{}` has repository `{repo}`", dep.name))?;
        return Ok(Source::Oci(r));
    }
    if let Some(name) = repo
        .strip_prefix('@')
        .or_else(|| repo.strip_prefix("alias:"))
    {
        let file = super::RepoFile::load(&paths.config)?;
        let r = file
            .get(name)
            .with_context(|| format!("dependency `{}` names repository `{repo}`", dep.name))?;
        return Ok(Source::Repo {
            repo: r.clone(),
            cache_name: r.name.clone(),
        });
    }
    match super::fetch::location(repo)? {
        super::fetch::Location::Http(url) => {
            let file = super::RepoFile::load(&paths.config)?;
            // A URL that is also a configured repository shares its cached index and
            // credentials.
            let (repo, cache_name) = match file
                .repositories
                .iter()
                .find(|r| r.url.trim_end_matches('/') == url.trim_end_matches('/'))
            {
                Some(r) => (r.clone(), r.name.clone()),
                None => (
                    super::Repository {
                        url: url.clone(),
                        ..Default::default()
                    },
                    format!(
                        "url-{}",
                        &crate::package::digest(url.trim_end_matches('/').as_bytes())[..16]
                    ),
                ),
            };
            Ok(Source::Repo { repo, cache_name })
        }
        super::fetch::Location::File(p) => bail!(
            "dependency `{}`: repository `{}` is neither a URL nor file://; write file://{} for a local chart",
            dep.name,
            repo,
            p.display()
        ),
    }
}

/// Resolves one dependency to (version, package bytes), checking downloads against their
/// provenance when `opts` asks for it.
fn resolve_one(
    paths: &Paths,
    chart_dir: &Path,
    dep: &Dependency,
    constraint: &str,
    refresh: bool,
    indexes: &mut std::collections::BTreeMap<String, IndexFile>,
    opts: &DepsOptions,
) -> Result<Option<(String, Vec<u8>)>> {
    match source(paths, chart_dir, dep)? {
        Source::Vendored => Ok(None),
        Source::Local(path) => {
            let (name, version, bytes) =
                crate::package::build_archive(&path, &crate::package::PackageOptions::default())
                    .with_context(|| {
                        format!("cannot package local dependency `{}`", path.display())
                    })?;
            if name != dep.name {
                bail!(
                    "dependency `{}` points at `{}`, which is chart `{name}`",
                    dep.name,
                    path.display()
                );
            }
            let c = crate::chart::version::parse_constraint(if constraint.is_empty() {
                "*"
            } else {
                constraint
            })?;
            if !c.matches(&semver::Version::parse(&version)?) {
                bail!(
                    "dependency `{}` wants version `{constraint}`, but `{}` is {version}",
                    dep.name,
                    path.display()
                );
            }
            Ok(Some((version, bytes)))
        }
        Source::Oci(r) => {
            let c = if constraint.is_empty() {
                None
            } else {
                Some(constraint)
            };
            let pulled = crate::oci::pull(&r, c, false, &opts.transport)
                .with_context(|| format!("dependency `{}`", dep.name))?;
            if let Some(ring) = &opts.verify_keyring {
                let Some(prov) = &pulled.prov else {
                    bail!(
                        "dependency `{}`: {} has no provenance layer, so --verify cannot check it",
                        dep.name,
                        pulled.reference
                    );
                };
                crate::provenance::verify(
                    &pulled.bytes,
                    &pulled.file_name(),
                    &String::from_utf8_lossy(prov),
                    ring,
                )
                .with_context(|| format!("dependency `{}` from {}", dep.name, pulled.reference))?;
            }
            Ok(Some((pulled.version, pulled.bytes)))
        }
        Source::Repo { repo, cache_name } => {
            let base = repo.url.clone();
            if !indexes.contains_key(&cache_name) {
                let cached = paths.index_cache(&cache_name);
                let index = if !refresh && cached.is_file() {
                    IndexFile::load(&cached)?.0
                } else {
                    let (index, bytes, _) =
                        super::download_index_for(&repo, &format!("index of {base}"))?;
                    super::write_cache(paths, &cache_name, &bytes)?;
                    index
                };
                indexes.insert(cache_name.clone(), index);
            }
            let index = &indexes[&cache_name];
            let entry = index
                .resolve(&dep.name, Some(constraint), false)
                .with_context(|| format!("dependency `{}` from {base}", dep.name))?;
            let d = super::download_verified_for(&repo, entry)?;
            if let Some(ring) = &opts.verify_keyring {
                let prov_url = format!("{}.prov", d.url);
                let prov = super::fetch::fetch_with(
                    &prov_url,
                    1024 * 1024,
                    "provenance file",
                    &repo.transport(),
                    repo.may_send_credentials(&prov_url),
                )
                .with_context(|| format!("dependency `{}`: --verify needs {prov_url}", dep.name))?;
                let file_name = format!("{}-{}.tgz", dep.name, entry.metadata.version);
                crate::provenance::verify(
                    &d.bytes,
                    &file_name,
                    &String::from_utf8_lossy(&prov),
                    ring,
                )
                .with_context(|| format!("dependency `{}` from {base}", dep.name))?;
            }
            Ok(Some((entry.metadata.version.clone(), d.bytes)))
        }
    }
}

/// Replaces the packages of the given dependencies in charts/ with new ones.
fn install(chart_dir: &Path, fetched: &[(String, String, Vec<u8>)]) -> Result<()> {
    let charts = chart_dir.join("charts");
    std::fs::create_dir_all(&charts)
        .with_context(|| format!("cannot create `{}`", charts.display()))?;
    let have = present(chart_dir)?;
    for (name, _, _) in fetched {
        for (n, _, path) in &have {
            if n == name && path.is_file() {
                std::fs::remove_file(path)
                    .with_context(|| format!("cannot remove old `{}`", path.display()))?;
            }
        }
    }
    for (name, version, bytes) in fetched {
        let target = charts.join(format!("{name}-{version}.tgz"));
        crate::fsutil::AtomicWrite::PUBLIC.write(&target, bytes)?;
    }
    Ok(())
}

/// `dependency update`: resolves every dependency to the newest version its constraint
/// allows, downloads (and verifies) it into charts/, and writes Chart.lock.
pub fn update(paths: &Paths, chart_dir: &Path, skip_refresh: bool) -> Result<LockFile> {
    update_with(paths, chart_dir, skip_refresh, &DepsOptions::default())
}

/// [`update`] with registry options and provenance checks.
pub fn update_with(
    paths: &Paths,
    chart_dir: &Path,
    skip_refresh: bool,
    opts: &DepsOptions,
) -> Result<LockFile> {
    let meta = read_metadata(chart_dir)?;
    let mut indexes = std::collections::BTreeMap::new();
    let mut locked = Vec::new();
    let mut fetched = Vec::new();
    for dep in &meta.dependencies {
        match resolve_one(
            paths,
            chart_dir,
            dep,
            &dep.version,
            !skip_refresh,
            &mut indexes,
            opts,
        )? {
            Some((version, bytes)) => {
                locked.push(LockedDependency {
                    name: dep.name.clone(),
                    version: version.clone(),
                    repository: dep.repository.clone(),
                });
                fetched.push((dep.name.clone(), version, bytes));
            }
            None => {
                let status = list(chart_dir)?
                    .into_iter()
                    .find(|s| s.name == dep.name)
                    .expect("listed from the same Chart.yaml");
                let Some(found) = status.found.filter(|_| status.status == "ok") else {
                    bail!(
                        "dependency `{}` has no repository and charts/ does not hold a matching version ({}); vendor it or set `repository`",
                        dep.name,
                        status.status
                    );
                };
                locked.push(LockedDependency {
                    name: dep.name.clone(),
                    version: found,
                    repository: String::new(),
                });
            }
        }
    }
    install(chart_dir, &fetched)?;
    let lock = LockFile {
        digest: lock_digest(&meta.dependencies, &locked),
        dependencies: locked,
        generated: crate::timestamp::Timestamp::now().rfc3339_nanos(),
    };
    crate::fsutil::AtomicWrite::PUBLIC.write(
        &chart_dir.join("Chart.lock"),
        crate::yaml::to_string(&lock)?.as_bytes(),
    )?;
    Ok(lock)
}

/// `dependency build`: restores charts/ to exactly the versions in Chart.lock. Without a
/// lock it is `dependency update`.
pub fn build(paths: &Paths, chart_dir: &Path) -> Result<LockFile> {
    build_with(paths, chart_dir, &DepsOptions::default())
}

/// [`build`] with registry options and provenance checks.
pub fn build_with(paths: &Paths, chart_dir: &Path, opts: &DepsOptions) -> Result<LockFile> {
    let lock_path = chart_dir.join("Chart.lock");
    if !lock_path.is_file() {
        return update_with(paths, chart_dir, false, opts);
    }
    let text = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read `{}`", lock_path.display()))?;
    let lock: LockFile = crate::yaml::from_str(&text, &lock_path.display().to_string())
        .map_err(|e| anyhow::anyhow!("{e} (delete it and run `stoke dependency update`)"))?;
    let meta = read_metadata(chart_dir)?;
    if lock_digest(&meta.dependencies, &lock.dependencies) != lock.digest {
        bail!(
            "`{}` is out of date: Chart.yaml's dependencies changed since it was written (run `stoke dependency update {}`)",
            lock_path.display(),
            chart_dir.display()
        );
    }
    let mut indexes = std::collections::BTreeMap::new();
    let mut fetched = Vec::new();
    for locked in &lock.dependencies {
        let dep = meta
            .dependencies
            .iter()
            .find(|d| d.name == locked.name)
            .context("Chart.lock names a dependency Chart.yaml lacks")?;
        let exact = format!("={}", locked.version);
        if let Some((version, bytes)) =
            resolve_one(paths, chart_dir, dep, &exact, true, &mut indexes, opts)?
        {
            fetched.push((dep.name.clone(), version, bytes));
        }
    }
    install(chart_dir, &fetched)?;
    Ok(lock)
}
