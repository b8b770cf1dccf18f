//! paraclone's MySQL/MariaDB backend: read the template's definition once,
//! then build every clone at the same time, rows copied by the server.
//!
//! # Why
//!
//! MySQL has no `CREATE DATABASE … TEMPLATE`. Django's test runner clones a
//! MySQL test database by piping `mysqldump --routines --events <template>`
//! into `mysql <clone>`, once per worker and one worker after another: each
//! clone re-reads the whole schema, sends every row out of the server as
//! SQL text and parses it back in, and eight workers wait for eight such
//! round trips in a row (about 9.5 s each for a 200-table, 80 MB template).
//! A server-side `CREATE TABLE … LIKE` plus `INSERT … SELECT` is much
//! faster but loses foreign keys, views, triggers and routines.
//!
//! [`MysqlCloner`] does the dump/restore in-process, without the
//! `mysqldump` or `mysql` binaries, and only the part that must be done
//! per clone is done per clone:
//!
//! - the template's definition is read **once** per template (and kept
//!   until the template is created, sealed or dropped again through the
//!   cloner): `SHOW CREATE TABLE` for tables (indexes, foreign keys, checks,
//!   character sets and collations, the `AUTO_INCREMENT` counter), and
//!   `SHOW CREATE` for views, procedures, functions, triggers and events
//!   with the `sql_mode`, character set and time zone each was created
//!   under, plus the database's default character set and collation;
//! - **every clone is built concurrently** (bounded by
//!   [`Cloner::concurrency_hint`](cloner::Cloner::concurrency_hint)), and
//!   within a clone tables are created and filled in parallel sessions
//!   ([`MysqlOptions::table_parallelism`]);
//! - rows never leave the server: `INSERT INTO clone.t (cols) SELECT cols
//!   FROM template.t`, with generated columns left out of the list;
//! - then routines, views (in dependency order, retried until all exist),
//!   triggers (in firing order) and events are created, so that no trigger
//!   fires on copied rows.
//!
//! `DEFINER=` clauses are dropped, so every object of a clone belongs to
//! the login that made it (which need not be allowed to name others).
//!
//! [`MysqlCloner::clone_to`] is the fallback for a template on another
//! server: the same steps with rows streamed through the client in
//! multi-row `INSERT`s. [`MysqlCloner::dump_template`] writes a
//! `mysqldump`-compatible SQL file of a template, for users who want to
//! read or keep it; `mariadb <db> < file` loads it.
//!
//! # Measured
//!
//! `cargo run -p cloner-mysql --example clone_bench` builds a template of
//! 200 tables × 3 secondary indexes (and a foreign key each) × 1,000 rows
//! (about 120 MB with indexes), then times, on the same server, clones
//! asked for at once against Django's method (`mysqldump --routines
//! --events <template> | mysql <clone>`, one clone after another). On
//! MariaDB 10.11 with its stock settings (128 MiB buffer pool, 96 MiB redo
//! log, doublewrite on, `innodb_flush_log_at_trx_commit = 1`), 2 cores and
//! a virtual disk, four runs gave:
//!
//! | clones | paraclone        | Django's method |
//! |--------|------------------|-----------------|
//! | 1      | 1.8 – 6.0 s      | 10.5 – 32 s     |
//! | 4      | 6.3 – 25 s       |                 |
//! | 8      | 12.4 – 30 s      | 70 – 97 s       |
//!
//! so 8 clones take 0.16 – 0.34 of Django's time (about 0.24 typically).
//! The spread is the server's: on such a small server the copy is bound
//! by writing pages (8 clones write about 1 GB through a 128 MiB pool and
//! a 96 MiB redo log), and each run pays for the flushing and purging the
//! previous one left. More clones at a time than the buffer pool holds
//! thrash it, which is why the default concurrency is bounded by the pool
//! (32 MiB per clone: 4 at a time on a stock server, up to
//! [`DEFAULT_MAX_CONCURRENCY`] on a larger one); within a clone,
//! [`DEFAULT_TABLE_PARALLELISM`] sessions (2) did best or near best in
//! every run. Rows streamed through the client
//! ([`MysqlCloner::clone_to`]) took 4 – 8 s for one clone.
//!
//! Tried and not kept (same server, `--no-django` runs of the bench, 8
//! clones, 12.3 – 15 s before): creating tables without their plain
//! secondary indexes and foreign keys and adding them with one `ALTER
//! TABLE` after the rows (12.5 – 17.5 s; MariaDB 10.6+ already builds the
//! indexes of an empty table sorted when rows arrive in a transaction with
//! `unique_checks = 0` and `foreign_key_checks = 0`, as the copy sessions
//! set); creating and filling each table in one go instead of all tables
//! first (10.9 – 11.1 s, within the noise); 4 sessions per clone (11.7 s),
//! 1 (17.3 s); 2 clones at a time (18.1 s), 8 (13.0 s). During the copy
//! the 2 cores are about 95 % busy writing some 250 MB/s, so on this
//! server the 0.15 target is out of reach without the server settings
//! below. Measured again in two full runs: 8 clones in 12.3 s against
//! Django's 43.2 s and 41.0 s (0.285 and 0.299).
//!
//! A test server clones much faster with a bigger buffer pool and redo log
//! (`innodb_buffer_pool_size = 1G`, `innodb_log_file_size = 1G`) and
//! without durability it does not need (`innodb_flush_log_at_trx_commit =
//! 2`, `innodb_doublewrite = 0`): settings for the server, which paraclone
//! never changes.
//!
//! # Time zones
//!
//! `TIMESTAMP` columns are stored in UTC and converted from and to the
//! session's `time_zone` on every write and read; `DATETIME`, `DATE` and
//! `TIME` are stored as written. The cloner's own sessions always run with
//! `time_zone = '+00:00'` (and `sql_mode = 'NO_AUTO_VALUE_ON_ZERO'`, as
//! `mysqldump` does), so copies and dumps never shift a value, whatever
//! the server's `time_zone` or the migrations' sessions used; and events
//! are recreated under the time zone they were created under. A clone
//! therefore holds exactly the template's UTC instants, and a session on a
//! clone sees what a session with the same `time_zone` on the template
//! would see.
//!
//! What a worker should do: set its session `time_zone` explicitly, to the
//! value the application's own connections use (most set `'+00:00'`, as
//! Django does with `USE_TZ = True`), rather than inherit the server's
//! `SYSTEM` zone, which differs between machines. Named zones (`'Europe/Berlin'`)
//! need the server's time zone tables loaded (`mariadb-tzinfo-to-sql`);
//! numeric offsets always work.
//!
//! # Which server
//!
//! The server URL is `mysql://user:password@host:port` (`mariadb://` is
//! accepted too). Where it comes from, first found wins:
//!
//! 1. the alias's own `url` in `paraclone.toml`,
//! 2. `url` under `[backends.mysql]`,
//! 3. the environment variable `PARACLONE_MYSQL_URL` ([`URL_ENV`]),
//! 4. `mysql://root@127.0.0.1:3306` ([`DEFAULT_URL`]).
//!
//! [`resolve_url`] implements 3 and 4. A worker's `DATABASE_URL` is the same
//! URL with the path set to the percent-encoded database name, e.g.
//! `mysql://app:secret@127.0.0.1:3306/shop_pc0123456789_w3`: the form sqlx,
//! diesel, the `mysql`/`mysql_async` crates and Django's dj-database-url
//! accept. Connections are plain TCP (or the server's Unix socket, which
//! the client prefers for a local server); TLS is not compiled in.
//!
//! The login needs, on the databases paraclone creates (for example
//! ``GRANT ALL ON `shop\_pc%`.* TO 'app'@'%'``): `CREATE`, `DROP`,
//! `SELECT`, `INSERT`, `ALTER`, `INDEX`, `REFERENCES`, `CREATE VIEW`,
//! `SHOW VIEW`, `TRIGGER`, `CREATE ROUTINE`, `ALTER ROUTINE` and `EVENT`.
//! The server hides triggers and routines from a login that lacks the
//! privileges to see them, so a clone checks that it could have copied
//! them (it creates and drops a probe trigger and procedure when the
//! template shows none) and fails rather than come out incomplete. With
//! binary logging on (MySQL 8's default), creating functions also needs
//! `SUPER` or `log_bin_trust_function_creators = 1`.
//!
//! Failures carry advice: an unreachable server is
//! [`ClonerError::Connect`](cloner::ClonerError::Connect) with a hint on
//! how to start MariaDB or where to set the URL; a refused login is
//! `Connect` with a hint about the user and password; a missing privilege
//! is [`ClonerError::Privilege`](cloner::ClonerError::Privilege) naming it
//! (`CREATE`, `TRIGGER`, `CREATE ROUTINE`, `EVENT`, …); a missing template
//! is [`ClonerError::Missing`](cloner::ClonerError::Missing). A clone that
//! fails is dropped again. No password appears in any message.
//!
//! # Limits
//!
//! MariaDB system-versioned tables and Oracle-mode packages are refused
//! ([`ClonerError::Unsupported`](cloner::ClonerError::Unsupported)); MariaDB
//! sequences are copied as the tables they are. Database names are at
//! most 64 bytes ([`MAX_NAME_LEN`]).

mod dump;
mod errors;
mod literal;
mod mysql_cloner;
mod options;
mod restore;
mod schema;
mod script;
mod server;
mod tablespace;

pub use mysql_cloner::{CopyReport, MAX_NAME_LEN, MysqlCloner};
pub use options::{
    CopyMethod, DEFAULT_CHARSET, DEFAULT_MAX_CONCURRENCY, DEFAULT_TABLE_PARALLELISM, DEFAULT_URL,
    MysqlOptions, URL_ENV, resolve_url,
};
