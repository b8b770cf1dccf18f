//! Measurement 7: template reuse (issue 15), a whole run with `--reuse`
//! against one without, per backend.
//!
//! Suites, each at `--parallel 4`:
//!
//! - `examples/shop` (SQL migrations, a Rust test binary);
//! - `examples/django_library`, where the Python environment exists
//!   (`target/python`, made by `bash ci/python-env.sh`): its template is
//!   built by `manage.py migrate`, which reuse skips. The example is copied
//!   to the output directory first, as in section 5, so that edits made
//!   while the bench runs do not land in some rounds only.
//!
//! Each suite runs with a config of the bench's own (`reuse/<suite>.toml`
//! or the copy's `paraclone.toml`, generated from the example's): its own
//! `state_dir` (`reuse/state/<suite>`, so the kept templates and their
//! records are the bench's, not a developer's) and SQLite directory, and
//! its own base name (`pcbench_reuse_shop`, `pcbench_reuse_library`), so
//! that what is left on a server is easy to tell apart.
//!
//! Per backend and suite: `paraclone clean --templates` (what an earlier,
//! interrupted bench kept), one unmeasured run with `--reuse` that builds
//! and keeps the template (and builds the suite), then interleaved rounds
//! of a run without `--reuse` (builds a template of its own, drops it) and
//! one with (reuses the kept template), the order alternating by round.
//! Wall time is measured around the process, the template phase read from
//! the summary's `Phases` line; a reuse run whose summary does not say
//! `reused` is an error. At the end `paraclone clean --templates` for each
//! suite (also after an error or Ctrl-C), then the server (or SQLite
//! directory) is listed: no database with the bench's base names may be
//! left, and no record in the state directories.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use cloner::Connection;
use serde::Serialize;

use crate::stats::{Stats, secs, times};
use crate::suites::{Tools, paraclone_test, parse_summary, run_checked};

/// Workers of every run here.
pub(crate) const PARALLEL: usize = 4;
/// Every database name the bench's suites make starts with this.
pub(crate) const PREFIX: &str = "pcbench_reuse_";
/// The suites' base names (the examples' `shop` and `library`, prefixed).
const SHOP_BASE: &str = "pcbench_reuse_shop";
const DJANGO_BASE: &str = "pcbench_reuse_library";

/// One backend's measurements.
#[derive(Debug, Serialize)]
pub(crate) struct ReuseRun {
    pub(crate) backend: String,
    pub(crate) parallel: usize,
    pub(crate) rounds: usize,
    pub(crate) suites: Vec<ReuseSuite>,
    /// Suites not measured here, and why (no Python environment).
    pub(crate) skipped: Vec<String>,
    /// Databases (SQLite files) named `pcbench_reuse_…` found after the
    /// final `clean --templates`: none expected.
    pub(crate) left_after_clean: Vec<String>,
    /// Template records left in the bench's state directories after it.
    pub(crate) records_after_clean: usize,
}

