//! Nothing left behind: a killed run is swept, runs at once never collide.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Project, Run};

/// Starts a run whose demo test hangs, and waits until the test is running.
/// Returns the runner and the hanging test processes' pids. Two groups
/// (the hanging test's and `customers::`), so both workers get clones.
pub(crate) fn start_hanging_run(
    project: &Project,
    pid_dir: &std::path::Path,
    extra: &[&str],
) -> (Child, Vec<i32>) {
    let mut args = vec!["--parallel", "2", "demo::hang", "customers::"];
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
    // Its scratch directory (the run phase had begun) stays too, until the
    // sweep.
    let killed = ledger_files(&project)[0]
        .trim_end_matches(".jsonl")
        .to_owned();
    let scratch = std::env::temp_dir().join(format!("paraclone-{killed}"));
    assert!(scratch.exists(), "{}", scratch.display());

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
    assert!(!scratch.exists(), "{} left", scratch.display());
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

    let clean = paraclone_clean(&project, &[]);
    clean.assert_code(0);
    assert_eq!(project.database_files(), ["shop_pc0123456789_w1.sqlite3"]);
    assert_eq!(ledger_files(&project), Vec::<String>::new());
    let again = paraclone_clean(&project, &[]);
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

/// A project whose one test passes at once (a command suite, nothing to
/// build), its databases named `name`, its SQLite files in `dbs/`.
pub(crate) fn quick_project(name: &str, extra: &str) -> Project {
    Project::with_config(&format!(
        r#"[tests]
kind = "command"
tests = ["quick::passes"]
run = "true {{tests}}"
[databases.default]
name = "{name}"
[backends.sqlite]
dir = "dbs"
{extra}"#
    ))
}

pub(crate) fn paraclone_clean(project: &Project, args: &[&str]) -> Run {
    Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .arg("clean")
            .args(args)
            .arg("--config")
            .arg(project.config())
            .output()
            .expect("clean runs"),
    )
}

/// `paraclone clean` exits 0 and the ledger directory is empty after it.
pub(crate) fn clean_leaves_an_empty_ledger(project: &Project) {
    let clean = paraclone_clean(project, &[]);
    clean.assert_code(0);
    assert_eq!(
        ledger_files(project),
        Vec::<String>::new(),
        "{}",
        clean.stdout
    );
}

/// Writes a ledger as a run that died would have left it.
fn write_ledger(project: &Project, run: &str, lines: &[String]) -> std::path::PathBuf {
    let dir = project.dir.path().join("target/paraclone/ledger");
    std::fs::create_dir_all(&dir).expect("ledger dir");
    let path = dir.join(format!("{run}.jsonl"));
    std::fs::write(&path, lines.concat()).expect("write the ledger");
    path
}

fn header(run: &str) -> String {
    format!(
        "{{\"op\":\"run\",\"run_id\":\"{run}\",\"pid\":4242,\"host\":\"h\",\"started\":1700000000,\"config\":\"/p/paraclone.toml\"}}\n"
    )
}

