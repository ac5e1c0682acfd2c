//! The time and memory watch of a render that runs on the calling thread: an interval
//! timer aimed at that thread, whose signal handler compares the clock with the render's
//! deadline and the process's resident memory with its limit, and ends the process with
//! the error prepared beforehand once either is passed.
//!
//! This is the watch of a command that renders one chart (`template`, `install`, ...).
//! The alternative, a watchdog thread, made the process multi-threaded, and then every
//! unmapping of memory had to flush the other core's address cache: on this machine class
//! that, with starting the threads, cost about a tenth of such a command's CPU. A render
//! shorter than one tick (most are) never sees the signal at all.
//!
//! Only one render is watched this way at a time; [`arm`] declines a second one (the
//! library's tests render in parallel), and the caller then uses the watchdog thread.

#[cfg(target_os = "linux")]
/// Resident bytes of the process, read from /proc/self/statm with nothing but
/// async-signal-safe calls (no allocation, no locks), so the signal handler and the
/// watchdog thread read it the same way.
pub(super) fn resident_bytes() -> Option<u64> {
    let mut buf = [0u8; 128];
    // SAFETY: the path is NUL-terminated; the read stays within `buf`; the descriptor
    // is closed on every path after a successful open.
    let len = unsafe {
        let fd = libc::open(
            c"/proc/self/statm".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return None;
        }
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        usize::try_from(n).ok()?
    };
    // The second field is the resident page count.
    let mut fields = buf[..len].split(|b| *b == b' ');
    fields.next()?;
    let mut pages: u64 = 0;
    for &b in fields.next()? {
        if !b.is_ascii_digit() {
            return None;
        }
        pages = pages.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(pages.saturating_mul(4096))
}

#[cfg(not(target_os = "linux"))]
pub(super) fn resident_bytes() -> Option<u64> {
    None
}

#[cfg(target_os = "linux")]
mod imp {
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;

    /// How often the handler looks; the watchdog thread looks as often.
    const TICK: Duration = Duration::from_millis(10);
    /// Room for each prepared message (longer ones are cut at a character boundary).
    const MESSAGE_CAP: usize = 2048;

    /// The one watched render. `claimed` is taken by [`arm`] before anything else is
    /// written; the handler reads the rest only while `armed` is set, and `armed` is set
    /// after and cleared before the fields change.
    struct Slot {
        claimed: AtomicBool,
        armed: AtomicBool,
        deadline_ns: AtomicU64,
        rss_limit: AtomicU64,
        time_len: AtomicUsize,
        memory_len: AtomicUsize,
        time_message: UnsafeCell<[u8; MESSAGE_CAP]>,
        memory_message: UnsafeCell<[u8; MESSAGE_CAP]>,
    }

    // SAFETY: the message buffers are written only by the holder of `claimed` while
    // `armed` is clear, and read only by the handler while `armed` is set.
    unsafe impl Sync for Slot {}

    static SLOT: Slot = Slot {
        claimed: AtomicBool::new(false),
        armed: AtomicBool::new(false),
        deadline_ns: AtomicU64::new(0),
        rss_limit: AtomicU64::new(0),
        time_len: AtomicUsize::new(0),
        memory_len: AtomicUsize::new(0),
        time_message: UnsafeCell::new([0; MESSAGE_CAP]),
        memory_message: UnsafeCell::new([0; MESSAGE_CAP]),
    };

    /// A render under watch; dropping it stops the timer and frees the slot.
    pub struct Armed {
        timer: libc::timer_t,
    }

    impl Drop for Armed {
        fn drop(&mut self) {
            // SAFETY: the timer was created by `arm` and is deleted once, here. Deleting it
            // also discards a signal it has queued but not yet delivered.
            unsafe { libc::timer_delete(self.timer) };
            SLOT.armed.store(false, Ordering::Release);
            SLOT.claimed.store(false, Ordering::Release);
        }
    }

    fn monotonic_ns() -> u64 {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec to write; clock_gettime is async-signal-safe.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
        (t.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(t.tv_nsec as u64)
    }

    extern "C" fn on_tick(_signal: libc::c_int) {
        // SAFETY: errno is thread-local; it is put back so the interrupted code sees its own.
        let errno = unsafe { *libc::__errno_location() };
        if SLOT.armed.load(Ordering::Acquire) {
            let over_time = monotonic_ns() > SLOT.deadline_ns.load(Ordering::Relaxed);
            let over_memory = !over_time
                && super::resident_bytes()
                    .is_some_and(|r| r > SLOT.rss_limit.load(Ordering::Relaxed));
            if over_time || over_memory {
                let (message, len) = if over_time {
                    (
                        SLOT.time_message.get(),
                        SLOT.time_len.load(Ordering::Relaxed),
                    )
                } else {
                    (
                        SLOT.memory_message.get(),
                        SLOT.memory_len.load(Ordering::Relaxed),
                    )
                };
                // SAFETY: `armed` is set, so the buffer holds `len` bytes written before it
                // was; write(2) and _exit(2) are async-signal-safe.
                unsafe {
                    let mut at = message.cast::<u8>().cast_const();
                    let mut left = len;
                    while left > 0 {
                        let n = libc::write(2, at.cast(), left);
                        if n <= 0 {
                            break;
                        }
                        at = at.add(n as usize);
                        left -= n as usize;
                    }
                    libc::_exit(1);
                }
            }
        }
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = errno };
    }

    fn install_handler() -> bool {
        static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *INSTALLED.get_or_init(|| {
            // SAFETY: a zeroed sigaction is valid to fill in; the handler only makes
            // async-signal-safe calls. SA_RESTART restarts the system calls a tick
            // interrupts (file reads during a render).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_tick as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut()) == 0
            }
        })
    }

    fn store_message(buffer: &UnsafeCell<[u8; MESSAGE_CAP]>, len: &AtomicUsize, text: &str) {
        let mut end = text.len().min(MESSAGE_CAP);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        // SAFETY: the caller holds `claimed` and `armed` is clear: nothing else touches the
        // buffer now.
        unsafe { (&mut *buffer.get())[..end].copy_from_slice(&text.as_bytes()[..end]) };
        len.store(end, Ordering::Relaxed);
    }

    /// Watches the render about to run on this thread: past `seconds` of wall-clock time,
    /// or once the process's resident memory passes `rss_limit` bytes, the process prints
    /// `time_message` or `memory_message` to standard error and exits with status 1.
    /// `None` when another render is already watched this way or no timer can be set up.
    pub fn arm(
        seconds: u64,
        rss_limit: u64,
        time_message: &str,
        memory_message: &str,
    ) -> Option<Armed> {
        if SLOT.claimed.swap(true, Ordering::AcqRel) {
            return None;
        }
        let release = || SLOT.claimed.store(false, Ordering::Release);
        if !install_handler() {
            release();
            return None;
        }
        store_message(&SLOT.time_message, &SLOT.time_len, time_message);
        store_message(&SLOT.memory_message, &SLOT.memory_len, memory_message);
        SLOT.deadline_ns.store(
            monotonic_ns().saturating_add(seconds.saturating_mul(1_000_000_000)),
            Ordering::Relaxed,
        );
        SLOT.rss_limit.store(rss_limit, Ordering::Relaxed);
        SLOT.armed.store(true, Ordering::Release);
        // SAFETY: a zeroed sigevent is valid to fill in; the timer is aimed at this thread
        // (SIGEV_THREAD_ID), so no other thread is interrupted; every pointer passed lives
        // for the call.
        unsafe {
            let mut event: libc::sigevent = std::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = libc::SIGALRM;
            event.sigev_notify_thread_id = libc::gettid();
            let mut timer: libc::timer_t = std::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) != 0 {
                SLOT.armed.store(false, Ordering::Release);
                release();
                return None;
            }
            let tick = libc::timespec {
                tv_sec: 0,
                tv_nsec: TICK.as_nanos() as libc::c_long,
            };
            let spec = libc::itimerspec {
                it_interval: tick,
                it_value: tick,
            };
            let armed = Armed { timer };
            if libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) != 0 {
                return None; // `armed` is dropped: timer deleted, slot freed
            }
            Some(armed)
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn resident_memory_is_read_without_allocating_and_agrees_with_statm() {
            let ours = super::super::resident_bytes().expect("statm is readable");
            let text = std::fs::read_to_string("/proc/self/statm").unwrap();
            let pages: u64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
            // Both readings are of a live process, so allow for a little growth between them.
            let theirs = pages * 4096;
            assert!(
                ours > 0 && ours.abs_diff(theirs) < 16 << 20,
                "{ours} vs {theirs}"
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// Never armed here: the caller uses the watchdog thread.
    pub struct Armed;

    pub fn arm(_: u64, _: u64, _: &str, _: &str) -> Option<Armed> {
        None
    }
}

pub use imp::arm;
