//! `migrator = "diesel" | "sqlx" | "refinery"`: the template is migrated
//! in the tool's layout and order and carries its history table, so the
//! tool's own "pending migrations" check, run by a test of a generated
//! crate that depends on the real diesel_migrations, sqlx or refinery,
//! finds nothing to do.
//!
//! The fixture crates live in `target/fixtures/migrators` (diesel, sqlx)
//! and `target/fixtures/refinery` (refinery with rusqlite's bundled
//! SQLite), each with a target directory of its own, kept between runs:
//! their files are rewritten only when they differ, so only the first run
//! pays the (minutes-long) build.

use std::path::{Path, PathBuf};

use crate::{Project, Run, workspace_root};

const MANIFEST: &str = r#"[package]
name = "migrators"
version = "0.0.0"
edition = "2021"
publish = false

[dev-dependencies]
diesel = { version = "2", default-features = false, features = ["sqlite"] }
diesel_migrations = { version = "2", features = ["sqlite"] }
libsqlite3-sys = { version = "0.30", features = ["bundled"] }
sqlx = { version = "0.8", default-features = false, features = ["sqlite", "postgres", "migrate", "runtime-tokio"] }
tokio = { version = "1", features = ["rt", "macros"] }

[workspace]
"#;

/// diesel's check: nothing pending, three versions recorded, running the
/// pending ones runs none, and the rows the migrations made are there.
const DIESEL_TEST: &str = r#"//! diesel's own check: no migration of `diesel-migrations/` is pending on DATABASE_URL.

use diesel::prelude::*;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/diesel-migrations");

#[test]
fn no_pending_migrations() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = SqliteConnection::establish(&url).expect("connect");
    let source = || FileBasedMigrations::from_path(DIR).expect("migrations");
    assert!(!conn.has_pending_migration(source()).expect("check"), "pending migrations");
    let applied = conn.applied_migrations().expect("applied");
    assert_eq!(applied.len(), 3, "{applied:?}");
    let ran = conn.run_pending_migrations(source()).expect("run pending");
    assert!(ran.is_empty(), "ran {ran:?}");
    let blue: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM \"widgets\" WHERE \"colour\" = 'blue')",
    ))
    .get_result(&mut conn)
    .expect("count");
    assert_eq!(blue, 2);
}
"#;

/// sqlx's check: every up migration recorded with sqlx's checksum, none
/// dirty, `Migrator::run` (which applies what is missing and refuses a
/// checksum mismatch) succeeds, and the rows are there.
const SQLX_TEST: &str = r#"//! sqlx's own check: every migration of `sqlx-migrations/` is applied on DATABASE_URL, with its checksum, and running them again does nothing.

use sqlx::migrate::{Migrate, Migrator};
use sqlx::{Connection, PgConnection, SqliteConnection};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sqlx-migrations");

macro_rules! check {
    ($conn:ty, $url:expr) => {{
        let migrator = Migrator::new(std::path::Path::new(DIR)).await.expect("migrations");
        let mut conn = <$conn>::connect($url).await.expect("connect");
        assert_eq!(conn.dirty_version().await.expect("dirty"), None);
        let applied: Vec<(i64, Vec<u8>)> = conn
            .list_applied_migrations()
            .await
            .expect("applied")
            .into_iter()
            .map(|m| (m.version, m.checksum.into_owned()))
            .collect();
        let expected: Vec<(i64, Vec<u8>)> = migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| (m.version, m.checksum.to_vec()))
            .collect();
        assert_eq!(applied, expected);
        assert_eq!(applied.len(), 3);
        // Applies what is pending: a migration not recorded would fail
        // here ("table … already exists"), a wrong checksum too.
        migrator.run(&mut conn).await.expect("nothing to run");
        let blue: i64 = sqlx::query_scalar("SELECT count(*) FROM \"widgets\" WHERE \"colour\" = 'blue'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
        assert_eq!(blue, 2);
    }};
}

