//! [`OracleCloner`]: the [`Cloner`] for Oracle, on top of the pure plan
//! layer; every call to the (synchronous) Oracle client runs on a
//! `spawn_blocking` thread.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use cloner::redact::Redactor;
use cloner::{Cloner, ClonerError, Connection, Migration};
use tokio::sync::Semaphore;

use crate::error::{OracleError, connect_error, ora};
use crate::io::catalog::{self, Grants, Template};
use crate::io::session::{column, exec, scalar, user_exists};
use crate::io::{copy, drop};
use crate::options::{DEFAULT_MAX_CONCURRENCY, OracleOptions, Route};
use crate::plan::names::{
    SHORT_IDENTIFIERS, identifier_limit, invalid_character, login_user, naming_limit, password,
};
use crate::plan::schema::{clone_plan, unsupported};
use crate::plan::script::split_script;
use crate::plan::statements::{DEFAULT_PRIVILEGES, NewUser, create_user};
use crate::server::Server;

/// What the cloner learns about the server on first contact.
#[derive(Clone, Debug)]
pub(crate) struct ServerInfo {
    /// `23.5.0.24.7`.
    version: String,
    /// The identifier limit in bytes (30 or 128).
    limit: usize,
    /// The concurrency hint.
    hint: usize,
}

/// Clones Oracle test databases (users/schemas) by copying the template
/// schema into new users, many at once. See the [crate documentation](crate).
pub struct OracleCloner {
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
}

/// A template as read, or nothing yet; locked while it is being read.
type TemplateSlot = Arc<Mutex<Option<Arc<Template>>>>;

/// What every operation of a cloner needs, shared with its blocking threads.
pub(crate) struct Shared {
    pub(crate) options: OracleOptions,
    pub(crate) server: Server,
    /// Derives the users' passwords; random per cloner, never shown.
    secret: [u8; 32],
    info: OnceLock<ServerInfo>,
    /// Every password the cloner knows, to hide them in messages.
    redactor: Mutex<Redactor>,
    /// Templates as read, shared by their clones (read once, under the
    /// per-template lock, by the first clone that needs it).
    templates: Mutex<HashMap<String, TemplateSlot>>,
}

impl fmt::Debug for OracleCloner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OracleCloner")
            .field("options", &self.shared.options)
            .field("info", &self.shared.info.get())
            .finish_non_exhaustive()
    }
}

impl OracleCloner {
    /// A cloner for the server in `options`. Reads the URL but does not
    /// contact the server (nor load the Oracle client library): the first
    /// contact is [`Cloner::server_version`].
    pub fn new(options: OracleOptions) -> Result<OracleCloner, ClonerError> {
        let server = Server::parse(&options.url)?;
        let mut redactor = Redactor::new();
        redactor.add(server.password());
        let cap = options
            .max_concurrency
            .unwrap_or(DEFAULT_MAX_CONCURRENCY)
            .max(1);
        Ok(OracleCloner {
            shared: Arc::new(Shared {
                options,
                server,
                secret: random_secret(),
                info: OnceLock::new(),
                redactor: Mutex::new(redactor),
                templates: Mutex::new(HashMap::new()),
            }),
            permits: Arc::new(Semaphore::new(cap)),
        })
    }

    /// The options this cloner was made with.
    pub fn options(&self) -> &OracleOptions {
        &self.shared.options
    }

    /// Runs `op` on a blocking thread with the shared state.
    async fn blocking<T, F>(&self, op: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> T + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        match tokio::task::spawn_blocking(move || op(&shared)).await {
            Ok(value) => value,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a blocking Oracle call was cancelled: {e}"),
        }
    }
}

impl Shared {
    /// The password of database `name`'s user; remembered for redaction.
    pub(crate) fn password(&self, name: &str) -> String {
        let password = password(&self.secret, name);
        self.redactor
            .lock()
            .expect("not poisoned")
            .add(password.clone());
        password
    }

    /// `error` with every known password hidden.
    pub(crate) fn oracle_error(&self, error: &oracle::Error) -> OracleError {
        OracleError::new(error, &self.redactor.lock().expect("not poisoned"))
    }

    /// A [`ClonerError::Database`] for `op` on `name`.
    pub(crate) fn database_error(
        &self,
        op: &'static str,
        name: &str,
        error: &oracle::Error,
    ) -> ClonerError {
        ClonerError::Database {
            op,
            name: name.to_owned(),
            source: Box::new(self.oracle_error(error)),
        }
    }

