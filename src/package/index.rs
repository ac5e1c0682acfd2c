//! Helm's repository index (`index.yaml`): reading it defensively, resolving versions in it,
//! and generating it for a folder of packages.
//!
//! The written form matches Helm's: `apiVersion: v1`, `entries` keyed by chart name with
//! versions newest first, `generated`, and every mapping's keys in alphabetical order (Helm
//! writes YAML through JSON, which sorts keys). Ordering is total, so indexing an unchanged
//! folder twice changes nothing but `generated`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::chart::metadata::{Metadata, is_valid_chart_name};
use crate::chart::version::parse_constraint;

/// Largest index accepted, in bytes. Public repositories' indexes reach tens of MiB; beyond
/// this a download is more likely hostile than large.
pub(crate) const MAX_INDEX_SIZE: u64 = 64 * 1024 * 1024;

/// A repository index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexFile {
    /// Always `v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Versions of each chart, newest first.
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
    /// When the index was generated (RFC 3339).
    #[serde(default)]
    pub generated: String,
}

/// One packaged version of a chart in an index: its Chart.yaml plus where to get it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartVersion {
    /// The package's Chart.yaml.
    #[serde(flatten)]
    pub metadata: Metadata,
    /// Where to download it; relative URLs are relative to the repository URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// When it was added (RFC 3339).
    #[serde(default)]
    pub created: String,
    /// Hex SHA-256 of the archive.
    #[serde(default)]
    pub digest: String,
    /// Whether the version was withdrawn.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

impl ChartVersion {
    /// The parsed version (entries that do not parse are dropped when the index is read).
    pub fn semver(&self) -> semver::Version {
        semver::Version::parse(&self.metadata.version).unwrap_or(semver::Version::new(0, 0, 0))
    }
}

impl IndexFile {
    /// An empty `v1` index.
    pub fn new() -> Self {
        IndexFile {
            api_version: "v1".into(),
            ..Default::default()
        }
    }

