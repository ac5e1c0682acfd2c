//! Writes the benchmark fixture chart to a folder, for profiling by hand:
//! `cargo run --example write_bench_fixture -- /tmp/fx`.

#[path = "../benches/fixture.rs"]
mod fixture;

fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench-fixture".into());
    println!("{}", fixture::write(std::path::Path::new(&root)).display());
}
