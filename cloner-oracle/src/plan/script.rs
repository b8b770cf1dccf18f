//! Splitting a script into the statements Oracle executes one at a time.
//!
//! Oracle's client interface runs one statement per call, and a SQL
//! statement must not end in `;` (ORA-00933/ORA-00911) while a PL/SQL block
//! must end in `END;`. Scripts follow SQL*Plus's convention, which both
//! migration files and `DBMS_METADATA.GET_DDL(…)` output (with the
//! `SQLTERMINATOR` transform) use:
//!
//! - a SQL statement ends with `;` (dropped), or with a line holding only
//!   `/`;
//! - a PL/SQL unit (`DECLARE`/`BEGIN` blocks and `CREATE [OR REPLACE]
//!   [EDITIONABLE|NONEDITIONABLE] PROCEDURE | FUNCTION | PACKAGE [BODY] |
//!   TRIGGER | TYPE [BODY] | LIBRARY | JAVA …`) contains `;` and ends only at
//!   a line holding only `/` (or at the end of the script);
//! - `;` and `/` inside strings (also `q'[…]'`), quoted identifiers and
//!   comments are text, not terminators.
//!
//! SQL*Plus commands (`SET`, `PROMPT`, `@file`, `&` substitution) are not
//! SQL and are not understood.

use crate::plan::lexer::{Kind, Token, tokenize};

/// One statement of a script, ready to execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Statement {
    /// The statement without leading comments and without its terminator
    /// (a PL/SQL unit keeps its final `END;`).
    pub(crate) sql: String,
    /// The line of the script where the statement starts (1-based).
    pub(crate) line: usize,
    /// Whether it is a PL/SQL unit (ended by `/`) rather than a SQL statement.
    pub(crate) plsql: bool,
}

