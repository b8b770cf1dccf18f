//! One long-lived worker process: started once for a slot, set up once,
//! fed one group of tests at a time over the protocol, its per-test events
//! turned into results as they come. A worker that dies, hangs past the
//! time limit or sends what the protocol does not allow is killed and
//! replaced, never trusted to recover (Bazel's rule for persistent
//! workers).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::adapter::TestResult;
use crate::adapter::describe_exit;
use crate::context::Context;
use crate::events::{Outcome, TestId};
use crate::spawn::{self, Capture, ChildSpec, Exit, Polite, Running};
use crate::worker::protocol::{self, Message, Request, Verdict};

/// How much of what a worker prints outside its tests is kept (shown when
/// it fails to start).
const TAIL: usize = 64 * 1024;

/// How long a worker may take to set up (import the framework, load the
/// settings, collect the suite) before it says hello.
const STARTUP_LIMIT: Duration = Duration::from_secs(600);

/// A running worker, ready for requests.
#[derive(Debug)]
pub(crate) struct Worker {
    running: Running,
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    next_id: u64,
    output_file: PathBuf,
    command: String,
    /// Tests it has run (for recycling).
    pub(crate) tests_run: usize,
    /// The per-test limit of the group being run.
    timeout: Option<Duration>,
    /// How much it had printed outside the protocol when the current test
    /// started.
    mark: u64,
}

/// Why a worker could not be started.
#[derive(Debug)]
pub(crate) enum StartError {
    /// The run was asked to stop meanwhile.
    Interrupted,
    /// It could not be started, or ended or misbehaved before it was ready.
    Failed {
        /// The command, for the message.
        command: String,
        /// What went wrong (`exited with code 1 before it was ready`).
        what: String,
        /// What it printed.
        output: String,
    },
}

/// Receives what a worker reports, as it happens.
pub(crate) trait Observer {
    /// A test started.
    fn started(&mut self, test: &TestId);
    /// A test has run past the slow threshold.
    fn slow(&mut self, test: &TestId, elapsed: Duration);
    /// A test ended.
    fn finished(&mut self, result: TestResult);
}

/// How a group ended on a worker.
#[derive(Debug, Default)]
pub(crate) struct GroupEnd {
    /// The tests of the group the worker did not get to because it broke,
    /// in order, to be run again on a fresh worker.
    pub(crate) left: Vec<TestId>,
    /// Set when the worker is gone and the slot needs a new one.
    pub(crate) broken: Option<Broken>,
}

impl GroupEnd {
    /// The worker is gone without taking a test down with it; `left` runs
    /// again elsewhere.
    fn gone(left: Vec<TestId>) -> GroupEnd {
        GroupEnd {
            left,
            broken: Some(Broken { after: None }),
        }
    }
}

/// Takes the test named `name` out of `pending`, if it is there.
fn take(pending: &mut VecDeque<TestId>, name: &str) -> Option<TestId> {
    let at = pending.iter().position(|t| t.name == name)?;
    pending.remove(at)
}

/// A worker that is gone.
#[derive(Debug)]
pub(crate) struct Broken {
    /// The test it was running, if it took its databases down with it (a
    /// crash or a time-out mid-test; not an interrupt).
    pub(crate) after: Option<TestId>,
}

