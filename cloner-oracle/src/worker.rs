//! The worker side: what a test process does with the `DATABASE_URL` the
//! runner gives it.
//!
//! The URL is `oracle://"user":password@host:port/service` (user and
//! password percent-encoded, the user in double quotes because paraclone's
//! user names are lower case and Oracle logins are case-sensitive only when
//! quoted). [`parse_url`] turns it into the three things every Oracle
//! client takes: `oracle::Connection::connect(&p.user, &p.password,
//! &p.connect_string)`, `oracledb.connect(user=…, password=…, dsn=…)`,
//! `sqlplus user/password@connect_string`.

use crate::server::UrlParts;

/// What an Oracle client logs in with.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectParams {
    /// The login user, quoted when it is case-sensitive (`"shop_pc…_w1"`).
    pub user: String,
    /// The password (empty if the URL has none).
    pub password: String,
    /// The Easy Connect string: `//host:port/service`.
    pub connect_string: String,
}

impl std::fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectParams")
            .field("user", &self.user)
            .field("password", &"***")
            .field("connect_string", &self.connect_string)
            .finish()
    }
}

/// A URL that is not an `oracle://user:password@host:port/service` URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an Oracle URL ({0}); expected oracle://user:password@host:port/service")]
pub struct BadUrl(String);

/// Reads a `DATABASE_URL` made by the Oracle cloner (or any
/// `oracle://user:password@host:port/service` URL). The error never
/// repeats the URL, which holds the password.
pub fn parse_url(url: &str) -> Result<ConnectParams, BadUrl> {
    let parts = UrlParts::parse(url).map_err(BadUrl)?;
    Ok(ConnectParams {
        connect_string: parts.connect_string(),
        user: parts.user,
        password: parts.password.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_url_gives_what_clients_log_in_with() {
        let p =
            parse_url("oracle://%22shop_pcabc123xyz0_w3%22:PcSecret7@db:1521/FREEPDB1").unwrap();
        assert_eq!(p.user, "\"shop_pcabc123xyz0_w3\"");
        assert_eq!(p.password, "PcSecret7");
        assert_eq!(p.connect_string, "//db:1521/FREEPDB1");
        assert!(!format!("{p:?}").contains("PcSecret7"));
        let err = parse_url("postgres://u:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not an Oracle URL") && !err.contains("hunter2"),
            "{err}"
        );
    }
}
