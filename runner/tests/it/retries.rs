//! `--retries`: a failed test runs again on fresh clones; a pass then is
//! FLAKY, which `--flaky-fails` makes a failure of the run.

use crate::{Project, Run};

/// A command suite (a process per test) whose `flaky` test fails on its
/// first run only and notes each run's `DATABASE_URL`.
fn flaky_project(extra: &str) -> Project {
    Project::with_suite(
        &format!(
            r#"[run]
parallel = 1

[tests]
kind = "command"
tests = ["t::steady", "t::flaky", "t::broken"]
batch = 1
{extra}
run = """
echo "$DATABASE_URL" >> urls
case {{tests}} in
  *flaky*) if [ -e marker ]; then exit 0; else touch marker; echo first run fails; exit 1; fi ;;
  *broken*) echo always; exit 3 ;;
esac
"""

"#
        ),
        "flaky",
    )
}

fn cwd_run(project: &Project, args: &[&str]) -> Run {
    Run::from(
        project
            .command(args)
            .current_dir(project.dir.path())
            .output()
            .expect("paraclone runs"),
    )
}

#[test]
fn a_test_failing_once_passes_on_a_retry_on_another_clone_and_is_flaky() {
    let project = flaky_project("cwd = \".\"");
    let run = cwd_run(&project, &["--retries", "1"]);
    // `broken` fails twice: the run fails.
    run.assert_code(1);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("FLAKY [") && l.contains("suite t::flaky")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("RETRY") && run.stdout.contains("first run fails"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.tests_with("FAIL"),
        ["suite t::broken".to_owned()].into(),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 flaky"), "{}", run.stdout);
    // steady, flaky, broken, flaky again, broken again: each retry on a
    // clone of its own.
    let urls: Vec<String> = std::fs::read_to_string(project.dir.path().join("urls"))
        .expect("urls")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(urls.len(), 5, "{urls:?}");
    assert_ne!(
        urls[1], urls[3],
        "the retry ran on the same clone: {urls:?}"
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn flaky_fails_makes_a_flaky_pass_fail_the_run_and_the_config_sets_retries() {
    let project = flaky_project("cwd = \".\"\nretries = 1");
    // Only the flaky one: it passes on its retry.
    let run = cwd_run(&project, &["t::flaky", "--flaky-fails"]);
    run.assert_code(1);
    assert!(run.stdout.contains("FLAKY ["), "{}", run.stdout);
    std::fs::remove_file(project.dir.path().join("marker")).expect("marker");
    let run = cwd_run(&project, &["t::flaky"]);
    run.assert_code(0);
    // Without retries, the first failure stands.
    std::fs::remove_file(project.dir.path().join("marker")).expect("marker");
    let run = cwd_run(&project, &["t::flaky", "--retries", "0"]);
    run.assert_code(1);
}
