//! The reporter: the only code that writes to the terminal.
//!
//! It turns [`Event`]s into lines (plain, one per event worth seeing, when
//! output is not a terminal), a progress bar (on a terminal), each failed
//! test's output printed whole in one piece, and the final summary; in
//! colour on a terminal (see [`Color`]).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod color;
mod json;
mod junit;
mod list;
mod progress;
#[cfg(test)]
mod snapshots;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::RunError;
use crate::events::{CancelReason, Event, LeftBehind, Outcome, Phase, RunStats, SweptRun};

pub use color::Color;
use color::{Style, paint};
use junit::Junit;
pub use junit::JunitOutput;
use progress::Progress;

/// How the reporter should behave.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReporterOptions {
    /// Draw a progress bar (only sensible on a terminal).
    pub progress: bool,
    /// Print the output of passing tests too, not only of failures.
    pub show_output: bool,
    /// When to colour the output. `Auto` colours only a terminal: output
    /// into a writer ([`Reporter::to_writer`]) stays plain.
    pub color: Color,
}

/// Renders a run's events. See the module doc.
pub struct Reporter {
    out: Box<dyn Write + Send>,
    progress: Option<Progress>,
    options: ReporterOptions,
    /// Whether `out` gets colour.
    color: bool,
    running: usize,
    finished: usize,
    failed: usize,
    failures: Vec<String>,
    /// Per worker, how its last test that left its clones unusable ended
    /// (`timed out`, `crashed`), for the line saying it got fresh ones.
    abnormal_end: HashMap<usize, &'static str>,
    /// When (into the build) the last build progress line was printed.
    last_build_line: Duration,
    /// The JUnit report being collected (`--junit`).
    junit: Option<Junit>,
    /// Where the JSON event stream goes (`--message-format json`,
    /// `--events`).
    events: Option<Box<dyn Write + Send>>,
    /// Files that could not be written.
    output_errors: Vec<String>,
    /// Per worker, the failed test whose clones were just kept.
    kept_on: HashMap<usize, String>,
    /// Tests that failed and run again, and how many times they failed.
    retried: HashMap<crate::events::TestId, usize>,
}

impl Drop for Reporter {
    fn drop(&mut self) {
        // A run that ended in a way nobody called `finish` for (a panic)
        // still leaves its JUnit report.
        if let Some(junit) = &mut self.junit {
            let _ = junit.flush();
        }
    }
}

