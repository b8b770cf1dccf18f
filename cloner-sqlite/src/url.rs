//! SQLite database URLs: `sqlite:///abs/path.sqlite3`, the form sqlx and diesel accept.
//!
//! Both clients percent-decode the path (diesel by handing SQLite a
//! `file:` URI) and stop it at `?` and `#`, so those two and `%` are
//! percent-encoded; everything else, spaces, quotes and non-ASCII letters
//! included, is written as it is.

use std::path::{Path, PathBuf};

/// The URL of the database file at `path` (absolute).
pub(crate) fn url_from_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len() + 9);
    out.push_str("sqlite://");
    for c in text.chars() {
        if matches!(c, '%' | '?' | '#') || c.is_ascii_control() {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The file a URL names: `sqlite://PATH` and `sqlite:PATH` (percent-decoded,
/// any `?query` or `#fragment` ignored) or a plain path (taken as it is).
/// The error says what is wrong.
pub(crate) fn path_from_url(url: &str) -> Result<PathBuf, &'static str> {
    let encoded = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.contains("://") {
        return Err("it is a URL of another scheme");
    } else if url.is_empty() {
        return Err("it is empty");
    } else {
        return Ok(PathBuf::from(url));
    };
    let encoded = encoded.split(['?', '#']).next().unwrap_or_default();
    if encoded.is_empty() {
        return Err("it names no file");
    }
    if encoded == ":memory:" {
        return Err("it names an in-memory database, not a file");
    }
    cloner::url::percent_decode(encoded)
        .map(PathBuf::from)
        .ok_or("its percent-escapes are malformed or do not decode to UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_get_three_slashes() {
        assert_eq!(
            url_from_path(Path::new("/tmp/x/y.sqlite3")),
            "sqlite:///tmp/x/y.sqlite3"
        );
    }

    #[test]
    fn odd_names_are_written_as_they_are_except_percent_query_and_fragment() {
        let path = Path::new("/tmp/o'neil \"shop\" café_pcabc_tpl.sqlite3");
        assert_eq!(
            url_from_path(path),
            "sqlite:///tmp/o'neil \"shop\" café_pcabc_tpl.sqlite3"
        );
        assert_eq!(
            url_from_path(Path::new("/a/100%?#b\n")),
            "sqlite:///a/100%25%3F%23b%0A"
        );
    }

    #[test]
    fn urls_parse_back_to_their_path() {
        for path in [
            "/tmp/x.sqlite3",
            "/tmp/o'neil \"shop\" café.sqlite3",
            "/a/100%?#b",
            "/é/ü",
        ] {
            assert_eq!(
                path_from_url(&url_from_path(Path::new(path))),
                Ok(PathBuf::from(path)),
                "{path}"
            );
        }
    }

    #[test]
    fn every_accepted_form_names_the_file() {
        assert_eq!(path_from_url("sqlite:///tmp/a.db"), Ok("/tmp/a.db".into()));
        assert_eq!(path_from_url("sqlite:/tmp/a.db"), Ok("/tmp/a.db".into()));
        assert_eq!(
            path_from_url("sqlite:rel/a.db?mode=rwc"),
            Ok("rel/a.db".into())
        );
        assert_eq!(path_from_url("sqlite://a%20b.db#x"), Ok("a b.db".into()));
        assert_eq!(path_from_url("/tmp/100%.db"), Ok("/tmp/100%.db".into()));
    }

    #[test]
    fn other_urls_are_refused_with_a_reason() {
        assert_eq!(
            path_from_url("postgres://u:p@h/db"),
            Err("it is a URL of another scheme")
        );
        assert_eq!(path_from_url(""), Err("it is empty"));
        assert_eq!(path_from_url("sqlite://"), Err("it names no file"));
        assert_eq!(
            path_from_url("sqlite::memory:"),
            Err("it names an in-memory database, not a file")
        );
        assert_eq!(
            path_from_url("sqlite:///a%2"),
            Err("its percent-escapes are malformed or do not decode to UTF-8")
        );
        assert_eq!(
            path_from_url("sqlite:///a%zz"),
            Err("its percent-escapes are malformed or do not decode to UTF-8")
        );
        assert_eq!(
            path_from_url("sqlite:///a%ff"),
            Err("its percent-escapes are malformed or do not decode to UTF-8")
        );
    }
}