#[test]
fn a_database_the_backend_refused_to_create_leaves_no_ghost_in_the_ledger() {
    // SQLite refuses the name (a path separator): no file is ever made.
    let project = quick_project("../../escape", "");
    let run = project.run(&["--parallel", "2"]);
    run.assert_code(2);
    assert!(run.stderr.contains("path separator"), "{}", run.stderr);
    assert!(
        !run.stdout.contains("could not drop"),
        "nothing was made, so nothing is left:\n{}",
        run.stdout
    );
    assert_eq!(ledger_files(&project), Vec::<String>::new());
    clean_leaves_an_empty_ledger(&project);

    // A run that died with such an entry in its ledger (one from before
    // the create's outcome was written, and one marked failed): the server
    // does not have them, so the sweep takes them off, dropping nothing.
    let dbs = project.dir.path().join("dbs");
    let server = format!("files in {} (disk)", dbs.display());
    let create = |name: &str| {
        format!(
            "{{\"op\":\"create\",\"alias\":\"default\",\"backend\":\"sqlite\",\"server\":\"{server}\",\"name\":\"{name}\"}}\n"
        )
    };
    write_ledger(
        &project,
        "ghost00001",
        &[
            header("ghost00001"),
            create("../../escape_pcghost00001_tpl"),
            create("../../escape_pcghost00001_w1"),
            "{\"op\":\"failed\",\"name\":\"../../escape_pcghost00001_w1\"}\n".to_owned(),
        ],
    );
    let clean = paraclone_clean(&project, &[]);
    clean.assert_code(0);
    assert!(
        clean.stdout.contains(
            "not on the server, so only taken off the ledger (their create had failed): \
             ../../escape_pcghost00001_w1, ../../escape_pcghost00001_tpl"
        ),
        "{}",
        clean.stdout
    );
    assert!(!clean.stdout.contains("WARNING"), "{}", clean.stdout);
    assert_eq!(ledger_files(&project), Vec::<String>::new());
}

#[test]
fn a_run_whose_databases_cannot_be_reached_any_more_is_forgotten_only_on_request() {
    let project = Project::example("");
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let (child, pids) = start_hanging_run(&project, pid_dir.path(), &[]);
    kill_hard(child, &pids);
    let left = project.database_files();
    assert!(left.len() >= 2, "a template and clones stay: {left:?}");
    let run = ledger_files(&project)[0]
        .trim_end_matches(".jsonl")
        .to_owned();

    // The databases' directory is no longer the config's: the sweep may
    // not touch them, and says how to let go of them.
    let config = std::fs::read_to_string(project.config()).expect("config");
    std::fs::write(
        project.config(),
        config.replace("dir = \"dbs\"", "dir = \"elsewhere\""),
    )
    .expect("config");
    for _ in 0..2 {
        let clean = paraclone_clean(&project, &[]);
        clean.assert_code(2);
        assert!(
            clean
                .stdout
                .contains(&format!("`paraclone clean --forget {run}`")),
            "{}",
            clean.stdout
        );
    }
    assert_eq!(ledger_files(&project).len(), 1);

    let refused = paraclone_clean(&project, &["--forget", "../../etc"]);
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("not a run id"),
        "{}",
        refused.stderr
    );
    let unknown = paraclone_clean(&project, &["--forget", "zzzzzzzzzz"]);
    unknown.assert_code(2);
    assert!(
        unknown.stderr.contains("no ledger of run zzzzzzzzzz"),
        "{}",
        unknown.stderr
    );

    let dry = paraclone_clean(&project, &["--forget", &run, "--dry-run"]);
    dry.assert_code(0);
    assert!(dry.stdout.contains("would forget"), "{}", dry.stdout);
    assert_eq!(ledger_files(&project).len(), 1, "a dry run forgets nothing");

    let forget = paraclone_clean(&project, &["--forget", &run]);
    forget.assert_code(0);
    for file in &left {
        let name = file.trim_end_matches(".sqlite3");
        assert!(
            forget.stdout.contains(&format!("{name} (on files in ")),
            "{name} not named:\n{}",
            forget.stdout
        );
    }
    assert!(
        forget
            .stdout
            .contains("not dropped: if they still exist, drop them by hand"),
        "{}",
        forget.stdout
    );
    assert_eq!(project.database_files(), left, "forgetting drops nothing");
    clean_leaves_an_empty_ledger(&project);
}

