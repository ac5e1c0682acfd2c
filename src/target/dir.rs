//! The directory target: `DIR/<namespace>/<release>/<kind>-<name>.yaml`, one file per
//! resource, kept in step with the deployed revision.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use rustix::fs::Mode;

use super::safe::{self, OutDir};
use super::{Change, Target};
use crate::manifest::Manifest;
use crate::record::ReleaseKey;

/// The list of files this target wrote into a release folder, so it only ever deletes its
/// own files and never, say, a `kustomization.yaml` someone added.
const MANAGED: &str = ".stoke-managed";

/// Writes each resource to its own file under a root folder.
#[derive(Debug, Clone)]
pub struct DirTarget {
    root: PathBuf,
}

impl DirTarget {
    /// A target writing under `root`.
    pub fn new(root: &Path) -> DirTarget {
        DirTarget {
            root: root.to_path_buf(),
        }
    }

    /// The folder of one release.
    pub fn release_dir(&self, release: &ReleaseKey) -> PathBuf {
        self.root.join(&release.namespace).join(&release.name)
    }
}

/// `<kind>-<name>.yaml` in lower case, with anything outside `[a-z0-9.-]` replaced by `-`.
pub fn file_name(m: &Manifest) -> String {
    let clean = |s: &str| -> String {
        s.to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("{}-{}.yaml", clean(&m.kind), clean(&m.name))
}

/// Reads and validates `.stoke-managed`. Every entry must be a plain file name inside the
/// release folder: the list decides what gets deleted, so an entry such as `../../x` or
/// `/etc/passwd` (a damaged or planted list) is refused before anything is touched.
fn read_managed(dir: &OutDir) -> Result<BTreeSet<String>> {
    let Some(bytes) = dir.read_optional(MANAGED)? else {
        return Ok(BTreeSet::new());
    };
    let path = dir.path().join(MANAGED);
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "`{}` is not UTF-8 text; it is damaged: delete it (stoke then rewrites its own files and leaves the rest alone)",
            path.display()
        )
    })?;
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        if !safe::check_component(line) || line.starts_with('.') {
            bail!(
                "`{}` line {}: `{line}` is not a file name inside the release folder (entries must be plain names, without `/` or `..`); the list is damaged or was edited: fix or delete it; nothing was changed",
                path.display(),
                i + 1
            );
        }
        out.insert(line.to_string());
    }
    Ok(out)
}

fn managed_text(names: &BTreeSet<String>) -> String {
    names.iter().map(|n| format!("{n}\n")).collect()
}

impl DirTarget {
    /// The open release folder, refusing links on the way; `None` when it does not exist
    /// and `create` is false.
    fn open_release(&self, release: &ReleaseKey, create: bool) -> Result<Option<OutDir>> {
        let root = if create {
            OutDir::open_root(&self.root)?
        } else {
            match OutDir::open_existing_root(&self.root)? {
                Some(r) => r,
                None => return Ok(None),
            }
        };
        let Some(ns) = root.subdir(&release.namespace, create)? else {
            return Ok(None);
        };
        ns.subdir(&release.name, create)
    }

    /// The files a set of manifests becomes: name, text and mode.
    fn plan(manifests: &[Manifest]) -> Vec<(String, String, u32)> {
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        for m in manifests {
            let mut name = file_name(m);
            // The same kind and name in two namespaces (or API groups) would collide;
            // qualify the later one so neither is lost.
            if names.contains(&name) {
                let ns = m.namespace.as_deref().unwrap_or("cluster");
                name = format!("{}-{ns}.yaml", name.trim_end_matches(".yaml"));
            }
            names.insert(name.clone());
            let text = format!("# Source: {}\n{}", m.source, m.body);
            let mode = if safe::holds_secret(&m.kind, &m.body) {
                safe::SECRET_MODE
            } else {
                safe::FILE_MODE
            };
            out.push((name, text, mode));
        }
        out
    }
}

