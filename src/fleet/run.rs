//! Running one job per release on every core while handing results back in file order.
//!
//! Workers take the next release from a shared counter; the calling thread receives each
//! result in order and may write it out at once. A worker never runs more than a small
//! window ahead of the oldest result not yet handed back, so however many releases a fleet
//! has, only a few rendered results are held in memory at a time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Threads to use by default: the cores available (`STOKE_THREADS` overrides).
pub fn default_threads() -> usize {
    if let Some(n) = std::env::var("STOKE_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return n;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

struct Shared<R> {
    ready: BTreeMap<usize, R>,
    /// Index of the next result the caller will take.
    next_out: usize,
}

/// Runs `work` on every item with `threads` workers and calls `sink` with each result in
/// item order, on the calling thread, as soon as it and all before it are done.
pub fn for_each_ordered<T, R, W, S>(items: &[T], threads: usize, work: W, mut sink: S)
where
    T: Sync,
    R: Send,
    W: Fn(&T) -> R + Sync,
    S: FnMut(usize, R),
{
    // Even with one thread the work runs on a worker: workers are render threads, which
    // every render of the fleet reuses (see `budget::spawn_render_worker`).
    let threads = threads.clamp(1, items.len().max(1));
    let window = threads * 4;
    let next_in = AtomicUsize::new(0);
    let shared = Mutex::new(Shared {
        ready: BTreeMap::new(),
        next_out: 0,
    });
    // Signalled when a result lands (for the caller) or one is taken (for workers).
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            crate::engine::budget::spawn_render_worker(scope, || {
                loop {
                    let i = next_in.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    {
                        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                        while i >= s.next_out + window {
                            s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
                        }
                    }
                    let r = work(&items[i]);
                    let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                    s.ready.insert(i, r);
                    changed.notify_all();
                }
            });
        }
        for i in 0..items.len() {
            let r = {
                let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if let Some(r) = s.ready.remove(&i) {
                        s.next_out = i + 1;
                        changed.notify_all();
                        break r;
                    }
                    s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
                }
            };
            sink(i, r);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..200).collect();
        let mut seen = Vec::new();
        for_each_ordered(
            &items,
            4,
            |n| {
                // Early items take longest, so later ones finish first.
                std::thread::sleep(std::time::Duration::from_micros((200 - n) * 20));
                n * 2
            },
            |i, r| seen.push((i, r)),
        );
        let want: Vec<(usize, u64)> = (0..200).map(|n| (n as usize, n * 2)).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn no_worker_runs_far_ahead_of_the_output() {
        let items: Vec<usize> = (0..100).collect();
        let done = AtomicUsize::new(0);
        let mut max_ahead = 0;
        for_each_ordered(
            &items,
            3,
            |_| done.fetch_add(1, Ordering::SeqCst),
            |i, _| {
                std::thread::sleep(std::time::Duration::from_micros(200));
                max_ahead = max_ahead.max(done.load(Ordering::SeqCst) - i);
            },
        );
        assert!(max_ahead <= 3 * 4 + 3, "ran {max_ahead} ahead");
    }
}