#[test]
fn a_damaged_ledger_is_named_and_skipped_by_a_run_and_cleared_by_clean() {
    let project = quick_project("damaged", "");
    let binary = write_ledger(&project, "binary0001", &[]);
    std::fs::write(&binary, b"\xff\xfe\x00\x01 binary garbage\n").expect("write");
    let text = write_ledger(
        &project,
        "text000001",
        &["hello world\n".to_owned(), "not json either\n".to_owned()],
    );
    // A real ledger whose last line a crash cut short: no damage, swept.
    let cut = write_ledger(
        &project,
        "cut0000001",
        &[
            header("cut0000001"),
            "{\"op\":\"create\",\"alias\":\"def".to_owned(),
        ],
    );

    let run = project.run(&["--parallel", "1"]);
    run.assert_code(0);
    for path in [&binary, &text] {
        assert!(
            run.stdout.contains(&format!(
                "ledger {}: line 1 is not a ledger line",
                path.display()
            )),
            "{} not named:\n{}",
            path.display(),
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("the ledger of run text000001 is left as it is: `paraclone clean`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "ledger {}: its last line is cut short",
            cut.display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("run cut0000001 (pid 4242 on h, started "),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("pid 0") && !run.stdout.contains("56years"),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("PASS").len(), 1, "{}", run.stdout);
    let mut left = ledger_files(&project);
    left.sort();
    assert_eq!(left, ["binary0001.jsonl", "text000001.jsonl"]);

    let clean = paraclone_clean(&project, &[]);
    clean.assert_code(0);
    assert!(
        clean.stdout.contains(&format!(
            "ledger {}: line 2 is not a ledger line: \"not json either\"",
            text.display()
        )),
        "{}",
        clean.stdout
    );
    assert!(
        clean
            .stdout
            .contains("the ledger of run binary0001 was damaged: what could be read of it is done"),
        "{}",
        clean.stdout
    );
    assert_eq!(ledger_files(&project), Vec::<String>::new());
}

#[test]
fn a_start_that_cannot_write_its_ledger_leaves_no_temporary_file() {
    use std::os::unix::process::CommandExt as _;
    let project = quick_project("full", "");
    let mut command = project.command(&["--parallel", "1"]);
    // A disk that takes no more bytes, as far as this process is
    // concerned: every write to a file fails (EFBIG, where a full disk
    // gives ENOSPC), pipes still work.
    // SAFETY: between fork and exec only async-signal-safe calls.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &none) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Run::from(command.output().expect("paraclone runs"));
    run.assert_code(2);
    assert!(
        run.stderr.contains(&format!(
            "could not use the ledger in {}",
            project.dir.path().join("target/paraclone/ledger").display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(ledger_files(&project), Vec::<String>::new());
    clean_leaves_an_empty_ledger(&project);
}

#[test]
fn a_project_path_that_is_not_utf8_runs_and_leaves_no_ledger() {
    use std::os::unix::ffi::OsStrExt as _;
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent
        .path()
        .join(std::ffi::OsStr::from_bytes(b"proj\xffect"));
    let state = tempfile::tempdir().expect("state dir");
    let project = quick_project("nonutf8", "");
    let config = std::fs::read_to_string(project.config()).expect("config");
    std::fs::create_dir(&dir).expect("project dir");
    let path = dir.join("paraclone.toml");
    // The state directory elsewhere (a UTF-8 path), then next to the
    // config (the default): neither is blamed for the config's path.
    for extra in [
        format!("[run]\nstate_dir = \"{}\"\n", state.path().display()),
        String::new(),
    ] {
        std::fs::write(&path, format!("{config}{extra}")).expect("config");
        let run = Run::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
                .args(["test", "--no-progress", "--config"])
                .arg(&path)
                .output()
                .expect("paraclone runs"),
        );
        run.assert_code(0);
        assert!(!run.stderr.contains("ledger"), "{}", run.stderr);
    }
    for ledger in [
        state.path().join("ledger"),
        dir.join("target/paraclone/ledger"),
    ] {
        let left: Vec<_> = std::fs::read_dir(&ledger)
            .expect("ledger dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            left,
            Vec::<std::ffi::OsString>::new(),
            "{}",
            ledger.display()
        );
    }
}
