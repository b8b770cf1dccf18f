//! Which backends this build has, and opening a cloner for an alias.
//!
//! This is the only module that names backend crates, each behind its Cargo
//! feature. Everything else in the runner sees `dyn Cloner`.

use std::path::Path;
use std::sync::Arc;

use cloner::Cloner;

use crate::config::{BackendSettings, Located};
use crate::error::RunError;

/// The backends compiled into this build, in the order they are listed.
pub fn compiled() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "sqlite") {
        names.push("sqlite");
    }
    if cfg!(feature = "postgres") {
        names.push("postgres");
    }
    if cfg!(feature = "mysql") {
        names.push("mysql");
    }
    if cfg!(feature = "oracle") {
        names.push("oracle");
    }
    names
}

/// Opens the cloner for `backend`, configured from `settings` (relative
/// paths against `config_dir`) and the alias's own `url`.
pub(crate) fn open(
    backend: &Located<String>,
    url: Option<&str>,
    settings: &BackendSettings,
    config_dir: &Path,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    // Unused in a build without any backend.
    let _ = (url, settings, config_dir);
    match backend.value.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => sqlite(&settings.sqlite, config_dir, config_path),
        #[cfg(feature = "postgres")]
        "postgres" => postgres(url, &settings.postgres, config_path),
        #[cfg(feature = "mysql")]
        "mysql" => mysql(url, &settings.mysql, config_path),
        #[cfg(feature = "oracle")]
        "oracle" => oracle(url, &settings.oracle, config_path),
        other => Err(RunError::BackendNotCompiled {
            backend: other.to_owned(),
            // Line 0: the backend came from the command line.
            origin: if backend.at.line == 0 {
                format!("--db {other}")
            } else {
                format!("{}:{}", config_path.display(), backend.at)
            },
            compiled: compiled().join(", "),
        }),
    }
}

/// What a throwaway MySQL/MariaDB server runs at start-up (its
/// superuser's password); `None` in a build without the backend.
pub(crate) fn mysql_init_statements(password: &str) -> Option<String> {
    #[cfg(feature = "mysql")]
    return Some(cloner_mysql::throwaway::init_statements(password));
    #[cfg(not(feature = "mysql"))]
    {
        let _ = password;
        None
    }
}

/// Gives a throwaway PostgreSQL server's superuser `postgres` its
/// password, through the server's Unix socket in `socket_dir`; an error
/// (the causes on one line, no password) in a build without the backend.
pub(crate) async fn postgres_set_password(
    socket_dir: &Path,
    port: u16,
    password: &str,
) -> Result<(), String> {
    #[cfg(feature = "postgres")]
    return cloner_postgres::throwaway::set_password(socket_dir, port, "postgres", password)
        .await
        .map_err(|e| crate::error_chain(&e));
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (socket_dir, port, password);
        Err("this build has no postgres backend".to_owned())
    }
}

#[cfg(feature = "sqlite")]
fn sqlite(
    settings: &crate::config::SqliteSettings,
    config_dir: &Path,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    use cloner_sqlite::{Method, SqliteCloner, SqliteOptions, Target};

    let bad = |key: &str, value: &str, allowed: &str| RunError::BadSetting {
        config: config_path.to_owned(),
        key: format!("backends.sqlite.{key}"),
        message: format!("{value:?} is not one of {allowed}"),
    };
    let target = match settings.target.as_deref().unwrap_or("disk") {
        "disk" => Target::Disk,
        "ram" => Target::Ram,
        other => return Err(bad("target", other, "\"disk\", \"ram\"")),
    };
    let method = match settings.method.as_deref().unwrap_or("auto") {
        "auto" => Method::Auto,
        "backup" => Method::Backup,
        "vacuum" => Method::Vacuum,
        "copy" => Method::Copy,
        other => {
            return Err(bad(
                "method",
                other,
                "\"auto\", \"backup\", \"vacuum\", \"copy\"",
            ));
        }
    };
    let dir = settings.dir.as_ref().map_or_else(
        || config_dir.join("target/paraclone/sqlite"),
        |d| config_dir.join(d),
    );
    let options = SqliteOptions {
        dir: normalize(&dir),
        target,
        method,
        in_memory_workers: settings.in_memory.unwrap_or(false),
    };
    let cloner = SqliteCloner::new(options).map_err(|source| RunError::Backend {
        alias: None,
        op: "open the sqlite backend",
        source,
    })?;
    Ok(Arc::new(cloner))
}

