//! MySQL and MariaDB through the synchronous `mysql` client: binary-protocol rows, `DECIMAL` sums, error numbers.
//!
//! Every statement is prepared (the client caches them), so rows come back
//! in the binary protocol: integers as integers, booleans as `TINYINT`s
//! holding 0 or 1. `DECIMAL`s, what `SUM` over integers returns here, come
//! as text and are decoded into integers when they have no fraction.

use std::cell::RefCell;

use ::mysql::consts::{CapabilityFlags, ColumnType};
use ::mysql::prelude::Queryable;
use ::mysql::{Column, Conn, Opts, OptsBuilder, Params};

use super::connection::Backend;
use crate::error::{ConstraintKind, DbError};
use crate::value::{Row, Value};

/// An open MySQL or MariaDB connection.
pub(super) struct MysqlConnection {
    // The client needs `&mut` for every statement, `Db` hands out `&`; no
    // statement runs while another is running, so the borrow never clashes.
    conn: RefCell<Conn>,
}

impl MysqlConnection {
    pub(super) fn connect(url: &str) -> Result<Self, DbError> {
        let opts = Opts::from_url(url).map_err(|error| DbError::Other {
            source: Box::new(error),
        })?;
        // Without CLIENT_FOUND_ROWS, an UPDATE that sets a column to the value
        // it already has reports 0 rows, where SQLite and PostgreSQL report
        // the rows it matched, and "no row changed" would read as "no such row".
        let capabilities = opts.get_additional_capabilities() | CapabilityFlags::CLIENT_FOUND_ROWS;
        let opts = OptsBuilder::from_opts(opts).additional_capabilities(capabilities);
        let conn = Conn::new(opts).map_err(|error| DbError::Other {
            source: Box::new(error),
        })?;
        Ok(Self::new(conn))
    }

    pub(super) fn new(conn: Conn) -> Self {
        Self {
            conn: RefCell::new(conn),
        }
    }

    fn conn(&self) -> Result<std::cell::RefMut<'_, Conn>, DbError> {
        self.conn.try_borrow_mut().map_err(|_| DbError::Other {
            source: "the connection is already running a statement".into(),
        })
    }
}

impl Backend for MysqlConnection {
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let mut conn = self.conn()?;
        conn.exec_drop(sql, params(args)).map_err(classify)?;
        Ok(conn.affected_rows())
    }

    fn insert(&self, sql: &str, args: &[Value]) -> Result<i64, DbError> {
        let mut conn = self.conn()?;
        conn.exec_drop(sql, params(args)).map_err(classify)?;
        i64::try_from(conn.last_insert_id()).map_err(|_| DbError::Decode {
            index: 0,
            expected: "a 64-bit signed id",
            found: None,
        })
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let rows: Vec<::mysql::Row> = self.conn()?.exec(sql, params(args)).map_err(classify)?;
        rows.into_iter().map(read_row).collect()
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        self.conn()?.query_drop(sql).map_err(classify)
    }
}

fn params(args: &[Value]) -> Params {
    if args.is_empty() {
        return Params::Empty;
    }
    Params::Positional(
        args.iter()
            .map(|value| match value {
                Value::Null => ::mysql::Value::NULL,
                Value::Int(value) => ::mysql::Value::Int(*value),
                Value::Bool(value) => ::mysql::Value::Int(i64::from(*value)),
                Value::Text(text) => ::mysql::Value::Bytes(text.as_bytes().to_vec()),
            })
            .collect(),
    )
}

fn read_row(row: ::mysql::Row) -> Result<Row, DbError> {
    let columns = row.columns();
    row.unwrap()
        .into_iter()
        .zip(columns.iter())
        .enumerate()
        .map(|(index, (value, column))| read_value(value, column, index))
        .collect::<Result<_, _>>()
        .map(Row::new)
}

fn read_value(value: ::mysql::Value, column: &Column, index: usize) -> Result<Value, DbError> {
    let decode_error = |expected| DbError::Decode {
        index,
        expected,
        found: None,
    };
    match value {
        ::mysql::Value::NULL => Ok(Value::Null),
        ::mysql::Value::Int(value) => Ok(Value::Int(value)),
        ::mysql::Value::UInt(value) => i64::try_from(value)
            .map(Value::Int)
            .map_err(|_| decode_error("a 64-bit signed integer")),
        ::mysql::Value::Bytes(bytes) if is_numeric(column.column_type()) => {
            integral_decimal(&bytes)
                .map(Value::Int)
                .ok_or_else(|| decode_error("an integral DECIMAL"))
        }
        ::mysql::Value::Bytes(bytes) => String::from_utf8(bytes)
            .map(Value::Text)
            .map_err(|_| decode_error("UTF-8 text")),
        // The schema's columns are integers, booleans and text; its dates are never read.
        _ => Err(decode_error("an integer, text or NULL")),
    }
}

fn is_numeric(column_type: ColumnType) -> bool {
    matches!(
        column_type,
        ColumnType::MYSQL_TYPE_DECIMAL
            | ColumnType::MYSQL_TYPE_NEWDECIMAL
            | ColumnType::MYSQL_TYPE_TINY
            | ColumnType::MYSQL_TYPE_SHORT
            | ColumnType::MYSQL_TYPE_INT24
            | ColumnType::MYSQL_TYPE_LONG
            | ColumnType::MYSQL_TYPE_LONGLONG
    )
}

/// Parses a `DECIMAL` as the server writes it (`-123`, `123.00`) into an
/// integer, refusing a non-zero fraction.
fn integral_decimal(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.bytes().all(|digit| digit == b'0') {
        return None;
    }
    integer.parse().ok()
}

/// Sorts a MySQL or MariaDB error into the client-neutral kinds of
/// [`DbError`] by its error number.
fn classify(error: ::mysql::Error) -> DbError {
    let ::mysql::Error::MySqlError(server) = &error else {
        return DbError::Other {
            source: Box::new(error),
        };
    };
    let kind = match server.code {
        // ER_DUP_KEY, ER_DUP_ENTRY, ER_DUP_UNIQUE, ER_DUP_ENTRY_WITH_KEY_NAME
        1022 | 1062 | 1169 | 1586 => Some(ConstraintKind::Unique),
        // MySQL's ER_CHECK_CONSTRAINT_VIOLATED, MariaDB's ER_CONSTRAINT_FAILED
        3819 | 4025 => Some(ConstraintKind::Check),
        // ER_NO_REFERENCED_ROW, ER_ROW_IS_REFERENCED and their "_2" forms
        1216 | 1217 | 1451 | 1452 => Some(ConstraintKind::ForeignKey),
        // ER_BAD_NULL_ERROR, ER_NO_DEFAULT_FOR_FIELD
        1048 | 1364 => Some(ConstraintKind::NotNull),
        _ => None,
    };
    if let Some(kind) = kind {
        // The message names the constraint (MariaDB: "CONSTRAINT
        // `products_stock_check` failed for …"; a duplicate names its key).
        return DbError::Constraint {
            kind,
            detail: server.message.clone(),
            source: Box::new(error),
        };
    }
    if server.code == 1205 {
        // ER_LOCK_WAIT_TIMEOUT
        return DbError::Busy {
            source: Box::new(error),
        };
    }
    DbError::Other {
        source: Box::new(error),
    }
}
