//! [`OracleOptions`] and [`Route`]: how an [`OracleCloner`](crate::OracleCloner) is configured.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use cloner::redact::redact_url;

/// The server URL used when neither the config nor the environment gives
/// one: the pluggable database of a local Oracle Database Free (23ai), as
/// its container images start it, logging in as `SYSTEM`. It has no
/// password, so in practice the URL comes from the config or [`URL_ENV`].
pub const DEFAULT_URL: &str = "oracle://system@127.0.0.1:1521/FREEPDB1";

/// The environment variable that names the server when the config does not.
pub const URL_ENV: &str = "ORACLE_URL";

/// The tablespace test users get their quota on unless configured.
pub const DEFAULT_TABLESPACE: &str = "USERS";

/// How many clones are made at once at most when the config sets no
/// `max_concurrency`. Each clone holds one session, plus
/// [`DEFAULT_COPY_PARALLELISM`] while its rows are copied.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;

/// How many tables of one clone are copied at once, each on its own session.
pub const DEFAULT_COPY_PARALLELISM: usize = 4;

/// How long a drop waits for the sessions of a user to go (ORA-01940)
/// before it fails naming them.
pub const DEFAULT_DROP_TIMEOUT: Duration = Duration::from_secs(10);

/// The server URL to use: `configured` (the alias's `url`, else
/// `[backends.oracle] url`) if given, else `ORACLE_URL` if set and not
/// empty, else [`DEFAULT_URL`].
pub fn resolve_url(configured: Option<&str>) -> String {
    configured
        .map(str::to_owned)
        .or_else(|| std::env::var(URL_ENV).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// How a clone is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Route {
    /// Object by object: `DBMS_METADATA.GET_DDL` of the template's objects,
    /// remapped to the clone, with the rows copied by direct-path inserts
    /// on parallel sessions. Needs no database link and no Data Pump.
    #[default]
    Ddl,
    /// A schema-mode `DBMS_DATAPUMP` import over a loopback database link
    /// with `REMAP_SCHEMA`: copies every object type Data Pump knows, at
    /// the cost of a job per clone and more privileges.
    Datapump,
}

impl Route {
    /// The name in config: `ddl` or `datapump`.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Ddl => "ddl",
            Route::Datapump => "datapump",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A route name that is neither `ddl` nor `datapump`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not one of \"ddl\", \"datapump\"")]
pub struct UnknownRoute(pub String);

impl FromStr for Route {
    type Err = UnknownRoute;

    /// Parses `ddl` or `datapump` (also `data_pump`), in any case.
    fn from_str(s: &str) -> Result<Route, UnknownRoute> {
        match s.to_ascii_lowercase().as_str() {
            "ddl" => Ok(Route::Ddl),
            "datapump" | "data_pump" => Ok(Route::Datapump),
            _ => Err(UnknownRoute(s.to_owned())),
        }
    }
}

/// Everything an [`OracleCloner`](crate::OracleCloner) is configured with.
///
/// `Debug` hides the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct OracleOptions {
    /// The server: `oracle://user:password@host:port/service`, the service
    /// being a pluggable database (not the root container). See
    /// [`resolve_url`] for where it comes from and the crate documentation
    /// for the privileges the login needs.
    pub url: String,
    /// How many clones to make at once at most (default
    /// [`DEFAULT_MAX_CONCURRENCY`]); lowered when the server has few
    /// sessions free.
    pub max_concurrency: Option<usize>,
    /// How clones are made.
    pub route: Route,
    /// The tablespace of every user made (default [`DEFAULT_TABLESPACE`]),
    /// with an unlimited quota on it.
    pub tablespace: String,
    /// The users' temporary tablespace; `None` keeps the database default.
    pub temporary_tablespace: Option<String>,
    /// Give each user a tablespace of its own, named like it, as Django's
    /// `TEST_TBLSPACE` does (needs Oracle-managed files, i.e.
    /// `DB_CREATE_FILE_DEST`); it is dropped with the user.
    pub own_tablespaces: bool,
    /// Tables of one clone copied at once (default
    /// [`DEFAULT_COPY_PARALLELISM`]); also the Data Pump job's parallelism.
    pub copy_parallelism: usize,
    /// Whether a drop that finds the user still connected ends those
    /// sessions (`ALTER SYSTEM KILL SESSION`) instead of waiting for them.
    pub terminate_sessions: bool,
    /// How long a drop waits for the user's sessions to go.
    pub drop_timeout: Duration,
    /// The connect string the Data Pump route's database link uses to
    /// reach the server from the server itself; `None` uses the URL's (fine
    /// unless the cloner reaches the server through a port forward).
    pub link_connect_string: Option<String>,
}

