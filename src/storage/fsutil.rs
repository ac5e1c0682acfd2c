//! Durable, private file-system writes: every record goes to a temporary file in the same
//! folder, is flushed to disk, renamed over its final name and the folder is flushed, so a
//! reader or a crash sees either the old record or the new one, never a part.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

/// Creates `dir` and its missing parents with mode 0700 (the store holds secrets).
pub fn create_private_dir(dir: &Path) -> Result<()> {
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
pub fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).with_context(|| format!("cannot open folder `{}`", dir.display()))?;
    f.sync_all()
        .with_context(|| format!("cannot flush folder `{}` to disk", dir.display()))
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `data` to `path` atomically with mode 0600. With `durable`, the data and the
/// rename are flushed to disk before returning (turned off only to build large benchmark
/// fixtures quickly).
pub fn atomic_write(path: &Path, data: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per process and call, so two writers never share a temporary file; the leading
    // dot keeps temporaries out of every listing the store makes.
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| {
                format!(
                    "cannot create `{}` (check that the store location is writable, or choose another with --store)",
                    tmp.display()
                )
            })?;
        f.write_all(data)
            .with_context(|| format!("cannot write `{}`", tmp.display()))?;
        if durable {
            f.sync_all()
                .with_context(|| format!("cannot flush `{}` to disk", tmp.display()))?;
        }
        crate::release::failpoint("atomic-write-before-rename");
        std::fs::rename(&tmp, path).with_context(|| {
            format!("cannot rename `{}` to `{}`", tmp.display(), path.display())
        })?;
        if durable {
            sync_dir(dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
