//! `stoke create`: a small, working chart that lints clean with `--strict`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Files of the scaffold. `<CHARTNAME>` becomes the chart's name, except before a `.`,
/// where it names the helper components and becomes the name with `-` turned into `_`
/// (component names cannot hold `-`).
const FILES: &[(&str, &str)] = &[
    ("Chart.yaml", include_str!("scaffold/Chart.yaml")),
    ("values.yaml", include_str!("scaffold/values.yaml")),
    (
        "values.schema.json",
        include_str!("scaffold/values.schema.json"),
    ),
    (".helmignore", include_str!("scaffold/helmignore")),
    (
        "templates/_helpers.tera",
        include_str!("scaffold/_helpers.tera"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("scaffold/deployment.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("scaffold/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("scaffold/serviceaccount.yaml"),
    ),
    ("templates/NOTES.txt", include_str!("scaffold/NOTES.txt")),
];

/// Creates the chart directory `path`; its last component is the chart name.
pub fn create(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("`{}` does not end in a chart name", path.display()))?;
    if !crate::chart::metadata::is_valid_chart_name(name) {
        bail!(
            "`{name}` is not a valid chart name: use lower-case letters, digits and `-`, starting with a letter"
        );
    }
    if path.exists() {
        bail!(
            "`{}` already exists; choose another name or remove it first",
            path.display()
        );
    }
    for (rel, text) in FILES {
        let file = path.join(rel);
        std::fs::create_dir_all(file.parent().expect("scaffold files live in a folder"))
            .with_context(|| format!("cannot create `{}`", path.display()))?;
        let ident = name.replace('-', "_");
        let text = text
            .replace("<CHARTNAME>.", &format!("{ident}."))
            .replace("<CHARTNAME>", name);
        std::fs::write(&file, text)
            .with_context(|| format!("cannot write `{}`", file.display()))?;
    }
    Ok(path.to_path_buf())
}
