//! The file route: a clone's InnoDB tables made by copying the template's
//! tablespace files ("transportable tablespaces"), on MariaDB, when this
//! machine sees the server's data directory.
//!
//! Rows copied by `INSERT … SELECT` go through the server's whole write
//! path: every row is parsed into pages of the buffer pool, logged in the
//! redo log, written once to the doublewrite buffer and once to its file,
//! and every secondary index is rebuilt. A tablespace copy writes each page
//! once. Per table of a clone:
//!
//! 1. `CREATE TABLE` (done for every table first, as on the row route);
//! 2. `ALTER TABLE … DISCARD TABLESPACE`: the server deletes the new,
//!    empty `.ibd` file;
//! 3. the template's `.ibd` and `.cfg` files are copied into the clone's
//!    directory, owned like the server's own files;
//! 4. `ALTER TABLE … IMPORT TABLESPACE`: the server checks the `.cfg`
//!    against the table's definition and adopts the pages.
//!
//! The template's files are consistent only while a session holds
//! `FLUSH TABLES … FOR EXPORT` on them (which also writes the `.cfg`
//! files, and removes them again at `UNLOCK TABLES`); one such session per
//! template is shared by all clones being made from it ([`Exports`]).
//! That the `.cfg` files appear where this machine looks for them is also
//! what proves that the directory is the server's own.
//!
//! A clone has at most one table between steps 2 and 4 at any time. This
//! matters for what a killed run leaves: MariaDB 10.11 refuses to drop a
//! table (`ER_LOCK_WAIT_TIMEOUT`, at once) while another table that
//! references it by a foreign key has its tablespace discarded, so two
//! discarded tables referencing each other could not be dropped at all.
//! With one, dropping it first always works, which
//! [`drop_tables_one_by_one`] does when `DROP DATABASE` meets the error.
//!
//! Under `auto`, tables whose file is under [`AUTO_MIN_FILE_BYTES`] go by
//! rows: three statements that change the data dictionary cost more than
//! copying a few rows. Tables the route does not take go by rows: other
//! engines, partitioned
//! tables (one file per partition), tables with a `FULLTEXT` index (hidden
//! auxiliary tables), encrypted tables, tables in the system tablespace or
//! with a `DATA DIRECTORY`, and names that MariaDB stores under a file
//! name this module does not derive (non-ASCII). A table whose import the
//! server refuses is dropped, created again and filled by rows.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cloner::quote::{Dialect, quote_ident};
use mysql_async::Conn;
use mysql_async::prelude::Queryable as _;

use crate::errors::{ObjectError, at};
use crate::schema::{Schema, Table, text};
use crate::server::Server;

/// The smallest tablespace file `auto` copies as a file (see the crate
/// documentation). 8 clones of a template of 200 tables took, by rows and
/// by files: with 160 KiB files 6.0 s and 8.5 s; 256 KiB 7.5 s and 8.4 s;
/// 336 KiB 9.4 s and 8.5 s (the bench's template, medians of 3); 688 KiB
/// 13.5 s and 8.4 s. The server creates, discards and imports tables one
/// at a time, so by files every table costs about the same whatever its
/// size; the two cross between 256 and 336 KiB.
pub(crate) const AUTO_MIN_FILE_BYTES: u64 = 320 << 10;

/// `ER_LOCK_WAIT_TIMEOUT`: what MariaDB answers, at once, when a table
/// related by a foreign key to a discarded tablespace is dropped.
pub(crate) const LOCK_WAIT_TIMEOUT: u16 = 1205;

/// The server's data directory as this machine reaches it.
#[derive(Clone, Debug)]
pub(crate) struct Datadir {
    pub(crate) path: PathBuf,
}

impl Datadir {
    /// The directory holding database `name`'s files, if MariaDB's file
    /// name for it is one [`file_name`] derives.
    pub(crate) fn database_dir(&self, name: &str) -> Option<PathBuf> {
        file_name(name).map(|dir| self.path.join(dir))
    }
}

/// The file name MariaDB stores a database or table named `name` under:
/// letters, digits and `_` as they are, other ASCII characters as `@` and
/// four hexadecimal digits (`-` → `@002d`). `None` for names with other
/// characters, which MariaDB encodes with tables of its own.
pub(crate) fn file_name(name: &str) -> Option<String> {
    if name.is_empty() || !name.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push_str(&format!("@{:04x}", u32::from(c)));
        }
    }
    Some(out)
}

/// The template's exported files: per table (by name), the stem of its
/// `.ibd` and `.cfg` files in `dir`.
#[derive(Debug)]
pub(crate) struct TemplateFiles {
    pub(crate) dir: PathBuf,
    pub(crate) stems: HashMap<String, String>,
}

