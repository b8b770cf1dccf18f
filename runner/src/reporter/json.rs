//! The machine-readable event stream (`--message-format json`,
//! `--events PATH`): one JSON object a line per event, documented in the
//! README and versioned by `format_version` in every line.
//!
//! Built from the same [`Event`]s as the human report. Events that only
//! feed the progress bar (phases, the build's progress) are left out.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::events::{CancelReason, Event, LeftBehind, Outcome, RunStats, TestId};

/// The version of the stream's format. Fields may be added within a
/// version; a field removed or changed in meaning makes a new one.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The line for `event`, or `None` for events the stream leaves out.
/// `show_output`: passing tests' output too (failures always have it).
pub(crate) fn line(event: &Event, show_output: bool) -> Option<String> {
    let mut value = body(event, show_output)?;
    let object = value.as_object_mut().expect("every body is an object");
    object.insert("format_version".to_owned(), json!(FORMAT_VERSION));
    object.insert(
        "timestamp".to_owned(),
        json!(humantime::format_rfc3339_millis(SystemTime::now()).to_string()),
    );
    // Field order: `event` first reads best; serde_json keeps insertion
    // order only with a feature, so the line is built by hand.
    let event_name = object.remove("event").expect("every body names its event");
    let mut text = format!("{{\"event\":{event_name}");
    for (k, v) in object.iter() {
        text.push(',');
        text.push_str(&Value::String(k.clone()).to_string());
        text.push(':');
        text.push_str(&v.to_string());
    }
    text.push_str("}\n");
    Some(text)
}

pub(crate) fn test(t: &TestId) -> Value {
    json!({ "binary": t.binary, "name": t.name, "id": t.to_string() })
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1_000_000.0
}

/// An outcome's name and its details.
fn outcome(o: &Outcome) -> (&'static str, Value) {
    match o {
        Outcome::Passed => ("passed", json!({})),
        Outcome::Failed { code } => ("failed", json!({ "exit_code": code })),
        Outcome::Reported => ("failed", json!({})),
        Outcome::Signalled { signal } => ("crashed", json!({ "signal": signal })),
        Outcome::TimedOut { limit } => ("timed_out", json!({ "limit": secs(*limit) })),
        Outcome::Skipped => ("skipped", json!({})),
        Outcome::Interrupted => ("interrupted", json!({})),
        Outcome::SpawnFailed { reason } => ("error", json!({ "reason": reason })),
    }
}

fn reason(r: CancelReason) -> &'static str {
    match r {
        CancelReason::Signal => "signal",
        CancelReason::SecondSignal => "second_signal",
        CancelReason::FailFast => "failfast",
        CancelReason::SetupFailed => "setup_failed",
        CancelReason::BuildFailed => "build_failed",
        CancelReason::WorkerFailed => "worker_failed",
    }
}

fn left_behind(left: &[LeftBehind]) -> Vec<Value> {
    left.iter()
        .map(|l| json!({ "alias": l.alias, "name": l.name, "reason": l.reason }))
        .collect()
}

fn stats(s: &RunStats) -> Value {
    json!({
        "selected": s.selected,
        "passed": s.passed,
        "failed": s.failed,
        "flaky": s.flaky,
        "ignored": s.ignored,
        "filtered_out": s.filtered_out,
        "interrupted": s.interrupted,
        "not_run": s.not_run,
        "workers": s.workers,
        "clones": s.clones,
        "dropped": s.dropped,
        "duration": secs(s.total),
        "partition": s.partition,
        "other_shards": s.other_shards,
        "shuffle_seed": s.shuffle_seed,
        "cancelled": s.cancelled.map(reason),
        "kept": s.kept.iter().map(|k| json!({
            "alias": k.alias, "name": k.name, "url": k.url, "test": test(&k.test),
        })).collect::<Vec<_>>(),
        "left_behind": left_behind(&s.left_behind),
        "phases": s.phases.iter().map(|(p, d)| (p.name().to_owned(), json!(secs(*d))))
            .collect::<serde_json::Map<_, _>>(),
    })
}

