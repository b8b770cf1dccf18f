//! CI outputs: the JUnit report (validated against Jenkins' JUnit schema
//! with xmllint), the JSON event stream, partitions and Bazel's sharding
//! variables, `--keep-failed`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{Project, Run};

/// A test tool (run per test: `batch = 1`) whose tests pass, fail, crash,
/// hang, are skipped, or fail on their first run only (`flaky`, which
/// marks its first run in a file), writing a JUnit case for what it got
/// to report.
const TOOL: &str = r#"#!/bin/sh
junit=$1; shift
id=$1
printf '<testsuites><testsuite>' > "$junit"
echo "tool: $id on $DATABASE_URL"
case "$id" in
  *fail) echo "expected 6, got 5 <&>"
         printf '<testcase classname="x" name="%s" time="0.01"><failure message="expected 6">trace</failure></testcase>' "$id" >> "$junit" ;;
  *crash) kill -9 $$ ;;
  *hang) sleep 30 ;;
  *skip) printf '<testcase classname="x" name="%s" time="0"><skipped/></testcase>' "$id" >> "$junit" ;;
  *flaky) if [ ! -e flaky.mark ]; then : > flaky.mark; echo "first run fails"
            printf '<testcase classname="x" name="%s" time="0.01"><failure message="first run">trace</failure></testcase>' "$id" >> "$junit"
          else printf '<testcase classname="x" name="%s" time="0.01"/>' "$id" >> "$junit"; fi ;;
  *) printf '<testcase classname="x" name="%s" time="0.01"/>' "$id" >> "$junit" ;;
esac
printf '</testsuite></testsuites>' >> "$junit"
"#;

fn tool_project(tests: &[&str]) -> Project {
    let list: Vec<String> = tests.iter().map(|t| format!("{t:?}")).collect();
    let root = crate::workspace_root();
    let project = Project::with_config(&format!(
        r#"[run]
parallel = 2
[tests]
kind = "command"
tests = [{}]
run = "sh tool.sh {{junit}} {{tests}}"
batch = 1
[databases.default]
name = "ci"
migrations = "{}"
[backends.sqlite]
dir = "dbs"
"#,
        list.join(", "),
        root.join("examples/shop/migrations/sqlite").display()
    ));
    std::fs::write(project.dir.path().join("tool.sh"), TOOL).expect("write tool");
    project
}

/// Validates `xml` against the Jenkins JUnit schema with xmllint; fails
/// (never skips) when xmllint is missing.
fn assert_valid_junit(xml: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(xml)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint is needed to validate the JUnit report and could not run ({e}): \
                 install it (Debian: apt-get install libxml2-utils)"
            )
        });
    assert!(
        out.status.success(),
        "{} does not validate against the JUnit schema:\n{}\n{}",
        xml.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(xml).unwrap_or_default()
    );
}

/// The value of `name="…"` in the first element `<tag …>` of `xml`.
fn attribute(xml: &str, tag: &str, name: &str) -> usize {
    let start = xml.find(&format!("<{tag} ")).expect("the element");
    let element = &xml[start..start + xml[start..].find('>').expect("its end")];
    let key = format!(" {name}=\"");
    let at = element.find(&key).expect("the attribute") + key.len();
    element[at..at + element[at..].find('"').unwrap()]
        .parse()
        .expect("a count")
}

