//! Long-lived test workers: for suites whose processes are dear to start
//! (an interpreter and a framework), each slot keeps one worker process for
//! the run and feeds it groups of tests over the `paraclone-v1` protocol.
//! A worker is a peer of the one-shot test process, not a kind of it: it
//! is started through the same spawn site, and the scheduler sees both as
//! "run this group on this slot".

mod protocol;
mod warm;

pub(crate) use warm::{GroupLimits, Observer, StartError, Worker};
