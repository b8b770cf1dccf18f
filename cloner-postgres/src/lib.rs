//! paraclone's PostgreSQL backend: one template, many `CREATE DATABASE …
//! TEMPLATE` clones at once.
//!
//! # Why
//!
//! PostgreSQL can copy a whole database server-side: `CREATE DATABASE clone
//! TEMPLATE template` copies files (or pages through the WAL), no SQL is
//! replayed, and several such copies of one template may run at the same
//! time. Django's test runner has used this since 1.9 for
//! `manage.py test --parallel`, but it calls `clone_test_db` once per worker,
//! one after another, so eight workers wait for eight copies in a row; and
//! every user of it meets, sooner or later, the error
//!
//! ```text
//! ERROR:  source database "test_app" is being accessed by other users
//! DETAIL:  There is 1 other session using the database.    (SQLSTATE 55006)
//! ```
//!
//! because PostgreSQL refuses to copy a database anyone is connected to (a
//! connection pool the setup left open, a psql or an IDE on the test
//! database). Django then gives up with that message and no name of who
//! holds the database.
//!
//! [`PostgresCloner`] makes the clones concurrently, bounded by
//! [`Cloner::concurrency_hint`](cloner::Cloner::concurrency_hint), and
//! handles the "in use" case: its own sessions never stay on a template
//! ([`Cloner::seal_template`](cloner::Cloner::seal_template) makes sure);
//! before each copy it looks at `pg_stat_activity` and, while other sessions
//! hold the template, waits with backoff for at most
//! [`PostgresOptions::in_use_timeout`] (10 s by default); then it fails with
//! [`ClonerError::InUse`](cloner::ClonerError::InUse) naming each session
//! (pid, `application_name`, user). With
//! [`PostgresOptions::terminate_sessions`] (off by default) it ends them with
//! `pg_terminate_backend` and goes on.
//!
//! # What it does, in SQL
//!
//! - template: `CREATE DATABASE "name"`, then each migration file as one
//!   simple-protocol query in a session on the new database (so each file is
//!   one implicit transaction); a failing file is
//!   [`ClonerError::Migration`](cloner::ClonerError::Migration) naming it,
//!   and the half-built template is dropped again.
//! - clone: `CREATE DATABASE "clone" TEMPLATE "template" STRATEGY wal_log`
//!   (the `STRATEGY` clause on PostgreSQL 15+ only; see below).
//! - drop: `DROP DATABASE IF EXISTS "name" WITH (FORCE)` on PostgreSQL 13+;
//!   before 13 the sessions on it are terminated first and a plain
//!   `DROP DATABASE IF EXISTS` follows. Dropping what is not there succeeds.
//! - listing: every `pg_database` name, filtered by prefix in Rust (a `LIKE`
//!   would read `_` and `%` in the prefix as wildcards).
//!
//! Every name is quoted with [`cloner::quote::quote_ident`]; names longer
//! than 63 bytes are refused with
//! [`ClonerError::NameTooLong`](cloner::ClonerError::NameTooLong), never cut
//! (PostgreSQL would cut them silently, making two clones one database).
//! Each operation opens its own session on the maintenance database (the
//! URL's path, usually `postgres`) with `application_name` `paraclone`, and
//! closes it before returning.
//!
//! # Which server
//!
//! The server URL is `postgres://user:password@host:port/maintenance_db`
//! (query parameters such as `connect_timeout` are honoured and passed on to
//! workers). Its login needs `CREATEDB`. Where it comes from, first found
//! wins:
//!
//! 1. the alias's own `url` in `paraclone.toml`,
//! 2. `url` under `[backends.postgres]`,
//! 3. the environment variable `PARACLONE_POSTGRES_URL` ([`URL_ENV`]),
//! 4. `postgres://postgres@127.0.0.1:5432/postgres` ([`DEFAULT_URL`]).
//!
//! [`resolve_url`] implements 3 and 4. A worker's `DATABASE_URL` is the same
//! URL with the path replaced by the percent-encoded database name, e.g.
//! `postgres://app:secret@127.0.0.1:5432/shop_pc0123456789_w3`: the form
//! libpq (psql, diesel, psycopg), sqlx and Django's dj-database-url accept.
//! Connections are plain TCP or Unix sockets (`?host=/var/run/postgresql`);
//! TLS is not supported.
//!
//! Failures carry advice: an unreachable server is
//! [`ClonerError::Connect`](cloner::ClonerError::Connect) with a hint naming
//! how to start it (`pg_ctlcluster <version> main start` on Debian) or where
//! to set the URL; a refused login is `Connect` with a hint about the user and
//! password; a login without `CREATEDB` is
//! [`ClonerError::Privilege`](cloner::ClonerError::Privilege); a missing
//! template is [`ClonerError::Missing`](cloner::ClonerError::Missing). No
//! password appears in any message: the server is always shown by its
//! redacted URL.
//!
//! # Strategy and concurrency, measured
//!
//! MEASUREMENTS
//!
//! The concurrency hint is [`DEFAULT_MAX_CONCURRENCY`] (8) or the configured
//! `max_concurrency`, lowered to half the server's free connection slots
//! (`max_connections` less the reserved slots and the sessions in use,
//! learnt by [`Cloner::server_version`](cloner::Cloner::server_version)) on
//! a busy server.

mod in_use;
mod options;
mod postgres_cloner;
mod server;
mod session;

pub use options::{
    DEFAULT_IN_USE_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_URL, PostgresOptions, Strategy,
    URL_ENV, UnknownStrategy, resolve_url,
};
pub use postgres_cloner::{MAX_NAME_LEN, PostgresCloner};