impl Target for DirTarget {
    fn apply(&self, change: &Change) -> Result<()> {
        let (release, manifests) = (change.release, change.manifests);
        let dir = self
            .open_release(release, true)?
            .expect("created when missing");
        let before = read_managed(&dir)?;
        // The caller holds the release's lock, so a temporary file here was left by a write
        // that was cut short.
        for name in dir.entries()? {
            if name.starts_with('.') && name.ends_with(".tmp") {
                dir.remove_file(&name)?;
            }
        }
        let files = DirTarget::plan(manifests);
        let now: BTreeSet<String> = files.iter().map(|(n, _, _)| n.clone()).collect();
        // The list is a journal: before any file is written it names every file that may
        // exist once this apply is done or cut short, so a later apply (the repair after a
        // crash) knows and removes each of them.
        let union: BTreeSet<String> = before.union(&now).cloned().collect();
        if union != before {
            dir.write(
                MANAGED,
                managed_text(&union).as_bytes(),
                safe::FILE_MODE,
                true,
            )?;
        }
        for (name, text, mode) in &files {
            // Unchanged files are left alone, so repairing an intact folder writes nothing.
            if dir.read_optional(name).ok().flatten().as_deref() == Some(text.as_bytes())
                && file_mode(&dir, name) == Some(*mode & !umask())
            {
                continue;
            }
            dir.write(name, text.as_bytes(), *mode, true)?;
        }
        for gone in before.difference(&now) {
            dir.remove_file(gone)?;
        }
        if union != now {
            dir.write(
                MANAGED,
                managed_text(&now).as_bytes(),
                safe::FILE_MODE,
                true,
            )?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("folder `{}`", self.root.display())
    }

    fn remove(&self, release: &ReleaseKey, _manifests: &[Manifest]) -> Result<()> {
        let Some(dir) = self.open_release(release, false)? else {
            return Ok(());
        };
        for name in read_managed(&dir)? {
            dir.remove_file(&name)?;
        }
        dir.remove_file(MANAGED)?;
        // Only an empty folder goes; anything a person added stays.
        if let Some(ns) = OutDir::open_existing_root(&self.root)?
            .map(|r| r.subdir(&release.namespace, false))
            .transpose()?
            .flatten()
        {
            ns.remove_dir_if_empty(&release.name);
        }
        Ok(())
    }
}

fn file_mode(dir: &OutDir, name: &str) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(dir.path().join(name))
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions().mode() & 0o777)
}

/// The process umask (read by setting and restoring it; only the main thread writes
/// output folders).
fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let old = rustix::process::umask(Mode::from_raw_mode(0o077));
        rustix::process::umask(old);
        old.as_raw_mode()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: &str, name: &str) -> Manifest {
        Manifest {
            source: "c/templates/x.yaml".into(),
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            body: format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n"),
        }
    }

    fn change<'a>(key: &'a ReleaseKey, manifests: &'a [Manifest]) -> Change<'a> {
        Change {
            release: key,
            action: crate::target::Action::Install,
            manifests,
            previous: &[],
            stale: &[],
            previous_revision: None,
            crds: &[],
        }
    }

    #[test]
    fn apply_writes_one_file_per_resource_and_removes_dropped_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let t = DirTarget::new(tmp.path());
        let key = ReleaseKey::new("prod", "gw").unwrap();
        let first = [m("Service", "gw"), m("ConfigMap", "gw-config")];
        t.apply(&change(&key, &first)).unwrap();
        let dir = tmp.path().join("prod/gw");
        std::fs::write(dir.join("kustomization.yaml"), "resources: []\n").unwrap();
        assert!(dir.join("service-gw.yaml").is_file());
        assert!(dir.join("configmap-gw-config.yaml").is_file());

        t.apply(&change(&key, &[m("Service", "gw")])).unwrap();
        assert!(dir.join("service-gw.yaml").is_file());
        assert!(!dir.join("configmap-gw-config.yaml").exists());
        assert!(
            dir.join("kustomization.yaml").is_file(),
            "foreign files stay"
        );

        t.remove(&key, &[]).unwrap();
        assert!(!dir.join("service-gw.yaml").exists());
        assert!(dir.join("kustomization.yaml").is_file());
    }
}
