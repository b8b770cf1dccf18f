//! Snapshot tests of what the reporter prints: the same events in colour
//! and plain, and the lines of runs that stopped early and of sweeps, whole.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Color, Reporter, ReporterOptions};
use crate::events::{CancelReason, Event, Outcome, Phase, RunStats, SweptRun, TestId};

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

/// Feeds `events` to a reporter with colour `color` and returns what it
/// printed.
fn printed(color: Color, events: &[Event]) -> String {
    let buffer = Buffer::default();
    let options = ReporterOptions {
        color,
        ..ReporterOptions::default()
    };
    let mut r = Reporter::to_writer(Box::new(buffer.clone()), options);
    for e in events {
        r.report(e);
    }
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

fn test(name: &str) -> TestId {
    TestId {
        binary: "shop::it".to_owned(),
        name: name.to_owned(),
    }
}

fn finished(name: &str, worker: usize, outcome: Outcome, ms: u64) -> Event {
    Event::TestFinished {
        test: test(name),
        worker,
        outcome,
        duration: Duration::from_millis(ms),
        output: String::new(),
    }
}

fn a_run_with_a_failure() -> Vec<Event> {
    vec![
        finished("a::passes", 1, Outcome::Passed, 120),
        finished("a::fails", 2, Outcome::Failed { code: 101 }, 5),
        finished("a::skipped", 1, Outcome::Skipped, 0),
        Event::RunFinished {
            stats: RunStats {
                workers: 2,
                clones: 2,
                selected: 3,
                passed: 1,
                failed: 1,
                ignored: 1,
                phases: vec![
                    (Phase::Template, Duration::from_millis(10)),
                    (Phase::Discover, Duration::from_millis(20)),
                    (Phase::Run, Duration::from_secs(1)),
                ],
                total: Duration::from_secs(2),
                dropped: 3,
                ..RunStats::default()
            },
        },
    ]
}

const RULE: &str = "────────────────────────────────────────────────────────────────────────";

#[test]
fn plain_output_has_no_escape_codes() {
    let expected = format!(
        "        PASS [0.120s] w1 shop::it a::passes
        FAIL [0.005s] w2 shop::it a::fails (exit code 101)
        SKIP [0.000s] w1 shop::it a::skipped
{RULE}
     Summary 2 tests run: 1 passed, 1 failed, 1 ignored, 0 filtered out [2.000s]
   Databases 2 clones made for 2 workers; 3 databases dropped
      Phases template 0.010s | build 0.020s | run 1.000s (build overlaps template; clones wait for the build)
      Failed shop::it a::fails (exit code 101)
"
    );
    assert_eq!(printed(Color::Never, &a_run_with_a_failure()), expected);
    // Auto into a writer that is no terminal: plain too.
    assert_eq!(printed(Color::Auto, &a_run_with_a_failure()), expected);
}

#[test]
fn coloured_output_colours_outcomes_labels_and_counts() {
    let green = |s: &str| format!("\x1b[1;32m{s}\x1b[0m");
    let red = |s: &str| format!("\x1b[1;31m{s}\x1b[0m");
    let yellow = |s: &str| format!("\x1b[1;33m{s}\x1b[0m");
    let expected = format!(
        "{} [0.120s] w1 shop::it a::passes
{} [0.005s] w2 shop::it a::fails (exit code 101)
{} [0.000s] w1 shop::it a::skipped
{RULE}
{} 2 tests run: {}, {}, 1 ignored, 0 filtered out [2.000s]
{} 2 clones made for 2 workers; 3 databases dropped
{} template 0.010s | build 0.020s | run 1.000s (build overlaps template; clones wait for the build)
{} shop::it a::fails (exit code 101)
",
        green("        PASS"),
        red("        FAIL"),
        yellow("        SKIP"),
        red("     Summary"),
        green("1 passed"),
        red("1 failed"),
        green("   Databases"),
        green("      Phases"),
        red("      Failed"),
    );
    assert_eq!(printed(Color::Always, &a_run_with_a_failure()), expected);
}

#[test]
fn a_clean_summary_is_green_and_zero_counts_are_not_coloured() {
    let out = printed(
        Color::Always,
        &[Event::RunFinished {
            stats: RunStats {
                workers: 1,
                clones: 1,
                selected: 1,
                passed: 1,
                phases: vec![(Phase::Discover, Duration::ZERO)],
                ..RunStats::default()
            },
        }],
    );
    let summary = out.lines().nth(1).unwrap();
    assert_eq!(
        summary,
        "\x1b[1;32m     Summary\x1b[0m 1 test run: \x1b[1;32m1 passed\x1b[0m, 0 failed, 0 ignored, 0 filtered out [0.000s]"
    );
}

fn summary_lines(events: &[Event]) -> Vec<String> {
    printed(Color::Never, events)
        .lines()
        .skip_while(|l| *l != RULE)
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_run_interrupted_in_the_build_counts_its_clones_and_claims_no_missing_test() {
    let lines = summary_lines(&[Event::RunFinished {
        stats: RunStats {
            workers: 4,
            clones: 4,
            dropped: 5,
            phases: vec![(Phase::Teardown, Duration::from_millis(18))],
            total: Duration::from_secs(1),
            cancelled: Some(CancelReason::Signal),
            ..RunStats::default()
        },
    }]);
    assert_eq!(
        lines,
        [
            "     Summary 0 tests run: 0 passed, 0 failed, 0 ignored, 0 filtered out [1.000s]",
            "   Databases 4 clones made for 4 workers; 5 databases dropped",
            "      Phases teardown 0.018s (build overlaps template; clones wait for the build)",
            "   Cancelled by a signal (Ctrl-C or SIGTERM), before the tests were built and listed",
        ]
    );
}

#[test]
fn tests_interrupted_mid_test_are_counted_apart_from_those_not_run() {
    let lines = summary_lines(&[
        finished("a::one", 1, Outcome::Interrupted, 300),
        Event::RunFinished {
            stats: RunStats {
                workers: 3,
                clones: 3,
                selected: 4,
                interrupted: 3,
                not_run: 1,
                dropped: 4,
                phases: vec![(Phase::Discover, Duration::ZERO)],
                cancelled: Some(CancelReason::Signal),
                ..RunStats::default()
            },
        },
    ]);
    assert_eq!(
        lines[0],
        "     Summary 0 tests run: 0 passed, 0 failed, 0 ignored, 0 filtered out, 3 interrupted, 1 not run [0.000s]"
    );
    assert_eq!(
        lines.last().unwrap(),
        "   Cancelled by a signal (Ctrl-C or SIGTERM)"
    );
    assert!(
        !lines.iter().any(|l| l.contains("Failed")),
        "an interrupted test is no failure: {lines:?}"
    );
}

#[test]
fn other_stops_are_named_for_what_they_were() {
    let stopped = |reason| {
        summary_lines(&[Event::RunFinished {
            stats: RunStats {
                selected: 2,
                passed: 1,
                failed: 1,
                phases: vec![(Phase::Discover, Duration::ZERO)],
                cancelled: Some(reason),
                ..RunStats::default()
            },
        }])
        .last()
        .unwrap()
        .clone()
    };
    assert_eq!(
        stopped(CancelReason::FailFast),
        "   Cancelled after the first failure (--failfast)"
    );
    assert_eq!(
        stopped(CancelReason::SecondSignal),
        "   Cancelled by a second signal: running tests were killed without a grace period"
    );
}

#[test]
fn no_test_matched_is_said_only_of_a_run_that_was_not_stopped() {
    let stats = |cancelled| RunStats {
        phases: vec![(Phase::Discover, Duration::ZERO)],
        cancelled,
        ..RunStats::default()
    };
    let warned = summary_lines(&[Event::RunFinished { stats: stats(None) }]);
    assert_eq!(warned.last().unwrap(), "     WARNING no test matched");
    let interrupted = summary_lines(&[Event::RunFinished {
        stats: stats(Some(CancelReason::Signal)),
    }]);
    assert!(
        !interrupted.iter().any(|l| l.contains("no test matched")),
        "{interrupted:?}"
    );
}

#[test]
fn cancelling_names_what_failed() {
    let cancelling =
        |reason, running| printed(Color::Never, &[Event::RunCancelling { reason, running }]);
    assert_eq!(
        cancelling(CancelReason::BuildFailed, 0),
        "  Cancelling the tests could not be built or listed: stopping, then dropping databases\n"
    );
    assert_eq!(
        cancelling(CancelReason::SetupFailed, 0),
        "  Cancelling the databases could not be set up: stopping, then dropping databases\n"
    );
    assert_eq!(
        cancelling(CancelReason::Signal, 2),
        "  Cancelling interrupted: stopping tests, then dropping databases \
         (Ctrl-C again to skip the grace period) (2 running)\n"
    );
}

#[test]
fn fresh_clones_after_a_timeout_say_timed_out_and_after_a_crash_crashed() {
    let replaced = |worker, after: &str| Event::ClonesReplaced {
        worker,
        after: test(after),
        error: None,
    };
    let out = printed(
        Color::Never,
        &[
            finished(
                "hang::hang",
                1,
                Outcome::TimedOut {
                    limit: Duration::from_secs(1),
                },
                1000,
            ),
            finished(
                "boom::segv",
                2,
                Outcome::Signalled {
                    signal: "SIGSEGV".to_owned(),
                },
                3,
            ),
            replaced(2, "boom::segv"),
            replaced(1, "hang::hang"),
            // An exit that is neither a pass nor a test failure.
            finished("boom::exit", 1, Outcome::Failed { code: 134 }, 3),
            replaced(1, "boom::exit"),
        ],
    );
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("Replaced")).collect();
    assert_eq!(
        lines,
        [
            "    Replaced w2 got fresh clones after shop::it boom::segv crashed",
            "    Replaced w1 got fresh clones after shop::it hang::hang timed out",
            "    Replaced w1 got fresh clones after shop::it boom::exit crashed",
        ]
    );
}

/// The report of a run that died (pid 7 on `ci`, 90 s ago), nothing done.
fn swept(run_id: &str) -> SweptRun {
    SweptRun {
        run_id: run_id.to_owned(),
        pid: Some(7),
        host: Some("ci".to_owned()),
        age: Some(Duration::from_secs(90)),
        alive: false,
        dropped: Vec::new(),
        absent: Vec::new(),
        not_dropped: Vec::new(),
        stopped: Vec::new(),
        not_stopped: Vec::new(),
        forgotten: None,
        warnings: Vec::new(),
        skipped: false,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_sweep_names_the_throwaway_servers_it_stopped_and_those_it_could_not() {
    let runs = vec![
        SweptRun {
            stopped: strings(&["postgres server in /dev/shm/paraclone-aaaaaaaaaa-postgres"]),
            dropped: strings(&["shop_pcaaaaaaaaaa_w1"]),
            ..swept("aaaaaaaaaa")
        },
        SweptRun {
            stopped: strings(&[
                "postgres server in /dev/shm/paraclone-bbbbbbbbbb-postgres",
                "mysql server in /dev/shm/paraclone-bbbbbbbbbb-mysql",
            ]),
            ..swept("bbbbbbbbbb")
        },
        SweptRun {
            not_stopped: vec![(
                "mysql server in /dev/shm/paraclone-cccccccccc-mysql".to_owned(),
                "could not remove /dev/shm/paraclone-cccccccccc-mysql: Permission denied"
                    .to_owned(),
            )],
            not_dropped: vec![(
                "shop_pccccccccccc_w1".to_owned(),
                "the throwaway server it is on could not be stopped".to_owned(),
            )],
            ..swept("cccccccccc")
        },
        SweptRun {
            alive: true,
            not_dropped: vec![(
                "shop_pcdddddddddd_w1".to_owned(),
                "it is on a throwaway server of its run, which is still running and stops it \
                 itself"
                    .to_owned(),
            )],
            ..swept("dddddddddd")
        },
    ];
    let out = printed(Color::Never, &[Event::Swept { runs }]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "       Sweep run aaaaaaaaaa (pid 7 on ci, started 1m 30s ago, no longer running): stopped postgres server in /dev/shm/paraclone-aaaaaaaaaa-postgres, with its databases; dropped shop_pcaaaaaaaaaa_w1",
            "       Sweep run bbbbbbbbbb (pid 7 on ci, started 1m 30s ago, no longer running): stopped postgres server in /dev/shm/paraclone-bbbbbbbbbb-postgres, mysql server in /dev/shm/paraclone-bbbbbbbbbb-mysql, with their databases",
            "       Sweep run cccccccccc (pid 7 on ci, started 1m 30s ago, no longer running): dropped nothing",
            "     WARNING could not stop mysql server in /dev/shm/paraclone-cccccccccc-mysql: could not remove /dev/shm/paraclone-cccccccccc-mysql: Permission denied (kept in the ledger, with its databases; the next sweep tries again)",
            "     WARNING could not drop shop_pccccccccccc_w1: the throwaway server it is on could not be stopped (kept in the ledger; if its server is gone for good, `paraclone clean --forget cccccccccc` takes the run off the ledger)",
            "       Sweep run dddddddddd (pid 7 on ci, started 1m 30s ago, still running, older than the limit): dropped nothing",
            "     WARNING could not drop shop_pcdddddddddd_w1: it is on a throwaway server of its run, which is still running and stops it itself (kept in the ledger)",
        ]
    );
}

#[test]
fn a_dry_sweep_says_which_throwaway_servers_it_would_stop() {
    let buffer = Buffer::default();
    let mut r = Reporter::to_writer(Box::new(buffer.clone()), ReporterOptions::default());
    let run = SweptRun {
        stopped: strings(&["postgres server in /dev/shm/paraclone-eeeeeeeeee-postgres"]),
        ..swept("eeeeeeeeee")
    };
    r.report_clean(&[run], true);
    let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        out,
        "       Sweep run eeeeeeeeee (pid 7 on ci, started 1m 30s ago, no longer running): \
         would stop postgres server in /dev/shm/paraclone-eeeeeeeeee-postgres, with its databases\n"
    );
}
