//! The conformance kit: checks every backend runs against a live database.
//!
//! A backend's own test suite provides a [`Cloner`](crate::Cloner) and a
//! [`Probe`] (a minimal way to run SQL in a named database) and calls the
//! kit's checks, usually through [`conformance_tests!`](crate::conformance_tests).
//! The kit builds a template with several tables, indexes, a view, a
//! trigger, foreign keys, rows and a sequence/auto-increment state, clones
//! it concurrently, and checks that the clones are faithful and isolated.

use async_trait::async_trait;

use crate::BoxError;
use crate::quote::Dialect;

/// A minimal way for the kit to run SQL in a named database. Implemented by
/// each backend's test suite with its own client library.
#[async_trait]
pub trait Probe: Send + Sync {
    /// The backend's SQL dialect; the kit's fixtures are written per dialect.
    fn dialect(&self) -> Dialect;

    /// Runs one or more statements (separated by `;`) in `database`.
    async fn execute(&self, database: &str, sql: &str) -> Result<(), BoxError>;

    /// Runs a query in `database` and returns every row, each column
    /// rendered as text (`None` for NULL).
    async fn query(&self, database: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, BoxError>;
}
