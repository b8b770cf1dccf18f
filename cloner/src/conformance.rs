//! The conformance kit: checks every backend runs against a live database.
//!
//! A backend's own test suite provides a [`Cloner`](crate::Cloner) and a
//! [`Probe`] (a minimal way to run SQL in a named database) and calls the
//! kit's checks, usually through [`conformance_tests!`](crate::conformance_tests):
//!
//! ```text
//! cloner::conformance_tests!(postgres, async { (make_cloner().await, make_probe()) });
//! ```
//!
//! The kit builds a template ([`fixture`], written for every [`Dialect`])
//! with five tables, indexes (one unique), a view over two tables, a
//! trigger, foreign keys, rows, and an auto-increment state ahead of
//! `max(id)`; then it clones it concurrently and checks that the clones are
//! faithful (same catalog, same rows, same next id) and isolated, that
//! dropping is idempotent, that listing by prefix is exact, that odd names
//! work and that errors are typed.
//!
//! Each check uses names from a fresh [`RunId`](crate::naming::RunId), so
//! all checks can run in parallel against one server, and drops what it
//! created, also when it fails (on a multi-threaded tokio runtime).
//!
//! [`Dialect`]: crate::quote::Dialect

mod checks;
mod fixture;
mod macros;
mod probe;
mod scope;
mod snapshot;

pub use checks::{
    CONCURRENT_CLONES, backend_describes_itself, clone_errors_are_typed,
    clones_made_concurrently_match_template, connection_describes_database, drop_is_idempotent,
    failing_migration_is_reported, foreign_keys_enforced_in_clone, list_by_prefix,
    next_id_continues_from_template, odd_names_work, template_is_built,
    trigger_and_view_work_in_clone, writes_are_isolated,
};
pub use fixture::{Fixture, Section, TABLES, fixture};
pub use probe::{Probe, Row};
pub use snapshot::{Snapshot, SnapshotError, render_row};

/// What [`conformance_tests!`](crate::conformance_tests) expands to needs.
#[doc(hidden)]
pub mod __private {
    pub use tokio;
}
