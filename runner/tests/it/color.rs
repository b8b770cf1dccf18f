//! `--color` on `paraclone test` and `paraclone clean`: `always` colours
//! even a pipe (and outranks `NO_COLOR`), `never` and `auto` into a pipe do
//! not.

use std::process::Command;

use crate::{Project, Run};

fn one_passing_test() -> Project {
    let migrations = crate::workspace_root().join("examples/shop/migrations/sqlite");
    Project::with_config(&format!(
        r#"[run]
parallel = 1
[tests]
kind = "command"
tests = ["a::one"]
run = "true {{tests}}"
[databases.default]
name = "color"
migrations = "{}"
[backends.sqlite]
dir = "dbs"
"#,
        migrations.display()
    ))
}

const GREEN_PASS: &str = "\x1b[1;32m        PASS\x1b[0m [";

#[test]
fn test_colours_with_always_only() {
    let project = one_passing_test();
    let always = project.run(&["--color", "always"]);
    always.assert_code(0);
    assert!(always.stdout.contains(GREEN_PASS), "{:?}", always.stdout);
    assert!(
        always.stdout.contains("\x1b[1;32m     Summary\x1b[0m"),
        "{:?}",
        always.stdout
    );

    let no_color = Run::from(
        project
            .command(&["--color", "always"])
            .env("NO_COLOR", "1")
            .output()
            .expect("paraclone runs"),
    );
    assert!(
        no_color.stdout.contains(GREEN_PASS),
        "--color always outranks NO_COLOR: {:?}",
        no_color.stdout
    );

    for args in [&["--color", "never"][..], &["--color", "auto"], &[]] {
        let run = project.run(args);
        run.assert_code(0);
        assert!(
            run.stdout.contains("        PASS ["),
            "{args:?}: {}",
            run.stdout
        );
        assert!(!run.stdout.contains('\x1b'), "{args:?}: {:?}", run.stdout);
    }
    let bad = project.run(&["--color", "sometimes"]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("--color"), "{}", bad.stderr);
}

#[test]
fn clean_takes_color_too() {
    let project = one_passing_test();
    let clean = |color: &str| {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_paraclone"))
                .args(["clean", "--color", color, "--config"])
                .arg(project.config())
                .output()
                .expect("paraclone runs"),
        )
    };
    let always = clean("always");
    always.assert_code(0);
    assert!(
        always
            .stdout
            .starts_with("\x1b[1;32m       Clean\x1b[0m no database"),
        "{:?}",
        always.stdout
    );
    let never = clean("never");
    never.assert_code(0);
    assert!(
        never.stdout.starts_with("       Clean no database"),
        "{:?}",
        never.stdout
    );
}
