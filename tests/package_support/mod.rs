//! Moved to tests/common/package.rs (one harness for every test). This shim keeps
//! `mod package_support;` compiling while branches written against the old path land; new
//! tests say `mod common;` and `use common::package::...`.

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::package::*;
#[allow(unused_imports)]
pub use common::{Run, require_tool};
