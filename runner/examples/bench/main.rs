//! The harness behind `cargo xtask bench`: measures paraclone against the methods users have today, side by side.
//!
//! ```text
//! cargo xtask bench [--db sqlite|postgres|mysql|all] [--quick]
//! ```
//!
//! runs this (built in release with the chosen backends' features) with
//! `--db sqlite,postgres,… [--quick] [--rounds N] [--sizes tiny|quick|full]
//! [--out DIR] [--only clone,whole,overhead,memory,python,schedule,reuse,ephemeral]`.
//! It measures, every comparison in the same invocation and in interleaved
//! rounds:
//!
//! 1. clone throughput per backend on a generated template: paraclone
//!    making 1, 4 and 8 clones as the runner makes them, against Django's
//!    method on that backend, migration replay into 8 databases at once,
//!    and a backend's floor or strategies ([`clones`]);
//! 2. a whole run of examples/shop, serial against `--parallel 2, 4, 8`;
//! 3. the runner's per-test overhead against cargo-nextest on one binary;
//! 4. the runner's peak memory for 100 to 10,000 trivial tests ([`suites`]);
//! 5. the Python examples run whole by paraclone against `manage.py test
//!    --parallel 4` and `pytest -n 4`, interpreter starts counted
//!    ([`python`]; left out of `--sizes tiny` unless `--only` names it);
//! 6. scheduling: a crate of one slow module and five fast ones, paraclone's
//!    second run (durations remembered) against `cargo nextest run -j 2`,
//!    both against the floor ([`schedule`]; like 5, left out of `--sizes
//!    tiny` unless named);
//! 7. template reuse: whole runs of examples/shop and examples/django_library
//!    with `--reuse` (the kept template reused) against without, per
//!    backend, every kept template cleaned afterwards ([`reuse`]; like 5,
//!    left out of `--sizes tiny` unless named);
//! 8. throwaway servers (`--ephemeral`): 8 clones of the bench template
//!    with the server's start-up against Django's method on the stock
//!    server, and examples/shop at `-j8` on each, on PostgreSQL and
//!    MySQL/MariaDB ([`ephemeral`]; like 5, left out of `--sizes tiny`
//!    unless named).
//!
//! It prints a table on stdout (progress goes to stderr) and writes
//! `results.json`, `section.md` (the Markdown that `cargo xtask bench`
//! puts into BENCHMARKS.md, for sections 1–4), `python.md` (section 5),
//! `schedule.md` (section 6), `reuse.md` (section 7) and `ephemeral.md`
//! (section 8), which have markers of their own there, to the output
//! directory; each Markdown file only when its sections ran. Speed is reported,
//! never asserted: the exit code is 1 only when something could not be
//! measured, 2 for a bad argument, 130 after Ctrl-C (with every database
//! the harness made dropped).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark harness reports on the terminal"
)]

// Some methods and helpers belong to one backend only.
#[cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
mod backends;
mod clones;
mod ephemeral;
mod machine;
mod python;
mod report;
mod reuse;
mod schedule;
mod schema;
mod stats;
mod suites;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use tokio_util::sync::CancellationToken;

use crate::report::{Results, ServerFacts};
use crate::schema::TemplateSize;
use crate::suites::Tools;

const USAGE: &str = "usage: bench --db sqlite[,postgres,mysql] [--quick] [--rounds N] \
                     [--sizes tiny|quick|full] [--out DIR] [--root DIR] [--paraclone PATH] \
                     [--only clone,whole,overhead,memory,python,schedule,reuse,ephemeral] \
                     [--command TEXT]";

const SECTIONS: [&str; 8] = [
    "clone",
    "whole",
    "overhead",
    "memory",
    "python",
    "schedule",
    "reuse",
    "ephemeral",
];

/// Sections of seconds-long sleeps, whole Python suites or servers
/// started per run: left out of the smallest size (the smoke test's)
/// unless `--only` names them.
const LONG_SECTIONS: [&str; 4] = ["python", "schedule", "reuse", "ephemeral"];

#[derive(Debug)]
struct Args {
    dbs: Vec<String>,
    quick: bool,
    rounds: Option<usize>,
    sizes: Option<String>,
    out: PathBuf,
    root: PathBuf,
    paraclone: Option<PathBuf>,
    /// `--only`, if given.
    only: Option<Vec<String>>,
    command: String,
}