fn body(event: &Event, show_output: bool) -> Option<Value> {
    Some(match event {
        Event::RunStarted {
            run_id,
            workers,
            aliases,
        } => json!({
            "event": "run_started",
            "run_id": run_id,
            "workers": workers,
            "databases": aliases.iter().map(|a| json!({
                "alias": a.alias,
                "backend": a.backend,
                "server": a.server,
                "mirror_of": a.mirror_of,
            })).collect::<Vec<_>>(),
        }),
        Event::TestsDiscovered {
            source,
            selected,
            groups,
            shuffle_seed,
            ignored,
            partition,
        } => json!({
            "event": "tests_discovered",
            "source": source,
            "selected": selected,
            "groups": groups,
            "ignored": ignored.iter().map(test).collect::<Vec<_>>(),
            "partition": partition,
            "shuffle_seed": shuffle_seed,
        }),
        Event::TemplateReady {
            alias,
            name,
            duration,
            reuse,
        } => json!({
            "event": "database_created",
            "role": "template",
            "alias": alias,
            "name": name,
            "duration": secs(*duration),
            "reuse": reuse,
        }),
        Event::TemplateReused {
            alias,
            name,
            fingerprint,
            age,
            duration,
        } => json!({
            "event": "template_reused",
            "alias": alias,
            "name": name,
            "fingerprint": fingerprint,
            "age": age.as_secs(),
            "duration": secs(*duration),
        }),
        Event::CloneReady {
            alias,
            worker,
            name,
        } => json!({
            "event": "database_created",
            "role": "clone",
            "alias": alias,
            "name": name,
            "worker": worker,
        }),
        Event::ReplacementReady {
            alias,
            worker,
            name,
        } => json!({
            "event": "database_created",
            "role": "replacement",
            "alias": alias,
            "name": name,
            "worker": worker,
        }),
        Event::StaleTemplateDropped { alias, name } | Event::DatabaseDropped { alias, name } => {
            json!({
                "event": "database_dropped",
                "alias": alias,
                "name": name,
            })
        }
        Event::DatabaseKept { worker, kept } => json!({
            "event": "database_kept",
            "alias": kept.alias,
            "name": kept.name,
            "url": kept.url,
            "worker": worker,
            "test": test(&kept.test),
        }),
        Event::TestStarted { test: t, worker } => json!({
            "event": "test_started",
            "test": test(t),
            "worker": worker,
        }),
        Event::TestSlow {
            test: t,
            worker,
            elapsed,
        } => json!({
            "event": "test_slow",
            "test": test(t),
            "worker": worker,
            "elapsed": secs(*elapsed),
        }),
        Event::TestFinished {
            test: t,
            worker,
            outcome: o,
            duration,
            output,
        } => {
            let shown = (!o.is_pass() || show_output).then_some(output.as_str());
            ended(
                json!({ "event": "test_finished" }),
                t,
                *worker,
                o,
                *duration,
                shown,
            )
        }
        Event::TestRetry {
            test: t,
            worker,
            attempt,
            outcome: o,
            duration,
            output,
        } => ended(
            json!({ "event": "test_retry", "attempt": attempt }),
            t,
            *worker,
            o,
            *duration,
            Some(output),
        ),
        Event::TestLeaked {
            test: t,
            worker,
            killed,
        } => json!({
            "event": "test_leaked",
            "test": test(t),
            "worker": worker,
            "killed": killed,
        }),
        Event::ClonesReplaced {
            worker,
            after,
            error,
        } => json!({
            "event": "clones_replaced",
            "worker": worker,
            "after": test(after),
            "error": error,
        }),
        Event::RunCancelling { reason: r, running } => json!({
            "event": "run_cancelling",
            "reason": reason(*r),
            "running": running,
        }),
        Event::TeardownIncomplete { left } => json!({
            "event": "teardown_incomplete",
            "left_behind": left_behind(left),
        }),
        Event::Warning { message } => json!({
            "event": "warning",
            "message": message,
        }),
        Event::RunFinished { stats: s } => json!({
            "event": "run_finished",
            "stats": stats(s),
        }),
        _ => return None,
    })
}

/// The line of an error that ended the run.
pub(crate) fn error_line(message: &str) -> String {
    let v = json!({
        "event": "run_failed",
        "format_version": FORMAT_VERSION,
        "error": message,
    });
    format!("{v}\n")
}

/// A test's end (`test_finished`, `test_retry`): `head` and the test, its
/// worker, outcome (and its details), duration and, if given, output.
fn ended(
    mut head: Value,
    t: &TestId,
    worker: usize,
    o: &Outcome,
    duration: Duration,
    output: Option<&str>,
) -> Value {
    let (name, details) = outcome(o);
    let map = head.as_object_mut().expect("an object");
    map.insert("test".to_owned(), test(t));
    map.insert("worker".to_owned(), json!(worker));
    map.insert("outcome".to_owned(), json!(name));
    map.insert("duration".to_owned(), json!(secs(duration)));
    if let Value::Object(details) = details {
        map.extend(details);
    }
    if let Some(output) = output {
        map.insert("output".to_owned(), json!(output));
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_with_the_version_and_failures_carry_output() {
        let t = TestId {
            binary: "shop::it".to_owned(),
            name: "a::b".to_owned(),
        };
        let l = line(
            &Event::TestFinished {
                test: t.clone(),
                worker: 2,
                outcome: Outcome::Signalled {
                    signal: "SIGABRT".to_owned(),
                },
                duration: Duration::from_millis(7),
                output: "boom\n".to_owned(),
            },
            false,
        )
        .unwrap();
        assert!(l.starts_with("{\"event\":\"test_finished\""), "{l}");
        assert!(l.ends_with("}\n") && l.matches('\n').count() == 1);
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["outcome"], "crashed");
        assert_eq!(v["signal"], "SIGABRT");
        assert_eq!(v["output"], "boom\n");
        assert_eq!(v["test"]["id"], "shop::it a::b");
        let pass = line(
            &Event::TestFinished {
                test: t,
                worker: 1,
                outcome: Outcome::Passed,
                duration: Duration::ZERO,
                output: "quiet".to_owned(),
            },
            false,
        )
        .unwrap();
        assert!(!pass.contains("quiet"));
        assert!(
            line(
                &Event::PhaseStarted {
                    phase: crate::events::Phase::Run,
                    steps: 1
                },
                false
            )
            .is_none()
        );
    }
}
