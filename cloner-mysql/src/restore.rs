//! Building a clone from a [`Schema`]: tables, rows, then routines, views,
//! triggers and events, with many sessions at once.
//!
//! The order is what makes a faithful copy possible:
//!
//! 1. tables, in parallel sessions with `foreign_key_checks = 0`, so that
//!    a table may name one that does not exist yet in its foreign keys
//!    (each `SHOW CREATE TABLE` carries them, and the `AUTO_INCREMENT=`
//!    counter of the template);
//! 2. privilege probes (below), before the expensive part;
//! 3. rows, in parallel sessions, one table at a time per session:
//!    `INSERT INTO t (cols) SELECT cols FROM template.t` on the server, or
//!    through the client with [`Rows::Stream`]. The column lists leave out
//!    generated columns (computed, not stored data) and include invisible
//!    ones (which `SELECT *` would miss). Foreign keys and unique checks
//!    are off: the rows were valid in the template. No trigger exists yet,
//!    so none fires on copied rows;
//! 4. routines (views may call functions), then views until every view is
//!    made (a view may read another), then triggers in their firing order,
//!    then events, each under the `sql_mode`, character set and time zone
//!    it was created under.
//!
//! The probes: the server hides triggers from a login without the
//! `TRIGGER` privilege and routines from one that may not see them, so a
//! template that shows none may still have some. When it shows none, the
//! clone creates and drops a trigger and a procedure of its own; if that
//! is refused, the clone fails naming the privilege rather than coming out
//! silently incomplete.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cloner::quote::{Dialect, quote_ident};
use futures_util::future::{join, join_all, try_join_all};
use mysql_async::Conn;
use mysql_async::prelude::Queryable as _;

use crate::errors::{Failure, ObjectError, at};
use crate::literal::push_value;
use crate::schema::{Program, SESSION_SETUP, Schema, Table};
use crate::server::Server;
use crate::tablespace::{self, TemplateFiles, Transported};

/// How large an `INSERT` of streamed rows grows before it is sent, in
/// bytes: well under the servers' default `max_allowed_packet` (16 MiB on
/// MariaDB 10.2+ and MySQL 8, 4 MiB on 5.7).
pub(crate) const BATCH_BYTES: usize = 1 << 20;

/// The name of the objects the privilege probes create and drop again.
const PROBE: &str = "_paraclone_privilege_probe";

/// Where a clone's rows come from.
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a> {
    /// `INSERT … SELECT` from `template` on the clone's own server, or
    /// the template's tablespace files where `files` has them.
    ServerSide {
        /// The template's name.
        template: &'a str,
        /// The file route, when it is taken.
        files: Option<Files<'a>>,
    },
    /// Read from `template` on `source` and inserted through the client,
    /// for a template on another server.
    Stream {
        /// The template's server.
        source: &'a Server,
        /// The template's name.
        template: &'a str,
    },
}

/// The file route for one clone (see [`tablespace`]).
#[derive(Clone, Copy)]
pub(crate) struct Files<'a> {
    /// The template's exported files.
    pub(crate) template: &'a TemplateFiles,
    /// The clone's directory in the server's data directory.
    pub(crate) clone_dir: &'a Path,
}

/// Fills the existing, empty database `clone` on `server` from `schema`,
/// using up to `parallelism` sessions. Says which tables went by files.
pub(crate) async fn restore(
    server: &Server,
    schema: &Schema,
    clone: &str,
    rows: Rows<'_>,
    parallelism: usize,
) -> Result<Transported, Failure> {
    let workers = parallelism.clamp(1, schema.tables.len().max(1));
    let mut sessions = try_join_all((0..workers).map(|_| session(server, clone))).await?;
    let result = fill(&mut sessions, schema, rows).await;
    join_all(sessions.into_iter().map(Conn::disconnect)).await;
    result
}

