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
//!   [`ClonerError::Migration`](cloner::ClonerError::Migration) naming it
//!   (its cause says at which line and column of the file, from the
//!   server's error position, when the server gives one), and the
//!   half-built template is dropped again.
//! - clone: `CREATE DATABASE "clone" TEMPLATE "template" STRATEGY file_copy`
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
//! PostgreSQL 15 offers two ways to copy a template: `WAL_LOG` (its
//! default: pages are copied through shared buffers and written to the
//! WAL) and `FILE_COPY` (the files are copied, with a checkpoint before and
//! after; the only way before 15). The default here is **`FILE_COPY`**
//! ([`Strategy::DEFAULT`]), because it measured faster both to clone and to
//! drop once clones are made concurrently. Measured with
//! `cargo run --release -p cloner-postgres --example strategy_bench` on
//! PostgreSQL 15.20 (Debian), 2 cores, 24 GiB, virtio disk, stock settings
//! (`fsync` on, `shared_buffers` 128 MB, `max_wal_size` 1 GB); template of
//! 200 tables (primary key and two indexes each) × 1000 rows; 8 clones;
//! median of 5 interleaved rounds; two runs:
//!
//! | strategy    | 8 one after another (Django) | 8 at once (paraclone) | dropping the 8 |
//! |-------------|------------------------------|-----------------------|----------------|
//! | `wal_log`   | 1.62 s / 1.66 s              | 0.99 s / 1.24 s       | 3.4–15 s       |
//! | `file_copy` | 2.72 s / 2.43 s              | **0.76 s / 0.98 s**   | 1.1–1.2 s      |
//!
//! Django's loop (no `STRATEGY` clause, so `WAL_LOG` on 15+, one clone after
//! another) against paraclone's default (`FILE_COPY`, 8 at once): 1.7–2.1×
//! faster on two cores. `FILE_COPY` is slow one at a time (each copy waits
//! for its own checkpoints) but concurrent copies share the checkpoints;
//! `WAL_LOG` clones leave their pages dirty in shared buffers and their
//! bytes in the WAL, which the drops (and the next checkpoint) pay for. On a
//! small template (20 tables × 100 rows) the two tie at once (0.20 s vs
//! 0.18 s for 8) and `FILE_COPY` still drops 2–3× faster. `WAL_LOG` can win
//! where a checkpoint is expensive: a server holding much unrelated dirty
//! data; set `strategy = "wal_log"` under `[backends.postgres]` there.
//!
//! The concurrency hint is [`DEFAULT_MAX_CONCURRENCY`] (8) or the configured
//! `max_concurrency`, lowered to half the server's free connection slots
//! (`max_connections` less the reserved slots and the sessions in use,
//! learnt by [`Cloner::server_version`](cloner::Cloner::server_version)) on
//! a busy server.

mod in_use;
mod options;
mod postgres_cloner;
mod script_error;
mod server;
mod session;
pub mod throwaway;

pub use options::{
    DEFAULT_IN_USE_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_URL, PostgresOptions, Strategy,
    URL_ENV, UnknownStrategy, resolve_url,
};
pub use postgres_cloner::{MAX_NAME_LEN, PostgresCloner};
