//! The I/O layer: runs what [`crate::plan`] builds against a server with
//! the `oracle` crate, synchronously (the cloner calls it from
//! `tokio::task::spawn_blocking`).
//!
//! - [`session`]: running statements, reading rows as text;
//! - [`catalog`]: reading a template (dictionary and `DBMS_METADATA`),
//!   pinning its sequences;
//! - [`copy`]: running a clone plan (rows and indexes in parallel), the
//!   Data Pump import, recompiling and checking;
//! - [`drop`]: dropping users, patient with closing sessions.

pub(crate) mod catalog;
pub(crate) mod copy;
pub(crate) mod drop;
pub(crate) mod session;
