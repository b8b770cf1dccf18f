//! Throwaway servers (`--ephemeral`, `server = "ephemeral"`): the shop's
//! suite passes on a server of the run's own while the configured servers
//! are unreachable, nothing lands on the shared servers, and no process or
//! directory of a throwaway server outlives the run: not after a signal in
//! any phase, and, after a SIGKILL, not after `paraclone clean` or the
//! next run's sweep.

use std::path::PathBuf;
use std::process::Command;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::faults::{interrupt, paused_at, processes_where};
use crate::ledger::{ledger_files, paraclone_clean};
use crate::{Project, Run};

/// Config lines that point both server backends at a port nothing listens
/// on: a run that used them, rather than its throwaway server, fails.
const UNREACHABLE: &str = "[backends.postgres]\nurl = \"postgres://postgres@127.0.0.1:1/postgres\"\n\
                           [backends.mysql]\nurl = \"mysql://root@127.0.0.1:1\"\n";

/// The directories and processes of run `id`'s throwaway servers: its
/// directories in `/dev/shm`, and every process whose command line names
/// one of them.
fn leftovers(id: &str) -> Vec<String> {
    let prefix = format!("paraclone-{id}-");
    let mut left: Vec<String> = std::fs::read_dir("/dev/shm")
        .expect("/dev/shm")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(&prefix))
        .map(|name| format!("directory /dev/shm/{name}"))
        .collect();
    left.extend(
        server_processes(id)
            .into_iter()
            .map(|pid| format!("process {pid}")),
    );
    left
}

fn server_processes(id: &str) -> Vec<i32> {
    let needle = format!("paraclone-{id}-");
    processes_where("cmdline", |c| {
        c.windows(needle.len()).any(|w| w == needle.as_bytes())
    })
}

/// `PATH` with the directory `pg_config --bindir` names first, as a user
/// whose PostgreSQL programs are not on `PATH` would set it.
fn path_with_postgres() -> String {
    let out = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("pg_config runs (the PostgreSQL server package is installed)");
    let bindir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        bindir.join("initdb").exists(),
        "no initdb in {}",
        bindir.display()
    );
    format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The names on a shared server that no run of paraclone made (those
/// have `_pc` in them and come and go with the other tests).
fn own_names(names: Vec<String>) -> Vec<String> {
    names.into_iter().filter(|n| !n.contains("_pc")).collect()
}

fn shared_databases(backend: &str) -> Vec<String> {
    match backend {
        #[cfg(feature = "postgres")]
        "postgres" => crate::postgres::databases_like(""),
        #[cfg(feature = "mysql")]
        "mysql" => crate::mysql::databases_like(""),
        other => panic!("no shared {other} server in this build"),
    }
}

fn whole_suite_on_a_throwaway_server(backend: &str, label: &str, extra: &str) {
    let project = Project::example(&format!("{UNREACHABLE}{extra}"));
    let before = shared_databases(backend);
    let run = Run::from(
        project
            .command(&["--db", backend, "--ephemeral", "--parallel", "4"])
            .env("PATH", path_with_postgres())
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(0);
    assert_eq!(run.tests_with("PASS").len(), 105, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("throwaway {label}")),
        "the header names the throwaway server:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Phases server "),
        "starting it is a phase of its own:\n{}",
        run.stdout
    );
    let id = run.run_id();
    let after = shared_databases(backend);
    assert!(
        after.iter().all(|n| !n.contains(&id)),
        "run {id} made databases on the shared server: {after:?}"
    );
    assert_eq!(
        own_names(before),
        own_names(after),
        "the shared server's own databases"
    );
    assert_eq!(leftovers(&id), Vec::<String>::new());
    assert_eq!(ledger_files(&project), Vec::<String>::new());
}

#[cfg(feature = "postgres")]
#[test]
fn the_shop_passes_on_a_throwaway_postgres_and_the_shared_server_is_untouched() {
    whole_suite_on_a_throwaway_server("postgres", "PostgreSQL", "");
}

#[cfg(feature = "mysql")]
#[test]
fn the_shop_passes_on_a_throwaway_mariadb_and_the_shared_server_is_untouched() {
    whole_suite_on_a_throwaway_server("mysql", "MariaDB", "");
}