    /// Parses index bytes from `origin` (a path or URL, for messages). Entries that are
    /// malformed are skipped and described in the returned warnings, as Helm does; an
    /// index that is too large, not YAML, or not an index at all is an error.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<(IndexFile, Vec<String>)> {
        if bytes.len() as u64 > MAX_INDEX_SIZE {
            bail!(
                "repository index {origin} is {} bytes, over the {} MiB limit; refusing to parse it",
                bytes.len(),
                MAX_INDEX_SIZE >> 20
            );
        }
        let text = std::str::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "the repository index is not valid YAML: {origin}: it is not UTF-8 text"
            )
        })?;
        let doc: crate::yaml::Yaml = crate::yaml::try_from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "the repository index is not valid YAML: {}",
                e.describe(origin)
            )
        })?;
        let Some(map) = doc.as_mapping() else {
            bail!(
                "repository index {origin} is not a mapping (is the URL right? it should serve index.yaml)"
            );
        };
        match map.get("apiVersion").and_then(|v| v.as_str()) {
            Some("v1") => {}
            Some(other) => {
                bail!("repository index {origin} has apiVersion `{other}`; only `v1` is supported")
            }
            None => bail!(
                "repository index {origin} has no apiVersion; it is not a Helm repository index"
            ),
        }
        let mut index = IndexFile::new();
        index.generated = map
            .get("generated")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let mut warnings = Vec::new();
        let entries = match map.get("entries") {
            None | Some(crate::yaml::Yaml::Null) => return Ok((index, warnings)),
            Some(crate::yaml::Yaml::Mapping(m)) => m,
            Some(_) => bail!("repository index {origin}: `entries` is not a mapping"),
        };
        for (name, versions) in entries {
            let Some(name) = name.as_str() else {
                warnings.push(format!("{origin}: skipped an entry whose name is not text"));
                continue;
            };
            // Names end up in file names (cache, downloads); a crafted one must not traverse.
            if !is_valid_chart_name(name) {
                warnings.push(format!(
                    "{origin}: skipped chart `{}`: not a valid chart name",
                    name.escape_debug()
                ));
                continue;
            }
            let Some(list) = versions.as_sequence() else {
                warnings.push(format!(
                    "{origin}: skipped chart `{name}`: not a list of versions"
                ));
                continue;
            };
            let mut kept = Vec::new();
            for (i, v) in list.iter().enumerate() {
                match parse_entry(name, v) {
                    Ok(cv) => kept.push(cv),
                    Err(e) => warnings.push(format!("{origin}: skipped `{name}` entry {i}: {e:#}")),
                }
            }
            if !kept.is_empty() {
                index.entries.insert(name.to_string(), kept);
            }
        }
        index.sort();
        Ok((index, warnings))
    }

    /// Reads an index file from disk.
    pub fn load(path: &Path) -> Result<(IndexFile, Vec<String>)> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read repository index `{}`", path.display()))?;
        if meta.len() > MAX_INDEX_SIZE {
            bail!(
                "repository index `{}` is {} bytes, over the {} MiB limit",
                path.display(),
                meta.len(),
                MAX_INDEX_SIZE >> 20
            );
        }
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read repository index `{}`", path.display()))?;
        Self::parse(&bytes, &format!("`{}`", path.display()))
    }

    /// Sorts every chart's versions newest first (by SemVer precedence, then build metadata
    /// and URL so the order is total).
    pub fn sort(&mut self) {
        for list in self.entries.values_mut() {
            list.sort_by(|a, b| {
                b.semver()
                    .cmp(&a.semver())
                    .then_with(|| b.metadata.version.cmp(&a.metadata.version))
                    .then_with(|| a.urls.cmp(&b.urls))
            });
        }
    }

    /// Adds a version unless that name and version is already present; returns whether it
    /// was added.
    pub fn add(&mut self, cv: ChartVersion) -> bool {
        let list = self.entries.entry(cv.metadata.name.clone()).or_default();
        if list
            .iter()
            .any(|x| x.metadata.version == cv.metadata.version)
        {
            return false;
        }
        list.push(cv);
        true
    }

    /// Finds a version by exact name and version.
    pub fn get(&self, name: &str, version: &str) -> Option<&ChartVersion> {
        self.entries
            .get(name)?
            .iter()
            .find(|v| v.metadata.version == version)
    }

    /// The newest version of `name` that satisfies `constraint` (Helm's syntax). Without a
    /// constraint the newest stable version is chosen; pre-releases are considered only
    /// when the constraint names one (`>=1.0.0-0`) or `devel` is set.
    pub fn resolve(
        &self,
        name: &str,
        constraint: Option<&str>,
        devel: bool,
    ) -> Result<&ChartVersion> {
        let Some(list) = self.entries.get(name) else {
            let mut names: Vec<&str> = self.entries.keys().map(String::as_str).collect();
            names.sort_by_key(|n| strsim::levenshtein(n, name));
            let hint = match names.first() {
                Some(n) if strsim::levenshtein(n, name) <= 3 => format!(" (did you mean `{n}`?)"),
                _ => String::new(),
            };
            bail!("chart `{name}` is not in the repository index{hint}");
        };
        let text = match constraint.map(str::trim) {
            Some(c) if !c.is_empty() => c,
            _ if devel => ">=0.0.0-0",
            _ => "*",
        };
        let c = parse_constraint(text).with_context(|| {
            format!("`{text}` is not a version constraint (e.g. ^1.2, ~1.2.3, >=1.0 <2.0)")
        })?;
        // Entries are kept newest first, so the first match is the answer.
        let found = list
            .iter()
            .filter(|v| !v.removed)
            .find(|v| semver::Version::parse(&v.metadata.version).is_ok_and(|sv| c.matches(&sv)));
        match found {
            Some(v) => Ok(v),
            None => {
                let avail: Vec<&str> = list
                    .iter()
                    .take(10)
                    .map(|v| v.metadata.version.as_str())
                    .collect();
                let more = if list.len() > 10 { ", ..." } else { "" };
                bail!(
                    "no version of `{name}` satisfies `{text}` (available: {}{more}){}",
                    avail.join(", "),
                    if devel || text.contains('-') {
                        ""
                    } else {
                        "; pre-releases are only considered with --devel or a constraint such as `>=1.0.0-0`"
                    }
                )
            }
        }
    }

    /// The index as Helm writes it: YAML with keys in alphabetical order.
    pub fn to_yaml(&self) -> Result<String> {
        let value = serde_json::to_value(self)?;
        crate::yaml::to_string(&sorted_yaml(value))
    }
}

fn parse_entry(name: &str, v: &crate::yaml::Yaml) -> Result<ChartVersion> {
    let cv: ChartVersion = crate::yaml::from_yaml(v.clone()).context("malformed entry")?;
    if cv.metadata.name != name {
        bail!("its name `{}` differs from its key", cv.metadata.name);
    }
    semver::Version::parse(&cv.metadata.version)
        .with_context(|| format!("version `{}` is not SemVer 2", cv.metadata.version))?;
    if cv.urls.is_empty() {
        bail!("version {} has no urls", cv.metadata.version);
    }
    Ok(cv)
}

