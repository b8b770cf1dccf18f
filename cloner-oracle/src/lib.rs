//! paraclone's Oracle backend: a test database is a user (schema); a clone
//! is a new user into which the template schema is copied, many at once.
//!
//! # Why
//!
//! Django's test runner cannot clone Oracle test databases at all: its
//! Oracle backend has no `_clone_test_db`, so `manage.py test --parallel`
//! on Oracle refuses to run in parallel (the 2020 attempts shelled out to
//! `expdp`/`impdp`; a later one re-runs every migration in every worker).
//! Oracle users are the ones whose suites are slowest to set up, and the
//! ones parallel tests would help most.
//!
//! On Oracle a "database" in the sense of a test run is a user: its
//! schema holds the tables, and logging in as it makes its objects the
//! default. [`OracleCloner`] builds the template user once (migrations
//! applied as that user) and copies its schema into one new user per
//! worker, all clones at once on separate sessions.
//!
//! **Status**: written for and unit-tested against the shapes of Oracle
//! 19c and 23ai output (`DBMS_METADATA.GET_DDL`, dictionary views);
//! targets Oracle 12.2 and later (12.1 works except for names, which are
//! then limited to 30 bytes). It has **not been run against a live Oracle
//! server** on paraclone's own machines, which cannot run one; its
//! integration tests (`cargo test -p cloner-oracle` with `ORACLE_URL` set)
//! run the conformance kit wherever a server is available.
//!
//! # What it does, in SQL
//!
//! - **template**: `CREATE USER "name" IDENTIFIED BY "…" DEFAULT TABLESPACE
//!   "USERS" QUOTA UNLIMITED ON "USERS"`, `GRANT CREATE SESSION, CREATE
//!   TABLE, CREATE VIEW, CREATE SEQUENCE, CREATE TRIGGER, CREATE PROCEDURE,
//!   CREATE TYPE` (Django's test-user privileges); then each migration file
//!   is split ([`;`-terminated SQL, PL/SQL units ended by a line holding
//!   only `/`](crate#migration-scripts)) and run logged in as the new user,
//!   committed per file. A failing statement is
//!   [`ClonerError::Migration`](cloner::ClonerError::Migration) naming the
//!   file and the line, and the half-built user is dropped.
//! - **seal**: every sequence and identity column of the template is
//!   pinned: its next value drawn and the sequence restarted there, so
//!   that `LAST_NUMBER` (otherwise the end of the sequence cache) is the
//!   exact next value clones continue from.
//! - **clone** (route `ddl`, the default): a user with the template's
//!   privileges, roles and quotas; then, with `DBMS_METADATA` set to leave
//!   out segment attributes, storage and tablespaces and to emit
//!   constraints separately: sequences (restarted at the template's next
//!   value), object types (in dependency order), tables (identity columns
//!   starting at the template's next value, generated `BY DEFAULT` during
//!   the copy), rows (`INSERT /*+ APPEND */ … SELECT` of the stored
//!   columns, virtual ones left out, all tables at once on their own
//!   sessions), indexes (in parallel), primary key, unique and check
//!   constraints, foreign keys, `GENERATED ALWAYS` restored, synonyms,
//!   packages, procedures, functions, views, package and type bodies,
//!   triggers (last, so none fires during the copy). Every DDL text is
//!   rewritten on tokens: the template's schema name replaced by the
//!   clone's wherever it qualifies a name (never inside strings or
//!   comments), storage clauses dropped even if a transform was ignored.
//!   Then invalid objects are recompiled (`ALTER … COMPILE`, in rounds)
//!   and the clone is checked: every object of the template must exist in
//!   it, and nothing valid in the template may be invalid in it.
//!   Materialized views, database links, scheduler jobs, queues and Java
//!   are not copied by this route: a template that has them is refused
//!   with a message naming them.
//! - **clone** (route `datapump`): the same user, then a schema-mode
//!   `DBMS_DATAPUMP` import over a loopback database link (made for the
//!   import and dropped after it) with `REMAP_SCHEMA` template → clone,
//!   users, grants and quotas excluded, segment attributes dropped; then
//!   the same recompile and check. It copies every object type Data Pump
//!   knows, at the cost of a job start per clone. Its statements are
//!   generated and unit-tested like the DDL route's; like everything here
//!   it has not run against a live server yet.
//! - **drop**: `DROP USER "name" CASCADE` (and `DROP TABLESPACE … INCLUDING
//!   CONTENTS AND DATAFILES` when users get their own tablespace). A user
//!   that does not exist (ORA-01918) is dropped already. A user still
//!   connected (ORA-01940, typically a worker's session still closing) is
//!   retried with backoff for [`OracleOptions::drop_timeout`] (10 s); then
//!   the error names each session from `v$session` (sid, serial#, status,
//!   program, machine, OS user). With `terminate_sessions` they are killed
//!   (`ALTER SYSTEM KILL SESSION … IMMEDIATE`) instead of waited for.
//! - **list**: every `ALL_USERS` name, filtered by prefix in Rust (`LIKE`
//!   would read `_` in the prefix as a wildcard).
//!
//! # Names and passwords
//!
//! A database's name is its user's name exactly. paraclone's names are
//! lower case (`shop_pc4k2x9q0mzb_w3`) and Oracle folds unquoted
//! identifiers to upper case, so every name is always quoted in SQL and a
//! client logs in with the quoted user (`"shop_pc4k2x9q0mzb_w3"`), which
//! Oracle reads case-sensitively. Identifiers are limited to 128 bytes
//! from Oracle 12.2 on (with `COMPATIBLE` ≥ 12.2) and to 30 bytes before;
//! the cloner learns which on first contact and
//! [`max_name_len`](cloner::Cloner::max_name_len) reports it (but at least
//! 32, the least [`cloner::naming`] works with: the names a run makes stay
//! within 30 bytes anyway; longer ones are refused, never cut).
//!
//! Each user's password is derived from a random secret the cloner holds
//! in memory and from the user's name: 26 letters and digits, never
//! printed, different in every run, and the same for one name within a
//! run, so [`connection`](cloner::Cloner::connection) can describe a
//! database before it exists. Every password the cloner knows is hidden
//! in every error it returns.
//!
//! # Which server
//!
//! The server URL is `oracle://user:password@host:port/service` (user and
//! password percent-encoded; a case-sensitive user in `%22…%22`; query
//! parameters are passed on to the Easy Connect string, e.g.
//! `?connect_timeout=10`). The service must be a pluggable database
//! (`FREEPDB1`, `XEPDB1`, `ORCLPDB1`), not the root container. Where it
//! comes from, first found wins:
//!
//! 1. the alias's own `url` in `paraclone.toml`,
//! 2. `url` under `[backends.oracle]`,
//! 3. the environment variable `ORACLE_URL` ([`URL_ENV`]),
//! 4. `oracle://system@127.0.0.1:1521/FREEPDB1` ([`DEFAULT_URL`]).
//!
//! A worker gets `DATABASE_URL` =
//! `oracle://%22shop_pc…_w3%22:password@host:port/service` (the form
//! dj-database-url and diesel-oci read; [`worker::parse_url`] turns it
//! into user, password and connect string), the parts (`{user}` is the
//! quoted login, `{name}` the bare user name, `{host}`, `{port}`,
//! `{password}`) and `PARACLONE_ORACLE_CONNECT_STRING` = `host:port/service`
//! ([`CONNECT_STRING_ENV`]).
//!
//! In `paraclone.toml`, `[backends.oracle]` takes `url`,
//! `max_concurrency`, `terminate_sessions`, and `strategy = "ddl" |
//! "datapump"` for the route. The tablespace (`USERS` by default), a
//! temporary tablespace, per-user tablespaces, the copy parallelism, the
//! drop timeout and the Data Pump link's connect string are
//! [`OracleOptions`] fields.
//!
//! # The Oracle client library
//!
//! The `oracle` crate (ODPI-C) builds without Oracle software but loads
//! the Oracle client library (`libclntsh`) at the first connection. Where
//! it is missing the client fails with `DPI-1047`, which the cloner turns
//! into one [`ClonerError::Connect`](cloner::ClonerError::Connect) whose
//! hint says what is missing (Oracle Instant Client, "Basic" or "Basic
//! Light"), how to install it (download, unzip to e.g.
//! `/opt/oracle/instantclient_23_x`, libaio), how to point to it
//! (`LD_LIBRARY_PATH` or `ldconfig` on Linux; `~/lib` on macOS, where
//! `DYLD_LIBRARY_PATH` is not honored; `PATH` on Windows), and that
//! paraclone exits with "could not run" (2) until then.
//!
//! # Privileges
//!
//! The login of the URL needs, for the **ddl** route:
//!
//! - `CREATE USER`, `DROP USER`, `ALTER USER` and `GRANT ANY PRIVILEGE`
//!   (to make test users and give them Django's privileges; `GRANT ANY
//!   ROLE` if the template user was given roles);
//! - `SELECT_CATALOG_ROLE` (to read other schemas' DDL with
//!   `DBMS_METADATA`) and read access to `DBA_SYS_PRIVS`,
//!   `DBA_ROLE_PRIVS`, `DBA_TS_QUOTAS` (without it clones get Django's
//!   privileges);
//! - `CREATE ANY TABLE`, `CREATE ANY INDEX`, `ALTER ANY TABLE`,
//!   `CREATE ANY SEQUENCE`, `SELECT ANY SEQUENCE`, `ALTER ANY SEQUENCE`,
//!   `CREATE ANY VIEW`, `CREATE ANY TRIGGER`, `CREATE ANY PROCEDURE`,
//!   `CREATE ANY TYPE`, `CREATE ANY SYNONYM`, `SELECT ANY TABLE`,
//!   `INSERT ANY TABLE`, `ALTER ANY PROCEDURE`, `ALTER ANY TRIGGER`,
//!   `ALTER ANY TYPE` (to build the clone's objects and copy rows);
//! - `SELECT` on `v$session` (to name sessions that block a drop) and,
//!   for `terminate_sessions`, `ALTER SYSTEM`; `v$parameter` is read, if
//!   granted, for `COMPATIBLE` and the free sessions;
//! - `CREATE TABLESPACE` and `DROP TABLESPACE` for per-user tablespaces.
//!
//! In practice: `SYSTEM`, or a user granted `DBA`. The **datapump** route
//! needs the user privileges above plus `DATAPUMP_IMP_FULL_DATABASE` and
//! `DATAPUMP_EXP_FULL_DATABASE`, `CREATE DATABASE LINK`, and a server
//! with `GLOBAL_NAMES = FALSE` (the default) that can reach its own
//! listener at the link's connect string.
//!
//! # Migration scripts
//!
//! A migration file holds SQL statements ended by `;` and PL/SQL units
//! (`DECLARE`/`BEGIN` blocks, `CREATE [OR REPLACE] PROCEDURE | FUNCTION |
//! PACKAGE [BODY] | TRIGGER | TYPE …`) ended by a line holding only `/`,
//! as SQL*Plus and SQLcl read them; `;` and `/` inside strings (also
//! `q'[…]'`), quoted identifiers and comments are text. SQL*Plus commands
//! (`SET`, `PROMPT`, `@file`) are not SQL and are not understood. A unit
//! created with compilation errors fails the migration, naming the errors.
//!
//! # Concurrency
//!
//! Clones are made concurrently, at most [`DEFAULT_MAX_CONCURRENCY`] (4)
//! or `max_concurrency` at once, fewer on a server with few sessions free;
//! each holds one session, plus [`DEFAULT_COPY_PARALLELISM`] (4) while its
//! rows are copied and its indexes built. The template is read once and
//! shared by all its clones.
//!
//! # Layout
//!
//! The statement generation is a pure layer (`plan`: tokenizer, script
//! splitting, DDL remapping, identity and sequence handling, the ordered
//! clone plan, user and drop statements, the Data Pump job) with no I/O,
//! unit-tested on realistic `GET_DDL` output. The I/O layer (`io`) reads
//! the template and runs the plan; [`OracleCloner`] puts them behind the
//! [`cloner::Cloner`] trait.

mod error;
mod io;
mod options;
mod oracle_cloner;
mod plan;
mod server;
pub mod worker;

pub use options::{
    DEFAULT_COPY_PARALLELISM, DEFAULT_DROP_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_TABLESPACE,
    DEFAULT_URL, OracleOptions, Route, URL_ENV, UnknownRoute, resolve_url,
};
pub use oracle_cloner::OracleCloner;
pub use server::CONNECT_STRING_ENV;
