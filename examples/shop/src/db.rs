//! The one SQLite-specific piece of the shop: a connection wrapper that runs its portable SQL.
//!
//! Everything else binds [`Value`]s, reads [`Row`]s and matches on [`DbError`],
//! so adding PostgreSQL or MySQL means giving `Db` a second connection kind
//! here and converting values and errors for it; the domain code and its SQL
//! stay as they are.

use std::cell::Cell;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, ffi};

use crate::dialect::{Dialect, Placeholders};
use crate::error::{ConstraintKind, DbError};
use crate::value::{Row, Value};

/// A connection to the shop's database.
///
/// Transactions are a state of the connection: inside
/// [`transaction`](Db::transaction) the same `Db` runs the statements, and a
/// nested call becomes a savepoint.
#[derive(Debug)]
pub struct Db {
    conn: Connection,
    placeholders: Placeholders,
    /// How many transactions (outermost plus savepoints) are open.
    depth: Cell<u32>,
}

impl Db {
    /// Wraps an open SQLite connection (its foreign keys must be on).
    pub fn sqlite(conn: Connection) -> Self {
        Self {
            conn,
            placeholders: Dialect::Sqlite.placeholders(),
            depth: Cell::new(0),
        }
    }

    /// Sends statements with `placeholders` instead of the dialect's own style.
    ///
    /// SQLite understands both styles, so running the shop on SQLite with
    /// [`Placeholders::Numbered`] exercises the PostgreSQL rewrite of every
    /// statement before a PostgreSQL client exists.
    #[must_use]
    pub fn with_placeholders(mut self, placeholders: Placeholders) -> Self {
        self.placeholders = placeholders;
        self
    }

    /// The dialect this connection speaks.
    pub fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.depth.get() > 0
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let sql = self.placeholders.rewrite(sql);
        let mut statement = self.conn.prepare_cached(&sql).map_err(classify)?;
        let changed = statement
            .execute(rusqlite::params_from_iter(args.iter().map(SqliteValue)))
            .map_err(classify)?;
        Ok(changed as u64)
    }

    /// Runs an `INSERT` into a table with an `id` key and returns the new row's id.
    pub fn insert(&self, sql: &str, args: &[Value]) -> Result<i64, DbError> {
        // PostgreSQL: append `RETURNING id` and read it; MySQL: `LAST_INSERT_ID()`.
        self.execute(sql, args)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Runs a query and returns all its rows.
    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let sql = self.placeholders.rewrite(sql);
        let mut statement = self.conn.prepare_cached(&sql).map_err(classify)?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(args.iter().map(SqliteValue)))
            .map_err(classify)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(classify)? {
            let mut values = Vec::with_capacity(columns);
            for index in 0..columns {
                values.push(read_value(row.get_ref(index).map_err(classify)?, index)?);
            }
            out.push(Row::new(values));
        }
        Ok(out)
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
    /// failure undoes only the inner work.
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

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(classify)
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
            // error that brought us here is the one the caller gets.
            let _ = if self.level == 0 {
                self.db.batch("ROLLBACK")
            } else {
                let name = savepoint(self.level);
                self.db.batch(&format!(
                    "ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
                ))
            };
        }
        self.db.depth.set(self.level);
    }
}

fn savepoint(level: u32) -> String {
    format!("shop_savepoint_{level}")
}

/// Binds a [`Value`] as a SQLite parameter without copying text.
struct SqliteValue<'a>(&'a Value);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(value) => ValueRef::Integer(*value),
            Value::Bool(value) => ValueRef::Integer(i64::from(*value)),
            Value::Text(value) => ValueRef::Text(value.as_bytes()),
        }))
    }
}

fn read_value(value: ValueRef<'_>, index: usize) -> Result<Value, DbError> {
    match value {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(value) => Ok(Value::Int(value)),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Value::Text(text.to_owned())),
            Err(_) => Err(DbError::Decode {
                index,
                expected: "UTF-8 text",
                found: None,
            }),
        },
        // The schema has no REAL or BLOB columns.
        ValueRef::Real(_) | ValueRef::Blob(_) => Err(DbError::Decode {
            index,
            expected: "an integer, text or NULL",
            found: None,
        }),
    }
}

/// Sorts a SQLite error into the client-neutral kinds of [`DbError`].
fn classify(error: rusqlite::Error) -> DbError {
    let rusqlite::Error::SqliteFailure(failure, message) = &error else {
        return match error {
            rusqlite::Error::QueryReturnedNoRows => DbError::NoRows,
            other => DbError::Other {
                source: Box::new(other),
            },
        };
    };
    match failure.code {
        ErrorCode::ConstraintViolation => {
            let kind = match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    ConstraintKind::Unique
                }
                ffi::SQLITE_CONSTRAINT_CHECK => ConstraintKind::Check,
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ConstraintKind::ForeignKey,
                ffi::SQLITE_CONSTRAINT_NOTNULL => ConstraintKind::NotNull,
                _ => ConstraintKind::Other,
            };
            DbError::Constraint {
                kind,
                detail: message.clone().unwrap_or_default(),
                source: Box::new(error),
            }
        }
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::Busy {
            source: Box::new(error),
        },
        _ => DbError::Other {
            source: Box::new(error),
        },
    }
}
