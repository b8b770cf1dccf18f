//! `--keep-failed N`: which failed tests' clones outlive the run.
//!
//! A failure is noted where results are recorded ([`Keep::note`]); up to
//! the limit, the worker's clones at that moment are to be kept. They are
//! claimed by the databases ([`Keep::claim`]) when the slot gets fresh
//! clones (which it does before its next test, so no later test changes
//! what the failed one left) or at teardown, and from then on are never
//! dropped by this run: the ledger marks them kept, and only `paraclone
//! clean` drops them.

use std::sync::Mutex;

use crate::events::TestId;

/// See the module doc. Shared by the slots (through the context) and the
/// databases.
#[derive(Debug, Default)]
pub(crate) struct Keep {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    limit: usize,
    /// Failures whose clones are kept (claimed or not yet), in order.
    noted: usize,
    /// Per worker, the failed test whose clones the worker holds now and
    /// that are to be kept (not yet claimed).
    pending: Vec<(usize, TestId)>,
    /// Workers that must get fresh clones before their next test.
    fresh: Vec<usize>,
}

impl Keep {
    /// Keep the clones of at most `limit` failed tests (0: none).
    pub(crate) fn set_limit(&self, limit: usize) {
        self.state.lock().expect("not poisoned").limit = limit;
    }

    /// `test` failed on `worker`: its clones are kept if the limit allows
    /// (and the worker has none pending already, from a failure before it
    /// in the same group). Returns whether they are.
    pub(crate) fn note(&self, worker: usize, test: &TestId) -> bool {
        let mut s = self.state.lock().expect("not poisoned");
        if s.noted >= s.limit || s.pending.iter().any(|(w, _)| *w == worker) {
            return false;
        }
        s.noted += 1;
        s.pending.push((worker, test.clone()));
        s.fresh.push(worker);
        true
    }

    /// Whether `worker` holds clones to be kept and must stop using them.
    pub(crate) fn wants_fresh(&self, worker: usize) -> bool {
        self.state
            .lock()
            .expect("not poisoned")
            .fresh
            .contains(&worker)
    }

    /// The failed test whose clones `worker` must leave, if any: the slot
    /// gets fresh clones before its next test. Asked once per failure.
    pub(crate) fn take_fresh(&self, worker: usize) -> Option<TestId> {
        let mut s = self.state.lock().expect("not poisoned");
        let at = s.fresh.iter().position(|w| *w == worker)?;
        s.fresh.remove(at);
        s.pending
            .iter()
            .find(|(w, _)| *w == worker)
            .map(|(_, t)| t.clone())
    }

    /// The databases are about to give up `worker`'s current clones
    /// (replaced, or teardown): the failed test they are kept for, if any.
    pub(crate) fn claim(&self, worker: usize) -> Option<TestId> {
        let mut s = self.state.lock().expect("not poisoned");
        let at = s.pending.iter().position(|(w, _)| *w == worker)?;
        Some(s.pending.remove(at).1)
    }

    /// At teardown: every worker whose current clones are to be kept, and
    /// the failed test each is kept for.
    pub(crate) fn claim_all(&self) -> Vec<(usize, TestId)> {
        let mut s = self.state.lock().expect("not poisoned");
        s.fresh.clear();
        std::mem::take(&mut s.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> TestId {
        TestId {
            binary: "b".to_owned(),
            name: name.to_owned(),
        }
    }

    #[test]
    fn failures_are_kept_up_to_the_limit_once_per_set_of_clones() {
        let keep = Keep::default();
        assert!(!keep.note(1, &id("a")), "limit 0 keeps nothing");
        keep.set_limit(2);
        assert!(keep.note(1, &id("a")));
        assert!(
            !keep.note(1, &id("b")),
            "worker 1's clones are kept already"
        );
        assert!(keep.wants_fresh(1));
        assert_eq!(keep.take_fresh(1), Some(id("a")));
        assert!(!keep.wants_fresh(1));
        assert_eq!(keep.claim(1), Some(id("a")));
        assert_eq!(keep.claim(1), None);
        assert!(keep.note(2, &id("c")));
        assert!(!keep.note(1, &id("d")), "the limit is reached");
        assert_eq!(keep.claim(2), Some(id("c")));
    }
}
