//! The command line: clap definitions and output formatting. No logic lives here.

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    0
}
