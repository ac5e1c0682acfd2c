//! Options of `stoke store check|repair|migrate`.

use anyhow::{Result, bail};

use super::Globals;
use crate::cli::OutputFormat;
use crate::cli::store::MigrateArgs;
use crate::storage::LockWait;
use crate::storage::location::Location;

/// `stoke store migrate`.
pub struct Migrate {
    /// The store copied from.
    pub from: Location,
    /// The store copied into.
    pub to: Location,
    /// `--wait-lock`.
    pub wait: LockWait,
    /// `-o`.
    pub format: OutputFormat,
}

impl Migrate {
    /// Resolves `stoke store migrate`'s flags; the two stores must differ.
    pub fn from_args(args: &MigrateArgs) -> Result<Migrate> {
        let from = Location::parse(&args.from)?;
        let to = Location::parse(&args.to)?;
        if from == to {
            bail!(
                "--from and --to name the same store ({}): give the store to copy into as --to",
                to.display()
            );
        }
        Ok(Migrate {
            from,
            to,
            wait: args.wait_lock.map_or(LockWait::FailFast, LockWait::Up),
            format: args.output,
        })
    }

    /// Opens both stores (source, destination).
    pub fn open(
        &self,
        g: &Globals,
    ) -> Result<(
        Box<dyn crate::storage::Store>,
        Box<dyn crate::storage::Store>,
    )> {
        let source = crate::storage::location::open_location(&self.from, &g.kube)?;
        let dest = crate::storage::location::open_location(&self.to, &g.kube)?;
        Ok((source, dest))
    }
}

/// Opens the file store `--store` names, for `store check` and `store repair` (the
/// checks read the folder layout itself).
pub fn file_store(g: &Globals) -> Result<crate::storage::file::FileStore> {
    crate::storage::open_file(g.store.as_deref(), &g.kube)
}
