//! paraclone's runner: build the test database once, clone it once per
//! worker, run the suite on spawned worker processes each bound to its own
//! clones, and drop every database afterwards, whatever happens.
//!
//! Why: database-backed suites are slow in serial and painful in parallel.
//! Tools either share one database (tests interfere), replay migrations in
//! every worker (slow), or clone one database after another (slow, and the
//! clones leak when a run is killed). The runner builds the template once,
//! asks a backend ([`cloner::Cloner`]) to clone it for all workers at once,
//! and gives each spawned test process its clone through the environment.
//!
//! The library's API is synchronous: make [`RunOptions`] from a
//! [`config::Config`], call [`Runner::execute`] with a callback that gets
//! every [`Event`] (hand them to a [`Reporter`]), and read the [`RunStats`].
//! The `paraclone` binary (`src/main.rs`) is a thin command line over it.
//!
//! The runner never issues SQL: it talks to databases only through
//! `dyn Cloner`.

mod adapter;
mod backends;
mod context;
mod databases;
mod durations;
mod error;
mod events;
mod files;
mod keep;
mod ledger;
mod list;
mod migrators;
// The operating system's side of finding leftover processes.
#[cfg(target_os = "linux")]
#[path = "os/linux.rs"]
mod os;
#[cfg(not(target_os = "linux"))]
#[path = "os/other.rs"]
mod os;
mod partition;
mod reporter;
mod reuse;
mod run;
mod schedule;
mod servers;
mod spawn;
mod sweep;
mod worker;

pub mod config;

pub use backends::compiled as compiled_backends;
pub use error::{RunError, exit_code};
pub use events::{
    AliasSummary, CancelReason, Event, KeptDatabase, LeftBehind, Outcome, Phase, RunStats,
    SweptRun, TestId,
};
pub use list::{ListOptions, TestList, list};
pub use migrators::LayoutError;
pub use partition::Partition;
pub use reporter::{Color, JunitOutput, Reporter, ReporterOptions};
pub use run::{CleanOptions, Order, RunOptions, Runner, clean};

/// An error and its causes on one line, `outer: inner: innermost`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
