//! Rewriting `DBMS_METADATA.GET_DDL` output for the clone: the template's
//! schema name replaced by the clone's, storage, segment and tablespace
//! clauses dropped, sequences restarted where the template's left off.
//!
//! The cloner asks `DBMS_METADATA` to leave storage clauses out and to
//! emit constraints as separate `ALTER TABLE` statements (session
//! transforms `SEGMENT_ATTRIBUTES`, `STORAGE`, `CONSTRAINTS_AS_ALTER`,
//! `REF_CONSTRAINTS`, `SQLTERMINATOR`), but every rewrite here also works
//! on the default output, so a server that ignores a transform still gives
//! a clone in the clone's own tablespace. All rewriting is done on tokens
//! ([`crate::plan::lexer`]): strings, comments and the bodies of `CHECK`
//! constraints and virtual columns are never touched.

use crate::plan::lexer::{Kind, Token, next_significant, previous_significant, tokenize};
use crate::plan::names::ident;

/// Why a DDL text could not be rewritten.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DdlError {
    /// The identity column the dictionary lists is not in the table's DDL.
    #[error("the DDL of table {table:?} has no identity clause for column {column:?}")]
    IdentityNotFound {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A sequence DDL without the `SEQUENCE` keyword and a name.
    #[error("not a CREATE SEQUENCE statement: {0}")]
    NotASequence(String),
    /// A sequence value that is not an integer.
    #[error("{0:?} is not a sequence value")]
    BadValue(String),
}

/// What kind of statement a DDL text is, by its first keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatementKind {
    /// `CREATE [GLOBAL TEMPORARY|…] TABLE`.
    CreateTable,
    /// `CREATE [UNIQUE|BITMAP] INDEX`.
    CreateIndex,
    /// `ALTER TABLE …` (constraints, `MODIFY`).
    AlterTable,
    /// `ALTER TRIGGER … ENABLE|DISABLE`.
    AlterTrigger,
    /// `COMMENT ON …`.
    Comment,
    /// Anything else (views, sequences, PL/SQL, synonyms, grants).
    Other,
}

/// The kind of the statement `sql`.
pub(crate) fn classify(sql: &str) -> StatementKind {
    let tokens = tokenize(sql);
    let words: Vec<String> = tokens
        .iter()
        .filter(|t| !t.is_trivia())
        .take(6)
        .map(|t| t.text.to_ascii_uppercase())
        .collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    match word(0) {
        "CREATE" => {
            let rest: Vec<&str> = (1..words.len()).map(word).collect();
            let kind = rest.iter().find(|w| {
                !matches!(
                    **w,
                    "OR" | "REPLACE"
                        | "GLOBAL"
                        | "PRIVATE"
                        | "TEMPORARY"
                        | "SHARDED"
                        | "DUPLICATED"
                        | "IMMUTABLE"
                        | "BLOCKCHAIN"
                        | "UNIQUE"
                        | "BITMAP"
                        | "MULTIVALUE"
                )
            });
            match kind.copied() {
                Some("TABLE") => StatementKind::CreateTable,
                Some("INDEX") => StatementKind::CreateIndex,
                _ => StatementKind::Other,
            }
        }
        "ALTER" if word(1) == "TABLE" => StatementKind::AlterTable,
        "ALTER" if word(1) == "TRIGGER" => StatementKind::AlterTrigger,
        "COMMENT" => StatementKind::Comment,
        _ => StatementKind::Other,
    }
}

/// `sql` with every schema qualifier naming `from` (`"FROM".x`, and when
/// `from` can be written unquoted also `FROM.x` in any case) replaced by the
/// quoted `to`. Names that are not qualifiers (a column that happens to
/// share the schema's name), strings and comments stay as they are.
pub(crate) fn remap_schema(sql: &str, from: &str, to: &str) -> String {
    let tokens = tokenize(sql);
    let unquoted = plain_unquoted(from);
    let replacement = ident(to);
    let mut out = String::with_capacity(sql.len() + 16);
    for (i, token) in tokens.iter().enumerate() {
        let names_from = match token.kind {
            Kind::QuotedIdent => token.identifier().as_deref() == Some(from),
            Kind::Word => unquoted && token.text.to_uppercase() == from,
            _ => false,
        };
        let qualifies = names_from
            && next_significant(&tokens, i).is_some_and(|j| tokens[j].is_punct('.'))
            && previous_significant(&tokens, i).is_none_or(|j| !tokens[j].is_punct('.'));
        out.push_str(if qualifies { &replacement } else { token.text });
    }
    out
}

