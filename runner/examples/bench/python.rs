//! Measurement 5: the Python examples run whole by paraclone and by the
//! tools' own parallelism, in interleaved rounds, on each backend:
//!
//! - `examples/django_library`: `paraclone test --parallel 4` against
//!   `python3 manage.py test --parallel 4 --noinput` (Django makes its test
//!   database, migrates it and clones it per worker itself, then forks its
//!   pool);
//! - `examples/pytest_inventory`: `paraclone test --parallel 4` against
//!   `python3 -m pytest -n 4` (pytest-xdist; the example's conftest gives
//!   each xdist worker a database of its own: on SQLite without
//!   `DATABASE_URL` every worker migrates a fresh file, on PostgreSQL it
//!   copies the migrated database in `DATABASE_URL` with `CREATE DATABASE
//!   … TEMPLATE`, which the harness creates and migrates with `psql` inside
//!   the timed window and drops afterwards).
//!
//! Both examples are copied first to the output directory (without
//! caches and test databases), so that edits made to them while the bench
//! runs do not land in some rounds only, and so that Django's test
//! databases on SQLite (files next to manage.py) stay out of the tree.
//!
//! Every `python3` started — by paraclone (setup, listing, workers), by
//! Django, by xdist (execnet starts its workers with `sys.executable`) —
//! goes through a shim that logs the start and `exec`s the virtualenv's
//! interpreter under the shim's own name. The shim sits in a directory that
//! mirrors the virtualenv (its `pyvenv.cfg`, `lib` linked), so
//! `sys.executable` is the shim and children started from it are counted
//! too. Django's pool workers are forked: no interpreter starts for them.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use crate::stats::{Stats, secs};
use crate::suites::{Tools, parse_summary};

/// The parallelism of every run here: the issue's `--parallel 4`, `-n 4`.
pub(crate) const PARALLEL: usize = 4;

/// One backend's comparisons.
#[derive(Debug, Serialize)]
pub(crate) struct PythonRun {
    pub(crate) backend: String,
    pub(crate) parallel: usize,
    pub(crate) rounds: usize,
    /// Python, Django, pytest and pytest-xdist versions.
    pub(crate) versions: BTreeMap<String, String>,
    pub(crate) suites: Vec<SuiteComparison>,
}

/// paraclone against one tool on one example.
#[derive(Debug, Serialize)]
pub(crate) struct SuiteComparison {
    /// `django` or `pytest`.
    pub(crate) key: String,
    pub(crate) suite: String,
    /// The tool's own command, as run.
    pub(crate) tool: String,
    /// Tests paraclone ran (its summary).
    pub(crate) tests: usize,
    /// Tests the tool ran (its own report).
    pub(crate) tool_tests: usize,
    pub(crate) paraclone_seconds: Stats,
    pub(crate) tool_seconds: Stats,
    /// paraclone's median wall time over the tool's (below 1: paraclone is
    /// faster).
    pub(crate) ratio: f64,
    /// The same ratio round by round (each round runs both).
    pub(crate) round_ratios: Vec<f64>,
    /// Interpreter starts of one paraclone run, by role.
    pub(crate) paraclone_starts: Starts,
    /// Interpreter starts of one run of the tool.
    pub(crate) tool_starts: Starts,
    /// paraclone's phases from its summary.
    pub(crate) phases: BTreeMap<String, Stats>,
    /// Per worker, from its interpreter's start to its first test starting
    /// (the first test's result line, less its duration): the cost of a
    /// warm worker getting ready. Median over workers, per round.
    pub(crate) worker_startup_seconds: Option<Stats>,
    /// Sum of the per-test durations paraclone reported (median of rounds).
    pub(crate) test_seconds_sum: f64,
    /// Per worker, the time between its first test starting and its last
    /// one ending that no test's reported duration covers (class set-up and
    /// tear-down, database restores, the protocol's round trips, waiting
    /// for the CPU between tests): median over workers, per round.
    pub(crate) between_tests_seconds: Option<Stats>,
}

/// Interpreter starts in one run (the last round's; `varied` when rounds
/// differed).
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Starts {
    pub(crate) total: usize,
    /// paraclone's setup commands (`PARACLONE_PHASE=setup`).
    pub(crate) setup: usize,
    /// paraclone's workers (`PARACLONE_WORKER` set).
    pub(crate) workers: usize,
    /// Everything else (paraclone's listing; all of a tool's starts).
    pub(crate) other: usize,
    pub(crate) varied: bool,
}

/// One start the shim logged.
#[derive(Debug)]
struct Start {
    unix: f64,
    phase: String,
    worker: Option<usize>,
}

