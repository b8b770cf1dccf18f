//! The runner on a real MariaDB/MySQL server (built with `--features mysql`).
//!
//! The server is the one `ci/services.sh mysql` starts (127.0.0.1:3306,
//! root, empty password) or `PARACLONE_MYSQL_URL`.

use std::process::Command;

use crate::Project;

/// Databases on the server whose name contains `pattern`, through the
/// `mariadb` client.
pub(crate) fn databases_like(pattern: &str) -> Vec<String> {
    let out = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            "root",
            "-N",
            "-e",
            "SHOW DATABASES",
        ])
        .output()
        .expect("the mariadb client runs");
    assert!(
        out.status.success(),
        "mariadb failed (is MariaDB up? ci/services.sh mysql): {}",
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
    crate::faults::eight_clones_and_none_left("mysql", databases_like);
}

#[test]
fn an_unreachable_server_is_one_clear_error_naming_what_to_do() {
    crate::faults::unreachable_server_is_one_clear_error(
        "mysql",
        "mysql://root:hunter2@127.0.0.1:1",
        "mysql://root:***@127.0.0.1:1",
        "start-stop-daemon",
    );
}

#[test]
fn every_phase_and_signal_leaves_nothing_on_the_server() {
    crate::faults::every_phase_and_signal("mysql", |_, id| databases_like(id));
}

#[test]
fn sharing_one_database_shows_what_isolation_prevents_on_the_server_too() {
    let project = Project::example("");
    let shared = project.run(&[
        "--db",
        "mysql",
        "--parallel",
        "4",
        "--share-database",
        "overlap::",
    ]);
    shared.assert_code(1);
    let isolated = project.run(&["--db", "mysql", "--parallel", "4", "overlap::"]);
    isolated.assert_code(0);
    assert_eq!(isolated.tests_with("PASS").len(), 4);
}

#[test]
fn two_runs_at_once_on_one_server_neither_collide_nor_sweep_each_other() {
    crate::ledger::two_runs_at_once("mysql", databases_like);
}

fn mariadb(sql: &str) {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", sql])
        .output()
        .expect("the mariadb client runs");
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
    let stranger = "shop_pc5432109876_w1";
    mariadb(&format!(
        "DROP DATABASE IF EXISTS `{stranger}`; CREATE DATABASE `{stranger}`"
    ));
    let pid_dir = tempfile::tempdir().expect("temp dir");
    let (child, pids) =
        crate::ledger::start_hanging_run(&project, pid_dir.path(), &["--db", "mysql"]);
    crate::ledger::kill_hard(child, &pids);
    let ledgers = crate::ledger::ledger_files(&project);
    assert_eq!(ledgers.len(), 1, "{ledgers:?}");
    let id = ledgers[0].trim_end_matches(".jsonl").to_owned();
    assert_eq!(
        databases_like(&id).len(),
        3,
        "template and two clones stay after SIGKILL"
    );

    let clean = |args: &[&str]| crate::ledger::paraclone_clean(&project, args);
    let dry = clean(&["--dry-run"]);
    dry.assert_code(0);
    for name in databases_like(&id) {
        assert!(
            dry.stdout.contains(&name),
            "{name} not listed:\n{}",
            dry.stdout
        );
    }
    assert_eq!(databases_like(&id).len(), 3, "a dry run drops nothing");
    clean(&[]).assert_code(0);
    assert_eq!(databases_like(&id), Vec::<String>::new());
    assert_eq!(databases_like(stranger), [stranger]);
    mariadb(&format!("DROP DATABASE `{stranger}`"));
}

#[test]
fn clones_by_table_files_pass_the_suite_and_the_summary_says_how_clones_were_made() {
    for (strategy, cloned) in [
        ("files", "Cloned mysql: 56 tables by table files, 0 by rows"),
        ("rows", "Cloned mysql: 0 tables by table files, 56 by rows"),
    ] {
        let project = Project::example(&format!("[backends.mysql]\nstrategy = \"{strategy}\"\n"));
        let run = project.run(&["--db", "mysql", "--parallel", "8"]);
        run.assert_code(0);
        assert!(
            run.stdout
                .contains("8 clones made for 8 workers; 9 databases dropped")
                && run.stdout.contains(cloned),
            "strategy {strategy}:\n{}",
            run.stdout
        );
        assert!(run.tests_with("PASS").len() >= 60, "{}", run.stdout);
        let id = run.run_id();
        assert_eq!(
            databases_like(&id),
            Vec::<String>::new(),
            "run {id} left databases"
        );
    }
}

#[test]
fn an_unknown_strategy_is_a_config_error_naming_the_key_and_the_choices() {
    let project = Project::example("[backends.mysql]\nstrategy = \"fast\"\n");
    let run = project.run(&["--db", "mysql"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("backends.mysql.strategy")
            && run.stderr.contains("\"fast\"")
            && run.stderr.contains("\"files\"")
            && run.stderr.contains("paraclone.toml"),
        "{}",
        run.stderr
    );
}
