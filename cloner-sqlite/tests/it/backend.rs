//! What is particular to the SQLite backend, beyond the conformance kit.

use std::path::Path;

use cloner::naming::{Role, RunId, database_name};
use cloner::{Cloner, ClonerError, Migration};
use cloner_sqlite::worker::IN_MEMORY_ENV;
use cloner_sqlite::{Method, SqliteCloner, SqliteOptions, Target};

use crate::support::{open, rows, setup, setup_with};

fn name(role: Role) -> String {
    database_name("backend", &RunId::generate(), role, 200)
}

fn migration(sql: &str) -> Vec<Migration> {
    vec![Migration {
        name: "0001.sql".to_owned(),
        sql: sql.to_owned(),
    }]
}

/// The journal mode stored in a database file's header: 1 for rollback
/// journal modes, 2 for WAL (bytes 18 and 19 of the file format).
fn header_journal_mode(path: &Path) -> (u8, u8) {
    let bytes = std::fs::read(path).expect("the database file");
    (bytes[18], bytes[19])
}

fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut file = path.as_os_str().to_owned();
    file.push(suffix);
    file.into()
}

fn scalar(path: &Path, sql: &str) -> String {
    let conn = open(path).expect("open");
    rows(&conn, sql).expect("query")[0][0]
        .clone()
        .expect("a value")
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_uses_a_plain_copy() {
    let (cloner, _probe) = setup(Target::Disk, Method::Auto).await;
    assert_eq!(cloner.method(), Method::Copy);
    assert_eq!(cloner.options().method, Method::Auto);
}

#[tokio::test(flavor = "multi_thread")]
async fn ram_target_uses_dev_shm_when_it_is_writable() {
    let (cloner, _probe) = setup(Target::Ram, Method::Auto).await;
    let shm = Path::new("/dev/shm");
    let root = if shm.is_dir() && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly())
    {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    assert_eq!(
        cloner.dir().parent(),
        Some(root.as_path()),
        "{}",
        cloner.dir().display()
    );
    let leaf = cloner.dir().file_name().unwrap().to_str().unwrap();
    assert!(
        leaf.starts_with("paraclone-") && leaf.len() == "paraclone-".len() + 16,
        "{leaf}"
    );
    assert!(cloner.dir().is_dir());
    assert!(
        cloner
            .server_label()
            .ends_with(&format!("in {} (RAM)", cloner.dir().display())),
        "{}",
        cloner.server_label()
    );
    // The same project finds the same directory again.
    let again = SqliteCloner::new(cloner.options().clone()).unwrap();
    assert_eq!(again.dir(), cloner.dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_is_described_by_version_and_directory_separately() {
    let (cloner, _probe) = setup(Target::Disk, Method::Backup).await;
    let version = cloner.server_version().await.unwrap();
    assert_eq!(version, format!("SQLite {}", rusqlite::version()));
    assert_eq!(
        cloner.server_label(),
        format!("files in {} (disk)", cloner.dir().display())
    );
    assert_eq!(cloner.backend(), "sqlite");
    assert_eq!(cloner.max_name_len(), 200);
    assert_eq!(
        cloner.concurrency_hint(),
        std::thread::available_parallelism().unwrap().get()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sealing_a_wal_template_leaves_one_file_in_rollback_mode() {
    let (cloner, _probe) = setup(Target::Disk, Method::Copy).await;
    let tpl = name(Role::Template);
    cloner
        .create_template(
            &tpl,
            &migration("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)"),
        )
        .await
        .unwrap();
    let path = cloner.path(&tpl);
    assert_eq!(
        header_journal_mode(&path),
        (2, 2),
        "the migration switched the template to WAL"
    );
    cloner.seal_template(&tpl).await.unwrap();
    assert_eq!(
        header_journal_mode(&path),
        (1, 1),
        "sealing switches the template back to a rollback journal"
    );
    for suffix in ["-wal", "-shm", "-journal"] {
        assert!(
            !sibling(&path, suffix).exists(),
            "{suffix} is left after sealing"
        );
    }
    let clone = name(Role::Worker(1));
    cloner.clone_database(&tpl, &clone).await.unwrap();
    assert_eq!(scalar(&cloner.path(&clone), "SELECT count(*) FROM t"), "1");
    assert_eq!(
        scalar(&cloner.path(&clone), "PRAGMA journal_mode"),
        "delete"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_of_a_template_with_pages_in_its_wal_falls_back_to_a_backup() {
    let (cloner, _probe) = setup(Target::Disk, Method::Copy).await;
    let tpl = name(Role::Template);
    cloner
        .create_template(
            &tpl,
            &migration("PRAGMA journal_mode = WAL; CREATE TABLE t (x)"),
        )
        .await
        .unwrap();
    // A setup process that is still connected: its row lives in the WAL only.
    let writer = open(&cloner.path(&tpl)).unwrap();
    writer
        .execute_batch("PRAGMA wal_autocheckpoint = 0; INSERT INTO t VALUES ('only in the wal')")
        .unwrap();
    assert!(
        std::fs::metadata(sibling(&cloner.path(&tpl), "-wal"))
            .unwrap()
            .len()
            > 0
    );
    let clone = name(Role::Worker(1));
    cloner.clone_database(&tpl, &clone).await.unwrap();
    drop(writer);
    assert_eq!(
        scalar(&cloner.path(&clone), "SELECT x FROM t"),
        "only in the wal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_migration_leaves_no_file_behind() {
    let (cloner, _probe) = setup(Target::Disk, Method::Backup).await;
    let tpl = name(Role::Template);
    let mut migrations = migration("CREATE TABLE t (x)");
    migrations.push(Migration {
        name: "0002_typo.sql".to_owned(),
        sql: "CREATE TABLEE u (y)".to_owned(),
    });
    let error = cloner.create_template(&tpl, &migrations).await.unwrap_err();
    assert!(
        matches!(&error, ClonerError::Migration { migration, database, .. } if migration == "0002_typo.sql" && *database == tpl),
        "{error}"
    );
    assert!(!cloner.path(&tpl).exists());
    assert_eq!(
        cloner.list_databases("backend_").await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_removes_journal_wal_and_shm_files() {
    let (cloner, _probe) = setup(Target::Disk, Method::Backup).await;
    let tpl = name(Role::Template);
    cloner
        .create_template(&tpl, &migration("CREATE TABLE t (x)"))
        .await
        .unwrap();
    let path = cloner.path(&tpl);
    for suffix in ["-journal", "-wal", "-shm"] {
        std::fs::write(sibling(&path, suffix), b"").unwrap();
    }
    cloner.drop_database(&tpl).await.unwrap();
    for suffix in ["", "-journal", "-wal", "-shm"] {
        assert!(
            !sibling(&path, suffix).exists(),
            "{suffix:?} survived the drop"
        );
    }
    // A sibling left by a crash goes with the next drop, database or not.
    std::fs::write(sibling(&path, "-journal"), b"").unwrap();
    cloner.drop_database(&tpl).await.unwrap();
    assert!(!sibling(&path, "-journal").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_sees_database_files_only() {
    let (cloner, _probe) = setup(Target::Disk, Method::Backup).await;
    assert_eq!(
        cloner.list_databases("").await.unwrap(),
        Vec::<String>::new(),
        "a missing directory lists nothing"
    );
    let tpl = name(Role::Template);
    cloner
        .create_template(&tpl, &migration("CREATE TABLE t (x)"))
        .await
        .unwrap();
    let dir = cloner.dir();
    std::fs::write(dir.join("backend_notes.txt"), b"").unwrap();
    std::fs::write(dir.join(format!("{tpl}.sqlite3-journal")), b"").unwrap();
    std::fs::create_dir(dir.join("backend_dir.sqlite3")).unwrap();
    std::fs::write(dir.join("other.sqlite3"), b"").unwrap();
    assert_eq!(
        cloner.list_databases("backend_").await.unwrap(),
        std::slice::from_ref(&tpl)
    );
    assert_eq!(
        cloner.list_databases("").await.unwrap(),
        [tpl, "other".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_that_are_paths_are_refused() {
    let (cloner, _probe) = setup(Target::Disk, Method::Copy).await;
    let tpl = name(Role::Template);
    cloner
        .create_template(&tpl, &migration("CREATE TABLE t (x)"))
        .await
        .unwrap();
    for bad in ["../escape", "a/b", ""] {
        let error = cloner.clone_database(&tpl, bad).await.unwrap_err();
        assert!(
            matches!(
                error,
                ClonerError::Database {
                    op: "use as a database file name",
                    ..
                }
            ),
            "{bad:?}: {error}"
        );
        assert!(cloner.drop_database(bad).await.is_err(), "{bad:?}");
    }
    assert!(
        !cloner
            .dir()
            .parent()
            .unwrap()
            .join("escape.sqlite3")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_are_urls_sqlx_and_diesel_accept() {
    let (cloner, _probe) = setup(Target::Disk, Method::Copy).await;
    let clone = name(Role::Worker(3));
    let c = cloner.connection(&clone);
    let path = cloner.dir().join(format!("{clone}.sqlite3"));
    assert_eq!(c.url, format!("sqlite://{}", path.display()));
    assert!(c.url.starts_with("sqlite:///"));
    assert_eq!(c.path.as_deref(), Some(path.as_path()));
    assert_eq!(
        (&c.host, c.port, &c.user, &c.password),
        (&None, None, &None, &None)
    );
    assert_eq!(c.redacted_url(), c.url);
    assert!(c.extra_env.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn in_memory_workers_are_asked_for_in_the_clones_environment_only() {
    let (cloner, _probe) = setup_with(SqliteOptions::new("databases").in_memory_workers(true));
    let tpl = name(Role::Template);
    let wanted = vec![(IN_MEMORY_ENV.to_owned(), "1".to_owned())];
    assert_eq!(cloner.connection(&name(Role::Worker(1))).extra_env, wanted);
    assert_eq!(
        cloner.connection(&name(Role::Replacement(1, 2))).extra_env,
        wanted
    );
    assert_eq!(cloner.connection("someone_elses_db").extra_env, wanted);
    // Whoever sets the template up must write to its file.
    assert!(cloner.connection(&tpl).extra_env.is_empty());
    let made = cloner
        .create_template(&tpl, &migration("CREATE TABLE t (x)"))
        .await
        .unwrap();
    assert!(made.extra_env.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_method_copies_user_version_and_the_autoincrement_counter() {
    for method in [Method::Backup, Method::Vacuum, Method::Copy] {
        let (cloner, _probe) = setup(Target::Disk, method).await;
        let tpl = name(Role::Template);
        let sql = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x); \
                   INSERT INTO t (x) VALUES (1), (2), (3); DELETE FROM t WHERE id > 1; \
                   PRAGMA user_version = 42; PRAGMA application_id = 7";
        cloner.create_template(&tpl, &migration(sql)).await.unwrap();
        cloner.seal_template(&tpl).await.unwrap();
        let clone = name(Role::Worker(1));
        cloner.clone_database(&tpl, &clone).await.unwrap();
        let path = cloner.path(&clone);
        assert_eq!(scalar(&path, "PRAGMA user_version"), "42", "{method}");
        assert_eq!(scalar(&path, "PRAGMA application_id"), "7", "{method}");
        open(&path)
            .unwrap()
            .execute_batch("INSERT INTO t (x) VALUES (4)")
            .unwrap();
        assert_eq!(scalar(&path, "SELECT max(id) FROM t"), "4", "{method}");
    }
}
