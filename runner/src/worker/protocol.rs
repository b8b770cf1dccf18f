//! The `paraclone-v1` worker protocol: newline-delimited JSON between the
//! runner and a long-lived worker process, on a Unix socket the runner
//! names in the worker's environment (never the worker's stdout or
//! stderr, so what tests print cannot corrupt it).
//!
//! The shape is Bazel's persistent workers: the runner sends requests, the
//! worker answers with events, one JSON object a line.
//!
//! Runner → worker:
//! - `{"request":"run","id":7,"tests":["app.tests.T.test_a", …],
//!   "failfast":false}`: run these tests, in this order (a group: one
//!   TestCase class, one module); with `failfast`, start none after one
//!   fails.
//! - `{"request":"stop"}`: finish the running test, run no more of the
//!   current request, answer `done` (fail-fast).
//! - `{"request":"exit"}` (or the socket closing): exit.
//!
//! Worker → runner:
//! - `{"event":"hello","protocol":"paraclone-v1","pid":123}` once, when
//!   the worker is set up and ready for requests.
//! - `{"event":"started","test":"…"}` when a test begins.
//! - `{"event":"finished","test":"…","outcome":"passed"|"failed"|"skipped",
//!   "duration":0.012,"output":"…"}` when it ends: `duration` in seconds,
//!   `output` what it printed and its failure text.
//! - `{"event":"done","id":7}` when a request is over; a test of the
//!   request that got no `finished` by then did not run (the runner fails
//!   it, or counts it as not run after a `stop`).
//!
//! Unknown fields are ignored, so a later version can add some; anything
//! else that does not parse ends the worker (it is killed and replaced).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The protocol's name and version, sent in `hello`.
pub(crate) const PROTOCOL: &str = "paraclone-v1";

/// The environment variable holding the socket's path.
pub(crate) const SOCKET_VAR: &str = "PARACLONE_WORKER_SOCKET";

/// The environment variable naming a file the worker may write each test's
/// output to (truncated when the test starts), so the output of a test that
/// takes the worker down can still be shown.
pub(crate) const OUTPUT_VAR: &str = "PARACLONE_WORKER_OUTPUT";

/// A request to the worker.
#[derive(Debug, Serialize)]
#[serde(tag = "request", rename_all = "lowercase")]
pub(crate) enum Request<'a> {
    Run {
        id: u64,
        tests: Vec<&'a str>,
        failfast: bool,
    },
    Stop,
    Exit,
}

impl Request<'_> {
    /// The request as one line, newline included.
    pub(crate) fn line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("requests always serialize");
        line.push('\n');
        line
    }
}

/// An event from the worker.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(crate) enum Message {
    Hello {
        protocol: String,
        #[serde(default)]
        pid: Option<u32>,
    },
    Started {
        test: String,
    },
    Finished {
        test: String,
        outcome: Verdict,
        #[serde(default)]
        duration: f64,
        #[serde(default)]
        output: String,
    },
    Done {
        id: u64,
    },
}

/// How a test ended, as the worker saw it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    Passed,
    Failed,
    Skipped,
}

impl Message {
    /// Parses one line.
    pub(crate) fn parse(line: &str) -> Result<Message, String> {
        serde_json::from_str(line).map_err(|e| {
            let shown: String = line.chars().take(200).collect();
            format!("the worker sent a line that is not a paraclone-v1 event ({e}): {shown}")
        })
    }
}

/// A duration in seconds from the wire, clamped to something sane.
pub(crate) fn seconds(value: f64) -> Duration {
    if value.is_finite() && value > 0.0 {
        Duration::from_secs_f64(value.min(1e9))
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_object_a_line() {
        let run = Request::Run {
            id: 3,
            tests: vec!["a.T.test_x", "a \"q\""],
            failfast: true,
        };
        assert_eq!(
            run.line(),
            "{\"request\":\"run\",\"id\":3,\"tests\":[\"a.T.test_x\",\"a \\\"q\\\"\"],\"failfast\":true}\n"
        );
        assert_eq!(Request::Stop.line(), "{\"request\":\"stop\"}\n");
        assert_eq!(Request::Exit.line(), "{\"request\":\"exit\"}\n");
    }

    #[test]
    fn events_parse_and_unknown_fields_are_ignored() {
        assert_eq!(
            Message::parse(r#"{"event":"hello","protocol":"paraclone-v1","pid":9,"tool":"x"}"#),
            Ok(Message::Hello {
                protocol: PROTOCOL.to_owned(),
                pid: Some(9)
            })
        );
        assert_eq!(
            Message::parse(
                r#"{"event":"finished","test":"t","outcome":"failed","duration":0.5,"output":"boom"}"#
            ),
            Ok(Message::Finished {
                test: "t".to_owned(),
                outcome: Verdict::Failed,
                duration: 0.5,
                output: "boom".to_owned()
            })
        );
        assert_eq!(
            Message::parse(r#"{"event":"done","id":4}"#),
            Ok(Message::Done { id: 4 })
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        let err = Message::parse("Traceback (most recent call last):").unwrap_err();
        assert!(err.contains("Traceback"), "{err}");
        assert!(Message::parse(r#"{"event":"finished","test":"t","outcome":"meh"}"#).is_err());
        assert!(Message::parse(r#"{"event":"party"}"#).is_err());
    }

    #[test]
    fn durations_from_the_wire_are_clamped() {
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(0.25), Duration::from_millis(250));
    }
}