fn parse_args(args: Vec<String>) -> Result<Args> {
    let mut parsed = Args {
        dbs: vec!["sqlite".to_owned()],
        quick: false,
        rounds: None,
        sizes: None,
        out: PathBuf::from("target/bench"),
        root: std::env::current_dir()?,
        paraclone: None,
        only: None,
        command: "cargo xtask bench".to_owned(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--db" => parsed.dbs = value()?.split(',').map(str::to_owned).collect(),
            "--quick" => parsed.quick = true,
            "--rounds" => {
                let n: usize = value()?.parse().context("--rounds takes a number")?;
                if n == 0 {
                    bail!("--rounds must be at least 1");
                }
                parsed.rounds = Some(n);
            }
            "--sizes" => {
                let s = value()?;
                if !["tiny", "quick", "full"].contains(&s.as_str()) {
                    bail!("--sizes is one of tiny, quick, full, not {s:?}");
                }
                parsed.sizes = Some(s);
            }
            "--out" => parsed.out = value()?.into(),
            "--root" => parsed.root = value()?.into(),
            "--paraclone" => parsed.paraclone = Some(value()?.into()),
            "--command" => parsed.command = value()?,
            "--only" => {
                let only: Vec<String> = value()?.split(',').map(str::to_owned).collect();
                if let Some(bad) = only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    bail!("--only takes {}, not {bad:?}", SECTIONS.join(", "));
                }
                parsed.only = Some(only);
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(parsed)
}

/// Sizes and rounds of one invocation.
#[derive(Debug)]
struct Plan {
    mode: &'static str,
    sizes: String,
    template: TemplateSize,
    clone_counts: Vec<usize>,
    parallel: Vec<usize>,
    overhead_tests: usize,
    memory_tests: Vec<usize>,
    rounds: Option<usize>,
}

impl Plan {
    fn new(args: &Args) -> Plan {
        let mode = if args.quick { "quick" } else { "full" };
        let sizes = args.sizes.clone().unwrap_or_else(|| mode.to_owned());
        let (template, parallel, overhead_tests, memory_tests) = match sizes.as_str() {
            "tiny" => (TemplateSize::new(10, 50), vec![1, 2], 20, vec![100, 1000]),
            "quick" => (
                TemplateSize::new(50, 250),
                vec![1, 2, 4, 8],
                200,
                vec![100, 1_000, 10_000],
            ),
            _ => (
                TemplateSize::new(200, 1000),
                vec![1, 2, 4, 8],
                200,
                vec![100, 1_000, 10_000],
            ),
        };
        Plan {
            mode,
            sizes,
            template,
            clone_counts: vec![1, 4, 8],
            parallel,
            overhead_tests,
            memory_tests,
            rounds: args.rounds,
        }
    }

    /// Rounds of the clone measurement: fewer where one round is long
    /// (MySQL's baselines restore the whole template row by row).
    fn clone_rounds(&self, backend: &str) -> usize {
        self.rounds.unwrap_or(match (self.mode, backend) {
            ("quick", "mysql") => 2,
            ("quick", _) => 3,
            (_, "sqlite") => 7,
            (_, "postgres") => 5,
            _ => 3,
        })
    }

    fn whole_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 1 } else { 3 })
    }

    fn overhead_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 2 } else { 5 })
    }

    /// Rounds of the Python comparison (one round runs four whole suites
    /// of a few seconds each, on a machine where the noise is of the same
    /// order: more rounds than for the whole run of examples/shop).
    fn python_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 1 } else { 5 })
    }

    /// Rounds of the scheduling case (one round is about 20 s of sleeps).
    fn schedule_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 1 } else { 3 })
    }

    /// Rounds of the reuse comparison (one round runs each suite twice).
    fn reuse_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 1 } else { 3 })
    }

    /// Rounds of the throwaway-server comparison (one round on MariaDB is
    /// Django's dump and load of 8 clones, about half a minute at the full
    /// size, and five runs of paraclone).
    fn ephemeral_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 1 } else { 3 })
    }

    fn memory_rounds(&self) -> usize {
        self.rounds
            .unwrap_or(if self.mode == "quick" { 1 } else { 3 })
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().is_some_and(|a| a == suites::PEAK_RSS_FLAG) {
        // Before anything else (no runtime, no threads): this process must
        // stay small, its size counts in the child's ru_maxrss.
        return match suites::peak_rss_helper(&raw[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let args = match parse_args(raw) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bench: {e:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<u8> {
    let started = Instant::now();
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let plan = Plan::new(&args);
    let compiled = backends::compiled();
    if let Some(missing) = args.dbs.iter().find(|d| !compiled.contains(&d.as_str())) {
        bail!(
            "the {missing} backend is not built into this harness (built: {}); \
             `cargo xtask bench --db {missing}` builds it",
            compiled.join(", ")
        );
    }
    let root = std::path::absolute(&args.root)?;
    let out = root.join(&args.out);
    std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    let paraclone = match &args.paraclone {
        Some(p) => root.join(p),
        // The harness is target/<profile>/examples/bench; the runner's
        // binary of the same build is target/<profile>/paraclone.
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("where the harness lives")?
            .join("paraclone"),
    };
    // By default every section, but the long ones (minutes of Python,
    // seconds of sleep) not in the smallest size, the smoke test's.
    let only: Vec<String> = args.only.clone().unwrap_or_else(|| {
        SECTIONS
            .iter()
            .filter(|s| !LONG_SECTIONS.contains(*s) || plan.sizes != "tiny")
            .map(|s| (*s).to_owned())
            .collect()
    });
    let want = |section: &str| only.iter().any(|s| s == section);
    if [
        "whole",
        "overhead",
        "memory",
        "python",
        "schedule",
        "reuse",
        "ephemeral",
    ]
    .iter()
    .any(|s| want(s))
        && !paraclone.is_file()
    {
        bail!(
            "no paraclone binary at {} (build it: cargo build --release -p runner)",
            paraclone.display()
        );
    }

    let stop = CancellationToken::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("bench: interrupted: dropping what was made, then stopping");
                stop.cancel();
            }
        });
    }
    let tools = Tools {
        paraclone,
        root: root.clone(),
        work: out.clone(),
        stop: stop.clone(),
    };
    let mut results = Results {
        format: 1,
        command: args.command.clone(),
        mode: plan.mode.to_owned(),
        sizes: plan.sizes.clone(),
        backends: args.dbs.clone(),
        started_unix,
        elapsed_seconds: 0.0,
        machine: machine::facts(&out),
        servers: Vec::new(),
        clone: Vec::new(),
        whole_run: Vec::new(),
        overhead: None,
        memory: None,
        python: Vec::new(),
        schedule: None,
        reuse: Vec::new(),
        ephemeral: Vec::new(),
        errors: Vec::new(),
    };
    eprintln!(
        "bench: {} mode, sizes {}, backends {}; results go to {}",
        plan.mode,
        plan.sizes,
        args.dbs.join(", "),
        out.display()
    );

    for db in &args.dbs {
        if stop.is_cancelled() {
            break;
        }
        let opened = backends::open(db, &out, &plan.clone_counts).await;
        let backend = match opened {
            Ok(b) => b,
            Err(e) => {
                results.errors.push(format!("{db}: {e:#}"));
                continue;
            }
        };
        match server_facts(&backend).await {
            Ok(facts) => results.servers.push(facts),
            Err(e) => results.errors.push(format!("{db}: server facts: {e:#}")),
        }
        if want("clone") {
            match clones::measure(backend, plan.template, plan.clone_rounds(db), &stop).await {
                Ok(r) => results.clone.push(r),
                Err(e) => results
                    .errors
                    .push(format!("clone throughput on {db}: {e:#}")),
            }
        }
    }
    if want("whole") {
        for db in &args.dbs {
            let (tools, db2, parallel, rounds) = (
                tools.clone(),
                db.clone(),
                plan.parallel.clone(),
                plan.whole_rounds(),
            );
            let outcome = tokio::task::spawn_blocking(move || {
                suites::whole_run(&tools, &db2, &parallel, rounds)
            })
            .await?;
            match outcome {
                Ok(r) => results.whole_run.push(r),
                Err(e) => results.errors.push(format!("whole run on {db}: {e:#}")),
            }
        }
    }
    let cores = results.machine.cores;
    if want("overhead") && !stop.is_cancelled() {
        let (tools, tests, rounds) = (tools.clone(), plan.overhead_tests, plan.overhead_rounds());
        match tokio::task::spawn_blocking(move || suites::overhead(&tools, tests, cores, rounds))
            .await?
        {
            Ok(r) => results.overhead = Some(r),
            Err(e) => results.errors.push(format!("runner overhead: {e:#}")),
        }
    }
    if want("memory") && !stop.is_cancelled() {
        let (tools, counts, rounds) = (
            tools.clone(),
            plan.memory_tests.clone(),
            plan.memory_rounds(),
        );
        match tokio::task::spawn_blocking(move || suites::memory(&tools, &counts, cores, rounds))
            .await?
        {
            Ok(r) => results.memory = Some(r),
            Err(e) => results.errors.push(format!("runner memory: {e:#}")),
        }
    }
    if want("python") {
        for db in &args.dbs {
            if stop.is_cancelled() {
                break;
            }
            if !["sqlite", "postgres"].contains(&db.as_str()) {
                eprintln!("bench: python suites: measured on sqlite and postgres only, not {db}");
                continue;
            }
            let (tools, db2, rounds) = (tools.clone(), db.clone(), plan.python_rounds());
            match tokio::task::spawn_blocking(move || python::measure(&tools, &db2, rounds)).await?
            {
                Ok(r) => results.python.push(r),
                Err(e) => results.errors.push(format!("python suites on {db}: {e:#}")),
            }
        }
    }
    if want("schedule") && !stop.is_cancelled() {
        let (tools, rounds) = (tools.clone(), plan.schedule_rounds());
        match tokio::task::spawn_blocking(move || schedule::measure(&tools, rounds)).await? {
            Ok(r) => results.schedule = Some(r),
            Err(e) => results.errors.push(format!("schedule: {e:#}")),
        }
    }
    if want("reuse") {
        for db in &args.dbs {
            if stop.is_cancelled() {
                break;
            }
            // Where the client lists the server's databases afterwards.
            let server = match backends::open(db, &out, &[1]).await {
                Ok(b) => b.maintenance,
                Err(e) => {
                    results.errors.push(format!("reuse on {db}: {e:#}"));
                    continue;
                }
            };
            let (tools, db2, rounds) = (tools.clone(), db.clone(), plan.reuse_rounds());
            match tokio::task::spawn_blocking(move || {
                reuse::measure(&tools, &db2, rounds, server.as_ref())
            })
            .await?
            {
                Ok(r) => {
                    if !r.left_after_clean.is_empty() || r.records_after_clean > 0 {
                        results.errors.push(format!(
                            "reuse on {db}: left after paraclone clean --templates: {}                              ({} template records)",
                            r.left_after_clean.join(", "),
                            r.records_after_clean
                        ));
                    }
                    results.reuse.push(r);
                }
                Err(e) => results.errors.push(format!("reuse on {db}: {e:#}")),
            }
        }
    }
    if want("ephemeral") {
        for db in &args.dbs {
            if stop.is_cancelled() {
                break;
            }
            if !["postgres", "mysql"].contains(&db.as_str()) {
                eprintln!("bench: throwaway servers: PostgreSQL and MySQL/MariaDB only, not {db}");
                continue;
            }
            // Django's method at the count the runs make.
            let backend = match backends::open(db, &out, &[ephemeral::PARALLEL]).await {
                Ok(b) => b,
                Err(e) => {
                    results.errors.push(format!("ephemeral on {db}: {e:#}"));
                    continue;
                }
            };
            match ephemeral::measure(&tools, backend, plan.template, plan.ephemeral_rounds()).await
            {
                Ok(r) => results.ephemeral.push(r),
                Err(e) => results.errors.push(format!("ephemeral on {db}: {e:#}")),
            }
        }
    }
    if stop.is_cancelled() {
        eprintln!("bench: interrupted; no results written");
        return Ok(130);
    }

    results.elapsed_seconds = started.elapsed().as_secs_f64();
    let json = serde_json::to_string_pretty(&results)?;
    let json_path = out.join("results.json");
    std::fs::write(&json_path, json + "\n")
        .with_context(|| format!("write {}", json_path.display()))?;
    // Each Markdown file only for sections that ran, so that xtask keeps
    // the others' numbers in BENCHMARKS.md.
    let mut written = vec![json_path.display().to_string()];
    for (file, ran, text) in [
        (
            "section.md",
            ["clone", "whole", "overhead", "memory"]
                .iter()
                .any(|s| want(s)),
            report::markdown(&results),
        ),
        (
            "python.md",
            want("python"),
            report::python_markdown(&results),
        ),
        (
            "schedule.md",
            want("schedule"),
            report::schedule_markdown(&results),
        ),
        ("reuse.md", want("reuse"), report::reuse_markdown(&results)),
        (
            "ephemeral.md",
            want("ephemeral"),
            report::ephemeral_markdown(&results),
        ),
    ] {
        let path = out.join(file);
        let _ = std::fs::remove_file(&path);
        if ran {
            std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
            written.push(path.display().to_string());
        }
    }
    print!("{}", report::table(&results));
    eprintln!("bench: wrote {}", written.join(", "));
    Ok(if results.errors.is_empty() { 0 } else { 1 })
}

/// Version, label and durability settings of the backend's server.
async fn server_facts(backend: &backends::Backend) -> Result<ServerFacts> {
    let cloner = (backend.paraclone)()?;
    let version = cloner.server_version().await?;
    let server = cloner.server_label();
    let (name, maintenance) = (backend.name, backend.maintenance.clone());
    let (settings, disk) = tokio::task::spawn_blocking(move || {
        let Some(c) = maintenance else {
            return (Default::default(), None);
        };
        let settings = backends::server_settings(name, &c);
        let local = c
            .host
            .as_deref()
            .is_none_or(|h| h.starts_with('/') || ["127.0.0.1", "localhost", "::1"].contains(&h));
        let disk = settings
            .get("data_directory")
            .or_else(|| settings.get("datadir"))
            .filter(|_| local)
            .map(|dir| machine::disk(Path::new(dir)));
        (settings, disk)
    })
    .await?;
    Ok(ServerFacts {
        backend: name.to_owned(),
        version,
        server,
        settings,
        disk,
    })
}
