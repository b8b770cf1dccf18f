//! `migrator = "diesel" | "sqlx"`: the template is migrated in the tool's
//! layout and order and carries its history table, so the tool's own
//! "pending migrations" check, run by a test of a generated crate that
//! depends on the real diesel_migrations and sqlx, finds nothing to do.
//!
//! The fixture crate lives in `target/fixtures/migrators` with a target
//! directory of its own, kept between runs: its files are rewritten only
//! when they differ, so only the first run pays the (minutes-long) build.

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

/// The fixture crate, written where it is missing or different.
fn fixture() -> PathBuf {
    let dir = workspace_root().join("target/fixtures/migrators");
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(*text) {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write fixture");
        }
    }
    dir
}

fn project(fixture: &Path, tool: &str, extra: &str) -> Project {
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
migrations = "{crate_dir}/{tool}-migrations"

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
