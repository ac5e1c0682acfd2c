//! Writing output folders without ever following a symbolic link.
//!
//! An output folder (`template --output-dir`, the GitOps target) is shared with people and
//! tools, so anything may already sit in it, including a link planted to redirect a write
//! (`gw/secret-x.yaml -> ~/.ssh/authorized_keys`) or a delete. Every operation here works
//! relative to an open folder handle and refuses links at each step below the folder the
//! user named: folders are opened with `O_NOFOLLOW | O_DIRECTORY`, files are created with
//! `O_EXCL | O_NOFOLLOW` under a temporary name and renamed over the final one (a rename
//! replaces a link itself, never what it points to), and deletes unlink the entry itself.
//! Doing it through handles rather than re-checked paths leaves no window in which a folder
//! could be swapped for a link between the check and the write.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

/// Mode of a file holding a Secret: readable by its owner only.
pub const SECRET_MODE: u32 = 0o600;
/// Mode of any other output file (the umask still applies).
pub const FILE_MODE: u32 = 0o644;
/// Mode of output folders (the umask may make it stricter, never looser).
pub const DIR_MODE: u32 = 0o700;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An open output folder; every path below it is resolved one component at a time.
#[derive(Debug)]
pub struct OutDir {
    fd: OwnedFd,
    path: PathBuf,
}

pub use crate::mask::holds_secret;

