//! The server URL: parsed once, turned into client options, sessions, and
//! the `mysql://` URL a worker gets.

use std::time::Duration;

use cloner::redact::redact_url;
use cloner::url::percent_encode;
use cloner::{ClonerError, Connection};
use mysql_async::{Conn, Opts, OptsBuilder};

use crate::errors::{ACCESS_DENIED, ACCESS_DENIED_NO_PASSWORD, code};

/// How long the cloner waits for a connection: an unreachable server
/// should be reported at once, not after the operating system's
/// minutes-long default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start the server on our machines, for the "unreachable" hint.
const START_HINT: &str = "start MariaDB with `start-stop-daemon --start --oknodo --background \
     --exec /usr/sbin/mariadbd` (or `ci/services.sh mysql`), or point paraclone at a running \
     server with `url` under [backends.mysql] in paraclone.toml or the PARACLONE_MYSQL_URL \
     environment variable";

/// The server a cloner talks to, as read from its URL.
#[derive(Clone)]
pub(crate) struct Server {
    /// The client options, without a default database.
    opts: Opts,
    /// `mysql` or `mariadb`, as the user wrote it.
    scheme: String,
    /// The URL's user information (`user` or `user:password`), exactly as
    /// written (still percent-encoded); `None` when it had none.
    userinfo: Option<String>,
    /// The URL's host and port, exactly as written.
    hostport: String,
    /// The URL's query, if any, passed on to workers.
    query: Option<String>,
    /// The URL with the password hidden.
    label: String,
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("url", &self.label)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Reads `url` (`mysql://user:password@host:port[?params]`).
    pub(crate) fn parse(url: &str) -> Result<Server, ClonerError> {
        let label = redact_url(url);
        let bad = |why: String| ClonerError::Connect {
            server: label.clone(),
            hint: Some(
                "write the server URL as mysql://user:password@host:port \
                 (`url` under [backends.mysql] in paraclone.toml, or PARACLONE_MYSQL_URL)"
                    .to_owned(),
            ),
            source: why.into(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "mysql" | "mariadb"))
            .ok_or_else(|| bad("the server URL does not start with mysql://".to_owned()))?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let query = tail
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or_default().to_owned())
            .filter(|q| !q.is_empty());
        // The client reads the same URL with the scheme it knows and no
        // database: the cloner's sessions choose their database themselves.
        let client_url = match &query {
            Some(q) => format!("mysql://{authority}/?{q}"),
            None => format!("mysql://{authority}"),
        };
        // The client's message names no password; the URL is not echoed.
        let opts = Opts::from_url(&client_url)
            .map_err(|e| bad(format!("the server URL is not valid: {e}")))?;
        let opts: Opts = OptsBuilder::from_opts(opts).db_name(None::<String>).into();
        if hostport.is_empty() {
            return Err(bad("the server URL names no host".to_owned()));
        }
        Ok(Server {
            host: opts.ip_or_hostname().to_owned(),
            port: opts.tcp_port(),
            user: opts.user().map(str::to_owned),
            password: opts.pass().map(str::to_owned),
            opts,
            scheme: scheme.to_owned(),
            userinfo: userinfo.filter(|u| !u.is_empty()).map(str::to_owned),
            hostport: hostport.to_owned(),
            query,
            label,
        })
    }

    /// The server URL, password hidden.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// `host:port`, for messages.
    pub(crate) fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Opens a session without a default database. An unreachable server
    /// and a refused login are [`ClonerError::Connect`] with a hint.
    pub(crate) async fn connect(&self) -> Result<Conn, ClonerError> {
        let connect = Conn::new(self.opts.clone());
        let error: cloner::BoxError = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(conn)) => return Ok(conn),
            Ok(Err(e)) => {
                if matches!(code(&e), Some(ACCESS_DENIED | ACCESS_DENIED_NO_PASSWORD)) {
                    let user = self.user.as_deref().unwrap_or("");
                    return Err(ClonerError::Connect {
                        server: self.label.clone(),
                        hint: Some(format!(
                            "the server refused the login of user {user:?}: check the user and \
                             password in the server URL (`url` under [backends.mysql] in \
                             paraclone.toml, or PARACLONE_MYSQL_URL); the password goes \
                             percent-encoded between `:` and `@`"
                        )),
                        source: crate::errors::innermost(e),
                    });
                }
                crate::errors::innermost(e)
            }
            Err(_) => format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()).into(),
        };
        Err(ClonerError::Connect {
            server: self.label.clone(),
            hint: Some(format!(
                "is MySQL/MariaDB running and listening at {}? {START_HINT}",
                self.address()
            )),
            source: error,
        })
    }

    /// How a client reaches database `name`: the server URL with the path
    /// set to the percent-encoded name (the form sqlx, diesel, the `mysql`
    /// crates and Django's dj-database-url decode), and the URL's parts.
    pub(crate) fn connection(&self, name: &str) -> Connection {
        let mut url = format!("{}://", self.scheme);
        if let Some(userinfo) = &self.userinfo {
            url.push_str(userinfo);
            url.push('@');
        }
        url.push_str(&self.hostport);
        url.push('/');
        url.push_str(&percent_encode(name));
        if let Some(query) = &self.query {
            url.push('?');
            url.push_str(query);
        }
        Connection {
            url,
            name: name.to_owned(),
            host: Some(self.host.clone()),
            port: Some(self.port),
            user: self.user.clone(),
            password: self.password.clone(),
            path: None,
            extra_env: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_urls_keep_the_login_and_replace_the_database() {
        let server = Server::parse("mysql://app:s%40cret@db.example:3307/ignored").unwrap();
        let c = server.connection("o'neil shop_pcabc_w1");
        assert_eq!(
            c.url,
            "mysql://app:s%40cret@db.example:3307/o%27neil%20shop_pcabc_w1"
        );
        assert_eq!(c.name, "o'neil shop_pcabc_w1");
        assert_eq!(c.host.as_deref(), Some("db.example"));
        assert_eq!(c.port, Some(3307));
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.password.as_deref(), Some("s@cret"));
        assert_eq!(
            c.redacted_url(),
            "mysql://app:***@db.example:3307/o%27neil%20shop_pcabc_w1"
        );
        assert_eq!(server.label(), "mysql://app:***@db.example:3307/ignored");
        // The URL the worker gets parses back to the same database.
        let opts = Opts::from_url(&c.url).unwrap();
        assert_eq!(opts.db_name(), Some("o'neil shop_pcabc_w1"));
        assert_eq!(opts.pass(), Some("s@cret"));
    }

    #[test]
    fn defaults_fill_what_the_url_leaves_out() {
        let server = Server::parse("mariadb://root@127.0.0.1").unwrap();
        assert_eq!(server.address(), "127.0.0.1:3306");
        let c = server.connection("x");
        assert_eq!(c.url, "mariadb://root@127.0.0.1/x");
        assert_eq!(c.port, Some(3306));
        assert_eq!(c.password, None);
        let anonymous = Server::parse("mysql://localhost:3306?prefer_socket=false").unwrap();
        let c = anonymous.connection("d");
        assert_eq!(c.url, "mysql://localhost:3306/d?prefer_socket=false");
        assert_eq!(c.user, None);
    }

    #[test]
    fn bad_urls_are_connect_errors_without_the_password() {
        for url in [
            "postgres://u:hunter2@h/m",
            "mysql://u:hunter2@h:notaport",
            "mysql://u:hunter2@h:1/?no_such_parameter=1",
        ] {
            match Server::parse(url) {
                Err(e @ ClonerError::Connect { .. }) => {
                    let text = format!(
                        "{e} {:?} {}",
                        e.hint(),
                        std::error::Error::source(&e).unwrap()
                    );
                    assert!(!text.contains("hunter2"), "{text}");
                    assert!(text.contains("***"), "{text}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
