//! The server URL: parsed once, turned into client configs for any database
//! on the server and into the `postgres://` URL a worker gets.

use std::str::FromStr;
use std::time::Duration;

use cloner::redact::redact_url;
use cloner::url::percent_encode;
use cloner::{ClonerError, Connection};
use tokio_postgres::config::Host;

/// The application name of every session the cloner opens, so that its own
/// sessions can be told apart in `pg_stat_activity`.
pub(crate) const APPLICATION_NAME: &str = "paraclone";

/// How long the cloner waits for a TCP connection when the URL sets no
/// `connect_timeout`: an unreachable server should be reported at once, not
/// after the operating system's minutes-long default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The server a cloner talks to, as read from its URL.
#[derive(Clone)]
pub(crate) struct Server {
    /// The client configuration for the maintenance database.
    config: tokio_postgres::Config,
    /// The database named in the URL's path (`postgres` if none).
    maintenance_db: String,
    /// `postgres` or `postgresql`, as the user wrote it.
    scheme: String,
    /// The URL's user information (`user` or `user:password`), exactly as
    /// written (still percent-encoded); the effective user when it had none.
    userinfo: String,
    /// The URL's host and port, exactly as written (empty for a Unix socket
    /// given as `?host=/path`).
    hostport: String,
    /// The URL's query, less any `dbname` (which would override the path).
    query: Option<String>,
    /// The URL with the password hidden.
    label: String,
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
}

impl std::fmt::Debug for Server {
    /// Shows the redacted URL only: the client config holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Server").field(&self.label).finish()
    }
}

