//! The one atomic file writer. Data goes to a temporary file in the destination's folder
//! and is renamed over the final name, so a reader or a crash sees the old file or the new
//! one, never a part. [`AtomicWrite`] chooses the mode and whether the write is durable
//! (the file and then its folder flushed to disk before returning).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

/// Creates `dir` and its missing parents with mode 0700 (the store holds secrets).
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| {
            format!(
                "cannot create folder `{}` (check that the store location is writable, or choose another with --store)",
                dir.display()
            )
        })
}

/// Flushes a folder's entries (a rename is only durable once its folder is).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).with_context(|| format!("cannot open folder `{}`", dir.display()))?;
    f.sync_all()
        .with_context(|| format!("cannot flush folder `{}` to disk", dir.display()))
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How [`AtomicWrite::write`] writes: the new file's mode and whether it is flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomicWrite {
    /// Permission bits of the new file (the process umask still applies).
    pub mode: u32,
    /// Flush the data and then the folder (so the rename survives a power cut) before
    /// returning.
    pub durable: bool,
}

impl AtomicWrite {
    /// Mode 0600, durable: release records and anything else that may hold secrets.
    pub(crate) const PRIVATE: AtomicWrite = AtomicWrite {
        mode: 0o600,
        durable: true,
    };

    /// Mode 0666 less the umask (what `create` gives), durable: files people share, such
    /// as packages and repository indexes.
    pub(crate) const PUBLIC: AtomicWrite = AtomicWrite {
        mode: 0o666,
        durable: true,
    };

    /// The same options with durability turned on or off.
    pub const fn durable(self, durable: bool) -> AtomicWrite {
        AtomicWrite { durable, ..self }
    }

    /// Writes `data` to `path` atomically. The temporary file is created exclusively (never
    /// through an existing file or symlink), and the rename replaces a symlink at `path`
    /// rather than writing through it.
    pub fn write(self, path: &Path, data: &[u8]) -> Result<()> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Unique per process and call, so two writers never share a temporary file; the
        // leading dot keeps temporaries out of every listing the store makes.
        let tmp = dir.join(format!(
            ".{file_name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| -> Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(self.mode)
                .open(&tmp)
                .with_context(|| {
                    format!(
                        "cannot create `{}` (check that the folder is writable)",
                        tmp.display()
                    )
                })?;
            f.write_all(data)
                .with_context(|| format!("cannot write `{}`", tmp.display()))?;
            if self.durable {
                f.sync_all()
                    .with_context(|| format!("cannot flush `{}` to disk", tmp.display()))?;
            }
            crate::failpoint::failpoint("atomic-write-before-rename");
            std::fs::rename(&tmp, path).with_context(|| {
                format!("cannot rename `{}` to `{}`", tmp.display(), path.display())
            })?;
            if self.durable {
                sync_dir(dir)?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Writes `data` to `path` atomically with mode 0600; with `durable`, flushed to disk
/// before returning. Shorthand for [`AtomicWrite::PRIVATE`].
pub(crate) fn atomic_write(path: &Path, data: &[u8], durable: bool) -> Result<()> {
    AtomicWrite::PRIVATE.durable(durable).write(path, data)
}
