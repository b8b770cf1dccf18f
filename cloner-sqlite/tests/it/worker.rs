//! The worker side: opening a clone from the environment, on disk and in memory.
//!
//! The environment of a test process cannot be changed safely while other
//! tests run in it, so the tests that need `DATABASE_URL` and
//! `PARACLONE_SQLITE_IN_MEMORY` set run their worker half in a spawned copy
//! of this test binary, the way paraclone runs tests: the parent makes a
//! clone, starts `<this binary> <test> --exact` with the variables set, and
//! checks the clone's file afterwards; the child, recognising its role by
//! `PARACLONE_IT_CHILD`, does what a test would.

use std::path::Path;
use std::process::Command;

use cloner::Cloner;
use cloner::naming::{Role, RunId, database_name};
use cloner_sqlite::worker::{
    IN_MEMORY_ENV, WorkerError, open_from_env, open_url, open_url_in_memory, open_url_on_disk,
};
use cloner_sqlite::{Method, SqliteOptions, Target};
use tempfile::TempDir;

use crate::support::{open, rows, setup_with};

const CHILD: &str = "PARACLONE_IT_CHILD";
const URL_VAR: &str = "PARACLONE_IT_DATABASE_URL";

const SCHEMA: &str = "CREATE TABLE parent (id INTEGER PRIMARY KEY); \
                      CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id)); \
                      INSERT INTO parent (id) VALUES (1)";

/// A clone of a small template; the directory lives as long as the guard.
fn make_clone() -> (String, std::path::PathBuf, impl Drop) {
    let (cloner, guard) = setup_with(
        SqliteOptions::new("databases")
            .target(Target::Disk)
            .method(Method::Copy),
    );
    let run = RunId::generate();
    let (tpl, clone) = (
        database_name("worker", &run, Role::Template, 200),
        database_name("worker", &run, Role::Worker(1), 200),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let connection = runtime.block_on(async {
        let migrations = [cloner::Migration {
            name: "0001.sql".to_owned(),
            sql: SCHEMA.to_owned(),
        }];
        cloner.create_template(&tpl, &migrations).await.unwrap();
        cloner.seal_template(&tpl).await.unwrap();
        cloner.clone_database(&tpl, &clone).await.unwrap()
    });
    (connection.url, connection.path.unwrap(), guard)
}

fn children(path: &Path) -> usize {
    rows(&open(path).unwrap(), "SELECT count(*) FROM child").unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// Whether this process is the worker half of `test`.
fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|t| t == test)
}

/// Runs the worker half of `test` in a new process of this test binary.
fn run_child(test: &str, url: &str, in_memory: bool) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .env(URL_VAR, url);
    if in_memory {
        command.env(IN_MEMORY_ENV, "1");
    } else {
        command.env_remove(IN_MEMORY_ENV);
    }
    let output = command.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the worker process of {test} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

#[test]
fn a_spawned_worker_opens_its_clone_from_the_environment() {
    const TEST: &str = "worker::a_spawned_worker_opens_its_clone_from_the_environment";
    if is_child(TEST) {
        let db = open_from_env(URL_VAR).unwrap();
        assert!(!db.is_in_memory());
        let conn = db.connect().unwrap();
        conn.execute_batch("INSERT INTO child (parent_id) VALUES (1)")
            .unwrap();
        let refused = conn.execute_batch("INSERT INTO child (parent_id) VALUES (2)");
        assert!(
            refused.is_err(),
            "a worker's connection must enforce foreign keys"
        );
        return;
    }
    let (url, path, _guard) = make_clone();
    run_child(TEST, &url, false);
    assert_eq!(
        children(&path),
        1,
        "the worker's write reached the clone's file"
    );
}

