//! The server URL: `oracle://user:password@host:port/service`, parsed once,
//! turned into the Easy Connect string the Oracle client takes and into
//! the URL and parts a worker gets for each database.

use cloner::redact::redact_url;
use cloner::{ClonerError, Connection};

use cloner::url::{percent_decode, percent_encode};

use crate::plan::names::login_user;

/// The port Oracle listeners use unless told otherwise.
pub(crate) const DEFAULT_PORT: u16 = 1521;

/// The variable a worker finds the Easy Connect string in
/// (`host:port/service`), for clients that take it apart from the user.
pub const CONNECT_STRING_ENV: &str = "PARACLONE_ORACLE_CONNECT_STRING";

/// An `oracle://` URL taken apart.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// The user as a client logs in with it (percent-decoded; in double
    /// quotes when it is case-sensitive).
    pub(crate) user: String,
    /// The password, percent-decoded.
    pub(crate) password: Option<String>,
    /// The host as written (an IPv6 address in brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The service name (the URL's path), percent-decoded; empty for the
    /// listener's default service.
    pub(crate) service: String,
    /// The query, passed on to the Easy Connect string (`connect_timeout=…`).
    pub(crate) query: Option<String>,
}

impl std::fmt::Debug for UrlParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlParts")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("service", &self.service)
            .field("query", &self.query)
            .finish()
    }
}

impl UrlParts {
    /// Reads `oracle://user:password@host:port/service?query`. The error
    /// says what is wrong without repeating the URL (which holds the
    /// password).
    pub(crate) fn parse(url: &str) -> Result<UrlParts, String> {
        let rest = url
            .strip_prefix("oracle://")
            .ok_or("the URL does not start with oracle://")?;
        let (userinfo, rest) = rest
            .rsplit_once('@')
            .filter(|(_, host)| !host.contains('@'))
            .ok_or("the URL names no user (oracle://user:password@host:port/service)")?;
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        let user = percent_decode(user).ok_or("the user is not validly percent-encoded")?;
        if user.is_empty() {
            return Err("the URL names no user".to_owned());
        }
        let password = password
            .map(|p| percent_decode(p).ok_or("the password is not validly percent-encoded"))
            .transpose()?;
        let (authority, path_and_query) = match rest.find(['/', '?']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned()).filter(|q| !q.is_empty())),
            None => (path_and_query, None),
        };
        let service = percent_decode(path.trim_start_matches('/'))
            .ok_or("the service name is not validly percent-encoded")?;
        let (host, port) = split_host_port(authority)?;
        Ok(UrlParts {
            user,
            password,
            host,
            port,
            service,
            query,
        })
    }

    /// The Easy Connect string: `//host:port/service[?query]`.
    pub(crate) fn connect_string(&self) -> String {
        let mut out = format!("//{}:{}", self.host, self.port);
        if !self.service.is_empty() {
            out.push('/');
            out.push_str(&self.service);
        }
        if let Some(query) = &self.query {
            out.push('?');
            out.push_str(query);
        }
        out
    }
}

fn split_host_port(authority: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (inside, after) = bracketed
            .split_once(']')
            .ok_or("the IPv6 address lacks its closing ]")?;
        (format!("[{inside}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("the URL names no host".to_owned());
    }
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(port) => port
            .parse()
            .map_err(|_| format!("the port {port:?} is not a number"))?,
    };
    Ok((host, port))
}

/// The server a cloner talks to, as read from its URL.
#[derive(Clone)]
pub(crate) struct Server {
    parts: UrlParts,
    label: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Server").field(&self.label).finish()
    }
}

impl Server {
    /// Reads the server URL; a malformed one is [`ClonerError::Connect`]
    /// saying what is wrong and how a URL looks.
    pub(crate) fn parse(url: &str) -> Result<Server, ClonerError> {
        let label = redact_url(url);
        let parts = UrlParts::parse(url).map_err(|why| ClonerError::Connect {
            server: label.clone(),
            hint: Some(format!(
                "write the server URL as oracle://user:password@host:port/service, e.g. \
                 oracle://system:secret@127.0.0.1:1521/FREEPDB1 (url under [backends.oracle] in \
                 paraclone.toml, or the {} environment variable)",
                crate::URL_ENV
            )),
            source: why.into(),
        })?;
        Ok(Server { parts, label })
    }

    /// The URL with the password hidden.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The login of the cloner itself, as a client passes it.
    pub(crate) fn user(&self) -> &str {
        &self.parts.user
    }

    /// The cloner's login as the dictionary stores it: a quoted login
    /// without its quotes, an unquoted one in upper case.
    pub(crate) fn dictionary_user(&self) -> String {
        let user = &self.parts.user;
        match user.strip_prefix('"').and_then(|u| u.strip_suffix('"')) {
            Some(inner) => inner.to_owned(),
            None => user.to_uppercase(),
        }
    }

    /// The cloner's password (empty if the URL has none).
    pub(crate) fn password(&self) -> &str {
        self.parts.password.as_deref().unwrap_or("")
    }

    /// The Easy Connect string the client connects with.
    pub(crate) fn connect_string(&self) -> String {
        self.parts.connect_string()
    }

    /// `host:port`, for messages.
    pub(crate) fn address(&self) -> String {
        format!("{}:{}", self.parts.host, self.parts.port)
    }

    /// The service name, for messages.
    pub(crate) fn service(&self) -> &str {
        &self.parts.service
    }