impl Server {
    /// Reads `url` (`postgres://user:password@host:port/maintenance_db?…`).
    pub(crate) fn parse(url: &str) -> Result<Server, ClonerError> {
        let label = redact_url(url);
        let bad = |why: String| ClonerError::Connect {
            server: label.clone(),
            hint: Some(
                "write the server URL as postgres://user:password@host:port/database \
                 ([backends.postgres] url in paraclone.toml, or PARACLONE_POSTGRES_URL)"
                    .to_owned(),
            ),
            source: why.into(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "postgres" | "postgresql"))
            .ok_or_else(|| bad("the server URL does not start with postgres://".to_owned()))?;
        // Split as tokio-postgres (and libpq) do: the user information runs
        // to the first `@`, the host to the next `/` or `?`.
        let (userinfo, rest) = match rest.split_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (hostport, rest) = rest.split_at(host_end);
        // The path (the maintenance database) is read by tokio-postgres.
        let query = rest.split_once('?').map(|(_, query)| query);
        let mut config = tokio_postgres::Config::from_str(url)
            // The client's message never echoes the password; the URL in it
            // would, so it is not used.
            .map_err(|e| {
                let cause = std::error::Error::source(&e).map(|c| format!(": {c}"));
                bad(format!("{e}{}", cause.unwrap_or_default()))
            })?;
        let maintenance_db = config.get_dbname().unwrap_or("postgres").to_owned();
        let user = match config.get_user() {
            Some(user) => user.to_owned(),
            None => {
                let user = default_user();
                config.user(&user);
                user
            }
        };
        let userinfo = match userinfo {
            Some(userinfo) if !userinfo.is_empty() => userinfo.to_owned(),
            _ => percent_encode(&user),
        };
        if config.get_hosts().is_empty() {
            return Err(bad(
                "the server URL names no host (for a Unix socket, add ?host=/var/run/postgresql)"
                    .to_owned(),
            ));
        }
        let host = match &config.get_hosts()[0] {
            Host::Tcp(host) => host.clone(),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name(APPLICATION_NAME);
        let query = query
            .map(|q| {
                q.split('&')
                    .filter(|pair| !pair.is_empty() && !pair.starts_with("dbname="))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .filter(|q| !q.is_empty());
        Ok(Server {
            config,
            maintenance_db,
            scheme: scheme.to_owned(),
            userinfo,
            hostport: hostport.to_owned(),
            query,
            label,
            host,
            port,
            user,
            password,
        })
    }

    /// The client configuration for database `name` on this server.
    pub(crate) fn config_for(&self, name: &str) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.dbname(name);
        config
    }

    /// The maintenance database the cloner's own sessions connect to.
    pub(crate) fn maintenance_db(&self) -> &str {
        &self.maintenance_db
    }

    /// The user the cloner logs in as.
    pub(crate) fn user(&self) -> &str {
        &self.user
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

    /// How a client reaches database `name`: the server URL with the path
    /// replaced by the percent-encoded name (the form libpq, sqlx, diesel
    /// and dj-database-url all decode), and the URL's parts.
    pub(crate) fn connection(&self, name: &str) -> Connection {
        let mut url = format!(
            "{}://{}@{}/{}",
            self.scheme,
            self.userinfo,
            self.hostport,
            percent_encode(name)
        );
        if let Some(query) = &self.query {
            url.push('?');
            url.push_str(query);
        }
        Connection {
            url,
            name: name.to_owned(),
            host: Some(self.host.clone()),
            port: Some(self.port),
            user: Some(self.user.clone()),
            password: self.password.clone(),
            path: None,
            extra_env: Vec::new(),
        }
    }
}

/// The user libpq would log in as when the URL names none.
fn default_user() -> String {
    ["PGUSER", "USER", "LOGNAME"]
        .iter()
        .find_map(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "postgres".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_urls_keep_the_login_and_replace_the_database() {
        let server = Server::parse("postgres://app:s%40cret@db.example:6543/maint").unwrap();
        let c = server.connection("o'neil shop_pcabc_w1");
        assert_eq!(
            c.url,
            "postgres://app:s%40cret@db.example:6543/o%27neil%20shop_pcabc_w1"
        );
        assert_eq!(c.name, "o'neil shop_pcabc_w1");
        assert_eq!(c.host.as_deref(), Some("db.example"));
        assert_eq!(c.port, Some(6543));
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.password.as_deref(), Some("s@cret"));
        assert_eq!(
            c.redacted_url(),
            "postgres://app:***@db.example:6543/o%27neil%20shop_pcabc_w1"
        );
        assert_eq!(server.maintenance_db(), "maint");
        assert_eq!(server.label(), "postgres://app:***@db.example:6543/maint");
        // The URL the worker gets parses back to the same database.
        let parsed = tokio_postgres::Config::from_str(&c.url).unwrap();
        assert_eq!(parsed.get_dbname(), Some("o'neil shop_pcabc_w1"));
        assert_eq!(parsed.get_password(), Some(&b"s@cret"[..]));
    }

    #[test]
    fn defaults_fill_what_the_url_leaves_out() {
        let server = Server::parse("postgresql://postgres@127.0.0.1").unwrap();
        assert_eq!(server.maintenance_db(), "postgres");
        assert_eq!(server.address(), "127.0.0.1:5432");
        let c = server.connection("x");
        assert_eq!(c.url, "postgresql://postgres@127.0.0.1/x");
        assert_eq!(c.port, Some(5432));
        assert_eq!(c.password, None);
        let config = server.config_for("x");
        assert_eq!(config.get_application_name(), Some(APPLICATION_NAME));
        assert_eq!(config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
    }

    #[test]
    fn query_parameters_pass_through_except_dbname() {
        let server =
            Server::parse("postgres://u@h:1/m?dbname=other&connect_timeout=3&sslmode=disable")
                .unwrap();
        assert_eq!(server.maintenance_db(), "other");
        assert_eq!(
            server.connection("d").url,
            "postgres://u@h:1/d?connect_timeout=3&sslmode=disable"
        );
        assert_eq!(
            server.config_for("d").get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
    }

    #[test]
    fn unix_sockets_given_as_host_parameter_work() {
        let server = Server::parse("postgres://u@/m?host=/var/run/postgresql").unwrap();
        let c = server.connection("d");
        assert_eq!(c.url, "postgres://u@/d?host=/var/run/postgresql");
        assert_eq!(c.host.as_deref(), Some("/var/run/postgresql"));
    }

    #[test]
    fn bad_urls_are_connect_errors_without_the_password() {
        for (url, why) in [
            ("mysql://u:hunter2@h/m", "does not start with postgres://"),
            (
                "postgres://u:hunter2@h:notaport/m",
                "invalid connection string: invalid value for option `port`",
            ),
            ("postgres://u:hunter2@/m", "names no host"),
        ] {
            match Server::parse(url) {
                Err(e @ ClonerError::Connect { .. }) => {
                    let cause = std::error::Error::source(&e).unwrap().to_string();
                    let text = format!("{e}: {cause} (hint: {:?})", e.hint());
                    assert!(cause.contains(why), "{text}");
                    assert!(!text.contains("hunter2"), "{text}");
                    assert!(text.contains("***"), "{text}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
