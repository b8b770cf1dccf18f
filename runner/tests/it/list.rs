//! `paraclone list`: the tests a run would take, and nothing created.

use std::process::Command;

use serde_json::Value;

use crate::{Project, Run};

fn list(project: &Project, args: &[&str]) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .arg("list")
            .arg("--config")
            .arg(project.config())
            .args(args)
            .env_remove("PARACLONE_DB")
            .output()
            .expect("paraclone runs"),
    )
}

/// Files under the project's directory other than its config.
fn files_made(project: &Project) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![project.dir.path().to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path.clone());
            }
            if path.file_name().is_some_and(|n| n != "paraclone.toml") {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn the_shop_list_has_all_105_tests_in_groups_and_creates_nothing() {
    let project = Project::example("");
    let human = list(&project, &[]);
    human.assert_code(0);
    let tests: Vec<&str> = human
        .stdout
        .lines()
        .filter(|l| l.starts_with("    shop::it "))
        .collect();
    assert_eq!(tests.len(), 105, "{}", human.stdout);
    assert!(
        human.stdout.contains("105 tests from 1 binary"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.starts_with("group 1 shop::it ("))
    );

    let json = list(&project, &["--format", "json", "orders::"]);
    json.assert_code(0);
    let doc: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(doc["format_version"], 1);
    let listed: usize = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_array().unwrap().len())
        .sum();
    assert_eq!(doc["selected"].as_u64(), Some(listed as u64));
    assert_eq!(listed + doc["filtered_out"].as_u64().unwrap() as usize, 105);
    // No template, no clone, no ledger: no file at all.
    assert_eq!(files_made(&project), Vec::<String>::new());
}

#[test]
fn list_shards_are_disjoint_and_cover_the_suite() {
    let project = Project::example("");
    let mut all = std::collections::BTreeSet::new();
    for shard in 1..=3 {
        let run = list(
            &project,
            &[
                "--format",
                "json",
                "--partition",
                &format!("slice:{shard}/3"),
            ],
        );
        run.assert_code(0);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["selected"].as_u64(), Some(35));
        for group in doc["groups"].as_array().unwrap() {
            for test in group.as_array().unwrap() {
                assert!(
                    all.insert(test["id"].as_str().unwrap().to_owned()),
                    "{test}"
                );
            }
        }
    }
    assert_eq!(all.len(), 105);
    let bad = list(&project, &["--partition", "hash:4/3"]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("counts from 1 to N"), "{}", bad.stderr);
}

#[cfg(feature = "postgres")]
#[test]
fn listing_on_postgres_creates_no_database_on_the_server() {
    let databases = || {
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-Atc",
                "SELECT datname FROM pg_database ORDER BY 1",
            ])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let project = Project::example("");
    let before = databases();
    let run = list(&project, &["--db", "postgres"]);
    run.assert_code(0);
    assert!(run.stdout.contains("105 tests"), "{}", run.stdout);
    assert_eq!(databases(), before);
    assert_eq!(files_made(&project), Vec::<String>::new());
}