/// One server per worker: the seed stopped, its data directory copied
/// for each of the 4 workers; a worker whose test crashed gets its server
/// copied again (and the tests after it on that worker pass).
#[cfg(feature = "mysql")]
#[test]
fn the_shop_passes_on_one_throwaway_mariadb_per_worker() {
    whole_suite_on_a_throwaway_server("mysql", "MariaDB", PER_WORKER);
    let project = Project::example(&format!("{UNREACHABLE}{PER_WORKER}"));
    let run = Run::from(
        project
            .command(&[
                "--db",
                "mysql",
                "--ephemeral",
                "--parallel",
                "2",
                "demo::",
                "customers::",
            ])
            .env("SHOP_DEMO", "abort")
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("one throwaway server per worker (2 copies of the data directory)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("got fresh clones after"),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("CRASH").len(), 1, "{}", run.stdout);
    assert!(run.tests_with("PASS").len() >= 16, "{}", run.stdout);
    assert_eq!(leftovers(&run.run_id()), Vec::<String>::new());
}

/// `ephemeral_clones = "servers"`, in the `[backends.mysql]` table
/// `UNREACHABLE` opens last.
const PER_WORKER: &str = "ephemeral_clones = \"servers\"\n";

const PHASES: &[&str] = &["server", "template", "clone", "run", "teardown"];

/// SIGINT and SIGTERM in every phase: exit 130, no server process, no
/// directory. `server = "ephemeral"` in the config this time.
fn every_phase_and_signal(backend: &str, extra: &str) {
    let url = match backend {
        "postgres" => "postgres://postgres@127.0.0.1:1/postgres",
        _ => "mysql://root@127.0.0.1:1",
    };
    let project = Project::example(&format!(
        "[backends.{backend}]\nserver = \"ephemeral\"\nurl = \"{url}\"\n{extra}"
    ));
    let mut table = Vec::new();
    for phase in PHASES {
        for signal in [Signal::SIGINT, Signal::SIGTERM] {
            let run = interrupt(&project, backend, phase, signal);
            let id = run.run_id();
            let left = leftovers(&id);
            table.push(format!(
                "{backend} {phase} {signal}: exit {} left {left:?}",
                run.code
            ));
            run.assert_code(130);
            assert_eq!(
                left,
                Vec::<String>::new(),
                "{phase} {signal}\n{}",
                run.stdout
            );
        }
    }
    assert_eq!(ledger_files(&project), Vec::<String>::new());
    println!("{}", table.join("\n"));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_every_phase_and_signal_leaves_no_throwaway_server() {
    every_phase_and_signal("postgres", "");
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_every_phase_and_signal_leaves_no_throwaway_server() {
    every_phase_and_signal("mysql", "");
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_per_worker_servers_every_phase_and_signal_leave_none() {
    every_phase_and_signal("mysql", PER_WORKER);
}

/// Starts a run on a throwaway server, waits until its tests are about to
/// run and SIGKILLs it: no teardown runs, the server stays. Returns the
/// run's id.
fn killed_run(project: &Project, backend: &str) -> String {
    let (child, _pause) = paused_at(
        project,
        &[
            "--db",
            backend,
            "--ephemeral",
            "--parallel",
            "2",
            "customers::",
        ],
        "run",
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("kill paraclone");
    let run = Run::from(child.wait_with_output().expect("reap paraclone"));
    let id = run.run_id();
    let left = leftovers(&id);
    assert!(
        left.iter().any(|l| l.starts_with("directory"))
            && left.iter().any(|l| l.starts_with("process")),
        "after SIGKILL the server is still there: {left:?}"
    );
    id
}

#[cfg(feature = "postgres")]
#[test]
fn after_sigkill_clean_stops_and_removes_the_throwaway_postgres() {
    let project = Project::example(UNREACHABLE);
    let id = killed_run(&project, "postgres");
    assert_eq!(ledger_files(&project).len(), 1);
    let clean = paraclone_clean(&project, &[]);
    clean.assert_code(0);
    assert!(
        clean.stdout.contains("server"),
        "clean says it stopped the server:\n{}",
        clean.stdout
    );
    assert_eq!(leftovers(&id), Vec::<String>::new());
    assert_eq!(ledger_files(&project), Vec::<String>::new());
}

#[cfg(feature = "mysql")]
#[test]
fn after_sigkill_the_next_run_stops_and_removes_the_throwaway_mariadb() {
    // One server per worker: the seed and its two copies are left.
    let project = Project::example(&format!("{UNREACHABLE}{PER_WORKER}"));
    let id = killed_run(&project, "mysql");
    let next = project.run(&["--db", "mysql", "--ephemeral", "customers::"]);
    next.assert_code(0);
    assert!(
        next.stdout.contains(&id),
        "the sweep names the dead run:\n{}",
        next.stdout
    );
    assert_eq!(leftovers(&id), Vec::<String>::new());
    assert_eq!(leftovers(&next.run_id()), Vec::<String>::new());
    assert_eq!(ledger_files(&project), Vec::<String>::new());
}

/// Programs not where `bin_dir` says: one error naming the package, and
/// nothing made.
#[test]
fn a_missing_server_program_is_one_error_naming_the_package() {
    for (backend, package) in [
        ("postgres", "apt install postgresql"),
        ("mysql", "apt install mariadb-server"),
    ] {
        let project = Project::example(&format!(
            "[backends.{backend}]\nserver = \"ephemeral\"\nbin_dir = \"empty\"\n"
        ));
        std::fs::create_dir(project.dir.path().join("empty")).expect("mkdir");
        let run = project.run(&["--db", backend]);
        run.assert_code(2);
        let said = format!("{}{}", run.stdout, run.stderr);
        assert_eq!(said.matches(package).count(), 1, "{backend}: {said}");
        assert!(said.contains("not found"), "{backend}: {said}");
        assert_eq!(ledger_files(&project), Vec::<String>::new());
    }
}

/// The skeletons in the project's state directory.
fn skeletons(project: &Project) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(project.dir.path().join("target/paraclone/servers"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
    names.sort();
    names
}

/// The first run keeps a blank cluster (the skeleton), the next copies
/// it; on the copy, TCP without the run's password is refused; a damaged
/// skeleton is made again.
#[cfg(feature = "postgres")]
#[test]
fn a_throwaway_postgres_is_copied_from_its_skeleton_and_tcp_needs_the_password() {
    let project = Project::example(UNREACHABLE);
    let first = project.run(&["--db", "postgres", "--ephemeral", "customers::"]);
    first.assert_code(0);
    let kept = skeletons(&project);
    assert_eq!(kept.len(), 1, "one skeleton: {kept:?}");
    let pg_version = project
        .dir
        .path()
        .join("target/paraclone/servers")
        .join(&kept[0])
        .join("data/PG_VERSION");
    assert!(pg_version.exists());

    let (child, pause) = paused_at(
        &project,
        &["--db", "postgres", "--ephemeral", "customers::"],
        "run",
    );
    let ledger = ledger_files(&project);
    assert_eq!(ledger.len(), 1);
    let text = std::fs::read_to_string(
        project
            .dir
            .path()
            .join("target/paraclone/ledger")
            .join(&ledger[0]),
    )
    .expect("ledger");
    let port = text
        .lines()
        .find(|l| l.contains("\"op\":\"server\""))
        .and_then(|l| l.split("\"port\":").nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .expect("the server's port in the ledger")
        .to_owned();
    let refused = Command::new("psql")
        .arg(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .args(["-Atc", "select 1"])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent")
        .output()
        .expect("psql runs");
    assert!(
        !refused.status.success(),
        "a login without the password got in"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("password"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    std::fs::remove_file(&pause).expect("let the run go on");
    let second = Run::from(child.wait_with_output().expect("paraclone ends"));
    second.assert_code(0);
    assert_eq!(leftovers(&second.run_id()), Vec::<String>::new());
    assert_eq!(skeletons(&project), kept, "copied, not made again");

    std::fs::remove_file(&pg_version).expect("damage the skeleton");
    let third = project.run(&["--db", "postgres", "--ephemeral", "customers::"]);
    third.assert_code(0);
    assert!(pg_version.exists(), "a damaged skeleton is made again");
    assert_eq!(skeletons(&project), kept);
}
