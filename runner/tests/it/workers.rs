//! Long-lived workers: one interpreter per slot, per-test events, a test
//! that hangs or crashes its worker fails alone, and the protocol is small
//! enough for any tool to speak it.
//!
//! They need the Python environment `ci/python-env.sh` makes in
//! `target/python` (`cargo xtask test` makes it first); without it they
//! fail, saying so.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::{Project, Run, workspace_root};

fn python_bin() -> std::path::PathBuf {
    let bin = workspace_root().join("target/python/bin");
    assert!(
        bin.join("python3").exists(),
        "no Python environment at {}: run ci/python-env.sh (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// `PATH` with a `python3` first that logs each start to `log`, then runs
/// the virtualenv's.
fn counting_path(shim: &Path, log: &Path) -> String {
    std::fs::create_dir_all(shim).expect("shim dir");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
        log.display(),
        python_bin().join("python3").display()
    );
    let path = shim.join("python3");
    std::fs::write(&path, script).expect("shim");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    format!(
        "{}:{}:{}",
        shim.display(),
        python_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn starts(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs a Python example with `--parallel 4` and a `python3` on PATH that
/// logs its starts; returns the run and the starts' arguments.
fn run_counting_starts(name: &str) -> (Run, Vec<String>) {
    let project = super::example(name, "");
    let log = project.dir.path().join("starts.log");
    let path = counting_path(&project.dir.path().join("shim"), &log);
    let run = Run::from(
        project
            .command(&["--parallel", "4"])
            .env("PATH", &path)
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(0);
    (run, starts(&log))
}

#[test]
fn django_starts_one_interpreter_per_slot_plus_list_and_setup() {
    let (run, starts) = run_counting_starts("django_library");
    let migrate = starts.iter().filter(|s| s.contains("migrate")).count();
    let tests = starts.iter().filter(|s| s.contains(" test ")).count();
    assert_eq!(migrate, 1, "{starts:#?}");
    // One listing, one worker per slot.
    assert_eq!(tests, 1 + 4, "{starts:#?}");
    assert_eq!(starts.len(), 6, "{starts:#?}");
    assert!(run.tests_with("PASS").len() > 200, "{}", run.stdout);
}

#[test]
fn pytest_starts_one_interpreter_per_slot_plus_the_listing() {
    let (_, starts) = run_counting_starts("pytest_inventory");
    let listing = starts
        .iter()
        .filter(|s| s.contains("--collect-only"))
        .count();
    let workers = starts
        .iter()
        .filter(|s| s.contains("-p paraclone_pytest"))
        .count();
    assert_eq!((listing, workers, starts.len()), (1, 4, 5), "{starts:#?}");
}

/// A pytest project of its own: `tests/test_mixed.py` holds the given
/// source; one SQLite database.
fn pytest_project(source: &str, extra: &str) -> Project {
    let project = Project::with_config(&format!(
        r#"[run]
parallel = 1

[tests]
kind = "pytest"
python = "{python}"
slow = "30s"
{extra}

[databases.default]
name = "mixed"
migrations = "migrations"

[backends.sqlite]
dir = "dbs"
"#,
        python = python_bin().join("python3").display(),
    ));
    let dir = project.dir.path();
    std::fs::create_dir_all(dir.join("migrations")).expect("mkdir");
    std::fs::write(
        dir.join("migrations/0001.sql"),
        "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL);\n",
    )
    .expect("migration");
    std::fs::create_dir_all(dir.join("tests")).expect("mkdir");
    std::fs::write(dir.join("tests/test_mixed.py"), source).expect("tests");
    std::fs::write(dir.join("pytest.ini"), "[pytest]\ntestpaths = tests\n").expect("ini");
    project
}

/// `STATUS [1.234s] w1 …test` lines: test name → (status, seconds).
fn reported(run: &Run) -> BTreeMap<String, (String, f64)> {
    let mut out = BTreeMap::new();
    for line in run.stdout.lines() {
        let line = line.trim_start();
        let Some((status, rest)) = line.split_once(" [") else {
            continue;
        };
        let Some((secs, rest)) = rest.split_once("s] ") else {
            continue;
        };
        let Ok(secs) = secs.parse::<f64>() else {
            continue;
        };
        let Some(name) = rest.split_whitespace().nth(2) else {
            continue;
        };
        out.insert(
            name.rsplit("::").next().unwrap_or(name).to_owned(),
            (status.to_owned(), secs),
        );
    }
    out
}

#[test]
fn a_hung_test_times_out_alone_and_its_neighbours_pass_with_their_real_durations() {
    let project = pytest_project(
        r#"import time

def test_a_before():
    time.sleep(0.2)

def test_b_hangs():
    print("about to hang")
    time.sleep(600)

def test_c_after():
    time.sleep(0.2)

def test_d_last():
    pass
"#,
        "timeout = \"3s\"",
    );
    let started = std::time::Instant::now();
    let run = project.run(&[]);
    run.assert_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the hung test was not cut short"
    );
    let tests = reported(&run);
    assert_eq!(tests["test_b_hangs"].0, "TIMEOUT", "{}", run.stdout);
    for name in ["test_a_before", "test_c_after", "test_d_last"] {
        assert_eq!(tests[name].0, "PASS", "{name}: {}", run.stdout);
        assert!(
            tests[name].1 < 2.0,
            "{name} has a made-up duration: {}",
            run.stdout
        );
    }
    assert!(tests["test_a_before"].1 >= 0.2, "{}", run.stdout);
    // What the hung test printed is shown with it.
    assert!(run.stdout.contains("about to hang"), "{}", run.stdout);
    assert!(
        run.stdout.contains("1 failed") && run.stdout.contains("3 passed"),
        "{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_test_that_kills_its_worker_fails_alone_and_the_rest_run_on_a_fresh_one() {
    let project = pytest_project(
        r#"import os, signal, sqlite3
from urllib.parse import urlparse

def db():
    return sqlite3.connect(urlparse(os.environ["DATABASE_URL"]).path)

def test_a_writes_and_cleans_up():
    c = db()
    c.execute("INSERT INTO note (text) VALUES ('a')")
    c.commit()
    c.execute("DELETE FROM note")
    c.commit()

def test_b_segfaults():
    c = db()
    c.execute("INSERT INTO note (text) VALUES ('left behind')")
    c.commit()
    os.kill(os.getpid(), signal.SIGSEGV)

def test_c_sees_a_clean_database():
    assert db().execute("SELECT count(*) FROM note").fetchone()[0] == 0

def test_d_exits():
    os._exit(7)

def test_e_last():
    assert db().execute("SELECT count(*) FROM note").fetchone()[0] == 0
"#,
        "",
    );
    let run = project.run(&[]);
    run.assert_code(1);
    let tests = reported(&run);
    assert_eq!(tests["test_b_segfaults"].0, "CRASH", "{}", run.stdout);
    assert_eq!(tests["test_d_exits"].0, "FAIL", "{}", run.stdout);
    for name in [
        "test_a_writes_and_cleans_up",
        "test_c_sees_a_clean_database",
        "test_e_last",
    ] {
        assert_eq!(tests[name].0, "PASS", "{name}: {}", run.stdout);
    }
    assert!(run.stdout.contains("exited with code 7"), "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
}

/// A worker written from the README's description of the protocol alone,
/// in plain Python (no paraclone module), run as a `command` suite.
const HAND_WRITTEN_WORKER: &str = r#"import json, os, socket, sys, time

TESTS = ["math::adds", "math::fails", "math::skips", "text::upper"]
if sys.argv[1:] == ["--list"]:
    print("\n".join(TESTS))
    sys.exit(0)

sock = socket.socket(socket.AF_UNIX)
sock.connect(os.environ["PARACLONE_WORKER_SOCKET"])
reader = sock.makefile("r")
def send(**m):
    sock.sendall((json.dumps(m) + "\n").encode())
send(event="hello", protocol="paraclone-v1", pid=os.getpid())
for line in reader:
    request = json.loads(line)
    if request["request"] == "exit":
        break
    if request["request"] != "run":
        continue
    for test in request["tests"]:
        send(event="started", test=test)
        start = time.monotonic()
        outcome = {"math::fails": "failed", "math::skips": "skipped"}.get(test, "passed")
        output = "expected 4, got 5" if outcome == "failed" else ""
        send(event="finished", test=test, outcome=outcome,
             duration=time.monotonic() - start, output=output)
    send(event="done", id=request["id"])
"#;

#[test]
fn a_tool_that_speaks_the_protocol_runs_as_a_worker() {
    let project = Project::with_config(&format!(
        r#"[run]
parallel = 2

[tests]
kind = "command"
list = "{python} worker.py --list"
run = "{python} worker.py"
protocol = "paraclone-v1"

[databases.default]
name = "hand"
migrations = "migrations"

[backends.sqlite]
dir = "dbs"
"#,
        python = python_bin().join("python3").display()
    ));
    let dir = project.dir.path();
    std::fs::create_dir_all(dir.join("migrations")).expect("mkdir");
    std::fs::write(
        dir.join("migrations/0001.sql"),
        "CREATE TABLE t (x INTEGER);\n",
    )
    .expect("migration");
    std::fs::write(dir.join("worker.py"), HAND_WRITTEN_WORKER).expect("worker");
    let run = project.run(&[]);
    run.assert_code(1);
    assert_eq!(
        run.tests_with("PASS"),
        ["suite math::adds", "suite text::upper"]
            .map(str::to_owned)
            .into(),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.tests_with("FAIL"),
        ["suite math::fails".to_owned()].into(),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("SKIP").len(), 1, "{}", run.stdout);
    assert!(run.stdout.contains("expected 4, got 5"), "{}", run.stdout);
}

#[test]
fn a_worker_that_cannot_start_stops_the_run_with_its_output() {
    let project = pytest_project("def test_x():\n    pass\n", "");
    std::fs::write(
        project.dir.path().join("tests/conftest.py"),
        "import os\nif os.environ.get('PARACLONE_WORKER_SOCKET'):\n    raise RuntimeError('the settings are broken')\n",
    )
    .expect("conftest");
    let run = project.run(&[]);
    // The listing works, the workers do not: the run could not be carried
    // out, and the error shows what the worker printed.
    run.assert_code(2);
    assert!(
        run.stderr.contains("before it was ready")
            && run.stderr.contains("the settings are broken"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

/// After a TransactionTestCase class, the worker puts the template's rows
/// back and the sequences continue after them: a TestCase class that then
/// inserts into the seeded table (on the same worker) gets fresh ids. The
/// bug this guards against: restoring the seed with the sequences reset
/// made the first insert collide (`duplicate key … Key (id)=(1)`).
#[cfg(feature = "postgres")]
#[test]
fn on_postgres_a_transaction_test_case_class_then_inserts_into_seeded_tables_work_in_both_orders() {
    let project = super::example("django_library", "");
    let config = std::fs::read_to_string(project.config()).expect("config");
    // The SQLite file path has no meaning on a server.
    let config: String = config
        .lines()
        .filter(|l| !l.starts_with("DJANGO_SQLITE_PATH"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(project.config(), config).expect("config");
    let path = format!(
        "{}:{}",
        python_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ttc = "catalog.tests.test_transactions.CommittedLendingTests.";
    let seeded = "catalog.tests.test_seed.SeededGenreIdTests.";
    let mut first_classes = Vec::new();
    for order in [None, Some("--reverse")] {
        let mut args = vec!["--db", "postgres", "--parallel", "1", ttc, seeded];
        args.extend(order);
        let run = Run::from(
            project
                .command(&args)
                .env("PATH", &path)
                .output()
                .expect("paraclone runs"),
        );
        run.assert_code(0);
        let passed = run.tests_with("PASS");
        assert!(
            passed.iter().any(|t| t.contains(ttc)) && passed.iter().any(|t| t.contains(seeded)),
            "{}",
            run.stdout
        );
        let first = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("PASS ["))
            .map(|l| {
                if l.contains(ttc) {
                    "transaction"
                } else {
                    "seeded"
                }
            })
            .expect("a PASS line");
        first_classes.push(first);
    }
    first_classes.sort();
    assert_eq!(first_classes, ["seeded", "transaction"], "both orders ran");
}

#[test]
fn failfast_on_a_worker_starts_no_test_after_the_failure() {
    let project = pytest_project(
        r#"def test_a_passes():
    pass

def test_b_fails():
    assert 1 == 2

def test_c_never_starts():
    pass

def test_d_never_starts():
    pass
"#,
        "",
    );
    let run = project.run(&["--failfast"]);
    run.assert_code(1);
    let tests = reported(&run);
    assert_eq!(tests["test_a_passes"].0, "PASS", "{}", run.stdout);
    assert_eq!(tests["test_b_fails"].0, "FAIL", "{}", run.stdout);
    assert!(
        !tests.contains_key("test_c_never_starts") && !tests.contains_key("test_d_never_starts"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("2 not run"), "{}", run.stdout);
}

#[test]
fn max_tests_per_worker_replaces_the_worker_between_groups() {
    // Four files (four groups) of two tests, on one slot; each test
    // writes the pid of the worker running it.
    let record = "import os\n\ndef record():\n    with open(os.environ['PIDS'], 'a') as f:\n        f.write(f'{os.getpid()}\\n')\n";
    let two = "\ndef test_one():\n    record()\n\ndef test_two():\n    record()\n";
    let source = format!("{record}{two}");
    let project = pytest_project(&source, "max_tests_per_worker = 4");
    for file in ["b", "c", "d"] {
        std::fs::write(
            project.dir.path().join(format!("tests/test_{file}.py")),
            &source,
        )
        .expect("tests");
    }
    let pids = project.dir.path().join("pids");
    let run = Run::from(
        project
            .command(&[])
            .env("PIDS", &pids)
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(0);
    let seen: Vec<String> = std::fs::read_to_string(&pids)
        .expect("pids")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(seen.len(), 8);
    let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
    // Four tests a worker, replaced at a group's end: two workers.
    assert_eq!(distinct.len(), 2, "{seen:?}");
    assert!(seen[..4].iter().all(|p| *p == seen[0]), "{seen:?}");
}

#[test]
fn a_long_pytest_module_is_split_between_two_workers() {
    let mut source = String::from("import os, time\n");
    for i in 0..8 {
        source.push_str(&format!(
            "\ndef test_slow_{i}():\n    with open(os.environ['PIDS'], 'a') as f:\n        f.write(f'{{os.getpid()}}\\n')\n    time.sleep(0.3)\n"
        ));
    }
    let project = pytest_project(&source, "");
    let pids = project.dir.path().join("pids");
    let run = Run::from(
        project
            .command(&["--parallel", "2"])
            .env("PIDS", &pids)
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(0);
    let seen: std::collections::BTreeSet<String> = std::fs::read_to_string(&pids)
        .expect("pids")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        seen.len(),
        2,
        "one module, both workers: {seen:?}\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("8 passed"), "{}", run.stdout);
}
