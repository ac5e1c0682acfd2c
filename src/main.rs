//! The `stoke` binary: parse the command line and hand over to the library.

fn main() {
    restore_default_sigpipe();
    std::process::exit(stoke::cli::main());
}

/// Rust ignores SIGPIPE, which turns every `println!` into a panic once the reader of a pipe
/// has gone (`stoke completion bash | head`). A command-line tool should simply stop, as
/// `cat` and `grep` do, so the default disposition is put back before anything is printed.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
