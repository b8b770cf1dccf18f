//! The backends this harness was built with: how to open their cloners
//! (the one the runner uses, and the variants compared with it), and the
//! command-line clients used for the baselines and for server facts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use cloner::quote::{Dialect, quote_literal};
use cloner::{Cloner, Connection};

/// Opens a fresh cloner: every measurement gets a new one, so that nothing
/// a cloner caches (a template's schema, a server's limits) is carried from
/// one round into the next.
pub(crate) type Factory = Arc<dyn Fn() -> Result<Arc<dyn Cloner>> + Send + Sync>;

/// One way of making databases from the template, measured side by side
/// with the others.
#[derive(Clone)]
pub(crate) struct Method {
    /// Stable key in the JSON (`paraclone_8`, `django`, `replay`, …).
    pub(crate) key: String,
    /// What it is, for people.
    pub(crate) label: String,
    pub(crate) role: Role,
    pub(crate) cloner: Factory,
    pub(crate) how: How,
}

/// What a method stands for in the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    /// What the runner does.
    Paraclone,
    /// Django's `clone_test_db` loop on this backend.
    Django,
    /// Replaying the migrations into every database (pytest-django + xdist,
    /// Rails, Laravel).
    Replay,
    /// The least any copy can cost (SQLite: copying the file).
    Floor,
    /// Another setting of paraclone's own cloner, for the record.
    Variant,
}

/// How the `n` databases of a method are made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum How {
    /// All at once, at most `concurrency_hint()` at a time: the runner's way.
    Bounded(usize),
    /// One `clone_database` after another.
    Sequential(usize),
    /// One plain file copy of the template after another.
    FileCopy(usize),
    /// One `mysqldump --routines --events <template> | mysql <clone>` after
    /// another, each into a database created just before.
    DumpLoad(usize),
    /// Every database created empty and the migrations replayed into it,
    /// all at once (as test workers starting together do).
    Replay(usize),
}

impl How {
    pub(crate) fn count(self) -> usize {
        match self {
            How::Bounded(n)
            | How::Sequential(n)
            | How::FileCopy(n)
            | How::DumpLoad(n)
            | How::Replay(n) => n,
        }
    }
}

/// A backend ready to be measured.
pub(crate) struct Backend {
    pub(crate) name: &'static str,
    /// The cloner as the runner configures it by default.
    pub(crate) paraclone: Factory,
    /// Everything compared, in the order rounds run them.
    pub(crate) methods: Vec<Method>,
    /// Why the methods are what they are (strategy choices), for the notes.
    pub(crate) notes: Vec<String>,
    /// Where the command-line client asks the server about itself (none
    /// for SQLite).
    pub(crate) maintenance: Option<Connection>,
}

/// The backends compiled into this harness.
pub(crate) fn compiled() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "sqlite") {
        names.push("sqlite");
    }
    if cfg!(feature = "postgres") {
        names.push("postgres");
    }
    if cfg!(feature = "mysql") {
        names.push("mysql");
    }
    names
}

/// Opens `name`'s cloners and lists its methods; `work` is where SQLite
/// files go. Counts are paraclone's (`1, 4, 8`) and the baselines' (`8`).
pub(crate) async fn open(name: &str, work: &Path, counts: &[usize]) -> Result<Backend> {
    let _ = (work, counts);
    match name {
        #[cfg(feature = "sqlite")]
        "sqlite" => sqlite(work, counts),
        #[cfg(feature = "postgres")]
        "postgres" => postgres(counts).await,
        #[cfg(feature = "mysql")]
        "mysql" => mysql(counts).await,
        other => bail!(
            "the {other} backend is not built into this harness (built: {}); \
             build it with `--features {other}`",
            compiled().join(", ")
        ),
    }
}

fn paraclone_methods(factory: &Factory, counts: &[usize], what: &str) -> Vec<Method> {
    counts
        .iter()
        .map(|&n| Method {
            key: format!("paraclone_{n}"),
            label: format!(
                "paraclone: {n} clone{} at once ({what})",
                if n == 1 { "" } else { "s" }
            ),
            role: Role::Paraclone,
            cloner: factory.clone(),
            how: How::Bounded(n),
        })
        .collect()
}

fn replay(factory: &Factory, n: usize) -> Method {
    Method {
        key: "replay".to_owned(),
        label: format!(
            "replaying the migrations into {n} databases at once (xdist, Rails, Laravel)"
        ),
        role: Role::Replay,
        cloner: factory.clone(),
        how: How::Replay(n),
    }
}