    /// A session of the cloner's own login, learning about the server on
    /// the first one.
    pub(crate) fn admin_session(&self) -> Result<oracle::Connection, ClonerError> {
        let conn = oracle::Connection::connect(
            self.server.user(),
            self.server.password(),
            self.server.connect_string(),
        )
        .map_err(|e| {
            connect_error(
                &self.server,
                &e,
                &self.redactor.lock().expect("not poisoned"),
            )
        })?;
        if self.info.get().is_none() {
            let info = self.learn(&conn)?;
            let _ = self.info.set(info);
        }
        Ok(conn)
    }

    fn learn(&self, conn: &oracle::Connection) -> Result<ServerInfo, ClonerError> {
        let (version, _banner) = conn
            .server_version()
            .map_err(|e| self.database_error("ask the version of", self.server.service(), &e))?;
        // Both need privileges on v$parameter and v$session, which a DBA
        // has; without them the version alone decides.
        let compatible = scalar(
            conn,
            "SELECT value FROM v$parameter WHERE name = 'compatible'",
            &[],
        )
        .ok()
        .flatten();
        let free = scalar(
            conn,
            "SELECT (SELECT TO_NUMBER(value) FROM v$parameter WHERE name = 'sessions') - \
             (SELECT COUNT(*) FROM v$session) FROM dual",
            &[],
        )
        .ok()
        .flatten()
        .and_then(|v| v.parse::<i64>().ok());
        let cap = self
            .options
            .max_concurrency
            .unwrap_or(DEFAULT_MAX_CONCURRENCY)
            .max(1);
        Ok(ServerInfo {
            version: version.to_string(),
            limit: identifier_limit(
                version.major() as u32,
                version.minor() as u32,
                compatible.as_deref(),
            ),
            hint: hint(cap, free, self.options.copy_parallelism),
        })
    }

    /// The server's identifier limit (30 until it is known: safe on every
    /// version).
    fn limit(&self) -> usize {
        self.info.get().map_or(SHORT_IDENTIFIERS, |i| i.limit)
    }

    fn check_name(&self, name: &str) -> Result<(), ClonerError> {
        let max = self.limit();
        if name.len() > max {
            return Err(ClonerError::NameTooLong {
                name: name.to_owned(),
                len: name.len(),
                max,
            });
        }
        if name.is_empty() || invalid_character(name).is_some() {
            return Err(ClonerError::Database {
                op: "name a user",
                name: name.to_owned(),
                source: Box::new(OracleError::message(
                    "an Oracle user name cannot be empty nor hold a double quote",
                )),
            });
        }
        Ok(())
    }

    /// Creates user `name` (a template or a clone) with `grants`; maps the
    /// failures a user meets.
    fn create_user(
        &self,
        conn: &oracle::Connection,
        name: &str,
        grants: &Grants,
    ) -> Result<(), ClonerError> {
        let password = self.password(name);
        let user = NewUser {
            name,
            password: &password,
            tablespace: &self.options.tablespace,
            temporary_tablespace: self.options.temporary_tablespace.as_deref(),
            own_tablespace: self.options.own_tablespaces,
            privileges: &grants.privileges,
            roles: &grants.roles,
            quotas: &grants.quotas,
        };
        for (i, sql) in create_user(&user).iter().enumerate() {
            if let Err(error) = exec(conn, sql) {
                let source = self.oracle_error(&error);
                let created = i > usize::from(self.options.own_tablespaces);
                let failure = match source.ora {
                    Some(ora::NAME_CONFLICT) if !created => {
                        return Err(ClonerError::Exists {
                            name: name.to_owned(),
                        });
                    }
                    Some(ora::INSUFFICIENT_PRIVILEGES) => ClonerError::Privilege {
                        privilege: if created {
                            "GRANT ANY PRIVILEGE (to grant the test user its privileges)"
                        } else {
                            "CREATE USER"
                        }
                        .to_owned(),
                        server: self.server.label().to_owned(),
                        source: Box::new(source),
                    },
                    Some(ora::COMMON_USER_NAME) => ClonerError::Database {
                        op: "create user",
                        name: name.to_owned(),
                        source: Box::new(source.context(&format!(
                            "the server URL names the root container (CDB$ROOT), where only C## users \
                             can be made; name a pluggable database (FREEPDB1, XEPDB1, ORCLPDB1) as its \
                             path instead of {:?}",
                            self.server.service()
                        ))),
                    },
                    Some(ora::NO_SUCH_TABLESPACE) => ClonerError::Database {
                        op: "create user",
                        name: name.to_owned(),
                        source: Box::new(source.context(&format!(
                            "the tablespace {:?} does not exist in this database; name one that does",
                            self.options.tablespace
                        ))),
                    },
                    _ => ClonerError::Database {
                        op: "create user",
                        name: name.to_owned(),
                        source: Box::new(source),
                    },
                };
                if created {
                    let _ = drop::drop_database(self, conn, name);
                }
                return Err(failure);
            }
        }
        Ok(())
    }

