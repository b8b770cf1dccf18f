//! [`PostgresCloner`]: the [`Cloner`] for PostgreSQL.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cloner::quote::{Dialect, quote_ident};
use cloner::{Cloner, ClonerError, Connection, Migration};
use tokio::sync::{OnceCell, Semaphore};
use tokio_postgres::error::SqlState;

use crate::in_use::{self, Holder};
use crate::options::{DEFAULT_MAX_CONCURRENCY, PostgresOptions, Strategy};
use crate::script_error::ScriptError;
use crate::server::{APPLICATION_NAME, Server};
use crate::session::Session;

/// PostgreSQL's limit on identifiers (`NAMEDATALEN - 1`), in bytes. Longer
/// names are not refused by the server but silently cut, which would make
/// two clones one database: the cloner refuses them instead.
pub const MAX_NAME_LEN: usize = 63;

/// The first server version with `DROP DATABASE … WITH (FORCE)`.
const FORCE_DROP_SINCE: i32 = 130_000;
/// The first server version with `CREATE DATABASE … STRATEGY`.
const STRATEGY_SINCE: i32 = 150_000;
/// The database `CREATE DATABASE` copies when no template is named.
const DEFAULT_TEMPLATE: &str = "template1";
/// How long sealing a template waits for the cloner's own sessions on it
/// to go before it terminates them.
const SEAL_WAIT: Duration = Duration::from_secs(5);

/// What the cloner learns about the server on first contact.
#[derive(Clone, Debug)]
struct ServerInfo {
    /// `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    version: String,
    /// `server_version_num`, e.g. `150020`.
    version_num: i32,
}

/// Clones PostgreSQL databases with `CREATE DATABASE … TEMPLATE`, many at
/// once. See the [crate documentation](crate) for why and how.
pub struct PostgresCloner {
    options: PostgresOptions,
    server: Server,
    info: OnceCell<ServerInfo>,
    /// The concurrency hint: the configured maximum until the server has
    /// been asked how many connection slots it has free.
    hint: AtomicUsize,
    /// Bounds the clone operations of this cloner, whoever calls them.
    permits: Semaphore,
}

