//! [`MysqlCloner`]: the [`Cloner`] for MySQL and MariaDB.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use cloner::quote::{Dialect, quote_ident};
use cloner::{Cloner, ClonerError, Connection, Migration};
use mysql_async::prelude::Queryable as _;
use tokio::sync::{OnceCell, Semaphore};

use crate::dump::{self, DumpFailure};
use crate::errors::{
    BAD_DB, DB_CREATE_EXISTS, EMPTY_QUERY, Failure, ObjectError, missing_privilege,
};
use crate::options::{CopyMethod, DEFAULT_CHARSET, MysqlOptions};
use crate::restore::{self, Files, Rows};
use crate::schema::{self, ReadError, Schema};
use crate::script;
use crate::server::Server;
use crate::tablespace::{self, Datadir, ExportError, ExportGuard, Exports, Transported};

/// MySQL's and MariaDB's limit on database names: 64 characters. Names are
/// checked in bytes, which is never more lenient.
pub const MAX_NAME_LEN: usize = 64;

/// How much InnoDB buffer pool one concurrent clone gets, at least, when
/// the config sets no `max_concurrency`: on a server with the stock 128 MiB
/// pool, 4 clones at a time finished 8 clones sooner than 8 at a time
/// (see the crate documentation).
const BUFFER_POOL_PER_CLONE: u64 = 32 << 20;

/// The template definitions read so far, one cell per template name, so
/// that concurrent first clones read it once.
type SchemaCache = Mutex<HashMap<String, Arc<OnceCell<Arc<Schema>>>>>;

/// How many notes a [`CopyReport`] keeps.
const MAX_NOTES: usize = 20;

/// How the clones made so far got their rows: for telling the user which
/// route was taken, and for tests that must know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Tables whose tablespace files were copied (see
    /// [`CopyMethod::Files`]).
    pub tables_by_files: usize,
    /// Tables filled by `INSERT … SELECT` or streamed rows.
    pub tables_by_rows: usize,
    /// Why tables went by rows under [`CopyMethod::Auto`] (the file route
    /// was not possible, or the server refused a table's import); the
    /// first few, each once.
    pub notes: Vec<String>,
}

