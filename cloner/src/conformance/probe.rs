//! [`Probe`]: how the kit runs its own SQL in a database.

use async_trait::async_trait;

use crate::BoxError;
use crate::quote::Dialect;

/// One row of a query result, every column rendered as text (`None` for
/// NULL).
pub type Row = Vec<Option<String>>;

/// A minimal way for the kit to run SQL in a named database. Implemented by
/// each backend's test suite with its own client library.
///
/// The kit passes exactly one statement per call, without a trailing `;`,
/// so an implementation never has to split scripts. It opens (or borrows
/// from a pool) a connection to `database` per call; a database that does
/// not exist must be an error, never silently created, because the kit
/// checks that dropped databases are gone.
#[async_trait]
pub trait Probe: Send + Sync {
    /// The backend's SQL dialect; the kit's fixtures are written per dialect.
    fn dialect(&self) -> Dialect;

    /// Runs one statement in `database`, committing it.
    async fn execute(&self, database: &str, sql: &str) -> Result<(), BoxError>;

    /// Runs a query in `database` and returns every row, each column
    /// rendered as text (`None` for NULL). Rendering must be deterministic:
    /// the kit compares a template's results with its clones'.
    async fn query(&self, database: &str, sql: &str) -> Result<Vec<Row>, BoxError>;
}
