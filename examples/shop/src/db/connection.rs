//! `Db`: the shop's connection, the same API whichever dialect's client is behind it.
//!
//! Everything else binds [`Value`]s, reads [`Row`]s and matches on
//! [`DbError`]; `Db` rewrites placeholders for its dialect, keeps track of
//! transactions and savepoints, and hands each statement to the client of its
//! dialect (`sqlite.rs`, `postgres.rs`, `mysql.rs`), which converts values
//! and errors.

use std::cell::Cell;
use std::fmt;

use crate::dialect::{Dialect, Placeholders};
use crate::error::DbError;
use crate::value::{Row, Value};

use super::mysql::MysqlConnection;
use super::postgres::PostgresConnection;
use super::sqlite::SqliteConnection;

/// What `Db` needs from a client: statements arrive in the client's own
/// placeholder style, values and errors go back client-neutral.
pub(super) trait Backend {
    /// Runs a statement that returns no rows; returns the number of rows it
    /// matched (an `UPDATE` that sets a column to its current value counts).
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError>;
    /// Runs an `INSERT` into a table with an `id` key; returns the new id.
    fn insert(&self, sql: &str, args: &[Value]) -> Result<i64, DbError>;
    /// Runs a query and returns all its rows.
    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs one parameterless statement without results, such as `COMMIT`.
    fn batch(&self, sql: &str) -> Result<(), DbError>;
}

enum Connection {
    Sqlite(SqliteConnection),
    // The client and its statement cache are big; a SQLite `Db` need not carry their room.
    Postgres(Box<PostgresConnection>),
    Mysql(MysqlConnection),
}

impl Connection {
    fn backend(&self) -> &dyn Backend {
        match self {
            Self::Sqlite(conn) => conn,
            Self::Postgres(conn) => conn.as_ref(),
            Self::Mysql(conn) => conn,
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
            Self::Mysql(_) => Dialect::Mysql,
        }
    }
}

/// A connection to the shop's database: SQLite, PostgreSQL or MySQL/MariaDB.
///
/// Transactions are a state of the connection: inside
/// [`transaction`](Db::transaction) the same `Db` runs the statements, and a
/// nested call becomes a savepoint.
pub struct Db {
    conn: Connection,
    placeholders: Placeholders,
    /// How many transactions (outermost plus savepoints) are open.
    depth: Cell<u32>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The clients' own Debug output may show connection parameters.
        f.debug_struct("Db")
            .field("dialect", &self.dialect())
            .field("placeholders", &self.placeholders)
            .field("depth", &self.depth.get())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Connects to the PostgreSQL or MySQL/MariaDB database named by `url`
    /// (`postgres://user:password@host:port/name`, `postgresql://…`,
    /// `mysql://user:password@host:port/name`), as the worker's
    /// `DATABASE_URL` names it.
    ///
    /// SQLite databases are opened as files (or shared in-memory copies) by
    /// whoever owns them, and wrapped with [`Db::sqlite`].
    pub fn connect(url: &str) -> Result<Self, DbError> {
        match Dialect::from_url(url) {
            Some(Dialect::Postgres) => Ok(Self::new(Connection::Postgres(Box::new(
                PostgresConnection::connect(url)?,
            )))),
            Some(Dialect::Mysql) => {
                Ok(Self::new(Connection::Mysql(MysqlConnection::connect(url)?)))
            }
            Some(Dialect::Sqlite) => Err(DbError::Other {
                source: "a SQLite database is opened by its owner and wrapped with Db::sqlite"
                    .into(),
            }),
            None => Err(DbError::Other {
                source: "the database URL must start with postgres://, postgresql:// or mysql://"
                    .into(),
            }),
        }
    }

    /// Wraps an open SQLite connection (its foreign keys must be on).
    pub fn sqlite(conn: rusqlite::Connection) -> Self {
        Self::new(Connection::Sqlite(SqliteConnection::new(conn)))
    }

    /// Wraps an open PostgreSQL connection.
    pub fn postgres(client: ::postgres::Client) -> Self {
        Self::new(Connection::Postgres(Box::new(PostgresConnection::new(
            client,
        ))))
    }

