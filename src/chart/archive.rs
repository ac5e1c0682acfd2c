//! Reading chart archives (`.tgz`) safely.
//!
//! A chart archive may come from anywhere (a repository, a colleague, an attacker), so it is
//! read entirely in memory and every entry is checked before its contents are kept: nothing
//! is ever written to disk while reading. The reader refuses what Helm's security advisories
//! warn about: absolute paths, `..` components, links, devices and fifos, duplicate entries,
//! files outside a single top-level folder, non-UTF-8 names, and archives that inflate past
//! a size limit. Sizes are enforced while the gzip stream is inflated, so a gzip bomb is
//! abandoned after at most [`Limits::max_stream`] bytes instead of being expanded.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::ChartFile;

/// Size limits applied while reading an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file, in bytes (Helm uses 5 MiB).
    pub max_file: u64,
    /// Largest sum of all file sizes, in bytes (Helm uses 100 MiB).
    pub max_total: u64,
    /// Largest number of entries of any kind.
    pub max_entries: usize,
}

impl Limits {
    /// The most inflated bytes read from the gzip stream: the files plus room for tar
    /// headers, padding and extended headers. Beyond this the archive is refused.
    pub fn max_stream(&self) -> u64 {
        self.max_total
            .saturating_add(self.max_entries as u64 * 1024)
            .saturating_add(1 << 20)
    }
}

/// The limits used for every chart archive stoke loads.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_file: 5 * 1024 * 1024,
    max_total: 100 * 1024 * 1024,
    max_entries: 20_000,
};

/// Reads a gzip-compressed tar holding one top-level folder; returns the folder's name and
/// the files below it, with paths relative to it, in archive order.
pub fn read(bytes: &[u8], origin: &Path) -> Result<(String, Vec<ChartFile>)> {
    read_with_limits(bytes, origin, &Limits::from_env())
}

impl Limits {
    /// The limits in force: [`DEFAULT_LIMITS`] unless raised through the environment
    /// variables of [`crate::limits`].
    pub fn from_env() -> Limits {
        Limits {
            max_file: crate::limits::CHART_FILE_BYTES.get(),
            max_total: crate::limits::CHART_TOTAL_BYTES.get(),
            max_entries: crate::limits::CHART_ENTRIES.get_usize(),
        }
    }
}

/// [`read`] with explicit limits.
pub fn read_with_limits(
    bytes: &[u8],
    origin: &Path,
    limits: &Limits,
) -> Result<(String, Vec<ChartFile>)> {
    read_inner(bytes, limits).with_context(|| {
        format!(
            "cannot read chart archive `{}`: it is not a safe chart package",
            origin.display()
        )
    })
}

/// Why the inflated stream was cut off; kept inside the `io::Error` so it survives the tar
/// reader and can be reported as a size problem rather than a corrupt archive.
#[derive(Debug)]
struct StreamTooLarge(u64);

impl std::fmt::Display for StreamTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "archive inflates to more than {} bytes", self.0)
    }
}

impl std::error::Error for StreamTooLarge {}

/// Fails the read once more than `limit` bytes have passed through it.
struct CappedReader<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read >= self.limit {
            // Probe one byte: an archive that ends exactly at the limit is still fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(StreamTooLarge(self.limit))),
            };
        }
        let room = (self.limit - self.read).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        Ok(n)
    }
}

fn io_context(err: std::io::Error, what: &str) -> anyhow::Error {
    let too_large = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<StreamTooLarge>())
        .map(|e| e.0);
    match too_large {
        Some(limit) => anyhow!(
            "the archive inflates to more than {} (a compression bomb?); refusing to read further",
            human_size(limit)
        ),
        None if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            anyhow!("{what}: the archive is truncated (download it again)")
        }
        None => anyhow!("{what}: {err} (the archive is corrupt or not a gzip-compressed tar)"),
    }
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

