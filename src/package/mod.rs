//! Chart packages: reproducible `.tgz` archives, digests and repository indexes.
//!
//! A package is `NAME-VERSION.tgz` holding one folder `NAME/` (Helm's layout). Unlike
//! Helm's, stoke's archives are byte-for-byte reproducible: entries are sorted, every
//! timestamp, owner and mode is fixed, and the gzip header carries no time, no file name
//! and a fixed OS byte. The same chart therefore has the same digest on every machine,
//! which lets a CI job check that a published package matches its sources.

pub mod index;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::chart::ignore::IgnoreRules;
use crate::chart::metadata::Metadata;

/// Modification time of every entry: 1980-01-01T00:00:00Z. Zero would be as reproducible,
/// but some tools warn about 1970 timestamps; 1980 is the earliest zip can express too.
pub const FIXED_MTIME: u64 = 315_532_800;

/// Permission bits of every file in a package. Packages carry data, never programs.
pub const FILE_MODE: u32 = 0o644;

/// The gzip header's OS byte: 255, "unknown", so the machine that packaged leaves no trace.
pub const GZIP_OS: u8 = 255;

/// Options of [`package`].
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// Replaces `version` in the packaged Chart.yaml.
    pub version: Option<String>,
    /// Replaces `appVersion` in the packaged Chart.yaml.
    pub app_version: Option<String>,
}

/// Packages the chart directory `chart_dir` into `dest_dir/NAME-VERSION.tgz` and returns
/// that path. The chart is linted first (errors stop packaging; warnings do not), and the
/// finished archive is read back through the hardened loader so a package stoke writes is
/// always one stoke accepts. `.helmignore` is honoured.
pub fn package(
    chart_dir: &Path,
    dest_dir: &Path,
    version_override: Option<&str>,
    app_version_override: Option<&str>,
) -> Result<PathBuf> {
    lint_before_packaging(chart_dir)?;
    let (name, version, bytes) = build_archive(
        chart_dir,
        &PackageOptions {
            version: version_override.map(str::to_string),
            app_version: app_version_override.map(str::to_string),
        },
    )?;
    let dest = dest_dir.join(format!("{name}-{version}.tgz"));
    crate::chart::load::load_archive(&bytes, &dest)
        .with_context(|| {
            format!(
                "cannot package `{}`: the package would be refused when loaded (see docs/limits.md to raise a limit)",
                chart_dir.display()
            )
        })?;
    std::fs::create_dir_all(dest_dir)
        .with_context(|| format!("cannot create destination `{}`", dest_dir.display()))?;
    crate::fsutil::AtomicWrite::PUBLIC.write(&dest, &bytes)?;
    Ok(dest)
}

fn lint_before_packaging(chart_dir: &Path) -> Result<()> {
    let report = crate::lint::lint(
        chart_dir,
        &crate::values::ValuesOptions::default(),
        &crate::engine::RenderOptions::default(),
    );
    let errors: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == crate::lint::Severity::Error)
        .map(|f| format!("  - {}: {}", f.location, f.message))
        .collect();
    if !errors.is_empty() {
        bail!(
            "chart `{}` has lint errors; fix them before packaging (see `stoke lint {}`):\n{}",
            chart_dir.display(),
            chart_dir.display(),
            errors.join("\n")
        );
    }
    Ok(())
}

/// Writes `bytes` to `dest` atomically with the usual file mode, flushed to disk; the
/// same as [`crate::fsutil::AtomicWrite::PUBLIC`], kept for callers written against it.
pub fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<()> {
    crate::fsutil::AtomicWrite::PUBLIC.write(dest, bytes)
}

/// Builds the package bytes for `chart_dir`; returns the chart name, its version and the
/// archive.
pub fn build_archive(chart_dir: &Path, opts: &PackageOptions) -> Result<(String, String, Vec<u8>)> {
    let chart_yaml_path = chart_dir.join("Chart.yaml");
    if !chart_yaml_path.is_file() {
        bail!(
            "`{}` is not a chart: it has no Chart.yaml (create one with `stoke create NAME`)",
            chart_dir.display()
        );
    }
    let mut files = collect_files(chart_dir)?;
    let chart_yaml = files
        .iter_mut()
        .find(|(n, _)| n == "Chart.yaml")
        .context("Chart.yaml is excluded by .helmignore; a package needs it")?;
    let text = std::str::from_utf8(&chart_yaml.1)
        .with_context(|| format!("{} is not UTF-8 text", chart_yaml_path.display()))?;
    if opts.version.is_some() || opts.app_version.is_some() {
        chart_yaml.1 = rewrite_chart_yaml(text, opts, &chart_yaml_path)?.into_bytes();
    }
    let text = std::str::from_utf8(&chart_yaml.1).expect("checked or produced as UTF-8");
    let meta = Metadata::parse(text, &chart_yaml_path.display().to_string())?;
    let tar = write_tar(&meta.name, &files)?;
    Ok((meta.name, meta.version, gzip(&tar)?))
}