impl CopyReport {
    fn note(&mut self, note: String) {
        if self.notes.len() < MAX_NOTES && !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// Clones MySQL and MariaDB databases: reads a template's definition once,
/// then builds each clone with server-side row copies, many at once. See
/// the [crate documentation](crate) for why and how.
pub struct MysqlCloner {
    options: MysqlOptions,
    server: Server,
    version: OnceCell<String>,
    /// The concurrency hint: the configured maximum until the server has
    /// been asked how many connection slots it has free.
    hint: AtomicUsize,
    /// Bounds the clone operations of this cloner, whoever calls them.
    permits: Semaphore,
    schemas: SchemaCache,
    /// Where the file route finds the server's files, or why it cannot;
    /// decided with the version.
    datadir: OnceLock<Result<Datadir, String>>,
    exports: Exports,
    report: Mutex<CopyReport>,
}

impl fmt::Debug for MysqlCloner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlCloner")
            .field("options", &self.options)
            .field("version", &self.version.get())
            .field("hint", &self.hint.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl MysqlCloner {
    /// A cloner for the server in `options`. Reads the URL but does not
    /// contact the server: the first contact is the first operation.
    pub fn new(options: MysqlOptions) -> Result<MysqlCloner, ClonerError> {
        let server = Server::parse(&options.url)?;
        for (what, value) in [
            ("character set", options.charset.as_deref()),
            ("collation", options.collation.as_deref()),
        ] {
            if let Some(value) = value.filter(|v| !is_name(v)) {
                return Err(ClonerError::Connect {
                    server: server.label().to_owned(),
                    hint: Some(format!(
                        "a {what} is a name of letters, digits and underscores, like utf8mb4 or \
                         utf8mb4_unicode_ci"
                    )),
                    source: format!("{value:?} is not a {what} name").into(),
                });
            }
        }
        let cap = options.cap();
        Ok(MysqlCloner {
            options,
            server,
            version: OnceCell::new(),
            hint: AtomicUsize::new(cap),
            permits: Semaphore::new(cap),
            schemas: Mutex::new(HashMap::new()),
            datadir: OnceLock::new(),
            exports: Exports::default(),
            report: Mutex::new(CopyReport::default()),
        })
    }

    /// How the clones made so far got their rows.
    pub fn copy_report(&self) -> CopyReport {
        self.report.lock().expect("not poisoned").clone()
    }

    fn note(&self, note: String) {
        self.report.lock().expect("not poisoned").note(note);
    }

    fn record(&self, transported: &Transported, tables: usize) {
        let mut report = self.report.lock().expect("not poisoned");
        report.tables_by_files += transported.files;
        report.tables_by_rows += tables - transported.files;
        for refused in &transported.refused {
            report.note(format!("import refused, copied by rows: {refused}"));
        }
    }

    /// Where the file route finds the server's files, or why the route is
    /// not possible.
    async fn datadir(&self) -> Result<Result<Datadir, String>, ClonerError> {
        self.server_version().await?;
        Ok(self.datadir.get().cloned().expect("set with the version"))
    }

    /// The file route is not possible for `clone`, for the reason `why`:
    /// an error under [`CopyMethod::Files`], a note otherwise.
    fn without_files(&self, clone: &str, why: String) -> Result<(), ClonerError> {
        if self.options.copy == CopyMethod::Files {
            return Err(ClonerError::Database {
                op: "copy table files into",
                name: clone.to_owned(),
                source: why.into(),
            });
        }
        self.note(format!("file route not taken: {why}"));
        Ok(())
    }

    /// The template's exported files for the file route, or `None` when
    /// clones go by rows (and why is noted).
    async fn export(
        &self,
        template: &str,
        clone: &str,
    ) -> Result<Option<ExportGuard>, ClonerError> {
        if self.options.copy == CopyMethod::Rows {
            return Ok(None);
        }
        let unavailable = |why: String| self.without_files(clone, why).map(|()| None);
        let datadir = match self.datadir().await? {
            Ok(datadir) => datadir,
            Err(why) => return unavailable(why),
        };
        let min_bytes = match self.options.copy {
            CopyMethod::Auto => tablespace::AUTO_MIN_FILE_BYTES,
            CopyMethod::Files | CopyMethod::Rows => 0,
        };
        match self
            .exports
            .acquire(&self.server, &datadir, template, min_bytes)
            .await
        {
            Ok(guard) => Ok(Some(guard)),
            Err(ExportError::Unavailable(why)) => unavailable(why),
            Err(ExportError::Failed(e)) if self.options.copy == CopyMethod::Files => {
                Err(self.classify(e, "export the template", template))
            }
            Err(ExportError::Failed(e)) => unavailable(format!("{e}: {}", e.source)),
        }
    }

    /// The options this cloner was made with.
    pub fn options(&self) -> &MysqlOptions {
        &self.options
    }

    /// Writes a `mysqldump`-compatible SQL dump of `template` to `path`
    /// (schema with routines, views, triggers and events, and every row),
    /// loadable with `mariadb <database> < path` or `mysql <database> <
    /// path` into an existing database. See the [crate documentation](crate).
    pub async fn dump_template(&self, template: &str, path: &Path) -> Result<(), ClonerError> {
        check_name(template)?;
        let schema = self.schema(template).await?;
        let version = self.server_version().await?;
        let io = |source| ClonerError::Io {
            op: "write the dump",
            path: path.to_owned(),
            source,
        };
        let file = tokio::fs::File::create(path).await.map_err(io)?;
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let mut conn = restore::session(&self.server, template)
            .await
            .map_err(|f| self.failure(f, "dump database", template))?;
        let result = dump::write(&mut out, &mut conn, &schema, template, &version).await;
        let _ = conn.disconnect().await;
        match result {
            Ok(()) => Ok(()),
            Err(DumpFailure::Io(source)) => Err(io(source)),
            Err(DumpFailure::Object(e)) => Err(self.classify(e, "dump database", template)),
        }
    }

    /// Clones `template` of this cloner's server into `name` on `target`'s
    /// server, streaming the rows through the client: the fallback for a
    /// template on another server, where `INSERT … SELECT` cannot reach it.
    /// Slower than [`Cloner::clone_database`] (every row crosses the
    /// network twice), but the result is the same. `target` may be this
    /// cloner.
    pub async fn clone_to(
        &self,
        template: &str,
        target: &MysqlCloner,
        name: &str,
    ) -> Result<Connection, ClonerError> {
        check_name(template)?;
        let schema = self.schema(template).await?;
        target
            .build_clone(
                &schema,
                name,
                Rows::Stream {
                    source: &self.server,
                    template,
                },
                None,
            )
            .await
    }

    /// Creates `name` with the template's defaults and fills it, by files
    /// where `export` has them.
    async fn build_clone(
        &self,
        schema: &Schema,
        name: &str,
        rows: Rows<'_>,
        export: Option<&ExportGuard>,
    ) -> Result<Connection, ClonerError> {
        check_name(name)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.create_database(name, &schema.charset, Some(&schema.collation))
            .await?;
        let clone_dir = match (export, self.datadir.get()) {
            (Some(export), Some(Ok(datadir))) if !export.files.stems.is_empty() => {
                match datadir.database_dir(name) {
                    Some(dir) if dir.is_dir() => Some(dir),
                    Some(dir) => {
                        let why = format!(
                            "{} did not appear when database {name:?} was created: {} is not \
                             the server's data directory as this machine sees it",
                            dir.display(),
                            datadir.path.display()
                        );
                        if let Err(e) = self.without_files(name, why) {
                            let _ = self.drop_database(name).await;
                            return Err(e);
                        }
                        None
                    }
                    None => {
                        self.note(format!(
                            "database {name:?}: names with non-ASCII characters go by rows"
                        ));
                        None
                    }
                }
            }
            _ => None,
        };
        let rows = match (rows, export, &clone_dir) {
            (Rows::ServerSide { template, .. }, Some(export), Some(clone_dir)) => {
                Rows::ServerSide {
                    template,
                    files: Some(Files {
                        template: &export.files,
                        clone_dir,
                    }),
                }
            }
            (rows, _, _) => rows,
        };
        let result = restore::restore(
            &self.server,
            schema,
            name,
            rows,
            self.options.table_parallelism(),
        )
        .await;
        match result {
            Ok(transported) => {
                self.record(&transported, schema.tables.len());
                Ok(self.connection(name))
            }
            Err(failure) => {
                // Nothing half-made stays behind.
                let _ = self.drop_database(name).await;
                Err(self.failure(failure, "clone into database", name))
            }
        }
    }

    /// The definition of `template`, read on first use and kept until the
    /// template is created, sealed or dropped through this cloner again.
    async fn schema(&self, template: &str) -> Result<Arc<Schema>, ClonerError> {
        let cell = {
            let mut schemas = self.schemas.lock().expect("not poisoned");
            Arc::clone(schemas.entry(template.to_owned()).or_default())
        };
        cell.get_or_try_init(|| async {
            let mut conn = self.server.connect().await?;
            let result = schema::read(&mut conn, template).await;
            let _ = conn.disconnect().await;
            match result {
                Ok(schema) => Ok(Arc::new(schema)),
                Err(ReadError::Missing) => Err(ClonerError::Missing {
                    name: template.to_owned(),
                }),
                Err(ReadError::Unsupported(what)) => Err(ClonerError::Unsupported {
                    backend: "mysql",
                    what,
                }),
                Err(ReadError::Failed(e)) => Err(self.classify(e, "read the template", template)),
            }
        })
        .await
        .cloned()
    }

    fn forget_schema(&self, name: &str) {
        self.schemas.lock().expect("not poisoned").remove(name);
    }

    /// `CREATE DATABASE name CHARACTER SET … [COLLATE …]`.
    async fn create_database(
        &self,
        name: &str,
        charset: &str,
        collation: Option<&str>,
    ) -> Result<(), ClonerError> {
        let mut sql = format!(
            "CREATE DATABASE {} CHARACTER SET {}",
            ident(name),
            schema::literal(charset)
        );
        if let Some(collation) = collation {
            sql.push_str(" COLLATE ");
            sql.push_str(&schema::literal(collation));
        }
        let mut conn = self.server.connect().await?;
        let result = conn.query_drop(sql).await;
        let _ = conn.disconnect().await;
        result.map_err(|e| match crate::errors::code(&e) {
            Some(DB_CREATE_EXISTS) => ClonerError::Exists {
                name: name.to_owned(),
            },
            _ => self.classify(
                ObjectError::new("create the database", "CREATE", e),
                "create database",
                name,
            ),
        })
    }

    /// Applies `migrations` to the new database `name`, one session for
    /// all of them, each file one multi-statement text query (or, when it
    /// uses `DELIMITER`, one query per statement).
    async fn migrate(&self, name: &str, migrations: &[Migration]) -> Result<(), ClonerError> {
        let mut conn = self.server.connect().await?;
        let result = async {
            conn.query_drop(format!("USE {}", ident(name)))
                .await
                .map_err(|e| {
                    self.classify(
                        ObjectError::new("open the database", "SELECT", e),
                        "create database",
                        name,
                    )
                })?;
            for migration in migrations {
                for statement in script::statements(&migration.sql) {
                    if script::is_blank(&statement) {
                        continue;
                    }
                    match conn.query_drop(statement.as_str()).await {
                        Ok(()) => {}
                        Err(e) if crate::errors::code(&e) == Some(EMPTY_QUERY) => {}
                        Err(e) => return Err(self.migration_error(migration, name, e)),
                    }
                }
            }
            Ok(())
        }
        .await;
        let _ = conn.disconnect().await;
        result
    }

    fn migration_error(
        &self,
        migration: &Migration,
        database: &str,
        error: mysql_async::Error,
    ) -> ClonerError {
        if let Some(privilege) = missing_privilege(&error, "CREATE") {
            return ClonerError::Privilege {
                privilege,
                server: self.server.label().to_owned(),
                source: Box::new(ObjectError::new(
                    format!("run migration {} on {database:?}", migration.name),
                    "CREATE",
                    error,
                )),
            };
        }
        ClonerError::Migration {
            migration: migration.name.clone(),
            database: database.to_owned(),
            source: crate::errors::innermost(error),
        }
    }

    fn failure(&self, failure: Failure, op: &'static str, name: &str) -> ClonerError {
        match failure {
            Failure::Cloner(e) => e,
            Failure::Object(e) => self.classify(e, op, name),
        }
    }

    /// A failed statement as a [`ClonerError`]: a missing privilege named
    /// as such, anything else as a failure of `op` on `name`.
    fn classify(&self, error: ObjectError, op: &'static str, name: &str) -> ClonerError {
        if let Some(privilege) = error.missing_privilege() {
            return ClonerError::Privilege {
                privilege,
                server: self.server.label().to_owned(),
                source: Box::new(error),
            };
        }
        if error.code() == Some(BAD_DB) {
            return ClonerError::Missing {
                name: name.to_owned(),
            };
        }
        ClonerError::Database {
            op,
            name: name.to_owned(),
            source: Box::new(error),
        }
    }

    /// Where the file route finds the files of the server whose
    /// `VERSION()` and `@@datadir` these are: the configured `datadir`,
    /// else the server's own; or why the route is not possible.
    fn find_datadir(&self, version: &str, server_datadir: String) -> Result<Datadir, String> {
        if !files_supported(version) {
            return Err(format!(
                "the file route needs MariaDB 10.6 or later, the server is {}",
                version_label(version)
            ));
        }
        if !cfg!(unix) {
            return Err("the file route is built for Unix only".to_owned());
        }
        let path = self
            .options
            .datadir
            .clone()
            .unwrap_or_else(|| PathBuf::from(server_datadir));
        if std::fs::read_dir(&path).is_err() {
            return Err(format!(
                "the server's data directory {} cannot be read here (the server runs \
                 elsewhere or as another user; set `datadir` under [backends.mysql] if \
                 its files are mounted here)",
                path.display()
            ));
        }
        Ok(Datadir { path })
    }

    async fn ask_version(&self) -> Result<String, ClonerError> {
        let mut conn = self.server.connect().await?;
        let result = async {
            let version: Option<(String, u64, u64, String)> = conn
                .query_first(
                    "SELECT VERSION(), @@max_connections, @@innodb_buffer_pool_size, @@datadir",
                )
                .await?;
            // SHOW STATUS needs no privilege, unlike the processlist.
            let connected: Option<(String, u64)> = conn
                .query_first("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
                .await?;
            let (version, max, pool, datadir) = version.unwrap_or_default();
            let connected = connected.map_or(0, |(_, n)| n);
            Ok::<_, mysql_async::Error>((version, max, pool, datadir, connected))
        }
        .await;
        let _ = conn.disconnect().await;
        let (version, max_connections, buffer_pool, datadir, connected) = result.map_err(|e| {
            self.classify(
                ObjectError::new("ask the server version", "USAGE", e),
                "ask the version of",
                "",
            )
        })?;
        let free = usize::try_from(max_connections.saturating_sub(connected)).unwrap_or(usize::MAX);
        let _ = self.datadir.set(self.find_datadir(&version, datadir));
        // Without a configured maximum, a small buffer pool lowers the
        // default: see the crate documentation for the measurements.
        let pool_bound = match self.options.max_concurrency {
            Some(_) => usize::MAX,
            None => usize::try_from(buffer_pool / BUFFER_POOL_PER_CLONE).unwrap_or(usize::MAX),
        };
        let per_clone = self.options.table_parallelism() + 1;
        let hint = hint(self.options.cap().min(pool_bound.max(1)), free, per_clone);
        // Clones made without the runner (which honours the hint) are
        // held to it too.
        let cap = self.options.cap();
        if hint < cap {
            self.permits.forget_permits(cap - hint);
        }
        self.hint.store(hint, Ordering::Relaxed);
        Ok(version_label(&version))
    }
}

#[async_trait]
impl Cloner for MysqlCloner {
    fn backend(&self) -> &'static str {
        "mysql"
    }

    /// `MariaDB 10.11.19` or `MySQL 8.0.36`. Also learns how many
    /// connection slots the server has free, which bounds
    /// [`Cloner::concurrency_hint`].
    async fn server_version(&self) -> Result<String, ClonerError> {
        self.version
            .get_or_try_init(|| self.ask_version())
            .await
            .cloned()
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
        check_name(name)?;
        let charset = self.options.charset.as_deref().unwrap_or(DEFAULT_CHARSET);
        self.create_database(name, charset, self.options.collation.as_deref())
            .await?;
        self.forget_schema(name);
        self.exports.end(name).await;
        if let Err(error) = self.migrate(name, migrations).await {
            // A template either is built whole or is not there: a half
            // migrated one would only be a trap for the next run.
            let _ = self.drop_database(name).await;
            return Err(error);
        }
        Ok(self.connection(name))
    }

    /// Forgets what the cloner read of the template before: a setup
    /// command may have changed it since it was created.
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        check_name(name)?;
        self.forget_schema(name);
        self.exports.end(name).await;
        Ok(())
    }

    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError> {
        check_name(template)?;
        check_name(name)?;
        let schema = self.schema(template).await?;
        let export = self.export(template, name).await?;
        let rows = Rows::ServerSide {
            template,
            files: None,
        };
        let result = self.build_clone(&schema, name, rows, export.as_ref()).await;
        drop(export);
        result
    }

    async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
        check_name(name)?;
        self.forget_schema(name);
        // Our own export lock on a template would block its drop.
        self.exports.end(name).await;
        let mut conn = self.server.connect().await?;
        let mut result = conn
            .query_drop(format!("DROP DATABASE IF EXISTS {}", ident(name)))
            .await;
        if matches!(&result, Err(e) if crate::errors::code(e) == Some(tablespace::LOCK_WAIT_TIMEOUT))
        {
            // A clone left with a discarded tablespace by a killed run.
            result = tablespace::drop_tables_one_by_one(&mut conn, name).await;
        }
        let _ = conn.disconnect().await;
        result.map_err(|e| {
            self.classify(
                ObjectError::new("drop the database", "DROP", e),
                "drop database",
                name,
            )
        })
    }

    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
        let mut conn = self.server.connect().await?;
        let result: Result<Vec<String>, _> = conn.query("SHOW DATABASES").await;
        let _ = conn.disconnect().await;
        let names = result.map_err(|e| {
            self.classify(
                ObjectError::new("list the databases", "SHOW DATABASES", e),
                "list the databases of",
                "",
            )
        })?;
        // Compared here rather than with LIKE, where `_` and `%` in the
        // prefix would be wildcards.
        Ok(names
            .into_iter()
            .filter(|name| name.starts_with(prefix))
            .collect())
    }

