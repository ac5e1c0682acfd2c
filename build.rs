//! Links the `stoke` executable at a fixed address on Linux (not position-independent).
//!
//! A position-independent executable is relocated by the dynamic loader at every start:
//! about 38,000 pointers in stoke's case, each write copying a page of the executable's
//! data into private memory. That was a tenth of the page faults of a one-chart `stoke
//! template` and a few per cent of its CPU. The trade is address randomisation of the
//! executable's own code and data (libraries, heap and stacks stay randomised); Go's own
//! tools, Helm's among them, ship linked the same way.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
