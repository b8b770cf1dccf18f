//! The runner on a real PostgreSQL server (built with `--features postgres`).
//!
//! The server is the one `ci/services.sh postgres` starts (127.0.0.1:5432,
//! user postgres, trust) or `PARACLONE_POSTGRES_URL`.

use std::process::Command;

use crate::ledger::paraclone_clean;
use crate::{Project, Run};

fn server_url() -> String {
    std::env::var("PARACLONE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Databases on the server whose name contains `pattern`, through psql.
pub(crate) fn databases_like(pattern: &str) -> Vec<String> {
    let out = Command::new("psql")
        .arg(server_url())
        .args(["-Atc", "select datname from pg_database order by 1"])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed (is PostgreSQL up? ci/services.sh postgres): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(pattern))
        .map(str::to_owned)
        .collect()
}

#[test]
fn eight_workers_get_eight_clones_on_the_server_and_none_is_left() {
    crate::faults::eight_clones_and_none_left("postgres", databases_like);
}

#[test]
fn an_unreachable_server_is_one_clear_error_naming_what_to_do() {
    crate::faults::unreachable_server_is_one_clear_error(
        "postgres",
        "postgres://postgres:hunter2@127.0.0.1:1/postgres",
        "postgres://postgres:***@127.0.0.1:1/postgres",
        "pg_ctlcluster",
    );
}

#[test]
fn passwords_never_reach_the_output_not_even_a_tests_own() {
    // Trust authentication ignores the password, so the run works and the
    // clones' URLs carry it: a test that prints its URL must show it masked.
    let url = server_url().replacen("postgres@", "postgres:s3cr3t-pw@", 1);
    let project = Project::with_config(&format!(
        r#"[tests]
kind = "command"
tests = ["prints::url"]
run = "echo url=$DATABASE_URL password=$PGPASSWORD_COPY {{tests}}; exit 1"
[databases.default]
name = "redact"
backend = "postgres"
url = "{url}"
[databases.default.env]
PGPASSWORD_COPY = "{{password}}"
"#
    ));
    let run = project.run(&["--parallel", "1"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("url=postgres://postgres:***@"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("password=***"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("s3cr3t-pw") && !run.stderr.contains("s3cr3t-pw"),
        "password printed:\n{}",
        run.stdout
    );
    assert_eq!(databases_like(&run.run_id()), Vec::<String>::new());
}

#[test]
fn every_phase_and_signal_leaves_nothing_on_the_server() {
    crate::faults::every_phase_and_signal("postgres", |_, id| databases_like(id));
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(server_url())
        .args(["-Atc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_killed_run_leaves_databases_that_clean_drops_and_nothing_else() {
    let project = Project::example("");
    // Named like a clone of a run, but in no ledger: never to be touched.
    let stranger = "shop_pc9876543210_w1";
    psql(&format!("DROP DATABASE IF EXISTS \"{stranger}\""));
    psql(&format!("CREATE DATABASE \"{stranger}\""));
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let (child, pids) =
        crate::ledger::start_hanging_run(&project, pid_dir.path(), &["--db", "postgres"]);
    crate::ledger::kill_hard(child, &pids);
    let ledgers = crate::ledger::ledger_files(&project);
    assert_eq!(ledgers.len(), 1, "{ledgers:?}");
    let id = ledgers[0].trim_end_matches(".jsonl").to_owned();
    let left = databases_like(&id);
    assert_eq!(left.len(), 3, "template and two clones: {left:?}");

    let dry = paraclone_clean(&project, &["--dry-run"]);
    dry.assert_code(0);
    for name in &left {
        assert!(
            dry.stdout.contains(name.as_str()),
            "{name} not listed:\n{}",
            dry.stdout
        );
    }
    assert!(!dry.stdout.contains(stranger), "{}", dry.stdout);
    assert_eq!(databases_like(&id).len(), 3, "a dry run drops nothing");

    paraclone_clean(&project, &[]).assert_code(0);
    assert_eq!(databases_like(&id), Vec::<String>::new());
    assert_eq!(databases_like(stranger), [stranger]);
    psql(&format!("DROP DATABASE \"{stranger}\""));
}

/// A TCP relay in front of the server that can be cut, as a network or a
/// server going away would cut it, and restored on the same port.
struct Relay {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn start(port: u16, to: &str) -> Relay {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the relay");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let to = to.to_owned();
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut open: Vec<std::net::TcpStream> = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).expect("blocking");
                        let server = std::net::TcpStream::connect(&to).expect("reach the server");
                        for (mut from, mut into) in [
                            (
                                client.try_clone().expect("clone"),
                                server.try_clone().expect("clone"),
                            ),
                            (
                                server.try_clone().expect("clone"),
                                client.try_clone().expect("clone"),
                            ),
                        ] {
                            std::thread::spawn(move || {
                                let _ = std::io::copy(&mut from, &mut into);
                                let _ = into.shutdown(std::net::Shutdown::Both);
                            });
                        }
                        open.extend([client, server]);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
            for stream in open {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        Relay {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn cut(mut self) -> u16 {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("relay thread");
        }
        self.port
    }
}

#[test]
fn a_server_gone_mid_run_fails_clearly_and_the_next_clean_drops_what_it_left() {
    let relay = Relay::start(0, "127.0.0.1:5432");
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", relay.port);
    let project = Project::example(&format!("[backends.postgres]\nurl = \"{url}\"\n"));
    let pause = project.dir.path().join("paused");
    let child = project
        // Two groups of tests, so that both workers get clones.
        .command(&[
            "--db",
            "postgres",
            "--parallel",
            "2",
            "customers::",
            "products::",
        ])
        .env("PARACLONE_PAUSE_AT", "run")
        .env("PARACLONE_PAUSE_FILE", &pause)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    let started = std::time::Instant::now();
    while !pause.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "the run never reached its tests"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The server goes away with the clones made and the tests about to run.
    let port = relay.cut();
    std::fs::remove_file(&pause).expect("let the run go on");
    let run = Run::from(child.wait_with_output().expect("paraclone ends"));
    run.assert_code(2);
    let id = run.run_id();
    assert!(run.stdout.contains("could not drop"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("it stays in the ledger, `paraclone clean` drops it once the server answers"),
        "{}",
        run.stdout
    );
    assert_eq!(
        databases_like(&id).len(),
        3,
        "template and two clones stay on the server"
    );

    // The server is back: a clean drops exactly what the run left.
    let relay = Relay::start(port, "127.0.0.1:5432");
    paraclone_clean(&project, &[]).assert_code(0);
    assert_eq!(databases_like(&id), Vec::<String>::new());
    relay.cut();
}

#[test]
fn two_runs_at_once_on_one_server_neither_collide_nor_sweep_each_other() {
    crate::ledger::two_runs_at_once("postgres", databases_like);
}

#[test]
fn a_database_url_meant_for_sqlite_is_refused_on_postgres() {
    let project =
        crate::cli::env_probe("[databases.default.env]\nDATABASE_URL = \"sqlite:///{path}\"\n");
    let run = project.run(&["--db", "postgres", "--parallel", "2"]);
    run.assert_code(2);
    let expected = format!(
        "error: {}:12:16: databases.default.env.DATABASE_URL: {{path}} has no value on the postgres backend (it has {{url}} {{name}} {{host}} {{port}} {{user}} {{password}} {{worker}}); to set DATABASE_URL on some backends only, put it in [databases.default.env.<backend>], e.g. [databases.default.env.sqlite]",
        project.config().display()
    );
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
    assert!(!run.stdout.contains("Starting run"), "{}", run.stdout);
    assert!(!project.dir.path().join("seen-1").exists());
    assert!(!project.dir.path().join("target/paraclone/ledger").exists());
}

#[test]
fn a_sqlite_env_table_leaves_database_url_to_postgres() {
    let project = crate::cli::env_probe(
        "[databases.default.env.sqlite]\nDATABASE_URL = \"sqlite:///{path}\"\nSHOP_FILE = \"{path}\"\n[databases.default.env.postgres]\nSHOP_FILE = \"{host}:{port}\"\n",
    );
    let run = project.run(&["--db", "postgres", "--parallel", "1"]);
    run.assert_code(0);
    let seen = std::fs::read_to_string(project.dir.path().join("seen-1")).expect("the test ran");
    let (url, file) = seen.split_once('|').expect("two values");
    let clone = format!("probe_pc{}_w1", run.run_id());
    assert!(
        url.starts_with("postgres://") && url.ends_with(&format!("/{clone}")),
        "{url}"
    );
    let server = server_url();
    let host_port = server
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(host_port, _)| host_port)
        .expect("host:port in the server URL");
    assert_eq!(file, host_port);
    assert_eq!(databases_like(&run.run_id()), Vec::<String>::new());
}

#[test]
fn a_failing_migration_is_named_by_path_line_and_column() {
    let project = Project::with_config("");
    let migrations = project.dir.path().join("migrations");
    std::fs::create_dir(&migrations).expect("mkdir");
    std::fs::write(migrations.join("0001_ok.sql"), "CREATE TABLE a (id int);\n").expect("write");
    std::fs::write(
        migrations.join("0002_bad.sql"),
        "-- a comment, then a broken table\nCREATE TABLE b (id int);\n\nCREATE TABLE c (\n  x int,,\n  y int\n);\n",
    )
    .expect("write");
    std::fs::write(
        project.config(),
        "[tests]\nkind = \"command\"\ntests = [\"a::b\"]\nrun = \"true {tests}\"\n[databases.default]\nname = \"badmig\"\nbackend = \"postgres\"\nmigrations = \"migrations\"\n",
    )
    .expect("write config");
    let run = project.run(&["--parallel", "1"]);
    run.assert_code(2);
    let expected = format!(
        "migration {}/0002_bad.sql failed on \"badmig_pc{}_tpl\": at line 5, column 9 (`x int,,`): db error: ERROR: syntax error at or near \",\"",
        migrations.display(),
        run.run_id()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert_eq!(databases_like(&run.run_id()), Vec::<String>::new());
}

#[test]
fn a_database_name_the_server_rejects_leaves_no_ghost_in_the_ledger() {
    // A NUL byte cannot travel to the server: both CREATE and DROP fail,
    // and nothing was ever made.
    let project = crate::ledger::quick_project("nul\\u0000byte", "");
    let run = project.run(&["--db", "postgres", "--parallel", "2"]);
    run.assert_code(2);
    assert!(run.stderr.contains("embedded null"), "{}", run.stderr);
    assert!(
        !run.stdout.contains("could not drop"),
        "nothing was made, so nothing is left:\n{}",
        run.stdout
    );
    assert_eq!(crate::ledger::ledger_files(&project), Vec::<String>::new());
    crate::ledger::clean_leaves_an_empty_ledger(&project);
}

#[test]
fn a_run_on_a_server_gone_for_good_is_forgotten_on_request_and_only_then() {
    let relay = Relay::start(0, "127.0.0.1:5432");
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", relay.port);
    let project = Project::example(&format!("[backends.postgres]\nurl = \"{url}\"\n"));
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let (child, pids) =
        crate::ledger::start_hanging_run(&project, pid_dir.path(), &["--db", "postgres"]);
    crate::ledger::kill_hard(child, &pids);
    let ledgers = crate::ledger::ledger_files(&project);
    assert_eq!(ledgers.len(), 1, "{ledgers:?}");
    let id = ledgers[0].trim_end_matches(".jsonl").to_owned();
    let left = databases_like(&id);
    assert!(left.len() >= 2, "a template and clones stay: {left:?}");
    // The server goes away for good.
    relay.cut();

    let clean = paraclone_clean(&project, &[]);
    clean.assert_code(2);
    assert!(
        clean
            .stdout
            .contains(&format!("`paraclone clean --forget {id}`")),
        "{}",
        clean.stdout
    );
    assert_eq!(crate::ledger::ledger_files(&project).len(), 1);

    let forget = paraclone_clean(&project, &["--forget", &id]);
    forget.assert_code(0);
    for name in &left {
        assert!(
            forget.stdout.contains(&format!("{name} (on {url})")),
            "{name} not named:\n{}",
            forget.stdout
        );
    }
    crate::ledger::clean_leaves_an_empty_ledger(&project);
    assert_eq!(databases_like(&id), left, "forgetting drops nothing");
    for name in &left {
        psql(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"));
    }
}