fn link_refused(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` is a symbolic link; stoke never writes through links in an output folder (remove the link, or choose another --output-dir)",
        path.display()
    )
}

/// Checks that `name` is one plain path component (no `/`, `.`, `..` or NUL).
pub fn check_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

impl OutDir {
    /// Opens (creating it, mode 0700, when missing) the folder the user named. The folder
    /// itself may be a link: the user chose it; nothing below it may be.
    pub fn open_root(root: &Path) -> Result<OutDir> {
        use std::os::unix::fs::DirBuilderExt;
        if !root.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(root)
                .with_context(|| format!("cannot create output folder `{}`", root.display()))?;
        }
        let fd = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(std::io::Error::from)
        .with_context(|| format!("cannot open output folder `{}`", root.display()))?;
        Ok(OutDir {
            fd,
            path: root.to_path_buf(),
        })
    }

    /// Opens the folder if it exists (without creating anything).
    pub fn open_existing_root(root: &Path) -> Result<Option<OutDir>> {
        if !root.exists() {
            return Ok(None);
        }
        OutDir::open_root(root).map(Some)
    }

    /// The folder's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the sub-folder `name`, creating it (mode 0700) when `create` is set; `None`
    /// when it is missing and not created. A link in its place is refused.
    pub fn subdir(&self, name: &str, create: bool) -> Result<Option<OutDir>> {
        let path = self.path.join(name);
        if !check_component(name) {
            bail!("`{}` is not a plain folder name", path.display());
        }
        if create {
            match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(DIR_MODE)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => {
                    return Err(std::io::Error::from(e))
                        .with_context(|| format!("cannot create folder `{}`", path.display()));
                }
            }
        }
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(OutDir { fd, path })),
            Err(Errno::NOENT) if !create => Ok(None),
            Err(Errno::LOOP) => Err(link_refused(&path)),
            Err(Errno::NOTDIR) => {
                if self.is_link(name) {
                    Err(link_refused(&path))
                } else {
                    bail!(
                        "`{}` is a file where stoke needs a folder (move it away)",
                        path.display()
                    )
                }
            }
            Err(e) => Err(std::io::Error::from(e))
                .with_context(|| format!("cannot open folder `{}`", path.display())),
        }
    }

    /// Opens (creating) the folder at a relative path of plain components.
    pub fn subpath(&self, rel: &Path) -> Result<OutDir> {
        let mut dir: Option<OutDir> = None;
        for c in rel.components() {
            let Component::Normal(name) = c else {
                bail!(
                    "`{}` leaves the output folder `{}`; refusing to write there",
                    rel.display(),
                    self.path.display()
                );
            };
            let name = name.to_str().context("output paths must be UTF-8")?;
            let parent = dir.as_ref().unwrap_or(self);
            let next = parent.subdir(name, true)?.expect("created");
            dir = Some(next);
        }
        match dir {
            Some(d) => Ok(d),
            None => OutDir::open_root(&self.path),
        }
    }

    fn is_link(&self, name: &str) -> bool {
        rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .map(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink
            })
            .unwrap_or(false)
    }

    /// Replaces the file `name` with `data` atomically, with `mode` (filtered by the
    /// umask). An existing link of that name is replaced, never followed; an existing
    /// folder is an error. With `durable` the data and the rename are flushed to disk.
    pub fn write(&self, name: &str, data: &[u8], mode: u32, durable: bool) -> Result<()> {
        let path = self.path.join(name);
        if !check_component(name) {
            bail!("`{}` is not a plain file name", path.display());
        }
        let tmp = format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let result = (|| -> Result<()> {
            let fd = rustix::fs::openat(
                &self.fd,
                tmp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            )
            .map_err(std::io::Error::from)
            .with_context(|| format!("cannot create `{}`", self.path.join(&tmp).display()))?;
            let mut file = std::fs::File::from(fd);
            file.write_all(data)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            if durable {
                file.sync_all()
                    .with_context(|| format!("cannot flush `{}` to disk", path.display()))?;
            }
            drop(file);
            crate::failpoint::failpoint("outdir-before-rename");
            rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name)
                .map_err(std::io::Error::from)
                .with_context(|| format!("cannot replace `{}`", path.display()))?;
            if durable {
                rustix::fs::fsync(&self.fd)
                    .map_err(std::io::Error::from)
                    .with_context(|| format!("cannot flush folder `{}`", self.path.display()))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
        }
        result
    }

    /// The contents of the regular file `name`, or `None` when it does not exist. A link
    /// is refused.
    pub fn read_optional(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path.join(name);
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut std::fs::File::from(fd), &mut data)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
                Ok(Some(data))
            }
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP) => Err(link_refused(&path)),
            Err(e) => Err(std::io::Error::from(e))
                .with_context(|| format!("cannot read `{}`", path.display())),
        }
    }

    /// Removes the entry `name` itself (a link is removed, not what it points to); a
    /// missing entry is fine.
    pub fn remove_file(&self, name: &str) -> Result<()> {
        if !check_component(name) {
            bail!(
                "`{}` is not a plain file name",
                self.path.join(name).display()
            );
        }
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(std::io::Error::from(e))
                .with_context(|| format!("cannot remove `{}`", self.path.join(name).display())),
        }
    }

    /// Removes the sub-folder `name` if it is empty; anything a person put there keeps it.
    pub fn remove_dir_if_empty(&self, name: &str) {
        if check_component(name) {
            let _ = rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR);
        }
    }

    /// Names of the entries in this folder.
    pub fn entries(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let dir = rustix::fs::Dir::read_from(&self.fd)
            .map_err(std::io::Error::from)
            .with_context(|| format!("cannot list `{}`", self.path.display()))?;
        for entry in dir {
            let entry = entry
                .map_err(std::io::Error::from)
                .with_context(|| format!("cannot list `{}`", self.path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != "." && name != ".." {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_link_in_place_of_a_file_is_replaced_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, "keep").unwrap();
        let root = tmp.path().join("out");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("x.yaml")).unwrap();
        let d = OutDir::open_root(&root).unwrap();
        d.write("x.yaml", b"new", SECRET_MODE, false).unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        let meta = std::fs::symlink_metadata(root.join("x.yaml")).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_link_in_place_of_a_folder_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("out");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink(tmp.path(), root.join("ns")).unwrap();
        let d = OutDir::open_root(&root).unwrap();
        let e = d.subdir("ns", true).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
    }
}