/// Converts JSON to YAML with every mapping's keys sorted, whatever order serde_json keeps.
fn sorted_yaml(v: serde_json::Value) -> crate::yaml::Yaml {
    use crate::yaml::Yaml as Y;
    use serde_json::Value as J;
    match v {
        J::Null => Y::Null,
        J::Bool(b) => Y::Bool(b),
        J::Number(n) => crate::yaml::to_yaml(&n).unwrap_or(Y::Null),
        J::String(s) => Y::String(s),
        J::Array(a) => Y::Sequence(a.into_iter().map(sorted_yaml).collect()),
        J::Object(o) => {
            let mut pairs: Vec<(String, J)> = o.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut m = crate::yaml::Mapping::new();
            for (k, v) in pairs {
                m.insert(Y::String(k), sorted_yaml(v));
            }
            Y::Mapping(m)
        }
    }
}

/// Options of [`index_directory`].
#[derive(Debug, Clone, Default)]
pub struct IndexOptions {
    /// Base URL the packages will be served from; without it URLs are relative.
    pub url: Option<String>,
    /// An existing index whose versions are kept when the folder lacks them.
    pub merge: Option<PathBuf>,
}

/// What [`write_index`] wrote.
#[derive(Debug)]
pub struct WrittenIndex {
    /// `dir/index.yaml`.
    pub path: PathBuf,
    /// Chart names in it.
    pub charts: usize,
    /// Chart versions in it, all charts together.
    pub versions: usize,
    /// Problems with single packages, which were left out (see [`index_directory`]).
    pub warnings: Vec<String>,
}

/// `stoke repo index`: indexes `dir` ([`index_directory`]) and replaces `dir/index.yaml`
/// atomically, so a server never hands out half an index.
pub fn write_index(dir: &Path, opts: &IndexOptions) -> Result<WrittenIndex> {
    let (index, warnings) = index_directory(dir, opts)?;
    let path = dir.join("index.yaml");
    crate::fsutil::AtomicWrite::PUBLIC
        .write(&path, index.to_yaml()?.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(WrittenIndex {
        path,
        charts: index.entries.len(),
        versions: index.entries.values().map(Vec::len).sum(),
        warnings,
    })
}

/// Indexes every `*.tgz` in `dir` and in its immediate subfolders. `created` is taken from
/// `dir/index.yaml` when it lists the same package with the same digest, else from the
/// archive's modification time, so an unchanged folder re-indexes identically.
pub fn index_directory(dir: &Path, opts: &IndexOptions) -> Result<(IndexFile, Vec<String>)> {
    let mut warnings = Vec::new();
    let previous = {
        let p = dir.join("index.yaml");
        if p.is_file() {
            // It is about to be replaced, so a broken one only costs the `created` times.
            match IndexFile::load(&p) {
                Ok((idx, w)) => {
                    warnings.extend(w);
                    Some(idx)
                }
                Err(e) => {
                    warnings.push(format!("ignoring the existing index: {e:#}"));
                    None
                }
            }
        } else {
            None
        }
    };
    let mut packages = Vec::new();
    list_packages(dir, "", &mut packages)?;
    let mut sub_dirs: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    sub_dirs.sort();
    for sub in sub_dirs {
        list_packages(&dir.join(&sub), &sub, &mut packages)?;
    }

    let mut index = IndexFile::new();
    for (rel, path) in packages {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let meta = package_metadata(&bytes, &path)?;
        let digest = super::digest(&bytes);
        let created = previous
            .as_ref()
            .and_then(|p| p.get(&meta.name, &meta.version))
            .filter(|p| p.digest == digest)
            .map(|p| p.created.clone())
            .unwrap_or_else(|| {
                let mtime = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                crate::timestamp::Timestamp::from_system_time(mtime).rfc3339_nanos()
            });
        let url = match &opts.url {
            Some(base) => format!("{}/{rel}", base.trim_end_matches('/')),
            None => rel.clone(),
        };
        let (name, version) = (meta.name.clone(), meta.version.clone());
        let added = index.add(ChartVersion {
            metadata: meta,
            urls: vec![url],
            created,
            digest,
            removed: false,
        });
        if !added {
            warnings.push(format!(
                "`{}` is another package of {name} {version}; only the first one is indexed",
                path.display()
            ));
        }
    }
    if let Some(merge) = &opts.merge {
        let (other, w) = IndexFile::load(merge)?;
        warnings.extend(w);
        for list in other.entries.into_values() {
            for cv in list {
                index.add(cv);
            }
        }
    }
    index.sort();
    index.generated = crate::timestamp::Timestamp::now().rfc3339_nanos();
    Ok((index, warnings))
}

fn list_packages(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".tgz"))
        .collect();
    names.sort();
    for n in names {
        let r = if rel.is_empty() {
            n.clone()
        } else {
            format!("{rel}/{n}")
        };
        out.push((r, dir.join(n)));
    }
    Ok(())
}

