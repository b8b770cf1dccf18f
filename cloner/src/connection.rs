//! [`Connection`]: how a client reaches one database.

use std::fmt;
use std::path::PathBuf;

use crate::redact::redact_url;

/// Everything a test process may need to reach one database.
///
/// The runner turns this into the worker's environment (`DATABASE_URL`,
/// `DATABASE_URL_<ALIAS>`, and user-mapped variables). `Debug` never shows
/// the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Connection {
    /// A URL in the form the common clients of this DBMS accept (sqlx,
    /// diesel, dj-database-url). May contain a password: print
    /// [`Connection::redacted_url`] instead.
    pub url: String,
    /// The database name as the server knows it (for SQLite: the file name
    /// without directory).
    pub name: String,
    /// Host, for server databases.
    pub host: Option<String>,
    /// Port, for server databases.
    pub port: Option<u16>,
    /// User name, for server databases.
    pub user: Option<String>,
    /// Password, if any. Never printed.
    pub password: Option<String>,
    /// The database file, for file databases.
    pub path: Option<PathBuf>,
    /// Extra variables a backend's worker-side helper reads (for example
    /// SQLite's in-memory mode), set in the worker's environment as they are.
    pub extra_env: Vec<(String, String)>,
}

impl Connection {
    /// The URL with any password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.redacted_url())
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("path", &self.path)
            .field("extra_env", &self.extra_env)
            .finish()
    }
}
