//! Output of packaging and distribution: package, repo, search, pull, dependency, push,
//! registry and verify.

use std::path::Path;

use anyhow::Result;

use super::{OutputFormat, Table, lines, note, structured, warnings};
use crate::package::index::WrittenIndex;
use crate::provenance::Verification;
use crate::repo::deps::DependencyStatus;
use crate::repo::{RepoFile, SearchHit, UpdateResult};

/// A package written, with its digest.
pub fn packaged(path: &Path, digest: &str) -> Result<()> {
    lines(&[format!("Packaged {} (sha256 {digest})", path.display())])
}

/// A provenance file written.
pub fn signed(prov: &Path, key: &str) -> Result<()> {
    lines(&[format!("Signed {} with `{key}`", prov.display())])
}

/// `repo index`.
pub fn index_written(written: &WrittenIndex) -> Result<()> {
    warnings(&written.warnings);
    lines(&[format!(
        "Wrote {} ({} charts, {} versions)",
        written.path.display(),
        written.charts,
        written.versions
    )])
}

/// `repo add`.
pub fn repo_added(name: &str, warnings_of_add: &[String]) -> Result<()> {
    warnings(warnings_of_add);
    lines(&[format!("\"{name}\" has been added to your repositories")])
}

/// `repo list`.
pub fn repo_list(file: &RepoFile, format: OutputFormat) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&crate::repo::listing(file), format);
    }
    if file.repositories.is_empty() {
        note("no repositories configured (add one with `stoke repo add NAME URL`)");
        return Ok(());
    }
    Table::new(&["NAME", "URL"])
        .rows(
            file.repositories
                .iter()
                .map(|r| vec![r.name.clone(), r.url.clone()])
                .collect(),
        )
        .print()
}

/// `repo update`.
pub fn repos_updated(results: &[UpdateResult]) -> Result<()> {
    for r in results {
        warnings(&r.warnings);
        lines(&[format!("Updated \"{}\" ({} charts)", r.name, r.charts)])?;
    }
    Ok(())
}

/// `repo remove`.
pub fn repos_removed(names: &[String]) -> Result<()> {
    let text: Vec<String> = names
        .iter()
        .map(|n| format!("\"{n}\" has been removed from your repositories"))
        .collect();
    lines(&text)
}

/// `search repo`.
pub fn search(hits: Vec<SearchHit>, found: &[String], format: OutputFormat) -> Result<()> {
    warnings(found);
    if format != OutputFormat::Table {
        return structured(&hits, format);
    }
    if hits.is_empty() {
        note("No results found");
        return Ok(());
    }
    Table::new(&["NAME", "CHART VERSION", "APP VERSION", "DESCRIPTION"])
        .rows(
            hits.into_iter()
                .map(|h| vec![h.name, h.version, h.app_version, h.description])
                .collect(),
        )
        .print()
}

/// `pull`.
pub fn pulled(pulled: &crate::repo::Pulled) -> Result<()> {
    let mut text = Vec::new();
    if let Some(v) = &pulled.verification {
        text.push(format!(
            "Verified {} (signed by {})",
            v.file_name,
            v.signed_by.join(", ")
        ));
    }
    text.push(format!(
        "Pulled {} to {}",
        pulled.origin,
        pulled.path.display()
    ));
    lines(&text)
}

/// `dependency update`: each saved chart, then the lock file written.
pub fn deps_saved(lock: &crate::repo::deps::LockFile, chart: &Path) -> Result<()> {
    let mut text: Vec<String> = lock
        .dependencies
        .iter()
        .map(|d| format!("Saved {} {} in charts/", d.name, d.version))
        .collect();
    text.push(format!("Wrote {}", chart.join("Chart.lock").display()));
    lines(&text)
}

/// `dependency build`.
pub fn deps_restored(lock: &crate::repo::deps::LockFile) -> Result<()> {
    let text: Vec<String> = lock
        .dependencies
        .iter()
        .map(|d| format!("Restored {} {} in charts/", d.name, d.version))
        .collect();
    lines(&text)
}

/// `dependency list`.
pub fn deps_list(list: &[DependencyStatus], format: OutputFormat) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&list, format);
    }
    Table::new(&["NAME", "VERSION", "REPOSITORY", "STATUS"])
        .rows(
            list.iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        d.version.clone(),
                        d.repository.clone(),
                        d.status.clone(),
                    ]
                })
                .collect(),
        )
        .print()
}

/// `push`.
pub fn pushed(pushed: &crate::oci::Pushed, format: OutputFormat) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(pushed, format);
    }
    let mut text = vec![
        format!("Pushed: {}", pushed.reference),
        format!("Digest: {}", pushed.digest),
    ];
    if pushed.signed {
        text.push("Provenance: included".into());
    }
    lines(&text)
}

/// `registry login`.
pub fn logged_in(kept: &str) -> Result<()> {
    lines(&[format!("Login Succeeded (credentials stored in {kept})")])
}

/// `registry logout`.
pub fn logged_out(host: &str, kept: &str) -> Result<()> {
    lines(&[format!(
        "Removing login credentials for {host} (from {kept})"
    )])
}

/// `verify`.
pub fn verification(v: &Verification, format: OutputFormat) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(v, format);
    }
    let mut text: Vec<String> = v
        .signed_by
        .iter()
        .map(|id| format!("Signed by: {id}"))
        .collect();
    text.push(format!("Using Key With Fingerprint: {}", v.fingerprint));
    text.push(format!("Chart Hash Verified: {}", v.file_hash));
    lines(&text)
}
