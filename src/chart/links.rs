//! How a chart folder is walked: symbolic links, sizes and depth.
//!
//! A chart folder may come from a checkout someone else controls, and whatever it holds ends
//! up in rendered output and in packages. A link that resolves outside the chart root
//! (`templates/x -> /etc`) would make stoke read and publish files that are not part of the
//! chart, so it is refused, naming the link. A link that stays inside the root is read as
//! the file or folder it points to (handy for sharing a file between charts of a monorepo
//! checked out together). Only regular files and folders are read: a FIFO would block and
//! a device could be endless. Sizes are checked before reading, against the same limits as
//! packages, so a folder that could not be packaged fails here with the same message.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Deepest folder nesting walked; a loop of links inside the chart would otherwise recurse
/// forever.
pub const MAX_DEPTH: usize = 64;

/// The state of one walk of a chart folder.
pub struct Walker {
    root: PathBuf,
    canonical_root: PathBuf,
    total: u64,
    max_file: u64,
    max_total: u64,
}

/// What an entry of the folder is, after following an (inside) link.
pub enum Entry {
    /// A folder to descend into. For a subchart linked in from elsewhere (`charts/x ->
    /// ../../x`), the linked chart's own folder, which bounds the links below it.
    Dir(Option<PathBuf>),
    /// A regular file of this size.
    File(u64),
    /// Anything else (FIFO, socket, device): not part of a chart.
    Other,
}

impl Walker {
    /// Starts a walk of the chart folder `root`.
    pub fn new(root: &Path) -> Result<Walker> {
        let canonical_root = std::fs::canonicalize(root)
            .with_context(|| format!("cannot read chart folder `{}`", root.display()))?;
        Ok(Walker {
            root: root.to_path_buf(),
            canonical_root,
            total: 0,
            max_file: crate::limits::CHART_FILE_BYTES.get(),
            max_total: crate::limits::CHART_TOTAL_BYTES.get(),
        })
    }

    /// The canonical chart root links must stay inside.
    pub fn canonical_root(&self) -> &Path {
        &self.canonical_root
    }

    /// Classifies `path` (found at `depth` below the root), refusing links that leave
    /// `within` (the canonical folder of the chart being walked) and link loops.
    pub fn entry(&self, path: &Path, depth: usize, within: &Path) -> Result<Entry> {
        if depth > MAX_DEPTH {
            bail!(
                "`{}` is nested more than {MAX_DEPTH} folders deep (a loop of symbolic links?)",
                path.display()
            );
        }
        let own = std::fs::symlink_metadata(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let meta: Metadata = if own.file_type().is_symlink() {
            let target = std::fs::canonicalize(path).with_context(|| {
                format!(
                    "`{}` is a symbolic link that points nowhere (remove it or add it to .helmignore)",
                    path.display()
                )
            })?;
            let mut linked_chart = None;
            if !target.starts_with(within) {
                if is_linked_subchart(path, &target) {
                    linked_chart = Some(target.clone());
                } else {
                    bail!(
                        "`{}` is a symbolic link to `{}`, outside the chart folder `{}`; links in a chart may only point inside it, or be a subchart `charts/NAME` linked to a chart folder (copy the file into the chart instead)",
                        path.display(),
                        target.display(),
                        self.root.display()
                    );
                }
            }
            let meta = std::fs::metadata(path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            if meta.is_dir()
                && let Some(parent) = path.parent().and_then(|p| std::fs::canonicalize(p).ok())
                && parent.starts_with(&target)
            {
                bail!(
                    "`{}` is a symbolic link to `{}`, a folder that contains it (a loop); remove the link",
                    path.display(),
                    target.display()
                );
            }
            if meta.is_dir() {
                return Ok(Entry::Dir(linked_chart));
            }
            meta
        } else {
            own
        };
        Ok(if meta.is_dir() {
            Entry::Dir(None)
        } else if meta.is_file() {
            Entry::File(meta.len())
        } else {
            Entry::Other
        })
    }

    /// Reads the regular file `path` of `size` bytes, within the chart size limits.
    pub fn read(&mut self, path: &Path, size: u64) -> Result<Vec<u8>> {
        if size > self.max_file {
            return Err(crate::limits::CHART_FILE_BYTES
                .exceeded(format!("chart file `{}` is {size} bytes", path.display())));
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.max_total {
            return Err(crate::limits::CHART_TOTAL_BYTES.exceeded(format!(
                "the files of chart `{}` add up to more (at `{}`)",
                self.root.display(),
                path.display()
            )));
        }
        let mut data = Vec::with_capacity(size as usize);
        use std::io::Read;
        std::fs::File::open(path)
            .and_then(|f| f.take(self.max_file + 1).read_to_end(&mut data))
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if data.len() as u64 > self.max_file {
            // It grew while being read.
            return Err(crate::limits::CHART_FILE_BYTES
                .exceeded(format!("chart file `{}` is larger", path.display())));
        }
        Ok(data)
    }
}

/// `charts/NAME -> some/other/chart`: a dependency linked in from a checkout of several
/// charts side by side. Allowed when the link sits directly in the `charts/` folder of a
/// chart and points at a folder with a Chart.yaml; that chart is then walked with its own
/// folder as the bound for the links inside it.
fn is_linked_subchart(link: &Path, target: &Path) -> bool {
    let in_charts = link
        .parent()
        .is_some_and(|p| p.file_name().is_some_and(|n| n == "charts"));
    let parent_is_chart = link
        .parent()
        .and_then(Path::parent)
        .is_some_and(|c| c.join("Chart.yaml").is_file());
    in_charts && parent_is_chart && target.join("Chart.yaml").is_file()
}
