//! No more slots than groups of tests: `--parallel 300` makes as many
//! clones as there are groups, one selected test makes one, and the
//! summary says why.

use crate::Project;

fn clones_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Databases "))
        .unwrap_or_else(|| panic!("no Databases line:\n{stdout}"))
}

fn check(backend: &[&str]) {
    let project = Project::example("");
    let mut args = backend.to_vec();
    // Every test is a unit of its own: the customers' tests make a few.
    args.extend(["--parallel", "300", "customers::"]);
    let run = project.run(&args);
    run.assert_code(0);
    let line = clones_line(&run.stdout);
    let groups: usize = run
        .stdout
        .lines()
        .find_map(|l| {
            l.split(" in ")
                .nth(1)?
                .strip_suffix(" groups")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no group count:\n{}", run.stdout));
    assert!(groups < 300, "{}", run.stdout);
    assert!(
        line.contains(&format!(
            "{groups} clones made for {groups} workers (300 asked for"
        )),
        "{line}"
    );

    let mut args = backend.to_vec();
    args.extend([
        "--parallel",
        "4",
        "schema::categories_are_seeded_by_the_migrations",
    ]);
    let run = project.run(&args);
    run.assert_code(0);
    let line = clones_line(&run.stdout);
    assert!(
        line.contains("1 clone made for 1 worker (4 asked for"),
        "{line}"
    );
}

#[test]
fn on_sqlite_slots_are_capped_by_the_groups() {
    check(&[]);
}

#[cfg(feature = "postgres")]
#[test]
fn on_postgres_slots_are_capped_by_the_groups() {
    check(&["--db", "postgres"]);
}