#[test]
fn a_spawned_worker_in_memory_mode_keeps_its_writes_in_memory() {
    const TEST: &str = "worker::a_spawned_worker_in_memory_mode_keeps_its_writes_in_memory";
    if is_child(TEST) {
        let db = open_from_env(URL_VAR).unwrap();
        assert!(
            db.is_in_memory(),
            "{IN_MEMORY_ENV}=1 loads the clone into memory"
        );
        assert!(
            db.memory_uri()
                .unwrap()
                .ends_with("?mode=memory&cache=shared")
        );
        let (first, second) = (db.connect().unwrap(), db.connect().unwrap());
        first
            .execute_batch("INSERT INTO child (parent_id) VALUES (1)")
            .unwrap();
        assert_eq!(
            rows(&second, "SELECT count(*) FROM child").unwrap()[0][0].as_deref(),
            Some("1")
        );
        assert!(
            second
                .execute_batch("INSERT INTO child (parent_id) VALUES (2)")
                .is_err(),
            "foreign keys in memory"
        );
        assert_eq!(children(db.path()), 0, "the write stayed in memory");
        return;
    }
    let (url, path, _guard) = make_clone();
    run_child(TEST, &url, true);
    assert_eq!(
        children(&path),
        0,
        "the in-memory worker's write must not reach the file"
    );
}

#[test]
fn a_missing_variable_says_to_run_through_paraclone() {
    let error = open_from_env("PARACLONE_IT_NEVER_SET_7f3a").unwrap_err();
    assert!(
        matches!(&error, WorkerError::NotSet { var } if var == "PARACLONE_IT_NEVER_SET_7f3a"),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("through paraclone")
            && message.contains("set PARACLONE_IT_NEVER_SET_7f3a"),
        "{message}"
    );
}

#[test]
fn in_memory_connections_share_one_copy_that_dies_with_the_database() {
    let (url, path, _guard) = make_clone();
    let db = open_url_in_memory(&url).unwrap();
    assert!(db.is_in_memory());
    assert_eq!(db.path(), path);
    let (first, second) = (db.connect().unwrap(), db.connect().unwrap());
    first
        .execute_batch(
            "INSERT INTO child (parent_id) VALUES (1); INSERT INTO child (parent_id) VALUES (1)",
        )
        .unwrap();
    assert_eq!(
        rows(&second, "SELECT count(*) FROM child").unwrap()[0][0].as_deref(),
        Some("2")
    );
    assert_eq!(children(&path), 0, "the file is untouched");
    drop((first, second, db));
    let fresh = open_url_in_memory(&url).unwrap();
    let conn = fresh.connect().unwrap();
    assert_eq!(
        rows(&conn, "SELECT count(*) FROM child").unwrap()[0][0].as_deref(),
        Some("0"),
        "a fresh copy"
    );
    // Two databases of one process never share a copy.
    let other = open_url_in_memory(&url).unwrap();
    assert_ne!(other.memory_uri(), fresh.memory_uri());
}

#[test]
fn every_url_form_opens_the_file() {
    let (url, path, _guard) = make_clone();
    let plain = path.to_str().unwrap().to_owned();
    for form in [url.clone(), format!("sqlite:{plain}"), plain] {
        let db = open_url_on_disk(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(db.path(), path, "{form}");
        assert!(!db.is_in_memory());
        db.connect()
            .unwrap()
            .execute_batch("INSERT INTO child (parent_id) VALUES (1)")
            .unwrap();
    }
    assert_eq!(children(&path), 3);
    // Without the variable, open_url stays on disk.
    if std::env::var_os(IN_MEMORY_ENV).is_none() {
        assert!(!open_url(&url).unwrap().is_in_memory());
    }
}

#[test]
fn a_file_that_is_no_database_is_refused_when_opened() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("garbage.sqlite3");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let url = format!("sqlite://{}", path.display());
    let error = open_url_on_disk(&url).unwrap_err();
    assert!(
        matches!(&error, WorkerError::Open { path: p, .. } if *p == path),
        "{error}"
    );
    let error = open_url_in_memory(&url).unwrap_err();
    assert!(
        matches!(&error, WorkerError::Load { .. } | WorkerError::Open { .. }),
        "{error}"
    );
    let missing = dir.path().join("missing.sqlite3");
    let error = open_url_on_disk(missing.to_str().unwrap()).unwrap_err();
    assert!(matches!(error, WorkerError::NotFound { .. }));
    assert!(!missing.exists(), "opening must not create a database");
}