/// Without a progress bar, how often a long build says how it goes.
const BUILD_LINE_EVERY: Duration = Duration::from_secs(5);

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Reporter {
    /// A reporter writing to stdout.
    pub fn new(options: ReporterOptions) -> Reporter {
        let color = options.color.enabled(std::io::stdout().is_terminal());
        Reporter::with_color(Box::new(std::io::stdout()), options, color)
    }

    /// A reporter writing the human report to stderr (stdout carries the
    /// JSON event stream, `--message-format json`).
    pub fn to_stderr(options: ReporterOptions) -> Reporter {
        let color = options.color.enabled(std::io::stderr().is_terminal());
        Reporter::with_color(Box::new(std::io::stderr()), options, color)
    }

    /// A reporter writing to `out` (tests capture the output this way); in
    /// colour only with [`Color::Always`].
    pub fn to_writer(out: Box<dyn Write + Send>, options: ReporterOptions) -> Reporter {
        let color = options.color.enabled(false);
        Reporter::with_color(out, options, color)
    }

    /// A reporter whose progress bar draws on `progress` (tests).
    #[cfg(test)]
    pub(crate) fn with_progress(out: Box<dyn Write + Send>, progress: Progress) -> Reporter {
        let options = ReporterOptions {
            progress: false,
            show_output: false,
            color: Color::Never,
        };
        let mut reporter = Reporter::with_color(out, options, false);
        reporter.progress = Some(progress);
        reporter
    }

    fn with_color(out: Box<dyn Write + Send>, options: ReporterOptions, color: bool) -> Reporter {
        // The bar is on stderr: its colour follows that stream.
        let progress = options
            .progress
            .then(|| Progress::new(options.color.enabled(std::io::stderr().is_terminal())));
        Reporter {
            out,
            progress,
            options,
            color,
            running: 0,
            finished: 0,
            failed: 0,
            failures: Vec::new(),
            abnormal_end: HashMap::new(),
            last_build_line: Duration::ZERO,
            retried: HashMap::new(),
            junit: None,
            events: None,
            output_errors: Vec::new(),
            kept_on: HashMap::new(),
        }
    }

    /// `text` right-aligned in the label column, in `style`.
    fn label(&self, text: &str, style: Style) -> String {
        label(self.color, text, style)
    }

    /// `text` in `style` when colour is on.
    fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color, style, text)
    }

    /// Also writes the run's JUnit XML to `path` (see `junit.rs`).
    pub fn set_junit(&mut self, path: PathBuf, output: JunitOutput) {
        self.junit = Some(Junit::new(path, output));
    }

    /// Also writes the JSON event stream (one object a line) to `out`.
    pub fn set_events(&mut self, out: Box<dyn Write + Send>) {
        self.events = Some(out);
    }

    /// Writes what the files it keeps (JUnit) are missing; returns what
    /// could not be written, one sentence each (already printed as
    /// warnings). Call once the run is over.
    pub fn finish(&mut self) -> Vec<String> {
        if let Some(junit) = &mut self.junit
            && let Err(e) = junit.flush()
        {
            let message = junit_error(junit, &e);
            self.output_error(message);
        }
        std::mem::take(&mut self.output_errors)
    }

    fn output_error(&mut self, message: String) {
        let text = format!("{} {message}\n", self.label("WARNING", Style::Warn));
        self.print(&text);
        self.output_errors.push(message);
    }

    /// Handles one event: the machine-readable outputs first, then the
    /// human report.
    pub fn report(&mut self, event: &Event) {
        if let Some(out) = &mut self.events
            && let Some(line) = json::line(event, self.options.show_output)
        {
            // A closed stdout must not stop the run (as for the report).
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        if let Some(junit) = &mut self.junit
            && let Err(e) = junit.event(event)
        {
            let message = junit_error(junit, &e);
            self.output_error(message);
        }
        self.report_human(event);
    }

    fn report_human(&mut self, event: &Event) {
        match event {
            Event::Swept { runs } => {
                let text = sweep_text(runs, false, self.color);
                self.print(&text);
            }
            Event::RunStarted {
                run_id,
                workers,
                aliases,
            } => {
                let mut text = format!(
                    "{} run {run_id} with {workers} worker{}\n",
                    self.label("Starting", Style::Good),
                    plural(*workers)
                );
                let database = self.label("Database", Style::Good);
                for a in aliases {
                    match &a.mirror_of {
                        Some(target) => {
                            let _ = writeln!(text, "{database} {}: mirror of {target}", a.alias);
                        }
                        None => {
                            let _ = writeln!(
                                text,
                                "{database} {}: {}, {}",
                                a.alias, a.backend, a.server
                            );
                        }
                    }
                }
                self.print(&text);
            }
            Event::PhaseStarted { phase, steps } => {
                if let Some(p) = &self.progress {
                    match phase {
                        Phase::Server => p.stage("server", 0),
                        Phase::Template => p.stage("template", 0),
                        Phase::Clone => p.stage("cloning", *steps),
                        Phase::Run => p.stage("testing", *steps),
                        Phase::Teardown => p.stage("teardown", 0),
                        Phase::Discover => {}
                    }
                }
            }
            Event::TemplateReady {
                alias,
                name,
                duration,
                reuse,
            } => {
                let kept = reuse
                    .as_ref()
                    .map(|why| format!(", kept for reuse ({why})"))
                    .unwrap_or_default();
                let text = format!(
                    "{} {alias}: template {name} built in {}{kept}\n",
                    self.label("Template", Style::Good),
                    secs(*duration)
                );
                self.print(&text);
            }
            Event::TemplateReused {
                alias,
                name,
                fingerprint,
                age,
                duration,
            } => {
                let text = format!(
                    "{} {alias}: reused {name} (fingerprint {fingerprint}, built {} ago) in {}\n",
                    self.label("Template", Style::Good),
                    crate::reuse::ago(*age),
                    secs(*duration)
                );
                self.print(&text);
            }
            Event::StaleTemplateDropped { alias, name } => {
                let text = format!(
                    "{} {alias}: dropped the stale kept template {name}\n",
                    self.label("Template", Style::Good),
                );
                self.print(&text);
            }
            Event::CloneReady { .. } => {
                if let Some(p) = &self.progress {
                    p.inc();
                }
            }
            Event::PhaseFinished { phase, duration } => {
                if *phase == Phase::Discover {
                    return;
                }
                if let Some(p) = &self.progress {
                    p.message(format!("{} done in {}", phase.name(), secs(*duration)));
                }
            }
            Event::TestsDiscovered {
                source,
                selected,
                groups,
                shuffle_seed,
                partition,
                ..
            } => {
                let shard = match partition {
                    Some(p) => format!(" (shard {p})"),
                    None => String::new(),
                };
                let mut text = format!(
                    "{} {selected} test{} from {source} in {groups} group{}{shard}\n",
                    self.label("Running", Style::Good),
                    plural(*selected),
                    plural(*groups)
                );
                if let Some(seed) = shuffle_seed {
                    let _ = writeln!(
                        text,
                        "{} seed {seed} (--shuffle {seed} repeats this order)",
                        self.label("Shuffled", Style::Good)
                    );
                }
                self.print(&text);
            }
            Event::TestStarted { .. } => {
                self.running += 1;
                self.update_progress();
            }
            Event::TestSlow {
                test,
                worker,
                elapsed,
            } => {
                let text = format!(
                    "{} [>{}] w{worker} {test}\n",
                    self.label("SLOW", Style::Warn),
                    secs(*elapsed)
                );
                self.print(&text);
            }
            Event::TestFinished {
                test,
                worker,
                outcome,
                duration,
                output,
            } => {
                self.running = self.running.saturating_sub(1);
                self.finished += 1;
                let (label, style, detail) = match self.retried.remove(test) {
                    // Passed only on a retry.
                    Some(n) if outcome.is_pass() => (
                        "FLAKY",
                        Style::Warn,
                        format!(" (passed on attempt {})", n + 1),
                    ),
                    _ => describe(outcome),
                };
                let pass = outcome.is_pass() || *outcome == Outcome::Skipped;
                if !pass && *outcome != Outcome::Interrupted {
                    self.failed += 1;
                    self.failures.push(format!("{test}{detail}"));
                }
                match outcome {
                    Outcome::TimedOut { .. } => {
                        self.abnormal_end.insert(*worker, "timed out");
                    }
                    Outcome::Signalled { .. } => {
                        self.abnormal_end.insert(*worker, "crashed");
                    }
                    _ => {}
                }
                let mut text = String::new();
                if !pass || self.progress.is_none() || self.options.show_output {
                    let _ = writeln!(
                        text,
                        "{} [{}] w{worker} {test}{detail}",
                        self.label(label, style),
                        secs(*duration)
                    );
                }
                if (!pass || self.options.show_output) && !output.is_empty() {
                    output_block(&mut text, &format!("{test}"), output);
                }
                if !text.is_empty() {
                    // Printed in one piece: output of two tests never mixes.
                    self.print(&text);
                }
                if let Some(p) = &self.progress {
                    p.inc();
                }
                self.update_progress();
            }
            Event::TestRetry {
                test,
                worker,
                attempt,
                outcome,
                duration,
                output,
            } => {
                self.running = self.running.saturating_sub(1);
                *self.retried.entry(test.clone()).or_default() += 1;
                self.abnormal_end.insert(*worker, "failed (it runs again)");
                let (_, _, detail) = describe(outcome);
                let mut text = format!(
                    "{} [{}] w{worker} {test}{detail}: attempt {attempt} failed, it runs again\n",
                    self.label("RETRY", Style::Warn),
                    secs(*duration)
                );
                if !output.is_empty() {
                    output_block(&mut text, &format!("{test} (attempt {attempt})"), output);
                }
                self.print(&text);
            }
            Event::BuildProgress {
                crates,
                compiling,
                elapsed,
            } => {
                let now = match compiling {
                    Some(name) => format!(", compiling {name}"),
                    None => String::new(),
                };
                let status = format!("{crates} crate{} built{now}", plural(*crates));
                match &self.progress {
                    Some(p) => p.message(format!("build: {status}")),
                    None => {
                        // A line every few seconds: a long build and a hang
                        // must not look the same.
                        if elapsed.saturating_sub(self.last_build_line) >= BUILD_LINE_EVERY {
                            self.last_build_line = *elapsed;
                            let text = format!(
                                "{} tests: {status} [{}]\n",
                                self.label("Building", Style::Good),
                                humantime::format_duration(Duration::from_secs(elapsed.as_secs()))
                            );
                            self.print(&text);
                        }
                    }
                }
            }
            Event::Warning { message } => {
                let text = format!("{} {message}\n", self.label("WARNING", Style::Warn));
                self.print(&text);
            }
            Event::TestLeaked {
                test,
                worker,
                killed,
            } => {
                let what = match killed {
                    0 => "left a process holding its output open (this system cannot find it to kill it)".to_owned(),
                    n => format!("left {n} process{} running outside its process group: killed", if *n == 1 { "" } else { "es" }),
                };
                let text = format!(
                    "{} w{worker} {test} {what}\n",
                    self.label("LEAK", Style::Warn)
                );
                self.print(&text);
            }
            Event::ClonesReplaced {
                worker,
                after,
                error,
            } => {
                // A test that exited in a way that is neither a pass nor a
                // test failure (an abort's exit code) counts as a crash.
                let kept = self.kept_on.remove(worker);
                let how = match &kept {
                    Some(_) => "failed (its clones are kept)",
                    None => self.abnormal_end.remove(worker).unwrap_or("crashed"),
                };
                let text = match error {
                    None => format!(
                        "{} w{worker} got fresh clones after {after} {how}\n",
                        self.label("Replaced", Style::Warn)
                    ),
                    Some(e) => format!(
                        "{} w{worker} could not get fresh clones after {after} {how}, it stops: {e}\n",
                        self.label("WARNING", Style::Warn)
                    ),
                };
                self.print(&text);
            }
            Event::DatabaseKept { worker, kept } => {
                self.kept_on.insert(*worker, kept.test.to_string());
            }
            Event::DatabaseDropped { .. } | Event::ReplacementReady { .. } => {}
            Event::RunCancelling { reason, running } => {
                let why = match reason {
                    CancelReason::Signal => {
                        "interrupted: stopping tests, then dropping databases (Ctrl-C again to skip the grace period)"
                    }
                    CancelReason::SecondSignal => {
                        "interrupted again: killing tests now, then dropping databases"
                    }
                    CancelReason::FailFast => {
                        "a test failed and --failfast is on: no further test starts"
                    }
                    CancelReason::SetupFailed => {
                        "the databases could not be set up: stopping, then dropping databases"
                    }
                    CancelReason::BuildFailed => {
                        "the tests could not be built or listed: stopping, then dropping databases"
                    }
                    CancelReason::WorkerFailed => {
                        "a test worker could not be started: stopping, then dropping databases"
                    }
                };
                let running = match running {
                    0 => String::new(),
                    n => format!(" ({n} running)"),
                };
                let text = format!("{} {why}{running}\n", self.label("Cancelling", Style::Warn));
                self.print(&text);
            }
            Event::TeardownIncomplete { left } => {
                let text = left_behind_text(left, self.color);
                self.print(&text);
            }
            Event::RunFinished { stats } => {
                if let Some(p) = &self.progress {
                    p.finish();
                }
                let summary = self.summary(stats);
                self.print(&summary);
            }
        }
    }

    /// Prints what `paraclone clean` did (or, with `dry_run`, would do).
    pub fn report_clean(&mut self, runs: &[SweptRun], dry_run: bool) {
        let text = if runs.is_empty() {
            format!(
                "{} no database of a dead run is listed in the ledger\n",
                self.label("Clean", Style::Good)
            )
        } else {
            sweep_text(runs, dry_run, self.color)
        };
        self.print(&text);
    }

    /// Prints an error that ended the run, with its causes and any hint.
    pub fn report_error(&mut self, error: &RunError) {
        if let Some(out) = &mut self.events {
            let _ = out.write_all(json::error_line(&crate::error_chain(error)).as_bytes());
            let _ = out.flush();
        }
        if let Some(p) = &self.progress {
            p.finish();
        }
        let color = self.options.color.enabled(std::io::stderr().is_terminal());
        let mut text = format!(
            "{} {}\n",
            paint(color, Style::Bad, "error:"),
            crate::error_chain(error)
        );
        if let Some(hint) = error.hint() {
            let _ = writeln!(text, "{} {hint}", paint(color, Style::Note, "hint:"));
        }
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    fn update_progress(&self) {
        if let Some(p) = &self.progress {
            p.message(format!("{} running, {} failed", self.running, self.failed));
        }
    }

    fn print(&mut self, text: &str) {
        let out = &mut self.out;
        let mut write = || {
            // A closed stdout (a pipe into `head`) must not stop the run.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        };
        match &self.progress {
            Some(p) => p.suspend(write),
            None => write(),
        }
    }

    fn summary(&self, s: &RunStats) -> String {
        let mut text = format!("{}\n", "─".repeat(72));
        let run = s.passed + s.failed;
        let count = |n: usize, what: &str, style: Style| {
            let text = format!("{n} {what}");
            if n > 0 {
                self.paint(style, &text)
            } else {
                text
            }
        };
        let mut stopped = String::new();
        for (n, what) in [(s.interrupted, "interrupted"), (s.not_run, "not run")] {
            if n > 0 {
                let _ = write!(stopped, ", {}", count(n, what, Style::Warn));
            }
        }
        let verdict = if s.failed > 0 {
            Style::Bad
        } else {
            Style::Good
        };
        let flaky = match s.flaky {
            0 => String::new(),
            n => format!(" ({})", count(n, "flaky", Style::Warn)),
        };
        let _ = writeln!(
            text,
            "{} {run} test{} run: {}{flaky}, {}, {} ignored, {} filtered out{stopped} [{}]",
            self.label("Summary", verdict),
            plural(run),
            count(s.passed, "passed", Style::Good),
            count(s.failed, "failed", Style::Bad),
            s.ignored,
            s.filtered_out,
            secs(s.total)
        );
        let clones = if s.shared_database {
            "no clones: every worker shared the template (--share-database, isolation off)"
                .to_owned()
        } else {
            format!(
                "{} clone{} made for {} worker{}{}",
                s.clones,
                plural(s.clones),
                s.workers,
                plural(s.workers),
                if s.requested_workers > s.workers {
                    format!(
                        " ({} asked for, {} group{} of tests to run)",
                        s.requested_workers,
                        s.workers,
                        plural(s.workers)
                    )
                } else {
                    String::new()
                }
            )
        };
        let _ = writeln!(
            text,
            "{} {clones}; {} database{} dropped",
            self.label("Databases", Style::Good),
            s.dropped,
            plural(s.dropped)
        );
        if s.leftover_processes > 0 {
            let _ = writeln!(
                text,
                "{} {} process{} that tests left running, killed",
                self.label("Leaked", Style::Warn),
                s.leftover_processes,
                if s.leftover_processes == 1 { "" } else { "es" }
            );
        }
        for (backend, method) in &s.clone_methods {
            let _ = writeln!(
                text,
                "{} {backend}: {method}",
                self.label("Cloned", Style::Good)
            );
        }
        let phases: Vec<String> = s
            .phases
            .iter()
            .map(|(p, d)| format!("{} {}", p.name(), secs(*d)))
            .collect();
        let _ = writeln!(
            text,
            "{} {} (build overlaps template; clones wait for the build)",
            self.label("Phases", Style::Good),
            phases.join(" | ")
        );
        for (i, (test, d)) in s.slowest.iter().enumerate() {
            let label = if i == 0 { "Slowest" } else { "" };
            let _ = writeln!(
                text,
                "{} {} {test}",
                self.label(label, Style::Good),
                secs(*d)
            );
        }
        for (i, f) in self.failures.iter().enumerate() {
            let label = if i == 0 { "Failed" } else { "" };
            let _ = writeln!(text, "{} {f}", self.label(label, Style::Bad));
        }
        if let Some(seed) = s.shuffle_seed {
            let _ = writeln!(
                text,
                "{} seed {seed} (--shuffle {seed} repeats this order)",
                self.label("Shuffled", Style::Good)
            );
        }
        if let Some(p) = &s.partition {
            let _ = writeln!(
                text,
                "{} shard {p}: {} test{} here, {} in the other shards",
                self.label("Partition", Style::Good),
                s.selected + s.ignored,
                plural(s.selected + s.ignored),
                s.other_shards
            );
        }
        for (i, k) in s.kept.iter().enumerate() {
            let label = if i == 0 { "Kept" } else { "" };
            let _ = writeln!(
                text,
                "{} {} ({}) of failed {}: {}",
                self.label(label, Style::Warn),
                k.name,
                k.alias,
                k.test,
                k.url
            );
        }
        if !s.kept.is_empty() {
            let _ = writeln!(
                text,
                "{} not dropped (--keep-failed); `paraclone clean` drops {}",
                self.label("", Style::Warn),
                if s.kept.len() == 1 { "it" } else { "them" }
            );
        }
        // Tests are listed in the build phase: a run stopped before it
        // ended has no tests to speak of.
        let listed = s.phases.iter().any(|(p, _)| *p == Phase::Discover);
        let why = match s.cancelled {
            Some(CancelReason::Signal) => Some("by a signal (Ctrl-C or SIGTERM)"),
            Some(CancelReason::SecondSignal) => {
                Some("by a second signal: running tests were killed without a grace period")
            }
            Some(CancelReason::FailFast) => Some("after the first failure (--failfast)"),
            Some(
                CancelReason::SetupFailed | CancelReason::BuildFailed | CancelReason::WorkerFailed,
            )
            | None => None,
        };
        if let Some(why) = why {
            let before = if listed {
                ""
            } else {
                ", before the tests were built and listed"
            };
            let _ = writeln!(
                text,
                "{} {why}{before}",
                self.label("Cancelled", Style::Warn)
            );
        }
        text.push_str(&left_behind_text(&s.left_behind, self.color));
        if s.selected == 0 && s.cancelled.is_none() {
            let _ = writeln!(
                text,
                "{} no test matched",
                self.label("WARNING", Style::Warn)
            );
        }
        text
    }
}

/// What the warning says when the JUnit report could not be written.
fn junit_error(junit: &Junit, e: &std::io::Error) -> String {
    format!(
        "could not write the JUnit report {}: {e}",
        junit.path().display()
    )
}

/// `text` right-aligned in the label column, in `style` if `color`.
fn label(color: bool, text: &str, style: Style) -> String {
    let padded = format!("{text:>12}");
    if text.is_empty() {
        padded
    } else {
        paint(color, style, &padded)
    }
}

fn left_behind_text(left: &[LeftBehind], color: bool) -> String {
    let mut text = String::new();
    for l in left {
        let _ = writeln!(
            text,
            "{} could not drop {} ({}): {}; it stays in the ledger, \
             `paraclone clean` drops it once the server answers",
            label(color, "WARNING", Style::Warn),
            l.name,
            l.alias,
            l.reason
        );
    }
    text
}

fn sweep_text(runs: &[SweptRun], dry_run: bool, color: bool) -> String {
    let mut text = String::new();
    let warn = label(color, "WARNING", Style::Warn);
    for run in runs {
        let state = if run.alive {
            "still running, older than the limit"
        } else {
            "no longer running"
        };
        let who = match (run.pid, &run.host, run.age) {
            (Some(pid), Some(host), Some(age)) => format!(
                "pid {pid} on {host}, started {} ago, {state}",
                humantime::format_duration(Duration::from_secs(age.as_secs()))
            ),
            _ => format!("pid, host and start unknown, {state}"),
        };
        let list = |names: &[String]| {
            if names.is_empty() {
                "nothing".to_owned()
            } else {
                names.join(", ")
            }
        };
        let (label_text, what) = if run.skipped {
            ("Sweep", "its ledger is left as it is".to_owned())
        } else if let Some(forgotten) = &run.forgotten {
            let verb = if dry_run { "would forget" } else { "forgot" };
            let names: Vec<String> = forgotten
                .iter()
                .map(|(name, server)| format!("{name} (on {server})"))
                .collect();
            let tail = if forgotten.is_empty() {
                ""
            } else {
                "; not dropped: if they still exist, drop them by hand"
            };
            ("Forget", format!("{verb} {}{tail}", list(&names)))
        } else {
            let verb = if dry_run { "would drop" } else { "dropped" };
            let mut done = Vec::new();
            if !run.stopped.is_empty() {
                let (stop, their) = match (dry_run, run.stopped.len()) {
                    (true, 1) => ("would stop", "its"),
                    (true, _) => ("would stop", "their"),
                    (false, 1) => ("stopped", "its"),
                    (false, _) => ("stopped", "their"),
                };
                done.push(format!(
                    "{stop} {}, with {their} databases",
                    run.stopped.join(", ")
                ));
            }
            if !run.dropped.is_empty() || run.stopped.is_empty() {
                done.push(format!("{verb} {}", list(&run.dropped)));
            }
            ("Sweep", done.join("; "))
        };
        let _ = writeln!(
            text,
            "{} run {} ({who}): {what}",
            label(color, label_text, Style::Good),
            run.run_id,
        );
        if !run.absent.is_empty() {
            let _ = writeln!(
                text,
                "{:>12} not on the server, so only taken off the ledger (their create had failed): {}",
                "",
                run.absent.join(", ")
            );
        }
        for (what, why) in &run.not_stopped {
            let _ = writeln!(
                text,
                "{warn} could not stop {what}: {why} (kept in the ledger, with its databases; \
                 the next sweep tries again)"
            );
        }
        for (name, why) in &run.not_dropped {
            if run.alive {
                // A live run cannot be forgotten: it still owns its ledger.
                let _ = writeln!(
                    text,
                    "{warn} could not drop {name}: {why} (kept in the ledger)"
                );
            } else {
                let _ = writeln!(
                    text,
                    "{warn} could not drop {name}: {why} (kept in the ledger; if its server is \
                     gone for good, `paraclone clean --forget {}` takes the run off the ledger)",
                    run.run_id
                );
            }
        }
        for warning in &run.warnings {
            let _ = writeln!(text, "{warn} {warning}");
        }
    }
    text
}

fn describe(outcome: &Outcome) -> (&'static str, Style, String) {
    match outcome {
        Outcome::Passed => ("PASS", Style::Good, String::new()),
        Outcome::Failed { code } => ("FAIL", Style::Bad, format!(" (exit code {code})")),
        Outcome::Reported => ("FAIL", Style::Bad, String::new()),
        Outcome::Signalled { signal } => ("CRASH", Style::Bad, format!(" (killed by {signal})")),
        Outcome::TimedOut { limit } => (
            "TIMEOUT",
            Style::Bad,
            format!(" (ran over {})", secs(*limit)),
        ),
        Outcome::Interrupted => ("INTERRUPTED", Style::Warn, String::new()),
        Outcome::Skipped => ("SKIP", Style::Warn, String::new()),
        Outcome::SpawnFailed { reason } => ("ERROR", Style::Bad, format!(" ({reason})")),
    }
}

/// A test's `output` between rules, the first naming `what` it is of.
fn output_block(text: &mut String, what: &str, output: &str) {
    let _ = writeln!(text, "{:-^72}", format!(" output of {what} "));
    text.push_str(output);
    if !output.ends_with('\n') {
        text.push('\n');
    }
    let _ = writeln!(text, "{:-^72}", " end of output ");
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::events::TestId;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn test(name: &str) -> TestId {
        TestId {
            binary: "shop::it".to_owned(),
            name: name.to_owned(),
        }
    }

    #[test]
    fn failures_print_output_whole_and_summary_lists_them() {
        let buffer = Buffer::default();
        let mut r = Reporter::to_writer(Box::new(buffer.clone()), ReporterOptions::default());
        r.report(&Event::TestFinished {
            test: test("a::passes"),
            worker: 1,
            outcome: Outcome::Passed,
            duration: Duration::from_millis(120),
            output: "hidden\n".to_owned(),
        });
        r.report(&Event::TestFinished {
            test: test("a::fails"),
            worker: 2,
            outcome: Outcome::Failed { code: 101 },
            duration: Duration::from_millis(5),
            output: "line 1\nline 2".to_owned(),
        });
        let stats = RunStats {
            workers: 2,
            clones: 2,
            selected: 2,
            passed: 1,
            failed: 1,
            phases: vec![
                (Phase::Template, Duration::from_millis(10)),
                (Phase::Run, Duration::from_secs(1)),
            ],
            total: Duration::from_secs(2),
            dropped: 3,
            slowest: vec![(test("a::passes"), Duration::from_millis(120))],
            ..RunStats::default()
        };
        r.report(&Event::RunFinished { stats });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let expected = "        PASS [0.120s] w1 shop::it a::passes
        FAIL [0.005s] w2 shop::it a::fails (exit code 101)
--------------------- output of shop::it a::fails ----------------------
line 1
line 2
---------------------------- end of output -----------------------------
";
        assert!(out.starts_with(expected), "got:\n{out}");
        assert!(!out.contains("hidden"));
        let summary = &out[expected.len()..];
        let summary: Vec<&str> = summary.lines().skip(1).collect();
        assert_eq!(
            summary,
            [
                "     Summary 2 tests run: 1 passed, 1 failed, 0 ignored, 0 filtered out [2.000s]",
                "   Databases 2 clones made for 2 workers; 3 databases dropped",
                "      Phases template 0.010s | run 1.000s (build overlaps template; clones wait for the build)",
                "     Slowest 0.120s shop::it a::passes",
                "      Failed shop::it a::fails (exit code 101)",
            ]
        );
    }
}
