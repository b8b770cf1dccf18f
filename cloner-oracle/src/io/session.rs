//! Small synchronous helpers over an `oracle::Connection`: running a
//! statement, reading rows as text. Everything here blocks: callers run on
//! `tokio::task::spawn_blocking` threads.

use oracle::sql_type::ToSql;

/// One row, every column as text (`None` for NULL).
pub(crate) type TextRow = Vec<Option<String>>;

/// Runs `sql` (a statement without bind variables).
pub(crate) fn exec(conn: &oracle::Connection, sql: &str) -> Result<(), oracle::Error> {
    conn.execute(sql, &[]).map(drop)
}

/// Runs the query `sql` with named binds and returns every row as text.
pub(crate) fn rows(
    conn: &oracle::Connection,
    sql: &str,
    binds: &[(&str, &dyn ToSql)],
) -> Result<Vec<TextRow>, oracle::Error> {
    let result = conn.query_named(sql, binds)?;
    let width = result.column_info().len();
    let mut out = Vec::new();
    for row in result {
        let row = row?;
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(row.get::<usize, Option<String>>(i)?);
        }
        out.push(values);
    }
    Ok(out)
}

/// The first column of every row of `sql`, NULLs left out.
pub(crate) fn column(
    conn: &oracle::Connection,
    sql: &str,
    binds: &[(&str, &dyn ToSql)],
) -> Result<Vec<String>, oracle::Error> {
    Ok(rows(conn, sql, binds)?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect())
}

/// The single value of a one-row, one-column query.
pub(crate) fn scalar(
    conn: &oracle::Connection,
    sql: &str,
    binds: &[(&str, &dyn ToSql)],
) -> Result<Option<String>, oracle::Error> {
    let row = conn.query_row_named(sql, binds)?;
    row.get::<usize, Option<String>>(0)
}

/// Whether user (database) `name` exists.
pub(crate) fn user_exists(conn: &oracle::Connection, name: &str) -> Result<bool, oracle::Error> {
    let count = scalar(
        conn,
        "SELECT COUNT(*) FROM all_users WHERE username = :name",
        &[("name", &name)],
    )?;
    Ok(count.as_deref() != Some("0"))
}
