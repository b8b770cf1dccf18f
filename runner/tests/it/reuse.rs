//! Template reuse (`--reuse`): a kept template is reused while its
//! fingerprint matches, rebuilt when a migration or a fingerprinted
//! setting changes, never reused half-built, built once by two runs at
//! once, and dropped by `clean --templates` only.
//!
//! Every project copies the shop example's migrations (so a test can
//! change one) and has a setup command that takes a second, standing for
//! the migrations of a real project: the time reuse saves.

use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::ledger::paraclone_clean;
use crate::{Project, Run, workspace_root};

/// Lists the databases (or SQLite files) whose name contains a pattern.
pub(crate) type Lister = fn(&Project, &str) -> Vec<String>;

/// The shop example with its migrations copied into the project, a
/// one-second setup command, and `extra` appended to the config.
fn project(extra: &str) -> Project {
    let project = Project::example(extra);
    let source = workspace_root().join("examples/shop/migrations");
    for backend in ["sqlite", "postgres", "mysql"] {
        let to = project.dir.path().join("migrations").join(backend);
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(source.join(backend)).expect("migrations") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    let config = std::fs::read_to_string(project.config()).expect("config");
    let at = config.find("migrations = ").expect("a migrations line");
    let end = at + config[at..].find('\n').expect("end of line");
    let config = format!(
        "{}migrations = \"migrations/{{backend}}\"\nsetup = \"sleep 1\"{}",
        &config[..at],
        &config[end..]
    )
    .replace("name = \"shop\"", &format!("name = \"{}\"", base(&project)));
    std::fs::write(project.config(), config).expect("config");
    project
}

/// The project's base name: unique, so that its databases on a shared
/// server are told from every other test's.
fn base(project: &Project) -> String {
    let dir = project
        .dir
        .path()
        .file_name()
        .expect("name")
        .to_string_lossy();
    let tag: String = dir
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("reuse_{tag}")
}

/// Of `names`, those of this project's databases.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, reason = "used by the server backends' tests")
)]
fn ours(project: &Project, names: Vec<String>) -> Vec<String> {
    let prefix = format!("{}_", base(project));
    names
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

fn run(project: &Project, backend: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--db", backend, "--reuse", "customers::"];
    args.extend_from_slice(extra);
    let run = project.run(&args);
    run.assert_code(0);
    run
}

/// The template phase's seconds, from the summary's `Phases` line.
fn template_phase(run: &Run) -> f64 {
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Phases"))
        .unwrap_or_else(|| panic!("no Phases line:\n{}", run.stdout));
    let rest = &line[line.find("template ").expect("template phase") + "template ".len()..];
    let number = rest.split('s').next().expect("seconds");
    number
        .parse()
        .unwrap_or_else(|_| panic!("not seconds: {line}"))
}

fn template_line(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Template default:"))
        .unwrap_or_else(|| panic!("no Template line:\n{}", run.stdout))
        .trim()
        .to_owned()
}

fn kept(project: &Project, list: Lister) -> Vec<String> {
    list(project, "_pct")
}

fn records(project: &Project) -> Vec<String> {
    match std::fs::read_dir(project.dir.path().join("target/paraclone/templates")) {
        Ok(entries) => entries
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.ends_with(".json").then_some(name)
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The second run reuses what the first kept, in a fraction of the time;
/// `clean` keeps it, `clean --templates` drops it and its record.
pub(crate) fn second_run_reuses_and_clean_templates_drops(backend: &str, list: Lister) {
    let project = project("");
    let first = run(&project, backend, &[]);
    let line = template_line(&first);
    assert!(
        line.contains("kept for reuse (new)"),
        "{line}\n{}",
        first.stdout
    );
    let names = kept(&project, list);
    assert_eq!(names.len(), 1, "one kept template: {names:?}");
    let second = run(&project, backend, &[]);
    let line = template_line(&second);
    assert!(
        line.contains(&format!("reused {}", names[0])) && line.contains("(fingerprint "),
        "{line}"
    );
    let (t1, t2) = (template_phase(&first), template_phase(&second));
    println!("{backend}: template phase {t1:.3}s built, {t2:.3}s reused");
    assert!(t2 < t1 * 0.05, "reused in {t2}s, built in {t1}s");
    assert_eq!(kept(&project, list), names, "the same template, still kept");
    // Clones and the run's own names are gone, as without reuse.
    assert_eq!(list(&project, &second.run_id()), Vec::<String>::new());

    let plain = paraclone_clean(&project, &[]);
    plain.assert_code(0);
    assert_eq!(kept(&project, list), names, "clean keeps kept templates");
    let templates = paraclone_clean(&project, &["--templates"]);
    templates.assert_code(0);
    assert!(
        templates.stdout.contains(&names[0]),
        "clean --templates names what it dropped:\n{}",
        templates.stdout
    );
    assert_eq!(kept(&project, list), Vec::<String>::new());
    assert_eq!(records(&project), Vec::<String>::new());
    let after = run(&project, backend, &[]);
    assert!(template_line(&after).contains("kept for reuse (new)"));
    paraclone_clean(&project, &["--templates"]).assert_code(0);
}

/// One byte more in one migration: rebuilt under a new name, the file
/// named, the stale template dropped.
pub(crate) fn a_changed_migration_rebuilds(backend: &str, list: Lister) {
    let project = project("");
    run(&project, backend, &[]);
    let before = kept(&project, list);
    let migration = project
        .dir
        .path()
        .join(format!("migrations/{backend}/0005_coupons.sql"));
    let mut sql = std::fs::read(&migration).expect("migration");
    sql.push(b'\n');
    std::fs::write(&migration, sql).expect("migration");
    let second = run(&project, backend, &[]);
    let line = template_line(&second);
    assert!(
        line.contains(&format!(
            "kept for reuse (rebuilt: migrations/{backend}/0005_coupons.sql changed)"
        )),
        "{line}"
    );
    let after = kept(&project, list);
    assert_eq!(after.len(), 1, "the stale one is dropped: {after:?}");
    assert_ne!(after, before);
    assert!(
        second
            .stdout
            .contains(&format!("dropped the stale kept template {}", before[0]))
    );
    paraclone_clean(&project, &["--templates"]).assert_code(0);
    assert_eq!(kept(&project, list), Vec::<String>::new());
}

/// A fingerprinted backend setting changed: rebuilt, the setting named.
pub(crate) fn a_changed_setting_rebuilds(
    backend: &str,
    list: Lister,
    table: &str,
    key: &str,
    a: &str,
    b: &str,
) {
    // The example's config ends in its [backends.sqlite] table.
    let header = if table == "sqlite" {
        String::new()
    } else {
        format!("\n[backends.{table}]\n")
    };
    let project = project(&format!("{header}{key} = \"{a}\"\n"));
    run(&project, backend, &[]);
    let config = std::fs::read_to_string(project.config()).expect("config");
    let changed = config.replace(&format!("{key} = \"{a}\""), &format!("{key} = \"{b}\""));
    assert_ne!(config, changed);
    std::fs::write(project.config(), changed).expect("config");
    let second = run(&project, backend, &[]);
    let line = template_line(&second);
    assert!(
        line.contains(&format!(
            "rebuilt: setting [backends.{table}] {key} changed"
        )),
        "{line}"
    );
    let third = run(&project, backend, &[]);
    assert!(template_line(&third).contains("reused"), "{}", third.stdout);
    paraclone_clean(&project, &["--templates"]).assert_code(0);
    assert_eq!(kept(&project, list), Vec::<String>::new());
}

/// SIGKILL while the template is being built (after its migrations,
/// before its setup and seal): the next run does not reuse it.
pub(crate) fn a_run_killed_during_the_build_leaves_nothing_reused(backend: &str, list: Lister) {
    let project = project("");
    let pause = project.dir.path().join("paused");
    let mut child = project
        .command(&["--db", backend, "--reuse", "customers::"])
        .env("PARACLONE_PAUSE_AT", "template")
        .env("PARACLONE_PAUSE_FILE", &pause)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paraclone starts");
    let started = Instant::now();
    while !pause.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "never reached the build"
        );
        assert!(child.try_wait().expect("wait").is_none(), "paraclone ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("kill");
    child.wait().expect("reap");
    let half = kept(&project, list);
    assert_eq!(half.len(), 1, "the half-built template is there: {half:?}");
    assert_eq!(records(&project), Vec::<String>::new(), "but not recorded");
    let next = run(&project, backend, &[]);
    let line = template_line(&next);
    assert!(!line.contains("reused"), "{line}");
    assert!(line.contains("built in"), "{line}");
    assert_eq!(kept(&project, list).len(), 1);
    let again = run(&project, backend, &[]);
    assert!(template_line(&again).contains("reused"));
    paraclone_clean(&project, &["--templates"]).assert_code(0);
    assert_eq!(kept(&project, list), Vec::<String>::new());
}

/// Two runs started at once with one fingerprint: one builds, the other
/// waits and reuses.
pub(crate) fn two_runs_at_once_build_once(backend: &str, list: Lister) {
    let project = project("");
    let spawn = || {
        project
            .command(&["--db", backend, "--reuse", "customers::"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paraclone starts")
    };
    let (a, b) = (spawn(), spawn());
    let runs = [a, b].map(|c| Run::from(c.wait_with_output().expect("ends")));
    for r in &runs {
        r.assert_code(0);
    }
    let lines: Vec<String> = runs.iter().map(template_line).collect();
    let built = lines.iter().filter(|l| l.contains("built in")).count();
    let reused = lines.iter().filter(|l| l.contains("reused")).count();
    assert_eq!((built, reused), (1, 1), "{lines:#?}");
    assert_eq!(kept(&project, list).len(), 1);
    paraclone_clean(&project, &["--templates"]).assert_code(0);
    assert_eq!(kept(&project, list), Vec::<String>::new());
}

fn sqlite_files(project: &Project, pattern: &str) -> Vec<String> {
    let mut names: Vec<String> = project
        .database_files()
        .into_iter()
        .filter(|f| f.contains(pattern) && f.ends_with(".sqlite3"))
        .collect();
    names
        .iter_mut()
        .for_each(|n| *n = n.trim_end_matches(".sqlite3").to_owned());
    names.sort();
    names
}

#[test]
fn sqlite_second_run_reuses_and_clean_templates_drops() {
    second_run_reuses_and_clean_templates_drops("sqlite", sqlite_files);
}

#[test]
fn sqlite_a_changed_migration_rebuilds() {
    a_changed_migration_rebuilds("sqlite", sqlite_files);
}

#[test]
fn sqlite_a_changed_method_rebuilds() {
    a_changed_setting_rebuilds("sqlite", sqlite_files, "sqlite", "method", "copy", "backup");
}

#[test]
fn sqlite_a_run_killed_during_the_build_leaves_nothing_reused() {
    a_run_killed_during_the_build_leaves_nothing_reused("sqlite", sqlite_files);
}

#[test]
fn sqlite_two_runs_at_once_build_once() {
    two_runs_at_once_build_once("sqlite", sqlite_files);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    /// This project's databases on the server whose name holds `pattern`.
    fn databases(project: &Project, pattern: &str) -> Vec<String> {
        super::ours(project, crate::postgres::databases_like(pattern))
    }

    #[test]
    fn postgres_second_run_reuses_and_clean_templates_drops() {
        second_run_reuses_and_clean_templates_drops("postgres", databases);
    }

    #[test]
    fn postgres_a_changed_migration_rebuilds() {
        a_changed_migration_rebuilds("postgres", databases);
    }

    #[test]
    fn postgres_a_changed_strategy_rebuilds() {
        a_changed_setting_rebuilds(
            "postgres",
            databases,
            "postgres",
            "strategy",
            "file_copy",
            "wal_log",
        );
    }

    #[test]
    fn postgres_a_run_killed_during_the_build_leaves_nothing_reused() {
        a_run_killed_during_the_build_leaves_nothing_reused("postgres", databases);
    }

    #[test]
    fn postgres_two_runs_at_once_build_once() {
        two_runs_at_once_build_once("postgres", databases);
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;

    /// This project's databases on the server whose name holds `pattern`.
    fn databases(project: &Project, pattern: &str) -> Vec<String> {
        super::ours(project, crate::mysql::databases_like(pattern))
    }

    #[test]
    fn mysql_second_run_reuses_and_clean_templates_drops() {
        second_run_reuses_and_clean_templates_drops("mysql", databases);
    }

    #[test]
    fn mysql_a_changed_migration_rebuilds() {
        a_changed_migration_rebuilds("mysql", databases);
    }

    #[test]
    fn mysql_a_changed_strategy_rebuilds() {
        a_changed_setting_rebuilds("mysql", databases, "mysql", "strategy", "rows", "files");
    }

    #[test]
    fn mysql_a_run_killed_during_the_build_leaves_nothing_reused() {
        a_run_killed_during_the_build_leaves_nothing_reused("mysql", databases);
    }

    #[test]
    fn mysql_two_runs_at_once_build_once() {
        two_runs_at_once_build_once("mysql", databases);
    }
}
