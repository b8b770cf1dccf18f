//! Other sessions on a template: finding them, naming them, terminating them.
//!
//! PostgreSQL refuses to copy a database while any other session is
//! connected to it ("source database … is being accessed by other users",
//! SQLSTATE 55006). These are the queries the clone's wait loop runs.

use std::fmt;
use std::time::Duration;

use cloner::ClonerError;
use tokio_postgres::error::SqlState;

use crate::session::Session;

/// A session connected to a database, as `pg_stat_activity` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) pid: i32,
    pub(crate) application_name: String,
    pub(crate) user: String,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} (application_name {:?}, user {:?})",
            self.pid, self.application_name, self.user
        )
    }
}

/// The sessions other than `session` itself connected to `database`;
/// with `only_application`, only those with that application name.
pub(crate) async fn holders(
    session: &Session,
    database: &str,
    only_application: Option<&str>,
) -> Result<Vec<Holder>, ClonerError> {
    let rows = session
        .client()
        .query(
            "SELECT pid, coalesce(application_name, ''), coalesce(usename::text, '') \
             FROM pg_stat_activity \
             WHERE datname = $1::text AND pid <> pg_backend_pid() \
               AND ($2::text IS NULL OR application_name = $2::text) \
             ORDER BY pid",
            &[&database, &only_application],
        )
        .await
        .map_err(|source| ClonerError::Database {
            op: "list the sessions on",
            name: database.to_owned(),
            source: Box::new(source),
        })?;
    Ok(rows
        .iter()
        .map(|row| Holder {
            pid: row.get(0),
            application_name: row.get(1),
            user: row.get(2),
        })
        .collect())
}

/// Terminates the sessions `holders` (which were connected to
/// `database`), as far as they still are.
pub(crate) async fn terminate(
    session: &Session,
    database: &str,
    holders: &[Holder],
    server: &str,
) -> Result<(), ClonerError> {
    let pids: Vec<i32> = holders.iter().map(|h| h.pid).collect();
    session
        .client()
        .query(
            // Only sessions still on `database`: a pid may have been reused.
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1::text AND pid = ANY($2) AND pid <> pg_backend_pid()",
            &[&database, &pids],
        )
        .await
        .map_err(|source| {
            if source.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
                ClonerError::Privilege {
                    privilege: "pg_signal_backend".to_owned(),
                    server: server.to_owned(),
                    source: Box::new(source),
                }
            } else {
                ClonerError::Database {
                    op: "terminate the sessions on",
                    name: database.to_owned(),
                    source: Box::new(source),
                }
            }
        })?;
    Ok(())
}

/// The text of [`ClonerError::InUse`]'s `sessions`: who holds the template,
/// how long they were waited for and what to do.
pub(crate) fn describe(holders: &[Holder], waited: Duration, terminating: bool) -> String {
    let who = if holders.is_empty() {
        "sessions that left again before they could be named".to_owned()
    } else {
        holders
            .iter()
            .map(Holder::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let advice = if terminating {
        "they kept coming back after being terminated: stop what opens them"
    } else {
        "close them (a connection pool, an open psql or IDE session), or set \
         terminate_sessions = true under [backends.postgres] to end them"
    };
    format!(
        "{who}; waited {:.1}s for them to leave; {advice}",
        waited.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_named_with_advice() {
        let holders = [
            Holder {
                pid: 42,
                application_name: "psql".to_owned(),
                user: "app".to_owned(),
            },
            Holder {
                pid: 43,
                application_name: String::new(),
                user: "postgres".to_owned(),
            },
        ];
        let text = describe(&holders, Duration::from_millis(10_040), false);
        assert_eq!(
            text,
            "pid 42 (application_name \"psql\", user \"app\"), pid 43 (application_name \"\", \
             user \"postgres\"); waited 10.0s for them to leave; close them (a connection pool, an \
             open psql or IDE session), or set terminate_sessions = true under [backends.postgres] \
             to end them"
        );
        assert!(describe(&[], Duration::ZERO, true).starts_with("sessions that left"));
    }
}
