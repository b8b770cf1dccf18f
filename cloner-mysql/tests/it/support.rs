//! Test support: a mysql_async [`Probe`], cloners for the test server, and
//! helpers to run SQL and compare databases.

use std::future::Future;

use async_trait::async_trait;
use cloner::conformance::{Probe, Row, Section, Snapshot};
use cloner::naming::{Role, RunId, database_name};
use cloner::quote::Dialect;
use cloner::{BoxError, Cloner, ClonerError, Connection, Migration};
use cloner_mysql::{CopyMethod, MysqlCloner, MysqlOptions, resolve_url};
use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts, OptsBuilder, Value};

/// The test server's URL.
pub(crate) fn server_url() -> String {
    resolve_url(None)
}

/// A cloner for the test server, after checking that the server answers:
/// every test fails here, with the cloner's own hint, when it does not.
pub(crate) async fn cloner() -> MysqlCloner {
    cloner_with(MysqlOptions::with_url(server_url())).await
}

/// Like [`cloner`], with `options`.
pub(crate) async fn cloner_with(options: MysqlOptions) -> MysqlCloner {
    let cloner = MysqlCloner::new(options).expect("valid options");
    if let Err(e) = cloner.server_version().await {
        panic!(
            "the MySQL/MariaDB test server is not usable: {}\nhint: {}",
            chain(&e),
            e.hint()
                .unwrap_or("set PARACLONE_MYSQL_URL to a server where root may create databases")
        );
    }
    cloner
}

/// A cloner for the test server whose clones get their rows by `copy`.
pub(crate) async fn cloner_copying(copy: CopyMethod) -> MysqlCloner {
    cloner_with(MysqlOptions {
        copy,
        ..MysqlOptions::with_url(server_url())
    })
    .await
}

/// The kit's setup: a cloner copying rows, and a probe on the test server.
pub(crate) async fn setup() -> (MysqlCloner, MysqlProbe) {
    (cloner_copying(CopyMethod::Rows).await, MysqlProbe::new())
}

/// The kit's setup for the file route ([`CopyMethod::Files`]: a clone
/// fails rather than fall back to rows). It needs MariaDB 10.6+ on this
/// machine, with its data directory readable and writable by the tests
/// (root, or the server's own user), as CI has it.
pub(crate) async fn setup_files() -> (MysqlCloner, MysqlProbe) {
    (cloner_copying(CopyMethod::Files).await, MysqlProbe::new())
}

/// Runs the kit's SQL on the test server, one session per call.
#[derive(Debug, Clone)]
pub(crate) struct MysqlProbe {
    url: String,
    /// A `SET time_zone = …` run first in every session, if any.
    time_zone: Option<String>,
}

impl MysqlProbe {
    pub(crate) fn new() -> MysqlProbe {
        MysqlProbe {
            url: server_url(),
            time_zone: None,
        }
    }

    /// A probe whose sessions use `time_zone`.
    pub(crate) fn in_time_zone(zone: &str) -> MysqlProbe {
        MysqlProbe {
            time_zone: Some(zone.to_owned()),
            ..MysqlProbe::new()
        }
    }

    /// A session on `database` (which must exist) or on none.
    pub(crate) async fn session(&self, database: Option<&str>) -> Result<Conn, BoxError> {
        let opts =
            OptsBuilder::from_opts(Opts::from_url(&self.url)?).db_name(database.map(str::to_owned));
        let mut conn = Conn::new(opts).await?;
        if let Some(zone) = &self.time_zone {
            conn.query_drop(format!("SET time_zone = '{zone}'")).await?;
        }
        Ok(conn)
    }
}

#[async_trait]
impl Probe for MysqlProbe {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    async fn execute(&self, database: &str, sql: &str) -> Result<(), BoxError> {
        let mut conn = self.session(Some(database)).await?;
        let result = conn.query_drop(sql).await;
        let _ = conn.disconnect().await;
        Ok(result?)
    }

    async fn query(&self, database: &str, sql: &str) -> Result<Vec<Row>, BoxError> {
        let mut conn = self.session(Some(database)).await?;
        let result: Result<Vec<mysql_async::Row>, _> = conn.query(sql).await;
        let _ = conn.disconnect().await;
        Ok(result?.into_iter().map(render).collect())
    }
}

