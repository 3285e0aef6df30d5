//! Thread priorities. The SQLite writer is the one thread every write waits for: on a
//! saturated machine the scheduler would give it the same share of a core as each HTTP
//! worker, and every write would queue behind that share. So the writer, and the WAL
//! checkpoint thread that must keep pace with it, ask for a higher priority, and the
//! forecast refresher runs at a lower one, getting whatever the request path leaves
//! idle. On Linux a nice value
//! belongs to a thread, so `setpriority` on the thread's own id changes that thread only.
//!
//! Lowering is always allowed. Raising needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that
//! permits it (systemd `LimitNICE=`, docker `--ulimit nice=`); without either the
//! writer raises as far as the limit lets it, or keeps the default, and says so once.

/// The nice value of background work (0 is the default, 19 the lowest priority).
const BACKGROUND_NICE: i32 = 10;

/// The nice value the SQLite writer asks for. Under a write flood on two cores it
/// raised the writes answered per second by about a sixth against the default; a
/// stronger preference gained nothing more.
pub const WRITER_NICE: i32 = -10;

/// Lowers the calling thread's priority; a refusal only costs the preference.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), BACKGROUND_NICE)
    {
        log::debug!("lowering a background thread's priority: {e}");
    }
}

/// Raises the calling thread's priority to [`WRITER_NICE`], or as far toward it as
/// `RLIMIT_NICE` allows; returns the nice value the thread runs at.
#[cfg(target_os = "linux")]
pub fn raise_this_thread() -> i32 {
    use rustix::process::{Resource, getpriority_process, getrlimit, setpriority_process};
    let me = Some(rustix::thread::gettid());
    if setpriority_process(me, WRITER_NICE).is_ok() {
        return WRITER_NICE;
    }
    // RLIMIT_NICE of n lets an unprivileged thread go down to a nice of 20 - n.
    let floor = getrlimit(Resource::Nice)
        .current
        .map_or(0, |n| 20 - n.min(40) as i32)
        .max(WRITER_NICE);
    if floor < 0 && setpriority_process(me, floor).is_ok() {
        return floor;
    }
    log::info!(
        "the SQLite writer runs at the default priority: a nice of {WRITER_NICE} needs \
         CAP_SYS_NICE or RLIMIT_NICE of {} (systemd LimitNICE=, docker --ulimit nice=)",
        20 - WRITER_NICE
    );
    getpriority_process(me).unwrap_or(0)
}

/// Elsewhere the writer keeps the default priority.
#[cfg(not(target_os = "linux"))]
pub fn raise_this_thread() -> i32 {
    0
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_raised_thread_runs_at_the_nice_value_it_reports_and_others_do_not_change() {
        let me = || Some(rustix::thread::gettid());
        let before = rustix::process::getpriority_process(None).unwrap();
        let (reported, actual) = std::thread::spawn(move || {
            let reported = raise_this_thread();
            (
                reported,
                rustix::process::getpriority_process(me()).unwrap(),
            )
        })
        .join()
        .unwrap();
        assert_eq!(actual, reported);
        // As far as the machine allows, and never below the writer's nice value.
        assert!(reported >= WRITER_NICE);
        // The process (its main thread) keeps its own priority.
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), before);
        let lowered = std::thread::spawn(move || {
            lower_this_thread();
            rustix::process::getpriority_process(me()).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, BACKGROUND_NICE);
    }
}