    /// Wraps an open MySQL or MariaDB connection. Open it with the
    /// `CLIENT_FOUND_ROWS` capability, as [`Db::connect`] does, so that an
    /// `UPDATE` reports the rows it matched, as on the other dialects, and
    /// not only those whose values changed.
    pub fn mysql(conn: ::mysql::Conn) -> Self {
        Self::new(Connection::Mysql(MysqlConnection::new(conn)))
    }

    fn new(conn: Connection) -> Self {
        let placeholders = conn.dialect().placeholders();
        Self {
            conn,
            placeholders,
            depth: Cell::new(0),
        }
    }

    /// Sends statements with `placeholders` instead of the dialect's own style.
    ///
    /// SQLite understands both styles, so running the shop on SQLite with
    /// [`Placeholders::Numbered`] exercises the PostgreSQL rewrite of every
    /// statement against SQLite too. PostgreSQL only understands `Numbered`,
    /// MySQL only `Question`.
    #[must_use]
    pub fn with_placeholders(mut self, placeholders: Placeholders) -> Self {
        self.placeholders = placeholders;
        self
    }

    /// The dialect this connection speaks.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.depth.get() > 0
    }

    /// Runs a statement that returns no rows; returns the number of rows it
    /// matched (on every dialect, also those it set to the values they had).
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        self.backend()
            .execute(&self.placeholders.rewrite(sql), args)
    }

    /// Runs an `INSERT` into a table with an `id` key and returns the new row's id.
    pub fn insert(&self, sql: &str, args: &[Value]) -> Result<i64, DbError> {
        self.backend().insert(&self.placeholders.rewrite(sql), args)
    }

    /// Runs a query and returns all its rows.
    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        self.backend().query(&self.placeholders.rewrite(sql), args)
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Runs a query that returns exactly one row.
    pub fn query_one(&self, sql: &str, args: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, args)?.ok_or(DbError::NoRows)
    }

    /// Runs a query whose first column of its one row is an integer, such as a `COUNT(*)`.
    pub fn scalar(&self, sql: &str, args: &[Value]) -> Result<i64, DbError> {
        self.query_one(sql, args)?.int(0)
    }

    /// Runs `work` in a transaction: committed if it returns `Ok`, rolled back
    /// if it returns `Err` or panics. Nested calls use savepoints, so an inner
    /// failure undoes only the inner work (on PostgreSQL, this is also what
    /// makes the transaction usable again after a failed statement).
    pub fn transaction<T, E>(&self, work: impl FnOnce(&Self) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let level = self.depth.get();
        if level == 0 {
            self.batch(self.dialect().begin())?;
        } else {
            self.batch(&format!("SAVEPOINT {}", savepoint(level)))?;
        }
        self.depth.set(level + 1);
        let mut guard = Rollback {
            db: self,
            level,
            armed: true,
        };
        let value = work(self)?;
        if level == 0 {
            self.batch("COMMIT")?;
        } else {
            self.batch(&format!("RELEASE SAVEPOINT {}", savepoint(level)))?;
        }
        guard.armed = false;
        Ok(value)
    }

    fn backend(&self) -> &dyn Backend {
        self.conn.backend()
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        self.backend().batch(sql)
    }
}

/// Rolls the transaction at `level` back unless it was committed, also when
/// the work panicked, and restores the connection's depth either way.
struct Rollback<'a> {
    db: &'a Db,
    level: u32,
    armed: bool,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Nothing useful can be done with a failed rollback here: the
            // error that brought us here is the one the caller gets. The
            // statements go one at a time, as MySQL takes no batches.
            let _ = if self.level == 0 {
                self.db.batch("ROLLBACK")
            } else {
                let name = savepoint(self.level);
                self.db
                    .batch(&format!("ROLLBACK TO SAVEPOINT {name}"))
                    .and_then(|()| self.db.batch(&format!("RELEASE SAVEPOINT {name}")))
            };
        }
        self.db.depth.set(self.level);
    }
}

fn savepoint(level: u32) -> String {
    format!("shop_savepoint_{level}")
}
