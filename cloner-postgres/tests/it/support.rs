//! Test support: the server under test, a tokio-postgres [`Probe`], and a
//! guard that drops what a test made.

use std::str::FromStr;

use async_trait::async_trait;
use cloner::conformance::{Probe, Row};
use cloner::naming::{Role, RunId, database_name};
use cloner::quote::Dialect;
use cloner::{BoxError, Cloner, ClonerError, Migration};
use cloner_postgres::{PostgresCloner, PostgresOptions, Strategy};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// The options for the server under test, after checking that it answers.
///
/// # Panics
///
/// When the server cannot be reached, with what to do: under `CI=true` the
/// CI script was to start it; on a developer's machine, how to start it or
/// point the tests elsewhere.
pub(crate) async fn options() -> PostgresOptions {
    let options = PostgresOptions::from_env();
    let cloner = PostgresCloner::new(options.clone())
        .unwrap_or_else(|e| panic!("the test server's URL is not usable: {}", chain(&e)));
    if let Err(e) = cloner.server_version().await {
        let hint = e.hint().unwrap_or("");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true and the PostgreSQL server for the tests is not usable: {}. CI must start it \
                 before the tests (ci/services.sh postgres); {hint}",
                chain(&e)
            );
        }
        panic!(
            "these tests need a PostgreSQL server and none is usable: {}.\n{hint}.\nThen run \
             `cargo test -p cloner-postgres` again.",
            chain(&e)
        );
    }
    options
}

/// A cloner for the server under test and a probe for the same server.
pub(crate) async fn setup() -> (PostgresCloner, PgProbe) {
    let options = options().await;
    pair(options)
}

/// Like [`setup`], with `strategy` named explicitly.
pub(crate) async fn setup_with_strategy(strategy: Strategy) -> (PostgresCloner, PgProbe) {
    let mut options = options().await;
    options.strategy = Some(strategy);
    pair(options)
}

fn pair(options: PostgresOptions) -> (PostgresCloner, PgProbe) {
    let probe = PgProbe {
        url: options.url.clone(),
    };
    (
        PostgresCloner::new(options).expect("a PostgreSQL cloner"),
        probe,
    )
}

/// Runs the kit's SQL with tokio-postgres, one session per call, closed
/// before the call returns (a session left on a template would block its
/// clones).
#[derive(Debug)]
pub(crate) struct PgProbe {
    url: String,
}

impl PgProbe {
    async fn with_client<T>(
        &self,
        database: &str,
        f: impl AsyncFnOnce(&Client) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, BoxError> {
        let (client, task) = connect(&self.url, database, "paraclone-it-probe").await?;
        let result = f(&client).await;
        drop(client);
        let _ = task.await;
        Ok(result?)
    }
}

#[async_trait]
impl Probe for PgProbe {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&self, database: &str, sql: &str) -> Result<(), BoxError> {
        self.with_client(database, async |client| client.batch_execute(sql).await)
            .await
    }

    async fn query(&self, database: &str, sql: &str) -> Result<Vec<Row>, BoxError> {
        // The simple protocol returns every value in PostgreSQL's own text
        // form: deterministic, and the same for a template and its clones.
        let messages = self
            .with_client(database, async |client| client.simple_query(sql).await)
            .await?;
        Ok(messages
            .iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }
}

/// A session on `database` of the server at `url`, with `application_name`,
/// and the task driving it (await it after dropping the client to be sure
/// the session is gone).
pub(crate) async fn connect(
    url: &str,
    database: &str,
    application_name: &str,
) -> Result<(Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::from_str(url)?;
    config.dbname(database).application_name(application_name);
    let (client, connection) = config.connect(NoTls).await?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, task))
}

/// A superuser-ish session on the maintenance database of the server under
/// test, for setting up roles.
pub(crate) async fn admin(options: &PostgresOptions) -> (Client, tokio::task::JoinHandle<()>) {
    let maintenance = tokio_postgres::Config::from_str(&options.url)
        .ok()
        .and_then(|c| c.get_dbname().map(str::to_owned))
        .unwrap_or_else(|| "postgres".to_owned());
    connect(&options.url, &maintenance, "paraclone-it-admin")
        .await
        .expect("a session on the maintenance database")
}

/// The databases of one test, named like a run's (`<base>_pc<run>_<role>`),
/// dropped when the guard goes, also when the test panics (tests run on
/// multi-threaded runtimes, where the guard can block).
#[derive(Debug)]
pub(crate) struct Databases {
    cloner: PostgresCloner,
    base: String,
    run: RunId,
    made: Vec<String>,
}

impl Databases {
    /// A guard for databases whose names start with `base`, dropped through
    /// a cloner for `options`.
    pub(crate) fn new(options: &PostgresOptions, base: &str) -> Databases {
        Databases {
            cloner: PostgresCloner::new(options.clone()).expect("a cloner"),
            base: base.to_owned(),
            run: RunId::generate(),
            made: Vec::new(),
        }
    }

    /// The name of this test's database with `role`, recorded for dropping.
    pub(crate) fn name(&mut self, role: Role) -> String {
        let name = database_name(&self.base, &self.run, role, self.cloner.max_name_len());
        if !self.made.contains(&name) {
            self.made.push(name.clone());
        }
        name
    }

    /// The prefix of every name of this test.
    pub(crate) fn prefix(&self) -> String {
        cloner::naming::run_prefix(&self.base, &self.run, self.cloner.max_name_len())
    }

    /// Creates and seals the template, with a small schema.
    pub(crate) async fn template(&mut self) -> String {
        let name = self.name(Role::Template);
        self.cloner
            .create_template(&name, &[small_migration()])
            .await
            .unwrap_or_else(|e| panic!("creating the template {name:?} failed: {}", chain(&e)));
        self.cloner
            .seal_template(&name)
            .await
            .unwrap_or_else(|e| panic!("sealing the template {name:?} failed: {}", chain(&e)));
        name
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.made);
        let cloner = &self.cloner;
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                for name in names.iter().rev() {
                    if let Err(e) = cloner.drop_database(name).await
                        && !std::thread::panicking()
                    {
                        panic!("dropping {name:?} failed: {}", chain(&e));
                    }
                }
            })
        });
    }
}

/// One table with a row, enough to tell a copy.
pub(crate) fn small_migration() -> Migration {
    Migration {
        name: "0001_small.sql".to_owned(),
        sql: "CREATE TABLE things (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
              label text NOT NULL); INSERT INTO things (label) VALUES ('first');"
            .to_owned(),
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

/// The error of `result`, or a panic naming `what` succeeded.
pub(crate) fn expect_err<T>(result: Result<T, ClonerError>, what: &str) -> ClonerError {
    match result {
        Ok(_) => panic!("{what} succeeded; it must fail"),
        Err(e) => e,
    }
}
