//! A small Oracle SQL and PL/SQL tokenizer: just enough to know what is a
//! string, a quoted identifier, a comment, a word or a punctuation mark.
//!
//! Script splitting and DDL rewriting both work on tokens rather than on
//! characters, so that a `;`, a `/`, a schema name or a storage keyword
//! inside a string literal (`'a;b'`, `q'[it's /]'`), a quoted identifier or
//! a comment is never taken for SQL. Every byte of the input belongs to
//! exactly one token, so the input is the concatenation of the tokens'
//! texts and rewriting can keep everything it does not touch byte for byte.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Spaces, tabs, line breaks.
    Space,
    /// `-- …` up to (not including) the end of the line.
    LineComment,
    /// `/* … */`, hints (`/*+ APPEND */`) included; unterminated ones run to
    /// the end of the input.
    BlockComment,
    /// A string literal: `'…'` with `''` inside, `N'…'`, and the
    /// alternative quoting `q'[…]'`, `Q'{…}'`, `nq'!…!'`.
    Str,
    /// `"…"`: a case-sensitive identifier.
    QuotedIdent,
    /// An unquoted identifier or keyword: a letter followed by letters,
    /// digits, `_`, `$` and `#`.
    Word,
    /// A number: digits with an optional fraction and exponent.
    Number,
    /// Any other single character (`;`, `/`, `(`, `.`, `:` …).
    Punct,
}

/// One token: its kind, its text and where that text starts in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    pub(crate) start: usize,
}

impl Token<'_> {
    /// Whether the token is the keyword `word` (unquoted, any case).
    pub(crate) fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// Whether the token is the punctuation character `c`.
    pub(crate) fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.len() == c.len_utf8() && self.text.starts_with(c)
    }

    /// Whether the token carries no meaning for SQL (space or comment).
    pub(crate) fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            Kind::Space | Kind::LineComment | Kind::BlockComment
        )
    }

    /// The end of the token's text in the input.
    pub(crate) fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// The identifier the token names: a quoted identifier without its
    /// quotes (`""` read as `"`), an unquoted one upper-cased as Oracle
    /// stores it; `None` for any other token.
    pub(crate) fn identifier(&self) -> Option<String> {
        match self.kind {
            Kind::QuotedIdent => {
                let inner = self.text.strip_prefix('"')?;
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                Some(inner.replace("\"\"", "\""))
            }
            Kind::Word => Some(self.text.to_uppercase()),
            _ => None,
        }
    }
}

/// Splits `input` into tokens. Never fails: anything unexpected becomes a
/// [`Kind::Punct`] token, anything unterminated runs to the end.
pub(crate) fn tokenize(input: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let (kind, len) = next_token(rest);
        tokens.push(Token {
            kind,
            text: &rest[..len],
            start: pos,
        });
        pos += len;
    }
    tokens
}

fn next_token(rest: &str) -> (Kind, usize) {
    let mut chars = rest.chars();
    let c = chars.next().expect("rest is not empty");
    if c.is_whitespace() {
        let len = rest
            .find(|ch: char| !ch.is_whitespace())
            .unwrap_or(rest.len());
        return (Kind::Space, len);
    }
    if rest.starts_with("--") {
        return (Kind::LineComment, rest.find('\n').unwrap_or(rest.len()));
    }
    if rest.starts_with("/*") {
        let body = rest.strip_prefix("/*").unwrap_or(rest);
        let len = body.find("*/").map_or(rest.len(), |end| end + 4);
        return (Kind::BlockComment, len);
    }
    if c == '\'' {
        return (Kind::Str, plain_string_len(rest, 0));
    }
    if c == '"' {
        return (Kind::QuotedIdent, quoted_ident_len(rest));
    }
    if let Some(len) = prefixed_string_len(rest) {
        return (Kind::Str, len);
    }
    if c.is_alphabetic() {
        let len = rest
            .find(|ch: char| !(ch.is_alphanumeric() || matches!(ch, '_' | '$' | '#')))
            .unwrap_or(rest.len());
        return (Kind::Word, len);
    }
    if c.is_ascii_digit() || (c == '.' && chars.next().is_some_and(|d| d.is_ascii_digit())) {
        return (Kind::Number, number_len(rest));
    }
    (Kind::Punct, c.len_utf8())
}

/// The length of `'…'` starting at byte `quote` of `rest`, `''` being an
/// escaped quote.
fn plain_string_len(rest: &str, quote: usize) -> usize {
    let bytes = rest.as_bytes();
    let mut i = quote + 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    rest.len()
}

fn quoted_ident_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            if bytes.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    rest.len()
}

