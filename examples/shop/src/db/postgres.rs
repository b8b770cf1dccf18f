//! PostgreSQL through the synchronous `postgres` client: typed parameters, integral `NUMERIC`s, SQLSTATE errors.
//!
//! PostgreSQL types every parameter when it prepares a statement, and its
//! client refuses to bind an `i64` to an `INTEGER` parameter, so each
//! [`Value`] is bound as the type the server inferred for its place. Sums
//! over `BIGINT` come back as `NUMERIC`, which is decoded here into an
//! integer when it has no fraction.

use std::cell::RefCell;
use std::collections::HashMap;

use ::postgres::error::SqlState;
use ::postgres::types::{FromSql, ToSql, Type};
use ::postgres::{Client, NoTls, Statement};

use super::connection::Backend;
use crate::error::{BoxError, ConstraintKind, DbError};
use crate::value::{Row, Value};

/// An open PostgreSQL connection with its prepared statements.
pub(super) struct PostgresConnection {
    // The client needs `&mut` for every statement, `Db` hands out `&`; no
    // statement runs while another is running, so the borrow never clashes.
    state: RefCell<State>,
}

struct State {
    client: Client,
    /// Statements prepared on this connection, by their text: each is
    /// prepared once instead of once per call.
    statements: HashMap<String, Statement>,
}

impl PostgresConnection {
    pub(super) fn connect(url: &str) -> Result<Self, DbError> {
        let client = Client::connect(url, NoTls).map_err(|error| DbError::Other {
            source: Box::new(error),
        })?;
        Ok(Self::new(client))
    }

    pub(super) fn new(client: Client) -> Self {
        Self {
            state: RefCell::new(State {
                client,
                statements: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> Result<std::cell::RefMut<'_, State>, DbError> {
        self.state.try_borrow_mut().map_err(|_| DbError::Other {
            source: "the connection is already running a statement".into(),
        })
    }
}

impl State {
    fn prepare(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(classify)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Backend for PostgresConnection {
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let mut state = self.state()?;
        let statement = state.prepare(sql)?;
        let params = bind(&statement, args)?;
        state
            .client
            .execute(&statement, &param_refs(&params))
            .map_err(classify)
    }

    fn insert(&self, sql: &str, args: &[Value]) -> Result<i64, DbError> {
        let rows = self.query(&format!("{sql} RETURNING id"), args)?;
        rows.first().ok_or(DbError::NoRows)?.int(0)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut state = self.state()?;
        let statement = state.prepare(sql)?;
        let params = bind(&statement, args)?;
        let rows = state
            .client
            .query(&statement, &param_refs(&params))
            .map_err(classify)?;
        rows.iter().map(read_row).collect()
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        self.state()?.client.batch_execute(sql).map_err(classify)
    }
}

type Param<'a> = Box<dyn ToSql + Sync + 'a>;

fn param_refs<'a>(params: &'a [Param<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| param.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// Converts the arguments to the types the server inferred for the statement's parameters.
fn bind<'a>(statement: &Statement, args: &'a [Value]) -> Result<Vec<Param<'a>>, DbError> {
    let types = statement.params();
    if types.len() != args.len() {
        return Err(DbError::Other {
            source: format!(
                "the statement takes {} parameters, {} were given",
                types.len(),
                args.len()
            )
            .into(),
        });
    }
    types
        .iter()
        .zip(args)
        .enumerate()
        .map(|(index, (ty, value))| {
            param(ty, value).ok_or_else(|| DbError::Other {
                source: format!(
                    "parameter ${} is of type {ty}, which cannot take {}",
                    index + 1,
                    describe(value)
                )
                .into(),
            })
        })
        .collect()
}

fn param<'a>(ty: &Type, value: &'a Value) -> Option<Param<'a>> {
    match *ty {
        Type::INT2 => int_param::<i16>(value),
        Type::INT4 => int_param::<i32>(value),
        Type::INT8 => int_param::<i64>(value),
        Type::BOOL => match value {
            Value::Null => Some(Box::new(None::<bool>)),
            Value::Bool(value) => Some(Box::new(*value)),
            Value::Int(0) => Some(Box::new(false)),
            Value::Int(1) => Some(Box::new(true)),
            Value::Int(_) | Value::Text(_) => None,
        },
        _ if <&str as ToSql>::accepts(ty) => match value {
            Value::Null => Some(Box::new(None::<&str>)),
            Value::Text(text) => Some(Box::new(text.as_str())),
            Value::Int(_) | Value::Bool(_) => None,
        },
        _ => None,
    }
}

fn int_param<'a, T>(value: &Value) -> Option<Param<'a>>
where
    T: TryFrom<i64> + ToSql + Sync + 'static,
{
    match value {
        Value::Null => Some(Box::new(None::<T>)),
        Value::Int(value) => Some(Box::new(T::try_from(*value).ok()?)),
        Value::Bool(value) => Some(Box::new(T::try_from(i64::from(*value)).ok()?)),
        Value::Text(_) => None,
    }
}

/// What kind of value a parameter held, for error messages that do not
/// repeat the value itself (it may be personal data).
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Int(_) => "this integer",
        Value::Bool(_) => "a boolean",
        Value::Text(_) => "text",
    }
}