impl OracleOptions {
    /// Options for the server at `url`, everything else by default.
    pub fn with_url(url: impl Into<String>) -> OracleOptions {
        OracleOptions {
            url: url.into(),
            max_concurrency: None,
            route: Route::Ddl,
            tablespace: DEFAULT_TABLESPACE.to_owned(),
            temporary_tablespace: None,
            own_tablespaces: false,
            copy_parallelism: DEFAULT_COPY_PARALLELISM,
            terminate_sessions: false,
            drop_timeout: DEFAULT_DROP_TIMEOUT,
            link_connect_string: None,
        }
    }

    /// Options for the server named by `ORACLE_URL`, else [`DEFAULT_URL`].
    pub fn from_env() -> OracleOptions {
        OracleOptions::with_url(resolve_url(None))
    }
}

impl Default for OracleOptions {
    /// Options for [`DEFAULT_URL`] (the environment is not read).
    fn default() -> OracleOptions {
        OracleOptions::with_url(DEFAULT_URL)
    }
}

impl fmt::Debug for OracleOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OracleOptions")
            .field("url", &redact_url(&self.url))
            .field("max_concurrency", &self.max_concurrency)
            .field("route", &self.route)
            .field("tablespace", &self.tablespace)
            .field("temporary_tablespace", &self.temporary_tablespace)
            .field("own_tablespaces", &self.own_tablespaces)
            .field("copy_parallelism", &self.copy_parallelism)
            .field("terminate_sessions", &self.terminate_sessions)
            .field("drop_timeout", &self.drop_timeout)
            .field(
                "link_connect_string",
                &self.link_connect_string.as_deref().map(redact_url),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_in_any_case() {
        assert_eq!("ddl".parse(), Ok(Route::Ddl));
        assert_eq!("DataPump".parse(), Ok(Route::Datapump));
        assert_eq!("data_pump".parse(), Ok(Route::Datapump));
        assert_eq!(
            "expdp".parse::<Route>().unwrap_err().to_string(),
            "\"expdp\" is not one of \"ddl\", \"datapump\""
        );
        assert_eq!(Route::Datapump.to_string(), "datapump");
        assert_eq!(Route::default(), Route::Ddl);
    }

    #[test]
    fn configured_url_wins_over_the_environment_and_the_default() {
        assert_eq!(resolve_url(Some("oracle://a:b@h/s")), "oracle://a:b@h/s");
        // The environment is not changed here (tests share it).
        match std::env::var(URL_ENV) {
            Ok(v) if !v.trim().is_empty() => assert_eq!(resolve_url(None), v),
            _ => assert_eq!(resolve_url(None), DEFAULT_URL),
        }
    }

    #[test]
    fn defaults_are_djangos_and_debug_hides_the_password() {
        let options = OracleOptions::with_url("oracle://system:hunter2@h:1521/FREEPDB1");
        assert_eq!(options.tablespace, "USERS");
        assert_eq!(options.route, Route::Ddl);
        assert!(!options.own_tablespaces && !options.terminate_sessions);
        let debug = format!("{options:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("system:***@h"),
            "{debug}"
        );
    }
}
