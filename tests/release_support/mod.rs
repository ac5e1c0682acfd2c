//! Moved to tests/common/release.rs (one harness for every test). This shim keeps
//! `mod release_support;` compiling while branches written against the old path land; new
//! tests say `mod common;` and `use common::release::...`.

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::release::*;
#[allow(unused_imports)]
pub use common::{Run, require_tool};
