//! Oracle names: the identifier limit per server version, how a database
//! name becomes a user name, a login and a quoted identifier, and the
//! passwords of the users the cloner creates.
//!
//! A paraclone "database" on Oracle is a user (= schema) whose name is the
//! database name exactly, case and all: paraclone's names are lower-case
//! (`shop_pc4k2x9q0mzb_w3`), and Oracle folds unquoted identifiers to upper
//! case, so every name is always written quoted ([`ident`]) and a client
//! logs in with the quoted form ([`login_user`]), which Oracle reads
//! case-sensitively.

use cloner::quote::{Dialect, quote_ident, quote_literal};
use sha2::{Digest, Sha256};

/// The identifier limit of Oracle before 12.2, and of 12.2+ servers whose
/// `COMPATIBLE` parameter is still below 12.2.
pub(crate) const SHORT_IDENTIFIERS: usize = 30;
/// The identifier limit of Oracle 12.2 and later.
pub(crate) const LONG_IDENTIFIERS: usize = 128;

/// The longest identifier (user name) the server accepts, in bytes:
/// 128 from 12.2 on, when `COMPATIBLE` (if it could be read) is 12.2 or
/// more; 30 otherwise.
pub(crate) fn identifier_limit(major: u32, minor: u32, compatible: Option<&str>) -> usize {
    let long = |major: u32, minor: u32| major > 12 || (major == 12 && minor >= 2);
    if !long(major, minor) {
        return SHORT_IDENTIFIERS;
    }
    match compatible.and_then(parse_major_minor) {
        Some((c_major, c_minor)) if !long(c_major, c_minor) => SHORT_IDENTIFIERS,
        _ => LONG_IDENTIFIERS,
    }
}

/// The limit the cloner reports as [`cloner::Cloner::max_name_len`] for a
/// server whose identifier limit is `limit`: the limit itself, but at least
/// 32, the smallest that [`cloner::naming::database_name`] works with.
///
/// On a 30-byte server this reports 2 bytes more than the server takes;
/// the cloner still checks names against the real limit. The names a run
/// makes fit anyway: naming keeps 9 bytes for the role (`w9999r999`), and
/// the roles of a run (`tpl`, `w16`, `w3r2`) take at most 7 until a run
/// has a thousand workers.
pub(crate) fn naming_limit(limit: usize) -> usize {
    limit.max(32)
}

/// `19.0.0` → `(19, 0)`.
fn parse_major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// `name` as a quoted identifier: `"shop_pc…_w1"`.
pub(crate) fn ident(name: &str) -> String {
    quote_ident(Dialect::Oracle, name)
}

/// `name` as a string literal: `'shop_pc…_w1'`, for dictionary look-ups.
pub(crate) fn literal(text: &str) -> String {
    quote_literal(Dialect::Oracle, text)
}

/// `"schema"."object"`.
pub(crate) fn qualified(schema: &str, object: &str) -> String {
    format!("{}.{}", ident(schema), ident(object))
}

/// The user name a client logs in with to reach database `name`: always
/// the quoted form, which Oracle reads case-sensitively (an unquoted
/// `shop_pc…_w1` would be read as `SHOP_PC…_W1`, another user).
pub(crate) fn login_user(name: &str) -> String {
    ident(name)
}

/// Whether Oracle accepts `name` as a user name at all: not empty, and
/// without the characters a quoted identifier cannot hold.
pub(crate) fn invalid_character(name: &str) -> Option<char> {
    name.chars().find(|c| matches!(c, '"' | '\0'))
}

/// The password of the user for database `name`, derived from the
/// cloner's random `secret`: the same for the same name for the life of
/// one cloner (so [`cloner::Cloner::connection`] can describe a database
/// before and after it is made), unguessable without the secret, and
/// acceptable to Oracle's password rules (letters and digits, starting
/// with a letter, upper and lower case and a digit, 26 characters, no
/// character that needs quoting in a URL).
pub(crate) fn password(secret: &[u8; 32], name: &str) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = Sha256::new();
    hasher.update(secret);
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let body: String = digest
        .iter()
        .take(23)
        .map(|b| ALNUM[(*b as usize) % ALNUM.len()] as char)
        .collect();
    // The fixed letters and digit satisfy the complexity rules of
    // ORA12C_VERIFY_FUNCTION whatever the random part holds.
    format!("Pc{body}7")
}

/// The name of the database link (and Data Pump job) the Data Pump route
/// uses to copy `template` into `clone`: unique per clone, plain upper-case
/// letters and digits so it needs no quoting anywhere, and within 30 bytes.
pub(crate) fn link_name(template: &str, clone: &str) -> String {
    let digest = Sha256::digest(format!("{template}\0{clone}").as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02X}")).collect();
    format!("PARACLONE_{hex}")
}

