//! Database names: unique per run, recognisable for sweeping, within limits.
//!
//! Every database a run creates is named `<base>_pc<run>_<role>`:
//!
//! - `<base>` is the alias's base name from the config (`shop`, `test_app`);
//! - `pc<run>` is `pc` and the run's id, 10 characters of `[0-9a-z]`, fresh
//!   for every run, so two runs (even of the same project on the same server)
//!   can never produce the same name;
//! - `<role>` is `tpl` for the template, `w<N>` for worker N's clone and
//!   `w<N>r<K>` for the K-th replacement clone of worker N.
//!
//! A template kept for reuse between runs (`--reuse`) belongs to no run: it
//! is named `<base>_pct<fingerprint>` ([`kept_template_name`]), 12 hex
//! digits of its fingerprint. Such a name never parses as a run's
//! ([`parse_name`] is `None` for it: its last part is no role), so a sweep
//! of dead runs' names never takes it for one of theirs.
//!
//! When the whole name would exceed a backend's limit, the base is cut (at a
//! character boundary) and a 6-character hash of the full base appended, so
//! long bases that share a prefix still get different names. Names are
//! parsed from the right, so a base may contain underscores, quotes, spaces
//! or any other character.

use std::fmt;

use sha2::{Digest, Sha256};

const RUN_ID_LEN: usize = 10;
const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// The identity of one run, part of every database name it creates.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    /// A fresh random run id.
    ///
    /// Made from the clock, the process id and a per-process counter, hashed:
    /// unique across the runs of one machine and, with 51 bits of hash,
    /// across machines sharing a server.
    pub fn generate() -> RunId {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(now.as_nanos().to_le_bytes());
        hasher.update(std::process::id().to_le_bytes());
        hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        hasher.update((&hasher as *const Sha256 as usize).to_le_bytes());
        let digest = hasher.finalize();
        let mut value = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
        let id = (0..RUN_ID_LEN)
            .map(|_| {
                let c = ALPHABET[(value % 36) as usize] as char;
                value /= 36;
                c
            })
            .collect();
        RunId(id)
    }

    /// Parses a run id as printed by [`RunId::as_str`].
    pub fn parse(s: &str) -> Option<RunId> {
        (s.len() == RUN_ID_LEN && s.bytes().all(|b| ALPHABET.contains(&b)))
            .then(|| RunId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunId({})", self.0)
    }
}

/// What a database is for, within one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The template every clone is copied from.
    Template,
    /// The clone of worker `N` (1-based).
    Worker(u32),
    /// The `K`-th replacement clone of worker `N`, made after a test crashed.
    Replacement(u32, u32),
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Template => f.write_str("tpl"),
            Role::Worker(n) => write!(f, "w{n}"),
            Role::Replacement(n, k) => write!(f, "w{n}r{k}"),
        }
    }
}

impl Role {
    fn parse(s: &str) -> Option<Role> {
        if s == "tpl" {
            return Some(Role::Template);
        }
        let rest = s.strip_prefix('w')?;
        let number = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0'))
                .then(|| s.parse().ok())?
        };
        match rest.split_once('r') {
            None => number(rest).map(Role::Worker),
            Some((n, k)) => Some(Role::Replacement(number(n)?, number(k)?)),
        }
    }
}

/// The name of the database with `role` in run `run` for an alias whose base
/// name is `base`, at most `max_len` bytes long.
///
/// # Panics
///
/// If `max_len` is too small to hold even the run id and role (under 30
/// bytes); every DBMS we support allows more.
pub fn database_name(base: &str, run: &RunId, role: Role, max_len: usize) -> String {
    assert!(
        max_len >= 30,
        "a database name limit of {max_len} bytes is too small"
    );
    let suffix = format!("_pc{run}_{role}");
    // Whether and where to cut must not depend on the role, or the names of
    // one run would not share the prefix `run_prefix` lists them by.
    let reserved = suffix.len() - role.to_string().len() + role.to_string().len().max(ROLE_ROOM);
    with_suffix(base, &suffix, reserved, max_len)
}

/// `base` then `suffix`, if `base` and `reserved` bytes fit in `max_len`;
/// else the base cut (at a character boundary) to make room for a short
/// hash of the whole base: `<cut base>_<hash><suffix>`.
fn with_suffix(base: &str, suffix: &str, reserved: usize, max_len: usize) -> String {
    if base.len() + reserved <= max_len {
        return format!("{base}{suffix}");
    }
    let hash = short_hash(base);
    let room = max_len.saturating_sub(reserved + hash.len() + 1);
    let mut cut = room.min(base.len());
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}{suffix}", &base[..cut])
}

/// Room kept for the role when deciding whether and where to cut a base:
/// every role up to this long (`w9999r999`) gets the same cut, so the names
/// of one run share one prefix.
const ROLE_ROOM: usize = 9;

/// The prefix every database of run `run` for `base` starts with, for
/// listing them. Exact for every role up to `w9999r999`, also when the base
/// is cut; callers still check candidates with [`parse_name`].
pub fn run_prefix(base: &str, run: &RunId, max_len: usize) -> String {
    let name = database_name(base, run, Role::Template, max_len);
    name.strip_suffix("tpl")
        .expect("template names end in tpl")
        .to_owned()
}

/// A database name taken apart by [`parse_name`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedName {
    /// The base, as it appears in the name (cut and hashed if it was long).
    pub base: String,
    /// The run that created the database.
    pub run: RunId,
    /// What the database was for.
    pub role: Role,
}

