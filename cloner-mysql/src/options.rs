//! [`MysqlOptions`]: how a [`MysqlCloner`](crate::MysqlCloner) is configured.

use std::fmt;
use std::path::PathBuf;

use cloner::redact::redact_url;

/// The server URL used when neither the config nor the environment gives
/// one: a local server with the `root` account and no password, as a fresh
/// Debian MariaDB install (reached over TCP) or a CI service container has it.
pub const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306";

/// The environment variable that names the server when the config does not.
pub const URL_ENV: &str = "PARACLONE_MYSQL_URL";

/// How many clones are made at once at most when the config sets no
/// `max_concurrency`; fewer on a server with a small InnoDB buffer pool
/// (32 MiB of pool per clone) or few free connections. See the crate
/// documentation for the measurements.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// How many tables of one clone are created and filled at the same time,
/// each on its own connection, when [`MysqlOptions::table_parallelism`](MysqlOptions#structfield.table_parallelism) is
/// not set.
pub const DEFAULT_TABLE_PARALLELISM: usize = 2;

/// The character set of templates when [`MysqlOptions::charset`] is not
/// set: MySQL 8's default, and the one that holds every Unicode character
/// (MariaDB's compiled-in default is still `latin1`).
pub const DEFAULT_CHARSET: &str = "utf8mb4";

/// The server URL to use: `configured` (the alias's `url`, else
/// `[backends.mysql] url`) if given, else `PARACLONE_MYSQL_URL` if set and
/// not empty, else [`DEFAULT_URL`].
pub fn resolve_url(configured: Option<&str>) -> String {
    configured
        .map(str::to_owned)
        .or_else(|| std::env::var(URL_ENV).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// How a clone's tables get the template's rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CopyMethod {
    /// Files where possible (see [`CopyMethod::Files`]), rows for the
    /// rest; the default.
    #[default]
    Auto,
    /// Copy InnoDB tablespace files (`FLUSH TABLES … FOR EXPORT`, file
    /// copy, `ALTER TABLE … IMPORT TABLESPACE`): MariaDB 10.6 or later,
    /// with the server's data directory readable and writable here (the
    /// server on this machine, or its files mounted at
    /// [`MysqlOptions::datadir`]). Tables the route does not take (other
    /// engines, partitioned, `FULLTEXT`, encrypted) still go by rows; a
    /// clone fails if the route is not possible at all.
    Files,
    /// `INSERT … SELECT` on the server for every table.
    Rows,
}

impl CopyMethod {
    /// `auto`, `files` or `rows`, as written in `paraclone.toml`.
    pub fn parse(text: &str) -> Option<CopyMethod> {
        match text {
            "auto" => Some(CopyMethod::Auto),
            "files" => Some(CopyMethod::Files),
            "rows" => Some(CopyMethod::Rows),
            _ => None,
        }
    }
}

/// Everything a [`MysqlCloner`](crate::MysqlCloner) is configured with.
///
/// `Debug` hides the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlOptions {
    /// The server: `mysql://user:password@host:port` (`mariadb://` is
    /// accepted too; a path, if any, is ignored). The login needs, on the
    /// databases it creates: `CREATE`, `DROP`, `SELECT`, `INSERT`, `ALTER`,
    /// `INDEX`, `REFERENCES`, `CREATE VIEW`, `SHOW VIEW`, `TRIGGER`,
    /// `CREATE ROUTINE`, `ALTER ROUTINE`, `EVENT`. See [`resolve_url`] for
    /// where it comes from.
    pub url: String,
    /// How many clones to make at once at most; the concurrency hint is
    /// this (default [`DEFAULT_MAX_CONCURRENCY`]) or less when the server
    /// has few connection slots free.
    pub max_concurrency: Option<usize>,
    /// How many tables of one clone are copied at once, each on its own
    /// connection (default [`DEFAULT_TABLE_PARALLELISM`]).
    pub table_parallelism: Option<usize>,
    /// The character set templates are created with (default
    /// [`DEFAULT_CHARSET`]). Clones always take their template's.
    pub charset: Option<String>,
    /// The collation templates are created with; by default the server's
    /// default collation of the character set.
    pub collation: Option<String>,
    /// How clones get their rows (default [`CopyMethod::Auto`]).
    pub copy: CopyMethod,
    /// The server's data directory as this machine sees it, for
    /// [`CopyMethod::Files`]; by default the server's own `@@datadir`
    /// (right when the server runs here). Set it when the server's files
    /// are mounted elsewhere, as a container's volume is.
    pub datadir: Option<PathBuf>,
}

