//! Dropping a database (user): idempotent, and patient with sessions that
//! are still closing.

use std::time::{Duration, Instant};

use cloner::ClonerError;

use crate::error::{OracleError, ora};
use crate::io::session::{exec, rows};
use crate::oracle_cloner::Shared;
use crate::plan::statements::{
    SESSIONS_OF_USER, SessionInfo, describe_sessions, drop_user, kill_session,
};

/// The first wait after ORA-01940; it doubles up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(50);
const MAX_DELAY: Duration = Duration::from_secs(1);

/// Drops user `name` with everything it owns (and its own tablespace, if
/// the cloner gives users one). A user that does not exist is dropped
/// already. While the user still has sessions (a worker's connection
/// being torn down, ORA-01940) the drop is retried with backoff for the
/// configured time, ending those sessions first with `terminate_sessions`;
/// then it fails naming them.
pub(crate) fn drop_database(
    shared: &Shared,
    conn: &oracle::Connection,
    name: &str,
) -> Result<(), ClonerError> {
    let mut statements = drop_user(name, shared.options.own_tablespaces).into_iter();
    let drop_user_sql = statements.next().expect("DROP USER comes first");
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        let Err(error) = exec(conn, &drop_user_sql) else {
            break;
        };
        match error.oci_code() {
            Some(ora::NO_SUCH_USER) => break,
            Some(ora::USER_CONNECTED) => {
                if started.elapsed() >= shared.options.drop_timeout {
                    let sessions = sessions(conn, name).unwrap_or_default();
                    let advice = if shared.options.terminate_sessions {
                        "they kept coming back after being killed: stop what opens them"
                    } else {
                        "close them (a connection pool or an open SQL client on the test database), or \
                         set terminate_sessions = true under [backends.oracle] to end them"
                    };
                    return Err(ClonerError::Database {
                        op: "drop user",
                        name: name.to_owned(),
                        source: Box::new(OracleError::message(format!(
                            "ORA-01940: the user is still connected after {:.1}s: {}; {advice}",
                            started.elapsed().as_secs_f64(),
                            describe_sessions(&sessions)
                        ))),
                    });
                }
                if shared.options.terminate_sessions {
                    for session in sessions(conn, name).unwrap_or_default() {
                        let _ = exec(conn, &kill_session(&session));
                    }
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(MAX_DELAY);
            }
            Some(ora::INSUFFICIENT_PRIVILEGES) => {
                return Err(ClonerError::Privilege {
                    privilege: "DROP USER".to_owned(),
                    server: shared.server.label().to_owned(),
                    source: Box::new(shared.oracle_error(&error)),
                });
            }
            _ => return Err(shared.database_error("drop user", name, &error)),
        }
    }
    for sql in statements {
        if let Err(error) = exec(conn, &sql)
            && error.oci_code() != Some(ora::NO_SUCH_TABLESPACE)
        {
            return Err(shared.database_error("drop the tablespace of", name, &error));
        }
    }
    Ok(())
}

/// The sessions of user `name`, from `v$session`.
fn sessions(conn: &oracle::Connection, name: &str) -> Result<Vec<SessionInfo>, oracle::Error> {
    Ok(rows(conn, SESSIONS_OF_USER, &[("name", &name)])?
        .into_iter()
        .filter_map(|row| {
            let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            Some(SessionInfo {
                sid: text(0).parse().ok()?,
                serial: text(1).parse().ok()?,
                status: text(2),
                program: text(3),
                machine: text(4),
                os_user: text(5),
            })
        })
        .collect())
}
