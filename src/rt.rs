//! The one async runtime of the process. stoke's library is synchronous (the store trait,
//! the actions, the CLI); the clients that only exist in async form (the Kubernetes API,
//! OCI registries) are driven from here, so every layer shares one runtime instead of each
//! building its own.

use std::future::Future;
use std::sync::OnceLock;

/// Runs `future` to completion on the process-wide runtime and returns its output.
///
/// The runtime is built on first use (two worker threads: this machine class has two cores
/// and the work is network-bound). Must not be called from inside the runtime itself.
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// The process-wide runtime, for callers that need a handle (e.g. to spawn watchers).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stoke-io")
            .on_thread_start(ignore_sigpipe_in_this_thread)
            .enable_all()
            .build()
            .expect("cannot start the async runtime (out of threads or file descriptors?)")
    })
}

/// The binary puts SIGPIPE back to its default (so `stoke ... | head` just stops), which
/// also kills the process when a socket's peer is gone: a TLS write to an API server or
/// PostgreSQL server that crashed would end stoke silently instead of with an error.
/// Network I/O runs on the runtime's threads, so they block the signal: the write then
/// fails with EPIPE, which becomes the operation's error.
fn ignore_sigpipe_in_this_thread() {
    #[cfg(unix)]
    // SAFETY: the set is initialised by sigemptyset before use, and pthread_sigmask only
    // changes the calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn block_on_returns_the_future_output() {
        assert_eq!(super::block_on(async { 40 + 2 }), 42);
    }
}
