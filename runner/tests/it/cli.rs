//! Bad input: one clear message, exit code 2, nothing created.

use crate::Project;

#[test]
fn unknown_key_names_file_line_and_key() {
    let project = Project::with_config(
        "[tests]\nkind = \"rust\"\n\n[databases.default]\nmigratoins = \"m\"\n",
    );
    let run = project.run(&[]);
    run.assert_code(2);
    let expected = format!(
        "error: {}:5:1: unknown field `migratoins`",
        project.config().display()
    );
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
    assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.stderr);
}

#[test]
fn wrong_type_names_file_line_and_key() {
    let project = Project::with_config(
        "[run]\nparallel = [1]\n[tests]\nkind = \"rust\"\n[databases.default]\n",
    );
    let run = project.run(&[]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("paraclone.toml:2:12: run.parallel: expected a positive number"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_migrations_directory_is_named_and_nothing_is_created() {
    let project = Project::example("");
    let config = std::fs::read_to_string(project.config()).expect("config");
    let config = config.replace(
        "examples/shop/migrations/{backend}",
        "examples/shop/no-such-dir",
    );
    std::fs::write(project.config(), config).expect("write");
    let run = project.run(&[]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("paraclone.toml:12:14: databases.default.migrations: cannot read directory"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no-such-dir"), "{}", run.stderr);
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_backend_not_compiled_in_is_a_clear_error() {
    // This test binary is built with the same features as the paraclone it
    // runs: every known backend either is compiled in or gets the error.
    let compiled = runner::compiled_backends();
    for backend in runner::config::KNOWN_BACKENDS {
        let project = Project::example("");
        let run = project.run(&["--db", backend, "--parallel", "1", "no-such-test"]);
        if compiled.contains(backend) {
            assert!(
                !run.stderr.contains("not compiled into this build"),
                "{}",
                run.stderr
            );
            continue;
        }
        run.assert_code(2);
        let expected = format!(
            "error: --db {backend}: the {backend} backend is not compiled into this build (compiled in: {})",
            compiled.join(", ")
        );
        assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("--features {backend}")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn an_unknown_backend_lists_the_known_ones() {
    let project = Project::example("");
    let run = project.run(&["--db", "mongo"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("known: sqlite, postgres, mysql, oracle"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_config_says_how_to_give_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
        .arg("test")
        .current_dir(dir.path())
        .env_remove("PARACLONE_CONFIG")
        .output()
        .expect("runs");
    let run = crate::Run::from(out);
    run.assert_code(2);
    assert!(
        run.stderr.contains("no paraclone.toml in"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--config PATH"), "{}", run.stderr);
}

#[test]
fn bad_parallel_value_is_rejected() {
    let project = Project::example("");
    let run = project.run(&["--parallel", "zero"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("expected a positive number or \"auto\""),
        "{}",
        run.stderr
    );
}
