//! The on-disk cache of compiled artifacts: what a short `stoke` process would otherwise
//! work out again from the same inputs on every run (a chart's compiled Tera templates, the
//! verdict that a set of values matches a schema). See docs/cache.md.
//!
//! An entry is found by a [`Key`], a SHA-256 digest of everything its content is a function
//! of, and holds that key and a CRC-32 of its payload. Reading is best effort and never
//! trusted: a missing, unreadable, truncated, damaged or foreign entry reads as absent, and
//! the caller computes the artifact as if there were no cache. Writing is best effort too
//! (a read-only or missing cache folder just means nothing is saved), atomic (readers see
//! a whole entry or none), and bounded: past [`MAX_BYTES`] the oldest entries go.
//!
//! The folder is `$STOKE_CACHE_DIR`, else `$XDG_CACHE_HOME/stoke/compiled`, else
//! `~/.cache/stoke/compiled`; `STOKE_NO_CACHE=1` turns the cache off.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// Layout of an entry file and of the key derivation; bumping it orphans every entry.
const FORMAT: u32 = 2;
/// An entry file starts with this, then [`FORMAT`], the key and the payload's CRC-32.
/// The check is there for damage (a truncated or flipped file), which a CRC catches; the
/// key is what must not collide, and stays SHA-256. (Digesting the payload with SHA-256
/// cost a few per cent of a one-chart render that reads the cache.)
const MAGIC: &[u8; 8] = b"STOKEART";
const HEADER_LEN: usize = 8 + 4 + 32 + 4;
/// The folder is trimmed back to three quarters of this once it grows past it.
pub(crate) const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// No single entry is read or written past this (a chart's compiled templates are far
/// smaller; anything larger is not worth caching or is not ours).
const MAX_ENTRY: u64 = 16 * 1024 * 1024;

/// What an entry's content is a function of, digested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key([u8; 32]);

impl Key {
    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Builds a [`Key`]. Every key covers the entry kind, [`FORMAT`], stoke's version and the
/// identity of the running executable (its size, modification time and inode), so an
/// entry written by any other build of stoke is never found; the caller adds its inputs.
pub(crate) struct KeyBuilder(Sha256);

impl KeyBuilder {
    /// A key for an artifact of `kind` (also the entry file's name prefix).
    pub(crate) fn new(kind: &str) -> KeyBuilder {
        let mut b = KeyBuilder(Sha256::new());
        b.part(b"stoke artifact cache");
        b.part(&FORMAT.to_le_bytes());
        b.part(kind.as_bytes());
        b.part(env!("CARGO_PKG_VERSION").as_bytes());
        b.part(executable_identity());
        b
    }

    /// Adds one input; inputs are length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    pub(crate) fn part(&mut self, bytes: &[u8]) -> &mut KeyBuilder {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// The finished key.
    pub(crate) fn finish(self) -> Key {
        Key(self.0.finalize().into())
    }
}

/// Size, modification time and inode of the running executable, or nothing when they cannot
/// be read (then only the version tells builds apart).
fn executable_identity() -> &'static [u8] {
    static ID: OnceLock<Vec<u8>> = OnceLock::new();
    ID.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) else {
            return Vec::new();
        };
        let mut id = Vec::with_capacity(40);
        for n in [
            meta.len(),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.dev(),
            meta.ino(),
        ] {
            id.extend_from_slice(&n.to_le_bytes());
        }
        id
    })
}

/// A cache folder.
#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
    /// Whether this process has trimmed the folder yet (see [`Cache::write`]).
    trimmed: std::sync::atomic::AtomicBool,
}

/// The process's cache (see the module notes for where it is), or `None` when the cache
/// is off or there is no home to put it in.
pub(crate) fn global() -> Option<&'static Cache> {
    static CACHE: OnceLock<Option<Cache>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
            if set("STOKE_NO_CACHE").is_some_and(|v| v != "0") {
                return None;
            }
            if let Some(dir) = set("STOKE_CACHE_DIR") {
                return Some(Cache::at(PathBuf::from(dir)));
            }
            let base = match set("XDG_CACHE_HOME").map(PathBuf::from) {
                Some(x) if x.is_absolute() => x,
                _ => PathBuf::from(set("HOME")?).join(".cache"),
            };
            Some(Cache::at(base.join("stoke/compiled")))
        })
        .as_ref()
}