fn read_row(row: &::postgres::Row) -> Result<Row, DbError> {
    (0..row.len())
        .map(|index| {
            row.try_get::<_, PgValue>(index)
                .map(|value| value.0)
                .map_err(|_| DbError::Decode {
                    index,
                    expected: if *row.columns()[index].type_() == Type::NUMERIC {
                        "an integral NUMERIC"
                    } else {
                        "an integer, a boolean, text or NULL"
                    },
                    found: None,
                })
        })
        .collect::<Result<_, _>>()
        .map(Row::new)
}

/// A column value decoded from whatever type the server sent.
struct PgValue(Value);

impl<'a> FromSql<'a> for PgValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = match *ty {
            Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::NUMERIC => Value::Int(integral_numeric(raw)?),
            _ if <&str as FromSql>::accepts(ty) => {
                Value::Text(<&str>::from_sql(ty, raw)?.to_owned())
            }
            _ => return Err(format!("the shop reads no column of type {ty}").into()),
        };
        Ok(Self(value))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Self(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Decodes a `NUMERIC` in PostgreSQL's binary format (digit count, weight,
/// sign, display scale, then base-10000 digits, most significant first)
/// into an `i64`, refusing a fraction, NaN, infinities and overflow.
fn integral_numeric(raw: &[u8]) -> Result<i64, BoxError> {
    let word = |index: usize| -> Result<u16, BoxError> {
        raw.get(2 * index..2 * index + 2)
            .map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]))
            .ok_or_else(|| "truncated NUMERIC".into())
    };
    let digits = usize::from(word(0)?);
    // The weight is a signed 16-bit number: the power of 10000 of the first digit.
    let weight = i32::from(word(1)? as i16);
    let negative = match word(2)? {
        0x0000 => false,
        0x4000 => true,
        _ => return Err("NUMERIC is NaN or infinite".into()),
    };
    let digit = |index: usize| -> Result<u16, BoxError> {
        if index < digits {
            word(4 + index)
        } else {
            Ok(0)
        }
    };
    let out_of_range = || -> BoxError { "NUMERIC out of the range of a 64-bit integer".into() };
    let mut value: i128 = 0;
    // Digits 0..=weight are the integer part (absent trailing ones are zeros).
    let integer_digits = usize::try_from(weight + 1).unwrap_or(0);
    for index in 0..integer_digits {
        let digit = i128::from(digit(index)?);
        value = value
            .checked_mul(10_000)
            .and_then(|value| value.checked_add(digit))
            .ok_or_else(out_of_range)?;
    }
    for index in integer_digits..digits {
        if digit(index)? != 0 {
            return Err("NUMERIC has a fraction".into());
        }
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| out_of_range())
}

/// Sorts a PostgreSQL error into the client-neutral kinds of [`DbError`] by its SQLSTATE.
fn classify(error: ::postgres::Error) -> DbError {
    let Some(db_error) = error.as_db_error() else {
        return DbError::Other {
            source: Box::new(error),
        };
    };
    let code = db_error.code();
    let kind = if *code == SqlState::UNIQUE_VIOLATION {
        Some(ConstraintKind::Unique)
    } else if *code == SqlState::CHECK_VIOLATION {
        Some(ConstraintKind::Check)
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        Some(ConstraintKind::ForeignKey)
    } else if *code == SqlState::NOT_NULL_VIOLATION {
        Some(ConstraintKind::NotNull)
    } else if code.code().starts_with("23") {
        // Class 23, integrity constraint violation: exclusion and the like.
        Some(ConstraintKind::Other)
    } else {
        None
    };
    if let Some(kind) = kind {
        // The message names the constraint (`violates check constraint
        // "products_stock_check"`); the detail names the key and its value.
        let detail = match db_error.detail() {
            Some(detail) => format!("{} ({detail})", db_error.message()),
            None => db_error.message().to_owned(),
        };
        return DbError::Constraint {
            kind,
            detail,
            source: Box::new(error),
        };
    }
    if *code == SqlState::LOCK_NOT_AVAILABLE {
        return DbError::Busy {
            source: Box::new(error),
        };
    }
    DbError::Other {
        source: Box::new(error),
    }
}