/// A suite with `--reuse` against without.
#[derive(Debug, Serialize)]
pub(crate) struct ReuseSuite {
    /// `shop` or `django`.
    pub(crate) key: String,
    pub(crate) suite: String,
    pub(crate) base_name: String,
    pub(crate) tests: usize,
    /// The unmeasured run with `--reuse` that built and kept the template
    /// (one sample).
    pub(crate) first_build: Side,
    /// Runs without `--reuse`.
    pub(crate) without: Side,
    /// Runs with `--reuse`, each reusing the kept template.
    pub(crate) with: Side,
    /// Median wall time with `--reuse` over the median without (below 1:
    /// reuse is faster).
    pub(crate) wall_ratio: f64,
    /// The same for the template phase.
    pub(crate) template_ratio: f64,
    /// Median wall time saved per run (without − with).
    pub(crate) wall_saved_seconds: f64,
    /// The wall-time ratio round by round (each round runs both).
    pub(crate) round_wall_ratios: Vec<f64>,
    /// The summary's `Template` line of the last reuse run.
    pub(crate) reused_line: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Side {
    pub(crate) wall_seconds: Stats,
    pub(crate) template_seconds: Stats,
    /// Every phase from the summary (template, clone, build, run, teardown).
    pub(crate) phases: BTreeMap<String, Stats>,
}

/// A suite as the bench runs it.
struct Suite {
    key: &'static str,
    name: &'static str,
    base: &'static str,
    config: PathBuf,
    state: PathBuf,
    sqlite_dir: PathBuf,
    /// PATH for the runs (the virtualenv first), if the suite needs one.
    path: Option<std::ffi::OsString>,
}

/// What one run gave.
struct Sample {
    wall: f64,
    tests: usize,
    phases: Vec<(String, f64)>,
    template_line: String,
}

impl Sample {
    fn template(&self) -> f64 {
        self.phases
            .iter()
            .find(|(n, _)| n == "template")
            .map_or(0.0, |(_, s)| *s)
    }
}

/// Runs the suites on `backend`, `rounds` interleaved rounds each;
/// `server` is where the client lists the databases afterwards (none for
/// SQLite).
pub(crate) fn measure(
    tools: &Tools,
    backend: &str,
    rounds: usize,
    server: Option<&Connection>,
) -> Result<ReuseRun> {
    let work = tools.work.join("reuse");
    let mut suites = vec![shop(tools, &work)?];
    let mut skipped = Vec::new();
    match django(tools, &work)? {
        Some(s) => suites.push(s),
        None => skipped.push(
            "examples/django_library: no Python environment (target/python/bin/python3; \
             `bash ci/python-env.sh` makes it)"
                .to_owned(),
        ),
    }
    // What an earlier bench that was stopped kept.
    for s in &suites {
        clean(tools, s)?;
    }
    let measured: Result<Vec<ReuseSuite>> = suites
        .iter()
        .map(|s| measure_suite(tools, s, backend, rounds))
        .collect();
    // Always, also after an error or Ctrl-C: no kept template stays.
    let cleaned: Vec<Result<()>> = suites.iter().map(|s| clean(tools, s)).collect();
    let measured = measured?;
    for c in cleaned {
        c?;
    }
    let left_after_clean = leftovers(backend, &suites, server)?;
    let records_after_clean = suites.iter().map(|s| records(&s.state)).sum();
    Ok(ReuseRun {
        backend: backend.to_owned(),
        parallel: PARALLEL,
        rounds,
        suites: measured,
        skipped,
        left_after_clean,
        records_after_clean,
    })
}

fn measure_suite(tools: &Tools, s: &Suite, backend: &str, rounds: usize) -> Result<ReuseSuite> {
    eprintln!(
        "bench: reuse on {backend}: {}: first run with --reuse, builds and keeps the template (not measured)",
        s.name
    );
    let first = run(tools, s, backend, true)?;
    if !first.template_line.contains("kept for reuse") && !first.template_line.contains("reused") {
        bail!(
            "{} on {backend}: the first run with --reuse kept no template: {:?}",
            s.name,
            first.template_line
        );
    }
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Alternate which goes first, so that neither always runs right
        // after the other's database work.
        let reuse_first = round % 2 == 0;
        for reuse in [reuse_first, !reuse_first] {
            tools.check_stop()?;
            let sample = run(tools, s, backend, reuse)?;
            let reused = sample.template_line.contains(": reused ");
            if reuse != reused {
                bail!(
                    "{} on {backend}, {} --reuse: the summary says {:?}",
                    s.name,
                    if reuse { "with" } else { "without" },
                    sample.template_line
                );
            }
            eprintln!(
                "bench: reuse on {backend}: round {round}/{rounds}: {}: {} --reuse: {} (template {})",
                s.name,
                if reuse { "with" } else { "without" },
                secs(sample.wall),
                secs(sample.template())
            );
            if reuse {
                with.push(sample);
            } else {
                without.push(sample);
            }
        }
    }
    let (with_side, without_side) = (side(&with), side(&without));
    Ok(ReuseSuite {
        key: s.key.to_owned(),
        suite: s.name.to_owned(),
        base_name: s.base.to_owned(),
        tests: with.last().map_or(first.tests, |r| r.tests),
        first_build: side(std::slice::from_ref(&first)),
        wall_ratio: with_side.wall_seconds.median / without_side.wall_seconds.median,
        template_ratio: with_side.template_seconds.median / without_side.template_seconds.median,
        wall_saved_seconds: without_side.wall_seconds.median - with_side.wall_seconds.median,
        round_wall_ratios: with
            .iter()
            .zip(&without)
            .map(|(w, o)| w.wall / o.wall)
            .collect(),
        reused_line: with
            .last()
            .map(|r| r.template_line.clone())
            .unwrap_or_default(),
        with: with_side,
        without: without_side,
    })
}