async fn fill(
    sessions: &mut [Conn],
    schema: &Schema,
    rows: Rows<'_>,
) -> Result<Transported, Failure> {
    let all: Vec<&Table> = schema.tables.iter().collect();
    parallel(sessions, &all, Step::Create).await?;
    probe_privileges(&mut sessions[0], schema).await?;
    let mut transported = Transported::default();
    match rows {
        Rows::ServerSide {
            template,
            files: None,
        } => {
            parallel(sessions, &all, Step::Copy { template }).await?;
        }
        Rows::ServerSide {
            template,
            files: Some(files),
        } => {
            // One session moves files, one table at a time (see the
            // tablespace module for why a clone never has two tables
            // half-moved), while the others copy the rows of the tables
            // the file route does not take.
            let by_rows: Vec<&Table> = all
                .iter()
                .filter(|t| !files.template.stems.contains_key(&t.name))
                .copied()
                .collect();
            let left = match sessions.split_first_mut() {
                Some((mover, copiers)) if !copiers.is_empty() => {
                    let (moved, copied) = join(
                        tablespace::transport(mover, schema, files.template, files.clone_dir),
                        parallel(copiers, &by_rows, Step::Copy { template }),
                    )
                    .await;
                    copied?;
                    let (left, done) = moved?;
                    transported = done;
                    left
                }
                _ => {
                    let (mut left, done) = tablespace::transport(
                        &mut sessions[0],
                        schema,
                        files.template,
                        files.clone_dir,
                    )
                    .await?;
                    transported = done;
                    left.extend(by_rows);
                    left
                }
            };
            parallel(sessions, &left, Step::Copy { template }).await?;
        }
        Rows::Stream { source, template } => {
            let sources = try_join_all(sessions.iter().map(|_| session(source, template))).await?;
            let mut pairs: Vec<(&mut Conn, Conn)> = sessions.iter_mut().zip(sources).collect();
            let next = AtomicUsize::new(0);
            let failed = AtomicBool::new(false);
            let results = join_all(pairs.iter_mut().map(|(target, source)| {
                let (next, failed) = (&next, &failed);
                async move {
                    while !failed.load(Ordering::Relaxed) {
                        let Some(table) = schema.tables.get(next.fetch_add(1, Ordering::Relaxed))
                        else {
                            break;
                        };
                        if let Err(e) = copy_streamed(source, target, table).await {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                    Ok(())
                }
            }))
            .await;
            join_all(pairs.into_iter().map(|(_, source)| source.disconnect())).await;
            results.into_iter().collect::<Result<(), ObjectError>>()?;
        }
    }

    let conn = &mut sessions[0];
    for routine in &schema.routines {
        create(conn, routine).await?;
    }
    create_views(conn, &schema.views).await?;
    for program in schema.triggers.iter().chain(&schema.events) {
        create(conn, program).await?;
    }
    Ok(transported)
}

/// A session on `database` set up for copying (see
/// [`SESSION_SETUP`]), with foreign key and unique checks off and reads
/// that take no locks on the template.
pub(crate) async fn session(server: &Server, database: &str) -> Result<Conn, Failure> {
    let mut conn = server.connect().await?;
    let setup = format!(
        "{SESSION_SETUP}, foreign_key_checks = 0, unique_checks = 0; \
         SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; USE {}",
        ident(database)
    );
    if let Err(e) = conn.query_drop(setup).await {
        let _ = conn.disconnect().await;
        return Err(
            ObjectError::new(format!("open database {}", ident(database)), "SELECT", e).into(),
        );
    }
    Ok(conn)
}

/// What [`parallel`] does with each table.
#[derive(Clone, Copy)]
enum Step<'a> {
    /// `CREATE TABLE`.
    Create,
    /// `INSERT … SELECT` from `template`.
    Copy { template: &'a str },
}

/// Does `step` for every table, spread over `sessions`; stops handing out
/// tables after the first failure and returns it.
async fn parallel(
    sessions: &mut [Conn],
    tables: &[&Table],
    step: Step<'_>,
) -> Result<(), ObjectError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results = join_all(sessions.iter_mut().map(|conn| {
        let (next, failed) = (&next, &failed);
        async move {
            // Rows go in one transaction per session: one commit (and one
            // log flush) per session instead of one per table.
            if let Step::Copy { .. } = step {
                conn.query_drop("START TRANSACTION")
                    .await
                    .map_err(at("start copying rows", "INSERT"))?;
            }
            while !failed.load(Ordering::Relaxed) {
                let Some(&table) = tables.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let done = match step {
                    Step::Create => conn
                        .query_drop(table.create.as_str())
                        .await
                        .map_err(at(format!("create table {}", ident(&table.name)), "CREATE")),
                    Step::Copy { template } => copy_server_side(conn, template, table).await,
                };
                if let Err(e) = done {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
            if let Step::Copy { .. } = step {
                conn.query_drop("COMMIT")
                    .await
                    .map_err(at("commit the copied rows", "INSERT"))?;
            }
            Ok(())
        }
    }))
    .await;
    results.into_iter().collect()
}

async fn copy_server_side(
    conn: &mut Conn,
    template: &str,
    table: &Table,
) -> Result<(), ObjectError> {
    if table.columns.is_empty() {
        return Ok(());
    }
    let name = ident(&table.name);
    let sql = format!(
        "INSERT INTO {name} ({cols}) SELECT {cols} FROM {}.{name}",
        ident(template),
        cols = table.columns
    );
    conn.query_drop(sql)
        .await
        .map_err(at(format!("copy the rows of table {name}"), "INSERT"))
}

/// Copies the rows of `table` from the session `source` (on the template)
/// to `target` (on the clone) in multi-row `INSERT`s.
pub(crate) async fn copy_streamed(
    source: &mut Conn,
    target: &mut Conn,
    table: &Table,
) -> Result<(), ObjectError> {
    if table.columns.is_empty() {
        return Ok(());
    }
    let name = ident(&table.name);
    let object = format!("copy the rows of table {name}");
    let prefix = format!("INSERT INTO {name} ({}) VALUES ", table.columns);
    let mut batch: Vec<u8> = Vec::new();
    let mut result = source
        .query_iter(format!("SELECT {} FROM {name}", table.columns))
        .await
        .map_err(at(object.clone(), "SELECT"))?;
    while let Some(row) = result.next().await.map_err(at(object.clone(), "SELECT"))? {
        batch.extend_from_slice(if batch.is_empty() {
            prefix.as_bytes()
        } else {
            b","
        });
        push_row(&mut batch, &row);
        if batch.len() >= BATCH_BYTES {
            target
                .query_drop(std::mem::take(&mut batch))
                .await
                .map_err(at(object.clone(), "INSERT"))?;
        }
    }
    drop(result);
    if !batch.is_empty() {
        target
            .query_drop(batch)
            .await
            .map_err(at(object, "INSERT"))?;
    }
    Ok(())
}

/// `(v1,v2,…)`.
pub(crate) fn push_row(out: &mut Vec<u8>, row: &mysql_async::Row) {
    out.push(b'(');
    for (i, column) in row.columns_ref().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_value(
            out,
            column,
            row.as_ref(i).unwrap_or(&mysql_async::Value::NULL),
        );
    }
    out.push(b')');
}

/// Creates and drops a trigger and a procedure when the template shows
/// none, so that a login that could not see them fails here, naming the
/// privilege (see the module documentation).
async fn probe_privileges(conn: &mut Conn, schema: &Schema) -> Result<(), ObjectError> {
    let probe = ident(PROBE);
    if let (Some(table), true) = (schema.tables.first(), schema.triggers.is_empty()) {
        let sql = format!(
            "CREATE TRIGGER {probe} BEFORE INSERT ON {} FOR EACH ROW SET @paraclone_probe = 0; \
             DROP TRIGGER {probe}",
            ident(&table.name)
        );
        conn.query_drop(sql)
            .await
            .map_err(at("check that triggers can be copied", "TRIGGER"))?;
    }
    if schema.routines.is_empty() {
        let sql = format!("CREATE PROCEDURE {probe}() DO 0; DROP PROCEDURE {probe}");
        conn.query_drop(sql)
            .await
            .map_err(at("check that routines can be copied", "CREATE ROUTINE"))?;
    }
    Ok(())
}

/// Creates `program` under the session settings it was created with.
async fn create(conn: &mut Conn, program: &Program) -> Result<(), ObjectError> {
    let object = format!("create {}", program.describe());
    conn.query_drop(program.session_settings())
        .await
        .map_err(at(object.clone(), program.kind.privilege()))?;
    conn.query_drop(program.create.as_slice())
        .await
        .map_err(at(object, program.kind.privilege()))
}

/// Creates the views, retrying those that fail while any other succeeds:
/// a view can only be made once the views it reads exist.
async fn create_views(conn: &mut Conn, views: &[Program]) -> Result<(), ObjectError> {
    let mut pending: Vec<&Program> = views.iter().collect();
    while !pending.is_empty() {
        let mut failed = Vec::new();
        let mut first_error = None;
        for view in &pending {
            if let Err(e) = create(conn, view).await {
                first_error.get_or_insert(e);
                failed.push(*view);
            }
        }
        if failed.len() == pending.len() {
            return Err(first_error.expect("a view failed"));
        }
        pending = failed;
    }
    Ok(())
}

fn ident(name: &str) -> String {
    quote_ident(Dialect::Mysql, name)
}
