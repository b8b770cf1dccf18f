//! Nothing left behind: a killed run is swept, runs at once never collide.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Project, Run};

/// Starts a run whose demo test hangs, and waits until the test is running.
/// Returns the runner and the hanging test processes' pids.
pub(crate) fn start_hanging_run(
    project: &Project,
    pid_dir: &std::path::Path,
    extra: &[&str],
) -> (Child, Vec<i32>) {
    let mut args = vec!["--parallel", "2", "demo::hang"];
    args.extend_from_slice(extra);
    let mut child = project
        .command(&args)
        .env("SHOP_DEMO", "hang")
        .env("SHOP_DEMO_PID_DIR", pid_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    let started = Instant::now();
    loop {
        let pids: Vec<i32> = std::fs::read_dir(pid_dir)
            .expect("pid dir")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        if !pids.is_empty() {
            return (child, pids);
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no test started"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "paraclone ended before the test hung"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGKILLs the runner (no teardown can run) and the test it left.
pub(crate) fn kill_hard(mut child: Child, pids: &[i32]) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("kill paraclone");
    child.wait().expect("reap paraclone");
    for pid in pids {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
}

pub(crate) fn ledger_files(project: &Project) -> Vec<String> {
    match std::fs::read_dir(project.dir.path().join("target/paraclone/ledger")) {
        Ok(entries) => entries
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_killed_run_is_listed_by_clean_dry_run_and_swept_by_the_next_run() {
    let project = Project::example("");
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let (child, pids) = start_hanging_run(&project, pid_dir.path(), &[]);
    kill_hard(child, &pids);
    let left = project.database_files();
    assert_eq!(
        left.len(),
        3,
        "template and two clones stay after SIGKILL: {left:?}"
    );
    assert_eq!(ledger_files(&project).len(), 1);

    let dry = Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .args(["clean", "--dry-run", "--config"])
            .arg(project.config())
            .output()
            .expect("clean runs"),
    );
    dry.assert_code(0);
    assert!(
        dry.stdout.contains("no longer running): would drop"),
        "{}",
        dry.stdout
    );
    for file in &left {
        assert!(
            dry.stdout.contains(file.trim_end_matches(".sqlite3")),
            "{file} not listed:\n{}",
            dry.stdout
        );
    }
    assert_eq!(project.database_files().len(), 3, "a dry run drops nothing");

    let next = project.run(&["--parallel", "2", "customers::"]);
    next.assert_code(0);
    assert!(
        next.stdout.contains("no longer running): dropped"),
        "{}",
        next.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
    assert_eq!(ledger_files(&project), Vec::<String>::new());
}

#[test]
fn clean_drops_what_a_killed_run_left_and_nothing_else() {
    let project = Project::example("");
    // A database in no ledger: clean must never touch it.
    std::fs::create_dir_all(project.dir.path().join("dbs")).expect("dbs");
    std::fs::write(
        project.dir.path().join("dbs/shop_pc0123456789_w1.sqlite3"),
        "",
    )
    .expect("stranger");
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let (child, pids) = start_hanging_run(&project, pid_dir.path(), &[]);
    kill_hard(child, &pids);
    assert_eq!(project.database_files().len(), 4);

    let clean = Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .args(["clean", "--config"])
            .arg(project.config())
            .output()
            .expect("clean runs"),
    );
    clean.assert_code(0);
    assert_eq!(project.database_files(), ["shop_pc0123456789_w1.sqlite3"]);
    assert_eq!(ledger_files(&project), Vec::<String>::new());
    let again = Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .args(["clean", "--config"])
            .arg(project.config())
            .output()
            .expect("clean runs"),
    );
    again.assert_code(0);
    assert!(
        again.stdout.contains("no database of a dead run is listed"),
        "{}",
        again.stdout
    );
}

#[test]
fn two_runs_at_once_neither_collide_nor_sweep_each_other() {
    two_runs_at_once("sqlite", |_| Vec::new());
}

/// Two runs of one project on one server at the same time: both pass,
/// neither sweeps the other, nothing is left (`leftovers` lists what a run
/// id has left on the server).
pub(crate) fn two_runs_at_once(backend: &str, leftovers: impl Fn(&str) -> Vec<String>) {
    let project = Project::example("");
    let spawn = || {
        project
            .command(&["--db", backend, "--parallel", "4", "overlap::"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paraclone starts")
    };
    let (a, b) = (spawn(), spawn());
    let a = Run::from(a.wait_with_output().expect("a ends"));
    let b = Run::from(b.wait_with_output().expect("b ends"));
    for run in [&a, &b] {
        run.assert_code(0);
        assert!(!run.stdout.contains("Sweep"), "{}", run.stdout);
        assert!(
            run.stdout
                .contains("4 clones made for 4 workers; 5 databases dropped"),
            "{}",
            run.stdout
        );
        let id = run
            .stdout
            .split_whitespace()
            .skip_while(|w| *w != "run")
            .nth(1)
            .expect("the run id");
        assert_eq!(
            leftovers(id),
            Vec::<String>::new(),
            "run {id} left databases"
        );
    }
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_hung_test_times_out_its_slot_gets_fresh_clones_and_the_run_goes_on() {
    let project = Project::example("");
    let run = Run::from(
        project
            .command(&["--parallel", "1", "--timeout", "1s", "demo::"])
            .env("SHOP_DEMO", "hang")
            .output()
            .expect("runs"),
    );
    run.assert_code(1);
    assert!(run.stdout.contains("TIMEOUT [1."), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("w1 got fresh clones after shop::it demo::hang_on_request timed out"),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("PASS").len(), 3, "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
}
