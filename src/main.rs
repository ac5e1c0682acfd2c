//! The `stoke` binary: parse the command line and hand over to the library.

fn main() {
    std::process::exit(stoke::cli::main());
}
