//! The JUnit XML report of a run (`--junit PATH`), in the Jenkins flavour
//! cargo-nextest writes: `<testsuites>`, a `<testsuite>` per binary (or
//! suite), a `<testcase name classname time>` per test with `<failure>`,
//! `<error>` or `<skipped>`, and the test's output in `<system-out>`.
//! A test run more than once (`--retries`) keeps its attempts as
//! Surefire does: a pass after failures has a `<flakyFailure>` per failed
//! attempt, a test that failed every time has its first failure as
//! `<failure>` and the others as `<rerunFailure>`.
//!
//! It is built from the run's events and written whole, to a temporary
//! file renamed over the path, when the run finishes, when it ends with
//! an error, or when the reporter is dropped: what ran so far is always
//! there, and a reader never sees half a file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::events::{Event, Outcome, TestId};

/// What goes into `<system-out>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JunitOutput {
    /// The output of tests that did not pass (default).
    #[default]
    Failed,
    /// Every test's output.
    All,
}

/// One run of one test.
#[derive(Debug)]
struct Attempt {
    outcome: Outcome,
    duration: Duration,
    output: String,
}

#[derive(Debug)]
struct Case {
    test: TestId,
    /// Listed as ignored: never run.
    ignored: bool,
    attempts: Vec<Attempt>,
}

/// Collects a run's results and writes them as JUnit XML.
#[derive(Debug)]
pub(crate) struct Junit {
    path: PathBuf,
    output: JunitOutput,
    started: SystemTime,
    run_id: Option<String>,
    total: Option<Duration>,
    /// Suites in the order their first test finished.
    suites: Vec<(String, Vec<Case>)>,
    index: HashMap<TestId, (usize, usize)>,
    /// Set when the latest state is on disk.
    written: bool,
}

