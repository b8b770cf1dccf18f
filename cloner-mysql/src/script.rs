//! Migration scripts: sent whole, or split where they use the `mysql`
//! client's `DELIMITER` directive.
//!
//! The server runs a script of many `;`-separated statements in one text
//! query, including `CREATE TRIGGER`/`PROCEDURE` whose body is a single
//! statement. A body of several statements (`BEGIN … ; … END`) needs the
//! client's `DELIMITER` directive, which the server does not know; files
//! written for the `mysql` client (and `mysqldump` output, Rails'
//! `structure.sql`, this crate's own dumps) use it. Such scripts are split
//! here as the client splits them: at the current delimiter outside
//! quotes and comments.

/// The statements of `script` to send one text query each: the script
/// whole when it has no `DELIMITER` line, else split.
pub(crate) fn statements(script: &str) -> Vec<String> {
    if !script.lines().any(|line| directive(line).is_some()) {
        return vec![script.to_owned()];
    }
    let mut out = Vec::new();
    let mut delimiter = ";".to_owned();
    let mut current = String::new();
    let mut state = State::Code;
    let mut line_start = true;
    let mut rest = script;
    while !rest.is_empty() {
        if line_start && state == State::Code && is_blank(&current) {
            let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
            if let Some(new) = directive(line) {
                delimiter = new.to_owned();
                current.clear();
                rest = after;
                continue;
            }
        }
        if state == State::Code && rest.starts_with(delimiter.as_str()) {
            push(&mut out, &current);
            current.clear();
            rest = &rest[delimiter.len()..];
            line_start = false;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        let next = rest[c.len_utf8()..].chars().next();
        current.push(c);
        rest = &rest[c.len_utf8()..];
        line_start = c == '\n';
        state = match (state, c) {
            (State::Code, '\'') => State::Quoted('\''),
            (State::Code, '"') => State::Quoted('"'),
            (State::Code, '`') => State::Quoted('`'),
            (State::Code, '#') => State::LineComment,
            (State::Code, '-') if next == Some('-') => {
                let third = rest[1..].chars().next();
                if third.is_none_or(|t| t.is_whitespace()) {
                    State::LineComment
                } else {
                    State::Code
                }
            }
            (State::Code, '/') if next == Some('*') => {
                current.push('*');
                rest = &rest[1..];
                State::BlockComment
            }
            (State::Quoted(q), '\\') if q != '`' => {
                if let Some(escaped) = next {
                    current.push(escaped);
                    rest = &rest[escaped.len_utf8()..];
                }
                State::Quoted(q)
            }
            (State::Quoted(q), c) if c == q => State::Code,
            (State::LineComment, '\n') => State::Code,
            (State::BlockComment, '*') if next == Some('/') => {
                current.push('/');
                rest = &rest[1..];
                State::Code
            }
            (state, _) => state,
        };
    }
    push(&mut out, &current);
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Code,
    /// Inside a string or quoted identifier; a doubled quote closes and
    /// reopens it, which needs no special case.
    Quoted(char),
    LineComment,
    BlockComment,
}

/// The new delimiter if `line` is a `DELIMITER x` directive.
fn directive(line: &str) -> Option<&str> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace)?;
    if !word.eq_ignore_ascii_case("delimiter") {
        return None;
    }
    rest.split_whitespace().next()
}

fn push(out: &mut Vec<String>, statement: &str) {
    if !is_blank(statement) {
        out.push(statement.trim().to_owned());
    }
}

/// Whether `sql` holds nothing but whitespace and comments (the server
/// refuses an empty query).
pub(crate) fn is_blank(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if rest.starts_with('#')
            || rest.starts_with("-- ")
            || rest == "--"
            || rest.starts_with("--\n")
        {
            rest = rest
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if rest.starts_with("/*") && !rest.starts_with("/*!") {
            match rest.find("*/") {
                Some(end) => rest = rest[end + 2..].trim_start(),
                None => return true,
            }
        } else {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_without_directives_go_whole() {
        let script = "CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n";
        assert_eq!(statements(script), [script]);
    }

    #[test]
    fn delimiter_blocks_split_like_the_client() {
        let script = "CREATE TABLE a (x INT);\n\
            -- a comment before the directive\n\
            DELIMITER ;;\n\
            CREATE PROCEDURE p()\nBEGIN\n  INSERT INTO a VALUES (1);\n  SELECT ';;' , \"it\\\";;\";\n  -- a ;; comment\n  /* and ;; this */\nEND ;;\n\
            delimiter ;\n\
            INSERT INTO a VALUES (2); -- done\n";
        assert_eq!(
            statements(script),
            [
                "CREATE TABLE a (x INT)",
                "CREATE PROCEDURE p()\nBEGIN\n  INSERT INTO a VALUES (1);\n  SELECT ';;' , \"it\\\";;\";\n  -- a ;; comment\n  /* and ;; this */\nEND",
                "INSERT INTO a VALUES (2)",
            ]
        );
    }

    #[test]
    fn blank_means_only_comments() {
        assert!(is_blank("  -- x\n# y\n/* z */\n"));
        assert!(!is_blank("/*!40101 SET NAMES utf8mb4 */"));
        assert!(!is_blank("-- x\nSELECT 1"));
    }
}