/// What one measured run gave.
struct Run {
    wall: f64,
    starts: Vec<Start>,
    tests: usize,
    phases: Vec<(String, f64)>,
    startup: Option<f64>,
    test_sum: f64,
    between: Option<f64>,
}

/// The copied examples, the shim and the server, for one invocation.
struct Setup {
    django: PathBuf,
    pytest: PathBuf,
    shim_bin: PathBuf,
    log: PathBuf,
    path: std::ffi::OsString,
    /// `postgres://…/postgres` (the server paraclone uses too).
    postgres_url: Option<String>,
}

/// Runs the comparisons on `backend`, `rounds` interleaved rounds after
/// one unmeasured run of each command.
pub(crate) fn measure(tools: &Tools, backend: &str, rounds: usize) -> Result<PythonRun> {
    let setup = prepare(tools, backend)?;
    let versions = versions(&tools.root)?;
    let mut suites = Vec::new();
    let specs: [(&str, &Path); 2] = [("django", &setup.django), ("pytest", &setup.pytest)];
    // Unmeasured: byte-compiles the copies, warms the page cache.
    for (key, dir) in specs {
        eprintln!("bench: python on {backend}: {key}: warm-up runs (not measured)");
        paraclone_run(tools, &setup, backend, dir)?;
        tool_run(&setup, backend, key, dir)?;
    }
    let mut ours: Vec<Vec<Run>> = vec![Vec::new(), Vec::new()];
    let mut theirs: Vec<Vec<Run>> = vec![Vec::new(), Vec::new()];
    for round in 1..=rounds {
        for (i, (key, dir)) in specs.iter().enumerate() {
            // Alternate which goes first, so that neither always runs
            // right after the other's database work.
            let paraclone_first = round % 2 == 1;
            for first in [paraclone_first, !paraclone_first] {
                tools.check_stop()?;
                let run = if first {
                    paraclone_run(tools, &setup, backend, dir)?
                } else {
                    tool_run(&setup, backend, key, dir)?
                };
                eprintln!(
                    "bench: python on {backend}: round {round}/{rounds}: {key}: {}: {} ({} tests, {} interpreter starts)",
                    if first { "paraclone" } else { "own" },
                    secs(run.wall),
                    run.tests,
                    run.starts.len()
                );
                if first {
                    ours[i].push(run);
                } else {
                    theirs[i].push(run);
                }
            }
        }
    }
    for (i, (key, _)) in specs.iter().enumerate() {
        suites.push(compare(key, &ours[i], &theirs[i]));
    }
    Ok(PythonRun {
        backend: backend.to_owned(),
        parallel: PARALLEL,
        rounds,
        versions,
        suites,
    })
}

fn compare(key: &str, ours: &[Run], theirs: &[Run]) -> SuiteComparison {
    let walls = |runs: &[Run]| Stats::of(&runs.iter().map(|r| r.wall).collect::<Vec<_>>());
    let (paraclone_seconds, tool_seconds) = (walls(ours), walls(theirs));
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in ours {
        for (name, s) in &run.phases {
            phases.entry(name.clone()).or_default().push(*s);
        }
    }
    let startups: Vec<f64> = ours.iter().filter_map(|r| r.startup).collect();
    let between: Vec<f64> = ours.iter().filter_map(|r| r.between).collect();
    let sums: Vec<f64> = ours.iter().map(|r| r.test_sum).collect();
    let (suite, tool) = match key {
        "django" => (
            "examples/django_library",
            format!("python3 manage.py test --parallel {PARALLEL} --noinput"),
        ),
        _ => (
            "examples/pytest_inventory",
            format!("python3 -m pytest -n {PARALLEL}"),
        ),
    };
    SuiteComparison {
        key: key.to_owned(),
        suite: suite.to_owned(),
        tool,
        tests: ours.last().map_or(0, |r| r.tests),
        tool_tests: theirs.last().map_or(0, |r| r.tests),
        ratio: paraclone_seconds.median / tool_seconds.median,
        round_ratios: ours
            .iter()
            .zip(theirs)
            .map(|(o, t)| o.wall / t.wall)
            .collect(),
        paraclone_seconds,
        tool_seconds,
        paraclone_starts: starts(ours),
        tool_starts: starts(theirs),
        phases: phases
            .iter()
            .map(|(k, v)| (k.clone(), Stats::of(v)))
            .collect(),
        worker_startup_seconds: (!startups.is_empty()).then(|| Stats::of(&startups)),
        test_seconds_sum: Stats::of(&sums).median,
        between_tests_seconds: (!between.is_empty()).then(|| Stats::of(&between)),
    }
}

