//! `cargo xtask`'s command line: help for every command, and a missing
//! Python environment under `CI=true` stopping `test` before anything runs.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args).env_remove("CI");
    cmd
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn every_command_prints_help_for_help() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["test", "--help"],
        &["test", "--db", "sqlite", "-h"],
        &["bench", "--help"],
        &["lint", "--help"],
        &["ci", "--help"],
    ] {
        let output = xtask(args).output().expect("xtask starts");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{args:?}:\n{}", text(&output));
        assert!(
            stdout.starts_with("usage: cargo xtask <command>"),
            "{args:?}:\n{}",
            text(&output)
        );
        assert!(stdout.contains("test [--db"), "{args:?}:\n{stdout}");
        assert!(stdout.contains("CI=true"), "{args:?}:\n{stdout}");
    }
}

#[test]
fn an_unknown_argument_is_still_refused() {
    let output = xtask(&["test", "--frobnicate"])
        .output()
        .expect("xtask starts");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("unknown argument \"--frobnicate\" for test"),
        "{}",
        text(&output)
    );
}

#[test]
fn without_the_python_environment_ci_stops_before_any_test_runs() {
    let output = xtask(&["test"])
        .env("CI", "true")
        .env("PYTHON", "/nonexistent/python3")
        .output()
        .expect("xtask starts");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains(
            "xtask: error: the Python environment failed (no /nonexistent/python3 on PATH"
        ),
        "{all}"
    );
    assert!(all.contains("under CI=true every suite must run"), "{all}");
    assert!(!all.contains("xtask: workspace tests"), "tests ran:\n{all}");
}