fn side(samples: &[Sample]) -> Side {
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in samples {
        for (name, v) in &s.phases {
            phases.entry(name.clone()).or_default().push(*v);
        }
    }
    Side {
        wall_seconds: Stats::of(&samples.iter().map(|s| s.wall).collect::<Vec<_>>()),
        template_seconds: Stats::of(&samples.iter().map(Sample::template).collect::<Vec<_>>()),
        phases: phases
            .iter()
            .map(|(k, v)| (k.clone(), Stats::of(v)))
            .collect(),
    }
}

/// `paraclone <args> --config <suite's>` with nothing of the caller's
/// paraclone or database environment (a `PARACLONE_REUSE` would spoil the
/// runs without), and the suite's PATH.
fn command(tools: &Tools, s: &Suite, test_args: Option<&[&str]>) -> Command {
    let mut c = match test_args {
        Some(args) => paraclone_test(tools, &s.config, args, &[]),
        None => {
            let mut c = Command::new(&tools.paraclone);
            c.args(["clean", "--templates", "--color", "never", "--config"])
                .arg(&s.config)
                .current_dir(s.config.parent().unwrap_or(Path::new(".")));
            c
        }
    };
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("PARACLONE_")
            && !["PARACLONE_POSTGRES_URL", "PARACLONE_MYSQL_URL"].contains(&k.as_ref()))
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
    if let Some(path) = &s.path {
        c.env("PATH", path);
    }
    c
}

fn run(tools: &Tools, s: &Suite, backend: &str, reuse: bool) -> Result<Sample> {
    tools.check_stop()?;
    let p = PARALLEL.to_string();
    let mut args = vec!["--color", "never", "--db", backend, "--parallel", &p];
    if reuse {
        args.push("--reuse");
    }
    let what = format!(
        "paraclone on {} ({backend}, {} --reuse)",
        s.name,
        if reuse { "with" } else { "without" }
    );
    let (took, output) = run_checked(command(tools, s, Some(&args)), &what)?;
    let summary = parse_summary(&output).with_context(|| what.clone())?;
    let template_line = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Template "))
        .with_context(|| format!("{what}: no Template line in its output"))?
        .to_owned();
    Ok(Sample {
        wall: took.as_secs_f64(),
        tests: summary.tests,
        phases: summary.phases,
        template_line,
    })
}

/// `paraclone clean --templates` with the suite's config: drops every
/// template kept in its state directory, on the server its record names.
fn clean(tools: &Tools, s: &Suite) -> Result<()> {
    run_checked(
        command(tools, s, None),
        &format!(
            "paraclone clean --templates --config {}",
            s.config.display()
        ),
    )?;
    Ok(())
}

/// Databases (SQLite files) with the bench's base names that are still
/// there.
fn leftovers(backend: &str, suites: &[Suite], server: Option<&Connection>) -> Result<Vec<String>> {
    if backend == "sqlite" {
        let mut left = Vec::new();
        for s in suites {
            let Ok(entries) = std::fs::read_dir(&s.sqlite_dir) else {
                continue;
            };
            for e in entries {
                let name = e?.file_name().to_string_lossy().into_owned();
                if name.starts_with(PREFIX) {
                    left.push(name);
                }
            }
        }
        left.sort();
        return Ok(left);
    }
    let server = server.with_context(|| format!("no connection to list {backend}'s databases"))?;
    // `_` is a wildcard in LIKE: escaped, and checked again here.
    let like = PREFIX.replace('_', "\\_");
    let sql = match backend {
        "postgres" => format!("SELECT datname FROM pg_database WHERE datname LIKE '{like}%'"),
        _ => format!("SHOW DATABASES LIKE '{like}%'"),
    };
    let mut left: Vec<String> = crate::backends::client_query(backend, server, &sql)?
        .into_iter()
        .filter_map(|row| row.into_iter().next())
        .filter(|name| name.starts_with(PREFIX))
        .collect();
    left.sort();
    Ok(left)
}

/// Template records (`templates/*.json`) in a state directory.
fn records(state: &Path) -> usize {
    std::fs::read_dir(state.join("templates")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count()
    })
}

// --- the suites' configs -------------------------------------------------

