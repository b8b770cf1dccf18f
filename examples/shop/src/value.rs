//! Database-neutral values: the parameters the shop binds and the rows it reads back.
//!
//! The domain code never touches a client crate's types. It binds [`Value`]s
//! and reads [`Row`]s, so a PostgreSQL or MySQL client only has to convert
//! between these and its own types inside `db.rs`.

use crate::error::DbError;

/// One parameter or column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// Any integer column, whatever its width on the server.
    Int(i64),
    /// Any character column.
    Text(String),
    /// A boolean; SQLite and MySQL store it as an integer 0 or 1.
    Bool(bool),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Self::Text(value.clone())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// Builds the `&[Value]` argument list of a query: `args![id, "text", None::<i64>]`.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::Value::from($value)),*] as &[$crate::Value]
    };
}

/// One result row, its columns in `SELECT` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The raw value of column `index`, if there is such a column.
    pub fn get(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// Column `index` as a non-null integer.
    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        match self.values.get(index) {
            Some(Value::Int(value)) => Ok(*value),
            Some(Value::Bool(value)) => Ok(i64::from(*value)),
            _ => Err(self.decode_error(index, "an integer")),
        }
    }

    /// Column `index` as a nullable integer.
    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.values.get(index) {
            Some(Value::Null) => Ok(None),
            _ => self.int(index).map(Some),
        }
    }

    /// Column `index` as non-null text.
    pub fn text(&self, index: usize) -> Result<String, DbError> {
        match self.values.get(index) {
            Some(Value::Text(value)) => Ok(value.clone()),
            _ => Err(self.decode_error(index, "text")),
        }
    }

    /// Column `index` as nullable text.
    pub fn opt_text(&self, index: usize) -> Result<Option<String>, DbError> {
        match self.values.get(index) {
            Some(Value::Null) => Ok(None),
            _ => self.text(index).map(Some),
        }
    }

    /// Column `index` as a boolean: a real boolean, or an integer 0 or 1.
    pub fn bool(&self, index: usize) -> Result<bool, DbError> {
        match self.values.get(index) {
            Some(Value::Bool(value)) => Ok(*value),
            Some(Value::Int(0)) => Ok(false),
            Some(Value::Int(1)) => Ok(true),
            _ => Err(self.decode_error(index, "a boolean")),
        }
    }

    fn decode_error(&self, index: usize, expected: &'static str) -> DbError {
        DbError::Decode {
            index,
            expected,
            found: self.values.get(index).cloned(),
        }
    }
}