fn starts(runs: &[Run]) -> Starts {
    let count = |run: &Run| {
        let mut s = Starts {
            total: run.starts.len(),
            ..Starts::default()
        };
        for start in &run.starts {
            if start.worker.is_some() {
                s.workers += 1;
            } else if start.phase == "setup" {
                s.setup += 1;
            } else {
                s.other += 1;
            }
        }
        s
    };
    let all: Vec<Starts> = runs.iter().map(count).collect();
    let mut last = all.last().cloned().unwrap_or_default();
    last.varied = all.iter().any(|s| s.total != last.total);
    last
}

// --- setting up --------------------------------------------------------

fn prepare(tools: &Tools, backend: &str) -> Result<Setup> {
    // The virtualenv, with pytest-xdist (idempotent: nothing to do when the
    // requirements have not changed).
    let env = Command::new("bash")
        .arg(tools.root.join("ci/python-env.sh"))
        .current_dir(&tools.root)
        .stdin(Stdio::null())
        .output()
        .context("start ci/python-env.sh")?;
    if !env.status.success() {
        bail!(
            "ci/python-env.sh failed (the Python examples need target/python):\n{}",
            String::from_utf8_lossy(&env.stderr)
        );
    }
    let venv = PathBuf::from(String::from_utf8_lossy(&env.stdout).trim());
    let work = tools.work.join("python");
    let examples = work.join("examples");
    let django = examples.join("django_library");
    let pytest = examples.join("pytest_inventory");
    for (name, dir) in [("django_library", &django), ("pytest_inventory", &pytest)] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("remove {}", dir.display()))?;
        }
        copy_tree(&tools.root.join("examples").join(name), dir)?;
    }
    let shim = work.join("shim");
    let shim_bin = shim.join("bin");
    let log = work.join("python-starts.log");
    make_shim(&venv, &shim, &log)?;
    let mut path = std::ffi::OsString::from(&shim_bin);
    if let Some(old) = std::env::var_os("PATH") {
        path.push(":");
        path.push(old);
    }
    let postgres_url = (backend == "postgres").then(postgres_url).transpose()?;
    Ok(Setup {
        django,
        pytest,
        shim_bin,
        log,
        path,
        postgres_url,
    })
}

/// Copies an example's tree, leaving out caches and test databases.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    crate::suites::copy_example(from, to, &|name| {
        name.starts_with("test_") && name.contains(".sqlite3")
    })
}

/// `shim/bin/python3` (and `python`): logs the start, then becomes the
/// virtualenv's interpreter under the shim's name; `shim` mirrors the
/// virtualenv so that this interpreter finds its packages.
fn make_shim(venv: &Path, shim: &Path, log: &Path) -> Result<()> {
    let real = venv.join("bin/python3");
    if !real.is_file() {
        bail!("no interpreter at {}", real.display());
    }
    if shim.exists() {
        std::fs::remove_dir_all(shim)?;
    }
    let bin = shim.join("bin");
    std::fs::create_dir_all(&bin)?;
    std::fs::copy(venv.join("pyvenv.cfg"), shim.join("pyvenv.cfg"))
        .context("copy the virtualenv's pyvenv.cfg")?;
    for dir in ["lib", "lib64", "include"] {
        let source = venv.join(dir);
        if source.exists() {
            std::os::unix::fs::symlink(&source, shim.join(dir))?;
        }
    }
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let script = format!(
        "#!/bin/bash\n\
         # Generated by the bench: counts interpreter starts.\n\
         printf '%s\\t%s\\t%s\\t%s\\t%s\\n' \"$EPOCHREALTIME\" \"$$\" \"${{PARACLONE_PHASE:-}}\" \
         \"${{PARACLONE_WORKER:-}}\" \"$*\" >> {}\n\
         exec -a \"$0\" {} \"$@\"\n",
        quote(log),
        quote(&real)
    );
    let path = bin.join("python3");
    std::fs::write(&path, script)?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    std::os::unix::fs::symlink("python3", bin.join("python"))?;
    Ok(())
}

#[cfg(feature = "postgres")]
fn postgres_url() -> Result<String> {
    Ok(cloner_postgres::PostgresOptions::from_env().url)
}