impl Worker {
    /// Starts `spec` as a worker talking on a socket at `socket`, and
    /// waits until it is ready.
    pub(crate) async fn start(
        spec: ChildSpec,
        socket: &Path,
        output_file: &Path,
        ctx: &Context,
    ) -> Result<Worker, StartError> {
        let command = spec.display();
        let failed = |what: String, output: Vec<u8>| StartError::Failed {
            command: command.clone(),
            what,
            output: ctx.redact(&String::from_utf8_lossy(&output)),
        };
        let _ = std::fs::remove_file(socket);
        let listener = UnixListener::bind(socket).map_err(|e| {
            failed(
                format!("could not listen on {}: {e}", socket.display()),
                Vec::new(),
            )
        })?;
        let spec = spec.envs([
            (
                protocol::SOCKET_VAR.to_owned(),
                socket.display().to_string(),
            ),
            (
                protocol::OUTPUT_VAR.to_owned(),
                output_file.display().to_string(),
            ),
        ]);
        let mut running = spawn::start(&spec, Capture::Tail(TAIL))
            .map_err(|e| failed(format!("could not be started: {e}"), Vec::new()))?;
        let limits = ctx.limits(None);
        let deadline = tokio::time::sleep(STARTUP_LIMIT);
        tokio::pin!(deadline);

        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    running.kill().await;
                    return Err(failed(format!("could not be reached: {e}"), running.tail()));
                }
            },
            exit = running.wait() => {
                let what = match exit {
                    Ok(exit) => format!("{} before it was ready", describe_exit(exit)),
                    Err(e) => format!("could not be waited for: {e}"),
                };
                return Err(failed(what, running.tail()));
            }
            () = limits.soft_stop.cancelled() => {
                running.kill().await;
                return Err(StartError::Interrupted);
            }
            () = &mut deadline => {
                running.kill().await;
                return Err(failed(
                    format!("did not connect within {}", humantime::format_duration(STARTUP_LIMIT)),
                    running.tail(),
                ));
            }
        };
        drop(listener);
        let _ = std::fs::remove_file(socket);
        let (read, writer) = stream.into_split();
        let mut lines = BufReader::new(read).lines();

        let hello = tokio::select! {
            line = lines.next_line() => line,
            _ = running.wait() => Ok(None),
            () = limits.soft_stop.cancelled() => {
                running.kill().await;
                return Err(StartError::Interrupted);
            }
            () = &mut deadline => Ok(None),
        };
        let problem = match hello {
            Ok(Some(line)) => match Message::parse(&line) {
                Ok(Message::Hello { protocol, .. }) if protocol == protocol::PROTOCOL => None,
                Ok(Message::Hello { protocol, .. }) => {
                    Some(format!("speaks {protocol:?}, not {:?}", protocol::PROTOCOL))
                }
                Ok(other) => Some(format!("sent {other:?} before hello")),
                Err(e) => Some(e),
            },
            Ok(None) => Some("closed the connection before it was ready".to_owned()),
            Err(e) => Some(format!("could not be read from: {e}")),
        };
        if let Some(what) = problem {
            running.kill().await;
            return Err(failed(what, running.tail()));
        }
        Ok(Worker {
            running,
            lines,
            writer,
            next_id: 0,
            output_file: output_file.to_owned(),
            command,
            tests_run: 0,
            timeout: None,
            mark: 0,
        })
    }

    /// Runs `tests` (one group, in order) and reports each to `observer`
    /// as it starts and ends. `timeout` limits each test; `slow` is the
    /// slow threshold.
    pub(crate) async fn run_group(
        &mut self,
        tests: &[TestId],
        ctx: &Context,
        limits: GroupLimits,
        observer: &mut dyn Observer,
    ) -> GroupEnd {
        let GroupLimits {
            timeout,
            slow,
            failfast: stop_at_failure,
        } = limits;
        let mut pending: VecDeque<TestId> = tests.iter().cloned().collect();
        if self.running.exited() {
            // It died while it waited for work: nothing of this group ran.
            return GroupEnd::gone(pending.into());
        }
        self.next_id += 1;
        let id = self.next_id;
        let request = Request::Run {
            id,
            tests: tests.iter().map(|t| t.name.as_str()).collect(),
            failfast: stop_at_failure,
        };
        if self.send(&request).await.is_err() {
            self.running.kill().await;
            return GroupEnd::gone(pending.into());
        }
        self.timeout = timeout;
        let limits = ctx.limits(timeout);
        let failfast = ctx.failfast_token();
        let mut stop_sent = false;
        // The test running now, when it started, and whether it was
        // reported slow.
        let mut current: Option<(TestId, Instant, bool)> = None;
        loop {
            let started_at = current
                .as_ref()
                .map(|c| tokio::time::Instant::from_std(c.1));
            let slow_at = current
                .as_ref()
                .filter(|c| !c.2)
                .and(started_at.map(|s| s + slow));
            let deadline = started_at.zip(timeout).map(|(s, t)| s + t);
            let why = tokio::select! {
                line = self.lines.next_line() => match line {
                    Ok(Some(line)) => match Message::parse(&line) {
                        Ok(Message::Started { test: name }) => match take(&mut pending, &name) {
                            Some(test) => {
                                observer.started(&test);
                                self.mark = self.running.printed();
                                current = Some((test, Instant::now(), false));
                                continue;
                            }
                            None => Why::Protocol(format!("started {name:?}, which it was not asked to run")),
                        },
                        Ok(Message::Finished { test: name, outcome, duration, output }) => {
                            let test = if current.as_ref().is_some_and(|(t, _, _)| t.name == name) {
                                current.take().map(|(t, _, _)| t)
                            } else {
                                // A test may end without a `started`
                                // (skipped before it began).
                                take(&mut pending, &name)
                            };
                            let Some(test) = test else {
                                break self.broken(&mut pending, current.take(), ctx, Why::Protocol(format!("finished {name:?}, which it was not asked to run")), observer).await;
                            };
                            self.tests_run += 1;
                            observer.finished(TestResult {
                                test,
                                outcome: match outcome {
                                    Verdict::Passed => Outcome::Passed,
                                    Verdict::Failed => Outcome::Reported,
                                    Verdict::Skipped => Outcome::Skipped,
                                },
                                duration: protocol::seconds(duration),
                                output: ctx.redact(&output),
                                crashed: false,
                            });
                            continue;
                        }
                        Ok(Message::Done { id: done }) if done == id => {
                            if let Some((test, _, _)) = current.take() {
                                pending.push_front(test);
                            }
                            // After a stop (fail-fast, here or on another slot), what
                            // it did not run is not run, not failed.
                            break self.done(pending, stop_sent || ctx.no_new_tests(), observer);
                        }
                        Ok(other) => Why::Protocol(format!("sent {other:?} in the middle of request {id}")),
                        Err(e) => Why::Protocol(e),
                    },
                    Ok(None) | Err(_) => Why::Died,
                },
                _ = self.running.wait() => Why::Died,
                () = spawn::sleep_until(slow_at) => {
                    if let Some((test, started, reported)) = current.as_mut() {
                        *reported = true;
                        observer.slow(test, started.elapsed());
                    }
                    continue;
                }
                () = spawn::sleep_until(deadline) => Why::TimedOut,
                () = limits.soft_stop.cancelled() => Why::Interrupted,
                () = failfast.cancelled(), if !stop_sent => {
                    stop_sent = true;
                    if self.send(&Request::Stop).await.is_err() {
                        Why::Died
                    } else {
                        continue;
                    }
                }
            };
            break self
                .broken(&mut pending, current.take(), ctx, why, observer)
                .await;
        }
    }

    /// A request answered: tests it did not run failed, unless the runner
    /// asked it to stop.
    fn done(
        &mut self,
        pending: VecDeque<TestId>,
        stopped: bool,
        observer: &mut dyn Observer,
    ) -> GroupEnd {
        if !stopped {
            for test in pending {
                observer.finished(TestResult {
                    test,
                    outcome: Outcome::SpawnFailed {
                        reason: "the worker did not run it (its loader may not find a test of that name)".to_owned(),
                    },
                    duration: Duration::ZERO,
                    output: String::new(),
                    crashed: false,
                });
            }
        }
        GroupEnd::default()
    }

    /// The worker is gone or must go: kills it, fails the test it was
    /// running (or, for a death before any test began, the group's first:
    /// a class set-up that crashes must not be retried for ever), and
    /// hands back the rest.
    async fn broken(
        &mut self,
        pending: &mut VecDeque<TestId>,
        current: Option<(TestId, Instant, bool)>,
        ctx: &Context,
        why: Why,
        observer: &mut dyn Observer,
    ) -> GroupEnd {
        let limits = ctx.limits(None);
        let exit = match why {
            Why::Interrupted => {
                self.running.stop(&limits, Polite::Interrupt).await;
                Exit::Interrupted
            }
            Why::TimedOut => {
                self.running.stop(&limits, Polite::Terminate).await;
                Exit::TimedOut
            }
            Why::Died | Why::Protocol(_) => {
                // A worker that closed its end exits by itself; give it a
                // moment to say how before killing it.
                let exit = tokio::time::timeout(Duration::from_secs(2), self.running.wait()).await;
                self.running.kill().await;
                match exit {
                    Ok(Ok(exit)) if !matches!(why, Why::Protocol(_)) => exit,
                    _ => Exit::Code(-1),
                }
            }
        };
        if matches!(why, Why::Interrupted) {
            if let Some((test, started, _)) = current {
                observer.finished(TestResult {
                    test,
                    outcome: Outcome::Interrupted,
                    duration: started.elapsed(),
                    output: self.test_output(ctx),
                    crashed: false,
                });
            }
            return GroupEnd::gone(Vec::new());
        }
        let (test, duration) = match current {
            Some((test, started, _)) => (Some(test), started.elapsed()),
            None => (pending.pop_front(), Duration::ZERO),
        };
        let Some(test) = test else {
            return GroupEnd::gone(Vec::new());
        };
        let mut output = self.test_output(ctx);
        // What it printed outside its capture meanwhile (a fatal error's
        // traceback, for one).
        let stray = self.running.tail_since(self.mark);
        if !stray.is_empty() {
            push_line(&mut output, &ctx.redact(&String::from_utf8_lossy(&stray)));
        }
        let outcome = match (&why, exit) {
            (Why::TimedOut, _) => Outcome::TimedOut {
                limit: self.timeout.unwrap_or(duration),
            },
            (Why::Protocol(problem), _) => {
                push_line(
                    &mut output,
                    &format!(
                        "paraclone: the worker `{}` {problem}; it was replaced",
                        self.command
                    ),
                );
                Outcome::SpawnFailed {
                    reason: "the worker broke the paraclone-v1 protocol".to_owned(),
                }
            }
            (_, Exit::Signal(signal)) => {
                push_line(
                    &mut output,
                    &format!(
                        "paraclone: the worker was killed by {} while this test ran",
                        spawn::signal_name(signal)
                    ),
                );
                Outcome::Signalled {
                    signal: spawn::signal_name(signal),
                }
            }
            (_, Exit::Code(code)) => {
                push_line(
                    &mut output,
                    &format!("paraclone: the worker exited with code {code} while this test ran"),
                );
                Outcome::Failed { code }
            }
            (_, Exit::TimedOut | Exit::Interrupted) => Outcome::Interrupted,
        };
        self.tests_run += 1;
        observer.finished(TestResult {
            test: test.clone(),
            outcome,
            duration,
            output,
            crashed: true,
        });
        GroupEnd {
            left: std::mem::take(pending).into(),
            broken: Some(Broken { after: Some(test) }),
        }
    }

    /// What the test running when the worker broke had printed so far.
    fn test_output(&self, ctx: &Context) -> String {
        let bytes = std::fs::read(&self.output_file).unwrap_or_default();
        ctx.redact(&String::from_utf8_lossy(&bytes))
    }

    async fn send(&mut self, request: &Request<'_>) -> std::io::Result<()> {
        self.writer.write_all(request.line().as_bytes()).await?;
        self.writer.flush().await
    }

    /// Asks the worker to exit and waits for it (a grace period, then a
    /// kill).
    pub(crate) async fn exit(mut self, ctx: &Context) {
        let _ = self.send(&Request::Exit).await;
        let _ = self.writer.shutdown().await;
        let limits = ctx.limits(None);
        tokio::select! {
            _ = self.running.wait() => {}
            () = tokio::time::sleep(limits.grace) => {}
            () = limits.soft_stop.cancelled() => {}
        }
        self.running.kill().await;
        let _ = std::fs::remove_file(&self.output_file);
    }
}

/// What limits the tests of a group.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GroupLimits {
    /// Each test's time limit.
    pub(crate) timeout: Option<Duration>,
    /// When a test is reported slow.
    pub(crate) slow: Duration,
    /// Start no further test after one fails (`--failfast`).
    pub(crate) failfast: bool,
}

/// Why a worker is being given up on.
#[derive(Debug)]
enum Why {
    Died,
    TimedOut,
    Interrupted,
    Protocol(String),
}

fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
}
