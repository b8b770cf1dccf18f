//! The worker side: how a test process opens the clone paraclone gave it.
//!
//! paraclone starts every test process with the clone's URL in its
//! environment (`DATABASE_URL`, `DATABASE_URL_<ALIAS>`). A Rust test suite
//! on rusqlite opens it with [`open_from_env`] once per process and calls
//! [`WorkerDatabase::connect`] wherever it needs a connection:
//!
//! ```no_run
//! let db = cloner_sqlite::worker::open_from_env("DATABASE_URL")?;
//! let conn = db.connect()?;
//! conn.execute("INSERT INTO customers (name, email) VALUES ('a', 'a@example.com')", [])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With in-memory workers (`PARACLONE_SQLITE_IN_MEMORY=1` in the
//! environment, set by the runner when the SQLite backend's
//! `in_memory_workers` is on, or [`open_url_in_memory`] called directly)
//! opening copies the clone into a shared-cache in-memory database
//! (`file:<unique>?mode=memory&cache=shared`) inside this process, the way
//! Django runs SQLite tests under the spawn start method. Tests then never
//! touch the disk; their writes die with the [`WorkerDatabase`] and never
//! reach the clone file. Connections to a shared-cache database lock whole
//! tables, and a conflict is reported at once as `SQLITE_LOCKED` rather
//! than waited out, so tests should not hold two writing connections at the
//! same time.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::files::copy_pages;
use crate::url::path_from_url;

/// The variable that asks workers to load their clone into memory (`1`).
pub const IN_MEMORY_ENV: &str = "PARACLONE_SQLITE_IN_MEMORY";

/// How long a connection from [`WorkerDatabase::connect`] waits for a lock
/// another connection holds before it gives up with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the clone could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The variable holding the URL is not set.
    #[error(
        "environment variable {var} is not set: run this test process through paraclone, which sets it to the \
         worker's clone, or set {var} to a SQLite URL such as sqlite:///tmp/test.sqlite3"
    )]
    NotSet {
        /// The variable.
        var: String,
    },
    /// The variable holds bytes that are not UTF-8.
    #[error("environment variable {var} does not hold valid UTF-8: {value:?}")]
    NotUnicode {
        /// The variable.
        var: String,
        /// What it holds.
        value: OsString,
    },
    /// The URL is not a SQLite URL.
    #[error(
        "{url:?} is not a SQLite database URL ({reason}); expected sqlite:///absolute/path.sqlite3, \
         sqlite:path or a plain path"
    )]
    BadUrl {
        /// The URL, any password hidden.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL names a file that does not exist.
    #[error("database file {path} does not exist")]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// SQLite could not open the file, or it is no database.
    #[error("open database file {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file could not be copied into memory.
    #[error("load database file {path} into memory")]
    Load {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

/// Opens the clone whose URL is in the environment variable `var`
/// (`DATABASE_URL`, `DATABASE_URL_<ALIAS>`), in memory when
/// `PARACLONE_SQLITE_IN_MEMORY=1` is set.
pub fn open_from_env(var: &str) -> Result<WorkerDatabase, WorkerError> {
    match std::env::var(var) {
        Ok(url) => open_url(&url),
        Err(std::env::VarError::NotPresent) => Err(WorkerError::NotSet {
            var: var.to_owned(),
        }),
        Err(std::env::VarError::NotUnicode(value)) => Err(WorkerError::NotUnicode {
            var: var.to_owned(),
            value,
        }),
    }
}

/// Opens the clone at `url` (`sqlite:///abs/path`, `sqlite:path` or a plain
/// path), in memory when `PARACLONE_SQLITE_IN_MEMORY=1` is set.
pub fn open_url(url: &str) -> Result<WorkerDatabase, WorkerError> {
    if in_memory_requested() {
        open_url_in_memory(url)
    } else {
        open_url_on_disk(url)
    }
}

/// Opens the clone at `url` and works on its file, whatever the
/// environment says.
pub fn open_url_on_disk(url: &str) -> Result<WorkerDatabase, WorkerError> {
    let path = existing_file(url)?;
    let db = WorkerDatabase { path, memory: None };
    // Fail here, not at the first test, when the file is no database.
    let conn = db.connect().map_err(|source| WorkerError::Open {
        path: db.path.clone(),
        source,
    })?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|source| WorkerError::Open {
            path: db.path.clone(),
            source,
        })?;
    Ok(db)
}

/// Opens the clone at `url` and copies it into a shared-cache in-memory
/// database that lives as long as the returned [`WorkerDatabase`].
pub fn open_url_in_memory(url: &str) -> Result<WorkerDatabase, WorkerError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = existing_file(url)?;
    let load = |source| WorkerError::Load {
        path: path.clone(),
        source,
    };
    let uri = format!(
        "file:paraclone-{}-{}?mode=memory&cache=shared",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut keeper = Connection::open_with_flags(&uri, memory_flags()).map_err(load)?;
    let file = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| WorkerError::Open {
        path: path.clone(),
        source,
    })?;
    file.busy_timeout(BUSY_TIMEOUT).map_err(load)?;
    copy_pages(&file, &mut keeper).map_err(load)?;
    drop(file);
    Ok(WorkerDatabase {
        path,
        memory: Some(InMemory {
            uri,
            _keeper: Mutex::new(keeper),
        }),
    })
}

