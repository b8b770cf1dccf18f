//! Command suites: any test tool, driven by a list command and a run
//! command, with per-test results from JUnit XML when the tool writes it.
//! The `django` and `pytest` presets are command suites with known
//! commands and a known id format.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::adapter::junit::{self, Case, Verdict};
use crate::adapter::rust::describe_exit;
use crate::adapter::{Group, Invocation, Listing, TestResult};
use crate::config::{CommandLine, CommandTests, Preset, shell_quote};
use crate::error::RunError;
use crate::events::Outcome;
use crate::spawn::{self, ChildSpec, Exit, Finished, Limits};

/// Django's test runner class that paraclone ships: lists tests, runs them
/// on the database it is given (no test database created or destroyed),
/// writes JUnit XML.
const DJANGO_RUNNER: &str = include_str!("paraclone_django.py");

/// The pytest plugin that makes pytest a long-lived worker.
const PYTEST_PLUGIN: &str = include_str!("paraclone_pytest.py");

/// The `paraclone-v1` protocol's client, shared by both.
const PYTHON_WORKER: &str = include_str!("paraclone_worker.py");

/// What marks a test id in the Django runner's listing.
const DJANGO_ID_MARK: &str = "PARACLONE-TEST ";

/// The name plain command suites go by in reports (presets go by theirs).
const SUITE_ID: &str = "suite";

#[derive(Debug)]
pub(crate) struct CommandSuite {
    config: CommandTests,
    /// `--tool-arg`s, shell-quoted, for `{args}`.
    tool_args: String,
    /// Directory added to `PYTHONPATH` (holds the Django runner), if any.
    python_path: Option<PathBuf>,
}

