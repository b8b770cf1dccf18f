//! Ctrl-C in the middle of a run: tests stopped, clones dropped.

use std::time::{Duration, Instant};

use crate::{Project, Run};

#[test]
fn ctrl_c_during_the_run_leaves_no_clone_and_no_child() {
    let project = Project::example("");
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let mut child = project
        .command(&["--parallel", "2", "demo::"])
        .env("SHOP_DEMO", "hang")
        .env("SHOP_DEMO_PID_DIR", pid_dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("paraclone starts");

    // Wait until a hanging test process has written its pid: the run is
    // then in its run phase with clones made.
    let started = Instant::now();
    let pids = loop {
        let pids: Vec<i32> = std::fs::read_dir(pid_dir.path())
            .expect("pid dir")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        if !pids.is_empty() {
            break pids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no test started"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "paraclone ended before any test hung"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        !project.database_files().is_empty(),
        "clones exist while tests run"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("send SIGINT");
    let run = Run::from(child.wait_with_output().expect("paraclone ends"));
    run.assert_code(130);
    assert!(
        run.stdout.contains("interrupted: stopping tests"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("INTERRUPTED"), "{}", run.stdout);
    assert_eq!(
        project.database_files(),
        Vec::<String>::new(),
        "clones left after Ctrl-C"
    );
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "test process {pid} survived"
        );
    }
}

#[test]
fn ctrl_c_while_the_template_is_being_set_up_stops_the_setup_and_drops_the_template() {
    let project = Project::example("");
    let config = std::fs::read_to_string(project.config()).expect("config");
    let marker = project.dir.path().join("setup-started");
    let config = config.replace(
        "name = \"shop\"\n",
        &format!(
            "name = \"shop\"\nsetup = \"touch '{}'; sleep 60\"\n",
            marker.display()
        ),
    );
    std::fs::write(project.config(), config).expect("write config");
    let child = project
        .command(&["--parallel", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    let started = Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the setup command never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        project.database_files().len(),
        1,
        "the template exists while its setup runs"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("send SIGINT");
    let begun = Instant::now();
    let run = Run::from(child.wait_with_output().expect("paraclone ends"));
    assert!(
        begun.elapsed() < Duration::from_secs(30),
        "the setup command was not stopped"
    );
    run.assert_code(130);
    assert_eq!(
        project.database_files(),
        Vec::<String>::new(),
        "template left after Ctrl-C"
    );
}

/// A command suite on SQLite: `tests` (or what `list` prints), each test in
/// a process of its own running `run`.
fn command_project(tests: &[&str], list: Option<&str>, run: &str, parallel: usize) -> Project {
    let ids: Vec<String> = tests.iter().map(|t| format!("{t:?}")).collect();
    let source = match list {
        Some(list) => format!("list = {list:?}"),
        None => format!("tests = [{}]", ids.join(", ")),
    };
    let migrations = crate::workspace_root().join("examples/shop/migrations/sqlite");
    Project::with_config(&format!(
        r#"[run]
parallel = {parallel}
[tests]
kind = "command"
{source}
run = {run:?}
group_separator = "::"
batch = 1
[databases.default]
name = "sig"
migrations = "{}"
[backends.sqlite]
dir = "dbs"
"#,
        migrations.display()
    ))
}

fn wait_until(what: &str, child: &mut std::process::Child, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never: {what}"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "paraclone ended before: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigint(child: &std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("send SIGINT");
}

#[test]
fn ctrl_c_in_the_build_counts_the_clones_made_and_claims_no_test_missing() {
    let marker = tempfile::tempdir().expect("temp dir");
    let listing = marker.path().join("listing");
    let project = command_project(
        &[],
        Some(&format!(
            "touch '{}'; sleep 60; echo a::one",
            listing.display()
        )),
        "true {tests}",
        2,
    );
    let mut child = project
        .command(&[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    // The list command (the build phase) runs; whatever provisioning goes
    // on alongside it gets time to happen.
    wait_until("listing started", &mut child, || listing.exists());
    std::thread::sleep(Duration::from_millis(300));
    sigint(&child);
    let run = Run::from(child.wait_with_output().expect("paraclone ends"));
    run.assert_code(130);
    // One alias: what was dropped is the template and the clones made, and
    // the summary must count those clones, however many there were.
    let (clones, dropped) = clones_and_dropped(&run);
    assert_eq!(dropped, clones + 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "Cancelled by a signal (Ctrl-C or SIGTERM), before the tests were built and listed"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("no test matched"), "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
}

/// The clones a summary names, and the databases it says were dropped.
fn clones_and_dropped(run: &Run) -> (usize, usize) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Databases "))
        .unwrap_or_else(|| panic!("no Databases line:\n{}", run.stdout));
    let words: Vec<&str> = line.split_whitespace().collect();
    let clones = words[1].parse().expect("clones");
    let dropped = words[words.len() - 3].parse().expect("dropped");
    (clones, dropped)
}

#[test]
fn ctrl_c_while_cloning_counts_the_clones_it_made() {
    let project = command_project(&["a::1", "b::2"], None, "true {tests}", 2);
    let pause = project.dir.path().join("paused");
    let mut child = project
        .command(&[])
        .env("PARACLONE_PAUSE_AT", "clone")
        .env("PARACLONE_PAUSE_FILE", &pause)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    wait_until("a clone made", &mut child, || pause.exists());
    sigint(&child);
    let run = Run::from(child.wait_with_output().expect("paraclone ends"));
    run.assert_code(130);
    let (clones, dropped) = clones_and_dropped(&run);
    assert!(clones >= 1, "{}", run.stdout);
    assert_eq!(
        dropped,
        clones + 1,
        "the template and the clones:\n{}",
        run.stdout
    );
    assert!(!run.stdout.contains("no test matched"), "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_failed_build_is_named_as_the_build_not_the_setup() {
    let project = command_project(
        &[],
        Some("echo 'the tool cannot list' >&2; exit 3"),
        "true {tests}",
        2,
    );
    let run = project.run(&[]);
    run.assert_code(2);
    assert!(
        run.stdout.contains(
            "Cancelling the tests could not be built or listed: stopping, then dropping databases\n"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("setup failed"), "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn tests_stopped_mid_run_are_interrupted_and_those_never_started_not_run() {
    let started = tempfile::tempdir().expect("temp dir");
    let run_command = format!(
        "touch '{}'/$PARACLONE_WORKER; sleep 60; true {{tests}}",
        started.path().display()
    );
    let project = command_project(&["a::1", "b::2", "c::3", "d::4"], None, &run_command, 3);
    let mut child = project
        .command(&[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    wait_until("3 tests running", &mut child, || {
        std::fs::read_dir(started.path()).map_or(0, |d| d.count()) == 3
    });
    sigint(&child);
    let run = Run::from(child.wait_with_output().expect("paraclone ends"));
    run.assert_code(130);
    assert!(
        run.stdout
            .contains("Running 4 tests from the suite in 4 groups"),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("INTERRUPTED").len(), 3, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "Summary 0 tests run: 0 passed, 0 failed, 0 ignored, 0 filtered out, 3 interrupted, 1 not run ["
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Cancelled by a signal (Ctrl-C or SIGTERM)\n"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("Cancelled interrupted"),
        "{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}