/// Recognises a name made by [`database_name`]; `None` for any other name.
pub fn parse_name(name: &str) -> Option<ParsedName> {
    let (rest, role) = name.rsplit_once('_')?;
    let role = Role::parse(role)?;
    let (base, run) = rest.rsplit_once("_pc")?;
    let run = RunId::parse(run)?;
    Some(ParsedName {
        base: base.to_owned(),
        run,
        role,
    })
}

/// How many hex digits of a fingerprint a kept template's name carries.
pub const FINGERPRINT_PREFIX_LEN: usize = 12;

/// The name of the template kept for reuse for an alias whose base name is
/// `base` and whose fingerprint (hex) is `fingerprint`, at most `max_len`
/// bytes long: `<base>_pct<first 12 hex digits>`, the base cut and hashed
/// as [`database_name`] does when it is too long.
///
/// # Panics
///
/// If `fingerprint` has fewer than 12 characters, or `max_len` is under 30.
pub fn kept_template_name(base: &str, fingerprint: &str, max_len: usize) -> String {
    assert!(
        max_len >= 30,
        "a database name limit of {max_len} bytes is too small"
    );
    let suffix = format!("_pct{}", &fingerprint[..FINGERPRINT_PREFIX_LEN]);
    with_suffix(base, &suffix, suffix.len(), max_len)
}

/// Recognises a name made by [`kept_template_name`]: the base (as it
/// appears in the name) and the fingerprint prefix; `None` for any other
/// name, a run's included.
pub fn parse_kept_template(name: &str) -> Option<(&str, &str)> {
    let (base, prefix) = name.rsplit_once("_pct")?;
    (prefix.len() == FINGERPRINT_PREFIX_LEN
        && prefix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some((base, prefix))
}

/// Whether `name` is a template: a run's (`…_tpl`) or one kept for reuse.
pub fn is_template(name: &str) -> bool {
    parse_name(name).is_some_and(|p| p.role == Role::Template)
        || parse_kept_template(name).is_some()
}

fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunId {
        RunId::parse("abc123xyz0").unwrap()
    }

    #[test]
    fn names_have_base_run_and_role() {
        assert_eq!(
            database_name("shop", &run(), Role::Template, 63),
            "shop_pcabc123xyz0_tpl"
        );
        assert_eq!(
            database_name("shop", &run(), Role::Worker(7), 63),
            "shop_pcabc123xyz0_w7"
        );
        assert_eq!(
            database_name("shop", &run(), Role::Replacement(2, 3), 63),
            "shop_pcabc123xyz0_w2r3"
        );
    }

    #[test]
    fn names_parse_back() {
        for role in [
            Role::Template,
            Role::Worker(1),
            Role::Worker(12),
            Role::Replacement(3, 1),
        ] {
            for base in ["shop", "my_app_pc_x", "it's a \"base\" é", ""] {
                let name = database_name(base, &run(), role, 63);
                let parsed = parse_name(&name).unwrap_or_else(|| panic!("{name} did not parse"));
                assert_eq!(
                    parsed,
                    ParsedName {
                        base: base.to_owned(),
                        run: run(),
                        role
                    }
                );
            }
        }
    }

    #[test]
    fn foreign_names_are_not_recognised() {
        for name in [
            "shop",
            "shop_test",
            "shop_pcabc_w1",
            "shop_pcabc123xyz0_w0",
            "shop_pcabc123xyz0_x1",
            "shop_pcABC123XYZ0_w1",
            "postgres",
            "shop_pcabc123xyz0_w01",
        ] {
            assert_eq!(parse_name(name), None, "{name}");
        }
    }

    #[test]
    fn long_bases_are_cut_and_hashed_within_the_limit() {
        let long_a = "a".repeat(70) + "_one";
        let long_b = "a".repeat(70) + "_two";
        let a = database_name(&long_a, &run(), Role::Worker(100), 63);
        let b = database_name(&long_b, &run(), Role::Worker(100), 63);
        assert!(a.len() <= 63 && b.len() <= 63, "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(parse_name(&a).unwrap().role, Role::Worker(100));
        assert!(a.starts_with(&run_prefix(&long_a, &run(), 63)));
    }

    #[test]
    fn cutting_respects_character_boundaries() {
        let base = "é".repeat(40);
        for max in 30..70 {
            let name = database_name(&base, &run(), Role::Worker(3), max);
            assert!(name.len() <= max, "{name} exceeds {max}");
            assert_eq!(parse_name(&name).unwrap().run, run());
        }
    }

    #[test]
    fn kept_templates_are_never_taken_for_a_runs_databases() {
        let fp = "3f9a0123456789abcdef";
        let name = kept_template_name("shop", fp, 63);
        assert_eq!(name, "shop_pct3f9a01234567");
        assert_eq!(parse_name(&name), None);
        assert_eq!(parse_kept_template(&name), Some(("shop", "3f9a01234567")));
        assert!(is_template(&name));
        for role in [Role::Template, Role::Worker(1), Role::Replacement(2, 1)] {
            let run_name = database_name("shop_pct3f9a01234567", &run(), role, 63);
            assert_eq!(parse_kept_template(&run_name), None, "{run_name}");
        }
        let long = kept_template_name(&"b".repeat(80), fp, 63);
        assert!(long.len() <= 63, "{long}");
        assert!(parse_kept_template(&long).is_some());
        assert!(!is_template("shop_pcabc123xyz0_w1"));
    }

    #[test]
    fn generated_run_ids_parse_and_differ() {
        let a = RunId::generate();
        let b = RunId::generate();
        assert_ne!(a, b);
        assert_eq!(RunId::parse(a.as_str()), Some(a));
    }
}
