//! Quoting identifiers and string literals for SQL.
//!
//! Every name paraclone puts into SQL (database, user, table, file path)
//! goes through one of these functions; none is ever pasted in as it is.

/// The SQL dialect of a backend, as far as quoting is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
    /// Oracle.
    Oracle,
}

/// Quotes an identifier: `"name"` (ANSI) or `` `name` `` (MySQL), with the
/// quote character doubled inside.
pub fn quote_ident(dialect: Dialect, ident: &str) -> String {
    let q = match dialect {
        Dialect::Mysql => '`',
        Dialect::Sqlite | Dialect::Postgres | Dialect::Oracle => '"',
    };
    let mut out = String::with_capacity(ident.len() + 2);
    out.push(q);
    for c in ident.chars() {
        if c == q {
            out.push(q);
        }
        out.push(c);
    }
    out.push(q);
    out
}

/// Quotes a string literal: `'text'` with `'` doubled, and for MySQL also
/// `\` doubled (MySQL treats backslash as an escape unless
/// `NO_BACKSLASH_ESCAPES` is set, and doubling is right in both modes only
/// when that mode is off, which is the server default).
pub fn quote_literal(dialect: Dialect, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::Mysql => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_double_their_quote() {
        assert_eq!(quote_ident(Dialect::Postgres, "a\"b c"), "\"a\"\"b c\"");
        assert_eq!(quote_ident(Dialect::Sqlite, "é'x"), "\"é'x\"");
        assert_eq!(quote_ident(Dialect::Mysql, "a`b\"c"), "`a``b\"c`");
        assert_eq!(quote_ident(Dialect::Oracle, ""), "\"\"");
    }

    #[test]
    fn literals_double_single_quotes() {
        assert_eq!(quote_literal(Dialect::Sqlite, "it's"), "'it''s'");
        assert_eq!(quote_literal(Dialect::Postgres, "a\\b"), "'a\\b'");
        assert_eq!(quote_literal(Dialect::Mysql, "a\\'b"), "'a\\\\''b'");
    }
}
