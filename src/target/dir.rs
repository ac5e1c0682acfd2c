//! The directory target: `DIR/<namespace>/<release>/<kind>-<name>.yaml`, one file per
//! resource, kept in step with the deployed revision.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Change, Target};
use crate::fsutil::atomic_write;
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

fn read_managed(dir: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(dir.join(MANAGED))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

impl Target for DirTarget {
    fn apply(&self, change: &Change) -> Result<()> {
        let (release, manifests) = (change.release, change.manifests);
        let dir = self.release_dir(release);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create output folder `{}`", dir.display()))?;
        let before = read_managed(&dir);
        let mut now = BTreeSet::new();
        for m in manifests {
            let mut name = file_name(m);
            // The same kind and name in two namespaces (or API groups) would collide;
            // qualify the later one so neither is lost.
            if now.contains(&name) {
                let ns = m.namespace.as_deref().unwrap_or("cluster");
                name = format!("{}-{ns}.yaml", name.trim_end_matches(".yaml"));
            }
            let text = format!("# Source: {}\n{}", m.source, m.body);
            atomic_write(&dir.join(&name), text.as_bytes(), false)?;
            now.insert(name);
        }
        let list: String = now.iter().map(|n| format!("{n}\n")).collect();
        atomic_write(&dir.join(MANAGED), list.as_bytes(), false)?;
        for gone in before.difference(&now) {
            let path = dir.join(gone);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove `{}`", path.display()));
                }
            }
        }
        Ok(())
    }

    fn remove(&self, release: &ReleaseKey, _manifests: &[Manifest]) -> Result<()> {
        let dir = self.release_dir(release);
        for name in read_managed(&dir) {
            let _ = std::fs::remove_file(dir.join(name));
        }
        let _ = std::fs::remove_file(dir.join(MANAGED));
        // Only an empty folder goes; anything a person added stays.
        let _ = std::fs::remove_dir(&dir);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("folder `{}`", self.root.display())
    }
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