#[cfg(not(feature = "postgres"))]
fn postgres_url() -> Result<String> {
    bail!("the postgres backend is not built into this harness")
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        return format!("{url}/{name}");
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}{query}")
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .stdin(Stdio::null())
        .output()
        .context("start psql (the PostgreSQL client)")?;
    if !out.status.success() {
        bail!(
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Drops every database whose name starts with `prefix` (no `_` or `%`).
fn drop_like(admin: &str, prefix: &str) -> Result<()> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-d", admin, "-c"])
        .arg(format!(
            "SELECT datname FROM pg_database WHERE starts_with(datname, '{prefix}')"
        ))
        .stdin(Stdio::null())
        .output()
        .context("start psql")?;
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let name = name.trim();
        if !name.is_empty() {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            )?;
        }
    }
    Ok(())
}

fn versions(root: &Path) -> Result<BTreeMap<String, String>> {
    let out = Command::new(root.join("target/python/bin/python3"))
        .args([
            "-c",
            "import sys, django, pytest, xdist; print(sys.version.split()[0]); \
             print(django.get_version()); print(pytest.__version__); print(xdist.__version__)",
        ])
        .output()
        .context("ask the virtualenv for its versions")?;
    if !out.status.success() {
        bail!(
            "the virtualenv lacks a package: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(["python", "django", "pytest", "pytest-xdist"]
        .iter()
        .zip(text.lines())
        .map(|(k, v)| ((*k).to_owned(), v.trim().to_owned()))
        .collect())
}

// --- running -----------------------------------------------------------

/// A command with the shim first on PATH and nothing of the caller's
/// database or paraclone environment.
fn command(setup: &Setup, program: &Path, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir).env("PATH", &setup.path);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("PARACLONE_") && k != "PARACLONE_POSTGRES_URL")
            || k.starts_with("PYTEST_")
            || [
                "DATABASE_URL",
                "DJANGO_SQLITE_PATH",
                "DJANGO_SETTINGS_MODULE",
            ]
            .contains(&k.as_ref())
        {
            c.env_remove(k.as_ref());
        }
    }
    c
}

/// Runs `c`, timing it; every output line is stamped with when it came.
fn timed(mut c: Command, what: &str) -> Result<(f64, Vec<(f64, String)>)> {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = c.spawn().with_context(|| format!("start {what}"))?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().context("stdout")?).lines() {
        let line = line.unwrap_or_default();
        lines.push((unix_now(), line));
    }
    let status = child.wait()?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = errors.join().unwrap_or_default();
    let now = unix_now();
    lines.extend(stderr.lines().map(|l| (now, l.to_owned())));
    if !status.success() {
        let tail: Vec<&str> = lines
            .iter()
            .rev()
            .take(30)
            .map(|(_, l)| l.as_str())
            .collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{what} failed ({status}):\n{}", tail.join("\n"));
    }
    Ok((wall, lines))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn reset_log(setup: &Setup) -> Result<()> {
    std::fs::write(&setup.log, "").with_context(|| format!("truncate {}", setup.log.display()))
}

fn read_log(setup: &Setup) -> Result<Vec<Start>> {
    let text = std::fs::read_to_string(&setup.log)?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(5, '\t');
            let unix = f.next()?.replace(',', ".").parse().ok()?;
            let _pid = f.next()?;
            let phase = f.next()?.to_owned();
            let worker = f.next()?.parse().ok();
            Some(Start {
                unix,
                phase,
                worker,
            })
        })
        .collect())
}

fn paraclone_run(tools: &Tools, setup: &Setup, backend: &str, dir: &Path) -> Result<Run> {
    reset_log(setup)?;
    let mut c = command(setup, &tools.paraclone, dir);
    let p = PARALLEL.to_string();
    c.args(["test", "--config", "paraclone.toml", "--no-progress"])
        .args(["--color", "never", "--db", backend, "--parallel", &p]);
    let what = format!("paraclone on {} ({backend})", dir.display());
    let (wall, lines) = timed(c, &what)?;
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    let summary = parse_summary(&text).with_context(|| what.clone())?;
    let starts = read_log(setup)?;
    let workers = per_worker(&lines, &starts);
    Ok(Run {
        wall,
        starts,
        tests: summary.tests,
        phases: summary.phases,
        startup: workers.startup,
        test_sum: workers.test_sum,
        between: workers.between,
    })
}

/// What the per-test lines say about the workers.
struct PerWorker {
    startup: Option<f64>,
    test_sum: f64,
    between: Option<f64>,
}