/// Splits `script` into its statements, in order. Statements that are only
/// comments are left out.
pub(crate) fn split_script(script: &str) -> Vec<Statement> {
    let tokens = tokenize(script);
    let mut out = Vec::new();
    let mut start = 0; // first token of the current statement
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        // A `/` line ends any statement; a `;` ends a SQL statement only.
        let ends = (token.is_punct('/') && alone_on_its_line(script, token))
            || (token.is_punct(';') && !is_plsql(&tokens[start..i]));
        if ends {
            push(&mut out, script, &tokens[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    push(&mut out, script, &tokens[start..]);
    out
}

/// Whether `token` (a `/`) is the only thing on its line but spaces.
fn alone_on_its_line(script: &str, token: &Token<'_>) -> bool {
    let line_start = script[..token.start].rfind('\n').map_or(0, |n| n + 1);
    let line_end = script[token.end()..]
        .find('\n')
        .map_or(script.len(), |n| token.end() + n);
    script[line_start..token.start].trim().is_empty()
        && script[token.end()..line_end].trim().is_empty()
}

fn push(out: &mut Vec<Statement>, script: &str, tokens: &[Token<'_>]) {
    let Some(first) = tokens.iter().position(|t| !t.is_trivia()) else {
        return;
    };
    let last = tokens
        .iter()
        .rposition(|t| !matches!(t.kind, Kind::Space))
        .expect("a significant token exists");
    let begin = tokens[first].start;
    let end = tokens[last].end();
    let plsql = is_plsql(tokens);
    out.push(Statement {
        sql: script[begin..end].to_owned(),
        line: script[..begin].matches('\n').count() + 1,
        plsql,
    });
}

/// Whether the statement starting with `tokens` is a PL/SQL unit, judged
/// by its first keywords.
pub(crate) fn is_plsql(tokens: &[Token<'_>]) -> bool {
    let words: Vec<String> = tokens
        .iter()
        .filter(|t| !t.is_trivia())
        .take(8)
        .map(|t| t.text.to_ascii_uppercase())
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    match first.as_str() {
        "DECLARE" | "BEGIN" => true,
        "WITH" => matches!(
            words.get(1).map(String::as_str),
            Some("FUNCTION" | "PROCEDURE")
        ),
        "CREATE" => words[1..]
            .iter()
            .find(|w| {
                !matches!(
                    w.as_str(),
                    "OR" | "REPLACE"
                        | "EDITIONABLE"
                        | "NONEDITIONABLE"
                        | "EDITIONING"
                        | "AND"
                        | "RESOLVE"
                        | "COMPILE"
                        | "NOFORCE"
                        | "FORCE"
                        | "SHARING"
                        | "="
                        | "METADATA"
                        | "NONE"
                )
            })
            .is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "PROCEDURE" | "FUNCTION" | "PACKAGE" | "TRIGGER" | "TYPE" | "LIBRARY" | "JAVA"
                )
            }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(script: &str) -> Vec<String> {
        split_script(script).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn sql_statements_end_at_semicolons_which_are_dropped() {
        assert_eq!(
            sqls(
                "CREATE TABLE a (id NUMBER);\nINSERT INTO a VALUES (1); INSERT INTO a VALUES (2);\nCOMMIT;"
            ),
            vec![
                "CREATE TABLE a (id NUMBER)",
                "INSERT INTO a VALUES (1)",
                "INSERT INTO a VALUES (2)",
                "COMMIT"
            ]
        );
    }

    #[test]
    fn semicolons_and_slashes_in_strings_identifiers_and_comments_are_text() {
        let script = "INSERT INTO t (a, \"b;c\") VALUES ('x; y', q'[z; /\n/\n]');\n\
                      -- a comment; with / in it\n\
                      /* block; \n/\n comment */ SELECT 1 / 2 FROM dual;\n";
        assert_eq!(
            sqls(script),
            vec![
                "INSERT INTO t (a, \"b;c\") VALUES ('x; y', q'[z; /\n/\n]')",
                "SELECT 1 / 2 FROM dual",
            ]
        );
    }

    #[test]
    fn plsql_blocks_run_to_the_slash_line() {
        let script = "CREATE OR REPLACE TRIGGER orders_audit\nAFTER INSERT ON orders\nFOR EACH ROW\nBEGIN\n    \
                      INSERT INTO audit_log (entity) VALUES ('orders; /');\nEND;\n/\n\n\
                      DECLARE\n    ignored NUMBER;\nBEGIN\n    ignored := invoice_numbers.NEXTVAL;\nEND;\n  /  \nCOMMIT;";
        let statements = split_script(script);
        assert_eq!(statements.len(), 3, "{statements:#?}");
        assert!(statements[0].plsql && statements[1].plsql && !statements[2].plsql);
        assert_eq!(
            statements[0].sql,
            "CREATE OR REPLACE TRIGGER orders_audit\nAFTER INSERT ON orders\nFOR EACH ROW\nBEGIN\n    \
             INSERT INTO audit_log (entity) VALUES ('orders; /');\nEND;"
        );
        assert_eq!(statements[0].line, 1);
        assert_eq!(
            statements[1].sql,
            "DECLARE\n    ignored NUMBER;\nBEGIN\n    ignored := invoice_numbers.NEXTVAL;\nEND;"
        );
        assert_eq!(statements[1].line, 9);
        assert_eq!(statements[2].sql, "COMMIT");
    }

    #[test]
    fn every_kind_of_plsql_unit_is_recognised() {
        for head in [
            "CREATE PROCEDURE p IS BEGIN NULL; END;",
            "create or replace function f return number is begin return 1; end;",
            "CREATE OR REPLACE EDITIONABLE PACKAGE p AS x NUMBER; END;",
            "CREATE OR REPLACE NONEDITIONABLE PACKAGE BODY p AS END;",
            "CREATE TYPE t AS OBJECT (a NUMBER);",
            "CREATE OR REPLACE TYPE BODY t AS END;",
            "CREATE OR REPLACE AND COMPILE JAVA SOURCE NAMED x AS class X {};",
            "BEGIN NULL; END;",
            "WITH FUNCTION f RETURN NUMBER IS BEGIN RETURN 1; END; SELECT f FROM dual;",
        ] {
            let statements = split_script(&format!("{head}\n/\nSELECT 1 FROM dual;"));
            assert_eq!(statements.len(), 2, "{head}: {statements:#?}");
            assert!(statements[0].plsql, "{head}");
            assert_eq!(statements[0].sql, head);
        }
        for sql in [
            "CREATE OR REPLACE FORCE EDITIONABLE VIEW v AS SELECT 1 x FROM dual",
            "CREATE TABLE package (x NUMBER)",
            "CREATE SEQUENCE s",
            "WITH x AS (SELECT 1 FROM dual) SELECT * FROM x",
        ] {
            let statements = split_script(&format!("{sql};\nCOMMIT;"));
            assert_eq!(statements.len(), 2, "{sql}: {statements:#?}");
            assert!(!statements[0].plsql, "{sql}");
        }
    }

    #[test]
    fn a_slash_line_also_ends_a_sql_statement() {
        assert_eq!(
            sqls("CREATE TABLE a (id NUMBER)\n/\nSELECT 4\n/ 2 FROM dual;"),
            vec!["CREATE TABLE a (id NUMBER)", "SELECT 4\n/ 2 FROM dual"]
        );
    }

    #[test]
    fn leading_comments_are_dropped_and_comment_only_chunks_skipped() {
        let statements = split_script(
            "-- The schema.\n-- More words.\nCREATE TABLE a (id NUMBER); -- trailing\n\n-- nothing after this\n",
        );
        assert_eq!(statements.len(), 1, "{statements:#?}");
        assert_eq!(statements[0].sql, "CREATE TABLE a (id NUMBER)");
        assert_eq!(statements[0].line, 3);
        assert!(split_script("  \n-- only\n/* comments */\n;\n/\n").is_empty());
    }

    #[test]
    fn the_last_statement_needs_no_terminator() {
        assert_eq!(sqls("SELECT 1 FROM dual"), vec!["SELECT 1 FROM dual"]);
        let statements = split_script("BEGIN\n  NULL;\nEND;");
        assert_eq!(statements[0].sql, "BEGIN\n  NULL;\nEND;");
        assert!(statements[0].plsql);
    }

    #[test]
    fn get_ddl_output_with_sql_terminators_splits_into_its_statements() {
        let ddl = "\n  CREATE OR REPLACE EDITIONABLE TRIGGER \"TPL\".\"ORDERS_AUDIT\" \nAFTER INSERT ON orders\n\
                   FOR EACH ROW\nBEGIN\n    INSERT INTO audit_log (entity, entity_id, operation) VALUES ('orders', :NEW.id, 'insert');\n\
                   END;\n/\nALTER TRIGGER \"TPL\".\"ORDERS_AUDIT\" ENABLE;\n";
        let statements = split_script(ddl);
        assert_eq!(statements.len(), 2, "{statements:#?}");
        assert!(
            statements[0]
                .sql
                .starts_with("CREATE OR REPLACE EDITIONABLE TRIGGER")
        );
        assert!(statements[0].sql.ends_with("END;"));
        assert_eq!(
            statements[1].sql,
            "ALTER TRIGGER \"TPL\".\"ORDERS_AUDIT\" ENABLE"
        );
    }

    #[test]
    fn the_kit_fixture_splits_into_plain_statements() {
        let fixture = cloner::conformance::fixture(cloner::quote::Dialect::Oracle);
        let schema = split_script(&fixture.migrations[0].sql);
        let data = split_script(&fixture.migrations[1].sql);
        assert_eq!(schema.len(), 10, "{schema:#?}");
        assert!(schema.iter().all(|s| !s.plsql && !s.sql.ends_with(';')));
        assert!(schema[0].sql.starts_with("CREATE TABLE customers ("));
        assert_eq!(
            schema[9].sql,
            "CREATE SEQUENCE invoice_numbers START WITH 1000 INCREMENT BY 10 NOCACHE"
        );
        let plsql: Vec<_> = data.iter().filter(|s| s.plsql).collect();
        assert_eq!(plsql.len(), 2, "{data:#?}");
        assert!(
            plsql[0]
                .sql
                .starts_with("CREATE OR REPLACE TRIGGER orders_audit")
        );
        assert!(plsql[1].sql.starts_with("DECLARE"));
        assert_eq!(data.last().unwrap().sql, "COMMIT");
        // A view, a trigger, 5 + 1 + 4 + 3 + 5 inserts and deletes, a block, COMMIT.
        assert_eq!(data.len(), 22);
    }
}