/// Why a template's tables cannot go by files at all.
#[derive(Debug)]
pub(crate) enum ExportError {
    /// A statement failed (privilege, server error).
    Failed(ObjectError),
    /// The route is not possible, for the reason given.
    Unavailable(String),
}

impl From<ObjectError> for ExportError {
    fn from(e: ObjectError) -> ExportError {
        ExportError::Failed(e)
    }
}

/// The InnoDB tables of `template` whose files the route can copy and
/// are at least `min_bytes` long: the table name and its file stem.
async fn eligible(
    conn: &mut Conn,
    template: &str,
    min_bytes: u64,
) -> Result<Vec<(String, String)>, ObjectError> {
    let Some(dir) = file_name(template) else {
        return Ok(Vec::new());
    };
    let rows: Vec<mysql_async::Row> = conn
        .exec(
            "SELECT t.TABLE_NAME FROM information_schema.TABLES t \
             WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE' AND t.ENGINE = 'InnoDB' \
             AND LOWER(t.CREATE_OPTIONS) NOT LIKE '%partitioned%' \
             AND LOWER(t.CREATE_OPTIONS) NOT LIKE '%encrypted%' \
             AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS s \
                 WHERE s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME \
                 AND s.INDEX_TYPE = 'FULLTEXT')",
            (template,),
        )
        .await
        .map_err(at("list the template's InnoDB tables", "SELECT"))?;
    let prefix = format!("{dir}/");
    let files: Vec<mysql_async::Row> = conn
        .exec(
            "SELECT NAME, FILENAME, FILE_SIZE FROM information_schema.INNODB_SYS_TABLESPACES \
             WHERE LEFT(NAME, CHAR_LENGTH(?)) = ?",
            (&prefix, &prefix),
        )
        .await
        .map_err(at("list the template's tablespace files", "PROCESS"))?;
    let files: HashMap<String, String> = files
        .iter()
        .filter(|row| {
            let size = text(row, 2)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            size >= min_bytes
        })
        .filter_map(|row| Some((text(row, 0)?, text(row, 1)?)))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let table = text(row, 0)?;
            let stem = file_name(&table)?;
            // Only a file where the server keeps it by default: a table
            // with a DATA DIRECTORY goes by rows.
            let expected = format!("./{dir}/{stem}.ibd");
            (files.get(&format!("{dir}/{stem}")) == Some(&expected)).then_some((table, stem))
        })
        .collect())
}

/// One template's export: the session holding `FLUSH TABLES … FOR EXPORT`
/// and what it exported.
struct Export {
    conn: Conn,
    files: Arc<TemplateFiles>,
}

/// Unlocks the template and ends the export's session.
async fn unlock(mut conn: Conn) {
    let _ = conn.query_drop("UNLOCK TABLES").await;
    let _ = conn.disconnect().await;
}

/// The export of one template, shared by the clones being made from it.
#[derive(Default)]
struct Slot {
    export: tokio::sync::Mutex<Option<Export>>,
    users: AtomicUsize,
}

/// The templates exported at the moment, by name.
#[derive(Default)]
pub(crate) struct Exports {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

/// A clone's use of a template's export; the export ends when the last
/// guard of a template is dropped.
pub(crate) struct ExportGuard {
    slot: Arc<Slot>,
    pub(crate) files: Arc<TemplateFiles>,
}

impl Drop for ExportGuard {
    fn drop(&mut self) {
        if self.slot.users.fetch_sub(1, Ordering::AcqRel) == 1 {
            let slot = Arc::clone(&self.slot);
            // Outside a runtime (never in practice) the session is only
            // dropped, which ends it, and the server unlocks.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { release(&slot).await });
            }
        }
    }
}

/// Ends the slot's export if nobody uses it.
async fn release(slot: &Slot) {
    let mut export = slot.export.lock().await;
    if slot.users.load(Ordering::Acquire) == 0
        && let Some(export) = export.take()
    {
        unlock(export.conn).await;
    }
}

impl Exports {
    fn slot(&self, template: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().expect("not poisoned");
        Arc::clone(slots.entry(template.to_owned()).or_default())
    }

    /// The exported files of `template`, exporting it first if no clone
    /// is using an export of it.
    pub(crate) async fn acquire(
        &self,
        server: &Server,
        datadir: &Datadir,
        template: &str,
        min_bytes: u64,
    ) -> Result<ExportGuard, ExportError> {
        let slot = self.slot(template);
        let mut export = slot.export.lock().await;
        if export.is_none() {
            *export = Some(export_template(server, datadir, template, min_bytes).await?);
        }
        slot.users.fetch_add(1, Ordering::AcqRel);
        let files = Arc::clone(&export.as_ref().expect("just set").files);
        drop(export);
        Ok(ExportGuard { slot, files })
    }

