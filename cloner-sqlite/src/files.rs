//! The blocking work on database files: naming them, building, sealing, cloning, removing.
//!
//! Everything here runs on tokio's blocking pool (the async trait methods
//! wrap it in `spawn_blocking`) and opens its own connections.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use cloner::quote::{Dialect, quote_literal};
use cloner::{ClonerError, Migration};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::options::Method;

/// The longest database name: a file name may have 255 bytes, minus
/// `.sqlite3-journal` and a margin.
pub(crate) const MAX_NAME_LEN: usize = 200;

/// The file name extension of every database file.
pub(crate) const EXTENSION: &str = ".sqlite3";

/// The files SQLite may keep next to a database.
const SIBLINGS: [&str; 3] = ["-journal", "-wal", "-shm"];

/// How long a backup waits for a template another connection is writing.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The file of database `name` in `dir`, after checking that `name` can be
/// a file name.
pub(crate) fn database_path(dir: &Path, name: &str) -> Result<PathBuf, ClonerError> {
    check_name(name)?;
    Ok(dir.join(format!("{name}{EXTENSION}")))
}

fn check_name(name: &str) -> Result<(), ClonerError> {
    if name.len() > MAX_NAME_LEN {
        return Err(ClonerError::NameTooLong {
            name: name.to_owned(),
            len: name.len(),
            max: MAX_NAME_LEN,
        });
    }
    let problem = if name.is_empty() {
        Some("it is empty")
    } else if name.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if name.contains('\0') {
        Some("it contains a NUL byte")
    } else if name == "." || name == ".." {
        Some("it names a directory")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(ClonerError::Database {
            op: "use as a database file name",
            name: name.to_owned(),
            source: problem.into(),
        }),
    }
}

/// The database names in `dir` that start with `prefix`, sorted.
pub(crate) fn list(dir: &Path, prefix: &str) -> Result<Vec<String>, ClonerError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(io("read directory", dir, source)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| io("read directory", dir, source))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(|f| f.strip_suffix(EXTENSION)) else {
            continue;
        };
        if name.starts_with(prefix) && entry.file_type().is_ok_and(|t| t.is_file()) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Creates the template `name` at `path` from `migrations`. The file is
/// claimed first (so an existing database is never touched) and removed
/// again when a migration fails.
pub(crate) fn create_template(
    path: &Path,
    name: &str,
    migrations: &[Migration],
) -> Result<(), ClonerError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| io("create directory", dir, source))?;
    }
    claim(path, name)?;
    let result = apply(path, name, migrations);
    if result.is_err() {
        let _ = remove(path);
    }
    result
}

fn apply(path: &Path, name: &str, migrations: &[Migration]) -> Result<(), ClonerError> {
    let db = |source: rusqlite::Error| database("build the template", name, source);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    // Durability comes once, from `seal`; a sync per migration statement
    // would make templates with many statements needlessly slow to build.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = OFF")
        .map_err(db)?;
    for migration in migrations {
        conn.execute_batch(&migration.sql)
            .map_err(|source| ClonerError::Migration {
                migration: migration.name.clone(),
                database: name.to_owned(),
                source: source.into(),
            })?;
    }
    conn.close().map_err(|(_, source)| db(source))
}

/// Makes the template at `path` safe to copy as a file: everything
/// checkpointed into the main file, rollback journal mode (so no `-wal`
/// file holds pages), no connection open, and the file synced to disk.
pub(crate) fn seal(path: &Path, name: &str) -> Result<(), ClonerError> {
    if !path.is_file() {
        return Err(ClonerError::Missing {
            name: name.to_owned(),
        });
    }
    let db = |source: rusqlite::Error| database("seal the template", name, source);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    conn.busy_timeout(LOCK_WAIT).map_err(db)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .map_err(db)?;
    if mode.eq_ignore_ascii_case("wal") {
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(db)?;
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(db)?;
    }
    conn.close().map_err(|(_, source)| db(source))?;
    let file = std::fs::File::open(path).map_err(|source| io("open", path, source))?;
    file.sync_all().map_err(|source| io("sync", path, source))
}

/// Makes `target` (database `name`) a copy of `template` (database
/// `template_name`) with `method`.
pub(crate) fn clone(
    method: Method,
    template: &Path,
    template_name: &str,
    target: &Path,
    name: &str,
) -> Result<(), ClonerError> {
    if !template.is_file() {
        return Err(ClonerError::Missing {
            name: template_name.to_owned(),
        });
    }
    claim(target, name)?;
    let result = match method.resolve() {
        Method::Copy if has_journal(template) => backup(template, target),
        Method::Copy => std::fs::copy(template, target)
            .map(drop)
            .map_err(|source| io("copy to", target, source)),
        Method::Vacuum => vacuum_into(template, target),
        Method::Backup | Method::Auto => backup(template, target),
    };
    if result.is_err() {
        let _ = remove(target);
    }
    result.map_err(|e| match e {
        ClonerError::Database { op, source, .. } => ClonerError::Database {
            op,
            name: name.to_owned(),
            source,
        },
        other => other,
    })
}

