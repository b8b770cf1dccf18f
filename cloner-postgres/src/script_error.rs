//! Where in a migration script the server's error is: PostgreSQL reports a
//! position (a character offset into the query), which means nothing to
//! someone reading the file; a line and a column do.

use std::fmt;

/// A migration script's error, located in the script.
#[derive(Debug)]
pub(crate) struct ScriptError {
    /// 1-based line in the script.
    line: usize,
    /// 1-based column, in characters.
    column: usize,
    /// The script's line, trimmed, for the message.
    text: String,
    source: tokio_postgres::Error,
}

impl ScriptError {
    /// Wraps `error` from running `script` as one query, with the line and
    /// column of the server's position when it gave one in the script
    /// itself (not inside a function body it compiled).
    pub(crate) fn locate(script: &str, error: tokio_postgres::Error) -> cloner::BoxError {
        let position = error.as_db_error().and_then(|db| match db.position() {
            Some(tokio_postgres::error::ErrorPosition::Original(p)) => Some(*p as usize),
            _ => None,
        });
        match position.and_then(|p| line_and_column(script, p)) {
            Some((line, column, text)) => Box::new(ScriptError {
                line,
                column,
                text: text.trim().to_owned(),
                source: error,
            }),
            None => Box::new(error),
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at line {}, column {}", self.line, self.column)?;
        if !self.text.is_empty() {
            write!(f, " (`{}`)", self.text)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The 1-based line and column of PostgreSQL's 1-based character
/// `position` in `script`, and that line's text; `None` past its end.
fn line_and_column(script: &str, position: usize) -> Option<(usize, usize, &str)> {
    let offset = match script.char_indices().nth(position.checked_sub(1)?) {
        Some((offset, _)) => offset,
        // "at end of input" points just past the last character.
        None if script.chars().count() + 1 == position => script.len(),
        None => return None,
    };
    let before = &script[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = script[offset..]
        .find('\n')
        .map_or(script.len(), |i| offset + i);
    Some((
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
        &script[line_start..line_end],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_become_lines_and_columns_in_characters() {
        let script = "CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  x int,,\n);\n";
        let comma = script.find(",,").expect("in the script") + 2;
        assert_eq!(line_and_column(script, comma), Some((4, 9, "  x int,,")));
        assert_eq!(
            line_and_column(script, 1),
            Some((1, 1, "CREATE TABLE a (id int);"))
        );
        // Characters, not bytes: "é" is one.
        assert_eq!(line_and_column("-- é\nSELEC", 6), Some((2, 1, "SELEC")));
        assert_eq!(line_and_column("SELECT (", 9), Some((1, 9, "SELECT (")));
        assert_eq!(line_and_column("SELECT", 0), None);
        assert_eq!(line_and_column("SELECT", 99), None);
    }
}
