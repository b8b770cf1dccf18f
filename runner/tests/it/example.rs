//! The example suite, run through paraclone on SQLite.

use crate::Project;

#[test]
fn four_workers_get_four_clones_and_nothing_is_left() {
    let project = Project::example("");
    let run = project.run(&["--parallel", "4"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("4 clones made for 4 workers; 5 databases dropped"),
        "{}",
        run.stdout
    );
    let phases = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Phases"))
        .expect("a Phases line");
    for phase in ["template ", "clone ", "run ", "teardown "] {
        assert!(phases.contains(phase), "{phases}");
    }
    let passed = run.tests_with("PASS");
    assert!(
        passed.len() >= 60,
        "only {} tests passed:\n{}",
        passed.len(),
        run.stdout
    );
    assert!(run.tests_with("FAIL").is_empty());
    assert_eq!(
        project.database_files(),
        Vec::<String>::new(),
        "database files left behind"
    );
}

#[test]
fn one_worker_and_four_workers_pass_the_same_tests() {
    let project = Project::example("");
    let one = project.run(&["--parallel", "1"]);
    one.assert_code(0);
    let four = project.run(&["--parallel", "4"]);
    four.assert_code(0);
    assert!(
        one.stdout.contains("1 clone made for 1 worker;"),
        "{}",
        one.stdout
    );
    assert_eq!(one.tests_with("PASS"), four.tests_with("PASS"));
    assert!(!one.tests_with("PASS").is_empty());
}

#[test]
fn sharing_one_database_shows_what_isolation_prevents() {
    let project = Project::example("");
    // The same tests, at the same time, once on one shared database and
    // once each on its own clone.
    let shared = project.run(&["--parallel", "4", "--share-database", "overlap::"]);
    shared.assert_code(1);
    assert!(
        shared
            .stdout
            .contains("no clones: every worker shared the template"),
        "{}",
        shared.stdout
    );
    assert!(!shared.tests_with("FAIL").is_empty());
    let isolated = project.run(&["--parallel", "4", "overlap::"]);
    isolated.assert_code(0);
    assert_eq!(
        isolated.tests_with("PASS").len(),
        shared.tests_with("PASS").len() + shared.tests_with("FAIL").len()
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_failing_test_fails_the_run_shows_its_output_once_and_clones_are_dropped() {
    let project = Project::example("");
    let run = Run::from(
        project
            .command(&["--parallel", "2", "demo::"])
            .env("SHOP_DEMO", "fail")
            .output()
            .expect("runs"),
    );
    run.assert_code(1);
    let failed = run.tests_with("FAIL");
    assert_eq!(failed.len(), 1, "{}", run.stdout);
    let test = failed.iter().next().expect("one");
    assert_eq!(
        run.stdout.matches(&format!(" output of {test} ")).count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout
            .matches("demo output: checking the order total")
            .count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Failed shop::it demo::"),
        "{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_crashing_test_is_reported_and_the_run_goes_on() {
    let project = Project::example("");
    let run = Run::from(
        project
            .command(&["--parallel", "2", "demo::"])
            .env("SHOP_DEMO", "abort")
            .output()
            .expect("runs"),
    );
    run.assert_code(1);
    assert!(run.stdout.contains("(killed by SIGABRT)"), "{}", run.stdout);
    assert!(
        !run.tests_with("PASS").is_empty(),
        "the other demo tests still ran:\n{}",
        run.stdout
    );
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn ram_target_and_in_memory_workers_run_the_suite() {
    let project = Project::example("target = \"ram\"\nin_memory = true\n");
    let run = project.run(&["--parallel", "2", "orders::"]);
    run.assert_code(0);
    let dir = run
        .stdout
        .split("files in ")
        .nth(1)
        .and_then(|rest| rest.split(" (RAM)").next())
        .unwrap_or_else(|| panic!("no RAM directory named:\n{}", run.stdout));
    assert!(!run.tests_with("PASS").is_empty());
    // Nothing is left in the RAM directory; the directory itself (one per
    // project, reused by its runs) goes with this temporary project.
    let left: Vec<_> = std::fs::read_dir(dir).expect("the RAM directory").collect();
    assert!(left.is_empty(), "files left in {dir}: {left:?}");
    std::fs::remove_dir(dir).expect("remove the empty RAM directory");
}

use crate::Run;

#[test]
fn a_segfaulting_test_is_reported_and_its_slot_gets_fresh_clones() {
    let project = Project::example("");
    let run = Run::from(
        project
            .command(&["--parallel", "1", "demo::"])
            .env("SHOP_DEMO", "segfault")
            .output()
            .expect("runs"),
    );
    run.assert_code(1);
    assert!(
        run.stdout.contains("CRASH [")
            && run
                .stdout
                .contains("demo::segfault_on_request (killed by SIGSEGV)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("demo output: a child sends this process SIGSEGV"),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("PASS").len(), 3, "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
}

fn order_of(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS ["))
        .map(|l| l.rsplit(' ').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn shuffle_with_a_seed_repeats_its_order_and_reverse_reverses() {
    let project = Project::example("");
    // First, while no durations are remembered: the listed order (later
    // runs order by what this one measured, longest first).
    let listed = project.run(&["--parallel", "1", "customers::", "products::"]);
    let a = project.run(&[
        "--parallel",
        "1",
        "--shuffle",
        "1234",
        "customers::",
        "products::",
    ]);
    let b = project.run(&[
        "--parallel",
        "1",
        "--shuffle",
        "1234",
        "customers::",
        "products::",
    ]);
    let reversed = project.run(&["--parallel", "1", "--reverse", "customers::", "products::"]);
    for run in [&a, &b, &listed, &reversed] {
        run.assert_code(0);
    }
    assert_eq!(
        a.stdout
            .matches("Shuffled seed 1234 (--shuffle 1234 repeats this order)")
            .count(),
        2,
        "{}",
        a.stdout
    );
    assert_eq!(order_of(&a), order_of(&b));
    assert_ne!(order_of(&a), order_of(&listed));
    let mut expected = order_of(&listed);
    expected.reverse();
    assert_eq!(order_of(&reversed), expected);
    assert!(order_of(&listed).len() > 20);
}