/// Whether `name` is how Oracle stores an unquoted identifier (upper-case
/// letter first, then upper-case letters, digits, `_`, `$`, `#`), so that
/// SQL may refer to it without quotes.
fn plain_unquoted(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '$' | '#'))
}

/// `sql` (a table, index or constraint DDL) without its physical
/// attributes: `SEGMENT CREATION …`, `PCTFREE n`, `PCTUSED n`,
/// `INITRANS n`, `MAXTRANS n`, `STORAGE (…)`, `TABLESPACE x`, `LOGGING`,
/// `NOLOGGING` and `COMPUTE STATISTICS`, wherever they appear outside a
/// `CHECK (…)` condition or an `AS (…)` expression. The clone then lives in
/// its own user's default tablespace with the server's defaults.
pub(crate) fn strip_storage(sql: &str) -> String {
    let tokens = tokenize(sql);
    let mut drop = vec![false; tokens.len()];
    // For each open parenthesis: whether it (or one around it) holds an
    // expression that must not be touched.
    let mut protected: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.is_punct('(') {
            let inside = protected.last().copied().unwrap_or(false);
            let opens_expression = previous_significant(&tokens, i)
                .is_some_and(|p| tokens[p].is_word("CHECK") || tokens[p].is_word("AS"));
            protected.push(inside || opens_expression);
        } else if token.is_punct(')') {
            protected.pop();
        } else if token.kind == Kind::Word
            && !protected.last().copied().unwrap_or(false)
            && let Some(last) = storage_clause_end(&tokens, i)
        {
            for flag in &mut drop[i..=last] {
                *flag = true;
            }
            i = last + 1;
            continue;
        }
        i += 1;
    }
    rebuild(&tokens, &drop)
}

