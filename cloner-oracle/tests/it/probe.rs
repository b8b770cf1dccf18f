//! [`OraProbe`]: the kit's way into a database, logged in as its user with
//! the password the cloner gave it, as a worker would.

use std::sync::Arc;

use async_trait::async_trait;
use cloner::conformance::{Probe, Row};
use cloner::quote::Dialect;
use cloner::{BoxError, Cloner};
use cloner_oracle::OracleCloner;
use cloner_oracle::worker::parse_url;

/// Runs the kit's SQL as the database's own user, one session per call
/// (closed before the call returns: a session left open would block a
/// drop).
#[derive(Debug)]
pub(crate) struct OraProbe {
    cloner: Arc<OracleCloner>,
}

impl OraProbe {
    pub(crate) fn new(cloner: Arc<OracleCloner>) -> OraProbe {
        OraProbe { cloner }
    }

    async fn with_session<T, F>(&self, database: &str, f: F) -> Result<T, BoxError>
    where
        T: Send + 'static,
        F: FnOnce(&oracle::Connection) -> Result<T, oracle::Error> + Send + 'static,
    {
        let params = parse_url(&self.cloner.connection(database).url)?;
        tokio::task::spawn_blocking(move || {
            let conn = oracle::Connection::connect(
                &params.user,
                &params.password,
                &params.connect_string,
            )?;
            let result = f(&conn);
            let _ = conn.close();
            result
        })
        .await?
        .map_err(Into::into)
    }

    /// Runs `sql` as `database`'s user and returns the error's ORA- code, if any.
    pub(crate) async fn execute_code(&self, database: &str, sql: &str) -> Option<i32> {
        let sql = sql.to_owned();
        let result = self
            .with_session(database, move |conn| {
                conn.execute(&sql, &[])?;
                conn.commit()
            })
            .await;
        match result {
            Ok(()) => None,
            Err(e) => Some(
                e.downcast_ref::<oracle::Error>()
                    .and_then(oracle::Error::oci_code)
                    .unwrap_or(-1),
            ),
        }
    }
}

#[async_trait]
impl Probe for OraProbe {
    fn dialect(&self) -> Dialect {
        Dialect::Oracle
    }

    async fn execute(&self, database: &str, sql: &str) -> Result<(), BoxError> {
        let sql = sql.to_owned();
        self.with_session(database, move |conn| {
            conn.execute(&sql, &[])?;
            conn.commit()
        })
        .await
    }

    async fn query(&self, database: &str, sql: &str) -> Result<Vec<Row>, BoxError> {
        let sql = sql.to_owned();
        self.with_session(database, move |conn| {
            let rows = conn.query(&sql, &[])?;
            let width = rows.column_info().len();
            let mut out = Vec::new();
            for row in rows {
                let row = row?;
                out.push(
                    (0..width)
                        .map(|i| row.get::<usize, Option<String>>(i))
                        .collect::<Result<Row, _>>()?,
                );
            }
            Ok(out)
        })
        .await
    }
}

/// An error and its sources, `: `-separated.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}
