//! The live progress bar on a terminal; the only file that knows indicatif.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr, redrawn around the lines the reporter prints.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub(crate) fn new() -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar }
    }

    /// Starts a new stage (`cloning`, `testing`) of `len` steps, or a
    /// spinner if `len` is 0.
    pub(crate) fn stage(&self, name: &str, len: usize) {
        let style = if len == 0 {
            ProgressStyle::with_template("{spinner:.green} {prefix:>10.bold} {elapsed} {wide_msg}")
        } else {
            ProgressStyle::with_template("{spinner:.green} {prefix:>10.bold} [{bar:30.cyan/blue}] {pos}/{len} {elapsed} {wide_msg}")
        }
        .expect("the templates are valid")
        .progress_chars("=> ");
        self.bar.set_style(style);
        self.bar.set_prefix(name.to_owned());
        self.bar.set_length(len as u64);
        self.bar.set_position(0);
        self.bar.set_message("");
    }

    pub(crate) fn inc(&self) {
        self.bar.inc(1);
    }

    pub(crate) fn message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Runs `print` with the bar hidden, so printed lines never mix with it.
    pub(crate) fn suspend(&self, print: impl FnOnce()) {
        self.bar.suspend(print);
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
