//! Moved to tests/common/dist.rs (one harness for every test). This shim keeps
//! `mod dist_support;` compiling while branches written against the old path land; new
//! tests say `mod common;` and `use common::dist::...`.

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::dist::*;
#[allow(unused_imports)]
pub use common::{Run, require_tool};