    /// Ends the export of `template`, if any, before the template is
    /// dropped or changed (its lock would block either).
    pub(crate) async fn end(&self, template: &str) {
        let slot = self.slots.lock().expect("not poisoned").remove(template);
        if let Some(slot) = slot
            && let Some(export) = slot.export.lock().await.take()
        {
            unlock(export.conn).await;
        }
    }
}

/// Opens a session on `template`, locks its eligible tables for export
/// and checks that their `.cfg` files appeared in `datadir`.
async fn export_template(
    server: &Server,
    datadir: &Datadir,
    template: &str,
    min_bytes: u64,
) -> Result<Export, ExportError> {
    let mut conn = server.connect().await.map_err(|e| {
        ExportError::Failed(ObjectError::new(
            "connect to export the template",
            "USAGE",
            e,
        ))
    })?;
    match lock_for_export(&mut conn, datadir, template, min_bytes).await {
        Ok(files) => Ok(Export {
            conn,
            files: Arc::new(files),
        }),
        Err(e) => {
            unlock(conn).await;
            Err(e)
        }
    }
}

async fn lock_for_export(
    conn: &mut Conn,
    datadir: &Datadir,
    template: &str,
    min_bytes: u64,
) -> Result<TemplateFiles, ExportError> {
    // A name whose file name is not derived here: every table by rows.
    let Some(dir) = datadir.database_dir(template) else {
        return Ok(TemplateFiles {
            dir: PathBuf::new(),
            stems: HashMap::new(),
        });
    };
    let tables = eligible(conn, template, min_bytes).await?;
    let Some((_, first)) = tables.first() else {
        return Ok(TemplateFiles {
            dir,
            stems: HashMap::new(),
        });
    };
    let db = ident(template);
    let list = tables
        .iter()
        .map(|(table, _)| format!("{db}.{}", ident(table)))
        .collect::<Vec<_>>()
        .join(", ");
    conn.query_drop(format!("FLUSH TABLES {list} FOR EXPORT"))
        .await
        .map_err(at("lock the template's tables for export", "RELOAD"))?;
    let probe = dir.join(format!("{first}.cfg"));
    match std::fs::metadata(&probe) {
        Ok(meta) if meta.is_file() => {}
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(ExportError::Unavailable(format!(
                "{} cannot be read by this process: copying table files needs paraclone to \
                 run as root or as the server's user",
                dir.display()
            )));
        }
        _ => {
            return Err(ExportError::Unavailable(format!(
                "{} did not appear when the server exported the template: {} is not the \
                 server's data directory as this machine sees it (set `datadir` under \
                 [backends.mysql] if the server's files are mounted elsewhere)",
                probe.display(),
                datadir.path.display()
            )));
        }
    }
    Ok(TemplateFiles {
        dir,
        stems: tables.into_iter().collect(),
    })
}

/// What [`transport`] did.
#[derive(Debug, Default)]
pub(crate) struct Transported {
    /// Tables whose files were imported.
    pub(crate) files: usize,
    /// Tables whose import the server refused, and why (they go by rows).
    pub(crate) refused: Vec<String>,
}

/// Moves every table of `schema` that `files` holds into the clone whose
/// directory is `clone_dir`, one table at a time on `conn` (a session on
/// the clone with foreign key checks off, every table already created).
/// Returns those of them left for rows (the server refused the import, or
/// the clone's table has no file of its own), and what was done.
pub(crate) async fn transport<'s>(
    conn: &mut Conn,
    schema: &'s Schema,
    files: &TemplateFiles,
    clone_dir: &Path,
) -> Result<(Vec<&'s Table>, Transported), ObjectError> {
    let mut rows = Vec::new();
    let mut done = Transported::default();
    let owner = ownership(clone_dir)
        .map_err(|e| ObjectError::new("read the clone directory's owner", "FILE", e))?;
    for table in &schema.tables {
        let Some(stem) = files.stems.get(&table.name) else {
            continue;
        };
        let target = clone_dir.join(format!("{stem}.ibd"));
        // The clone's table must have a file of its own where the import
        // will look (innodb_file_per_table may have changed since).
        if !target.is_file() {
            rows.push(table);
            continue;
        }
        let name = ident(&table.name);
        conn.query_drop(format!("ALTER TABLE {name} DISCARD TABLESPACE"))
            .await
            .map_err(at(format!("discard the new tablespace of {name}"), "ALTER"))?;
        let from = files.dir.clone();
        let to = clone_dir.to_owned();
        let stem_owned = stem.clone();
        let copied =
            tokio::task::spawn_blocking(move || copy_files(&from, &to, &stem_owned, owner))
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)));
        if let Err(e) = copied {
            // Back to a table with a tablespace, then rows.
            recreate(conn, table).await?;
            done.refused
                .push(format!("{name}: copying its files failed: {e}"));
            rows.push(table);
            continue;
        }
        match conn
            .query_drop(format!("ALTER TABLE {name} IMPORT TABLESPACE"))
            .await
        {
            Ok(()) => done.files += 1,
            Err(e) => {
                let why = crate::errors::innermost(e);
                recreate(conn, table).await?;
                done.refused.push(format!("{name}: {why}"));
                rows.push(table);
            }
        }
    }
    Ok((rows, done))
}

