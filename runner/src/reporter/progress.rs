//! The live progress bar on a terminal; the only file that knows indicatif.

use std::io;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Columns the bar leaves free at the right edge of the terminal. indicatif
/// pads its line to the full width; a `^C` the terminal echoes after a line
/// that fills it wraps onto a new line, the bar is then redrawn and cleared
/// there, and its old line stays on screen. Two free columns take the echo.
const ECHO_ROOM: u16 = 2;

/// A progress bar on stderr, redrawn around the lines the reporter prints.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    color: bool,
}

impl Progress {
    /// A bar on stderr, in colour if `color`, redrawn at most 20 times a
    /// second.
    pub(crate) fn new(color: bool) -> Progress {
        let term = Box::new(EchoRoom(console::Term::stderr()));
        let progress =
            Progress::with_target(ProgressDrawTarget::term_like_with_hz(term, 20), color);
        progress.bar.enable_steady_tick(Duration::from_millis(100));
        progress
    }

    /// A bar drawn on `term` at every change (tests draw on a simulated
    /// terminal).
    #[cfg(test)]
    fn on(term: impl TermLike + 'static, color: bool) -> Progress {
        let target = ProgressDrawTarget::term_like(Box::new(EchoRoom(term)));
        Progress::with_target(target, color)
    }

    fn with_target(target: ProgressDrawTarget, color: bool) -> Progress {
        Progress {
            bar: ProgressBar::with_draw_target(None, target),
            color,
        }
    }

    /// Starts a new stage (`cloning`, `testing`) of `len` steps, or a
    /// spinner if `len` is 0.
    pub(crate) fn stage(&self, name: &str, len: usize) {
        let template = match (len == 0, self.color) {
            (true, true) => "{spinner:.green} {prefix:>10.bold} {elapsed} {wide_msg}",
            (true, false) => "{spinner} {prefix:>10} {elapsed} {wide_msg}",
            (false, true) => {
                "{spinner:.green} {prefix:>10.bold} [{bar:30.cyan/blue}] {pos}/{len} {elapsed} {wide_msg}"
            }
            (false, false) => "{spinner} {prefix:>10} [{bar:30}] {pos}/{len} {elapsed} {wide_msg}",
        };
        let style = ProgressStyle::with_template(template)
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

    /// Draws the bar now (tests: the bar is not on a timer).
    #[cfg(test)]
    fn draw(&self) {
        self.bar.tick();
    }
}

/// A terminal that says it is [`ECHO_ROOM`] columns narrower than it is.
#[derive(Debug)]
struct EchoRoom<T>(T);

impl<T: TermLike> TermLike for EchoRoom<T> {
    fn width(&self) -> u16 {
        self.0.width().saturating_sub(ECHO_ROOM).max(1)
    }
    fn height(&self) -> u16 {
        self.0.height()
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A terminal of fixed width that keeps what is on its screen, wrapping
    /// as a real one does: a character written past the last column goes to
    /// the start of the next line. Escape sequences (colour) are skipped.
    #[derive(Clone, Debug)]
    struct Screen {
        width: usize,
        state: Arc<Mutex<ScreenState>>,
    }

    #[derive(Debug, Default)]
    struct ScreenState {
        rows: Vec<Vec<char>>,
        row: usize,
        col: usize,
    }

    impl Screen {
        fn new(width: usize) -> Screen {
            Screen {
                width,
                state: Arc::default(),
            }
        }

        /// What a user sees: the non-blank lines.
        fn lines(&self) -> Vec<String> {
            let s = self.state.lock().unwrap();
            s.rows
                .iter()
                .map(|r| r.iter().collect::<String>().trim_end().to_owned())
                .filter(|l| !l.is_empty())
                .collect()
        }
    }

    impl ScreenState {
        fn put(&mut self, c: char, width: usize) {
            if self.col >= width {
                self.row += 1;
                self.col = 0;
            }
            while self.rows.len() <= self.row {
                self.rows.push(Vec::new());
            }
            let row = &mut self.rows[self.row];
            while row.len() <= self.col {
                row.push(' ');
            }
            row[self.col] = c;
            self.col += 1;
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            self.width as u16
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            let mut s = self.state.lock().unwrap();
            s.row = s.row.saturating_sub(n);
            s.col = s.col.min(self.width - 1);
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            let mut s = self.state.lock().unwrap();
            s.row += n;
            s.col = s.col.min(self.width - 1);
            Ok(())
        }
        fn move_cursor_right(&self, n: usize) -> io::Result<()> {
            let mut s = self.state.lock().unwrap();
            s.col = (s.col + n).min(self.width - 1);
            Ok(())
        }
        fn move_cursor_left(&self, n: usize) -> io::Result<()> {
            let mut s = self.state.lock().unwrap();
            s.col = s.col.saturating_sub(n);
            Ok(())
        }
        fn write_line(&self, text: &str) -> io::Result<()> {
            self.write_str(text)?;
            let mut s = self.state.lock().unwrap();
            s.row += 1;
            s.col = 0;
            Ok(())
        }
        fn write_str(&self, text: &str) -> io::Result<()> {
            let mut s = self.state.lock().unwrap();
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\x1b' => {
                        // CSI: skip up to the final letter.
                        for c in chars.by_ref() {
                            if c.is_ascii_alphabetic() {
                                break;
                            }
                        }
                    }
                    '\r' => s.col = 0,
                    '\n' => {
                        s.row += 1;
                        s.col = 0;
                    }
                    c => s.put(c, self.width),
                }
            }
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            let mut s = self.state.lock().unwrap();
            let row = s.row;
            if let Some(r) = s.rows.get_mut(row) {
                r.clear();
            }
            s.col = 0;
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn on_a_terminal_the_bar_shows_how_the_build_goes() {
        let screen = Screen::new(100);
        let progress = Progress::on(screen.clone(), false);
        let mut reporter =
            crate::reporter::Reporter::with_progress(Box::new(std::io::sink()), progress);
        reporter.report(&crate::events::Event::PhaseStarted {
            phase: crate::events::Phase::Template,
            steps: 0,
        });
        reporter.report(&crate::events::Event::BuildProgress {
            crates: 112,
            compiling: Some("shop".to_owned()),
            elapsed: std::time::Duration::from_secs(70),
        });
        reporter.progress.as_ref().unwrap().draw();
        let lines = screen.lines();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("build: 112 crates built, compiling shop")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_ctrl_c_echoed_after_the_bar_leaves_no_stale_line() {
        for color in [false, true] {
            let screen = Screen::new(60);
            let progress = Progress::on(screen.clone(), color);
            progress.stage("testing", 105);
            progress.inc();
            progress.message("2 running, 0 failed".to_owned());
            progress.draw();
            assert_eq!(screen.lines().len(), 1, "the bar: {:?}", screen.lines());
            assert!(
                screen.lines()[0].contains("testing"),
                "{:?}",
                screen.lines()
            );

            // The terminal echoes Ctrl-C after the bar; the bar is redrawn
            // (a tick), a line is printed around it, then it is cleared.
            screen.write_str("^C").unwrap();
            progress.message("2 running, 0 failed, stopping".to_owned());
            progress.draw();
            progress.suspend(|| screen.write_line("  Cancelling interrupted").unwrap());
            progress.finish();
            assert_eq!(
                screen.lines(),
                ["  Cancelling interrupted"],
                "colour {color}: a line of the bar stayed on screen"
            );
        }
    }
}