#[cfg(feature = "sqlite")]
fn sqlite(work: &Path, counts: &[usize]) -> Result<Backend> {
    use cloner_sqlite::{Method as Copy, SqliteCloner, SqliteOptions};

    let dir = work.join("sqlite");
    let with = |method: Copy| -> Factory {
        let options = SqliteOptions::new(&dir).method(method);
        Arc::new(move || Ok(Arc::new(SqliteCloner::new(options.clone())?) as Arc<dyn Cloner>))
    };
    let default = with(Copy::Auto);
    let n = counts.iter().copied().max().unwrap_or(8);
    let mut methods = paraclone_methods(&default, counts, "method auto = copy, on disk");
    methods.extend([
        Method {
            key: "file_copy".to_owned(),
            label: format!("raw file copy of the template, {n} in a row (the floor)"),
            role: Role::Floor,
            cloner: default.clone(),
            how: How::FileCopy(n),
        },
        Method {
            key: "django".to_owned(),
            label: format!("Django: online backup per clone, {n} in a row"),
            role: Role::Django,
            cloner: with(Copy::Backup),
            how: How::Sequential(n),
        },
        Method {
            key: "paraclone_backup".to_owned(),
            label: format!("paraclone with method = backup, {n} at once"),
            role: Role::Variant,
            cloner: with(Copy::Backup),
            how: How::Bounded(n),
        },
        replay(&default, n),
    ]);
    Ok(Backend {
        name: "sqlite",
        paraclone: default,
        methods,
        notes: vec![
            "Django clones an on-disk SQLite test database with `shutil.copy`, one clone after \
             another (that is the raw-file-copy row), and an in-memory one under the spawn start \
             method (macOS, Windows) with the online backup API: the `django` row."
                .to_owned(),
        ],
        maintenance: None,
    })
}

#[cfg(feature = "postgres")]
async fn postgres(counts: &[usize]) -> Result<Backend> {
    use cloner_postgres::{PostgresCloner, PostgresOptions, Strategy};

    let base = PostgresOptions::from_env();
    let probe = PostgresCloner::new(base.clone())?;
    let version = probe
        .server_version()
        .await
        .context("reach the PostgreSQL server (set PARACLONE_POSTGRES_URL)")?;
    let major: u32 = version
        .trim_start_matches("PostgreSQL ")
        .split(['.', ' '])
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let with = |strategy: Option<Strategy>| -> Factory {
        let options = PostgresOptions {
            strategy,
            ..base.clone()
        };
        Arc::new(move || Ok(Arc::new(PostgresCloner::new(options.clone())?) as Arc<dyn Cloner>))
    };
    let default = with(None);
    let n = counts.iter().copied().max().unwrap_or(8);
    let mut notes = Vec::new();
    let mut methods;
    if major >= 15 {
        methods = paraclone_methods(&default, counts, "STRATEGY file_copy, the default");
        // Django sends no STRATEGY clause, so 15+ uses its default, WAL_LOG.
        methods.push(Method {
            key: "django".to_owned(),
            label: format!(
                "Django: CREATE DATABASE … TEMPLATE, {n} in a row (server default STRATEGY wal_log)"
            ),
            role: Role::Django,
            cloner: with(Some(Strategy::WalLog)),
            how: How::Sequential(n),
        });
        methods.extend([
            Method {
                key: "file_copy_sequential".to_owned(),
                label: format!("CREATE DATABASE … STRATEGY file_copy, {n} in a row"),
                role: Role::Variant,
                cloner: with(Some(Strategy::FileCopy)),
                how: How::Sequential(n),
            },
            Method {
                key: "wal_log_concurrent".to_owned(),
                label: format!("paraclone with STRATEGY wal_log, {n} at once"),
                role: Role::Variant,
                cloner: with(Some(Strategy::WalLog)),
                how: How::Bounded(n),
            },
        ]);
        notes.push(
            "Django's `clone_test_db` sends `CREATE DATABASE … TEMPLATE` without a STRATEGY, so \
             PostgreSQL 15+ copies with its default, WAL_LOG; the harness names it explicitly, \
             which is the same SQL in effect."
                .to_owned(),
        );
    } else {
        methods = paraclone_methods(&default, counts, "file copy, the only method before 15");
        methods.push(Method {
            key: "django".to_owned(),
            label: format!("Django: CREATE DATABASE … TEMPLATE, {n} in a row"),
            role: Role::Django,
            cloner: default.clone(),
            how: How::Sequential(n),
        });
        notes.push(format!(
            "{version} has no STRATEGY clause (15+): both sides copy files."
        ));
    }
    methods.push(replay(&default, n));
    // The database of the server URL's path is where the cloner's own
    // sessions go; the client asks its questions there too.
    let maintenance = base
        .url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.split_once("://"))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, db)| db)
        .filter(|db| !db.is_empty())
        .unwrap_or("postgres");
    Ok(Backend {
        name: "postgres",
        maintenance: Some(probe.connection(maintenance)),
        paraclone: default,
        methods,
        notes,
    })
}

