//! Whether the process holding a lock still runs, when it runs on this machine. A
//! Kubernetes lease names its holder with [`current`]; a contender that finds the holder
//! gone ([`is_gone`]) takes the lease at once instead of waiting for it to run out, so a
//! stoke killed on a CI runner does not hold its release up for the lease's duration.
//!
//! Only a holder on the same running kernel (boot id) and in the same PID namespace can be
//! judged: there a PID names one process, and its start time tells a reused PID apart. A
//! holder anywhere else is never judged gone; its lease expires as usual.

/// This process, as `linux/BOOT_ID/PID_NAMESPACE/PID/START_TIME`, or `None` where that
/// cannot be read (not Linux, no /proc).
pub fn current() -> Option<String> {
    let (boot, ns) = machine()?;
    let pid = std::process::id();
    let start = start_time(pid)?;
    Some(format!("linux/{boot}/{ns}/{pid}/{start}"))
}

/// Whether `identity` (from [`current`], in another process) names a process of this
/// machine and PID namespace that has exited (or whose PID now belongs to another process).
/// `false` whenever that cannot be told.
pub fn is_gone(identity: &str) -> bool {
    let mut parts = identity.split('/');
    let (Some("linux"), Some(boot), Some(ns), Some(pid), Some(start), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some((my_boot, my_ns)) = machine() else {
        return false;
    };
    if boot != my_boot || ns != my_ns {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    start_time(pid).is_none_or(|now| now != start)
}

/// The boot id and the PID namespace of this process.
fn machine() -> Option<(String, String)> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some((boot.trim().to_string(), ns.to_string_lossy().into_owned()))
}

/// The start time of `pid` (clock ticks since boot, field 22 of /proc/PID/stat), or `None`
/// when no such process runs; an exited process not yet reaped (a zombie) counts as gone.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&("Z" | "X"))) {
        return None;
    }
    fields.get(19).map(|s| s.to_string())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone_and_an_exited_child_is() {
        let me = current().expect("Linux has /proc");
        assert!(!is_gone(&me), "{me}");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        let (boot, ns) = machine().unwrap();
        let them = format!("linux/{boot}/{ns}/{pid}/{}", start.unwrap_or_default());
        assert!(is_gone(&them), "{them}");
    }

    #[test]
    fn a_holder_elsewhere_or_unreadable_is_never_judged_gone() {
        let me = current().unwrap();
        let other_boot = me.replacen("linux/", "linux/0-", 1);
        assert!(!is_gone(&other_boot));
        assert!(!is_gone("stoke/host/123/abc"));
        assert!(!is_gone(""));
        // The same PID with another start time is a reused PID: its holder is gone.
        let reused = format!("{}/1", me.rsplit_once('/').unwrap().0);
        assert!(is_gone(&reused));
    }
}