/// From lines such as `PASS [0.147s] w1 django catalog.tests…` (stamped
/// when they came) and the workers' interpreter starts: the median over
/// workers of (first test's start − the worker's interpreter start) and of
/// the time between its first test's start and its last test's end not
/// covered by test durations, and the sum of every test's duration.
fn per_worker(lines: &[(f64, String)], starts: &[Start]) -> PerWorker {
    // worker → (first test's start, last test's end, sum of durations)
    let mut seen: BTreeMap<usize, (f64, f64, f64)> = BTreeMap::new();
    let mut test_sum = 0.0;
    for (at, line) in lines {
        let mut words = line.split_whitespace();
        let (Some(_status), Some(duration), Some(worker)) =
            (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Some(d) = duration
            .strip_prefix('[')
            .and_then(|d| d.strip_suffix("s]"))
            .and_then(|d| d.parse::<f64>().ok())
        else {
            continue;
        };
        let Some(w) = worker
            .strip_prefix('w')
            .and_then(|w| w.parse::<usize>().ok())
        else {
            continue;
        };
        test_sum += d;
        let entry = seen.entry(w).or_insert((at - d, *at, 0.0));
        entry.1 = *at;
        entry.2 += d;
    }
    let median = |v: Vec<f64>| (!v.is_empty()).then(|| Stats::of(&v).median);
    let startup = median(
        seen.iter()
            .filter_map(|(w, (began, _, _))| {
                let start = starts
                    .iter()
                    .filter(|s| s.worker == Some(*w))
                    .map(|s| s.unix)
                    .reduce(f64::min)?;
                Some(began - start)
            })
            .collect(),
    );
    let between = median(
        seen.values()
            .map(|(began, ended, sum)| (ended - began - sum).max(0.0))
            .collect(),
    );
    PerWorker {
        startup,
        test_sum,
        between,
    }
}

fn tool_run(setup: &Setup, backend: &str, key: &str, dir: &Path) -> Result<Run> {
    reset_log(setup)?;
    let python = setup.shim_bin.join("python3");
    let p = PARALLEL.to_string();
    let mut c = command(setup, &python, dir);
    let tag = std::process::id();
    let (wall, tests) = match key {
        "django" => {
            c.args(["manage.py", "test", "--parallel", &p, "--noinput"]);
            let scratch = format!("pcbench_django_{tag}");
            let admin = setup.postgres_url.as_deref();
            if let Some(admin) = admin {
                c.env("DATABASE_URL", with_database(admin, &scratch));
            }
            let what = format!("manage.py test --parallel {p} ({backend})");
            let outcome = timed(c, &what);
            // Django drops its test databases itself; after a failure
            // they may be left.
            if let Some(admin) = admin {
                drop_like(admin, &format!("test_{scratch}"))?;
            }
            let (wall, lines) = outcome?;
            let tests = count_after(&lines, "Ran ").context("no `Ran N tests` from Django")?;
            (wall, tests)
        }
        _ => {
            c.args(["-m", "pytest", "-n", &p, "-q"]);
            let what = format!("pytest -n {p} ({backend})");
            let (wall, lines) = if let Some(admin) = setup.postgres_url.as_deref() {
                // The migrated database each xdist worker copies (the
                // conftest's way), made and dropped inside the timed window.
                let name = format!("pcbench_xdist_{tag}");
                let url = with_database(admin, &name);
                let started = Instant::now();
                drop_like(admin, &name)?;
                psql(admin, &format!("CREATE DATABASE \"{name}\""))?;
                let mut migrate = Command::new("psql");
                migrate.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url]);
                let migrations = dir.join("migrations/postgres");
                let mut files: Vec<PathBuf> = std::fs::read_dir(&migrations)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                    .collect();
                files.sort();
                for f in &files {
                    migrate.arg("-f").arg(f);
                }
                let (_, _) = timed(migrate, "psql: the migrations")?;
                c.env("DATABASE_URL", &url);
                let outcome = timed(c, &what);
                drop_like(admin, &name)?;
                let (_, lines) = outcome?;
                (started.elapsed().as_secs_f64(), lines)
            } else {
                timed(c, &what)?
            };
            let tests = lines
                .iter()
                .rev()
                .find_map(|(_, l)| {
                    let (n, _) = l.trim().trim_matches('=').trim().split_once(" passed")?;
                    n.rsplit(' ').next()?.parse().ok()
                })
                .context("no `N passed` from pytest")?;
            (wall, tests)
        }
    };
    Ok(Run {
        wall,
        starts: read_log(setup)?,
        tests,
        phases: Vec::new(),
        startup: None,
        test_sum: 0.0,
        between: None,
    })
}

/// The number after `prefix` at the start of an output line (`Ran 305 tests`).
fn count_after(lines: &[(f64, String)], prefix: &str) -> Option<usize> {
    lines.iter().find_map(|(_, l)| {
        l.trim()
            .strip_prefix(prefix)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