/// `(passed, failed, ignored)` from the summary line.
fn summary_counts(text: &str) -> (usize, usize, usize) {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Summary "))
        .unwrap_or_else(|| panic!("no summary:\n{text}"));
    let number_before = |what: &str| -> usize {
        let end = line
            .find(what)
            .unwrap_or_else(|| panic!("{what} in {line}"));
        line[..end]
            .trim_end()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (
        number_before(" passed"),
        number_before(" failed"),
        number_before(" ignored"),
    )
}

fn has_retries() -> bool {
    let help = Command::new(env!("CARGO_BIN_EXE_paraclone"))
        .args(["test", "--help"])
        .output()
        .expect("paraclone runs");
    String::from_utf8_lossy(&help.stdout).contains("--retries")
}

#[test]
fn the_junit_and_json_of_a_mixed_run_validate_and_agree_with_the_summary() {
    // `flaky` needs --retries, which this build may not have yet.
    let retries = has_retries();
    let mut tests = vec![
        "a::pass1", "a::pass2", "b::fail", "c::crash", "d::hang", "e::skip",
    ];
    if retries {
        tests.push("f::flaky");
    }
    let project = tool_project(&tests);
    let junit = project.dir.path().join("out/junit.xml");
    let mut args = vec![
        "--timeout",
        "2s",
        "--message-format",
        "json",
        "--junit",
        junit.to_str().unwrap(),
    ];
    if retries {
        args.extend(["--retries", "1"]);
    }
    let mut command = project.command(&args);
    command.current_dir(project.dir.path());
    let run = Run::from(command.output().expect("runs"));
    run.assert_code(1);
    // The human report is on stderr, the JSON lines alone on stdout.
    let (passed, failed, ignored) = summary_counts(&run.stderr);
    assert_eq!(
        (passed, failed, ignored),
        (2 + usize::from(retries), 3, 1),
        "{}",
        run.stderr
    );

    assert_valid_junit(&junit);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        attribute(&xml, "testsuites", "tests"),
        passed + failed + ignored
    );
    assert_eq!(
        attribute(&xml, "testsuites", "failures") + attribute(&xml, "testsuites", "errors"),
        failed
    );
    assert_eq!(attribute(&xml, "testsuite", "skipped"), ignored);
    for (case, kind) in [
        ("b::fail", "type=\"test failure\""),
        ("c::crash", "type=\"test abort\""),
        ("d::hang", "type=\"test timeout\""),
        ("e::skip", "<skipped/>"),
    ] {
        let at = xml.find(&format!("name=\"{case}\"")).expect(case);
        let end = at + xml[at..].find("</testcase>").expect("a whole case");
        assert!(xml[at..end].contains(kind), "{case}: {}", &xml[at..end]);
    }
    assert!(
        xml.contains("expected 6, got 5 &lt;&amp;&gt;"),
        "the failed test's output: {xml}"
    );
    if retries {
        assert!(xml.contains("<flakyFailure"), "{xml}");
    }

    // Every stdout line is one JSON event, versioned; they tell the same.
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert!(events.iter().all(|e| e["format_version"] == 1));
    assert_eq!(events[0]["event"], "run_started");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    let stats = &last["stats"];
    assert_eq!(
        (
            stats["passed"].as_u64(),
            stats["failed"].as_u64(),
            stats["ignored"].as_u64()
        ),
        (
            Some(passed as u64),
            Some(failed as u64),
            Some(ignored as u64)
        )
    );
    let finished: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "test_finished")
        .collect();
    let outcome_of = |name: &str| -> Vec<String> {
        finished
            .iter()
            .filter(|e| e["test"]["name"] == name)
            .map(|e| e["outcome"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(outcome_of("b::fail"), ["failed"]);
    assert_eq!(outcome_of("c::crash"), ["crashed"]);
    assert_eq!(outcome_of("d::hang"), ["timed_out"]);
    assert_eq!(outcome_of("e::skip"), ["skipped"]);
    assert_eq!(outcome_of("a::pass1"), ["passed"]);
    let started = events
        .iter()
        .filter(|e| e["event"] == "test_started")
        .count();
    // Every attempt starts; all but the last of a test end in `test_retry`.
    let retried: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "test_retry")
        .collect();
    assert_eq!(started, finished.len() + retried.len());
    if retries {
        assert_eq!(outcome_of("f::flaky"), ["passed"]);
        assert!(retried.iter().any(|e| e["test"]["name"] == "f::flaky"));
        assert_eq!(stats["flaky"].as_u64(), Some(1));
        assert!(run.stderr.contains("FLAKY"), "{}", run.stderr);
    }
    let created = events
        .iter()
        .filter(|e| e["event"] == "database_created")
        .count();
    let dropped = events
        .iter()
        .filter(|e| e["event"] == "database_dropped")
        .count();
    assert_eq!(created, dropped, "every database made is dropped");
    // The summary counts teardown's drops; crashed tests' old clones were
    // dropped before, when their slots got fresh ones.
    let replaced = events
        .iter()
        .filter(|e| e["event"] == "clones_replaced")
        .count();
    assert_eq!(stats["dropped"].as_u64(), Some((dropped - replaced) as u64));
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn the_junit_is_written_when_the_run_cannot_go_on() {
    // The clone cannot be made (no migrations applied to a bad template):
    // a run that stops with an error still leaves a (valid, empty) report.
    let project = Project::with_config(
        "[tests]\nkind = \"command\"\ntests = [\"a\"]\nrun = \"false {tests}\"\n\
         [databases.default]\nmigrations = \"nowhere\"\n",
    );
    let junit = project.dir.path().join("junit.xml");
    let run = project.run(&["--junit", junit.to_str().unwrap()]);
    run.assert_code(2);
    assert_valid_junit(&junit);
}

/// The tests a run reported passing, without the binary.
fn passed(run: &Run) -> BTreeSet<String> {
    run.tests_with("PASS")
}

#[test]
fn hash_shards_of_the_shop_suite_are_disjoint_and_make_the_whole_suite() {
    let project = Project::example("");
    let mut union = BTreeSet::new();
    let mut sizes = Vec::new();
    for shard in 1..=3 {
        let partition = format!("hash:{shard}/3");
        let run = project.run(&["--partition", &partition]);
        run.assert_code(0);
        assert!(
            run.stdout
                .contains(&format!("Partition shard {partition}: ")),
            "{}",
            run.stdout
        );
        let here = passed(&run);
        assert!(union.is_disjoint(&here), "shard {shard} overlaps");
        sizes.push(here.len());
        union.extend(here);
    }
    assert_eq!(union.len(), 105, "{sizes:?}");
    assert!(sizes.iter().all(|n| *n > 15), "{sizes:?}");
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn under_bazel_the_shard_and_the_junit_follow_its_variables() {
    let project = Project::example("");
    let status = project.dir.path().join("shard.status");
    let xml = project.dir.path().join("bazel/test.xml");
    let run = Run::from(
        project
            .command(&["orders::"])
            .env("TEST_TOTAL_SHARDS", "3")
            .env("TEST_SHARD_INDEX", "1")
            .env("TEST_SHARD_STATUS_FILE", &status)
            .env("XML_OUTPUT_FILE", &xml)
            .output()
            .expect("runs"),
    );
    run.assert_code(0);
    assert!(status.exists(), "the shard status file is touched");
    assert!(run.stdout.contains("shard hash:2/3"), "{}", run.stdout);
    let explicit = project.run(&["orders::", "--partition", "hash:2/3"]);
    explicit.assert_code(0);
    assert_eq!(passed(&run), passed(&explicit));
    assert!(!passed(&run).is_empty());
    assert_valid_junit(&xml);
    let report = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(
        attribute(&report, "testsuites", "tests"),
        passed(&run).len()
    );
}

#[test]
fn keep_failed_keeps_the_failed_tests_clone_until_clean() {
    let project = Project::example("");
    let run = Run::from(
        project
            .command(&["--keep-failed", "demo::"])
            .env("SHOP_DEMO", "fail")
            .output()
            .expect("runs"),
    );
    run.assert_code(1);
    let kept: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("Kept "))
        .collect();
    assert_eq!(kept.len(), 1, "{}", run.stdout);
    assert!(kept[0].contains("demo::failure_on_request"), "{}", kept[0]);
    assert!(
        run.stdout.contains("`paraclone clean` drops it"),
        "{}",
        run.stdout
    );
    let files = project.database_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(kept[0].contains(&files[0]), "{} / {files:?}", kept[0]);

    // The next run's sweep leaves it; clean drops it.
    project.run(&["demo::abort"]).assert_code(0);
    assert_eq!(project.database_files(), files);
    let clean = crate::ledger::paraclone_clean(&project, &[]);
    clean.assert_code(0);
    assert_eq!(
        project.database_files(),
        Vec::<String>::new(),
        "{}",
        clean.stdout
    );
}
