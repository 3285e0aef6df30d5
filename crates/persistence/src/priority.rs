//! Background threads (forecast refresh, WAL checkpoints) run at a lower scheduling
//! priority than the threads that answer requests and commit writes. On a small
//! machine they share cores with the writer, the one thread every write waits for;
//! lowered, they still get whatever the request path leaves idle. On Linux a nice value
//! belongs to a thread, so `setpriority` on the thread's own id lowers that thread only.

/// The nice value of background threads (0 is the default, 19 the lowest priority).
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's priority; a refusal only costs the preference.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::setpriority_process(Some(rustix::thread::gettid()), BACKGROUND_NICE)
    {
        log::debug!("lowering a background thread's priority: {e}");
    }
}
