//! The `stoke` binary: parse the command line and hand over to the library.

fn main() {
    restore_default_sigpipe();
    tune_allocator();
    if loads_a_chart(std::env::args_os()) {
        prefault_heap();
    }
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

/// The commands that load and render a chart. They touch 2-4 MiB of heap, and on a virtual
/// machine a page fault costs more than the work done on many pages.
const CHART_COMMANDS: &[&str] = &[
    "template", "install", "upgrade", "lint", "unittest", "fleet", "diff", "values",
];

/// Whether this looks like a chart command. Global flags may come first (`-n scada
/// install ...`), so the first few arguments are looked at; a wrong guess only costs or
/// saves a fraction of a millisecond.
fn loads_a_chart(args: std::env::ArgsOs) -> bool {
    args.skip(1)
        .take(4)
        .any(|a| a.to_str().is_some_and(|a| CHART_COMMANDS.contains(&a)))
}

/// Maps 2 MiB of the heap as one huge page, before the command starts to fill it.
///
/// A one-chart `stoke template` touches about 3 MiB of heap, and on a virtual machine each
/// 4 KiB page fault costs about 2 µs: some 450 faults, a tenth of the command. The heap is
/// grown by one block, the block's first part is kept as an untouched filler so that the
/// heap's top sits on a 2 MiB boundary, and the 2 MiB above it are asked for as a huge page
/// and populated in one call. The filler costs address space, not memory. Where huge pages
/// are off the same call maps 512 small pages at once, which still saves the faults'
/// round trips. Failures are ignored: this only saves time.
fn prefault_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any thread exists. The block and the filler come from malloc;
    // the block goes back to the heap's top untouched, the filler is never used or freed,
    // and madvise over the heap's own mapped range changes no memory contents.
    unsafe {
        const HUGE: usize = 2 << 20;
        // Room below the boundary for malloc's own headers, so none lands in the huge page.
        const SLACK: usize = 64 << 10;
        // Linux 5.14; older kernels answer EINVAL, which is ignored.
        const MADV_POPULATE_WRITE: libc::c_int = 23;
        // Below the mmap threshold set in tune_allocator, so this grows the heap.
        let block = libc::malloc(3 * HUGE) as usize;
        if block == 0 {
            return;
        }
        let aligned = (block + SLACK + HUGE - 1) & !(HUGE - 1);
        libc::free(block as *mut libc::c_void);
        // Reuses the block's start: the next allocation begins just below `aligned`.
        std::hint::black_box(libc::malloc(aligned - block - SLACK));
        let huge = aligned as *mut libc::c_void;
        libc::madvise(huge, HUGE, libc::MADV_HUGEPAGE);
        libc::madvise(huge, HUGE, MADV_POPULATE_WRITE);
    }
}
