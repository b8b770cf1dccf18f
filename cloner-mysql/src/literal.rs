//! Rendering rows as SQL literals, for the dump file and for copying rows
//! through the client.
//!
//! Rows are read with the text protocol on a session with
//! `character_set_results = utf8mb4` and `time_zone = '+00:00'`, so every
//! value arrives as the server prints it: numbers as digits, dates and
//! times as text (`TIMESTAMP`s in UTC), character strings in UTF-8 and
//! binary strings as their bytes. They are written back the way
//! `mysqldump --hex-blob` writes them: numbers bare, `BIT` as `b'…'`,
//! binary strings as `0x…`, everything else as a quoted string with
//! `mysql_real_escape_string`'s escapes (valid while `NO_BACKSLASH_ESCAPES`
//! is off, which the session and the dump's header make sure of).

use mysql_async::consts::ColumnType;
use mysql_async::{Column, Value};

/// The character set number of `binary` in result metadata.
const BINARY_CHARSET: u16 = 63;

/// Appends `value` of `column` to `out` as a SQL literal.
pub(crate) fn push_value(out: &mut Vec<u8>, column: &Column, value: &Value) {
    match value {
        Value::NULL => out.extend_from_slice(b"NULL"),
        Value::Bytes(bytes) => push_bytes(out, column, bytes),
        // Only the binary protocol yields these; rendered by the client.
        other => out.extend_from_slice(other.as_sql(false).as_bytes()),
    }
}

fn push_bytes(out: &mut Vec<u8>, column: &Column, bytes: &[u8]) {
    use ColumnType::*;
    match column.column_type() {
        MYSQL_TYPE_TINY
        | MYSQL_TYPE_SHORT
        | MYSQL_TYPE_LONG
        | MYSQL_TYPE_LONGLONG
        | MYSQL_TYPE_INT24
        | MYSQL_TYPE_FLOAT
        | MYSQL_TYPE_DOUBLE
        | MYSQL_TYPE_DECIMAL
        | MYSQL_TYPE_NEWDECIMAL
        | MYSQL_TYPE_YEAR
            if !bytes.is_empty() && bytes.iter().all(|b| b"0123456789+-.eE".contains(b)) =>
        {
            out.extend_from_slice(bytes)
        }
        MYSQL_TYPE_BIT => push_bits(out, bytes),
        // JSON reports the binary character set but is text; dates and
        // times report it too.
        MYSQL_TYPE_JSON
        | MYSQL_TYPE_DATE
        | MYSQL_TYPE_NEWDATE
        | MYSQL_TYPE_TIME
        | MYSQL_TYPE_TIME2
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => push_quoted(out, bytes),
        MYSQL_TYPE_GEOMETRY => push_hex(out, bytes),
        _ if column.character_set() == BINARY_CHARSET => push_hex(out, bytes),
        _ => push_quoted(out, bytes),
    }
}

/// `'text'` with `mysql_real_escape_string`'s escapes.
pub(crate) fn push_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'\'');
    for &b in bytes {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x1a => out.extend_from_slice(b"\\Z"),
            _ => out.push(b),
        }
    }
    out.push(b'\'');
}

/// `0x…`, or `''` for an empty string (`0x` alone is not a literal).
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        out.extend_from_slice(b"''");
        return;
    }
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(bytes.len() * 2 + 2);
    out.extend_from_slice(b"0x");
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

/// `b'0101'`: a `BIT(n)` value arrives as big-endian bytes.
fn push_bits(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(b"b'");
    let mut bits: Vec<u8> = bytes
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |i| b'0' + ((byte >> i) & 1)))
        .collect();
    let first_one = bits
        .iter()
        .position(|&b| b == b'1')
        .unwrap_or(bits.len() - 1);
    bits.drain(..first_one.min(bits.len().saturating_sub(1)));
    if bits.is_empty() {
        bits.push(b'0');
    }
    out.extend_from_slice(&bits);
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(kind: ColumnType, charset: u16) -> Column {
        Column::new(kind).with_character_set(charset)
    }

    fn render(kind: ColumnType, charset: u16, value: Value) -> String {
        let mut out = Vec::new();
        push_value(&mut out, &column(kind, charset), &value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_render_as_mysqldump_writes_them() {
        use ColumnType::*;
        let b = |s: &[u8]| Value::Bytes(s.to_vec());
        assert_eq!(render(MYSQL_TYPE_LONGLONG, 63, b(b"-42")), "-42");
        assert_eq!(render(MYSQL_TYPE_NEWDECIMAL, 63, b(b"1.50")), "1.50");
        assert_eq!(render(MYSQL_TYPE_DOUBLE, 63, b(b"1e-7")), "1e-7");
        assert_eq!(render(MYSQL_TYPE_LONG, 63, Value::NULL), "NULL");
        assert_eq!(
            render(
                MYSQL_TYPE_VAR_STRING,
                45,
                b("it's \"x\"\\\n\r\0\x1a é".as_bytes())
            ),
            "'it\\'s \\\"x\\\"\\\\\\n\\r\\0\\Z é'"
        );
        assert_eq!(render(MYSQL_TYPE_BLOB, 63, b(b"\x00\xff")), "0x00FF");
        assert_eq!(render(MYSQL_TYPE_STRING, 63, b(b"")), "''");
        assert_eq!(
            render(MYSQL_TYPE_TIMESTAMP, 63, b(b"2021-03-04 05:06:07")),
            "'2021-03-04 05:06:07'"
        );
        assert_eq!(
            render(MYSQL_TYPE_JSON, 63, b(br#"{"a": 1}"#)),
            r#"'{\"a\": 1}'"#
        );
        assert_eq!(render(MYSQL_TYPE_BIT, 63, b(&[0b101])), "b'101'");
        assert_eq!(render(MYSQL_TYPE_BIT, 63, b(&[0, 0])), "b'0'");
        assert_eq!(render(MYSQL_TYPE_BIT, 63, b(&[1, 0])), "b'100000000'");
    }
}
