//! [`PostgresOptions`] and [`Strategy`]: how a [`PostgresCloner`](crate::PostgresCloner) is configured.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use cloner::redact::redact_url;

/// The server URL used when neither the config nor the environment gives
/// one: a local server with the `postgres` superuser, as a fresh Debian or
/// Docker install has it.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The environment variable that names the server when the config does not.
pub const URL_ENV: &str = "PARACLONE_POSTGRES_URL";

/// How many clones are made at once at most when the config sets no
/// `max_concurrency`. See the crate documentation for the measurements.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// How long a clone waits by default for other sessions to leave its
/// template before it fails with [`ClonerError::InUse`](cloner::ClonerError::InUse).
pub const DEFAULT_IN_USE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server URL to use: `configured` (the alias's `url`, else
/// `[backends.postgres] url`) if given, else `PARACLONE_POSTGRES_URL` if
/// set and not empty, else [`DEFAULT_URL`].
pub fn resolve_url(configured: Option<&str>) -> String {
    configured
        .map(str::to_owned)
        .or_else(|| std::env::var(URL_ENV).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// How PostgreSQL 15+ copies the template (`CREATE DATABASE … STRATEGY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// `WAL_LOG`: copies block by block through the write-ahead log; no
    /// checkpoint. PostgreSQL's own default since 15.
    WalLog,
    /// `FILE_COPY`: copies the files, with a checkpoint before and after.
    /// PostgreSQL's only method before 15.
    FileCopy,
}

impl Strategy {
    /// The strategy used when the config names none, on PostgreSQL 15+,
    /// chosen by measurement (see the crate documentation).
    pub const DEFAULT: Strategy = Strategy::FileCopy;

    /// The name in config and in SQL: `wal_log` or `file_copy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::WalLog => "wal_log",
            Strategy::FileCopy => "file_copy",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy name that is neither `wal_log` nor `file_copy`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not one of \"wal_log\", \"file_copy\"")]
pub struct UnknownStrategy(pub String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;

    /// Parses `wal_log` or `file_copy`, in any case.
    fn from_str(s: &str) -> Result<Strategy, UnknownStrategy> {
        match s.to_ascii_lowercase().as_str() {
            "wal_log" => Ok(Strategy::WalLog),
            "file_copy" => Ok(Strategy::FileCopy),
            _ => Err(UnknownStrategy(s.to_owned())),
        }
    }
}

/// Everything a [`PostgresCloner`](crate::PostgresCloner) is configured with.
///
/// `Debug` hides the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The server: `postgres://user:password@host:port/maintenance_db`. The
    /// login needs `CREATEDB`; the maintenance database (usually
    /// `postgres`) is where the cloner's own sessions connect, never a
    /// template. See [`resolve_url`] for where it comes from.
    pub url: String,
    /// How many clones to make at once at most; the concurrency hint is
    /// this (default [`DEFAULT_MAX_CONCURRENCY`]) or less when the server
    /// has few connection slots free.
    pub max_concurrency: Option<usize>,
    /// `CREATE DATABASE … STRATEGY` on PostgreSQL 15+; `None` uses
    /// [`Strategy::DEFAULT`]. Naming one on an older server is an error.
    pub strategy: Option<Strategy>,
    /// Whether to terminate (`pg_terminate_backend`) other sessions that
    /// hold a template when a clone needs it (never sessions on the
    /// server's `template1`). Off by default: those sessions may be
    /// someone's work.
    pub terminate_sessions: bool,
    /// How long a clone waits for other sessions to leave its template
    /// before it fails naming them.
    pub in_use_timeout: Duration,
}

impl PostgresOptions {
    /// Options for the server at `url`, everything else by default.
    pub fn with_url(url: impl Into<String>) -> PostgresOptions {
        PostgresOptions {
            url: url.into(),
            max_concurrency: None,
            strategy: None,
            terminate_sessions: false,
            in_use_timeout: DEFAULT_IN_USE_TIMEOUT,
        }
    }

    /// Options for the server named by `PARACLONE_POSTGRES_URL`, else
    /// [`DEFAULT_URL`].
    pub fn from_env() -> PostgresOptions {
        PostgresOptions::with_url(resolve_url(None))
    }
}

impl Default for PostgresOptions {
    /// Options for [`DEFAULT_URL`] (the environment is not read).
    fn default() -> PostgresOptions {
        PostgresOptions::with_url(DEFAULT_URL)
    }
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redact_url(&self.url))
            .field("max_concurrency", &self.max_concurrency)
            .field("strategy", &self.strategy)
            .field("terminate_sessions", &self.terminate_sessions)
            .field("in_use_timeout", &self.in_use_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_in_any_case() {
        assert_eq!("wal_log".parse(), Ok(Strategy::WalLog));
        assert_eq!("FILE_COPY".parse(), Ok(Strategy::FileCopy));
        let err = "copy".parse::<Strategy>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"copy\" is not one of \"wal_log\", \"file_copy\""
        );
        assert_eq!(Strategy::FileCopy.to_string(), "file_copy");
    }

    #[test]
    fn configured_url_wins_over_the_environment_and_the_default() {
        assert_eq!(resolve_url(Some("postgres://a@b/c")), "postgres://a@b/c");
        // The environment itself is not changed here (tests share it);
        // without the variable the default applies.
        if std::env::var_os(URL_ENV).is_none() {
            assert_eq!(resolve_url(None), DEFAULT_URL);
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let options = PostgresOptions::with_url("postgres://u:hunter2@h/m");
        let debug = format!("{options:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("u:***@h"),
            "{debug}"
        );
    }
}