#[cfg(feature = "mysql")]
async fn mysql(counts: &[usize]) -> Result<Backend> {
    use cloner_mysql::{CopyMethod, MysqlCloner, MysqlOptions};

    let options = MysqlOptions::from_env();
    let probe = MysqlCloner::new(options.clone())?;
    probe
        .server_version()
        .await
        .context("reach the MySQL/MariaDB server (set PARACLONE_MYSQL_URL)")?;
    // Django's method needs the command-line clients; say which is missing
    // before measuring anything.
    mysql_clients()?;
    let with = |copy: CopyMethod| -> Factory {
        let options = MysqlOptions {
            copy,
            ..options.clone()
        };
        Arc::new(move || Ok(Arc::new(MysqlCloner::new(options.clone())?) as Arc<dyn Cloner>))
    };
    let default = with(CopyMethod::Auto);
    let n = counts.iter().copied().max().unwrap_or(8);
    let mut methods = paraclone_methods(
        &default,
        counts,
        "strategy auto: table files of 320 KiB+ copied, rows for the rest",
    );
    methods.extend([
        Method {
            key: "files_concurrent".to_owned(),
            label: format!(
                "paraclone with strategy files (every InnoDB table's file), {n} at once"
            ),
            role: Role::Variant,
            cloner: with(CopyMethod::Files),
            how: How::Bounded(n),
        },
        Method {
            key: "rows_concurrent".to_owned(),
            label: format!("paraclone with strategy rows (INSERT … SELECT), {n} at once"),
            role: Role::Variant,
            cloner: with(CopyMethod::Rows),
            how: How::Bounded(n),
        },
    ]);
    methods.extend([
        Method {
            key: "django".to_owned(),
            label: format!("Django: mysqldump --routines --events | mysql, {n} in a row"),
            role: Role::Django,
            cloner: default.clone(),
            how: How::DumpLoad(n),
        },
        replay(&default, n),
    ]);
    Ok(Backend {
        name: "mysql",
        paraclone: default,
        methods,
        notes: vec![
            "Table files are copied only where the server's data directory is readable and \
             writable here (MariaDB 10.6+ on this machine, paraclone as root or the server's \
             user); elsewhere `files` fails and `auto` copies rows."
                .to_owned(),
        ],
        maintenance: Some(probe.connection("mysql")),
    })
}

/// The first of `names` found in `PATH`.
pub(crate) fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// The dump program and the client, as Django calls them (`mysqldump`,
/// `mysql`), else MariaDB's names.
pub(crate) fn mysql_clients() -> Result<(PathBuf, PathBuf)> {
    let dump = which(&["mysqldump", "mariadb-dump"])
        .context("neither mysqldump nor mariadb-dump is on PATH: Django's method needs it")?;
    let client = which(&["mysql", "mariadb"])
        .context("neither mysql nor mariadb is on PATH: Django's method needs it")?;
    Ok((dump, client))
}

/// Connection arguments of the `mysql`/`mysqldump` clients for `c`; the
/// password goes into the environment (`MYSQL_PWD`), never the arguments.
fn mysql_args(c: &Connection) -> (Vec<String>, Option<(String, String)>) {
    let mut args = Vec::new();
    if let Some(host) = &c.host {
        if host.starts_with('/') {
            args.push(format!("--socket={host}"));
        } else {
            args.push(format!("--host={host}"));
            args.push("--protocol=TCP".to_owned());
        }
    }
    if let Some(port) = c.port {
        args.push(format!("--port={port}"));
    }
    if let Some(user) = &c.user {
        args.push(format!("--user={user}"));
    }
    let password = c
        .password
        .as_ref()
        .map(|p| ("MYSQL_PWD".to_owned(), p.clone()));
    (args, password)
}