#[cfg(test)]
mod tests {
    use cloner::naming::{Role, RunId, database_name, parse_name, run_prefix};

    use super::*;

    #[test]
    fn the_limit_follows_the_version_and_compatible() {
        assert_eq!(identifier_limit(11, 2, None), 30);
        assert_eq!(identifier_limit(12, 1, Some("12.1.0.2")), 30);
        assert_eq!(identifier_limit(12, 2, None), 128);
        assert_eq!(identifier_limit(12, 2, Some("12.2.0")), 128);
        assert_eq!(identifier_limit(19, 0, Some("19.0.0")), 128);
        assert_eq!(identifier_limit(23, 5, Some("23.4.0")), 128);
        // A 19c server still running with COMPATIBLE = 12.1 refuses long names.
        assert_eq!(identifier_limit(19, 0, Some("12.1.0.2.0")), 30);
        assert_eq!(identifier_limit(19, 0, Some("garbage")), 128);
    }

    #[test]
    fn names_fit_both_limits_and_parse_back() {
        let run = RunId::parse("abc123xyz0").unwrap();
        // Before 12.2 names are made for the naming module's smallest limit
        // (32, see `naming_limit`); the roles a run uses stay within 30.
        for (role, limit) in [
            (Role::Worker(16), 30),
            (Role::Replacement(3, 2), 30),
            (Role::Template, 30),
        ] {
            for base in ["shop", "o'neil shop café", "a_rather_long_application_name"] {
                let name = database_name(base, &run, role, naming_limit(SHORT_IDENTIFIERS));
                assert!(name.len() <= limit, "{name} exceeds {limit}");
            }
        }
        for limit in [
            naming_limit(SHORT_IDENTIFIERS),
            naming_limit(LONG_IDENTIFIERS),
        ] {
            for base in [
                "shop",
                "o'neil shop café",
                "a_rather_long_application_name_for_tests",
            ] {
                for role in [Role::Template, Role::Worker(16), Role::Replacement(3, 2)] {
                    let name = database_name(base, &run, role, limit);
                    assert!(name.len() <= limit, "{name} exceeds {limit}");
                    assert_eq!(parse_name(&name).unwrap().role, role);
                    assert!(name.starts_with(&run_prefix(base, &run, limit)));
                    assert_eq!(invalid_character(&name), None);
                }
            }
        }
        // A short limit forces a cut that keeps names of one run apart.
        let limit = naming_limit(SHORT_IDENTIFIERS);
        let a = database_name(
            "a_rather_long_application_name_one",
            &run,
            Role::Worker(1),
            limit,
        );
        let b = database_name(
            "a_rather_long_application_name_two",
            &run,
            Role::Worker(1),
            limit,
        );
        assert_ne!(a, b);
        assert!(a.len() <= SHORT_IDENTIFIERS, "{a}");
        assert_eq!(
            database_name("shop", &run, Role::Worker(1), limit),
            "shop_pcabc123xyz0_w1"
        );
        assert_eq!(naming_limit(LONG_IDENTIFIERS), 128);
    }

    #[test]
    fn names_are_quoted_case_sensitively() {
        assert_eq!(ident("shop_pcabc_w1"), "\"shop_pcabc_w1\"");
        assert_eq!(ident("o'neil shop café"), "\"o'neil shop café\"");
        assert_eq!(qualified("tpl", "ORDERS"), "\"tpl\".\"ORDERS\"");
        assert_eq!(literal("o'neil"), "'o''neil'");
        assert_eq!(login_user("shop_pcabc_w1"), "\"shop_pcabc_w1\"");
        assert_eq!(invalid_character("a\"b"), Some('"'));
    }

    #[test]
    fn passwords_are_stable_per_name_distinct_and_acceptable() {
        let secret = [7u8; 32];
        let a = password(&secret, "shop_pcabc123xyz0_w1");
        assert_eq!(a, password(&secret, "shop_pcabc123xyz0_w1"));
        assert_ne!(a, password(&secret, "shop_pcabc123xyz0_w2"));
        assert_ne!(a, password(&[8u8; 32], "shop_pcabc123xyz0_w1"));
        assert_eq!(a.len(), 26);
        assert!(a.starts_with(|c: char| c.is_ascii_uppercase()));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert_eq!(
            cloner::url::percent_encode(&a),
            a,
            "a password never needs encoding"
        );
    }

    #[test]
    fn link_names_are_plain_unique_and_short() {
        let a = link_name("shop_pcabc_tpl", "shop_pcabc_w1");
        let b = link_name("shop_pcabc_tpl", "shop_pcabc_w2");
        assert_ne!(a, b);
        assert!(a.len() <= SHORT_IDENTIFIERS, "{a}");
        assert!(a.starts_with("PARACLONE_"));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        );
    }
}
