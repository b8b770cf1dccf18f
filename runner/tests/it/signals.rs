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
