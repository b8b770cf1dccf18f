//! Project automation, run as `cargo xtask <command>` (matklad's xtask
//! pattern): the exact commands CI runs, runnable by every developer.
//!
//! - `cargo xtask test [--db sqlite|all] [--parallel N]`: the workspace's
//!   own tests (with the chosen backends compiled in), then the example
//!   suites run through `paraclone` itself on each chosen backend. Without
//!   the Python environment (`ci/python-env.sh`) the tests that need it are
//!   named as not run and the rest runs; under `CI=true` that is an error.
//! - `cargo xtask bench [--db …] [--quick]`: the benchmarks (bench.rs).
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy -D warnings`.
//! - `cargo xtask ci`: lint, then `test --db all`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

/// The backends the project knows, and whether their cloner exists yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
    Mysql,
    Oracle,
}

impl Backend {
    const ALL: [Backend; 4] = [
        Backend::Sqlite,
        Backend::Postgres,
        Backend::Mysql,
        Backend::Oracle,
    ];

    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
            Backend::Oracle => "oracle",
        }
    }

    /// The crate implementing the backend, if it has been written.
    fn crate_name(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => Some("cloner-sqlite"),
            Backend::Postgres => Some("cloner-postgres"),
            Backend::Mysql => Some("cloner-mysql"),
            Backend::Oracle => Some("cloner-oracle"),
        }
    }

    fn parse(s: &str) -> Result<Vec<Backend>> {
        if s == "all" {
            // No Oracle server can run on our machines: `all` takes Oracle
            // only where one is given, and says so otherwise.
            let with_oracle = std::env::var_os(ORACLE_URL).is_some();
            if !with_oracle {
                println!(
                    "xtask: --db all: oracle left out, {ORACLE_URL} is not set (no Oracle server to test against)"
                );
            }
            return Ok(Backend::ALL
                .into_iter()
                .filter(|b| b.crate_name().is_some())
                .filter(|b| *b != Backend::Oracle || with_oracle)
                .collect());
        }
        let backend = Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .with_context(|| {
                format!("unknown backend {s:?}: expected sqlite, postgres, mysql, oracle or all")
            })?;
        if backend.crate_name().is_none() {
            bail!(
                "the {s} backend is not implemented yet (no cloner-{s} crate in this workspace); \
                 implemented: {}",
                implemented().join(", ")
            );
        }
        Ok(vec![backend])
    }
}

fn implemented() -> Vec<&'static str> {
    Backend::ALL
        .into_iter()
        .filter(|b| b.crate_name().is_some())
        .map(Backend::name)
        .collect()
}

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test [--db sqlite|postgres|mysql|oracle|all] [--parallel N]
        run the workspace's tests, then the example suite through paraclone
        on each chosen backend (default: sqlite; all = every implemented one)
  bench [--db sqlite|postgres|mysql|all] [--quick] [--rounds N] [--sizes tiny|quick|full]
        [--out DIR] [--markdown PATH]
        [--only clone,whole,overhead,memory,python,schedule,reuse,ephemeral]
        measure clones, whole runs, runner overhead and memory, the Python
        suites and scheduling (against cargo nextest) against today's
        methods, whole runs with --reuse against without, and clones and
        whole runs on throwaway servers against the stock ones (release
        build; default: sqlite, full, results in target/bench and
        BENCHMARKS.md; --quick writes target/bench/BENCHMARKS.md)
  lint  cargo fmt --check and cargo clippy --all-targets -D warnings
  ci    lint, then test --db all

test needs the Python environment ci/python-env.sh makes for the Django and
pytest examples; without it they are reported as not run and everything else
runs, except under CI=true, where that is an error. The first run builds the
workspace from scratch (see the README for how long that takes).
";

fn main() {
    if let Err(e) = run(std::env::args().skip(1).collect()) {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(2);
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        bail!("no command given");
    };
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    match command.as_str() {
        "test" => test(rest),
        "bench" => bench::bench(rest),
        "lint" => lint(),
        "ci" => {
            lint()?;
            test(&["--db".to_owned(), "all".to_owned()])
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            print!("{USAGE}");
            bail!("unknown command {other:?}")
        }
    }
}

fn test(args: &[String]) -> Result<()> {
    let mut backends = vec![Backend::Sqlite];
    let mut parallel = "4".to_owned();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "--db" => backends = Backend::parse(&value("--db")?)?,
            "--parallel" => parallel = value("--parallel")?,
            other => bail!("unknown argument {other:?} for test\n\n{USAGE}"),
        }
    }
    let root = workspace_root();
    // The runner's tests drive the Django and pytest examples: their
    // environment is made (or found up to date) first.
    println!("xtask: Python environment: bash ci/python-env.sh");
    let python = python_env(&root);
    if let Err(why) = &python
        && std::env::var("CI").is_ok_and(|v| v == "true")
    {
        bail!(
            "the Python environment failed ({why}); under CI=true every suite must run, \
             the Python ones included"
        );
    }
    let plan = plan(
        &backends,
        python.as_ref().map(|_| ()).map_err(String::as_str),
    );
    let cargo_args: Vec<&str> = plan.cargo_test.iter().map(String::as_str).collect();
    step("workspace tests", &root, "cargo", &cargo_args)?;

    // Put the Python environment first on PATH: the examples' commands say
    // `python3`.
    let mut path = std::ffi::OsString::from(root.join("target/python/bin"));
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    if backends.contains(&Backend::Oracle) && std::env::var_os(ORACLE_URL).is_none() {
        bail!(
            "oracle: cloner-oracle's unit tests passed, but its integration tests (the conformance kit) did not run: \
             {ORACLE_URL} is not set. Set it to a DBA login on an Oracle server (12.2+) with the Instant Client installed"
        );
    }
    for backend in &backends {
        if *backend == Backend::Oracle {
            // The examples' apps have no Oracle client; on Oracle the
            // conformance kit (cloner-oracle's integration tests) is what runs.
            println!(
                "xtask: examples on oracle: none has an Oracle client; the conformance kit ran instead"
            );
            continue;
        }
        for suite in &plan.examples {
            let config = format!("examples/{suite}/paraclone.toml");
            step_env(
                &format!("example {suite} on {} through paraclone", backend.name()),
                &root,
                "cargo",
                &[
                    "run",
                    "--quiet",
                    "--package",
                    "runner",
                    "--features",
                    backend.name(),
                    "--",
                    "test",
                    "--config",
                    &config,
                    "--db",
                    backend.name(),
                    "--parallel",
                    &parallel,
                    "--no-progress",
                ],
                &[("PATH", path.clone())],
            )?;
        }
    }
    let names = backends
        .iter()
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join(", ");
    match &plan.not_run {
        None => println!("xtask: all passed ({names})"),
        Some(not_run) => println!("xtask: passed ({names}), but {not_run}"),
    }
    Ok(())
}

/// What `cargo xtask test` runs, once it knows whether the Python
/// environment is there.
#[derive(Debug)]
struct Plan {
    /// The arguments of the one `cargo test` of the workspace's crates.
    cargo_test: Vec<String>,
    /// The example suites run through paraclone on each backend.
    examples: Vec<&'static str>,
    /// What does not run, and why, if anything.
    not_run: Option<String>,
}

/// The plan for `backends`; `python` is `Err(why)` when the Python
/// environment could not be made: the Rust tests and the examples that need
/// no Python still run, the others are left out and named.
fn plan(backends: &[Backend], python: Result<(), &str>) -> Plan {
    let features: Vec<String> = backends
        .iter()
        .map(|b| format!("runner/{}", b.name()))
        .collect();
    // The crates every backend needs, plus each chosen backend's own crate
    // (whose tests need that backend's server). The examples' suites are not
    // here: they need a database per worker, and paraclone runs them below.
    let mut cargo_test: Vec<String> = [
        "test",
        "--features",
        &features.join(","),
        "--package",
        "cloner",
        "--package",
        "runner",
        "--package",
        "xtask",
    ]
    .map(str::to_owned)
    .to_vec();
    for backend in backends {
        cargo_test.push("--package".to_owned());
        cargo_test.push(
            backend
                .crate_name()
                .expect("parse keeps implemented backends only")
                .to_owned(),
        );
    }
    let mut examples: Vec<&'static str> = EXAMPLES.iter().map(|e| e.name).collect();
    let mut not_run = None;
    if let Err(why) = python {
        cargo_test.extend(["--", "--skip", PYTHON_TESTS].map(str::to_owned));
        let (python, rest): (Vec<&Example>, Vec<&Example>) =
            EXAMPLES.iter().partition(|e| e.needs_python);
        examples = rest.iter().map(|e| e.name).collect();
        let names: Vec<&str> = python.iter().map(|e| e.name).collect();
        not_run = Some(format!(
            "not run, for want of the Python environment ({why}): the runner's tests \
             {PYTHON_TESTS}* and the examples {}; run ci/python-env.sh to run them",
            names.join(", ")
        ));
    }
    Plan {
        cargo_test,
        examples,
        not_run,
    }
}

/// Makes (or finds up to date) the Python environment with
/// `ci/python-env.sh`; `Err` says why it could not, as the script put it.
fn python_env(root: &Path) -> Result<(), String> {
    let output = Command::new("bash")
        .arg("ci/python-env.sh")
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("could not start bash: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    let why = stderr
        .lines()
        .find_map(|l| l.strip_prefix("ci/python-env.sh: "))
        .map_or_else(
            || format!("ci/python-env.sh: {}", output.status),
            str::to_owned,
        );
    println!("xtask: Python environment failed: {why}");
    Err(why)
}

/// An example suite, and whether it needs the Python environment.
#[derive(Debug)]
struct Example {
    name: &'static str,
    needs_python: bool,
}

/// The example suites run through paraclone on every chosen backend.
const EXAMPLES: &[Example] = &[
    Example {
        name: "shop",
        needs_python: false,
    },
    Example {
        name: "django_library",
        needs_python: true,
    },
    Example {
        name: "pytest_inventory",
        needs_python: true,
    },
];

/// The runner's tests that drive the Python examples (the `python` module
/// of runner/tests/it), as a `--skip` filter.
const PYTHON_TESTS: &str = "python::";

/// The variable naming the Oracle server the Oracle tests use.
const ORACLE_URL: &str = "ORACLE_URL";

fn lint() -> Result<()> {
    let root = workspace_root();
    step("format", &root, "cargo", &["fmt", "--all", "--", "--check"])?;
    step(
        "clippy",
        &root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )
}

fn step(what: &str, dir: &Path, program: &str, args: &[&str]) -> Result<()> {
    step_env(what, dir, program, args, &[])
}

fn step_env(
    what: &str,
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, std::ffi::OsString)],
) -> Result<()> {
    println!("xtask: {what}: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_python_the_rust_tests_and_the_shop_suite_still_run_and_the_rest_is_named() {
        let plan = plan(&[Backend::Sqlite], Err("no python3 on PATH"));
        assert_eq!(plan.examples, ["shop"]);
        assert_eq!(
            plan.cargo_test[plan.cargo_test.len() - 3..],
            ["--", "--skip", "python::"]
        );
        assert!(plan.cargo_test.contains(&"cloner-sqlite".to_owned()));
        let not_run = plan.not_run.expect("what did not run is said");
        for part in [
            "no python3 on PATH",
            "python::*",
            "django_library",
            "pytest_inventory",
        ] {
            assert!(not_run.contains(part), "{part}: {not_run}");
        }
    }

    #[test]
    fn with_python_everything_runs() {
        let plan = plan(&[Backend::Sqlite, Backend::Postgres], Ok(()));
        assert_eq!(
            plan.examples,
            ["shop", "django_library", "pytest_inventory"]
        );
        assert!(!plan.cargo_test.contains(&"--skip".to_owned()));
        assert_eq!(plan.cargo_test[2], "runner/sqlite,runner/postgres");
        assert!(plan.not_run.is_none());
    }
}
