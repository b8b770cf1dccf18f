//! Processes a test leaves behind: one that left the test's process group
//! (`setsid`) and holds its output open is reported as a `LEAK` and killed
//! after a short grace, instead of stretching the test; one that closed
//! its output is killed when the run phase ends. Nothing survives the run.

use std::time::{Duration, Instant};

use crate::Project;

/// A `sleep` no other process on the machine runs, to look for afterwards.
fn marker() -> String {
    format!("{}", 3000 + std::process::id() % 5000)
}

fn alive(marker: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn a_setsid_grandchild_is_reported_as_a_leak_killed_and_does_not_stretch_the_test() {
    let marker = marker();
    let project = Project::with_suite(
        &format!(
            r#"[run]
parallel = 1

[tests]
kind = "command"
tests = ["leak::holds_output", "leak::quiet", "leak::plain"]
batch = 1
run = """
case {{tests}} in
  *holds_output*) setsid sleep {marker} & ;;
  *quiet*) setsid sh -c 'exec sleep {marker}' >/dev/null 2>&1 < /dev/null & ;;
esac
# Long enough for the background process to have left the group.
sleep 0.3
echo ran {{tests}}
"""

"#
        ),
        "leaks",
    );
    let started = Instant::now();
    let run = project.run(&[]);
    let took = started.elapsed();
    run.assert_code(0);
    assert!(
        took < Duration::from_secs(20),
        "the leaked process stretched the run: {took:?}\n{}",
        run.stdout
    );
    let leak_lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("LEAK "))
        .collect();
    assert_eq!(leak_lines.len(), 1, "{}", run.stdout);
    assert!(
        leak_lines[0].contains("leak::holds_output") && leak_lines[0].contains("killed"),
        "{}",
        run.stdout
    );
    // The quiet one held nothing open: the end of the run phase found it.
    assert!(
        run.stdout
            .contains("Leaked 1 process that tests left running, killed"),
        "{}",
        run.stdout
    );
    assert_eq!(run.tests_with("PASS").len(), 3, "{}", run.stdout);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!alive(&marker), "a test's process survived the run");
}
