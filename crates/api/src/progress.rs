//! Progress of long command-line work on a terminal: a bar when the amount is known, a
//! spinner when it is not. Drawn on stderr only when stderr is a terminal (indicatif's
//! own check), so logs, pipes and CI output stay clean.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A bar of `len` steps labelled `what`.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed}, {eta} left)")
    {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_message(what.to_owned());
    b
}

/// A spinner that says what is being done, ticking by itself.
pub fn spinner(what: &str) -> ProgressBar {
    let s = ProgressBar::new_spinner();
    s.set_message(what.to_owned());
    s.enable_steady_tick(Duration::from_millis(120));
    s
}

/// No progress shown (the background refresher, tests).
pub fn none() -> ProgressBar {
    ProgressBar::hidden()
}