#[tokio::test(flavor = "current_thread")]
async fn no_pending_migrations() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    if url.starts_with("sqlite:") {
        check!(SqliteConnection, &url);
    } else {
        check!(PgConnection, &url);
    }
}
"#;

/// The migrations. In both layouts the order by file name is not the
/// tool's, and the wrong order fails: the column or the table a later
/// migration needs would not exist yet.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", MANIFEST),
    ("src/lib.rs", "\n"),
    ("tests/diesel.rs", DIESEL_TEST),
    ("tests/sqlx.rs", SQLX_TEST),
    // diesel: version 20170927135928 (dashes removed) after 20170721184144,
    // though "2017-09-27…" sorts before "20170721…" by name.
    (
        "diesel-migrations/20170721184144_create_widgets/up.sql",
        "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    ),
    (
        "diesel-migrations/20170721184144_create_widgets/down.sql",
        "DROP TABLE widgets;\n",
    ),
    (
        "diesel-migrations/2017-09-27-135928_add_colour/up.sql",
        "ALTER TABLE widgets ADD COLUMN colour TEXT;\nINSERT INTO widgets (id, name, colour) VALUES (1, 'a', 'blue'), (2, 'b', 'blue'), (3, 'c', 'red');\n",
    ),
    (
        "diesel-migrations/20180101000000_more/up.sql",
        "INSERT INTO widgets (id, name, colour) VALUES (4, 'd', 'green');\n",
    ),
    // sqlx: numeric order 1, 3, 20240102030405; by name the seed (which
    // needs the column of 3) would come second.
    (
        "sqlx-migrations/1_create_widgets.sql",
        "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    ),
    (
        "sqlx-migrations/3_add_colour.up.sql",
        "-- no-transaction\nALTER TABLE widgets ADD COLUMN colour TEXT;\n",
    ),
    (
        "sqlx-migrations/3_add_colour.down.sql",
        "ALTER TABLE widgets DROP COLUMN colour;\n",
    ),
    (
        "sqlx-migrations/20240102030405_seed_widgets.sql",
        "INSERT INTO widgets (id, name, colour) VALUES (1, 'a', 'blue'), (2, 'b', 'blue'), (3, 'c', 'red');\n",
    ),
];

const REFINERY_MANIFEST: &str = r#"[package]
name = "refinery-fixture"
version = "0.0.0"
edition = "2021"
publish = false

[dev-dependencies]
refinery = { version = "0.10", default-features = false, features = ["rusqlite"] }
rusqlite = { version = "0.41", features = ["bundled"] }

[workspace]
"#;

/// refinery's check: the recorded history is the embedded migrations
/// (version, name, checksum), and `Runner::run`, refusing divergent and
/// missing versions, applies none; the rows the migrations made are there.
const REFINERY_TEST: &str = r#"//! refinery's own check: the history on DATABASE_URL is exactly the migrations embedded from `refinery-migrations/`, and running them applies none.

use rusqlite::{Connection, OpenFlags};

mod embedded {
    refinery::embed_migrations!("refinery-migrations");
}

/// DATABASE_URL's file (`sqlite://PATH`, percent-escaped as a `file:` URI
/// is), opened as SQLite opens that URI, never created.
fn open() -> Connection {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .expect("a sqlite: URL");
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI;
    Connection::open_with_flags(format!("file:{path}"), flags).expect("open")
}

/// The history table's columns: name, type, not null, primary key.
fn columns(conn: &Connection) -> Vec<(String, String, i64, i64)> {
    let mut stmt = conn
        .prepare("SELECT name, upper(type), \"notnull\", pk FROM pragma_table_info('refinery_schema_history')")
        .expect("columns");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("columns");
    rows.collect::<Result<_, _>>().expect("columns")
}

fn key(m: &refinery::Migration) -> (i32, String, u64) {
    (m.version(), m.name().to_owned(), m.checksum())
}

#[test]
fn nothing_to_apply() {
    let mut conn = open();
    let runner = embedded::migrations::runner();
    let applied: Vec<_> = runner
        .get_applied_migrations(&mut conn)
        .expect("applied")
        .iter()
        .map(key)
        .collect();
    let mut expected: Vec<_> = runner.get_migrations().iter().map(key).collect();
    expected.sort();
    assert_eq!(applied, expected);
    assert_eq!(
        applied.iter().map(|m| m.0).collect::<Vec<_>>(),
        [1, 9, 10, 11]
    );
    // Applies what is pending: a migration not recorded would run again
    // ("table … already exists", or a second row for the unversioned
    // one), a wrong name or checksum is a divergent version.
    let report = runner
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run(&mut conn)
        .expect("nothing to run, nothing divergent or missing");
    assert!(
        report.applied_migrations().is_empty(),
        "ran {:?}",
        report.applied_migrations()
    );
    let counts: (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE colour = 'blue') FROM widgets",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("count");
    assert_eq!(counts, (4, 2));
    // The table is the one refinery creates on a new database.
    let mut fresh = Connection::open_in_memory().expect("in memory");
    let ran = embedded::migrations::runner().run(&mut fresh).expect("migrate a new database");
    assert_eq!(ran.applied_migrations().len(), 4);
    assert_eq!(columns(&conn), columns(&fresh));
    assert_eq!(columns(&conn).len(), 4);
}
"#;

/// refinery's migrations: applied by version, 1, 9 (in a subdirectory),
/// 10, 11; by file name `V10__` would come first, before the table, and
/// `V9__` last, after the seed that needs its column. `U11` is
/// unversioned: refinery applies it whenever it is not recorded.
const REFINERY_MIGRATIONS: &[(&str, &str)] = &[
    (
        "V1__create_widgets.sql",
        "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    ),
    (
        "more/V9__add_colour.sql",
        "ALTER TABLE widgets ADD COLUMN colour TEXT;\n",
    ),
    (
        "V10__seed_widgets.sql",
        "INSERT INTO widgets (id, name, colour) VALUES (1, 'a', 'blue'), (2, 'b', 'blue'), (3, 'c', 'red');\n",
    ),
    (
        "U11__one_more.sql",
        "INSERT INTO widgets (id, name, colour) VALUES (4, 'd', 'green');\n",
    ),
    (
        "notes.txt",
        "not a migration: refinery and paraclone skip it\n",
    ),
];

/// The refinery fixture: the crate, its migrations in
/// `refinery-migrations/`, and the same in `refinery-edited/` but for a
/// comment in `V1`, whose checksum is then not the embedded one.
fn refinery_fixture() -> PathBuf {
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), REFINERY_MANIFEST.into()),
        ("src/lib.rs".into(), "\n".into()),
        ("tests/refinery.rs".into(), REFINERY_TEST.into()),
    ];
    for (rel, sql) in REFINERY_MIGRATIONS {
        files.push((format!("refinery-migrations/{rel}"), (*sql).into()));
        let edited = match *rel {
            "V1__create_widgets.sql" => format!("-- edited\n{sql}"),
            _ => (*sql).into(),
        };
        files.push((format!("refinery-edited/{rel}"), edited));
    }
    write_fixture(
        "target/fixtures/refinery",
        files
            .iter()
            .map(|(rel, text)| (rel.as_str(), text.as_str())),
    )
}

