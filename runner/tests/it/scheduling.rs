//! Cost-aware scheduling and the Rust adapter on generated crates: the
//! second run orders by the first run's durations (longest first, every
//! test its own unit), cargo gets the user's own flags (no rebuild of a
//! binary built with them), and a long build says how it goes.

use std::io::BufRead as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::{Project, Run};

/// A crate of its own (own workspace, own target directory) with one
/// integration-test binary holding `modules`, each a list of test sleeps
/// in milliseconds; `extra_manifest` goes into Cargo.toml, `build_rs`
/// becomes build.rs when given.
fn generated_crate(
    dir: &Path,
    modules: &[(&str, Vec<u64>)],
    extra_manifest: &str,
    build_rs: Option<&str>,
) {
    std::fs::create_dir_all(dir.join("tests")).expect("mkdir");
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"gen\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n{}\n[workspace]\n{extra_manifest}",
            if build_rs.is_some() { "build = \"build.rs\"\n" } else { "" }
        ),
    )
    .expect("manifest");
    std::fs::write(dir.join("src/lib.rs"), "").expect("lib");
    if let Some(script) = build_rs {
        std::fs::write(dir.join("build.rs"), script).expect("build.rs");
    }
    let mut source = String::new();
    for (module, sleeps) in modules {
        source.push_str(&format!("mod {module} {{\n"));
        for (i, ms) in sleeps.iter().enumerate() {
            source.push_str(&format!(
                "    #[test]\n    fn t{i}() {{ std::thread::sleep(std::time::Duration::from_millis({ms})); }}\n"
            ));
        }
        source.push_str("}\n");
    }
    std::fs::write(dir.join("tests/it.rs"), source).expect("tests");
}

fn project_for(crate_dir: &Path, tests_extra: &str) -> Project {
    Project::with_suite(
        &format!(
            r#"[run]
parallel = 2

[tests]
kind = "rust"
workspace = "{}"
{tests_extra}

"#,
            crate_dir.display()
        ),
        "gen",
    )
}

fn run_phase(run: &Run) -> f64 {
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Phases "))
        .unwrap_or_else(|| panic!("no Phases line:\n{}", run.stdout));
    let part = line
        .split('|')
        .find_map(|p| p.trim().strip_prefix("run "))
        .unwrap_or_else(|| panic!("no run phase: {line}"));
    part.trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or_else(|_| panic!("not seconds: {part}"))
}

