//! The [`Cloner`] trait: what a backend must do for the runner.

use std::fmt;

use async_trait::async_trait;

use crate::{ClonerError, Connection};

/// One SQL script applied, in order, to a freshly created template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Where the script came from (a file name), used in error messages.
    pub name: String,
    /// The script itself: one or more statements separated by `;`.
    pub sql: String,
}

/// A database backend able to build a template and clone it many times.
///
/// The trait is object safe (the runner holds `Box<dyn Cloner>`) and every
/// method takes `&self`, so one cloner serves all concurrent clone
/// operations of a run. Implementations are expected to open their own
/// connections per operation, or to pool them.
///
/// Names passed in are complete database names, already produced by
/// [`crate::naming`]: a backend never invents names, it only checks that they
/// fit ([`Cloner::max_name_len`]) and quotes them.
#[async_trait]
pub trait Cloner: Send + Sync + fmt::Debug {
    /// The backend's short name, as used in config and on the command line
    /// (`sqlite`, `postgres`, `mysql`, `oracle`).
    fn backend(&self) -> &'static str;

    /// The version of the server (or embedded library) this cloner talks to,
    /// for example `PostgreSQL 15.20` or `SQLite 3.50.4`.
    async fn server_version(&self) -> Result<String, ClonerError>;

    /// How many clone operations this backend can usefully run at the same
    /// time. The runner never runs more than this many at once.
    fn concurrency_hint(&self) -> usize;

    /// The longest database name the backend accepts, in bytes.
    fn max_name_len(&self) -> usize;

    /// Creates the empty database `name` and applies `migrations` to it in
    /// order. Fails if `name` already exists.
    async fn create_template(
        &self,
        name: &str,
        migrations: &[Migration],
    ) -> Result<Connection, ClonerError>;

    /// Makes a template that was just set up ready to be cloned: closes the
    /// backend's own sessions on it, flushes what must be flushed. The runner
    /// calls this after its setup command (if any) has finished.
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        let _ = name;
        Ok(())
    }

    /// Creates the database `name` as a copy of `template`: same schema,
    /// same rows, same sequence/auto-increment state.
    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError>;

    /// Drops the database `name`. Dropping a database that does not exist
    /// succeeds: teardown and sweeping call this without knowing.
    async fn drop_database(&self, name: &str) -> Result<(), ClonerError>;

    /// Lists the databases whose name starts with `prefix`, for sweeping.
    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError>;

    /// How a client reaches the database `name` (which need not exist yet).
    fn connection(&self, name: &str) -> Connection;

    /// How the clones made so far were made, when the backend chooses
    /// among ways per clone or per table (for the run's summary), e.g.
    /// `1600 tables by table files, 8 by rows`. `None` when there is only
    /// one way.
    fn clone_method(&self) -> Option<String> {
        None
    }

    /// A description of the server this cloner talks to (not its version),
    /// with any password redacted, for messages and the run's summary. It
    /// must stay the same for the same server across runs: the ledger
    /// records it, and a sweep only drops databases on the server whose
    /// label matches.
    fn server_label(&self) -> String;
}
