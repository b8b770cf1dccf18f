//! The Django and pytest examples, through paraclone, against the tools'
//! own runners: the same tests pass, the same fail.
//!
//! They need the Python environment `ci/python-env.sh` makes in
//! `target/python` (`cargo xtask test` makes it first). Without it they
//! fail, saying so: they are never skipped.

// The long-lived workers' tests need the Python environment too: they are
// `python::workers::…`, so that what skips one skips both.
#[path = "workers.rs"]
mod workers;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use crate::{Project, Run, workspace_root};

fn python_bin() -> PathBuf {
    let bin = workspace_root().join("target/python/bin");
    assert!(
        bin.join("python3").exists(),
        "no Python environment at {}: run ci/python-env.sh (cargo xtask test does)",
        bin.display()
    );
    bin
}

fn path_with_python() -> String {
    format!(
        "{}:{}",
        python_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A project running one of the Python examples, with its own SQLite
/// directory and ledger.
fn example(name: &str, extra: &str) -> Project {
    let dir = workspace_root().join("examples").join(name);
    let config = std::fs::read_to_string(dir.join("paraclone.toml")).expect("example config");
    let config = config
        .replace("state_dir = \"../../target/paraclone\"\n", "")
        .replace("dir = \"../../target/paraclone/sqlite\"", "dir = \"dbs\"")
        .replace(
            "[tests]\n",
            &format!("[tests]\ncwd = \"{}\"\n", dir.display()),
        )
        .replace(
            "migrations = \"migrations/{backend}\"",
            &format!("migrations = \"{}/migrations/{{backend}}\"", dir.display()),
        );
    let config = config
        .replace(
            "setup = \"python3 manage.py",
            &format!("setup = \"cd '{}' && python3 manage.py", dir.display()),
        )
        .replace(
            "setup = \"{python} manage.py",
            &format!("setup = \"cd '{}' && {{python}} manage.py", dir.display()),
        );
    Project::with_config(&format!("{config}{extra}"))
}

fn paraclone(project: &Project, args: &[&str]) -> Run {
    Run::from(
        project
            .command(args)
            .env("PATH", path_with_python())
            .output()
            .expect("paraclone runs"),
    )
}

/// `suite a.b.C.test_x` → `a.b.C.test_x`
fn ids(tests: BTreeSet<String>) -> BTreeSet<String> {
    tests
        .into_iter()
        .map(|t| t.split_once(' ').map_or(t.clone(), |(_, id)| id.to_owned()))
        .collect()
}

/// The tests Django's own runner passes and fails, from `-v 2` output:
/// `test_x (app.tests.C.test_x) ... ok`.
fn django_reference(env: &[(&str, &str)]) -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = workspace_root().join("examples/django_library");
    let out = Command::new(python_bin().join("python3"))
        .args([
            "manage.py",
            "test",
            "--parallel",
            "1",
            "-v",
            "2",
            "--noinput",
        ])
        .current_dir(&dir)
        .env_remove("DJANGO_SQLITE_PATH")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("manage.py test runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let (mut passed, mut failed) = (BTreeSet::new(), BTreeSet::new());
    for line in text.lines() {
        let Some((head, verdict)) = line.rsplit_once(" ... ") else {
            continue;
        };
        let Some(id) = head
            .rsplit_once(" (")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
        else {
            continue;
        };
        match verdict.trim() {
            "ok" => passed.insert(id.to_owned()),
            v if v.starts_with("FAIL") || v.starts_with("ERROR") => failed.insert(id.to_owned()),
            _ => false,
        };
    }
    assert!(
        !passed.is_empty(),
        "could not read Django's results:\n{text}"
    );
    (passed, failed)
}

/// The tests pytest passes and fails on its own (`-p no:xdist`, `-rA`).
fn pytest_reference(env: &[(&str, &str)]) -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = workspace_root().join("examples/pytest_inventory");
    let out = Command::new(python_bin().join("python3"))
        .args([
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
        ])
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("pytest runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut passed, mut failed) = (BTreeSet::new(), BTreeSet::new());
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("PASSED ") {
            passed.insert(id.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("FAILED ") {
            failed.insert(rest.split(" - ").next().unwrap_or(rest).trim().to_owned());
        }
    }
    assert!(
        !passed.is_empty(),
        "could not read pytest's results:\n{text}"
    );
    (passed, failed)
}

#[test]
fn django_on_sqlite_gives_what_manage_py_test_gives_and_leaves_nothing() {
    let (passed, failed) = django_reference(&[("LIBRARY_DEMO", "fail")]);
    let project = example("django_library", "");
    let run = Run::from(
        project
            .command(&["--parallel", "4"])
            .env("PATH", path_with_python())
            .env("LIBRARY_DEMO", "fail")
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(1);
    assert_eq!(ids(run.tests_with("PASS")), passed, "{}", run.stdout);
    assert_eq!(ids(run.tests_with("FAIL")), failed, "{}", run.stdout);
    assert_eq!(failed.len(), 1, "the demo failure");
    // Its traceback, once.
    assert_eq!(
        run.stdout
            .matches("Traceback (most recent call last)")
            .count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn pytest_on_sqlite_gives_what_pytest_gives_and_leaves_nothing() {
    let (passed, failed) = pytest_reference(&[("INVENTORY_DEMO", "fail")]);
    let project = example("pytest_inventory", "");
    let run = Run::from(
        project
            .command(&["--parallel", "4"])
            .env("PATH", path_with_python())
            .env("INVENTORY_DEMO", "fail")
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(1);
    assert_eq!(ids(run.tests_with("PASS")), passed, "{}", run.stdout);
    assert_eq!(ids(run.tests_with("FAIL")), failed, "{}", run.stdout);
    assert_eq!(failed.len(), 1, "the demo failure");
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn django_labels_and_tool_args_reach_django() {
    let project = example("django_library", "");
    let run = paraclone(&project, &["--parallel", "2", "reports."]);
    run.assert_code(0);
    assert!(!run.tests_with("PASS").is_empty());
    assert!(
        run.tests_with("PASS")
            .iter()
            .all(|t| t.starts_with("django reports.")),
        "{}",
        run.stdout
    );
    // `-k` is Django's own name filter: it reaches the list command.
    let run = paraclone(
        &project,
        &["--parallel", "2", "--tool-arg=-k", "--tool-arg=snapshot"],
    );
    run.assert_code(0);
    let passed = run.tests_with("PASS");
    assert!(
        !passed.is_empty() && passed.iter().all(|t| t.to_lowercase().contains("snapshot")),
        "{}",
        run.stdout
    );
}

#[cfg(feature = "postgres")]
#[test]
fn django_and_pytest_on_postgres_give_what_their_runners_give() {
    let url = std::env::var("PARACLONE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let reference_url = url
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/library_reference"))
        .expect("a URL");
    let (passed, failed) = django_reference(&[("DATABASE_URL", &reference_url)]);
    let project = example("django_library", "");
    let run = paraclone(&project, &["--db", "postgres", "--parallel", "4"]);
    assert_eq!(ids(run.tests_with("PASS")), passed, "{}", run.stdout);
    assert_eq!(ids(run.tests_with("FAIL")), failed, "{}", run.stdout);

    let inventory_url = url
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/inventory_reference"))
        .expect("a URL");
    let _ = Command::new("psql")
        .arg(&url)
        .args(["-c", "DROP DATABASE IF EXISTS inventory_reference"])
        .output();
    let created = Command::new("psql")
        .arg(&url)
        .args(["-c", "CREATE DATABASE inventory_reference"])
        .output()
        .expect("psql");
    assert!(created.status.success());
    let dir = workspace_root().join("examples/pytest_inventory/migrations/postgres");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for f in files {
        let out = Command::new("psql")
            .arg(&inventory_url)
            .args(["-v", "ON_ERROR_STOP=1", "-f"])
            .arg(&f)
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (passed, failed) = pytest_reference(&[("DATABASE_URL", &inventory_url)]);
    let _ = Command::new("psql")
        .arg(&url)
        .args(["-c", "DROP DATABASE IF EXISTS inventory_reference"])
        .output();
    let project = example("pytest_inventory", "");
    let run = paraclone(&project, &["--db", "postgres", "--parallel", "4"]);
    assert_eq!(ids(run.tests_with("PASS")), passed, "{}", run.stdout);
    assert_eq!(ids(run.tests_with("FAIL")), failed, "{}", run.stdout);
}

#[cfg(feature = "mysql")]
#[test]
fn django_and_pytest_on_mariadb_give_what_their_runners_give() {
    let server = "mysql://root@127.0.0.1:3306";
    let (passed, failed) =
        django_reference(&[("DATABASE_URL", &format!("{server}/library_reference"))]);
    let project = example("django_library", "");
    let run = paraclone(&project, &["--db", "mysql", "--parallel", "4"]);
    assert_eq!(ids(run.tests_with("PASS")), passed, "{}", run.stdout);
    assert_eq!(ids(run.tests_with("FAIL")), failed, "{}", run.stdout);

    let mariadb = |sql: &str| {
        let out = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", sql])
            .output()
            .expect("mariadb runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    mariadb("DROP DATABASE IF EXISTS inventory_reference; CREATE DATABASE inventory_reference");
    let dir = workspace_root().join("examples/pytest_inventory/migrations/mysql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for f in files {
        let sql = std::fs::read_to_string(&f).expect("migration");
        let out = Command::new("mariadb")
            .args([
                "-h",
                "127.0.0.1",
                "-u",
                "root",
                "inventory_reference",
                "-e",
                &sql,
            ])
            .output()
            .expect("mariadb runs");
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (passed, failed) =
        pytest_reference(&[("DATABASE_URL", &format!("{server}/inventory_reference"))]);
    mariadb("DROP DATABASE IF EXISTS inventory_reference");
    let project = example("pytest_inventory", "");
    let run = paraclone(&project, &["--db", "mysql", "--parallel", "4"]);
    assert_eq!(ids(run.tests_with("PASS")), passed, "{}", run.stdout);
    assert_eq!(ids(run.tests_with("FAIL")), failed, "{}", run.stdout);
}
