//! The `--set` family's grammar, as Helm parses it.
//!
//! (Being written: see the differential tests against Helm in tests/helm_diff.)

use anyhow::{Result, bail};
use serde_json::{Map, Value};

/// Which flag a `--set`-style argument came from; decides how values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: values are typed (integers, booleans, null), lists with `{a,b}`.
    Set,
    /// `--set-string`: every value is a string.
    String,
    /// `--set-json`: every value is JSON.
    Json,
    /// `--set-literal`: the whole right-hand side is one literal string, no escapes or lists.
    Literal,
    /// `--set-file`: the value is a path whose contents become the string value.
    File,
}

/// Applies one `--set`-style argument (`a.b=1,c[0]=x`) to `target`. `read_file` loads the
/// contents for [`SetKind::File`].
pub fn apply(
    target: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
) -> Result<()> {
    let _ = (target, kind, read_file);
    bail!("--set parsing is not implemented yet: `{arg}`")
}