#[test]
fn the_second_run_schedules_by_the_first_runs_durations_near_the_floor() {
    let crate_dir = tempfile::tempdir().expect("temp dir");
    let mut modules = vec![("slow", vec![1000; 8])];
    for m in ["a", "b", "c", "d", "e"] {
        modules.push((m, vec![50; 8]));
    }
    generated_crate(crate_dir.path(), &modules, "", None);
    let project = project_for(crate_dir.path(), "");
    let cargo_target = crate_dir.path().join("target");
    let run = |project: &Project| {
        Run::from(
            project
                .command(&[])
                .env("CARGO_TARGET_DIR", &cargo_target)
                .output()
                .expect("paraclone runs"),
        )
    };
    let first = run(&project);
    first.assert_code(0);
    assert_eq!(first.tests_with("PASS").len(), 48, "{}", first.stdout);
    let durations = project.dir.path().join("target/paraclone/durations");
    assert_eq!(
        std::fs::read_dir(&durations)
            .map(|d| d.count())
            .unwrap_or(0),
        1,
        "one durations file for the suite in {}",
        durations.display()
    );
    let second = run(&project);
    second.assert_code(0);
    // Floor: 8 × 1 s + 40 × 50 ms over 2 slots.
    let floor = (8.0 * 1.0 + 40.0 * 0.05) / 2.0;
    let took = run_phase(&second);
    assert!(
        took <= floor * 1.2,
        "run phase {took}s against a floor of {floor}s\n{}",
        second.stdout
    );
    // The slow tests went first, to both slots.
    let first_lines: Vec<&str> = second
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS ["))
        .take(4)
        .collect();
    assert!(
        first_lines.iter().all(|l| l.contains(" slow::")),
        "{first_lines:#?}"
    );
    let on = |w: &str| {
        second
            .stdout
            .lines()
            .filter(|l| l.contains(" slow::") && l.contains(&format!("] {w} ")))
            .count()
    };
    assert_eq!(on("w1") + on("w2"), 8);
    assert!(on("w1") >= 3 && on("w2") >= 3, "{}", second.stdout);
}

#[test]
fn cargo_args_reach_cargo_and_a_binary_built_with_them_is_not_built_again() {
    let crate_dir = tempfile::tempdir().expect("temp dir");
    generated_crate(crate_dir.path(), &[("m", vec![0, 0])], "", None);
    // A feature, off by default, that the tests need.
    let manifest = crate_dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        text.replace(
            "[workspace]",
            "[features]\ndefault = [\"noisy\"]\nnoisy = []\nx = []\n\n[workspace]",
        ),
    )
    .expect("manifest");
    std::fs::write(
        crate_dir.path().join("tests/it.rs"),
        "#[cfg(all(feature = \"x\", not(feature = \"noisy\")))]\nmod m {\n    #[test]\n    fn only_with_x_and_without_defaults() {}\n}\n",
    )
    .expect("tests");
    let cargo_target = crate_dir.path().join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = std::process::Command::new(&cargo)
        .args([
            "test",
            "--no-run",
            "--no-default-features",
            "--features",
            "x",
        ])
        .current_dir(crate_dir.path())
        .env("CARGO_TARGET_DIR", &cargo_target)
        .output()
        .expect("cargo runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let project = project_for(
        crate_dir.path(),
        r#"cargo_args = ["--no-default-features", "--features", "x"]
slow = "30s""#,
    );
    let run = Run::from(
        project
            .command(&[])
            .env("CARGO_TARGET_DIR", &cargo_target)
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .expect("paraclone runs"),
    );
    run.assert_code(0);
    assert_eq!(
        run.tests_with("PASS"),
        ["gen::it m::only_with_x_and_without_defaults".to_owned()].into(),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("Compiling gen") && !run.stderr.contains("Compiling gen"),
        "the test binary was built again:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    // The build's status lines are what paraclone parses for progress;
    // the binary itself came from the user's build.
    assert!(
        run.stdout.contains("gen::it"),
        "the summary names the binary: {}",
        run.stdout
    );
}

#[test]
fn a_long_build_without_a_terminal_says_how_it_goes_at_least_every_ten_seconds() {
    let crate_dir = tempfile::tempdir().expect("temp dir");
    // A build script that takes 25 s: the build is long, the crate small.
    generated_crate(
        crate_dir.path(),
        &[("m", vec![0])],
        "",
        Some("fn main() { std::thread::sleep(std::time::Duration::from_secs(25)); }\n"),
    );
    let project = project_for(crate_dir.path(), "");
    let mut child = project
        .command(&[])
        .env("CARGO_TARGET_DIR", crate_dir.path().join("target"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("paraclone starts");
    let started = Instant::now();
    let mut stamps = Vec::new();
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("a line");
        stamps.push(started.elapsed());
        lines.push(line);
    }
    assert!(
        child.wait().expect("paraclone ends").success(),
        "{lines:#?}"
    );
    let building: Vec<Duration> = stamps
        .iter()
        .zip(&lines)
        .filter(|(_, l)| l.trim_start().starts_with("Building tests:"))
        .map(|(s, _)| *s)
        .collect();
    assert!(building.len() >= 2, "{lines:#?}");
    // From the start of the run to the end of the build, no silence of
    // more than 10 s.
    let end_of_build = stamps
        .iter()
        .zip(&lines)
        .find(|(_, l)| l.trim_start().starts_with("Running "))
        .map(|(s, _)| *s)
        .expect("a Running line");
    let mut last = Duration::ZERO;
    for (stamp, line) in stamps.iter().zip(&lines) {
        if *stamp > end_of_build {
            break;
        }
        assert!(
            stamp.saturating_sub(last) <= Duration::from_secs(10),
            "{}s of silence before {line:?}:\n{lines:#?}",
            stamp.saturating_sub(last).as_secs()
        );
        last = *stamp;
    }
}

#[test]
fn duration_shards_after_one_run_carry_even_shares_of_the_remembered_time() {
    // Uneven tests: 5 ms to 600 ms.
    let sleeps: Vec<u64> = vec![
        600, 450, 400, 300, 250, 200, 150, 120, 100, 80, 50, 30, 20, 10, 5,
    ];
    let ids: Vec<String> = (0..sleeps.len()).map(|i| format!("\"u::t{i}\"")).collect();
    let cases: String = sleeps
        .iter()
        .enumerate()
        .map(|(i, ms)| format!("  *::t{i}) sleep {} ;;\n", *ms as f64 / 1000.0))
        .collect();
    let project = Project::with_suite(
        &format!(
            r#"[run]
parallel = 2

[tests]
kind = "command"
tests = [{}]
batch = 1
run = """
case {{tests}} in
{cases}esac
"""

"#,
            ids.join(", ")
        ),
        "uneven",
    );
    project.run(&[]).assert_code(0);
    let dir = project.dir.path().join("target/paraclone/durations");
    let file = std::fs::read_dir(&dir)
        .expect("a durations directory")
        .next()
        .expect("a durations file")
        .expect("entry")
        .path();
    let remembered: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let seconds = |id: &str| {
        remembered["tests"][id]["seconds"]
            .as_f64()
            .expect("remembered")
    };
    let mut shares = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for k in 1..=3 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .args(["list", "--config"])
            .arg(project.config())
            .args([
                "--format",
                "json",
                "--partition",
                &format!("duration:{k}/3"),
            ])
            .output()
            .expect("paraclone list runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let mut share = 0.0;
        for group in doc["groups"].as_array().expect("groups") {
            for test in group.as_array().expect("a group") {
                let id = test["id"].as_str().expect("id").to_owned();
                share += seconds(&id);
                assert!(seen.insert(id), "a test in two shards");
            }
        }
        shares.push(share);
    }
    assert_eq!(seen.len(), sleeps.len(), "the shards make the whole suite");
    let (min, max) = (
        shares.iter().copied().fold(f64::MAX, f64::min),
        shares.iter().copied().fold(0.0, f64::max),
    );
    assert!(
        max <= min * 1.2,
        "shares of the remembered time: {shares:?}"
    );
}

#[test]
fn durations_from_an_earlier_junit_report_balance_the_shards_of_a_fresh_checkout() {
    let report = tempfile::tempdir().expect("temp dir");
    let junit = report.path().join("junit.xml");
    // The shop example's tests, three of them long in the report.
    let project = Project::example("");
    let first = project.run(&[
        "--parallel",
        "2",
        "customers::",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    first.assert_code(0);
    let xml = std::fs::read_to_string(&junit).expect("the report");
    assert!(xml.contains("<testcase"), "{xml}");
    // A fresh checkout: nothing remembered, the report given.
    let fresh = Project::example("");
    let list = |k: u32, from: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraclone"))
            .args(["list", "--config"])
            .arg(fresh.config())
            .args([
                "--format",
                "json",
                "--partition",
                &format!("duration:{k}/2"),
                "customers::",
            ])
            .arg("--durations-from")
            .arg(from)
            .output()
            .expect("paraclone list runs")
    };
    let mut total = 0;
    for k in 1..=2 {
        let out = list(k, &junit);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        total += doc["groups"].as_array().expect("groups").len();
    }
    assert_eq!(total, first.tests_with("PASS").len());
    let out = list(1, &report.path().join("missing.xml"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--durations-from"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