/// The diesel and sqlx fixture crate.
fn fixture() -> PathBuf {
    write_fixture("target/fixtures/migrators", FILES.iter().copied())
}

/// A fixture crate in `rel` (from the workspace), its files written where
/// they are missing or different.
fn write_fixture<'a>(rel: &str, files: impl Iterator<Item = (&'a str, &'a str)>) -> PathBuf {
    let dir = workspace_root().join(rel);
    for (rel, text) in files {
        let path = dir.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write fixture");
        }
    }
    dir
}

fn project(fixture: &Path, tool: &str, extra: &str) -> Project {
    project_from(fixture, tool, &format!("{tool}-migrations"), extra)
}

/// As [`project`], with the migrations in the fixture's directory `migrations`.
fn project_from(fixture: &Path, tool: &str, migrations: &str, extra: &str) -> Project {
    Project::with_config(&format!(
        r#"[run]
parallel = 1

[tests]
kind = "rust"
workspace = "{crate_dir}"
timeout = "5m"

[databases.default]
name = "mig_{tool}"
migrator = "{tool}"
migrations = "{crate_dir}/{migrations}"

[backends.sqlite]
dir = "dbs"
{extra}"#,
        crate_dir = fixture.display(),
    ))
}

fn run(project: &Project, fixture: &Path, args: &[&str]) -> Run {
    Run::from(
        project
            .command(args)
            .env("CARGO_TARGET_DIR", fixture.join("target"))
            .output()
            .expect("paraclone runs"),
    )
}

