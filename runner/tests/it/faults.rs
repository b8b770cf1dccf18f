//! Fault injection: SIGINT and SIGTERM at every phase of a run, on every
//! backend built in. Afterwards no database of the run and no process of the
//! run may remain.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Project, Run};

const PHASES: &[&str] = &["template", "clone", "run", "teardown"];

/// Processes (other than paraclone itself) whose environment holds this
/// run's id: the run's setup commands and test processes.
pub(crate) fn processes_of_run(run_id: &str) -> Vec<i32> {
    let needle = format!("PARACLONE_RUN_ID={run_id}");
    processes_where("environ", |env| {
        env.split(|b| *b == 0).any(|var| var == needle.as_bytes())
    })
}

/// The processes whose `/proc/<pid>/<file>` (`environ`, `cmdline`) `test`
/// accepts.
pub(crate) fn processes_where(file: &str, test: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/{file}")).is_ok_and(|c| test(&c)))
        .collect()
}

/// Runs the example on `backend`, pauses it at `phase`, sends `signal`,
/// and returns what it printed.
pub(crate) fn interrupt(project: &Project, backend: &str, phase: &str, signal: Signal) -> Run {
    let (child, _pause) = paused_at(
        project,
        &["--db", backend, "--parallel", "3", "customers::"],
        phase,
    );
    kill(Pid::from_raw(child.id() as i32), signal).expect("send the signal");
    Run::from(child.wait_with_output().expect("paraclone ends"))
}

/// Starts `paraclone test <args>` and waits until it pauses at `phase`
/// (it waits while the returned file exists).
pub(crate) fn paused_at(
    project: &Project,
    args: &[&str],
    phase: &str,
) -> (std::process::Child, std::path::PathBuf) {
    let pause = project.dir.path().join(format!("paused-{phase}"));
    let _ = std::fs::remove_file(&pause);
    let child = project
        .command(args)
        .env("PARACLONE_PAUSE_AT", phase)
        .env("PARACLONE_PAUSE_FILE", &pause)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    wait_for(&pause, &child);
    (child, pause)
}

pub(crate) fn wait_for(file: &Path, child: &std::process::Child) {
    let started = Instant::now();
    while !file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the run never reached {}",
            file.display()
        );
        let _ = child.id();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// For every phase and both signals: exit code 130, nothing left.
pub(crate) fn every_phase_and_signal(
    backend: &str,
    leftovers: impl Fn(&Project, &str) -> Vec<String>,
) {
    let project = Project::example("");
    let mut table = Vec::new();
    for phase in PHASES {
        for signal in [Signal::SIGINT, Signal::SIGTERM] {
            let run = interrupt(&project, backend, phase, signal);
            let id = run.run_id();
            let databases = leftovers(&project, &id);
            let processes = processes_of_run(&id);
            table.push(format!(
                "{backend} {phase} {signal}: exit {} databases {} processes {}",
                run.code,
                databases.len(),
                processes.len()
            ));
            run.assert_code(130);
            assert!(
                run.stdout.contains("interrupted: stopping tests"),
                "{phase} {signal}:\n{}",
                run.stdout
            );
            assert_eq!(
                databases,
                Vec::<String>::new(),
                "{phase} {signal}: databases left\n{}",
                run.stdout
            );
            assert_eq!(
                processes,
                Vec::<i32>::new(),
                "{phase} {signal}: processes left"
            );
        }
    }
    assert!(project.database_files().is_empty());
    println!("{}", table.join("\n"));
}

#[test]
fn sqlite_every_phase_and_signal_leaves_nothing() {
    every_phase_and_signal("sqlite", |project, id| {
        project
            .database_files()
            .into_iter()
            .filter(|f| f.contains(id))
            .collect()
    });
}

/// `--parallel 8` on a server backend: 8 clones made, all 9 databases
/// dropped, none of the run's left on the server.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, reason = "used by the server backends' tests")
)]
pub(crate) fn eight_clones_and_none_left(backend: &str, leftovers: impl Fn(&str) -> Vec<String>) {
    let project = Project::example("");
    let run = project.run(&["--db", backend, "--parallel", "8"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("8 clones made for 8 workers; 9 databases dropped"),
        "{}",
        run.stdout
    );
    assert!(run.tests_with("PASS").len() >= 60, "{}", run.stdout);
    let id = run.run_id();
    assert_eq!(
        leftovers(&id),
        Vec::<String>::new(),
        "databases of run {id} left on the server"
    );
}

/// A server backend whose server does not answer: exit 2, one message
/// naming the server (password masked) with a hint, the password nowhere.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, reason = "used by the server backends' tests")
)]
pub(crate) fn unreachable_server_is_one_clear_error(
    backend: &str,
    url_with_password: &str,
    shown: &str,
    hint: &str,
) {
    let project = Project::example(&format!(
        "[backends.{backend}]\nurl = \"{url_with_password}\"\n"
    ));
    let run = project.run(&["--db", backend]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(&format!("could not connect to {shown}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint:") && run.stderr.contains(hint),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"),
        "password printed"
    );
}