    /// Applies `migrations` to the new template `name`, logged in as it.
    fn migrate(&self, name: &str, migrations: &[Migration]) -> Result<(), ClonerError> {
        let conn = oracle::Connection::connect(
            login_user(name),
            self.password(name),
            self.server.connect_string(),
        )
        .map_err(|e| self.database_error("log in as the new user", name, &e))?;
        let result = (|| {
            for migration in migrations {
                let failed = |source: OracleError| ClonerError::Migration {
                    migration: migration.name.clone(),
                    database: name.to_owned(),
                    source: Box::new(source),
                };
                for statement in split_script(&migration.sql) {
                    let at = format!("statement at line {}", statement.line);
                    exec(&conn, &statement.sql)
                        .map_err(|e| failed(self.oracle_error(&e).context(&at)))?;
                    // SQL*Plus goes on after "created with compilation
                    // errors"; a migration should not leave broken code.
                    if let Some(warning) = conn.last_warning()
                        && warning.oci_code() == Some(ora::COMPILATION_ERROR)
                    {
                        let errors = column(
                            &conn,
                            "SELECT type || ' ' || name || ' line ' || line || ': ' || text FROM user_errors \
                             ORDER BY name, type, sequence FETCH FIRST 5 ROWS ONLY",
                            &[],
                        )
                        .unwrap_or_default();
                        return Err(failed(OracleError::message(format!(
                            "{at}: created with compilation errors: {}",
                            errors.join("; ")
                        ))));
                    }
                }
                conn.commit()
                    .map_err(|e| failed(self.oracle_error(&e).context("commit")))?;
            }
            Ok(())
        })();
        let _ = conn.close();
        result
    }

    /// The template `name` as read (once per cloner, until it changes).
    fn template(
        &self,
        conn: &oracle::Connection,
        name: &str,
    ) -> Result<Arc<Template>, ClonerError> {
        let slot = Arc::clone(
            self.templates
                .lock()
                .expect("not poisoned")
                .entry(name.to_owned())
                .or_default(),
        );
        let mut slot = slot.lock().expect("not poisoned");
        if let Some(template) = slot.as_ref() {
            return Ok(Arc::clone(template));
        }
        let read_error = |e: &oracle::Error| {
            let source = self.oracle_error(e);
            // ORA-31603: GET_DDL of another schema's object without the role.
            if source.ora == Some(ora::INSUFFICIENT_PRIVILEGES) || source.ora == Some(31603) {
                ClonerError::Privilege {
                    privilege:
                        "SELECT_CATALOG_ROLE (to read the template's DDL with DBMS_METADATA)"
                            .to_owned(),
                    server: self.server.label().to_owned(),
                    source: Box::new(source),
                }
            } else {
                ClonerError::Database {
                    op: "read the schema of",
                    name: name.to_owned(),
                    source: Box::new(source),
                }
            }
        };
        let objects = catalog::objects(conn, name).map_err(|e| read_error(&e))?;
        let schema = match self.options.route {
            Route::Ddl => {
                let left_out = unsupported(&objects);
                if !left_out.is_empty() {
                    return Err(ClonerError::Database {
                        op: "read the schema of",
                        name: name.to_owned(),
                        source: Box::new(OracleError::message(format!(
                            "the ddl route does not copy {}; set strategy = \"datapump\" under \
                             [backends.oracle] (OracleOptions::route) to clone with Data Pump",
                            left_out.join(", ")
                        ))),
                    });
                }
                catalog::read_schema(conn, name).map_err(|e| read_error(&e))?
            }
            Route::Datapump => Default::default(),
        };
        let grants = catalog::grants(conn, name).map_err(|e| read_error(&e))?;
        let template = Arc::new(Template {
            schema,
            objects,
            grants,
        });
        *slot = Some(Arc::clone(&template));
        Ok(template)
    }