/// A row with every column as text, as the server printed it.
pub(crate) fn render(row: mysql_async::Row) -> Row {
    row.unwrap()
        .into_iter()
        .map(|value| match value {
            Value::NULL => None,
            Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            other => Some(other.as_sql(false)),
        })
        .collect()
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

/// The rows of `sql` in `database`, panicking with the query on failure.
pub(crate) async fn query(probe: &MysqlProbe, database: &str, sql: &str) -> Vec<Row> {
    probe
        .query(database, sql)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` in {database:?} failed: {}", chain(&*e)))
}

/// The one value of `sql` in `database`.
pub(crate) async fn scalar(probe: &MysqlProbe, database: &str, sql: &str) -> Option<String> {
    let rows = query(probe, database, sql).await;
    assert_eq!(rows.len(), 1, "`{sql}` in {database:?} returned {rows:?}");
    rows[0][0].clone()
}

/// Runs `sql` in `database`, panicking with the statement on failure.
pub(crate) async fn execute(probe: &MysqlProbe, database: &str, sql: &str) {
    if let Err(e) = probe.execute(database, sql).await {
        panic!("`{sql}` failed in {database:?}: {}", chain(&*e));
    }
}

/// Takes a snapshot of `sections` in `database`.
pub(crate) async fn snapshot(probe: &MysqlProbe, database: &str, sections: &[Section]) -> Snapshot {
    Snapshot::take(probe, database, sections)
        .await
        .unwrap_or_else(|e| panic!("could not {}", chain(&e)))
}

/// Panics naming the first difference between `a` and `b`.
pub(crate) fn assert_same(a: &Snapshot, b: &Snapshot, when: &str) {
    if let Some(difference) = a.difference(b) {
        panic!("{when}: {difference}");
    }
}

/// The names of one test's databases, and dropping them at the end, also
/// when the test fails.
pub(crate) struct Names {
    base: String,
    run: RunId,
}

impl Names {
    pub(crate) fn new(base: &str) -> Names {
        Names {
            base: base.to_owned(),
            run: RunId::generate(),
        }
    }

    pub(crate) fn name(&self, role: Role) -> String {
        database_name(&self.base, &self.run, role, cloner_mysql::MAX_NAME_LEN)
    }

    pub(crate) fn template(&self) -> String {
        self.name(Role::Template)
    }

    pub(crate) fn worker(&self, n: u32) -> String {
        self.name(Role::Worker(n))
    }

    pub(crate) fn run(&self) -> &RunId {
        &self.run
    }

    pub(crate) fn prefix(&self) -> String {
        cloner::naming::run_prefix(&self.base, &self.run, cloner_mysql::MAX_NAME_LEN)
    }
}

/// Runs `test`, then drops every database whose name starts with
/// `names.prefix()` (and runs `cleanup`), whether the test passed or not;
/// then passes the test's panic on.
pub(crate) async fn with_cleanup<F>(cloner: &MysqlCloner, names: &Names, test: F)
where
    F: Future<Output = ()>,
{
    use futures_util::FutureExt as _;
    let outcome = std::panic::AssertUnwindSafe(test).catch_unwind().await;
    let left = cloner
        .list_databases(&names.prefix())
        .await
        .expect("list databases");
    for name in &left {
        cloner.drop_database(name).await.expect("drop database");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Creates `name` from `migrations` with `cloner`, panicking on failure.
pub(crate) async fn template(
    cloner: &MysqlCloner,
    name: &str,
    migrations: &[Migration],
) -> Connection {
    let made = cloner.create_template(name, migrations).await;
    made.unwrap_or_else(|e| panic!("creating the template {name:?} failed: {}", chain(&e)))
}

/// Migrations from `(name, sql)` pairs.
pub(crate) fn migrations(files: &[(&str, &str)]) -> Vec<Migration> {
    files
        .iter()
        .map(|(name, sql)| Migration {
            name: (*name).to_owned(),
            sql: (*sql).to_owned(),
        })
        .collect()
}

/// Whether the server is MariaDB (sequences exist there only).
pub(crate) async fn is_mariadb(cloner: &MysqlCloner) -> bool {
    cloner
        .server_version()
        .await
        .expect("server version")
        .starts_with("MariaDB")
}

/// A [`Cloner`] whose clones go through [`MysqlCloner::clone_to`]: rows
/// streamed through the client instead of copied by the server.
#[derive(Debug)]
pub(crate) struct Streamed(pub(crate) MysqlCloner);

#[async_trait]
impl Cloner for Streamed {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    async fn server_version(&self) -> Result<String, ClonerError> {
        self.0.server_version().await
    }
    fn concurrency_hint(&self) -> usize {
        self.0.concurrency_hint()
    }
    fn max_name_len(&self) -> usize {
        self.0.max_name_len()
    }
    async fn create_template(
        &self,
        name: &str,
        migrations: &[Migration],
    ) -> Result<Connection, ClonerError> {
        self.0.create_template(name, migrations).await
    }
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        self.0.seal_template(name).await
    }
    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError> {
        self.0.clone_to(template, &self.0, name).await
    }
    async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
        self.0.drop_database(name).await
    }
    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
        self.0.list_databases(prefix).await
    }
    fn connection(&self, name: &str) -> Connection {
        self.0.connection(name)
    }
    fn server_label(&self) -> String {
        self.0.server_label()
    }
}