fn in_memory_requested() -> bool {
    std::env::var_os(IN_MEMORY_ENV).is_some_and(|v| v == "1")
}

fn existing_file(url: &str) -> Result<PathBuf, WorkerError> {
    let path = path_from_url(url).map_err(|reason| WorkerError::BadUrl {
        url: cloner::redact::redact_url(url),
        reason,
    })?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(WorkerError::NotFound { path })
    }
}

fn memory_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_SHARED_CACHE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// A worker's clone: its file, or an in-memory copy of it.
pub struct WorkerDatabase {
    path: PathBuf,
    memory: Option<InMemory>,
}

/// The in-memory copy. SQLite frees a shared-cache in-memory database when
/// its last connection closes; the keeper is that last connection. (The
/// mutex only makes the database `Sync`; nobody locks it.)
struct InMemory {
    uri: String,
    _keeper: Mutex<Connection>,
}

impl WorkerDatabase {
    /// A new connection to the clone, with foreign keys enforced and a busy
    /// timeout of [`BUSY_TIMEOUT`]. On disk the connection does not sync to
    /// disk (`PRAGMA synchronous = OFF`): a clone is thrown away after the
    /// run, and a sync per commit would dominate the time of small tests.
    pub fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = match &self.memory {
            Some(memory) => Connection::open_with_flags(&memory.uri, memory_flags())?,
            None => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        if self.memory.is_none() {
            conn.execute_batch("PRAGMA synchronous = OFF")?;
        }
        Ok(conn)
    }

    /// Whether connections go to an in-memory copy of the clone.
    pub fn is_in_memory(&self) -> bool {
        self.memory.is_some()
    }

    /// The clone's file (only read, when in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The URI of the in-memory copy (`file:…?mode=memory&cache=shared`),
    /// for opening it with flags of one's own.
    pub fn memory_uri(&self) -> Option<&str> {
        self.memory.as_ref().map(|m| m.uri.as_str())
    }
}

impl fmt::Debug for WorkerDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerDatabase")
            .field("path", &self.path)
            .field("memory_uri", &self.memory_uri())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_database_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<WorkerDatabase>();
        shareable::<WorkerError>();
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = WorkerError::NotSet {
            var: "DATABASE_URL".to_owned(),
        };
        assert_eq!(
            e.to_string(),
            "environment variable DATABASE_URL is not set: run this test process through paraclone, which sets it \
             to the worker's clone, or set DATABASE_URL to a SQLite URL such as sqlite:///tmp/test.sqlite3"
        );
    }

    #[test]
    fn bad_urls_are_refused_before_any_file_is_touched() {
        let e = open_url_on_disk("postgres://app:hunter2@db/x").unwrap_err();
        assert!(
            matches!(
                e,
                WorkerError::BadUrl {
                    reason: "it is a URL of another scheme",
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = open_url_in_memory("sqlite::memory:").unwrap_err();
        assert!(matches!(e, WorkerError::BadUrl { .. }), "{e}");
    }

    #[test]
    fn missing_files_are_not_created() {
        let path =
            std::env::temp_dir().join(format!("paraclone-missing-{}.sqlite3", std::process::id()));
        let e = open_url_on_disk(&format!("sqlite://{}", path.display())).unwrap_err();
        assert!(
            matches!(&e, WorkerError::NotFound { path: p } if *p == path),
            "{e}"
        );
        assert!(!path.exists());
    }
}