/// Drops `table` (whose tablespace may be discarded) and creates it again,
/// empty.
async fn recreate(conn: &mut Conn, table: &Table) -> Result<(), ObjectError> {
    let name = ident(&table.name);
    conn.query_drop(format!("DROP TABLE {name}"))
        .await
        .map_err(at(
            format!("drop table {name} after its import failed"),
            "DROP",
        ))?;
    conn.query_drop(table.create.as_str())
        .await
        .map_err(at(format!("create table {name} again"), "CREATE"))
}

/// The owner and group of `dir`, which the copied files get (when this
/// process may give them).
#[cfg(unix)]
fn ownership(dir: &Path) -> io::Result<Option<(u32, u32)>> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(dir)?;
    Ok(Some((meta.uid(), meta.gid())))
}

#[cfg(not(unix))]
fn ownership(dir: &Path) -> io::Result<Option<(u32, u32)>> {
    std::fs::metadata(dir).map(|_| None)
}

/// Copies `stem.ibd` and `stem.cfg` from `from` to `to`, readable and
/// writable by the owner and group of `to` only, as the server's own files
/// are; a file left half-written is removed.
fn copy_files(from: &Path, to: &Path, stem: &str, owner: Option<(u32, u32)>) -> io::Result<()> {
    for extension in ["cfg", "ibd"] {
        let source = from.join(format!("{stem}.{extension}"));
        let target = to.join(format!("{stem}.{extension}"));
        let result = copy_one(&source, &target, owner);
        if result.is_err() {
            let _ = std::fs::remove_file(&target);
            return result;
        }
    }
    Ok(())
}

fn copy_one(source: &Path, target: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    std::fs::copy(source, target)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o660))?;
        if let Some((uid, gid)) = owner {
            // Not allowed unless root (or already the owner): then the
            // files are ours, which only works if the server runs as us.
            match std::os::unix::fs::chown(target, Some(uid), Some(gid)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = owner;
    Ok(())
}

/// Drops every table of `database` one at a time, retrying those the
/// server refuses while any other goes, then the database: for a clone
/// left with a discarded tablespace (see the module documentation), where
/// `DROP DATABASE` fails.
pub(crate) async fn drop_tables_one_by_one(
    conn: &mut Conn,
    database: &str,
) -> Result<(), mysql_async::Error> {
    conn.query_drop("SET SESSION foreign_key_checks = 0")
        .await?;
    let mut pending: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? \
             AND TABLE_TYPE <> 'VIEW'",
            (database,),
        )
        .await?;
    let db = ident(database);
    loop {
        let before = pending.len();
        let mut failed = Vec::new();
        let mut last_error = None;
        for table in pending {
            if let Err(e) = conn
                .query_drop(format!("DROP TABLE IF EXISTS {db}.{}", ident(&table)))
                .await
            {
                last_error = Some(e);
                failed.push(table);
            }
        }
        match last_error {
            None => break,
            // No table went in a whole pass: nothing will change.
            Some(e) if failed.len() == before => return Err(e),
            Some(_) => pending = failed,
        }
    }
    conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await
}

fn ident(name: &str) -> String {
    quote_ident(Dialect::Mysql, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_mariadb_for_ascii() {
        assert_eq!(
            file_name("shop_pc0123456789_w1").as_deref(),
            Some("shop_pc0123456789_w1")
        );
        // Read off MariaDB 10.11's data directory.
        assert_eq!(
            file_name("enc-t$s.x y@A#~").as_deref(),
            Some("enc@002dt@0024s@002ex@0020y@0040A@0023@007e")
        );
        assert_eq!(file_name("Tab-1 é"), None);
        assert_eq!(file_name(""), None);
    }

    #[test]
    fn database_dirs_are_under_the_datadir() {
        let datadir = Datadir {
            path: PathBuf::from("/var/lib/mysql"),
        };
        assert_eq!(
            datadir.database_dir("my-app_pc1_w1"),
            Some(PathBuf::from("/var/lib/mysql/my@002dapp_pc1_w1"))
        );
        assert_eq!(datadir.database_dir("é"), None);
    }
}
