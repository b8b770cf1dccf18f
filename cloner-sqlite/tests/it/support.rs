//! Test support: a rusqlite [`Probe`] and a fresh cloner per test.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cloner::BoxError;
use cloner::conformance::{Probe, Row};
use cloner::quote::Dialect;
use cloner_sqlite::{Method, SqliteCloner, SqliteOptions, Target};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;

/// Runs the kit's SQL in `<dir>/<name>.sqlite3` with foreign keys on, and
/// owns the test's directories: the temporary home, and the RAM directory
/// (removed when the probe is dropped).
#[derive(Debug)]
pub(crate) struct SqliteProbe {
    dir: PathBuf,
    ram_dir: Option<PathBuf>,
    _home: TempDir,
}

impl Drop for SqliteProbe {
    fn drop(&mut self) {
        if let Some(dir) = &self.ram_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A cloner with its own fresh directory, and the probe that cleans it up.
pub(crate) async fn setup(target: Target, method: Method) -> (SqliteCloner, SqliteProbe) {
    setup_with(
        SqliteOptions::new("databases")
            .target(target)
            .method(method),
    )
}

/// Like [`setup`], with `options.dir` taken relative to a fresh temporary
/// directory.
pub(crate) fn setup_with(mut options: SqliteOptions) -> (SqliteCloner, SqliteProbe) {
    let home = tempfile::tempdir().expect("a temporary directory");
    options.dir = home.path().join(&options.dir);
    let target = options.target;
    let cloner = SqliteCloner::new(options).expect("a SQLite cloner");
    let dir = cloner.dir().to_owned();
    let ram_dir = (target == Target::Ram).then(|| dir.clone());
    (
        cloner,
        SqliteProbe {
            dir,
            ram_dir,
            _home: home,
        },
    )
}

/// A connection to an existing database file (never creating one), with
/// foreign keys on, as workers get them.
pub(crate) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    Ok(conn)
}

/// Every row of `sql` in `conn`, as text.
pub(crate) fn rows(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<Row>> {
    let mut statement = conn.prepare(sql)?;
    let columns = statement.column_count();
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(columns);
        for i in 0..columns {
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Integer(n) => Some(n.to_string()),
                ValueRef::Real(x) => Some(format!("{x:?}")),
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Some(format!(
                    "x'{}'",
                    b.iter().map(|b| format!("{b:02x}")).collect::<String>()
                )),
            });
        }
        out.push(cells);
    }
    Ok(out)
}

impl SqliteProbe {
    fn path(&self, database: &str) -> PathBuf {
        self.dir.join(format!("{database}.sqlite3"))
    }
}

#[async_trait]
impl Probe for SqliteProbe {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&self, database: &str, sql: &str) -> Result<(), BoxError> {
        let (path, sql) = (self.path(database), sql.to_owned());
        tokio::task::spawn_blocking(move || open(&path)?.execute_batch(&sql))
            .await?
            .map_err(Into::into)
    }

    async fn query(&self, database: &str, sql: &str) -> Result<Vec<Row>, BoxError> {
        let (path, sql) = (self.path(database), sql.to_owned());
        tokio::task::spawn_blocking(move || rows(&open(&path)?, &sql))
            .await?
            .map_err(Into::into)
    }
}