    /// How a client reaches database (user) `name`, whose password is
    /// `password`: `oracle://"name":password@host:port/service`, the user
    /// in its quoted, case-sensitive login form and percent-encoded (the
    /// form dj-database-url and diesel-oci read), and the URL's parts.
    pub(crate) fn connection(&self, name: &str, password: &str) -> Connection {
        let user = login_user(name);
        let mut url = format!(
            "oracle://{}:{}@{}:{}/{}",
            percent_encode(&user),
            percent_encode(password),
            self.parts.host,
            self.parts.port,
            percent_encode(&self.parts.service)
        );
        if let Some(query) = &self.parts.query {
            url.push('?');
            url.push_str(query);
        }
        let connect = self.connect_string();
        Connection {
            url,
            name: name.to_owned(),
            host: Some(self.parts.host.clone()),
            port: Some(self.parts.port),
            user: Some(user),
            password: Some(password.to_owned()),
            path: None,
            extra_env: vec![(
                CONNECT_STRING_ENV.to_owned(),
                connect.trim_start_matches('/').to_owned(),
            )],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_user_password_and_easy_connect_string() {
        let parts = UrlParts::parse("oracle://system:s%40cr%3At@db.example:1522/FREEPDB1").unwrap();
        assert_eq!(parts.user, "system");
        assert_eq!(parts.password.as_deref(), Some("s@cr:t"));
        assert_eq!(parts.connect_string(), "//db.example:1522/FREEPDB1");
        let parts =
            UrlParts::parse("oracle://%22Mixed%22@[::1]/ORCLPDB1?connect_timeout=5").unwrap();
        assert_eq!(parts.user, "\"Mixed\"");
        assert_eq!(parts.password, None);
        assert_eq!(
            parts.connect_string(),
            "//[::1]:1521/ORCLPDB1?connect_timeout=5"
        );
        let parts = UrlParts::parse("oracle://u:p@localhost").unwrap();
        assert_eq!(parts.connect_string(), "//localhost:1521");
        // A password may hold an @: the host follows the last one.
        let parts = UrlParts::parse("oracle://u:p@ss@h:1/s").unwrap();
        assert_eq!(parts.password.as_deref(), Some("p@ss"));
        assert_eq!(parts.host, "h");
    }

    #[test]
    fn bad_urls_are_connect_errors_without_the_password() {
        for (url, why) in [
            ("postgres://u:hunter2@h/s", "does not start with oracle://"),
            ("oracle://h:1521/s", "names no user"),
            ("oracle://u:hunter2@h:port/s", "\"port\" is not a number"),
            ("oracle://u:hunter2@/s", "names no host"),
            (
                "oracle://u:hunter2%zz@h/s",
                "password is not validly percent-encoded",
            ),
        ] {
            match Server::parse(url) {
                Err(e @ ClonerError::Connect { .. }) => {
                    let cause = std::error::Error::source(&e).unwrap().to_string();
                    let text = format!("{e}: {cause} (hint: {:?})", e.hint());
                    assert!(cause.contains(why), "{url}: {text}");
                    assert!(!text.contains("hunter2"), "{text}");
                    assert!(
                        text.contains("oracle://user:password@host:port/service"),
                        "{text}"
                    );
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_worker_gets_the_clone_user_in_its_quoted_login_form() {
        let server = Server::parse("oracle://system:hunter2@db.example:1521/FREEPDB1").unwrap();
        let c = server.connection("shop_pcabc123xyz0_w3", "PcPassword7");
        assert_eq!(
            c.url,
            "oracle://%22shop_pcabc123xyz0_w3%22:PcPassword7@db.example:1521/FREEPDB1"
        );
        assert_eq!(c.name, "shop_pcabc123xyz0_w3");
        assert_eq!(c.user.as_deref(), Some("\"shop_pcabc123xyz0_w3\""));
        assert_eq!(c.password.as_deref(), Some("PcPassword7"));
        assert_eq!(c.host.as_deref(), Some("db.example"));
        assert_eq!(c.port, Some(1521));
        assert_eq!(
            c.redacted_url(),
            "oracle://%22shop_pcabc123xyz0_w3%22:***@db.example:1521/FREEPDB1"
        );
        assert_eq!(
            c.extra_env,
            vec![(
                CONNECT_STRING_ENV.to_owned(),
                "db.example:1521/FREEPDB1".to_owned()
            )]
        );
        assert!(!format!("{c:?}").contains("PcPassword7"));
        // The worker's URL reads back to the same login.
        let back = UrlParts::parse(&c.url).unwrap();
        assert_eq!(back.user, "\"shop_pcabc123xyz0_w3\"");
        assert_eq!(back.password.as_deref(), Some("PcPassword7"));
        assert_eq!(
            server.label(),
            "oracle://system:***@db.example:1521/FREEPDB1"
        );
        assert!(!format!("{server:?}").contains("hunter2"));
    }

    #[test]
    fn the_cloner_login_is_looked_up_as_the_dictionary_stores_it() {
        let server = Server::parse("oracle://system:x@h/s").unwrap();
        assert_eq!(server.dictionary_user(), "SYSTEM");
        let server = Server::parse("oracle://%22Admin%22:x@h/s").unwrap();
        assert_eq!(server.dictionary_user(), "Admin");
        assert_eq!(server.user(), "\"Admin\"");
        assert_eq!(server.address(), "h:1521");
    }
}