/// `N'…'`, `q'X…X'`, `nq'X…X'` (any case): the length, or `None` when
/// `rest` does not start with one.
fn prefixed_string_len(rest: &str) -> Option<usize> {
    let lower: String = rest.chars().take(3).collect::<String>().to_lowercase();
    let (prefix, alternative) = if lower.starts_with("nq'") {
        (2, true)
    } else if lower.starts_with("q'") {
        (1, true)
    } else if lower.starts_with("n'") {
        (1, false)
    } else {
        return None;
    };
    if !alternative {
        return Some(plain_string_len(rest, prefix));
    }
    // q'<open>…<close>': the delimiter is any character but space, tab and
    // newline; the four bracket pairs close with their partner.
    let body_start = prefix + 1;
    let open = rest[body_start..].chars().next()?;
    if open.is_whitespace() {
        return None;
    }
    let close = match open {
        '[' => ']',
        '{' => '}',
        '<' => '>',
        '(' => ')',
        other => other,
    };
    let search_from = body_start + open.len_utf8();
    let terminator = format!("{close}'");
    Some(
        rest[search_from..]
            .find(&terminator)
            .map_or(rest.len(), |at| search_from + at + terminator.len()),
    )
}

fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    } else if i == 0 && bytes.first() == Some(&b'.') {
        i = 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < bytes.len() && matches!(bytes[j], b'+' | b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    i
}

/// The index of the first token after `from` that is not trivia.
pub(crate) fn next_significant(tokens: &[Token<'_>], from: usize) -> Option<usize> {
    (from + 1..tokens.len()).find(|&i| !tokens[i].is_trivia())
}

/// The index of the last token before `from` that is not trivia.
pub(crate) fn previous_significant(tokens: &[Token<'_>], from: usize) -> Option<usize> {
    (0..from).rev().find(|&i| !tokens[i].is_trivia())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(Kind, &str)> {
        tokenize(input).iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn every_byte_belongs_to_one_token() {
        let input =
            "SELECT q'[it's; /]' a, \"Odd \"\"x\"\"\" FROM t -- c;\n/* x; */ WHERE n = 1.5e3;";
        let joined: String = tokenize(input).iter().map(|t| t.text).collect();
        assert_eq!(joined, input);
    }

    #[test]
    fn strings_identifiers_and_comments_are_single_tokens() {
        assert_eq!(
            kinds("'a;''b' N'x' q'[a'b]' Q'{/}' nq'!;!' \"A\"\"B\" -- x\n/*+ APPEND */"),
            vec![
                (Kind::Str, "'a;''b'"),
                (Kind::Space, " "),
                (Kind::Str, "N'x'"),
                (Kind::Space, " "),
                (Kind::Str, "q'[a'b]'"),
                (Kind::Space, " "),
                (Kind::Str, "Q'{/}'"),
                (Kind::Space, " "),
                (Kind::Str, "nq'!;!'"),
                (Kind::Space, " "),
                (Kind::QuotedIdent, "\"A\"\"B\""),
                (Kind::Space, " "),
                (Kind::LineComment, "-- x"),
                (Kind::Space, "\n"),
                (Kind::BlockComment, "/*+ APPEND */"),
            ]
        );
    }

    #[test]
    fn words_numbers_and_punctuation() {
        assert_eq!(
            kinds("ISEQ$$_7 :NEW.id>=-1.5E+2"),
            vec![
                (Kind::Word, "ISEQ$$_7"),
                (Kind::Space, " "),
                (Kind::Punct, ":"),
                (Kind::Word, "NEW"),
                (Kind::Punct, "."),
                (Kind::Word, "id"),
                (Kind::Punct, ">"),
                (Kind::Punct, "="),
                (Kind::Punct, "-"),
                (Kind::Number, "1.5E+2"),
            ]
        );
        // A word that merely starts with n or q is a word.
        assert_eq!(
            kinds("name q"),
            vec![(Kind::Word, "name"), (Kind::Space, " "), (Kind::Word, "q")]
        );
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        assert_eq!(kinds("'abc"), vec![(Kind::Str, "'abc")]);
        assert_eq!(kinds("/* abc"), vec![(Kind::BlockComment, "/* abc")]);
        assert_eq!(kinds("\"abc"), vec![(Kind::QuotedIdent, "\"abc")]);
        assert_eq!(kinds("q'[abc"), vec![(Kind::Str, "q'[abc")]);
    }

    #[test]
    fn identifiers_read_as_oracle_stores_them() {
        let tokens = tokenize("\"shop_pc\"\"x\" orders 'lit'");
        assert_eq!(tokens[0].identifier().as_deref(), Some("shop_pc\"x"));
        assert_eq!(tokens[2].identifier().as_deref(), Some("ORDERS"));
        assert_eq!(tokens[4].identifier(), None);
    }
}
