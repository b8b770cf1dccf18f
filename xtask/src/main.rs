//! Project automation, run as `cargo xtask <command>` (matklad's xtask
//! pattern): the exact commands CI runs, runnable by every developer.
//!
//! - `cargo xtask test [--db sqlite|all] [--parallel N]`: the workspace's
//!   own tests (with the chosen backends compiled in), then the example
//!   suite run through `paraclone` itself on each chosen backend.
//! - `cargo xtask bench [--db …] [--quick]`: the benchmarks (bench.rs).
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy -D warnings`.
//! - `cargo xtask ci`: lint, then `test --db all`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;

use std::path::{Path, PathBuf};
use std::process::Command;

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
        [--out DIR] [--markdown PATH] [--only clone,whole,overhead,memory]
        measure clones, whole runs, runner overhead and memory against
        today's methods (release build; default: sqlite, full, results in
        target/bench and BENCHMARKS.md; --quick writes target/bench/BENCHMARKS.md)
  lint  cargo fmt --check and cargo clippy --all-targets -D warnings
  ci    lint, then test --db all
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
    let features: Vec<String> = backends
        .iter()
        .map(|b| format!("runner/{}", b.name()))
        .collect();
    let features = features.join(",");

    // The crates every backend needs, plus each chosen backend's own crate
    // (whose tests need that backend's server). The examples' suites are not
    // here: they need a database per worker, and paraclone runs them below.
    let mut cargo_args = vec![
        "test",
        "--features",
        &features,
        "--package",
        "cloner",
        "--package",
        "runner",
        "--package",
        "xtask",
    ];
    for backend in &backends {
        cargo_args.extend([
            "--package",
            backend
                .crate_name()
                .expect("parse keeps implemented backends only"),
        ]);
    }
    // The runner's tests drive the Django and pytest examples: their
    // environment is made (or found up to date) first.
    step("Python environment", &root, "bash", &["ci/python-env.sh"])?;
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
        for suite in EXAMPLES {
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
    println!(
        "xtask: all passed ({})",
        backends
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// The variable naming the Oracle server the Oracle tests use.
const ORACLE_URL: &str = "ORACLE_URL";

/// The example suites run through paraclone on every chosen backend.
const EXAMPLES: &[&str] = &["shop", "django_library", "pytest_inventory"];

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
