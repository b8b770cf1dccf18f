//! [`ClonerError`]: why a backend operation could not be done.

use std::path::PathBuf;

/// A boxed error from a database client library.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a cloner operation failed.
///
/// Messages are lowercase fragments that read well after "failed to …" or
/// as a cause in a chain; they never repeat the source's text. Any server
/// address in them is already redacted.
#[derive(Debug, thiserror::Error)]
pub enum ClonerError {
    /// The backend cannot do this at all (an optional capability).
    #[error("the {backend} backend does not support {what}")]
    Unsupported {
        /// The backend's short name.
        backend: &'static str,
        /// What was asked for.
        what: &'static str,
    },
    /// The server could not be reached or refused the login.
    #[error("could not connect to {server}")]
    Connect {
        /// The server, password redacted.
        server: String,
        /// What to do about it, printed after the error chain.
        hint: Option<String>,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// The login lacks a privilege the operation needs.
    #[error("missing privilege {privilege} on {server}")]
    Privilege {
        /// The privilege, as the DBMS names it (`CREATEDB`, `TRIGGER`, …).
        privilege: String,
        /// The server, password redacted.
        server: String,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// A database the operation needs does not exist.
    #[error("database {name:?} does not exist")]
    Missing {
        /// The database's name.
        name: String,
    },
    /// A database that the operation would create exists already.
    #[error("database {name:?} already exists")]
    Exists {
        /// The database's name.
        name: String,
    },
    /// A name does not fit the backend's limits.
    #[error("database name {name:?} is {len} bytes long, the backend allows {max}")]
    NameTooLong {
        /// The name.
        name: String,
        /// Its length in bytes.
        len: usize,
        /// The backend's limit.
        max: usize,
    },
    /// A migration script failed.
    #[error("migration {migration} failed on {database:?}")]
    Migration {
        /// The migration's name (file name).
        migration: String,
        /// The database it was applied to.
        database: String,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// The template is in use by other sessions and cannot be copied.
    #[error("template {name:?} is in use by other sessions: {sessions}")]
    InUse {
        /// The template's name.
        name: String,
        /// The sessions holding it (application name, pid).
        sessions: String,
    },
    /// A file operation (file-based backends).
    #[error("{op} {path}")]
    Io {
        /// What was being done, e.g. `create directory`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Any other failure of a database operation.
    #[error("{op} {name:?}")]
    Database {
        /// What was being done, e.g. `clone database`.
        op: &'static str,
        /// The database concerned.
        name: String,
        /// The client's error.
        #[source]
        source: BoxError,
    },
}

impl ClonerError {
    /// Advice for the user, when the error has some.
    pub fn hint(&self) -> Option<&str> {
        match self {
            ClonerError::Connect { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }
}
