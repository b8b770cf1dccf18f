//! [`Context`]: what every part of a running pipeline shares: the event
//! channel, the stop signals, the redactor and the time limits.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloner::Connection;
use cloner::redact::Redactor;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::events::{CancelReason, Event};
use crate::keep::Keep;
use crate::spawn::Limits;

#[derive(Debug)]
pub(crate) struct Context {
    events: UnboundedSender<Event>,
    /// Cancelled on the first stop request (Ctrl-C, SIGTERM, fail-fast).
    pub(crate) soft_stop: CancellationToken,
    /// Cancelled on the second Ctrl-C: no more grace.
    pub(crate) hard_stop: CancellationToken,
    /// Cancelled when fail-fast stops scheduling; running tests finish.
    failfast: CancellationToken,
    redactor: Mutex<Redactor>,
    pub(crate) grace: Duration,
    reason: Mutex<Option<CancelReason>>,
    /// Tests running right now.
    pub(crate) running: AtomicUsize,
    /// Fault injection for the runner's own tests: pause at this point.
    pause: Option<(String, std::path::PathBuf)>,
    /// Which failed tests' clones are kept (`--keep-failed`).
    pub(crate) keep: Keep,
}

impl Context {
    pub(crate) fn new(events: UnboundedSender<Event>, grace: Duration) -> Context {
        Context {
            events,
            soft_stop: CancellationToken::new(),
            hard_stop: CancellationToken::new(),
            failfast: CancellationToken::new(),
            redactor: Mutex::new(Redactor::new()),
            grace,
            reason: Mutex::new(None),
            running: AtomicUsize::new(0),
            pause: std::env::var("PARACLONE_PAUSE_AT")
                .ok()
                .zip(std::env::var_os("PARACLONE_PAUSE_FILE").map(std::path::PathBuf::from)),
            keep: Keep::default(),
        }
    }

    /// A point where the runner's own tests can stop a run in a given
    /// phase: with `PARACLONE_PAUSE_AT=<point>` and
    /// `PARACLONE_PAUSE_FILE=<path>` set, the run creates the file and
    /// waits here until it is asked to stop (or a minute has passed), so a
    /// test can act at exactly this point; removing the file lets the run
    /// go on. Otherwise a no-op.
    pub(crate) async fn checkpoint(&self, point: &str) {
        let Some((at, file)) = &self.pause else {
            return;
        };
        if at != point {
            return;
        }
        let _ = std::fs::write(file, point);
        let removed = async {
            while file.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            () = self.soft_stop.cancelled() => {}
            () = removed => {}
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }

    /// Asks the run to stop: no new work starts, running tests are
    /// interrupted (unless the reason is fail-fast, which lets them finish),
    /// databases are still dropped.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        let mut current = self.reason.lock().expect("not poisoned");
        match (*current, reason) {
            (None, _) => *current = Some(reason),
            (Some(_), CancelReason::SecondSignal) => *current = Some(reason),
            (
                Some(
                    CancelReason::FailFast
                    | CancelReason::SetupFailed
                    | CancelReason::BuildFailed
                    | CancelReason::WorkerFailed,
                ),
                CancelReason::Signal,
            ) => *current = Some(reason),
            _ => return,
        }
        drop(current);
        if reason == CancelReason::SecondSignal {
            self.hard_stop.cancel();
        }
        if reason != CancelReason::FailFast {
            self.soft_stop.cancel();
        } else {
            self.failfast.cancel();
        }
        self.send(Event::RunCancelling {
            reason,
            running: self.running.load(Ordering::SeqCst),
        });
    }

    /// Why the run is stopping, if it is.
    pub(crate) fn cancel_reason(&self) -> Option<CancelReason> {
        *self.reason.lock().expect("not poisoned")
    }

    /// Whether workers should take no further test (any stop, fail-fast
    /// included).
    pub(crate) fn no_new_tests(&self) -> bool {
        self.soft_stop.is_cancelled() || self.failfast.is_cancelled()
    }

    pub(crate) fn send(&self, event: Event) {
        // The receiver lives as long as the run; a send can only fail while
        // the process is going down anyway.
        let _ = self.events.send(event);
    }

    /// Cancelled when fail-fast stops scheduling (running tests finish).
    pub(crate) fn failfast_token(&self) -> CancellationToken {
        self.failfast.clone()
    }

    pub(crate) fn stopping(&self) -> bool {
        self.soft_stop.is_cancelled()
    }

    pub(crate) fn limits(&self, timeout: Option<Duration>) -> Limits {
        Limits {
            timeout,
            grace: self.grace,
            soft_stop: self.soft_stop.clone(),
            hard_stop: self.hard_stop.clone(),
        }
    }

    pub(crate) fn redactor_add(&self, connection: &Connection) {
        crate::databases::add_secrets(&mut self.redactor.lock().expect("not poisoned"), connection);
    }

    /// Masks `secret` in everything shown from now on.
    pub(crate) fn redactor_add_secret(&self, secret: &str) {
        self.redactor.lock().expect("not poisoned").add(secret);
    }

    /// What a child printed, as text, with every known secret masked.
    pub(crate) fn redact_bytes(&self, output: &[u8]) -> String {
        self.redact(&String::from_utf8_lossy(output))
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        self.redactor.lock().expect("not poisoned").redact(text)
    }
}