    fn connection(&self, name: &str) -> Connection {
        self.server.connection(name)
    }

    fn server_label(&self) -> String {
        self.server.label().to_owned()
    }

    /// `1600 tables by table files, 8 by rows` and, when some went by rows
    /// that could have gone by files, the first reason.
    fn clone_method(&self) -> Option<String> {
        let report = self.copy_report();
        if report.tables_by_files + report.tables_by_rows == 0 {
            return None;
        }
        let mut text = format!(
            "{} table{} by table files, {} by rows",
            report.tables_by_files,
            if report.tables_by_files == 1 { "" } else { "s" },
            report.tables_by_rows
        );
        if let Some(note) = report.notes.first() {
            text.push_str(" (");
            text.push_str(note);
            text.push(')');
        }
        Some(text)
    }
}

fn check_name(name: &str) -> Result<(), ClonerError> {
    if name.len() > MAX_NAME_LEN {
        return Err(ClonerError::NameTooLong {
            name: name.to_owned(),
            len: name.len(),
            max: MAX_NAME_LEN,
        });
    }
    Ok(())
}

fn ident(name: &str) -> String {
    quote_ident(Dialect::Mysql, name)
}

fn is_name(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether the server (`VERSION()`) is MariaDB 10.6 or later, the
/// servers the file route is built and tested for.
fn files_supported(version: &str) -> bool {
    if !version.contains("MariaDB") {
        return false;
    }
    let mut numbers = version
        .split(['.', '-'])
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = numbers.next().unwrap_or(0);
    let minor = numbers.next().unwrap_or(0);
    (major, minor) >= (10, 6)
}

/// `10.11.19-MariaDB-0+deb12u1` → `MariaDB 10.11.19`; `8.0.36` →
/// `MySQL 8.0.36`.
fn version_label(version: &str) -> String {
    let number = version.split('-').next().unwrap_or(version);
    if version.contains("MariaDB") {
        format!("MariaDB {number}")
    } else {
        format!("MySQL {number}")
    }
}

/// The concurrency hint: at most `cap`, and at most as many clones as half
/// the server's free connection slots can serve with `per_clone` sessions
/// each (the other half is left to the workers and everyone else), but at
/// least one.
fn hint(cap: usize, free: usize, per_clone: usize) -> usize {
    (free / 2 / per_clone.max(1)).clamp(1, cap.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_the_server_without_the_build() {
        assert_eq!(
            version_label("10.11.19-MariaDB-0+deb12u1"),
            "MariaDB 10.11.19"
        );
        assert_eq!(version_label("8.0.36"), "MySQL 8.0.36");
        assert_eq!(version_label("8.4.2-log"), "MySQL 8.4.2");
    }

    #[test]
    fn the_file_route_is_for_mariadb_10_6_and_later() {
        assert!(files_supported("10.11.19-MariaDB-0+deb12u1"));
        assert!(files_supported("11.4.2-MariaDB"));
        assert!(files_supported("10.6.0-MariaDB-log"));
        assert!(!files_supported("10.5.24-MariaDB"));
        assert!(!files_supported("8.0.36"));
        assert!(!files_supported("8.4.2-log"));
    }

    #[test]
    fn the_hint_leaves_room_on_busy_servers() {
        assert_eq!(hint(8, 146, 5), 8);
        assert_eq!(hint(8, 40, 5), 4);
        assert_eq!(hint(8, 3, 5), 1);
        assert_eq!(hint(32, 1000, 5), 32);
    }

    #[test]
    fn new_does_not_contact_the_server_and_hides_the_password() {
        let cloner = MysqlCloner::new(MysqlOptions {
            max_concurrency: Some(3),
            ..MysqlOptions::with_url("mysql://u:hunter2@127.0.0.1:1")
        })
        .unwrap();
        assert_eq!(cloner.concurrency_hint(), 3);
        assert_eq!(cloner.server_label(), "mysql://u:***@127.0.0.1:1");
        assert!(!format!("{cloner:?}").contains("hunter2"));
        let bad = MysqlCloner::new(MysqlOptions {
            charset: Some("utf8mb4; DROP".to_owned()),
            ..MysqlOptions::default()
        });
        assert!(matches!(bad, Err(ClonerError::Connect { .. })), "{bad:?}");
    }

    #[test]
    fn long_names_are_refused_not_cut() {
        match check_name(&"é".repeat(33)) {
            Err(ClonerError::NameTooLong {
                len: 66, max: 64, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(check_name(&"x".repeat(64)).is_ok());
    }
}
