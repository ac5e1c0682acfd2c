//! The `stoke` binary: parse the command line and hand over to the library.

fn main() {
    restore_default_sigpipe();
    tune_allocator();
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

/// glibc hands allocations over 128 KiB to mmap and gives freed memory at the heap's top
/// back to the OS, so a short process reading a chart maps and unmaps memory many times.
/// Each unmapping is a system call, and once there are threads it flushes every core's
/// address cache too. stoke's processes are short and their memory bounded, so large
/// blocks come from the heap and the heap is only trimmed when a lot is free.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