fn read_inner(bytes: &[u8], limits: &Limits) -> Result<(String, Vec<ChartFile>)> {
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        bail!("it is not gzip-compressed (a chart package is a .tgz made by `stoke package`)");
    }
    // The bufread decoder reads no further than the gzip member, so what follows it can be
    // checked afterwards.
    let decoder = flate2::bufread::GzDecoder::new(bytes);
    let capped = CappedReader {
        inner: decoder,
        read: 0,
        limit: limits.max_stream(),
    };
    let mut archive = tar::Archive::new(capped);
    let entries = archive
        .entries()
        .map_err(|e| io_context(e, "cannot list entries"))?;

    let mut top: Option<String> = None;
    let mut files: Vec<ChartFile> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    let mut total: u64 = 0;
    let mut count = 0usize;

    for entry in entries {
        let mut entry = entry.map_err(|e| io_context(e, "cannot read the next entry"))?;
        count += 1;
        if count > limits.max_entries {
            bail!(
                "the archive has more than {} entries; a chart package never needs that many",
                limits.max_entries
            );
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw.clone()).map_err(|_| {
            anyhow!(
                "entry `{}` has a name that is not UTF-8",
                String::from_utf8_lossy(&raw)
            )
        })?;
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            // pax headers carry metadata only; the tar reader applies per-file ones itself.
            T::XGlobalHeader | T::XHeader => continue,
            T::Regular | T::Continuous | T::Directory => {}
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                bail!(
                    "entry `{name}` is a symbolic link (to `{target}`); chart packages may hold only regular files and folders"
                )
            }
            T::Link => bail!(
                "entry `{name}` is a hard link; chart packages may hold only regular files and folders"
            ),
            T::Char | T::Block => bail!(
                "entry `{name}` is a device file; chart packages may hold only regular files and folders"
            ),
            T::Fifo => bail!(
                "entry `{name}` is a fifo; chart packages may hold only regular files and folders"
            ),
            other => bail!(
                "entry `{name}` has unsupported type {:?}; chart packages may hold only regular files and folders",
                other
            ),
        }
        let parts = clean_path(&name)?;
        let Some((first, rest)) = parts.split_first() else {
            // `./` itself.
            continue;
        };
        match &top {
            None => top = Some(first.to_string()),
            Some(t) if t != first => bail!(
                "entry `{name}` lies outside the top-level folder `{t}/`; a chart package holds exactly one top-level folder"
            ),
            Some(_) => {}
        }
        let rel = rest.join("/");
        // Pre-POSIX tars mark folders only by a trailing slash on a regular entry.
        let old_style_dir = kind != T::Directory && name.ends_with('/') && entry.size() == 0;
        if kind == T::Directory || old_style_dir {
            if !rel.is_empty() {
                dirs.insert(rel);
            }
            continue;
        }
        if rel.is_empty() {
            bail!(
                "entry `{name}` is a file at the top level; a chart package holds one folder with the chart inside"
            );
        }
        // `size()` honours a pax size record, which overrides the header's field.
        let size = entry.size();
        if size > limits.max_file {
            bail!(
                "entry `{name}` is {size} bytes, over the {} limit for one file",
                human_size(limits.max_file)
            );
        }
        total = total.saturating_add(size);
        if total > limits.max_total {
            bail!(
                "the files add up to more than {} (at entry `{name}`); refusing to read further",
                human_size(limits.max_total)
            );
        }
        if !seen.insert(rel.clone()) {
            bail!("entry `{name}` appears twice; a chart package holds each file once");
        }
        let mut data = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(size)
            .read_to_end(&mut data)
            .map_err(|e| io_context(e, &format!("cannot read entry `{name}`")))?;
        if (data.len() as u64) < size {
            bail!("entry `{name}` is cut short: the archive is truncated (download it again)");
        }
        files.push(ChartFile { name: rel, data });
    }
    verify_trailer(archive.into_inner())?;
    let Some(top) = top else {
        bail!("the archive is empty");
    };
    // A name that is both a file and a folder would make the chart ambiguous.
    for f in &seen {
        let mut prefix = String::new();
        for part in f.split('/') {
            if !prefix.is_empty() && seen.contains(&prefix) {
                bail!("`{top}/{prefix}` is both a file and a folder in the archive");
            }
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
        }
        if dirs.contains(f) {
            bail!("`{top}/{f}` is both a file and a folder in the archive");
        }
    }
    if files.is_empty() {
        bail!("the folder `{top}/` holds no files");
    }
    Ok((top, files))
}

