//! The SQLite backend's integration tests, in one binary (one link, fast builds).
//!
//! - `conformance`: the cloner crate's conformance kit for every clone
//!   method on disk and in RAM;
//! - `backend`: what is particular to SQLite (sealing WAL templates, the
//!   copy fallback, siblings, the RAM directory, URLs);
//! - `kit`: the kit fails against mutants of this backend, each broken in
//!   one way, with a message that says how;
//! - `worker`: the worker side, partly in spawned test processes, as
//!   paraclone runs them.

mod backend;
mod conformance;
mod kit;
mod support;
mod worker;