#[test]
fn a_diesel_layout_template_has_its_history_and_diesel_finds_nothing_pending() {
    let fixture = fixture();
    let project = project(&fixture, "diesel", "");
    let done = run(&project, &fixture, &["diesel"]);
    done.assert_code(0);
    assert_eq!(done.tests_with("PASS").len(), 1, "{}", done.stdout);
    // The check can fail: sqlx's test on the diesel template finds no
    // `_sqlx_migrations` rows.
    let other = run(&project, &fixture, &["sqlx"]);
    other.assert_code(1);
    assert_eq!(other.tests_with("FAIL").len(), 1, "{}", other.stdout);
}

#[test]
fn a_sqlx_layout_template_has_its_history_and_sqlx_finds_nothing_pending() {
    let fixture = fixture();
    let project = project(&fixture, "sqlx", "");
    let done = run(&project, &fixture, &["sqlx"]);
    done.assert_code(0);
    assert_eq!(done.tests_with("PASS").len(), 1, "{}", done.stdout);
}

#[test]
fn a_refinery_layout_template_has_its_history_and_refinery_applies_nothing() {
    let fixture = refinery_fixture();
    let project = project(&fixture, "refinery", "");
    let done = run(&project, &fixture, &["refinery"]);
    done.assert_code(0);
    assert_eq!(done.tests_with("PASS").len(), 1, "{}", done.stdout);
    // The check can fail: a template made from migrations that differ by
    // a comment has another checksum for V1 than the embedded one.
    let edited = project_from(&fixture, "refinery", "refinery-edited", "");
    let other = run(&edited, &fixture, &["refinery"]);
    other.assert_code(1);
    assert_eq!(other.tests_with("FAIL").len(), 1, "{}", other.stdout);
}

#[cfg(feature = "postgres")]
#[test]
fn a_sqlx_layout_template_on_postgres_has_its_history() {
    let fixture = fixture();
    let project = project(
        &fixture,
        "sqlx",
        "\n[backends.postgres]\nurl = \"postgres://postgres@127.0.0.1:5432/postgres\"\n",
    );
    let done = run(&project, &fixture, &["--db", "postgres", "sqlx"]);
    done.assert_code(0);
    assert_eq!(done.tests_with("PASS").len(), 1, "{}", done.stdout);
}

#[test]
fn a_layout_the_tool_refuses_is_a_config_error_naming_the_entry() {
    let project = Project::with_config(
        "[tests]\nkind = \"rust\"\n\n[databases.default]\nmigrator = \"diesel\"\nmigrations = \"m\"\n\n[backends.sqlite]\ndir = \"dbs\"\n",
    );
    std::fs::create_dir_all(project.dir.path().join("m/2020_x")).expect("mkdir");
    let done = project.run(&[]);
    done.assert_code(2);
    assert!(
        done.stderr.contains("databases.default.migrations: ")
            && done.stderr.contains("is not a diesel migrations directory")
            && done.stderr.contains("2020_x: has no up.sql"),
        "{}",
        done.stderr
    );
    assert!(project.database_files().is_empty());
}
