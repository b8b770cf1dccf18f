//! SQLite through rusqlite: binding values, reading rows, sorting errors into `DbError`.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, ffi};

use super::connection::Backend;
use crate::error::{ConstraintKind, DbError};
use crate::value::{Row, Value};

/// An open SQLite connection; rusqlite caches its prepared statements.
pub(super) struct SqliteConnection {
    conn: Connection,
}

impl SqliteConnection {
    pub(super) fn new(conn: Connection) -> Self {
        Self { conn }
    }
}

impl Backend for SqliteConnection {
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(classify)?;
        let changed = statement
            .execute(rusqlite::params_from_iter(args.iter().map(SqliteValue)))
            .map_err(classify)?;
        Ok(changed as u64)
    }

    fn insert(&self, sql: &str, args: &[Value]) -> Result<i64, DbError> {
        self.execute(sql, args)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(classify)?;
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

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(classify)
    }
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