impl Cache {
    /// The cache in `dir` (created on the first write).
    pub(crate) fn at(dir: PathBuf) -> Cache {
        Cache {
            dir,
            trimmed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn entry_path(&self, kind: &str, key: &Key) -> PathBuf {
        self.dir.join(format!("{kind}-{}.bin", key.hex()))
    }

    /// The payload saved under `key`, if there is a whole, undamaged entry for exactly
    /// that key.
    pub(crate) fn read(&self, kind: &str, key: &Key) -> Option<Vec<u8>> {
        let mut file = std::fs::File::open(self.entry_path(kind, key)).ok()?;
        let len = file.metadata().ok()?.len();
        if len < HEADER_LEN as u64 || len > MAX_ENTRY {
            return None;
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes).ok()?;
        let (header, payload) = bytes.split_at_checked(HEADER_LEN)?;
        let (magic, rest) = header.split_at(8);
        let (format, rest) = rest.split_at(4);
        let (stored_key, check) = rest.split_at(32);
        if magic != MAGIC
            || format != FORMAT.to_le_bytes()
            || stored_key != key.0
            || check != crc32fast::hash(payload).to_le_bytes()
        {
            return None;
        }
        bytes.drain(..HEADER_LEN);
        Some(bytes)
    }

    /// Saves `payload` under `key` if the folder can be written; never fails.
    pub(crate) fn write(&self, kind: &str, key: &Key, payload: &[u8]) {
        if payload.len() as u64 + HEADER_LEN as u64 > MAX_ENTRY {
            return;
        }
        if crate::fsutil::create_private_dir(&self.dir).is_err() {
            return;
        }
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&key.0);
        bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        bytes.extend_from_slice(payload);
        // Not durable: an entry lost in a power cut is simply computed again.
        let written = crate::fsutil::AtomicWrite::PRIVATE
            .durable(false)
            .write(&self.entry_path(kind, key), &bytes);
        // Trimming lists the whole folder and reads every entry's metadata: once per
        // process is enough (a process writes a handful of entries), and a large folder
        // then costs one listing, not one per entry written.
        if written.is_ok()
            && !self
                .trimmed
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            trim(&self.dir, MAX_BYTES);
        }
    }
}

/// Removes the oldest entries once the folder holds more than `max` bytes, down to three
/// quarters of it (so a full cache is not trimmed on every write). Files that are not
/// entries are left alone.
fn trim(dir: &Path, max: u64) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = listing
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".bin") && !name.starts_with('.')
        })
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
    if total <= max {
        return;
    }
    entries.sort();
    for (_, len, path) in entries {
        if total <= max / 4 * 3 {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        let mut b = KeyBuilder::new("test");
        b.part(text.as_bytes());
        b.finish()
    }

    #[test]
    fn inputs_are_length_prefixed() {
        let mut a = KeyBuilder::new("test");
        a.part(b"ab").part(b"c");
        let mut b = KeyBuilder::new("test");
        b.part(b"a").part(b"bc");
        assert_ne!(a.finish(), b.finish());
        assert_ne!(
            KeyBuilder::new("one").finish(),
            KeyBuilder::new("two").finish()
        );
    }

    #[test]
    fn the_oldest_entries_go_once_the_folder_is_over_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..8u32 {
            let path = dir.path().join(format!("t-{n}.bin"));
            std::fs::write(&path, vec![0u8; 100]).unwrap();
            let when =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + n as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), vec![0u8; 5000]).unwrap();
        trim(dir.path(), 500);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.txt", "t-5.bin", "t-6.bin", "t-7.bin"]);
    }

    #[test]
    fn an_entry_reads_back_only_whole_and_under_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().join("compiled"));
        assert_eq!(cache.read("t", &key("a")), None);
        cache.write("t", &key("a"), b"payload");
        assert_eq!(cache.read("t", &key("a")).as_deref(), Some(&b"payload"[..]));
        assert_eq!(cache.read("t", &key("b")), None);
        assert_eq!(cache.read("other", &key("a")), None);

        let path = cache.entry_path("t", &key("a"));
        let whole = std::fs::read(&path).unwrap();
        let mut flipped = whole.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(cache.read("t", &key("a")), None, "a damaged payload");
        std::fs::write(&path, &whole[..whole.len() - 1]).unwrap();
        assert_eq!(cache.read("t", &key("a")), None, "a truncated entry");
        std::fs::write(&path, b"STOKEART").unwrap();
        assert_eq!(cache.read("t", &key("a")), None, "a header cut short");
        // Another key's entry renamed into place is foreign.
        cache.write("t", &key("b"), b"payload");
        std::fs::rename(cache.entry_path("t", &key("b")), &path).unwrap();
        assert_eq!(cache.read("t", &key("a")), None, "a foreign entry");
    }

    #[test]
    fn writing_where_nothing_can_be_written_is_quietly_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let cache = Cache::at(file.join("compiled"));
        cache.write("t", &key("a"), b"payload");
        assert_eq!(cache.read("t", &key("a")), None);
    }
}