/// If a storage clause starts at token `i`, the index of its last token.
fn storage_clause_end(tokens: &[Token<'_>], i: usize) -> Option<usize> {
    let next = |from: usize| next_significant(tokens, from);
    let token = &tokens[i];
    let upper = token.text.to_ascii_uppercase();
    match upper.as_str() {
        "SEGMENT" => {
            let creation = next(i).filter(|&j| tokens[j].is_word("CREATION"))?;
            let mode = next(creation)
                .filter(|&j| tokens[j].is_word("IMMEDIATE") || tokens[j].is_word("DEFERRED"))?;
            Some(mode)
        }
        "PCTFREE" | "PCTUSED" | "INITRANS" | "MAXTRANS" => {
            next(i).filter(|&j| tokens[j].kind == Kind::Number)
        }
        "STORAGE" => {
            let open = next(i).filter(|&j| tokens[j].is_punct('('))?;
            matching_paren(tokens, open)
        }
        "TABLESPACE" => next(i).filter(|&j| {
            matches!(tokens[j].kind, Kind::QuotedIdent | Kind::Word)
                && !tokens[j].is_word("SET")
                && !tokens[j].is_word("GROUP")
        }),
        "LOGGING" | "NOLOGGING" => Some(i),
        "COMPUTE" => next(i).filter(|&j| tokens[j].is_word("STATISTICS")),
        _ => None,
    }
}

/// The index of the `)` that closes the `(` at `open`.
pub(crate) fn matching_paren(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(open) {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// The tokens not dropped, with the spaces around each dropped run
/// collapsed to one (the last one holding a line break, if any, so the
/// layout stays readable), none kept before a `,` or `)` that followed a
/// dropped run, and none at the end.
fn rebuild(tokens: &[Token<'_>], drop: &[bool]) -> String {
    let mut out = String::new();
    let mut pending: Option<&str> = None;
    let mut dropped_since_kept = false;
    for (token, dropped) in tokens.iter().zip(drop) {
        if *dropped {
            dropped_since_kept = true;
        } else if token.kind == Kind::Space {
            // Spaces only meet where something between them was dropped.
            pending = match pending {
                Some(previous) if !token.text.contains('\n') => Some(previous),
                _ => Some(token.text),
            };
        } else {
            if let Some(space) = pending.take()
                && !(dropped_since_kept && (token.is_punct(',') || token.is_punct(')')))
            {
                out.push_str(space);
            }
            dropped_since_kept = false;
            out.push_str(token.text);
        }
    }
    if let Some(space) = pending {
        out.push_str(space);
    }
    out.trim_end().to_owned()
}

/// Checks that `value` is an integer as Oracle prints sequence values.
pub(crate) fn check_value(value: &str) -> Result<(), DdlError> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DdlError::BadValue(value.to_owned()));
    }
    Ok(())
}

/// A `CREATE SEQUENCE` DDL made to start at `next`: its `START WITH`
/// value replaced, or a `START WITH` added after the name when it has none.
pub(crate) fn restart_sequence(ddl: &str, next: &str) -> Result<String, DdlError> {
    check_value(next)?;
    let tokens = tokenize(ddl);
    if let Some((first, last)) = start_with_value(&tokens, 0, tokens.len()) {
        return Ok(splice(ddl, tokens[first].start, tokens[last].end(), next));
    }
    let keyword = tokens
        .iter()
        .position(|t| t.is_word("SEQUENCE"))
        .ok_or_else(|| DdlError::NotASequence(ddl.to_owned()))?;
    let name_end = qualified_name_end(&tokens, keyword)
        .ok_or_else(|| DdlError::NotASequence(ddl.to_owned()))?;
    let at = tokens[name_end].end();
    Ok(splice(ddl, at, at, &format!(" START WITH {next}")))
}

/// The tokens of the value after `START WITH` (`-` and a number, a number,
/// or `LIMIT VALUE`) within `tokens[from..to]`: first and last index.
pub(crate) fn start_with_value(
    tokens: &[Token<'_>],
    from: usize,
    to: usize,
) -> Option<(usize, usize)> {
    (from..to).find_map(|i| {
        if !tokens[i].is_word("START") {
            return None;
        }
        let with = next_significant(tokens, i).filter(|&j| j < to && tokens[j].is_word("WITH"))?;
        let first = next_significant(tokens, with).filter(|&j| j < to)?;
        let token = &tokens[first];
        if token.kind == Kind::Number {
            Some((first, first))
        } else if token.is_punct('-') {
            let number =
                next_significant(tokens, first).filter(|&j| tokens[j].kind == Kind::Number)?;
            Some((first, number))
        } else if token.is_word("LIMIT") {
            let value = next_significant(tokens, first).filter(|&j| tokens[j].is_word("VALUE"))?;
            Some((first, value))
        } else {
            None
        }
    })
}

/// The last token of the (possibly qualified) name after token `keyword`.
fn qualified_name_end(tokens: &[Token<'_>], keyword: usize) -> Option<usize> {
    let first = next_significant(tokens, keyword)
        .filter(|&j| matches!(tokens[j].kind, Kind::QuotedIdent | Kind::Word))?;
    match next_significant(tokens, first) {
        Some(dot) if tokens[dot].is_punct('.') => next_significant(tokens, dot)
            .filter(|&j| matches!(tokens[j].kind, Kind::QuotedIdent | Kind::Word)),
        _ => Some(first),
    }
}

/// `text` with bytes `from..to` replaced by `with`.
pub(crate) fn splice(text: &str, from: usize, to: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..from]);
    out.push_str(with);
    out.push_str(&text[to..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::samples;
    use crate::plan::script::split_script;

    #[test]
    fn statements_are_classified_by_their_first_keywords() {
        for (sql, kind) in [
            (
                "CREATE TABLE \"T\".\"A\" (x NUMBER)",
                StatementKind::CreateTable,
            ),
            (
                "  CREATE GLOBAL TEMPORARY TABLE a (x NUMBER)",
                StatementKind::CreateTable,
            ),
            (
                "CREATE UNIQUE INDEX \"T\".\"I\" ON \"T\".\"A\" (\"X\")",
                StatementKind::CreateIndex,
            ),
            ("create bitmap index i on a (x)", StatementKind::CreateIndex),
            (
                "ALTER TABLE \"T\".\"A\" ADD CONSTRAINT \"PK\" PRIMARY KEY (\"X\")",
                StatementKind::AlterTable,
            ),
            (
                "ALTER TRIGGER \"T\".\"TR\" ENABLE",
                StatementKind::AlterTrigger,
            ),
            (
                "COMMENT ON TABLE \"T\".\"A\" IS 'x'",
                StatementKind::Comment,
            ),
            (
                "CREATE OR REPLACE FORCE EDITIONABLE VIEW \"T\".\"V\" AS SELECT 1 x FROM dual",
                StatementKind::Other,
            ),
            (
                "CREATE OR REPLACE EDITIONABLE TRIGGER \"T\".\"TR\" BEFORE INSERT ON a BEGIN NULL; END;",
                StatementKind::Other,
            ),
        ] {
            assert_eq!(classify(sql), kind, "{sql}");
        }
    }

    #[test]
    fn quoted_schema_qualifiers_are_remapped_and_nothing_else() {
        let sql = "ALTER TABLE \"TPL\".\"ORDERS\" ADD CONSTRAINT \"ORDERS_CUSTOMER_FK\" FOREIGN KEY (\"CUSTOMER_ID\")\n\
                   \t  REFERENCES \"TPL\".\"CUSTOMERS\" (\"ID\") ENABLE";
        assert_eq!(
            remap_schema(sql, "TPL", "shop_pcabc_w1"),
            "ALTER TABLE \"shop_pcabc_w1\".\"ORDERS\" ADD CONSTRAINT \"ORDERS_CUSTOMER_FK\" FOREIGN KEY (\"CUSTOMER_ID\")\n\
             \t  REFERENCES \"shop_pcabc_w1\".\"CUSTOMERS\" (\"ID\") ENABLE"
        );
        // A column named like the schema, a string and a comment stay.
        let sql = "SELECT \"TPL\", 'TPL.x', t.\"TPL\" FROM \"TPL\" . \"T\" t /* \"TPL\".x */";
        assert_eq!(
            remap_schema(sql, "TPL", "C"),
            "SELECT \"TPL\", 'TPL.x', t.\"TPL\" FROM \"C\" . \"T\" t /* \"TPL\".x */"
        );
    }

    #[test]
    fn lower_case_template_names_are_only_matched_quoted() {
        let sql = "INSERT INTO \"shop_pcabc_tpl\".\"AUDIT_LOG\" SELECT * FROM shop_pcabc_tpl.other";
        // Unquoted, the second name means SHOP_PCABC_TPL: another user.
        assert_eq!(
            remap_schema(sql, "shop_pcabc_tpl", "shop_pcabc_w1"),
            "INSERT INTO \"shop_pcabc_w1\".\"AUDIT_LOG\" SELECT * FROM shop_pcabc_tpl.other"
        );
    }

    #[test]
    fn upper_case_template_names_are_matched_unquoted_in_any_case() {
        let sql = "BEGIN INSERT INTO app_tpl.audit_log VALUES (1); x := APP_TPL.pkg.f(\"APP_TPL\".g); END;";
        assert_eq!(
            remap_schema(sql, "APP_TPL", "app w1"),
            "BEGIN INSERT INTO \"app w1\".audit_log VALUES (1); x := \"app w1\".pkg.f(\"app w1\".g); END;"
        );
    }

    #[test]
    fn names_with_quotes_and_unicode_are_remapped() {
        let from = "o'neil shop café_pcabc_tpl";
        let sql = format!(
            "CREATE INDEX {}.\"I\" ON {}.\"T\" (\"X\")",
            ident(from),
            ident(from)
        );
        assert_eq!(
            remap_schema(&sql, from, "o'neil shop café_pcabc_w1"),
            "CREATE INDEX \"o'neil shop café_pcabc_w1\".\"I\" ON \"o'neil shop café_pcabc_w1\".\"T\" (\"X\")"
        );
    }

    #[test]
    fn storage_clauses_of_a_19c_table_are_dropped() {
        let statements = split_script(samples::TABLE_PRODUCTS_19C_DEFAULT);
        assert_eq!(statements.len(), 1);
        let stripped = strip_storage(&statements[0].sql);
        assert_eq!(
            stripped,
            "CREATE TABLE \"TPL\".\"PRODUCTS\" \n   (\t\"ID\" NUMBER(19,0) NOT NULL ENABLE, \n\t\"SKU\" VARCHAR2(40 CHAR) NOT NULL ENABLE, \n\
             \t\"NAME\" VARCHAR2(200 CHAR) NOT NULL ENABLE, \n\t\"PRICE_CENTS\" NUMBER(10,0) NOT NULL ENABLE, \n\
             \t CONSTRAINT \"PRODUCTS_PRICE_CK\" CHECK (price_cents >= 0) ENABLE, \n\
             \t CONSTRAINT \"PRODUCTS_PK\" PRIMARY KEY (\"ID\")\n  USING INDEX\n  ENABLE\n   ) \n NOCOMPRESS"
        );
        for gone in [
            "SEGMENT",
            "PCTFREE",
            "STORAGE",
            "TABLESPACE",
            "USERS",
            "LOGGING",
            "COMPUTE",
            "INITRANS",
        ] {
            assert!(!stripped.contains(gone), "{gone} left in {stripped}");
        }
    }

    #[test]
    fn check_conditions_and_virtual_columns_keep_words_that_look_like_storage() {
        let sql = "CREATE TABLE \"T\".\"A\" (\"LOGGING\" NUMBER, \"V\" NUMBER GENERATED ALWAYS AS (logging + pctfree) VIRTUAL, \
                   CONSTRAINT \"C\" CHECK (logging IN (0, 1) AND tablespace IS NOT NULL) ENABLE) LOGGING TABLESPACE \"USERS\"";
        assert_eq!(
            strip_storage(sql),
            "CREATE TABLE \"T\".\"A\" (\"LOGGING\" NUMBER, \"V\" NUMBER GENERATED ALWAYS AS (logging + pctfree) VIRTUAL, \
             CONSTRAINT \"C\" CHECK (logging IN (0, 1) AND tablespace IS NOT NULL) ENABLE)"
        );
    }

    #[test]
    fn lob_and_index_storage_is_dropped_but_lob_options_stay() {
        let statements = split_script(samples::TABLE_DOCUMENTS_LOB_19C);
        let stripped = strip_storage(&statements[0].sql);
        assert!(
            stripped.contains("LOB (\"BODY\") STORE AS SECUREFILE (\n  ENABLE STORAGE IN ROW CHUNK 8192\n  NOCACHE NOCOMPRESS  KEEP_DUPLICATES)"),
            "{stripped}"
        );
        assert!(
            !stripped.contains("TABLESPACE") && !stripped.contains("STORAGE("),
            "{stripped}"
        );
        let index = strip_storage(&split_script(samples::INDEX_EMAIL_19C_DEFAULT)[0].sql);
        assert_eq!(
            index,
            "CREATE UNIQUE INDEX \"TPL\".\"CUSTOMERS_EMAIL_UQ\" ON \"TPL\".\"CUSTOMERS\" (\"EMAIL\")"
        );
    }

    #[test]
    fn output_without_storage_clauses_is_left_as_it_is() {
        for sample in [
            samples::TABLE_ORDERS_19C,
            samples::INDEX_ORDERS_CUSTOMER_19C,
        ] {
            for statement in split_script(sample) {
                assert_eq!(strip_storage(&statement.sql), statement.sql);
            }
        }
    }

    #[test]
    fn sequences_restart_where_the_template_left_off() {
        let ddl = &split_script(samples::SEQUENCE_INVOICE_NUMBERS_19C)[0].sql;
        assert_eq!(
            restart_sequence(ddl, "1020").unwrap(),
            "CREATE SEQUENCE  \"TPL\".\"INVOICE_NUMBERS\"  MINVALUE 1 MAXVALUE 9999999999999999999999999999 INCREMENT BY 10 \
             START WITH 1020 NOCACHE  NOORDER  NOCYCLE  NOKEEP  NOSCALE  GLOBAL"
        );
        assert_eq!(
            restart_sequence(
                "CREATE SEQUENCE \"T\".\"DOWN\" INCREMENT BY -1 START WITH -5",
                "-12"
            )
            .unwrap(),
            "CREATE SEQUENCE \"T\".\"DOWN\" INCREMENT BY -1 START WITH -12"
        );
        assert_eq!(
            restart_sequence("CREATE SEQUENCE \"T\".\"S\" INCREMENT BY 2", "41").unwrap(),
            "CREATE SEQUENCE \"T\".\"S\" START WITH 41 INCREMENT BY 2"
        );
        assert_eq!(
            restart_sequence("CREATE SEQUENCE s", "3").unwrap(),
            "CREATE SEQUENCE s START WITH 3"
        );
        assert_eq!(
            restart_sequence("CREATE SEQUENCE s", "3; DROP"),
            Err(DdlError::BadValue("3; DROP".to_owned()))
        );
        assert!(matches!(
            restart_sequence("CREATE TABLE t (x NUMBER)", "3"),
            Err(DdlError::NotASequence(_))
        ));
    }
}