/// Whether pages of `template` may live outside its main file: a WAL with
/// content, or a rollback journal (a hot one, or one being written).
fn has_journal(template: &Path) -> bool {
    let sibling = |suffix: &str| {
        let mut path = template.as_os_str().to_owned();
        path.push(suffix);
        std::fs::metadata(path)
    };
    sibling("-wal").is_ok_and(|m| m.len() > 0) || sibling("-journal").is_ok()
}

fn backup(template: &Path, target: &Path) -> Result<(), ClonerError> {
    let db = |source: rusqlite::Error| database("clone by backup", "", source);
    let src = open_read_only(template).map_err(db)?;
    let mut dst = Connection::open_with_flags(
        target,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    // A clone is disposable: no sync to disk.
    dst.execute_batch("PRAGMA synchronous = OFF").map_err(db)?;
    copy_pages(&src, &mut dst).map_err(db)?;
    dst.close().map_err(|(_, source)| db(source))
}

/// Copies every page of `src` into `dst` with the online backup API, in one
/// step (`Backup::run_to_completion` would need a positive page count),
/// waiting while another connection holds a lock on either side.
pub(crate) fn copy_pages(src: &Connection, dst: &mut Connection) -> rusqlite::Result<()> {
    let backup = Backup::new(src, dst)?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(format!(
                        "the database stayed locked for {} seconds",
                        LOCK_WAIT.as_secs()
                    )),
                ));
            }
        }
    }
}

fn vacuum_into(template: &Path, target: &Path) -> Result<(), ClonerError> {
    let db = |source: rusqlite::Error| database("clone by VACUUM INTO", "", source);
    let Some(target_text) = target.to_str() else {
        return Err(ClonerError::Database {
            op: "clone by VACUUM INTO",
            name: String::new(),
            source: format!("the path {} is not valid UTF-8", target.display()).into(),
        });
    };
    let src = open_read_only(template).map_err(db)?;
    // VACUUM INTO honours the source connection's synchronous setting.
    src.execute_batch("PRAGMA synchronous = OFF").map_err(db)?;
    src.execute_batch(&format!(
        "VACUUM INTO {}",
        quote_literal(Dialect::Sqlite, target_text)
    ))
    .map_err(db)?;
    src.close().map_err(|(_, source)| db(source))
}

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(LOCK_WAIT)?;
    Ok(conn)
}

/// Creates `path` empty, failing with [`ClonerError::Exists`] if it exists:
/// the name is taken atomically, so two runs can never both create it.
fn claim(path: &Path, name: &str) -> Result<(), ClonerError> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(ClonerError::Exists {
            name: name.to_owned(),
        }),
        Err(source) => Err(io("create", path, source)),
    }
}

/// Removes the database file at `path` and its journal, WAL and
/// shared-memory siblings; files that are not there are fine.
pub(crate) fn remove(path: &Path) -> Result<(), ClonerError> {
    let mut first_error = None;
    for suffix in std::iter::once("").chain(SIBLINGS) {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => {
                first_error.get_or_insert(io("remove", &file, source));
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn io(op: &'static str, path: &Path, source: std::io::Error) -> ClonerError {
    ClonerError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

fn database(op: &'static str, name: &str, source: rusqlite::Error) -> ClonerError {
    ClonerError::Database {
        op,
        name: name.to_owned(),
        source: source.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_files_with_the_extension() {
        assert_eq!(
            database_path(Path::new("/d"), "o'neil \"x\" é").unwrap(),
            Path::new("/d/o'neil \"x\" é.sqlite3")
        );
    }

    #[test]
    fn names_that_are_no_file_names_are_refused() {
        for name in ["", "a/b", "..", ".", "a\\b", "a\0b"] {
            let e = database_path(Path::new("/d"), name).unwrap_err();
            assert!(
                matches!(
                    e,
                    ClonerError::Database {
                        op: "use as a database file name",
                        ..
                    }
                ),
                "{name:?}: {e}"
            );
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(matches!(
            database_path(Path::new("/d"), &long),
            Err(ClonerError::NameTooLong {
                len: 201,
                max: 200,
                ..
            })
        ));
        assert!(database_path(Path::new("/d"), &long[1..]).is_ok());
    }

    #[test]
    fn the_longest_name_leaves_room_for_every_sibling() {
        let longest = format!("{}{EXTENSION}-journal", "x".repeat(MAX_NAME_LEN));
        assert!(longest.len() <= 255);
    }
}
