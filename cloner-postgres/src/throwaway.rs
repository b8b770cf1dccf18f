//! What a throwaway server (one a test runner starts for its run alone)
//! is told once it accepts connections: its superuser's password. The
//! server's data directory is a copy of a blank cluster made once, with no
//! password and `trust` on its Unix socket (whose directory only the
//! server's user may enter); TCP logins need the password set here.

use std::path::Path;
use std::time::Duration;

use cloner::ClonerError;
use cloner::quote::{Dialect, quote_ident, quote_literal};
use tokio_postgres::NoTls;

use crate::server::APPLICATION_NAME;

/// How long reaching the server's socket may take: it is local and
/// already accepting connections, so anything longer is a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long closing the session waits for the server to see it go.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets the password of role `user` to `password`, logged in as `user`
/// through the server's Unix socket in `socket_dir` (port `port` names
/// the socket file, `.s.PGSQL.<port>`). The password is offered at login
/// too, so this works whether the socket trusts its users or asks for a
/// password. It is stored as a SCRAM-SHA-256 secret whatever the server's
/// `password_encryption` (PostgreSQL 10 to 13 default to MD5, which a
/// `scram-sha-256` line of `pg_hba.conf` would refuse).
///
/// `ALTER ROLE … PASSWORD` takes no bind parameters: the password is sent
/// as a quoted literal. No error names it.
pub async fn set_password(
    socket_dir: &Path,
    port: u16,
    user: &str,
    password: &str,
) -> Result<(), ClonerError> {
    let label = socket_label(socket_dir, port);
    let mut config = tokio_postgres::Config::new();
    config
        .host_path(socket_dir)
        .port(port)
        .user(user)
        .password(password)
        .dbname("postgres")
        .application_name(APPLICATION_NAME)
        .connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) =
        config
            .connect(NoTls)
            .await
            .map_err(|source| ClonerError::Connect {
                server: label.clone(),
                hint: None,
                source: Box::new(source),
            })?;
    // Errors of the connection itself surface as errors of the query.
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = client
        .batch_execute(&statements(user, password))
        .await
        .map_err(|source| ClonerError::Database {
            op: "set the password of the superuser on",
            name: label,
            source: Box::new(source),
        });
    drop(client);
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, task).await;
    result
}

/// The statements that give `user` the password `password`.
fn statements(user: &str, password: &str) -> String {
    format!(
        "SET password_encryption = 'scram-sha-256';\nALTER ROLE {} PASSWORD {}",
        quote_ident(Dialect::Postgres, user),
        quote_literal(Dialect::Postgres, password)
    )
}

/// The socket's path, for messages.
fn socket_label(socket_dir: &Path, port: u16) -> String {
    socket_dir
        .join(format!(".s.PGSQL.{port}"))
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_a_quoted_literal_and_the_role_a_quoted_name() {
        assert_eq!(
            statements("postgres", "it's"),
            "SET password_encryption = 'scram-sha-256';\n\
             ALTER ROLE \"postgres\" PASSWORD 'it''s'"
        );
    }

    #[tokio::test]
    async fn an_absent_server_is_a_connect_error_naming_the_socket_not_the_password() {
        let dir = std::env::temp_dir().join("paraclone-no-such-socket-dir");
        let error = set_password(&dir, 1, "postgres", "hunter2")
            .await
            .expect_err("nothing listens there");
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(matches!(error, ClonerError::Connect { .. }), "{text}");
        assert!(text.contains(".s.PGSQL.1"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