/// `a/b/../c` → `a/c`, without touching the file system (the directory may
/// not exist yet), so paths in messages and the ledger read cleanly.
fn normalize(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The PostgreSQL cloner. The server URL is, first found: the alias's
/// `url`, `[backends.postgres] url`, `PARACLONE_POSTGRES_URL`, the local
/// default (`cloner_postgres::resolve_url` does the last two).
#[cfg(feature = "postgres")]
fn postgres(
    url: Option<&str>,
    settings: &crate::config::ServerSettings,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    use cloner_postgres::{PostgresCloner, PostgresOptions, Strategy, resolve_url};

    let strategy = match settings.strategy.as_deref() {
        None => None,
        Some(value) => Some(
            value
                .parse::<Strategy>()
                .map_err(|e| RunError::BadSetting {
                    config: config_path.to_owned(),
                    key: "backends.postgres.strategy".to_owned(),
                    message: e.to_string(),
                })?,
        ),
    };
    if settings.max_concurrency == Some(0) {
        return Err(RunError::BadSetting {
            config: config_path.to_owned(),
            key: "backends.postgres.max_concurrency".to_owned(),
            message: "0 is not a number of clones to make at once: use 1 or more".to_owned(),
        });
    }
    if settings.datadir.is_some() {
        return Err(RunError::BadSetting {
            config: config_path.to_owned(),
            key: "backends.postgres.datadir".to_owned(),
            message: "is a MySQL/MariaDB setting".to_owned(),
        });
    }
    let options = PostgresOptions {
        max_concurrency: settings.max_concurrency,
        strategy,
        terminate_sessions: settings.terminate_sessions.unwrap_or(false),
        ..PostgresOptions::with_url(resolve_url(url.or(settings.url.as_deref())))
    };
    let cloner = PostgresCloner::new(options).map_err(|source| RunError::Backend {
        alias: None,
        op: "open the postgres backend",
        source,
    })?;
    Ok(Arc::new(cloner))
}

/// The MySQL/MariaDB cloner. The server URL is, first found: the alias's
/// `url`, `[backends.mysql] url`, `PARACLONE_MYSQL_URL`, the local default
/// (`cloner_mysql::resolve_url` does the last two).
#[cfg(feature = "mysql")]
fn mysql(
    url: Option<&str>,
    settings: &crate::config::ServerSettings,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    use cloner_mysql::{CopyMethod, MysqlCloner, MysqlOptions, resolve_url};

    let bad = |key: &str, message: &str| RunError::BadSetting {
        config: config_path.to_owned(),
        key: format!("backends.mysql.{key}"),
        message: message.to_owned(),
    };
    if settings.max_concurrency == Some(0) {
        return Err(bad(
            "max_concurrency",
            "0 is not a number of clones to make at once: use 1 or more",
        ));
    }
    let copy = match settings.strategy.as_deref() {
        None => CopyMethod::Auto,
        Some(value) => CopyMethod::parse(value).ok_or_else(|| {
            bad(
                "strategy",
                &format!(
                    "{value:?} is not a MySQL strategy: use \"auto\" (table files where \
                     possible, rows for the rest), \"files\" or \"rows\""
                ),
            )
        })?,
    };
    if settings.terminate_sessions.is_some() {
        return Err(bad(
            "terminate_sessions",
            "is a PostgreSQL setting; MySQL clones do not wait for other sessions",
        ));
    }
    if settings.tablespace.is_some() {
        return Err(bad("tablespace", "is an Oracle setting"));
    }
    let options = MysqlOptions {
        max_concurrency: settings.max_concurrency,
        copy,
        datadir: settings.datadir.clone(),
        ..MysqlOptions::with_url(resolve_url(url.or(settings.url.as_deref())))
    };
    let cloner = MysqlCloner::new(options).map_err(|source| RunError::Backend {
        alias: None,
        op: "open the mysql backend",
        source,
    })?;
    Ok(Arc::new(cloner))
}

/// The Oracle cloner. The server URL is, first found: the alias's `url`,
/// `[backends.oracle] url`, `ORACLE_URL`, the local default
/// (`cloner_oracle::resolve_url` does the last two). `strategy` names the
/// route: `ddl` (default) or `datapump`.
#[cfg(feature = "oracle")]
fn oracle(
    url: Option<&str>,
    settings: &crate::config::ServerSettings,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    use cloner_oracle::{OracleCloner, OracleOptions, Route, resolve_url};

    let bad = |key: &str, message: String| RunError::BadSetting {
        config: config_path.to_owned(),
        key: format!("backends.oracle.{key}"),
        message,
    };
    if settings.max_concurrency == Some(0) {
        return Err(bad(
            "max_concurrency",
            "0 is not a number of clones to make at once: use 1 or more".to_owned(),
        ));
    }
    if settings.datadir.is_some() {
        return Err(bad("datadir", "is a MySQL/MariaDB setting".to_owned()));
    }
    for (key, set) in [
        ("server", settings.server.is_some()),
        ("ephemeral_dir", settings.ephemeral_dir.is_some()),
        ("bin_dir", settings.bin_dir.is_some()),
        ("run_as", settings.run_as.is_some()),
        ("ephemeral_clones", settings.ephemeral_clones.is_some()),
    ] {
        if set {
            return Err(bad(
                key,
                "is a setting of throwaway servers, which paraclone starts for PostgreSQL \
                 and MySQL/MariaDB only"
                    .to_owned(),
            ));
        }
    }
    let route = match settings.strategy.as_deref() {
        None => Route::default(),
        Some(value) => value
            .parse::<Route>()
            .map_err(|e| bad("strategy", e.to_string()))?,
    };
    let defaults = OracleOptions::with_url(resolve_url(url.or(settings.url.as_deref())));
    let options = OracleOptions {
        max_concurrency: settings.max_concurrency,
        route,
        tablespace: settings
            .tablespace
            .clone()
            .unwrap_or(defaults.tablespace.clone()),
        terminate_sessions: settings.terminate_sessions.unwrap_or(false),
        ..defaults
    };
    let cloner = OracleCloner::new(options).map_err(|source| RunError::Backend {
        alias: None,
        op: "open the oracle backend",
        source,
    })?;
    Ok(Arc::new(cloner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_lexically() {
        assert_eq!(
            normalize(Path::new("/w/examples/shop/../../target/./x")),
            Path::new("/w/target/x")
        );
        assert_eq!(normalize(Path::new("../a/../b")), Path::new("../b"));
    }
}