impl MysqlOptions {
    /// Options for the server at `url`, everything else by default.
    pub fn with_url(url: impl Into<String>) -> MysqlOptions {
        MysqlOptions {
            url: url.into(),
            max_concurrency: None,
            table_parallelism: None,
            charset: None,
            collation: None,
            copy: CopyMethod::Auto,
            datadir: None,
        }
    }

    /// Options for the server named by `PARACLONE_MYSQL_URL`, else
    /// [`DEFAULT_URL`].
    pub fn from_env() -> MysqlOptions {
        MysqlOptions::with_url(resolve_url(None))
    }

    /// The clone concurrency cap: the configured one or the default, at
    /// least 1.
    pub(crate) fn cap(&self) -> usize {
        self.max_concurrency
            .unwrap_or(DEFAULT_MAX_CONCURRENCY)
            .max(1)
    }

    /// Tables copied at once per clone, at least 1.
    pub(crate) fn table_parallelism(&self) -> usize {
        self.table_parallelism
            .unwrap_or(DEFAULT_TABLE_PARALLELISM)
            .max(1)
    }
}

impl Default for MysqlOptions {
    /// Options for [`DEFAULT_URL`] (the environment is not read).
    fn default() -> MysqlOptions {
        MysqlOptions::with_url(DEFAULT_URL)
    }
}

impl fmt::Debug for MysqlOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlOptions")
            .field("url", &redact_url(&self.url))
            .field("max_concurrency", &self.max_concurrency)
            .field("table_parallelism", &self.table_parallelism)
            .field("charset", &self.charset)
            .field("collation", &self.collation)
            .field("copy", &self.copy)
            .field("datadir", &self.datadir)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_url_wins_over_the_environment_and_the_default() {
        assert_eq!(resolve_url(Some("mysql://a@b:1")), "mysql://a@b:1");
        // The environment itself is not changed here (tests share it);
        // without the variable the default applies.
        if std::env::var_os(URL_ENV).is_none() {
            assert_eq!(resolve_url(None), DEFAULT_URL);
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let options = MysqlOptions::with_url("mysql://u:hunter2@h:3306");
        let debug = format!("{options:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("u:***@h"),
            "{debug}"
        );
    }

    #[test]
    fn copy_methods_are_read_by_name() {
        assert_eq!(CopyMethod::parse("auto"), Some(CopyMethod::Auto));
        assert_eq!(CopyMethod::parse("files"), Some(CopyMethod::Files));
        assert_eq!(CopyMethod::parse("rows"), Some(CopyMethod::Rows));
        assert_eq!(CopyMethod::parse("Files"), None);
        assert_eq!(MysqlOptions::default().copy, CopyMethod::Auto);
    }

    #[test]
    fn limits_are_at_least_one() {
        let options = MysqlOptions {
            max_concurrency: Some(0),
            table_parallelism: Some(0),
            ..MysqlOptions::default()
        };
        assert_eq!((options.cap(), options.table_parallelism()), (1, 1));
        let options = MysqlOptions::default();
        assert_eq!(
            (options.cap(), options.table_parallelism()),
            (DEFAULT_MAX_CONCURRENCY, DEFAULT_TABLE_PARALLELISM)
        );
    }
}
