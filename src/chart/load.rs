//! Loading charts. Directories and archives both become a list of in-memory files first, and
//! one function turns such a list into a [`Chart`], so every source is validated alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::ignore::IgnoreRules;
use super::{Chart, ChartFile, Metadata};

/// Loads a chart from a directory or a packaged `.tgz`.
pub fn load(path: &Path) -> Result<Chart> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read chart `{}`", path.display()))?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read chart archive `{}`", path.display()))?;
        load_archive(&bytes, path)
    }
}

/// Loads a chart from the bytes of a `.tgz` archive.
pub fn load_archive(bytes: &[u8], origin: &Path) -> Result<Chart> {
    let (top, files) = crate::chart::archive::read(bytes, origin)?;
    let chart = from_files(files, origin.to_path_buf(), None)
        .with_context(|| format!("cannot load chart archive `{}`", origin.display()))?;
    check_folder_name(&chart, &top, origin)?;
    Ok(chart)
}

/// A package's folder must carry the chart's name, as `stoke package` and Helm write it;
/// anything else was renamed or crafted.
fn check_folder_name(chart: &Chart, top: &str, origin: &Path) -> Result<()> {
    if chart.name() != top {
        bail!(
            "cannot load chart archive `{}`: its folder `{top}/` does not match the chart name `{}` in Chart.yaml (repackage it with `stoke package`)",
            origin.display(),
            chart.name()
        );
    }
    Ok(())
}

/// Loads a chart directory, honouring its `.helmignore`.
pub fn load_dir(dir: &Path) -> Result<Chart> {
    if !dir.join("Chart.yaml").is_file() {
        bail!(
            "`{}` is not a chart: it has no Chart.yaml (create one with `stoke create NAME`)",
            dir.display()
        );
    }
    let rules = match std::fs::read_to_string(dir.join(".helmignore")) {
        Ok(text) => IgnoreRules::parse(&text)
            .with_context(|| format!("in {}", dir.join(".helmignore").display()))?,
        Err(_) => IgnoreRules::default(),
    };
    let mut files = Vec::new();
    let mut walker = super::links::Walker::new(dir)?;
    let within = walker.canonical_root().to_path_buf();
    walk(dir, "", &rules, &mut files, &mut walker, 0, &within)?;
    from_files_in(files, dir.to_path_buf(), None, Source::Folder)
}

/// Where a chart's files were read from. A folder's `Chart.yaml` is read back parsed from
/// the artifact cache; an archive's is parsed every time, so an archive that is refused
/// later (a crafted folder name, a hostile subchart) leaves no entry behind.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Folder,
    Archive,
}

fn walk(
    root: &Path,
    rel: &str,
    rules: &IgnoreRules,
    out: &mut Vec<ChartFile>,
    walker: &mut super::links::Walker,
    depth: usize,
    within: &Path,
) -> Result<()> {
    use super::links::Entry;
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list `{}`", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            bail!("`{}` has a name that is not UTF-8", entry.path().display());
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
        match kind {
            Entry::Dir(linked) => {
                let bound = linked.as_deref().unwrap_or(within);
                walk(root, &rel_path, rules, out, walker, depth + 1, bound)?
            }
            Entry::File(size) => {
                let data = walker.read(&entry.path(), size)?;
                out.push(ChartFile {
                    name: rel_path,
                    data,
                });
            }
            Entry::Other => {}
        }
    }
    Ok(())
}

/// Builds a chart from its files (paths relative to the chart root). `parent_path` is the
/// template-name prefix of the parent chart, for subcharts.
pub fn from_files(
    files: Vec<ChartFile>,
    origin: PathBuf,
    parent_path: Option<&str>,
) -> Result<Chart> {
    from_files_in(files, origin, parent_path, Source::Archive)
}

fn from_files_in(
    files: Vec<ChartFile>,
    origin: PathBuf,
    parent_path: Option<&str>,
    source: Source,
) -> Result<Chart> {
    let mut chart_yaml = None;
    let mut values_text = None;
    let mut schema_text = None;
    let mut templates = Vec::new();
    let mut other = Vec::new();
    let mut sub_dirs: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
    let mut sub_archives = Vec::new();

    for file in files {
        let name = file.name.as_str();
        if name == "Chart.yaml" {
            chart_yaml = Some(file);
        } else if name == "values.yaml" {
            values_text = Some(file);
        } else if name == "values.schema.json" {
            schema_text = Some(file);
        } else if name.starts_with("templates/") {
            templates.push(file);
        } else if let Some(rest) = name.strip_prefix("charts/") {
            match rest.split_once('/') {
                Some((sub, inner)) => {
                    sub_dirs
                        .entry(sub.to_string())
                        .or_default()
                        .push(ChartFile {
                            name: inner.to_string(),
                            data: file.data,
                        })
                }
                None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                    sub_archives.push(file)
                }
                // Stray files in charts/ (a README, a lock) are not charts; Helm skips them too.
                None => {}
            }
        } else {
            other.push(file);
        }
    }

    let Some(chart_yaml) = chart_yaml else {
        bail!("Chart.yaml is missing in `{}`", origin.display());
    };
    let chart_yaml_origin = origin.join("Chart.yaml");
    let chart_yaml_text = utf8(&chart_yaml.data, &chart_yaml_origin)?;
    let chart_yaml_name = chart_yaml_origin.display().to_string();
    let metadata = match source {
        Source::Folder => super::parsed::chart_yaml(chart_yaml_text, &chart_yaml_name)?,
        Source::Archive => Metadata::parse(chart_yaml_text, &chart_yaml_name)?,
    };
    let path = match parent_path {
        Some(p) => format!("{p}/charts/{}", metadata.name),
        None => metadata.name.clone(),
    };

    let (values, values_text) = match values_text {
        Some(f) => {
            let file = origin.join("values.yaml");
            let text = utf8(&f.data, &file)?.to_string();
            (
                super::parsed::values_yaml(&text, &file.display().to_string())?,
                text,
            )
        }
        None => (serde_json::Map::new(), String::new()),
    };
    let schema = match schema_text {
        Some(f) => {
            let file = origin.join("values.schema.json");
            Some(super::parsed::schema_json(
                &f.data,
                &file.display().to_string(),
            )?)
        }
        None => None,
    };

    let mut subcharts = Vec::new();
    for (dir, files) in sub_dirs {
        let sub_origin = origin.join("charts").join(&dir);
        subcharts.push(
            from_files_in(files, sub_origin.clone(), Some(&path), source)
                .with_context(|| format!("cannot load subchart `{}`", sub_origin.display()))?,
        );
    }
    for archive in sub_archives {
        let sub_origin = origin.join(&archive.name);
        let (top, files) = crate::chart::archive::read(&archive.data, &sub_origin)?;
        let sub = from_files(files, sub_origin.clone(), Some(&path))
            .with_context(|| format!("cannot load subchart `{}`", sub_origin.display()))?;
        check_folder_name(&sub, &top, &sub_origin)?;
        subcharts.push(sub);
    }

    Ok(Chart {
        metadata,
        values,
        values_text,
        schema,
        templates,
        files: other.into(),
        subcharts,
        origin,
        path,
        id: Default::default(),
        schema_id: Default::default(),
    })
}

fn utf8<'a>(data: &'a [u8], file: &Path) -> Result<&'a str> {
    std::str::from_utf8(data).with_context(|| format!("{} is not UTF-8 text", file.display()))
}
