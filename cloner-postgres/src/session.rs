//! [`Session`]: one connection of the cloner's own, opened per operation and
//! closed for certain, and the translation of connection failures into
//! [`ClonerError`]s with advice.

use std::time::Duration;

use cloner::ClonerError;
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use crate::server::Server;

/// How long closing a session waits for the server to see it go.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A client and the task driving its connection.
pub(crate) struct Session {
    client: Client,
    task: JoinHandle<()>,
}

impl Session {
    /// Opens a session to database `database` on `server`.
    ///
    /// `maintenance` says whether `database` is the server's maintenance
    /// database (whose absence is a configuration problem) or one the
    /// cloner made (whose absence is [`ClonerError::Missing`]).
    pub(crate) async fn open(
        server: &Server,
        database: &str,
        maintenance: bool,
    ) -> Result<Session, ClonerError> {
        let (client, connection) = server
            .config_for(database)
            .connect(NoTls)
            .await
            .map_err(|e| connect_error(server, database, maintenance, e))?;
        // Errors of the connection itself (the server going away) surface
        // as errors of the client's next call.
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Session { client, task })
    }

    /// The session's client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Closes the session and waits until the connection is shut, so that
    /// the server no longer counts it as a user of its database.
    pub(crate) async fn close(self) {
        // Dropping the last client makes the connection send Terminate and
        // end; awaiting its task waits for that.
        drop(self.client);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.task).await;
    }
}

/// Why a session to `database` could not be opened, with what to do.
pub(crate) fn connect_error(
    server: &Server,
    database: &str,
    maintenance: bool,
    error: tokio_postgres::Error,
) -> ClonerError {
    let code = error.code().cloned();
    if code == Some(SqlState::INVALID_CATALOG_NAME) && !maintenance {
        return ClonerError::Missing {
            name: database.to_owned(),
        };
    }
    let hint = match code {
        Some(SqlState::INVALID_PASSWORD) | Some(SqlState::INVALID_AUTHORIZATION_SPECIFICATION) => {
            Some(login_hint())
        }
        Some(SqlState::INVALID_CATALOG_NAME) => Some(format!(
            "the server has no database {database:?} for paraclone's own sessions: name an existing \
             one (usually postgres) as the path of the server URL"
        )),
        Some(SqlState::TOO_MANY_CONNECTIONS) => Some(
            "the server has no connection slot left: lower max_concurrency under \
             [backends.postgres], or raise the server's max_connections"
                .to_owned(),
        ),
        Some(SqlState::CANNOT_CONNECT_NOW) => {
            Some("the server is starting up or shutting down: try again in a moment".to_owned())
        }
        Some(_) => None,
        // tokio-postgres reports a login it could not complete (a password
        // asked for but not given) without a server error code.
        None if error.to_string() == "authentication error" => Some(login_hint()),
        None => Some(start_hint(server)),
    };
    ClonerError::Connect {
        server: server.label().to_owned(),
        hint,
        source: Box::new(error),
    }
}

fn login_hint() -> String {
    "the server refused the login: check the user and password of the server URL \
     ([backends.postgres] url in paraclone.toml, or PARACLONE_POSTGRES_URL) and the \
     server's pg_hba.conf"
        .to_owned()
}

/// What to do when no PostgreSQL answers at the server's address.
pub(crate) fn start_hint(server: &Server) -> String {
    format!(
        "is PostgreSQL running at {}? Start it (on Debian: `pg_ctlcluster <version> main start`, \
         `pg_lsclusters` lists the clusters; or `ci/services.sh postgres`), or point paraclone at \
         a running server with `url` under [backends.postgres] in paraclone.toml or the {} \
         environment variable",
        server.address(),
        crate::URL_ENV
    )
}
