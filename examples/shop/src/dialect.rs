//! What differs between the SQL dialects the shop speaks, kept in one place.
//!
//! The shop's statements are written once, in the SQL that SQLite, PostgreSQL
//! and MySQL/MariaDB all accept: `?` placeholders, `LIMIT ?`, `TRUE`/`FALSE`,
//! `COALESCE`, `lower(..) LIKE lower(..) ESCAPE '!'`, savepoints. What cannot be
//! written portably is answered here, per dialect, and applied by `Db`:
//!
//! - placeholders: PostgreSQL numbers them (`$1`, `$2`, …);
//! - how a transaction starts: SQLite takes the write lock up front
//!   (`BEGIN IMMEDIATE`) so that two writers queue instead of failing with
//!   `SQLITE_BUSY` halfway through;
//! - how a new row's id comes back: `last_insert_rowid()` (SQLite),
//!   `RETURNING id` (PostgreSQL), `LAST_INSERT_ID()` (MySQL).
//!
//! The dialect of a database follows from its URL's scheme
//! ([`Dialect::from_url`]). Each client in `db/` also converts values at the
//! edge: integral `NUMERIC` / `DECIMAL` aggregates (what `SUM` over integers
//! returns on PostgreSQL and MySQL) become [`Value::Int`](crate::Value::Int),
//! so the domain code reads every count and sum as an `i64`; a `Value::Int`
//! is bound as whatever integer type PostgreSQL inferred for the parameter
//! (`price_cents` and `stock` are 32-bit `INTEGER`s, ids are `BIGINT`s); and
//! MySQL connections report the rows an `UPDATE` matched, not only those it
//! changed, as the other two do.
//!
//! The whole test suite runs on each dialect: SQLite, PostgreSQL 15 and
//! MariaDB 10.11, loaded with `migrations/<dialect>`.

use std::borrow::Cow;

/// A SQL dialect the shop's migrations and statements are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.37 or later (STRICT tables).
    Sqlite,
    /// PostgreSQL 11 or later.
    Postgres,
    /// MySQL 8.0.16 or later, or MariaDB 10.4 or later.
    Mysql,
}

impl Dialect {
    /// The dialect a database URL names by its scheme: `sqlite:`,
    /// `postgres://` or `postgresql://`, `mysql://` (MySQL and MariaDB alike),
    /// as sqlx, diesel and dj-database-url spell them. `None` for any other.
    pub fn from_url(url: &str) -> Option<Self> {
        let (scheme, _) = url.split_once(':')?;
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" => Some(Self::Mysql),
            _ => None,
        }
    }

    /// The name used for the migrations folder (`migrations/<name>/`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
        }
    }

    /// How this dialect spells statement parameters.
    pub fn placeholders(self) -> Placeholders {
        match self {
            Self::Sqlite | Self::Mysql => Placeholders::Question,
            Self::Postgres => Placeholders::Numbered,
        }
    }

    /// The statement that opens an outermost transaction.
    pub fn begin(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
            Self::Mysql => "START TRANSACTION",
        }
    }
}

/// Placeholder style of a statement's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholders {
    /// `?`, as the shop writes its statements (SQLite, MySQL).
    Question,
    /// `$1`, `$2`, … in order of appearance (PostgreSQL; SQLite accepts it too).
    Numbered,
}

impl Placeholders {
    /// Rewrites a statement written with `?` placeholders into this style.
    ///
    /// Question marks inside quoted literals and identifiers are left alone.
    pub fn rewrite(self, sql: &str) -> Cow<'_, str> {
        match self {
            Self::Question => Cow::Borrowed(sql),
            Self::Numbered => Cow::Owned(number_placeholders(sql)),
        }
    }
}

fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    // The quote character we are inside of, if any. A doubled quote ('') is
    // an escaped quote: leaving and re-entering the literal handles it.
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                out.push_str(&next.to_string());
                next += 1;
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}