/// Reads the gzip stream to its end, which makes the decoder check the CRC-32 and length
/// trailer against everything inflated (tar stops reading at its end marker, so without
/// this a damaged or altered package would load), and refuses data after the stream.
fn verify_trailer(mut capped: CappedReader<flate2::bufread::GzDecoder<&[u8]>>) -> Result<()> {
    std::io::copy(&mut capped, &mut std::io::sink()).map_err(|e| {
        if e.get_ref().is_some_and(|i| i.is::<StreamTooLarge>()) {
            return io_context(e, "");
        }
        anyhow!(
            "the gzip stream is damaged ({e}): its checksum or length does not match the content (download or package it again)"
        )
    })?;
    let rest = capped.inner.into_inner();
    // Padding with zeros (tape-style blocking) is harmless; anything else was appended.
    if rest.iter().any(|b| *b != 0) {
        bail!(
            "{} bytes follow the end of the gzip stream; a chart package is one gzip stream (package it again)",
            rest.len()
        );
    }
    Ok(())
}

/// Splits an entry name into its components, refusing anything that could escape the
/// archive's folder when extracted by a careless tool: absolute paths, drive letters,
/// backslashes and `..`.
fn clean_path(name: &str) -> Result<Vec<&str>> {
    if name.starts_with('/') {
        bail!("entry `{name}` has an absolute path; chart packages hold relative paths only");
    }
    if name.contains('\\') {
        bail!("entry `{name}` contains a backslash; chart packages use `/` as the only separator");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        bail!("entry `{name}` starts with a drive letter; chart packages hold relative paths only");
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => bail!(
                "entry `{name}` contains `..`; chart packages may not refer to parent folders"
            ),
            p => parts.push(p),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, *data).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    fn err(bytes: &[u8]) -> String {
        format!("{:#}", read(bytes, Path::new("x.tgz")).unwrap_err())
    }

    #[test]
    fn a_well_formed_archive_yields_the_folder_and_its_files() {
        let (top, files) = read(
            &tgz(&[("demo/Chart.yaml", b"a"), ("./demo/templates/x.yaml", b"b")]),
            Path::new("x.tgz"),
        )
        .unwrap();
        assert_eq!(top, "demo");
        assert_eq!(files[1].name, "templates/x.yaml");
    }

    #[test]
    fn two_top_level_folders_are_refused() {
        let e = err(&tgz(&[("a/Chart.yaml", b"a"), ("b/Chart.yaml", b"b")]));
        assert!(e.contains("outside the top-level folder `a/`"), "{e}");
    }

    #[test]
    fn duplicates_are_refused() {
        let e = err(&tgz(&[("a/Chart.yaml", b"a"), ("a/./Chart.yaml", b"b")]));
        assert!(e.contains("appears twice"), "{e}");
    }

    #[test]
    fn the_stream_cap_stops_a_bomb() {
        let big = vec![0u8; 4 << 20];
        let limits = Limits {
            max_file: 1 << 30,
            max_total: 1 << 20,
            max_entries: 10,
        };
        let e = read_with_limits(&tgz(&[("a/x", &big)]), Path::new("x"), &limits).unwrap_err();
        assert!(format!("{e:#}").contains("more than 1 MiB"), "{e:#}");
    }

    #[test]
    fn non_gzip_data_is_refused() {
        assert!(err(b"hello").contains("not gzip-compressed"));
    }
}