    /// Forgets what was read of `name` (it was rebuilt, sealed or dropped).
    fn forget(&self, name: &str) {
        self.templates.lock().expect("not poisoned").remove(name);
    }

    fn clone_into(
        &self,
        conn: &oracle::Connection,
        template: &str,
        name: &str,
    ) -> Result<(), ClonerError> {
        let tpl = self.template(conn, template)?;
        self.create_user(conn, name, &tpl.grants)?;
        let copied = match self.options.route {
            Route::Ddl => clone_plan(&tpl.schema, name)
                .map_err(|e| ClonerError::Database {
                    op: "plan the copy into",
                    name: name.to_owned(),
                    source: Box::new(OracleError::message(e.to_string())),
                })
                .and_then(|plan| copy::run_plan(self, conn, name, &plan)),
            Route::Datapump => copy::run_datapump(self, conn, template, name),
        }
        .and_then(|()| copy::check(self, conn, &tpl.objects, name));
        if let Err(error) = copied {
            // A half-made clone is of no use to anyone: drop it.
            let _ = exec(
                conn,
                &crate::plan::statements::set_current_schema(&self.server.dictionary_user()),
            );
            let _ = drop::drop_database(self, conn, name);
            return Err(error);
        }
        Ok(())
    }
}

#[async_trait]
impl Cloner for OracleCloner {
    fn backend(&self) -> &'static str {
        "oracle"
    }

    /// `Oracle 23.5.0.24.7`. Also learns the identifier limit (which
    /// [`Cloner::max_name_len`] reports from then on) and how many
    /// sessions the server has free (which bounds the concurrency hint).
    async fn server_version(&self) -> Result<String, ClonerError> {
        self.blocking(|shared| {
            let conn = shared.admin_session()?;
            let _ = conn.close();
            let info = shared.info.get().expect("learnt on connecting");
            Ok(format!("Oracle {}", info.version))
        })
        .await
    }

    fn concurrency_hint(&self) -> usize {
        self.shared.info.get().map_or_else(
            || {
                self.shared
                    .options
                    .max_concurrency
                    .unwrap_or(DEFAULT_MAX_CONCURRENCY)
                    .max(1)
            },
            |i| i.hint,
        )
    }

    /// The server's identifier limit, but at least 32 (see
    /// `naming_limit`); 32 until the server has been contacted.
    fn max_name_len(&self) -> usize {
        naming_limit(self.shared.limit())
    }

    async fn create_template(
        &self,
        name: &str,
        migrations: &[Migration],
    ) -> Result<Connection, ClonerError> {
        let name = name.to_owned();
        let migrations = migrations.to_vec();
        self.blocking(move |shared| {
            let conn = shared.admin_session()?;
            shared.check_name(&name)?;
            shared.forget(&name);
            let grants = Grants {
                privileges: DEFAULT_PRIVILEGES.iter().map(|p| (*p).to_owned()).collect(),
                roles: Vec::new(),
                quotas: Vec::new(),
            };
            shared.create_user(&conn, &name, &grants)?;
            if let Err(error) = shared.migrate(&name, &migrations) {
                // A template is built whole or not at all.
                let _ = drop::drop_database(shared, &conn, &name);
                return Err(error);
            }
            let _ = conn.close();
            Ok(shared.server.connection(&name, &shared.password(&name)))
        })
        .await
    }

    /// Pins the template's sequences and identity columns so that their
    /// exact next value can be read (see "seal" in the crate documentation).
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        let name = name.to_owned();
        self.blocking(move |shared| {
            let conn = shared.admin_session()?;
            shared.check_name(&name)?;
            shared.forget(&name);
            let exists = user_exists(&conn, &name)
                .map_err(|e| shared.database_error("look up", &name, &e))?;
            if !exists {
                return Err(ClonerError::Missing { name });
            }
            catalog::pin_sequences(&conn, &name)
                .map_err(|e| shared.database_error("seal the template", &name, &e))?;
            let _ = conn.close();
            Ok(())
        })
        .await
    }

    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let (template, name) = (template.to_owned(), name.to_owned());
        self.blocking(move |shared| {
            let conn = shared.admin_session()?;
            shared.check_name(&template)?;
            shared.check_name(&name)?;
            let exists = user_exists(&conn, &template)
                .map_err(|e| shared.database_error("look up", &template, &e))?;
            if !exists {
                return Err(ClonerError::Missing { name: template });
            }
            shared.clone_into(&conn, &template, &name)?;
            let _ = conn.close();
            Ok(shared.server.connection(&name, &shared.password(&name)))
        })
        .await
    }

    async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
        let name = name.to_owned();
        self.blocking(move |shared| {
            let conn = shared.admin_session()?;
            shared.check_name(&name)?;
            shared.forget(&name);
            let result = drop::drop_database(shared, &conn, &name);
            let _ = conn.close();
            result
        })
        .await
    }

    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
        let prefix = prefix.to_owned();
        self.blocking(move |shared| {
            let conn = shared.admin_session()?;
            let names = column(
                &conn,
                "SELECT username FROM all_users ORDER BY username",
                &[],
            )
            .map_err(|e| shared.database_error("list the users of", shared.server.service(), &e));
            let _ = conn.close();
            // Compared here rather than with LIKE, where `_` and `%` in the
            // prefix would be wildcards.
            Ok(names?
                .into_iter()
                .filter(|n| n.starts_with(&prefix))
                .collect())
        })
        .await
    }

    fn connection(&self, name: &str) -> Connection {
        self.shared
            .server
            .connection(name, &self.shared.password(name))
    }

    fn server_label(&self) -> String {
        self.shared.server.label().to_owned()
    }
}