impl Drop for CommandSuite {
    fn drop(&mut self) {
        // The Python modules written for this run go with it.
        if let Some(dir) = &self.python_path {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Lists the suite's tests.
pub(crate) async fn discover(
    config: &CommandTests,
    tool_args: &[String],
    env: &[(String, String)],
    limits: &Limits,
) -> Result<(CommandSuite, Listing), RunError> {
    let python_path = match config.preset {
        Preset::Django | Preset::Pytest => Some(write_python_modules()?),
        Preset::None => None,
    };
    let tool_args = tool_args
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let suite = CommandSuite {
        config: config.clone(),
        tool_args,
        python_path,
    };
    let tests = match &config.list {
        None => config.tests.clone(),
        Some(list) => {
            let spec = suite
                .spec(list)
                .envs(env.iter().cloned())
                .envs([("PARACLONE_PHASE".to_owned(), "list".to_owned())]);
            let done = spawn::run(&spec, limits, None)
                .await
                .map_err(|source| RunError::Spawn {
                    command: spec.display(),
                    source,
                })?;
            let output = String::from_utf8_lossy(&done.output).into_owned();
            // pytest exits 5 when it collected no test: that is an empty
            // list, not a failure.
            let empty_pytest = config.preset == Preset::Pytest && done.exit == Exit::Code(5);
            match done.exit {
                Exit::Code(0) => {}
                _ if empty_pytest => {}
                Exit::Interrupted => return Err(RunError::Interrupted),
                exit => {
                    return Err(RunError::Discover {
                        what: format!(
                            "listing the tests with `{}` {}",
                            spec.display(),
                            describe_exit(exit)
                        ),
                        output,
                    });
                }
            }
            parse_listing(config.preset, &output)
        }
    };
    let listing = Listing {
        binary: 0,
        binary_id: match config.preset {
            Preset::Django => "django",
            Preset::Pytest => "pytest",
            Preset::None => SUITE_ID,
        }
        .to_owned(),
        tests,
        ignored: Vec::new(),
    };
    Ok((suite, listing))
}

/// Test ids from a list command's output.
fn parse_listing(preset: Preset, output: &str) -> Vec<String> {
    match preset {
        Preset::Django => output
            .lines()
            .filter_map(|l| l.strip_prefix(DJANGO_ID_MARK))
            .map(str::to_owned)
            .collect(),
        // `pytest --collect-only -q`: node ids, then a blank line and a
        // count.
        Preset::Pytest => output
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.contains("::"))
            .map(|l| l.trim().to_owned())
            .collect(),
        Preset::None => output
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

impl CommandSuite {
    fn spec(&self, command: &CommandLine) -> ChildSpec {
        let spec = match command {
            CommandLine::Shell(script) => ChildSpec::command_line(
                &CommandLine::Shell(script.replace("{args}", &self.tool_args)),
                &self.config.cwd,
            ),
            argv => ChildSpec::command_line(argv, &self.config.cwd),
        };
        let mut env = self.config.env.clone();
        if let Some(dir) = &self.python_path {
            let existing = std::env::var("PYTHONPATH").ok().filter(|p| !p.is_empty());
            let value = match existing {
                Some(p) => format!("{}:{p}", dir.display()),
                None => dir.display().to_string(),
            };
            env.push(("PYTHONPATH".to_owned(), value));
        }
        spec.envs(env)
    }

    /// The most tests one process runs.
    pub(crate) fn batch(&self) -> usize {
        self.config.batch
    }

    /// The command that starts a long-lived worker, for suites that run
    /// on them.
    pub(crate) fn worker_spec(&self) -> Option<ChildSpec> {
        let script = self.config.worker.as_ref()?;
        Some(self.spec(&CommandLine::Shell(script.clone())))
    }

    /// The group split into batches of at most `batch` tests, each one run
    /// of the run command.
    pub(crate) fn invocations(&self, group: &Group, scratch: &Path) -> Vec<Invocation> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        group
            .tests
            .chunks(self.config.batch)
            .map(|tests| {
                let junit = scratch.join(format!(
                    "junit-{}.xml",
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                let ids: Vec<String> = tests.iter().map(|t| shell_quote(&t.name)).collect();
                let uses_junit = self.config.run.contains("{junit}");
                let script = self
                    .config
                    .run
                    .replace("{tests}", &ids.join(" "))
                    .replace("{junit}", &shell_quote(&junit.display().to_string()));
                Invocation {
                    tests: tests.to_vec(),
                    spec: self.spec(&CommandLine::Shell(script)),
                    junit: uses_junit.then_some(junit),
                }
            })
            .collect()
    }
}

/// Per-test results of one run of the run command: from its JUnit report
/// when there is one, else from its exit status, which then stands for all
/// its tests.
///
/// The process's whole output (which holds the tool's own report of every
/// failure, traceback included) goes with the first failing test, or the
/// first test when none failed; each further failing test gets the one-line
/// message of its JUnit report. So every traceback is printed once, whole.
/// When the tool printed nothing, the JUnit texts stand in.
pub(crate) fn results(
    invocation: &Invocation,
    finished: &Finished,
    output: String,
    timeout: Option<Duration>,
) -> Vec<TestResult> {
    let whole = status_outcome(finished.exit, timeout);
    // Only a process that died or was killed left its database half-done; a
    // failing exit status is how test tools report failing tests.
    let crashed = matches!(whole, Outcome::Signalled { .. } | Outcome::TimedOut { .. });
    let cases = invocation.junit.as_deref().and_then(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        let _ = std::fs::remove_file(path);
        junit::parse(&text).ok()
    });
    let share = finished.duration / invocation.tests.len().max(1) as u32;
    let mut results: Vec<TestResult> = invocation
        .tests
        .iter()
        .map(|test| {
            let case = cases
                .as_ref()
                .and_then(|cases| cases.iter().find(|c| junit::matches(c, &test.name)));
            let (outcome, duration, (message, text)) = match (cases.as_ref(), case) {
                (None, _) => (whole.clone(), share, Default::default()),
                (Some(_), Some(case)) => case_outcome(case, finished.exit),
                // The tool did not get to this test: it crashed, was
                // stopped, or the id does not name a test.
                (Some(_), None) if !whole.is_pass() => {
                    (whole.clone(), Duration::ZERO, Default::default())
                }
                (Some(_), None) => (
                    Outcome::SpawnFailed {
                        reason: "the tool's JUnit report does not mention this test".to_owned(),
                    },
                    Duration::ZERO,
                    Default::default(),
                ),
            };
            let output = if output.trim().is_empty() {
                join_lines(&message, &text)
            } else {
                message
            };
            TestResult {
                test: test.clone(),
                outcome,
                duration,
                output,
                crashed,
            }
        })
        .collect();
    let first = results
        .iter()
        .position(|r| !r.outcome.is_pass())
        .unwrap_or(0);
    if let Some(r) = results.get_mut(first)
        && !output.trim().is_empty()
    {
        r.output = output;
    }
    results
}

fn join_lines(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}\n{b}"),
    }
}

fn status_outcome(exit: Exit, timeout: Option<Duration>) -> Outcome {
    match exit {
        Exit::Code(0) => Outcome::Passed,
        // Run commands go through `sh -c`, which reports a command killed by
        // signal N as exit code 128 + N.
        Exit::Code(code @ 129..=192) => Outcome::Signalled {
            signal: spawn::signal_name(code - 128),
        },
        Exit::Code(code) => Outcome::Failed { code },
        Exit::Signal(signal) => Outcome::Signalled {
            signal: spawn::signal_name(signal),
        },
        Exit::TimedOut => Outcome::TimedOut {
            limit: timeout.unwrap_or_default(),
        },
        Exit::Interrupted => Outcome::Interrupted,
    }
}

fn case_outcome(case: &Case, exit: Exit) -> (Outcome, Duration, (String, String)) {
    let code = match exit {
        Exit::Code(c) if c != 0 => c,
        _ => 1,
    };
    let outcome = match case.verdict {
        Verdict::Passed => Outcome::Passed,
        Verdict::Skipped => Outcome::Skipped,
        Verdict::Failed | Verdict::Error => Outcome::Failed { code },
    };
    (
        outcome,
        case.time,
        (case.message.clone(), case.text.clone()),
    )
}

/// Writes the Python modules paraclone ships (the Django runner, the
/// pytest plugin, the protocol client) into a directory of its own and
/// returns the directory, which goes on `PYTHONPATH`.
fn write_python_modules() -> Result<PathBuf, RunError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "paraclone-python-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let error = |source| RunError::Spawn {
        command: "write paraclone's Python modules".to_owned(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(error)?;
    for (name, text) in [
        ("paraclone_django.py", DJANGO_RUNNER),
        ("paraclone_pytest.py", PYTEST_PLUGIN),
        ("paraclone_worker.py", PYTHON_WORKER),
    ] {
        std::fs::write(dir.join(name), text).map_err(error)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::TestId;

    #[test]
    fn listings_are_parsed_per_preset() {
        let pytest = "tests/test_a.py::test_one\ntests/test_a.py::TestB::test_two[1-2]\n\n2 tests collected in 0.01s\n";
        assert_eq!(
            parse_listing(Preset::Pytest, pytest),
            [
                "tests/test_a.py::test_one",
                "tests/test_a.py::TestB::test_two[1-2]"
            ]
        );
        let django = "System check identified no issues.\nPARACLONE-TEST shop.tests.OrderTests.test_total\nnoise\n";
        assert_eq!(
            parse_listing(Preset::Django, django),
            ["shop.tests.OrderTests.test_total"]
        );
        assert_eq!(parse_listing(Preset::None, " a \n\nb\n"), ["a", "b"]);
    }

    fn finished(exit: Exit) -> Finished {
        Finished {
            exit,
            output: Vec::new(),
            duration: Duration::from_secs(2),
            leaked: None,
        }
    }

    fn invocation(junit: Option<PathBuf>) -> Invocation {
        let tests = ["t.py::a", "t.py::b"]
            .map(|n| TestId {
                binary: SUITE_ID.to_owned(),
                name: n.to_owned(),
            })
            .to_vec();
        Invocation {
            tests,
            spec: ChildSpec::new("true", "/"),
            junit,
        }
    }

    #[test]
    fn without_junit_the_exit_status_decides_for_every_test() {
        let results = results(
            &invocation(None),
            &finished(Exit::Code(1)),
            "boom".to_owned(),
            None,
        );
        assert!(
            results
                .iter()
                .all(|r| r.outcome == Outcome::Failed { code: 1 })
        );
        assert_eq!(results[0].output, "boom");
        assert_eq!(results[1].output, "");
        assert_eq!(results[1].duration, Duration::from_secs(1));
    }

    #[test]
    fn junit_gives_per_test_results_and_the_output_goes_with_the_first_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.xml");
        std::fs::write(
            &path,
            r#"<testsuites><testsuite><testcase classname="t" name="a" time="0.5"/><testcase classname="t" name="b" time="0.25"><failure message="assert 1 == 2">trace</failure></testcase></testsuite></testsuites>"#,
        )
        .unwrap();
        let results = results(
            &invocation(Some(path.clone())),
            &finished(Exit::Code(1)),
            "all output".to_owned(),
            None,
        );
        assert_eq!(results[0].outcome, Outcome::Passed);
        assert_eq!(results[0].duration, Duration::from_millis(500));
        assert_eq!(results[1].outcome, Outcome::Failed { code: 1 });
        assert_eq!(results[1].output, "all output");
        assert!(!results[1].crashed, "a reported failure is no crash");
        assert!(!path.exists(), "the report is removed once read");
    }

    #[test]
    fn a_silent_tool_leaves_the_junit_texts_and_later_failures_get_their_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.xml");
        let xml = r#"<testsuite><testcase classname="t" name="a"><failure message="first">trace a</failure></testcase><testcase classname="t" name="b"><error message="second">trace b</error></testcase></testsuite>"#;
        std::fs::write(&path, xml).unwrap();
        let silent = results(
            &invocation(Some(path.clone())),
            &finished(Exit::Code(1)),
            String::new(),
            None,
        );
        assert_eq!(silent[0].output, "first\ntrace a");
        assert_eq!(silent[1].output, "second\ntrace b");
        std::fs::write(&path, xml).unwrap();
        let talkative = results(
            &invocation(Some(path)),
            &finished(Exit::Code(1)),
            "report of a and b".to_owned(),
            None,
        );
        assert_eq!(talkative[0].output, "report of a and b");
        assert_eq!(talkative[1].output, "second");
    }

    #[test]
    fn a_shell_reported_signal_is_a_crash() {
        assert_eq!(
            status_outcome(Exit::Code(137), None),
            Outcome::Signalled {
                signal: "SIGKILL".to_owned()
            }
        );
        assert_eq!(
            status_outcome(Exit::Code(2), None),
            Outcome::Failed { code: 2 }
        );
    }

    #[test]
    fn a_crash_before_the_report_fails_every_test_with_the_signal() {
        let dir = tempfile::tempdir().unwrap();
        let results = results(
            &invocation(Some(dir.path().join("never-written.xml"))),
            &finished(Exit::Signal(9)),
            String::new(),
            None,
        );
        assert!(results.iter().all(|r| r.outcome
            == Outcome::Signalled {
                signal: "SIGKILL".to_owned()
            }));
    }

    #[test]
    fn run_commands_get_quoted_ids_and_the_junit_path() {
        let suite = CommandSuite {
            config: CommandTests {
                preset: Preset::None,
                list: None,
                tests: Vec::new(),
                run: "tool --junit {junit} {tests}".to_owned(),
                cwd: PathBuf::from("/w"),
                group_separator: "::".to_owned(),
                batch: 2,
                worker: None,
                env: Vec::new(),
            },
            tool_args: String::new(),
            python_path: None,
        };
        let group = Group {
            binary: 0,
            splittable: false,
            tests: ["a::x y", "a::it's", "a::z"]
                .map(|n| TestId {
                    binary: SUITE_ID.to_owned(),
                    name: n.to_owned(),
                })
                .to_vec(),
        };
        let inv = suite.invocations(&group, Path::new("/scratch"));
        assert_eq!(inv.len(), 2);
        let script = inv[0].spec.display();
        assert!(
            script.starts_with("sh -c tool --junit /scratch/junit-"),
            "{script}"
        );
        assert!(script.ends_with(".xml 'a::x y' 'a::it'\\''s'"), "{script}");
        assert_eq!(inv[1].tests.len(), 1);
    }
}