/// Sets `keys` (a path of tables) in `table` to `value`.
fn set(table: &mut toml::Table, keys: &[&str], value: toml::Value) {
    let (last, parents) = keys.split_last().expect("a key");
    let mut at = table;
    for k in parents {
        at = at
            .entry((*k).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("a table");
    }
    at.insert((*last).to_owned(), value);
}

fn path_value(p: &Path) -> toml::Value {
    toml::Value::String(p.display().to_string())
}

fn read_config(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    text.parse()
        .with_context(|| format!("parse {} as TOML", path.display()))
}

fn write_config(path: &Path, from: &Path, table: &toml::Table) -> Result<()> {
    let text = format!(
        "# Generated by `cargo xtask bench` (section reuse) from {}: a state\n\
         # directory, SQLite directory and base name of the bench's own.\n{}",
        from.display(),
        toml::to_string(table).context("write the bench's config")?
    );
    crate::suites::write_if_changed(path, &text)
}

/// examples/shop with the bench's state directory: its tests built in the
/// workspace as usual, its migrations read where they are.
fn shop(tools: &Tools, work: &Path) -> Result<Suite> {
    let example = tools.root.join("examples/shop");
    let from = example.join("paraclone.toml");
    let mut table = read_config(&from)?;
    let state = work.join("state/shop");
    let sqlite_dir = state.join("sqlite");
    let migrations = table
        .get("databases")
        .and_then(|d| d.get("default"))
        .and_then(|d| d.get("migrations"))
        .and_then(toml::Value::as_str)
        .context("examples/shop/paraclone.toml has no databases.default.migrations")?
        .to_owned();
    set(&mut table, &["run", "state_dir"], path_value(&state));
    set(&mut table, &["tests", "workspace"], path_value(&example));
    set(
        &mut table,
        &["databases", "default", "name"],
        toml::Value::String(SHOP_BASE.to_owned()),
    );
    set(
        &mut table,
        &["databases", "default", "migrations"],
        path_value(&example.join(migrations)),
    );
    set(
        &mut table,
        &["backends", "sqlite", "dir"],
        path_value(&sqlite_dir),
    );
    let config = work.join("shop.toml");
    write_config(&config, &from, &table)?;
    Ok(Suite {
        key: "shop",
        name: "examples/shop",
        base: SHOP_BASE,
        config,
        state,
        sqlite_dir,
        path: None,
    })
}

/// A copy of examples/django_library with the bench's config, if the
/// Python environment is there.
fn django(tools: &Tools, work: &Path) -> Result<Option<Suite>> {
    let venv_bin = tools.root.join("target/python/bin");
    if !venv_bin.join("python3").is_file() {
        return Ok(None);
    }
    let example = tools.root.join("examples/django_library");
    let copy = work.join("django_library");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).with_context(|| format!("remove {}", copy.display()))?;
    }
    copy_tree(&example, &copy)?;
    let from = example.join("paraclone.toml");
    let mut table = read_config(&from)?;
    let state = work.join("state/django_library");
    let sqlite_dir = state.join("sqlite");
    set(&mut table, &["run", "state_dir"], path_value(&state));
    set(
        &mut table,
        &["databases", "default", "name"],
        toml::Value::String(DJANGO_BASE.to_owned()),
    );
    set(
        &mut table,
        &["backends", "sqlite", "dir"],
        path_value(&sqlite_dir),
    );
    let config = copy.join("paraclone.toml");
    write_config(&config, &from, &table)?;
    let mut path = std::ffi::OsString::from(&venv_bin);
    if let Some(old) = std::env::var_os("PATH") {
        path.push(":");
        path.push(old);
    }
    Ok(Some(Suite {
        key: "django",
        name: "examples/django_library",
        base: DJANGO_BASE,
        config,
        state,
        sqlite_dir,
        path: Some(path),
    }))
}

/// Copies an example's tree, leaving out caches, build output and
/// databases.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    crate::suites::copy_example(from, to, &|name| name.ends_with(".sqlite3"))
}

// --- reporting -----------------------------------------------------------

fn dialect(backend: &str) -> &str {
    match backend {
        "sqlite" => "SQLite",
        "postgres" => "PostgreSQL",
        "mysql" => "MySQL/MariaDB",
        other => other,
    }
}

/// A ratio that may be far below 1: `0.63×`, `0.004× (0.4 %)`.
fn small_ratio(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}× ({:.1} %)", r * 100.0)
    } else {
        times(r)
    }
}

/// `1.20 s`, or `−330 ms` for time lost.
fn signed_secs(s: f64) -> String {
    if s < 0.0 {
        format!("−{}", secs(-s))
    } else {
        secs(s)
    }
}