impl fmt::Debug for PostgresCloner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCloner")
            .field("options", &self.options)
            .field("info", &self.info.get())
            .field("hint", &self.hint.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl PostgresCloner {
    /// A cloner for the server in `options`. Reads the URL but does not
    /// contact the server: the first contact is [`Cloner::server_version`].
    pub fn new(options: PostgresOptions) -> Result<PostgresCloner, ClonerError> {
        let server = Server::parse(&options.url)?;
        let cap = options
            .max_concurrency
            .unwrap_or(DEFAULT_MAX_CONCURRENCY)
            .max(1);
        Ok(PostgresCloner {
            options,
            server,
            info: OnceCell::new(),
            hint: AtomicUsize::new(cap),
            permits: Semaphore::new(cap),
        })
    }

    /// The options this cloner was made with.
    pub fn options(&self) -> &PostgresOptions {
        &self.options
    }

    fn cap(&self) -> usize {
        self.options
            .max_concurrency
            .unwrap_or(DEFAULT_MAX_CONCURRENCY)
            .max(1)
    }

    fn check_name(&self, name: &str) -> Result<(), ClonerError> {
        if name.len() > MAX_NAME_LEN {
            return Err(ClonerError::NameTooLong {
                name: name.to_owned(),
                len: name.len(),
                max: MAX_NAME_LEN,
            });
        }
        Ok(())
    }

    async fn maintenance(&self) -> Result<Session, ClonerError> {
        Session::open(&self.server, self.server.maintenance_db(), true).await
    }

    async fn info(&self, session: &Session) -> Result<&ServerInfo, ClonerError> {
        self.info
            .get_or_try_init(|| async {
                let row = session
                    .client()
                    .query_one(
                        "SELECT current_setting('server_version'), \
                         current_setting('server_version_num')::int4",
                        &[],
                    )
                    .await
                    .map_err(|source| self.database_error("ask the version of", None, source))?;
                Ok(ServerInfo {
                    version: row.get(0),
                    version_num: row.get(1),
                })
            })
            .await
    }

    fn database_error(
        &self,
        op: &'static str,
        name: Option<&str>,
        source: tokio_postgres::Error,
    ) -> ClonerError {
        ClonerError::Database {
            op,
            name: name.unwrap_or(self.server.maintenance_db()).to_owned(),
            source: Box::new(source),
        }
    }

    /// `CREATE DATABASE name [TEMPLATE template] [STRATEGY …]`, waiting for
    /// other sessions to leave the source database (or terminating them)
    /// within the configured time.
    async fn create_database(
        &self,
        session: &Session,
        name: &str,
        template: Option<&str>,
    ) -> Result<(), ClonerError> {
        let mut sql = format!("CREATE DATABASE {}", quote_ident(Dialect::Postgres, name));
        if let Some(template) = template {
            sql.push_str(" TEMPLATE ");
            sql.push_str(&quote_ident(Dialect::Postgres, template));
            let version = self.info(session).await?.version_num;
            match (self.options.strategy, version >= STRATEGY_SINCE) {
                (Some(_), false) => {
                    return Err(ClonerError::Unsupported {
                        backend: "postgres",
                        what: "choosing a STRATEGY before PostgreSQL 15",
                    });
                }
                (None, false) => {}
                (strategy, true) => {
                    sql.push_str(" STRATEGY ");
                    sql.push_str(strategy.unwrap_or(Strategy::DEFAULT).as_str());
                }
            }
        }
        let source = template.unwrap_or(DEFAULT_TEMPLATE);
        // Terminating is for the templates the cloner made, never for
        // sessions on the server's own template1.
        let terminate = self.options.terminate_sessions && template.is_some();
        let started = Instant::now();
        let deadline = started + self.options.in_use_timeout;
        let mut delay = Duration::from_millis(20);
        loop {
            // Looking before leaping: CREATE DATABASE itself waits 5 s for
            // other sessions before it fails, a look at pg_stat_activity
            // costs a millisecond.
            let mut holders = in_use::holders(session, source, None).await?;
            if holders.is_empty() {
                match session.client().batch_execute(&sql).await {
                    Ok(()) => return Ok(()),
                    Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) => {
                        holders = in_use::holders(session, source, None).await?;
                    }
                    Err(e) => return Err(self.create_error(e, name, template)),
                }
            }
            if Instant::now() >= deadline {
                return Err(ClonerError::InUse {
                    name: source.to_owned(),
                    sessions: in_use::describe(&holders, started.elapsed(), terminate),
                });
            }
            if holders.is_empty() {
                // They left between the failed CREATE and the look.
                continue;
            }
            if terminate {
                in_use::terminate(session, source, &holders, self.server.label()).await?;
                delay = Duration::from_millis(20);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(delay.min(left)).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    fn create_error(
        &self,
        error: tokio_postgres::Error,
        name: &str,
        template: Option<&str>,
    ) -> ClonerError {
        match error.code() {
            Some(c) if *c == SqlState::DUPLICATE_DATABASE => ClonerError::Exists {
                name: name.to_owned(),
            },
            Some(c) if *c == SqlState::INVALID_CATALOG_NAME => ClonerError::Missing {
                name: template.unwrap_or(DEFAULT_TEMPLATE).to_owned(),
            },
            Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => ClonerError::Privilege {
                privilege: "CREATEDB".to_owned(),
                server: self.server.label().to_owned(),
                source: Box::new(error),
            },
            _ => ClonerError::Database {
                op: if template.is_some() {
                    "clone into database"
                } else {
                    "create database"
                },
                name: name.to_owned(),
                source: Box::new(error),
            },
        }
    }

    async fn migrate(&self, name: &str, migrations: &[Migration]) -> Result<(), ClonerError> {
        let session = Session::open(&self.server, name, false).await?;
        for migration in migrations {
            // One simple-protocol query per file: the server runs a
            // multi-statement script as one implicit transaction, so a
            // failing file leaves nothing of itself behind.
            if let Err(source) = session.client().batch_execute(&migration.sql).await {
                session.close().await;
                return Err(ClonerError::Migration {
                    migration: migration.name.clone(),
                    database: name.to_owned(),
                    source: ScriptError::locate(&migration.sql, source),
                });
            }
        }
        session.close().await;
        Ok(())
    }

    async fn drop_with(&self, session: &Session, name: &str) -> Result<(), ClonerError> {
        let quoted = quote_ident(Dialect::Postgres, name);
        let version = self.info(session).await?.version_num;
        let sql = if version >= FORCE_DROP_SINCE {
            format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        } else {
            // What FORCE does, done by hand: the database is going anyway.
            let holders = in_use::holders(session, name, None).await?;
            if !holders.is_empty() {
                in_use::terminate(session, name, &holders, self.server.label()).await?;
            }
            format!("DROP DATABASE IF EXISTS {quoted}")
        };
        session
            .client()
            .batch_execute(&sql)
            .await
            .map_err(|error| match error.code() {
                Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => ClonerError::Privilege {
                    privilege: "ownership of the database".to_owned(),
                    server: self.server.label().to_owned(),
                    source: Box::new(error),
                },
                _ => ClonerError::Database {
                    op: "drop database",
                    name: name.to_owned(),
                    source: Box::new(error),
                },
            })
    }
}

#[async_trait]
impl Cloner for PostgresCloner {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    /// `PostgreSQL 15.20`. Also learns how many connection slots the server
    /// has free, which bounds [`Cloner::concurrency_hint`].
    async fn server_version(&self) -> Result<String, ClonerError> {
        let session = self.maintenance().await?;
        let result = async {
            let info = self.info(&session).await?.clone();
            let row = session
                .client()
                .query_one(
                    "SELECT current_setting('max_connections')::int4, \
                     current_setting('superuser_reserved_connections')::int4, \
                     coalesce(current_setting('reserved_connections', true), '0')::int4, \
                     (SELECT count(*) FROM pg_stat_activity \
                      WHERE backend_type = 'client backend')::int4",
                    &[],
                )
                .await
                .map_err(|source| {
                    self.database_error("ask the connection limits of", None, source)
                })?;
            let (max, su_reserved, reserved, used): (i32, i32, i32, i32) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let free = (max - su_reserved - reserved - used).max(0) as usize;
            self.hint.store(hint(self.cap(), free), Ordering::Relaxed);
            let number = info.version.split_whitespace().next().unwrap_or_default();
            Ok(format!("PostgreSQL {number}"))
        }
        .await;
        session.close().await;
        result
    }

    fn concurrency_hint(&self) -> usize {
        self.hint.load(Ordering::Relaxed)
    }

    fn max_name_len(&self) -> usize {
        MAX_NAME_LEN
    }

    async fn create_template(
        &self,
        name: &str,
        migrations: &[Migration],
    ) -> Result<Connection, ClonerError> {
        self.check_name(name)?;
        let session = self.maintenance().await?;
        let created = self.create_database(&session, name, None).await;
        session.close().await;
        created?;
        if let Err(error) = self.migrate(name, migrations).await {
            // A template either is built whole or is not there: a half
            // migrated one would only be a trap for the next run.
            if let Ok(session) = self.maintenance().await {
                let _ = self.drop_with(&session, name).await;
                session.close().await;
            }
            return Err(error);
        }
        Ok(self.connection(name))
    }

    /// Closes the cloner's own sessions on the template: those that are
    /// still going away are waited for, any left are terminated (they carry
    /// the application name `paraclone` and the cloner's login). Sessions
    /// of others are the clone's business (see
    /// [`PostgresOptions::terminate_sessions`]).
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        self.check_name(name)?;
        let session = self.maintenance().await?;
        let result = async {
            let started = Instant::now();
            loop {
                let ours: Vec<Holder> = in_use::holders(&session, name, Some(APPLICATION_NAME))
                    .await?
                    .into_iter()
                    .filter(|h| h.user == self.server.user())
                    .collect();
                if ours.is_empty() {
                    return Ok(());
                }
                if started.elapsed() >= SEAL_WAIT {
                    in_use::terminate(&session, name, &ours, self.server.label()).await?;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        .await;
        session.close().await;
        result
    }

    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError> {
        self.check_name(template)?;
        self.check_name(name)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let session = self.maintenance().await?;
        let result = self.create_database(&session, name, Some(template)).await;
        session.close().await;
        result.map(|()| self.connection(name))
    }

    async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
        self.check_name(name)?;
        let session = self.maintenance().await?;
        let result = self.drop_with(&session, name).await;
        session.close().await;
        result
    }

    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
        let session = self.maintenance().await?;
        let rows = session
            .client()
            .query("SELECT datname::text FROM pg_database ORDER BY 1", &[])
            .await
            .map_err(|source| self.database_error("list the databases of", None, source));
        session.close().await;
        // Compared here rather than with LIKE, where `_` and `%` in the
        // prefix would be wildcards.
        Ok(rows?
            .iter()
            .map(|row| row.get::<_, String>(0))
            .filter(|name| name.starts_with(prefix))
            .collect())
    }

    fn connection(&self, name: &str) -> Connection {
        self.server.connection(name)
    }

    fn server_label(&self) -> String {
        self.server.label().to_owned()
    }
}

/// The concurrency hint: at most `cap`, and at most half the server's free
/// connection slots (the other half is left to the workers' own sessions
/// and to everyone else on the server), but at least one.
fn hint(cap: usize, free: usize) -> usize {
    (free / 2).clamp(1, cap.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_leaves_room_on_busy_servers() {
        assert_eq!(hint(8, 97), 8);
        assert_eq!(hint(8, 10), 5);
        assert_eq!(hint(8, 1), 1);
        assert_eq!(hint(8, 0), 1);
        assert_eq!(hint(32, 97), 32);
    }

    #[test]
    fn new_does_not_contact_the_server_and_hides_the_password() {
        let cloner = PostgresCloner::new(PostgresOptions {
            max_concurrency: Some(3),
            ..PostgresOptions::with_url("postgres://u:hunter2@127.0.0.1:1/m")
        })
        .unwrap();
        assert_eq!(cloner.concurrency_hint(), 3);
        assert_eq!(cloner.server_label(), "postgres://u:***@127.0.0.1:1/m");
        let debug = format!("{cloner:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn long_names_are_refused_not_cut() {
        let cloner = PostgresCloner::new(PostgresOptions::default()).unwrap();
        let name = "é".repeat(32);
        match cloner.check_name(&name) {
            Err(ClonerError::NameTooLong {
                len: 64, max: 63, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(cloner.check_name(&"x".repeat(63)).is_ok());
    }
}
