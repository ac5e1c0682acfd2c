//! Reading values input from files and standard input, bounded.
//!
//! `-f` and `--set-file` name paths a user (or a script fed by someone else) chose, so a
//! device (`/dev/zero`, `/dev/urandom`), a FIFO or a folder must fail at once instead of
//! reading forever or blocking; only regular files are read, and standard input only
//! through `-f -`. Every read stops at [`crate::limits::VALUES_FILE_BYTES`].

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

fn read_capped(mut r: impl Read, what: &str) -> Result<String> {
    let limit = crate::limits::VALUES_FILE_BYTES.get();
    let mut data = Vec::new();
    (&mut r)
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .with_context(|| format!("cannot read {what}"))?;
    if data.len() as u64 > limit {
        return Err(crate::limits::VALUES_FILE_BYTES.exceeded(format!("{what} is larger")));
    }
    String::from_utf8(data).with_context(|| format!("{what} is not UTF-8 text"))
}

/// Reads the regular file `path` (a link to one is fine), refusing anything else.
pub fn read_regular_file(path: &Path, what: &str) -> Result<String> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        bail!(
            "{what} `{}` is {kind}; values are read from regular files only (use `-f -` for standard input)",
            path.display()
        );
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    read_capped(file, &format!("{what} `{}`", path.display()))
}

/// Reads `-f -`.
pub fn read_stdin() -> Result<String> {
    read_capped(std::io::stdin().lock(), "values from standard input")
}

/// Reads the file of a `--set-file key=PATH` argument.
pub fn read_set_file(path: &str) -> Result<String> {
    read_regular_file(Path::new(path), "--set-file file")
}

/// Whether a `-f` argument names a values file over HTTP(S) rather than a path.
pub fn is_url(arg: &str) -> bool {
    arg.starts_with("https://") || arg.starts_with("http://")
}

/// Downloads a values file given as `-f https://...`, with the same size cap as a local
/// values file ([`crate::limits::VALUES_FILE_BYTES`]).
pub fn read_url(url: &str) -> Result<String> {
    let limit = crate::limits::VALUES_FILE_BYTES.get();
    let what = "values file";
    let data = crate::fetch::fetch(url, limit, what).map_err(|e| {
        // The download stops at the cap; say so in the words (and with the variable) a
        // local file that is too large gets.
        if e.chain().any(|c| c.to_string().contains("-byte limit")) {
            crate::limits::VALUES_FILE_BYTES.exceeded(format!("{what} {url} is larger"))
        } else {
            e
        }
    })?;
    String::from_utf8(data).with_context(|| format!("{what} {url} is not UTF-8 text"))
}
