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

#[test]
fn a_negative_parallel_is_refused_as_a_count_not_taken_for_a_filter() {
    let project = Project::example("");
    for args in [["--parallel", "-3"], ["-j", "-3"]] {
        let run = project.run(&args);
        run.assert_code(2);
        assert!(
            run.stderr.contains(
                "invalid value '-3' for '--parallel <N|auto>': expected a positive number or \"auto\", got \"-3\""
            ),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("-- -3"), "{}", run.stderr);
        // Refused before anything was built or made.
        assert!(!run.stdout.contains("Starting run"), "{}", run.stdout);
    }
    assert_eq!(project.database_files(), Vec::<String>::new());
}

#[test]
fn a_zero_timeout_is_refused_on_the_command_line_and_in_the_config() {
    let project = Project::example("");
    let run = project.run(&["--timeout", "0s"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            "invalid value '0s' for '--timeout <DURATION>': \"0s\" would time out every test"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("Starting run"), "{}", run.stdout);

    let project =
        Project::with_config("[tests]\nkind = \"rust\"\ntimeout = \"0s\"\n[databases.default]\n");
    let run = project.run(&[]);
    run.assert_code(2);
    let expected = format!(
        "error: {}:3:11: tests.timeout: \"0s\" would time out every test",
        project.config().display()
    );
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
}

#[test]
fn reference_and_duplicate_errors_point_at_the_key() {
    let cases = [
        (
            "[databases.a]\ndepends = [\"b\"]\n[databases.b]\ndepends = [\"a\"]\n",
            "4:12: databases.a.depends: circular dependency: a -> b -> a",
        ),
        (
            "[databases.a]\n[databases.b]\nmirror = \"nope\"\n",
            "5:10: databases.b.mirror: \"nope\" is not a database alias (known: a, b)",
        ),
        (
            "[databases.a]\ndepends = [\"gone\"]\n",
            "4:12: databases.a.depends: \"gone\" is not a database alias (known: a)",
        ),
        (
            "[databases.a]\nname = \"x\"\nname = \"y\"\n",
            "5:1: duplicate key `databases.a.name`: first defined on line 4",
        ),
    ];
    for (databases, expected) in cases {
        let project = Project::with_config(&format!("[tests]\nkind = \"rust\"\n{databases}"));
        let run = project.run(&[]);
        run.assert_code(2);
        let expected = format!("error: {}:{expected}", project.config().display());
        assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
    }
}

/// A command suite whose one test writes what its worker got in
/// `DATABASE_URL` and `SHOP_FILE` to `seen-<worker>`.
pub(crate) fn env_probe(env: &str) -> Project {
    Project::with_config(&format!(
        r#"[tests]
kind = "command"
tests = ["probe::env"]
run = "printf '%s|%s' \"$DATABASE_URL\" \"$SHOP_FILE\" > seen-$PARACLONE_WORKER; true {{tests}}"

[databases.default]
name = "probe"

[backends.sqlite]
dir = "dbs"
{env}"#
    ))
}

#[test]
fn an_env_placeholder_the_backend_lacks_is_refused_before_anything_is_made() {
    let project = env_probe(
        "[databases.default.env]\nSHOP_FILE = \"{path}\"\nDATABASE_URL = \"postgres://{user}@{host}/{name}\"\n",
    );
    let run = project.run(&["--parallel", "1"]);
    run.assert_code(2);
    let expected = format!(
        "error: {}:13:16: databases.default.env.DATABASE_URL: {{host}} has no value on the sqlite backend (it has {{url}} {{name}} {{path}} {{worker}}); to set DATABASE_URL on some backends only, put it in [databases.default.env.<backend>], e.g. [databases.default.env.postgres]",
        project.config().display()
    );
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
    assert!(!run.stdout.contains("Starting run"), "{}", run.stdout);
    assert_eq!(project.database_files(), Vec::<String>::new());
    assert!(!project.dir.path().join("target/paraclone/ledger").exists());
}

#[test]
fn a_backend_env_table_sets_database_url_on_its_backend_only() {
    // dj-database-url and django-environ read an absolute SQLite path with
    // four slashes: the override gives them that form.
    let project = env_probe(
        "[databases.default.env]\nSHOP_FILE = \"none\"\n[databases.default.env.sqlite]\nDATABASE_URL = \"sqlite:///{path}\"\nSHOP_FILE = \"{path}\"\n[databases.default.env.postgres]\nSHOP_FILE = \"{host}\"\n",
    );
    let run = project.run(&["--parallel", "1"]);
    run.assert_code(0);
    let seen = std::fs::read_to_string(project.dir.path().join("seen-1")).expect("the test ran");
    let (url, file) = seen.split_once('|').expect("two values");
    let dbs = project.dir.path().join("dbs");
    let clone = format!("{}/probe_pc{}_w1.sqlite3", dbs.display(), run.run_id());
    assert_eq!(url, format!("sqlite:///{clone}"));
    assert!(url.starts_with("sqlite:////"), "{url}");
    assert_eq!(file, clone);
}

#[test]
fn python_in_a_setup_command_is_the_suites_interpreter() {
    let project = Project::with_config("");
    // A stand-in interpreter at a path with a space: it records the setup
    // call and plays pytest for listing and running.
    let bin = project.dir.path().join("my venv/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let python = bin.join("python");
    std::fs::write(
        &python,
        r#"#!/bin/sh
if [ "$PARACLONE_PHASE" = setup ]; then
    echo "$*|$DATABASE_URL" >> "$(dirname "$0")/setup-calls"
    exit 0
fi
case "$*" in
    *--collect-only*) echo "test_fake.py::test_one" ;;
    *--junitxml=*)
        for a do case "$a" in --junitxml=*) junit="${a#--junitxml=}" ;; esac; done
        echo '<testsuite><testcase classname="test_fake" name="test_one" file="test_fake.py" time="0"/></testsuite>' > "$junit" ;;
esac
"#,
    )
    .expect("write");
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    std::fs::write(
        project.config(),
        format!(
            "[tests]\nkind = \"pytest\"\npython = \"{}\"\n[databases.default]\nname = \"py\"\nsetup = \"{{python}} seed.py --flag\"\n[backends.sqlite]\ndir = \"dbs\"\n",
            python.display()
        ),
    )
    .expect("write config");
    let run = project.run(&["--parallel", "1"]);
    assert!(!run.stderr.contains("setup command"), "{}", run.stderr);
    let calls = std::fs::read_to_string(bin.join("setup-calls")).unwrap_or_else(|_| {
        panic!(
            "the setup did not run the suite's python\n{}\n{}",
            run.stdout, run.stderr
        )
    });
    let (args, url) = calls.trim_end().split_once('|').expect("args|url");
    assert_eq!(args, "seed.py --flag");
    assert!(url.ends_with("_tpl.sqlite3"), "{url}");
}