/// `mysqldump --routines --events <template> | mysql <clone>`, as Django's
/// `_clone_db` runs it; `clone` exists already.
pub(crate) fn dump_load(template: &Connection, clone: &str) -> Result<()> {
    let (dump_bin, client_bin) = mysql_clients()?;
    let (args, password) = mysql_args(template);
    let mut dump = Command::new(&dump_bin);
    dump.args(&args)
        .args(["--routines", "--events", &template.name])
        .envs(password.clone())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut dump = dump
        .spawn()
        .with_context(|| format!("start {}", dump_bin.display()))?;
    let pipe = dump.stdout.take().expect("stdout is piped");
    let load = Command::new(&client_bin)
        .args(&args)
        .arg(clone)
        .envs(password)
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("start {}", client_bin.display()))?;
    let dumped = dump.wait_with_output()?;
    if !dumped.status.success() || !load.status.success() {
        bail!(
            "mysqldump | mysql into {clone} failed ({}, {}): {}{}",
            dumped.status,
            load.status,
            String::from_utf8_lossy(&dumped.stderr).trim(),
            String::from_utf8_lossy(&load.stderr).trim()
        );
    }
    Ok(())
}

/// Runs `sql` with the backend's command-line client (`psql`, `mysql`) on
/// `c` and returns the rows, tab-separated. For facts about the server,
/// which the cloners do not report.
pub(crate) fn client_query(backend: &str, c: &Connection, sql: &str) -> Result<Vec<Vec<String>>> {
    let mut command = match backend {
        "postgres" => {
            let psql = which(&["psql"]).context("psql is not on PATH")?;
            let mut command = Command::new(psql);
            command.args(["-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1"]);
            if let Some(host) = &c.host {
                command.args(["-h", host]);
            }
            if let Some(port) = c.port {
                command.args(["-p", &port.to_string()]);
            }
            if let Some(user) = &c.user {
                command.args(["-U", user]);
            }
            command.args(["-d", &c.name, "-c", sql]);
            if let Some(p) = &c.password {
                command.env("PGPASSWORD", p);
            }
            command
        }
        "mysql" => {
            let (_, client) = mysql_clients()?;
            let (args, password) = mysql_args(c);
            let mut command = Command::new(client);
            command
                .args(args)
                .args(["-N", "-B", "-e", sql])
                .envs(password);
            command
        }
        other => bail!("no command-line client for {other}"),
    };
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run the {backend} client"))?;
    if !out.status.success() {
        bail!(
            "the {backend} client failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect())
}

/// The server settings that decide how fast copies are (durability,
/// buffers), for the record; empty where they cannot be read.
pub(crate) fn server_settings(backend: &str, c: &Connection) -> BTreeMap<String, String> {
    let sql = match backend {
        "postgres" => {
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN \
             ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', \
             'max_wal_size', 'checkpoint_timeout', 'max_connections', 'data_directory') ORDER BY name"
        }
        "mysql" => {
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_flush_log_at_trx_commit', \
             'sync_binlog', 'log_bin', 'innodb_doublewrite', 'innodb_buffer_pool_size', \
             'innodb_flush_method', 'innodb_file_per_table', 'max_connections', 'datadir')"
        }
        _ => return BTreeMap::new(),
    };
    match client_query(backend, c, sql) {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|mut r| {
                (r.len() == 2).then(|| {
                    let value = r.pop().expect("two columns");
                    (r.pop().expect("two columns"), value)
                })
            })
            .collect(),
        Err(e) => BTreeMap::from([("unavailable".to_owned(), format!("{e:#}"))]),
    }
}

/// The size of database `name` in bytes, as the server counts it.
pub(crate) fn database_size(backend: &str, cloner: &dyn Cloner, name: &str) -> Option<u64> {
    let c = cloner.connection(name);
    match backend {
        "sqlite" => std::fs::metadata(c.path.as_ref()?).ok().map(|m| m.len()),
        "postgres" => {
            let sql = format!(
                "SELECT pg_database_size({})",
                quote_literal(Dialect::Postgres, name)
            );
            client_query(backend, &c, &sql)
                .ok()?
                .first()?
                .first()?
                .parse()
                .ok()
        }
        "mysql" => {
            let sql = format!(
                "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables \
                 WHERE table_schema = {}",
                quote_literal(Dialect::Mysql, name)
            );
            client_query(backend, &c, &sql)
                .ok()?
                .first()?
                .first()?
                .parse()
                .ok()
        }
        _ => None,
    }
}
