//! Moved to tests/common/store.rs (one harness for every test). This shim keeps
//! `mod store_support;` compiling while branches written against the old path land; new
//! tests say `mod common;` and `use common::store::...`.

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::store::*;
#[allow(unused_imports)]
pub use common::{Run, require_tool};
