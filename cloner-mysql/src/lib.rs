//! paraclone's MySQL/MariaDB backend: read the template's definition once,
//! then build every clone at the same time, InnoDB tables copied as their
//! tablespace files where the server's files are at hand, rows copied by
//! the server otherwise.
//!
//! # Why
//!
//! MySQL has no `CREATE DATABASE … TEMPLATE`. Django's test runner clones a
//! MySQL test database by piping `mysqldump --routines --events <template>`
//! into `mysql <clone>`, once per worker and one worker after another: each
//! clone re-reads the whole schema, sends every row out of the server as
//! SQL text and parses it back in, and eight workers wait for eight such
//! round trips in a row (about 5 s each here for a 200-table template of
//! 137 MB on disk). A server-side `CREATE TABLE … LIKE` plus
//! `INSERT … SELECT` is much faster but loses foreign keys, views,
//! triggers and routines.
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
//!   [`Cloner::concurrency_hint`](cloner::Cloner::concurrency_hint)): its
//!   tables are created (foreign keys included, checks off), then filled;
//! - rows never leave the server. On MariaDB 10.6+ whose data directory
//!   this machine can read and write (the server runs here, as on a CI
//!   machine or a laptop; or its files are mounted at
//!   [`MysqlOptions::datadir`]), an InnoDB table's **tablespace file is
//!   copied** ("transportable tablespaces": `FLUSH TABLES … FOR EXPORT` on
//!   the template once, then per table `DISCARD TABLESPACE`, a file copy
//!   and `IMPORT TABLESPACE`), which writes each page once instead of
//!   sending every row through the buffer pool, the redo log and the
//!   doublewrite buffer and rebuilding every index. Other tables, and all
//!   of them elsewhere, are filled with `INSERT INTO clone.t (cols) SELECT
//!   cols FROM template.t` in parallel sessions
//!   ([`MysqlOptions::table_parallelism`](MysqlOptions#structfield.table_parallelism)), generated columns left out;
//! - then routines, views (in dependency order, retried until all exist),
//!   triggers (in firing order) and events are created, so that no trigger
//!   fires on copied rows.
//!
//! [`MysqlOptions::copy`] chooses: [`CopyMethod::Auto`] (the default)
//! copies as files the tables whose file is 320 KiB or more, where that
//! is faster (below, the three data-dictionary changes a file costs
//! outweigh the rows), and everything else as rows; [`CopyMethod::Files`]
//! copies every table it can as files and fails if the route is not
//! possible at all; [`CopyMethod::Rows`] never copies files. The file
//! route leaves to rows the tables it cannot move: other engines,
//! partitioned tables, tables with a `FULLTEXT` index, encrypted tables,
//! and names with non-ASCII characters; a table whose import the server
//! refuses is made again and filled by rows. [`MysqlCloner::copy_report`]
//! (and the run's summary) says how many tables went which way and why.
//! The file route needs the global privileges `PROCESS` (to find the
//! files) and `RELOAD` (to export them); without them `auto` copies rows.
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
//! `cargo run --release -p cloner-mysql --example clone_bench` builds a
//! template of 200 tables × 3 secondary indexes (and a foreign key each) ×
//! 1,000 rows (137 MB on disk, 688 KiB per table file), then times, on the
//! same server, clones asked for at once against Django's method
//! (`mysqldump --routines --events <template> | mysql <clone>`, one clone
//! after another). On MariaDB 10.11 with its stock settings (128 MiB
//! buffer pool, 96 MiB redo log, doublewrite on,
//! `innodb_flush_log_at_trx_commit = 1`, `sync_frm = ON`), 2 cores and a
//! virtual disk (ext4 mounted with `discard`), runs of this session gave:
//!
//! | clones | by files (`auto`) | by rows       | Django's method |
//! |--------|-------------------|---------------|-----------------|
//! | 1      | 1.5 – 2.2 s       | 2.3 s         | 4.7 s           |
//! | 4      | 4.1 – 5.3 s       | 6.7 s         |                 |
//! | 8      | 7.4 – 11.0 s      | 12.8 – 14.8 s | 42.0 s          |
//!
//! so 8 clones take 0.18 – 0.26 of Django's time by files (0.20 typically),
//! against 0.30 – 0.35 by rows. What bounds the file route is not the
//! copying (137 MB per clone is copied in 0.15 s and imported in 0.8 s)
//! but the data dictionary: MariaDB creates, discards and imports tables
//! one at a time whoever asks (the server uses under one core meanwhile,
//! and neither `innodb_flush_log_at_trx_commit = 2` nor `sync_frm = OFF`
//! changed it: 9.1 s for 8 clones, 0.20 of Django's 45.0 s in that run),
//! so the 4,800 such statements of 8 clones of 200 tables take 7 – 9 s
//! whatever the tables hold. Measured apart with 8 sessions: 1,600 `CREATE TABLE`
//! 2.7 – 4.3 s, 1,600 `DISCARD` 0.8 s, 1,600 `IMPORT` 3.8 s. That is also
//! why the file route starts at 320 KiB: with 200 tables of 100 rows
//! (160 KiB files) 8 clones took 6.0 s by rows and 8.5 s by files, with
//! 300 rows (256 KiB) 7.5 s and 8.4 s, and with the bench's 336 KiB files
//! (`cargo xtask bench`) 9.4 s and 8.5 s.
//!
//! Tried and not kept for the row route (8 clones, 12.3 – 15 s before):
//! creating tables without their plain secondary indexes and foreign keys
//! and adding them with one `ALTER TABLE` after the rows (12.5 – 17.5 s;
//! MariaDB 10.6+ already builds the indexes of an empty table sorted when
//! rows arrive in a transaction with `unique_checks = 0` and
//! `foreign_key_checks = 0`, as the copy sessions set); creating and
//! filling each table in one go (within the noise); 4 sessions per clone
//! (11.7 s), 1 (17.3 s). The row route is bound by writing pages through a
//! small buffer pool, so the default concurrency is bounded by the pool
//! (32 MiB per clone: 4 at a time on a stock server), whichever route the
//! tables take: 8 clones by files took 8.7 / 10.4 s 8 at a time against
//! 9.2 / 10.9 s 4 at a time, within the noise. For the file route: two sessions creating a clone's tables instead
//! of one, and writing each copied file out before its import, made no
//! difference beyond the noise; creating tables without foreign keys and
//! adding them after the import cost one more statement per table (+3 s).
//!
//! By rows, a test server clones faster with a bigger buffer pool and
//! redo log (`innodb_buffer_pool_size = 1G`, `innodb_log_file_size = 1G`)
//! and without durability it does not need (`innodb_flush_log_at_trx_commit
//! = 2`, `innodb_doublewrite = 0`): settings for the server, which
//! paraclone never changes.
//!
//! # A killed run
//!
//! A clone never has more than one table between `DISCARD` and `IMPORT`:
//! MariaDB 10.11 refuses, at once and with `ER_LOCK_WAIT_TIMEOUT`, to drop
//! a table while a table referencing it by a foreign key has its
//! tablespace discarded, so `DROP DATABASE` of a clone left half-moved by
//! a killed run fails; the cloner then drops its tables one by one,
//! retrying those refused while others go, and the database after them.
//! With one discarded table that always ends (tested).
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
pub mod throwaway;

pub use mysql_cloner::{CopyReport, MAX_NAME_LEN, MysqlCloner};
pub use options::{
    CopyMethod, DEFAULT_CHARSET, DEFAULT_MAX_CONCURRENCY, DEFAULT_TABLE_PARALLELISM, DEFAULT_URL,
    MysqlOptions, URL_ENV, resolve_url,
};
