//! Keeping passwords out of everything paraclone prints.
//!
//! [`redact_url`] hides the password of a URL; [`Redactor`] hides known
//! secrets in any text (a server's error message may echo a connection
//! string, a test may print its `DATABASE_URL`).

/// What a hidden password is replaced with.
pub const MASK: &str = "***";

/// `scheme://user:secret@host/db` becomes `scheme://user:***@host/db`; a
/// `password=` query parameter is hidden too. Text that is not a URL comes
/// back unchanged.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let rest = &out[auth_start..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let userinfo = rest[..authority_end]
            .rfind('@')
            .map(|at| (at, rest[..at].find(':')));
        if let Some((at, Some(colon))) = userinfo {
            out.replace_range(auth_start + colon + 1..auth_start + at, MASK);
        }
    }
    for key in ["password=", "pass=", "pwd="] {
        let mut search = 0;
        while let Some(found) = out[search..].to_ascii_lowercase().find(key) {
            let start = search + found + key.len();
            let preceded_ok = start - key.len() == 0
                || matches!(
                    out.as_bytes()[start - key.len() - 1],
                    b'?' | b'&' | b';' | b' '
                );
            let end = out[start..]
                .find(['&', ';', ' ', '#'])
                .map_or(out.len(), |e| start + e);
            if preceded_ok && end > start {
                out.replace_range(start..end, MASK);
                search = start + MASK.len();
            } else {
                search = start;
            }
        }
    }
    out
}

/// Hides a fixed set of secrets wherever they occur in a text.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor that hides nothing yet.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret to hide. Empty secrets are ignored (they would match
    /// everywhere).
    pub fn add(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if !secret.is_empty() && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            // Longest first, so a secret that contains another is hidden whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every secret replaced by [`MASK`] and every URL password
    /// hidden.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        redact_url(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1:3306/x"),
            "mysql://root@127.0.0.1:3306/x"
        );
        assert_eq!(
            redact_url("postgres://db/x?user=a&password=hunter2&ssl=1"),
            "postgres://db/x?user=a&password=***&ssl=1"
        );
        assert_eq!(
            redact_url("sqlite:///tmp/a:b@c.db"),
            "sqlite:///tmp/a:b@c.db"
        );
        assert_eq!(
            redact_url("host=db password=hunter2 user=x"),
            "host=db password=*** user=x"
        );
        assert_eq!(redact_url("no url here"), "no url here");
    }

    #[test]
    fn redactor_hides_known_secrets_in_any_text() {
        let mut r = Redactor::new();
        r.add("hunter2");
        r.add("");
        assert_eq!(
            r.redact("login failed for hunter2, see postgres://u:pw@h/d"),
            "login failed for ***, see postgres://u:***@h/d"
        );
    }
}