impl Junit {
    pub(crate) fn new(path: PathBuf, output: JunitOutput) -> Junit {
        Junit {
            path,
            output,
            started: SystemTime::now(),
            run_id: None,
            total: None,
            suites: Vec::new(),
            index: HashMap::new(),
            written: false,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Takes one event in; writes the file when the run is over.
    pub(crate) fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::RunStarted { run_id, .. } => self.run_id = Some(run_id.clone()),
            Event::TestsDiscovered { ignored, .. } => {
                for test in ignored {
                    self.case(test).ignored = true;
                }
                self.written = false;
            }
            Event::TestRetry {
                test,
                outcome,
                duration,
                output,
                ..
            }
            | Event::TestFinished {
                test,
                outcome,
                duration,
                output,
                ..
            } => {
                self.case(test).attempts.push(Attempt {
                    outcome: outcome.clone(),
                    duration: *duration,
                    output: output.clone(),
                });
                self.written = false;
            }
            Event::RunFinished { stats } => {
                self.total = Some(stats.total);
                return self.write();
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes the file if what is on disk is not the latest.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        if self.written {
            return Ok(());
        }
        self.write()
    }

    fn case(&mut self, test: &TestId) -> &mut Case {
        let (s, c) = match self.index.get(test) {
            Some(at) => *at,
            None => {
                let s = match self.suites.iter().position(|(b, _)| *b == test.binary) {
                    Some(s) => s,
                    None => {
                        self.suites.push((test.binary.clone(), Vec::new()));
                        self.suites.len() - 1
                    }
                };
                self.suites[s].1.push(Case {
                    test: test.clone(),
                    ignored: false,
                    attempts: Vec::new(),
                });
                let at = (s, self.suites[s].1.len() - 1);
                self.index.insert(test.clone(), at);
                at
            }
        };
        &mut self.suites[s].1[c]
    }

    fn write(&mut self) -> std::io::Result<()> {
        let xml = self.render();
        crate::files::write_atomically(&self.path, xml.as_bytes())?;
        self.written = true;
        Ok(())
    }

    /// The whole document.
    pub(crate) fn render(&self) -> String {
        let mut body = String::new();
        let (mut tests, mut failures, mut errors) = (0, 0, 0);
        let mut suites_time = Duration::ZERO;
        let timestamp = humantime::format_rfc3339_seconds(self.started).to_string();
        for (binary, cases) in &self.suites {
            let mut counts = Counts::default();
            let mut cases_xml = String::new();
            for case in cases {
                self.render_case(case, &mut cases_xml, &mut counts);
            }
            tests += counts.tests;
            failures += counts.failures;
            errors += counts.errors;
            suites_time += counts.time;
            let _ = writeln!(
                body,
                "    <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{timestamp}\">",
                attr(binary),
                counts.tests,
                counts.failures,
                counts.errors,
                counts.skipped,
                secs(counts.time),
            );
            body.push_str(&cases_xml);
            body.push_str("    </testsuite>\n");
        }
        let name = match &self.run_id {
            Some(id) => format!("paraclone run {id}"),
            None => "paraclone run".to_owned(),
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{}\">\n{body}</testsuites>\n",
            attr(&name),
            secs(self.total.unwrap_or(suites_time)),
        )
    }

    fn render_case(&self, case: &Case, out: &mut String, counts: &mut Counts) {
        counts.tests += 1;
        let last = case.attempts.last();
        let time = last.map_or(Duration::ZERO, |a| a.duration);
        counts.time += case.attempts.iter().map(|a| a.duration).sum::<Duration>();
        let _ = write!(
            out,
            "        <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
            attr(&case.test.name),
            attr(&case.test.binary),
            secs(time),
        );
        let Some(last) = last else {
            // Listed as ignored, never run.
            counts.skipped += 1;
            let _ = writeln!(
                out,
                ">\n            <skipped message=\"ignored\"/>\n        </testcase>"
            );
            return;
        };
        debug_assert!(case.attempts.len() == 1 || !case.ignored);
        let mut inner = String::new();
        match kind(&last.outcome) {
            Kind::Pass => {
                for failed in &case.attempts[..case.attempts.len() - 1] {
                    rerun(&mut inner, "flaky", failed);
                }
                if self.output == JunitOutput::All && !last.output.is_empty() {
                    system_out(&mut inner, "            ", &last.output);
                }
            }
            Kind::Skipped => {
                counts.skipped += 1;
                inner.push_str("            <skipped/>\n");
            }
            Kind::Failure | Kind::Error => {
                // The first failure is the test's, the others its reruns.
                let first = case
                    .attempts
                    .iter()
                    .find(|a| kind(&a.outcome) != Kind::Pass)
                    .unwrap_or(last);
                let (element, ty, message) = describe(&first.outcome);
                if element == "error" {
                    counts.errors += 1;
                } else {
                    counts.failures += 1;
                }
                let _ = writeln!(
                    inner,
                    "            <{element} type=\"{}\" message=\"{}\">{}</{element}>",
                    attr(ty),
                    attr(&message_of(&message, &first.output)),
                    text(&failure_text(&message, &first.output)),
                );
                for other in case
                    .attempts
                    .iter()
                    .skip_while(|a| !std::ptr::eq(*a, first))
                    .skip(1)
                {
                    rerun(&mut inner, "rerun", other);
                }
                if !first.output.is_empty() {
                    system_out(&mut inner, "            ", &first.output);
                }
            }
        }
        if inner.is_empty() {
            out.push_str("/>\n");
        } else {
            let _ = write!(out, ">\n{inner}        </testcase>\n");
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Pass,
    Skipped,
    Failure,
    Error,
}

fn kind(outcome: &Outcome) -> Kind {
    match outcome {
        Outcome::Passed => Kind::Pass,
        Outcome::Skipped => Kind::Skipped,
        Outcome::Interrupted | Outcome::SpawnFailed { .. } => Kind::Error,
        _ => Kind::Failure,
    }
}

/// The element (`failure`, `error`), its `type` and a message for a test
/// that did not pass, in nextest's words where it has them.
fn describe(outcome: &Outcome) -> (&'static str, &'static str, String) {
    match outcome {
        Outcome::Failed { code } => ("failure", "test failure", format!("exit code {code}")),
        Outcome::Reported => ("failure", "test failure", "test failure".to_owned()),
        Outcome::Signalled { signal } => ("failure", "test abort", format!("killed by {signal}")),
        Outcome::TimedOut { limit } => (
            "failure",
            "test timeout",
            format!("ran over {}s", secs(*limit)),
        ),
        Outcome::Interrupted => (
            "error",
            "interrupted",
            "interrupted while it ran (Ctrl-C or SIGTERM)".to_owned(),
        ),
        Outcome::SpawnFailed { reason } => ("error", "execution failure", reason.clone()),
        Outcome::Passed | Outcome::Skipped => ("failure", "test failure", String::new()),
    }
}

/// A failed attempt before the last one: `<flakyFailure>`/`<rerunFailure>`
/// (or `…Error`), with its output. No `time`: the schema has none there
/// (nextest writes one; Jenkins' schema refuses it).
fn rerun(out: &mut String, prefix: &str, attempt: &Attempt) {
    let (element, ty, message) = describe(&attempt.outcome);
    let element = match (prefix, element) {
        ("flaky", "error") => "flakyError",
        ("flaky", _) => "flakyFailure",
        (_, "error") => "rerunError",
        _ => "rerunFailure",
    };
    let _ = writeln!(
        out,
        "            <{element} type=\"{}\" message=\"{}\">",
        attr(ty),
        attr(&message_of(&message, &attempt.output)),
    );
    let _ = writeln!(
        out,
        "                <stackTrace>{}</stackTrace>",
        text(&failure_text(&message, &attempt.output))
    );
    if !attempt.output.is_empty() {
        system_out(out, "                ", &attempt.output);
    }
    let _ = writeln!(out, "            </{element}>");
}

fn system_out(out: &mut String, indent: &str, output: &str) {
    let _ = writeln!(out, "{indent}<system-out>{}</system-out>", text(output));
}

/// What a Rust test's panic says (`thread '…' panicked at file:line:col:`
/// and the message after it, up to the backtrace note), else nothing.
fn panic_lines(output: &str) -> Option<String> {
    let mut lines = output.lines();
    lines.find(|l| l.starts_with("thread '") && l.contains("panicked at"))?;
    let message: Vec<&str> = lines
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"))
        .collect();
    let message = message.join("\n").trim_end().to_owned();
    (!message.is_empty()).then_some(message)
}

/// The `message` attribute: the panic's first line, else the outcome's.
fn message_of(outcome_message: &str, output: &str) -> String {
    match panic_lines(output) {
        Some(p) => p.lines().next().unwrap_or_default().to_owned(),
        None => outcome_message.to_owned(),
    }
}

/// The failure's text: the outcome, then the panic's message if any.
fn failure_text(outcome_message: &str, output: &str) -> String {
    match panic_lines(output) {
        Some(p) => format!("{outcome_message}\n{p}"),
        None => outcome_message.to_owned(),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// `s` as XML attribute text.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// `s` as XML element text.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes markup, drops terminal escape sequences (colour) and replaces
/// characters XML 1.0 does not allow even escaped (other control
/// characters) with U+FFFD, so any test output makes a valid document.
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ parameters… final byte (@ to ~).
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(binary: &str, name: &str) -> TestId {
        TestId {
            binary: binary.to_owned(),
            name: name.to_owned(),
        }
    }

    fn finished(test: TestId, outcome: Outcome, output: &str) -> Event {
        Event::TestFinished {
            test,
            worker: 1,
            outcome,
            duration: Duration::from_millis(15),
            output: output.to_owned(),
        }
    }

    #[test]
    fn cases_failures_retries_and_escaping() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Junit::new(dir.path().join("sub/junit.xml"), JunitOutput::Failed);
        j.event(&finished(
            id("a::it", "x::passes"),
            Outcome::Passed,
            "quiet",
        ))
        .unwrap();
        let panic = "running 1 test\nthread 'x::fails' panicked at tests/x.rs:3:5:\nassertion `left == right` failed\n  left: 1 <\nnote: run with `RUST_BACKTRACE=1`\n\u{1b}[31mred\u{1b}[0m \u{7}bell";
        j.event(&finished(
            id("a::it", "x::fails"),
            Outcome::Failed { code: 101 },
            panic,
        ))
        .unwrap();
        j.event(&finished(
            id("b::it", "y::flaky"),
            Outcome::Failed { code: 101 },
            "first",
        ))
        .unwrap();
        j.event(&finished(
            id("b::it", "y::flaky"),
            Outcome::Passed,
            "second",
        ))
        .unwrap();
        let xml = j.render();
        assert!(
            xml.contains(
                r#"<testsuite name="a::it" tests="2" failures="1" errors="0" skipped="0""#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="x::passes" classname="a::it" time="0.015"/>"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<failure type="test failure" message="assertion `left == right` failed">exit code 101"#), "{xml}");
        assert!(xml.contains("left: 1 &lt;</failure>"), "{xml}");
        assert!(xml.contains("red \u{fffd}bell</system-out>"), "{xml}");
        assert!(!xml.contains("quiet"), "passing output only on request");
        assert!(
            xml.contains(r#"<flakyFailure type="test failure" message="exit code 101""#),
            "{xml}"
        );
        assert!(!xml.contains("second"));
        assert!(!dir.path().join("sub/junit.xml").exists());
        j.flush().unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join("sub/junit.xml")).unwrap();
        assert_eq!(on_disk, xml);
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