/// The concurrency hint: at most `cap`; on a server whose free sessions
/// are known, at most half of them divided by what one clone holds (its
/// own session and `copy_parallelism` copying ones); at least one.
fn hint(cap: usize, free_sessions: Option<i64>, copy_parallelism: usize) -> usize {
    match free_sessions {
        Some(free) => {
            let per_clone = 1 + copy_parallelism.max(1);
            ((free.max(0) as usize / 2) / per_clone).clamp(1, cap.max(1))
        }
        None => cap.max(1),
    }
}

/// 32 random bytes: from the operating system where it offers them
/// (`/dev/urandom`), else from the standard library's randomly keyed
/// hasher, the clock and the process id.
fn random_secret() -> [u8; 32] {
    use sha2::{Digest, Sha256};
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = Sha256::new();
    if let Ok(mut file) = std::fs::File::open("/dev/urandom") {
        let mut bytes = [0u8; 32];
        if std::io::Read::read_exact(&mut file, &mut bytes).is_ok() {
            hasher.update(bytes);
        }
    }
    for _ in 0..4 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x7061_7261_636c_6f6e);
        hasher.update(h.finish().to_le_bytes());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.update(now.as_nanos().to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_cloner() -> OracleCloner {
        OracleCloner::new(OracleOptions {
            max_concurrency: Some(3),
            ..OracleOptions::with_url("oracle://system:hunter2@127.0.0.1:1/FREEPDB1")
        })
        .unwrap()
    }

    #[test]
    fn the_hint_leaves_room_for_each_clones_sessions() {
        assert_eq!(hint(4, None, 4), 4);
        assert_eq!(hint(4, Some(400), 4), 4);
        assert_eq!(hint(8, Some(50), 4), 5);
        assert_eq!(hint(4, Some(3), 4), 1);
        assert_eq!(hint(4, Some(-2), 4), 1);
    }

    #[test]
    fn new_does_not_contact_the_server_and_hides_the_password() {
        let cloner = make_cloner();
        assert_eq!(cloner.backend(), "oracle");
        assert_eq!(cloner.concurrency_hint(), 3);
        assert_eq!(cloner.max_name_len(), 32);
        assert_eq!(
            cloner.server_label(),
            "oracle://system:***@127.0.0.1:1/FREEPDB1"
        );
        let debug = format!("{cloner:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn connections_are_stable_per_name_and_never_show_passwords() {
        let cloner = make_cloner();
        let a = cloner.connection("shop_pcabc123xyz0_w1");
        assert_eq!(a, cloner.connection("shop_pcabc123xyz0_w1"));
        let b = cloner.connection("shop_pcabc123xyz0_w2");
        assert_ne!(a.password, b.password);
        let password = a.password.clone().unwrap();
        assert!(a.url.starts_with("oracle://%22shop_pcabc123xyz0_w1%22:"));
        assert!(!a.redacted_url().contains(&password));
        assert!(!format!("{a:?}").contains(&password));
        // Another cloner (another run) gives other passwords.
        assert_ne!(
            make_cloner().connection("shop_pcabc123xyz0_w1").password,
            a.password
        );
        // Every password handed out is hidden in the cloner's messages.
        let error =
            oracle::Error::new(oracle::ErrorKind::Other, format!("echo {password} hunter2"));
        assert_eq!(
            cloner.shared.oracle_error(&error).to_string(),
            "echo *** ***"
        );
    }

    #[test]
    fn names_are_checked_against_the_servers_limit() {
        let cloner = make_cloner();
        // Before contact the limit is the smallest, 30 bytes.
        match cloner.shared.check_name(&"x".repeat(31)) {
            Err(ClonerError::NameTooLong {
                len: 31, max: 30, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(cloner.shared.check_name("shop_pcabc123xyz0_w1").is_ok());
        assert!(matches!(
            cloner.shared.check_name("a\"b"),
            Err(ClonerError::Database { .. })
        ));
    }

    /// Whether an Oracle client library can be found where the dynamic
    /// loader looks: the library path variables, the usual directories and
    /// the loader's cache.
    fn client_library_installed() -> bool {
        let file = if cfg!(target_os = "macos") {
            "libclntsh.dylib"
        } else if cfg!(windows) {
            "oci.dll"
        } else {
            "libclntsh.so"
        };
        let mut dirs: Vec<std::path::PathBuf> = ["LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "PATH"]
            .iter()
            .filter_map(std::env::var_os)
            .flat_map(|v| std::env::split_paths(&v).collect::<Vec<_>>())
            .collect();
        dirs.extend(
            [
                "/usr/lib",
                "/usr/lib64",
                "/usr/local/lib",
                "/usr/lib/x86_64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu",
            ]
            .map(std::path::PathBuf::from),
        );
        for parent in ["/opt/oracle", "/usr/lib/oracle"] {
            if let Ok(entries) = std::fs::read_dir(parent) {
                dirs.extend(entries.flatten().map(|e| e.path()));
            }
        }
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(std::path::Path::new(&home).join("lib"));
        }
        dirs.iter().any(|d| d.join(file).exists())
            || std::fs::read("/etc/ld.so.cache")
                .is_ok_and(|cache| cache.windows(file.len()).any(|w| w == file.as_bytes()))
    }

    /// The Oracle client library is not installed on this project's
    /// machines, so this is the error they get, for real; on a machine
    /// with the library the same calls fail reaching port 1 instead. Either
    /// way each is one `Connect` error with advice and no password.
    #[tokio::test(flavor = "multi_thread")]
    async fn without_the_client_library_every_operation_is_one_connect_error_with_advice() {
        let installed = client_library_installed();
        let cloner = make_cloner();
        let results = [
            ("server_version", cloner.server_version().await.map(drop)),
            (
                "create_template",
                cloner
                    .create_template("t_pcabc123xyz0_tpl", &[])
                    .await
                    .map(drop),
            ),
            (
                "clone_database",
                cloner.clone_database("a", "b").await.map(drop),
            ),
            ("drop_database", cloner.drop_database("a").await),
            ("list_databases", cloner.list_databases("a").await.map(drop)),
        ];
        for (what, result) in results {
            let error = match result {
                Err(error) => error,
                Ok(()) => panic!("{what} succeeded without a server"),
            };
            let ClonerError::Connect {
                server,
                hint,
                source,
            } = &error
            else {
                panic!("{what} gave {error:?}, not ClonerError::Connect");
            };
            assert_eq!(server, "oracle://system:***@127.0.0.1:1/FREEPDB1");
            let hint = hint.as_deref().unwrap_or_else(|| panic!("{what}: no hint"));
            let cause = source.to_string();
            let shown = format!("{error}: {cause} (hint: {hint})");
            assert!(
                !shown.contains("hunter2"),
                "{what} shows the password: {shown}"
            );
            assert!(
                installed || cause.contains("DPI-1047"),
                "{what}: no Oracle client library is installed here, yet the error is not DPI-1047: {shown}"
            );
            if cause.contains("DPI-1047") {
                assert_eq!(hint, crate::error::missing_client_hint(), "{what}");
                assert!(cause.contains("Oracle Client library"), "{cause}");
                assert_eq!(
                    error.to_string(),
                    "could not connect to oracle://system:***@127.0.0.1:1/FREEPDB1"
                );
            } else {
                assert!(
                    hint.contains("is Oracle running at 127.0.0.1:1"),
                    "{what}: {shown}"
                );
            }
        }
    }
}