/// Chart.yaml of a package, read through the hardened archive reader (only Chart.yaml is
/// parsed, so indexing stays fast).
pub(crate) fn package_metadata(bytes: &[u8], origin: &Path) -> Result<Metadata> {
    let (top, files) = crate::chart::archive::read(bytes, origin)?;
    let chart_yaml = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .with_context(|| format!("package `{}` has no {top}/Chart.yaml", origin.display()))?;
    let text = std::str::from_utf8(&chart_yaml.data)
        .with_context(|| format!("{}: Chart.yaml is not UTF-8", origin.display()))?;
    let meta = Metadata::parse(text, &format!("{}:{top}/Chart.yaml", origin.display()))?;
    if meta.name != top {
        bail!(
            "package `{}`: its folder `{top}/` does not match the chart name `{}`",
            origin.display(),
            meta.name
        );
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(versions: &[&str]) -> IndexFile {
        let mut i = IndexFile::new();
        for v in versions {
            i.add(ChartVersion {
                metadata: Metadata {
                    api_version: "v2".into(),
                    name: "gw".into(),
                    version: v.to_string(),
                    ..Default::default()
                },
                urls: vec![format!("gw-{v}.tgz")],
                ..Default::default()
            });
        }
        i.sort();
        i
    }

    #[test]
    fn versions_sort_newest_first_by_semver_not_text() {
        let i = idx(&["1.9.0", "1.10.0", "1.10.0-rc.1"]);
        let order: Vec<&str> = i.entries["gw"]
            .iter()
            .map(|v| v.metadata.version.as_str())
            .collect();
        assert_eq!(order, ["1.10.0", "1.10.0-rc.1", "1.9.0"]);
    }

    #[test]
    fn resolution_skips_pre_releases_unless_asked() {
        let i = idx(&["1.0.0", "1.1.0-beta.1"]);
        assert_eq!(
            i.resolve("gw", None, false).unwrap().metadata.version,
            "1.0.0"
        );
        assert_eq!(
            i.resolve("gw", None, true).unwrap().metadata.version,
            "1.1.0-beta.1"
        );
        assert_eq!(
            i.resolve("gw", Some(">=1.1.0-0"), false)
                .unwrap()
                .metadata
                .version,
            "1.1.0-beta.1"
        );
        let e = i.resolve("gw", Some("^2"), false).unwrap_err();
        assert!(
            format!("{e:#}").contains("available: 1.1.0-beta.1, 1.0.0"),
            "{e:#}"
        );
    }

    #[test]
    fn written_keys_are_alphabetical() {
        let text = idx(&["1.0.0"]).to_yaml().unwrap();
        let a = text.find("apiVersion: v1").unwrap();
        let e = text.find("entries:").unwrap();
        let g = text.find("generated:").unwrap();
        assert!(a < e && e < g, "{text}");
        let n = text.find("    name: gw").unwrap();
        let u = text.find("    urls:").unwrap();
        assert!(n < u, "{text}");
    }

    #[test]
    fn traversal_names_and_bad_versions_are_skipped() {
        let text = "apiVersion: v1\nentries:\n  ../evil:\n  - {name: ../evil, version: 1.0.0, urls: [x]}\n  ok:\n  - {name: ok, version: nope, urls: [x]}\n  - {name: ok, version: 1.0.0, urls: [ok-1.0.0.tgz]}\n";
        let (i, w) = IndexFile::parse(text.as_bytes(), "test").unwrap();
        assert_eq!(i.entries.len(), 1);
        assert_eq!(w.len(), 2, "{w:?}");
    }

    #[test]
    fn dependencies_keep_helm_key_names() {
        let text = "apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    urls: [app-1.0.0.tgz]\n    dependencies:\n    - name: db\n      version: ^1\n      repository: https://x\n      import-values: [data]\n";
        let (i, w) = IndexFile::parse(text.as_bytes(), "test").unwrap();
        assert!(w.is_empty(), "{w:?}");
        let out = i.to_yaml().unwrap();
        assert!(out.contains("import-values:\n"), "{out}");
        assert!(out.contains("repository: https://x"), "{out}");
    }
}
