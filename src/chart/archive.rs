//! Reading chart archives (`.tgz`). Placeholder contract: the packaging work replaces the
//! body with a hardened reader.

use std::path::Path;

use anyhow::{Result, bail};

use super::ChartFile;

/// Reads a gzip-compressed tar holding one top-level folder; returns the folder's name and
/// the files below it, with paths relative to it.
pub fn read(_bytes: &[u8], origin: &Path) -> Result<(String, Vec<ChartFile>)> {
    bail!(
        "cannot read `{}`: chart archives are not supported yet",
        origin.display()
    )
}