/// Replaces `version` and/or `appVersion` in Chart.yaml, keeping every other key (comments
/// are lost, as with Helm).
fn rewrite_chart_yaml(text: &str, opts: &PackageOptions, origin: &Path) -> Result<String> {
    let mut doc: crate::yaml::Yaml = crate::yaml::try_from_str(text)
        .with_context(|| format!("{} is not valid YAML", origin.display()))?;
    let map = doc
        .as_mapping_mut()
        .with_context(|| format!("{} is not a mapping", origin.display()))?;
    if let Some(v) = &opts.version {
        semver::Version::parse(v).with_context(|| {
            format!("--version `{v}` is not a valid SemVer 2 version (e.g. 1.2.3)")
        })?;
        map.insert("version".into(), v.as_str().into());
    }
    if let Some(v) = &opts.app_version {
        map.insert("appVersion".into(), v.as_str().into());
    }
    crate::yaml::to_string(&doc)
}

/// Every file of the chart that `.helmignore` keeps, as (relative path, contents), sorted
/// by path.
pub fn collect_files(chart_dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let ignore_path = chart_dir.join(".helmignore");
    let rules = match std::fs::read_to_string(&ignore_path) {
        Ok(text) => {
            IgnoreRules::parse(&text).with_context(|| format!("in {}", ignore_path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => IgnoreRules::default(),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read `{}`", ignore_path.display()));
        }
    };
    let mut out = Vec::new();
    let mut walker = crate::chart::links::Walker::new(chart_dir)?;
    let within = walker.canonical_root().to_path_buf();
    walk(chart_dir, "", &rules, &mut out, &mut walker, 0, &within)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn walk(
    root: &Path,
    rel: &str,
    rules: &IgnoreRules,
    out: &mut Vec<(String, Vec<u8>)>,
    walker: &mut crate::chart::links::Walker,
    depth: usize,
    within: &Path,
) -> Result<()> {
    use crate::chart::links::Entry;
    let dir = root.join(rel);
    let entries =
        std::fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            bail!(
                "`{}` has a name that is not UTF-8; rename it or add it to .helmignore",
                entry.path().display()
            );
        };
        let rel_path = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        // Links inside the chart are followed, links leaving it refused (chart/links.rs).
        let kind = walker.entry(&entry.path(), depth, within)?;
        if rules.is_ignored(&rel_path, matches!(kind, Entry::Dir(_))) {
            continue;
        }
        // Helm never packages hidden files under templates/.
        if rel_path.starts_with("templates/") && name.starts_with('.') {
            continue;
        }
        match kind {
            Entry::Dir(linked) => {
                let bound = linked.as_deref().unwrap_or(within);
                walk(root, &rel_path, rules, out, walker, depth + 1, bound)?
            }
            Entry::File(size) => {
                let data = walker.read(&entry.path(), size)?;
                out.push((rel_path, data));
            }
            Entry::Other => {}
        }
    }
    Ok(())
}

/// Writes the tar stream: one regular-file entry per file under `top/`, in the given
/// order, with fixed metadata.
fn write_tar(top: &str, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(FILE_MODE);
        header.set_mtime(FIXED_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("")?;
        header.set_groupname("")?;
        let path = format!("{top}/{name}");
        builder
            .append_data(&mut header, &path, data.as_slice())
            .with_context(|| format!("cannot add `{path}` to the package"))?;
    }
    Ok(builder.into_inner()?)
}

/// Compresses with a fixed gzip header: no timestamp, no file name, OS byte [`GZIP_OS`].
fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS)
        .write(Vec::new(), flate2::Compression::new(9));
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// Lower-case hex SHA-256 of `bytes` (the digest Helm's index and Chart.lock carry).
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// SHA-256 of a file's contents, in hex.
pub fn digest_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok(digest(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_hex_sha256() {
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_gzip_header_has_no_time_and_no_name() {
        let gz = gzip(b"x").unwrap();
        assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0], "no FNAME flag");
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "mtime zero");
        assert_eq!(gz[9], GZIP_OS);
    }

    #[test]
    fn rewritten_chart_yaml_keeps_other_keys() {
        let out = rewrite_chart_yaml(
            "apiVersion: v2\nname: a\nversion: 1.0.0\nx-extra: kept\n",
            &PackageOptions {
                version: Some("2.0.0".into()),
                app_version: Some("8.1".into()),
            },
            Path::new("Chart.yaml"),
        )
        .unwrap();
        assert!(out.contains("version: 2.0.0"), "{out}");
        assert!(out.contains("appVersion: '8.1'"), "{out}");
        assert!(out.contains("x-extra: kept"), "{out}");
    }
}