fn phase(side: &Side, name: &str) -> String {
    side.phases
        .get(name)
        .map_or_else(|| "–".to_owned(), |s| secs(s.median))
}

/// The plain-text part of the terminal table.
pub(crate) fn table(runs: &[ReuseRun]) -> String {
    let mut out = String::new();
    for r in runs {
        let _ = writeln!(
            out,
            "\n== 7. Template reuse on {}, --parallel {}, {} round{}\n   {:<24} {:>26} {:>10} {:>26} {:>10} {:>8} {:>20}",
            dialect(&r.backend),
            r.parallel,
            r.rounds,
            if r.rounds == 1 { "" } else { "s" },
            "suite",
            "without --reuse: wall",
            "template",
            "with --reuse: wall",
            "template",
            "wall ×",
            "template ×"
        );
        for s in &r.suites {
            let _ = writeln!(
                out,
                "   {:<24} {:>26} {:>10} {:>26} {:>10} {:>8} {:>20}",
                s.suite,
                s.without.wall_seconds.seconds(),
                secs(s.without.template_seconds.median),
                s.with.wall_seconds.seconds(),
                secs(s.with.template_seconds.median),
                times(s.wall_ratio),
                small_ratio(s.template_ratio)
            );
        }
        for s in &r.skipped {
            let _ = writeln!(out, "   not measured: {s}");
        }
        let _ = writeln!(out, "   after clean --templates: {}", left_line(r));
    }
    out
}

fn left_line(r: &ReuseRun) -> String {
    let mut parts = Vec::new();
    if r.left_after_clean.is_empty() {
        parts.push(format!("no database named {PREFIX}… left"));
    } else {
        parts.push(format!("LEFT: {}", r.left_after_clean.join(", ")));
    }
    parts.push(format!("{} template records left", r.records_after_clean));
    parts.join(", ")
}

/// The Markdown of section 7 (after the run's heading), for BENCHMARKS.md.
pub(crate) fn markdown(runs: &[ReuseRun]) -> String {
    let mut md = String::new();
    let Some(first) = runs.first() else {
        let _ = writeln!(md, "Nothing measured.");
        return md;
    };
    let _ = writeln!(
        md,
        "`paraclone test --parallel {}` without `--reuse` against with `--reuse` (after one \
         unmeasured run that built and kept the template), {} interleaved round{} per suite, \
         median (min–max) of the wall time around the process; template = the `template` phase \
         of the summary. Ratio = with `--reuse` over without (below 1: reuse is faster).\n\n\
         | example | backend | tests | without `--reuse`: wall | template | with `--reuse`: wall | template | **wall ratio** | template ratio | saved per run |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        first.parallel,
        first.rounds,
        if first.rounds == 1 { "" } else { "s" }
    );
    for r in runs {
        for s in &r.suites {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | **{}** | {} | {} |",
                s.suite,
                dialect(&r.backend),
                s.tests,
                s.without.wall_seconds.seconds(),
                secs(s.without.template_seconds.median),
                s.with.wall_seconds.seconds(),
                secs(s.with.template_seconds.median),
                times(s.wall_ratio),
                small_ratio(s.template_ratio),
                signed_secs(s.wall_saved_seconds)
            );
        }
    }
    let _ = writeln!(
        md,
        "\nThe other phases (medians, without → with `--reuse`) and the run that built the kept \
         template (one sample, not compared):\n\n\
         | example | backend | clone | build | run | teardown | first run with `--reuse`: wall | its template |\n\
         |---|---|---:|---:|---:|---:|---:|---:|"
    );
    for r in runs {
        for s in &r.suites {
            let arrow =
                |name: &str| format!("{} → {}", phase(&s.without, name), phase(&s.with, name));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                s.suite,
                dialect(&r.backend),
                arrow("clone"),
                arrow("build"),
                arrow("run"),
                arrow("teardown"),
                secs(s.first_build.wall_seconds.median),
                secs(s.first_build.template_seconds.median)
            );
        }
    }
    let _ = writeln!(md);
    for r in runs {
        let reused = r
            .suites
            .iter()
            .map(|s| format!("`{}`", s.reused_line))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            md,
            "- {}: a reuse run's summary: {reused}; after `paraclone clean --templates`: {}.",
            dialect(&r.backend),
            left_line(r)
        );
        for s in &r.skipped {
            let _ = writeln!(md, "- {}: not measured: {s}.", dialect(&r.backend));
        }
    }
    md
}
