//! The command adapter: any tool, per-test results from its JUnit report.

use crate::{Project, Run};

/// A fake test tool: for each id it is given, it reads a row count from the
/// worker's SQLite clone with python3's sqlite3 (so each test really uses
/// its worker's database) and writes a JUnit case; ids ending in `fail`
/// fail, `crash` kills the tool.
const TOOL: &str = r#"#!/bin/sh
junit=$1; shift
echo "tool running $# tests on worker $PARACLONE_WORKER of $PARACLONE_WORKERS"
printf '<testsuites><testsuite>' > "$junit"
for id in "$@"; do
  count=$(python3 -c 'import os,sqlite3; p=os.environ["SHOP_DB_PATH"]; print(sqlite3.connect(p).execute("select count(*) from categories").fetchone()[0])')
  echo "$id sees $count categories"
  case "$id" in
    *crash) kill -9 $$ ;;
    *fail) echo "FAILED $id: expected 6 categories, got $count"
           printf '<testcase classname="x" name="%s" time="0.01"><failure message="expected 6 categories, got %s">trace of %s</failure></testcase>' "$id" "$count" "$id" >> "$junit" ;;
    *) printf '<testcase classname="x" name="%s" time="0.01"/>' "$id" >> "$junit" ;;
  esac
done
printf '</testsuite></testsuites>' >> "$junit"
"#;

fn project(tests: &[&str]) -> Project {
    let list: Vec<String> = tests.iter().map(|t| format!("{t:?}")).collect();
    let root = crate::workspace_root();
    let project = Project::with_config(&format!(
        r#"[run]
parallel = 2
[tests]
kind = "command"
tests = [{}]
run = "sh tool.sh {{junit}} {{tests}}"
group_separator = "::"
batch = 2
[databases.default]
name = "cmd"
migrations = "{}"
[databases.default.env]
SHOP_DB_PATH = "{{path}}"
[backends.sqlite]
dir = "dbs"
"#,
        list.join(", "),
        root.join("examples/shop/migrations/sqlite").display()
    ));
    std::fs::write(project.dir.path().join("tool.sh"), TOOL).expect("write tool");
    project
}

#[test]
fn per_test_results_come_from_the_junit_report() {
    let project = project(&["a::one", "a::two", "a::three_fail", "b::four"]);
    let run = project.run(&[]);
    run.assert_code(1);
    assert_eq!(run.tests_with("PASS").len(), 3, "{}", run.stdout);
    assert_eq!(
        run.tests_with("FAIL").into_iter().collect::<Vec<_>>(),
        ["suite a::three_fail"]
    );
    // The tool's whole output, with its own report of the failure, once.
    assert_eq!(
        run.stdout
            .matches("FAILED a::three_fail: expected 6 categories, got 5")
            .count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("got fresh clones"),
        "a reported failure is no crash:\n{}",
        run.stdout
    );
    assert_eq!(
        run.stdout
            .matches("a::three_fail sees 5 categories")
            .count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 clones made for 2 workers"),
        "{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_crashing_tool_fails_the_tests_it_had_not_reported() {
    let project = project(&["a::one", "a::two_crash", "b::three"]);
    let run = project.run(&["--parallel", "1"]);
    run.assert_code(1);
    assert!(run.stdout.contains("CRASH"), "{}", run.stdout);
    assert!(
        run.stdout.contains("w1 got fresh clones after suite a::"),
        "{}",
        run.stdout
    );
    assert!(
        run.tests_with("PASS").contains("suite b::three"),
        "{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_run_command_without_the_tests_placeholder_is_refused_with_its_line() {
    let project = Project::with_config(
        "[tests]\nkind = \"command\"\ntests = [\"a\"]\nrun = \"pytest\"\n[databases.default]\n",
    );
    let run = project.run(&[]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("paraclone.toml:4:7: tests.run: must contain {tests}"),
        "{}",
        run.stderr
    );
}

#[test]
fn filters_select_command_tests_too() {
    let project = project(&["a::one", "a::two", "b::three"]);
    let run = project.run(&["b::"]);
    run.assert_code(0);
    assert_eq!(
        run.tests_with("PASS").into_iter().collect::<Vec<_>>(),
        ["suite b::three"]
    );
    assert!(run.stdout.contains("2 filtered out"), "{}", run.stdout);
}

#[allow(dead_code)]
fn _uses(_: Run) {}
