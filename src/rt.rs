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
            .enable_all()
            .build()
            .expect("cannot start the async runtime (out of threads or file descriptors?)")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn block_on_returns_the_future_output() {
        assert_eq!(super::block_on(async { 40 + 2 }), 42);
    }
}
