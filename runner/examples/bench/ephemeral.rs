//! Measurement 8: throwaway servers (issue 17), `paraclone test
//! --ephemeral` against the stock server, per server backend.
//!
//! 1. **Clone throughput with start-up.** A generated project
//!    (`ephemeral/paraclone*.toml` in the output directory) whose
//!    migrations are the bench template's files ([`schema::migrations`],
//!    the same as section 1's) and whose suite is `kind = "command"` with
//!    8 trivial tests in 8 groups (`c1::t` … `c8::t`, `run = "true
//!    {tests}"`), so that `-j8` makes 8 clones. Run by the release
//!    paraclone with `--ephemeral -j8` (and, on MariaDB, once per
//!    `ephemeral_clones`: `databases`, `servers`, `auto`) and without
//!    `--ephemeral` on the stock server; the phases come from the
//!    summary, and `server + clone` is "8 clones with start-up". Django's
//!    method (8 clones one after another on the stock server, section 1's
//!    code) runs in the same rounds, on a template of the same migrations
//!    built once; the order of the methods rotates by round. The ratio is
//!    `server + clone` over Django's time (**≤ 0.1×** is issue 17's
//!    target).
//! 2. **Whole run.** examples/shop at `-j8`, on the stock server and with
//!    `--ephemeral`, in interleaved rounds (the order alternating), after
//!    one unmeasured run that builds the suite.
//!
//! Every paraclone run here has nothing of the caller's paraclone
//! environment but the server URLs (a `PARACLONE_EPHEMERAL=1` would spoil
//! the stock runs); the generated project has a state directory of its
//! own (`ephemeral/state`) and the base name `pcbench_eph`. Django's
//! databases are named under a fresh run id and swept afterwards, as in
//! section 1; paraclone's runs drop their clones and stop their servers
//! themselves.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use cloner::naming::{self, RunId};
use serde::Serialize;

use crate::backends::Backend;
use crate::clones::{self, BASE};
use crate::schema::{self, TemplateSize};
use crate::stats::{Stats, secs, times};
use crate::suites::{Tools, paraclone_test, parse_summary, run_checked, write_if_changed};

/// Workers of every run here, and so clones.
pub(crate) const PARALLEL: usize = 8;
/// Issue 17's target: 8 clones with start-up on a throwaway server in at
/// most this fraction of Django's method on the stock server.
pub(crate) const TARGET: f64 = 0.1;
/// The generated project's base name.
const BASE_NAME: &str = "pcbench_eph";

/// One backend's measurements.
#[derive(Debug, Serialize)]
pub(crate) struct EphemeralRun {
    pub(crate) backend: String,
    /// The stock server's version and label (its URL, redacted).
    pub(crate) stock_version: String,
    pub(crate) stock_server: String,
    pub(crate) parallel: usize,
    pub(crate) rounds: usize,
    pub(crate) clones: CloneRuns,
    pub(crate) whole: WholeRuns,
}

/// Part 1: the generated project.
#[derive(Debug, Serialize)]
pub(crate) struct CloneRuns {
    pub(crate) template: TemplateSize,
    pub(crate) migration_files: usize,
    /// The unmeasured first run on a throwaway server, with nothing of
    /// an earlier run's cached in the project's state directory (what a
    /// first `--ephemeral` run on a machine pays once).
    pub(crate) first_run: FirstRun,
    /// Django's template on the stock server, built once.
    pub(crate) django_template_seconds: f64,
    pub(crate) django_label: String,
    /// Django's method: the clones one after another on the stock server.
    pub(crate) django_seconds: Stats,
    /// paraclone on the stock server (no `--ephemeral`).
    pub(crate) stock: Runs,
    /// Its clone phase over Django's time.
    pub(crate) stock_clone_ratio: f64,
    /// paraclone `--ephemeral`, per way of cloning on the throwaway server.
    pub(crate) throwaway: Vec<Throwaway>,
}

/// paraclone `--ephemeral` with one `ephemeral_clones` setting.
#[derive(Debug, Serialize)]
pub(crate) struct Throwaway {
    /// `default` (PostgreSQL), else the `ephemeral_clones` value.
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) runs: Runs,
    /// `server + clone` of each run: 8 clones with the server's start-up.
    pub(crate) start_and_clone_seconds: Stats,
    /// Its median over Django's (the headline; below 1: faster).
    pub(crate) ratio: f64,
    /// The clone phase alone over Django's time.
    pub(crate) clone_ratio: f64,
    /// `server + clone` over Django's time, round by round.
    pub(crate) round_ratios: Vec<f64>,
    pub(crate) target_met: bool,
}

/// The first run on a throwaway server (one sample, not compared).
#[derive(Debug, Serialize)]
pub(crate) struct FirstRun {
    pub(crate) label: String,
    pub(crate) wall_seconds: f64,
    pub(crate) server_seconds: f64,
    pub(crate) clone_seconds: f64,
}

/// Several runs of one paraclone command.
#[derive(Debug, Serialize)]
pub(crate) struct Runs {
    /// The command, for people (config file relative to its directory).
    pub(crate) command: String,
    pub(crate) tests: usize,
    /// Wall time around the process.
    pub(crate) wall_seconds: Stats,
    /// Every phase of its summary (server, template, clone, build, run,
    /// teardown).
    pub(crate) phases: BTreeMap<String, Stats>,
    /// Clones made, from the summary's `Databases` line (the last run's).
    pub(crate) clones_made: usize,
    /// The `Database default:` line: where the databases were.
    pub(crate) database_line: String,
    /// The summary's `Cloned …` lines: how they were made.
    pub(crate) cloned_lines: Vec<String>,
}

/// Part 2: examples/shop.
#[derive(Debug, Serialize)]
pub(crate) struct WholeRuns {
    pub(crate) suite: String,
    pub(crate) stock: Runs,
    pub(crate) throwaway: Runs,
    /// Throwaway median wall over stock median wall (below 1: faster).
    pub(crate) wall_ratio: f64,
    pub(crate) round_wall_ratios: Vec<f64>,
}

/// What one paraclone run gave.
struct Sample {
    wall: f64,
    tests: usize,
    phases: Vec<(String, f64)>,
    clones_made: usize,
    database_line: String,
    cloned_lines: Vec<String>,
}

impl Sample {
    fn phase(&self, name: &str) -> f64 {
        self.phases
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, s)| *s)
    }
}

/// A paraclone command measured here.
#[derive(Clone)]
struct Contestant {
    key: String,
    label: String,
    config: PathBuf,
    args: Vec<String>,
    ephemeral: bool,
}

/// Measures `backend` (postgres or mysql): part 1 with Django's method
/// from `backend.methods` (its `django` method, counted at [`PARALLEL`]),
/// then part 2; `rounds` interleaved rounds each. Django's databases are
/// swept afterwards, also after an error or Ctrl-C.
pub(crate) async fn measure(
    tools: &Tools,
    backend: Backend,
    size: TemplateSize,
    rounds: usize,
) -> Result<EphemeralRun> {
    let run = RunId::generate();
    let sweeper = (backend.paraclone)()?;
    let what = format!("the throwaway-server measurement on {}", backend.name);
    clones::guarded(
        &what,
        &*sweeper,
        &run,
        &tools.stop,
        measure_all(tools.clone(), backend, size, rounds, run.clone()),
    )
    .await
}

async fn measure_all(
    tools: Tools,
    backend: Backend,
    size: TemplateSize,
    rounds: usize,
    run: RunId,
) -> Result<EphemeralRun> {
    let name = backend.name;
    let django = backend
        .methods
        .iter()
        .find(|m| m.key == "django" && m.how.count() == PARALLEL)
        .with_context(|| format!("no Django method of {PARALLEL} clones for {name}"))?
        .clone();
    let builder = (backend.paraclone)()?;
    let stock_version = builder.server_version().await?;
    let stock_server = builder.server_label();

    let dir = tools.work.join("ephemeral");
    let migrations = schema::migrations(name, size);
    let contestants = write_project(&dir, name, &migrations)?;

    // One unmeasured run on a throwaway server first, with the state
    // directory's cache of servers (PostgreSQL's initialised data
    // directory) removed: it fails fast where the server programs are
    // missing, shows what a first run pays once, and leaves the cache
    // every later run finds, as a user's second run does.
    eprintln!(
        "bench: throwaway servers on {name}: first run of the generated project, nothing cached \
         (not measured)"
    );
    let cache = dir.join("state/servers");
    if cache.exists() {
        std::fs::remove_dir_all(&cache).with_context(|| format!("remove {}", cache.display()))?;
    }
    let first = contestants
        .iter()
        .find(|c| c.ephemeral)
        .expect("one throwaway contestant")
        .clone();
    let first = {
        let sample = blocking(&tools, &first).await?;
        FirstRun {
            label: first.label.clone(),
            wall_seconds: sample.wall,
            server_seconds: sample.phase("server"),
            clone_seconds: sample.phase("clone"),
        }
    };

    let template =
        naming::database_name(BASE, &run, naming::Role::Template, builder.max_name_len());
    eprintln!(
        "bench: throwaway servers on {name}: building Django's template on the stock server \
         ({} tables x {} rows, {} migration files)",
        size.tables,
        size.rows_per_table,
        migrations.len()
    );
    let django_template_seconds = clones::build_template(&*builder, &template, &migrations).await?;

    let mut django_times = Vec::new();
    let mut samples: Vec<Vec<Sample>> = contestants.iter().map(|_| Vec::new()).collect();
    let total = contestants.len() + 1;
    for round in 1..=rounds {
        // Index `contestants.len()` is Django's method; the order rotates
        // by round, so that none always follows the same one.
        for step in 0..total {
            tools.check_stop()?;
            let i = (step + round - 1) % total;
            if i == contestants.len() {
                let (made, _) = clones::run_method(&django, &template, &run, &migrations)
                    .await
                    .with_context(|| format!("{} (round {round})", django.label))?;
                eprintln!(
                    "bench: throwaway servers on {name}: round {round}/{rounds}: {:<62} {:>9}",
                    django.label,
                    secs(made.as_secs_f64())
                );
                django_times.push(made);
                continue;
            }
            let c = &contestants[i];
            let sample = blocking(&tools, c).await?;
            eprintln!(
                "bench: throwaway servers on {name}: round {round}/{rounds}: {:<62} {:>9} \
                 ({}clone {})",
                c.label,
                secs(sample.wall),
                if c.ephemeral {
                    format!("server {}, ", secs(sample.phase("server")))
                } else {
                    String::new()
                },
                secs(sample.phase("clone"))
            );
            samples[i].push(sample);
        }
    }
    builder.drop_database(&template).await?;
    let django_seconds = Stats::of_durations(&django_times);

    let mut stock = None;
    let mut throwaway = Vec::new();
    for (c, samples) in contestants.iter().zip(&samples) {
        let runs = runs(c, samples);
        if !c.ephemeral {
            stock = Some(runs);
            continue;
        }
        let sums: Vec<f64> = samples
            .iter()
            .map(|s| s.phase("server") + s.phase("clone"))
            .collect();
        let start_and_clone = Stats::of(&sums);
        let ratio = start_and_clone.median / django_seconds.median;
        throwaway.push(Throwaway {
            key: c.key.clone(),
            label: c.label.clone(),
            clone_ratio: median_phase(&runs, "clone") / django_seconds.median,
            round_ratios: sums
                .iter()
                .zip(&django_times)
                .map(|(s, d)| s / d.as_secs_f64())
                .collect(),
            target_met: ratio <= TARGET,
            ratio,
            start_and_clone_seconds: start_and_clone,
            runs,
        });
    }
    let stock = stock.expect("one stock contestant");
    let clones = CloneRuns {
        template: size,
        migration_files: migrations.len(),
        first_run: first,
        django_template_seconds,
        django_label: django.label.clone(),
        stock_clone_ratio: median_phase(&stock, "clone") / django_seconds.median,
        django_seconds,
        stock,
        throwaway,
    };

    let whole = {
        let tools = tools.clone();
        tokio::task::spawn_blocking(move || whole_run(&tools, name, rounds)).await??
    };
    Ok(EphemeralRun {
        backend: name.to_owned(),
        stock_version,
        stock_server,
        parallel: PARALLEL,
        rounds,
        clones,
        whole,
    })
}

fn median_phase(runs: &Runs, name: &str) -> f64 {
    runs.phases.get(name).map_or(0.0, |s| s.median)
}

/// Runs `c` once, off the async threads.
async fn blocking(tools: &Tools, c: &Contestant) -> Result<Sample> {
    let (tools, c) = (tools.clone(), c.clone());
    tokio::task::spawn_blocking(move || run(&tools, &c)).await?
}

/// Part 2: examples/shop at `-j8`, stock against `--ephemeral`.
fn whole_run(tools: &Tools, backend: &str, rounds: usize) -> Result<WholeRuns> {
    let config = tools.root.join("examples/shop/paraclone.toml");
    let contestant = |ephemeral: bool| Contestant {
        key: if ephemeral { "ephemeral" } else { "stock" }.to_owned(),
        label: format!(
            "examples/shop -j{PARALLEL}, {}",
            if ephemeral {
                "throwaway server"
            } else {
                "stock server"
            }
        ),
        config: config.clone(),
        args: args(backend, ephemeral),
        ephemeral,
    };
    let (stock, throwaway) = (contestant(false), contestant(true));
    // Unmeasured: the first builds the suite, the second starts a
    // throwaway server once for shop's state directory (its cache).
    eprintln!("bench: throwaway servers on {backend}: building examples/shop (not measured)");
    run(tools, &stock)?;
    run(tools, &throwaway)?;
    let (mut on_stock, mut on_throwaway) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let throwaway_first = round % 2 == 0;
        for ephemeral in [throwaway_first, !throwaway_first] {
            tools.check_stop()?;
            let c = if ephemeral { &throwaway } else { &stock };
            let sample = run(tools, c)?;
            eprintln!(
                "bench: throwaway servers on {backend}: round {round}/{rounds}: {:<40} {:>9}",
                c.label,
                secs(sample.wall)
            );
            if ephemeral {
                on_throwaway.push(sample);
            } else {
                on_stock.push(sample);
            }
        }
    }
    let (stock_runs, throwaway_runs) = (runs(&stock, &on_stock), runs(&throwaway, &on_throwaway));
    Ok(WholeRuns {
        suite: "examples/shop".to_owned(),
        wall_ratio: throwaway_runs.wall_seconds.median / stock_runs.wall_seconds.median,
        round_wall_ratios: on_throwaway
            .iter()
            .zip(&on_stock)
            .map(|(t, s)| t.wall / s.wall)
            .collect(),
        stock: stock_runs,
        throwaway: throwaway_runs,
    })
}

fn args(backend: &str, ephemeral: bool) -> Vec<String> {
    let mut args: Vec<String> = ["--color", "never", "--db", backend, "--parallel"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.push(PARALLEL.to_string());
    if ephemeral {
        args.push("--ephemeral".to_owned());
    }
    args
}

/// Runs `c` once and reads its summary; checks that it ran on the server
/// it was meant to, and made a clone per worker.
fn run(tools: &Tools, c: &Contestant) -> Result<Sample> {
    tools.check_stop()?;
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let mut command = paraclone_test(tools, &c.config, &args, &[]);
    clean_env(&mut command);
    let (took, output) = run_checked(command, &format!("paraclone: {}", c.label))?;
    let summary = parse_summary(&output).with_context(|| c.label.clone())?;
    let line = |label: &str| {
        output
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix(label).map(str::trim))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let database_line = line("Database ").into_iter().next().unwrap_or_default();
    let clones_made = line("Databases ")
        .first()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("{}: no `Databases` line in its summary", c.label))?;
    let has_server = summary.phases.iter().any(|(n, _)| n == "server");
    let on_throwaway = database_line.contains("throwaway");
    if c.ephemeral != has_server || c.ephemeral != on_throwaway {
        bail!(
            "{}: {} a throwaway server, but its summary says {database_line:?} with phases {:?}",
            c.label,
            if c.ephemeral {
                "meant for"
            } else {
                "not meant for"
            },
            summary.phases
        );
    }
    if clones_made != PARALLEL {
        bail!(
            "{}: made {clones_made} clones, not {PARALLEL} (one per worker)",
            c.label
        );
    }
    Ok(Sample {
        wall: took.as_secs_f64(),
        tests: summary.tests,
        phases: summary.phases,
        clones_made,
        database_line,
        cloned_lines: line("Cloned "),
    })
}

/// Nothing of the caller's paraclone environment but the server URLs.
fn clean_env(command: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("PARACLONE_")
            && !["PARACLONE_POSTGRES_URL", "PARACLONE_MYSQL_URL"].contains(&k.as_ref())
        {
            command.env_remove(k.as_ref());
        }
    }
}

fn runs(c: &Contestant, samples: &[Sample]) -> Runs {
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in samples {
        for (name, v) in &s.phases {
            phases.entry(name.clone()).or_default().push(*v);
        }
    }
    let last = samples.last().expect("at least one round");
    let config = c
        .config
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    Runs {
        command: format!(
            "paraclone test --config {config} {}",
            c.args
                .iter()
                .filter(|a| !["--color", "never"].contains(&a.as_str()))
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        ),
        tests: last.tests,
        wall_seconds: Stats::of(&samples.iter().map(|s| s.wall).collect::<Vec<_>>()),
        phases: phases
            .iter()
            .map(|(k, v)| (k.clone(), Stats::of(v)))
            .collect(),
        clones_made: last.clones_made,
        database_line: last.database_line.clone(),
        cloned_lines: last.cloned_lines.clone(),
    }
}

// --- the generated project -------------------------------------------------

/// Writes the project (migrations of `backend`, a config per way of
/// running it) into `dir`; returns what to run, the stock server first.
fn write_project(
    dir: &Path,
    backend: &str,
    migrations: &[cloner::Migration],
) -> Result<Vec<Contestant>> {
    // Files of another size have other names: none may be left over.
    let files = dir.join("migrations").join(backend);
    if files.exists() {
        std::fs::remove_dir_all(&files).with_context(|| format!("remove {}", files.display()))?;
    }
    for m in migrations {
        write_if_changed(&files.join(&m.name), &m.sql)?;
    }
    let tests: Vec<String> = (1..=PARALLEL).map(|g| format!("\"c{g}::t\"")).collect();
    let config = |extra: &str| {
        format!(
            "# Generated by `cargo xtask bench` (section ephemeral): the bench template's\n\
             # migrations and {PARALLEL} trivial tests in {PARALLEL} groups (a group is what\n\
             # comes before the last `::`), so that -j{PARALLEL} makes {PARALLEL} clones.\n\
             [run]\nstate_dir = \"state\"\n\n\
             [tests]\nkind = \"command\"\nrun = \"true {{tests}}\"\ntests = [{}]\n\n\
             [databases.default]\nname = \"{BASE_NAME}\"\nmigrations = \"migrations/{{backend}}\"\n{extra}",
            tests.join(", ")
        )
    };
    let plain = dir.join("paraclone.toml");
    write_if_changed(&plain, &config(""))?;
    let mut contestants = vec![Contestant {
        key: "stock".to_owned(),
        label: "paraclone, stock server".to_owned(),
        config: plain.clone(),
        args: args(backend, false),
        ephemeral: false,
    }];
    if backend == "mysql" {
        for way in ["databases", "servers", "auto"] {
            let path = dir.join(format!("paraclone-{way}.toml"));
            write_if_changed(
                &path,
                &config(&format!(
                    "\n[backends.mysql]\nephemeral_clones = \"{way}\"\n"
                )),
            )?;
            contestants.push(Contestant {
                key: way.to_owned(),
                label: format!("paraclone --ephemeral, ephemeral_clones = \"{way}\""),
                config: path,
                args: args(backend, true),
                ephemeral: true,
            });
        }
    } else {
        contestants.push(Contestant {
            key: "default".to_owned(),
            label: "paraclone --ephemeral".to_owned(),
            config: plain,
            args: args(backend, true),
            ephemeral: true,
        });
    }
    Ok(contestants)
}

// --- reporting -------------------------------------------------------------

fn dialect(backend: &str) -> &str {
    match backend {
        "postgres" => "PostgreSQL",
        "mysql" => "MySQL/MariaDB",
        other => other,
    }
}

fn phase(runs: &Runs, name: &str) -> String {
    runs.phases
        .get(name)
        .map_or_else(|| "–".to_owned(), |s| secs(s.median))
}

/// `0.63×`, `0.042×`: enough digits for ratios near the 0.1× target.
fn ratio(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}×")
    } else {
        times(r)
    }
}

fn verdict(t: &Throwaway) -> &'static str {
    if t.target_met { "met" } else { "missed" }
}

/// What the throwaway server was, from the `Database default:` line:
/// `throwaway PostgreSQL 15.20 in /dev/shm/…`.
fn server_of(runs: &Runs) -> String {
    let line = &runs.database_line;
    let from = line.find("throwaway").unwrap_or(0);
    let text = &line[from..];
    // The directory is the run's own; its parent is what stays the same.
    match text.rsplit_once(" in ") {
        Some((what, dir)) => {
            let parent = Path::new(dir)
                .parent()
                .map_or_else(|| dir.to_owned(), |p| p.display().to_string());
            format!("{what} in {parent}")
        }
        None => text.to_owned(),
    }
}

/// The `Cloned` lines of a run, or `–`.
fn cloned(runs: &Runs) -> String {
    if runs.cloned_lines.is_empty() {
        "–".to_owned()
    } else {
        runs.cloned_lines.join("; ")
    }
}

/// The plain-text part of the terminal table.
pub(crate) fn table(runs: &[EphemeralRun]) -> String {
    let mut out = String::new();
    for r in runs {
        let c = &r.clones;
        let _ = writeln!(
            out,
            "\n== 8. Throwaway servers on {} ({}), -j{}, {} round{}\n   \
             {} clones of the bench template ({} tables x {} rows, {} migration files):\n   \
             {:<82} {:>9} {:>9} {:>9} {:>24} {:>9} {:>9}",
            dialect(&r.backend),
            c.throwaway
                .first()
                .map_or_else(String::new, |t| server_of(&t.runs)),
            r.parallel,
            r.rounds,
            if r.rounds == 1 { "" } else { "s" },
            r.parallel,
            c.template.tables,
            c.template.rows_per_table,
            c.migration_files,
            "method",
            "server",
            "template",
            "clone",
            "server + clone",
            "wall",
            "× Django"
        );
        let _ = writeln!(
            out,
            "   {:<82} {:>9} {:>9} {:>9} {:>24} {:>9} {:>9}",
            c.django_label,
            "–",
            "–",
            secs(c.django_seconds.median),
            "–",
            "–",
            "1.00×"
        );
        let _ = writeln!(
            out,
            "   {:<82} {:>9} {:>9} {:>9} {:>24} {:>9} {:>9}",
            "paraclone, stock server",
            "–",
            phase(&c.stock, "template"),
            phase(&c.stock, "clone"),
            "–",
            secs(c.stock.wall_seconds.median),
            ratio(c.stock_clone_ratio)
        );
        for t in &c.throwaway {
            let _ = writeln!(
                out,
                "   {:<82} {:>9} {:>9} {:>9} {:>24} {:>9} {:>9}",
                t.label,
                phase(&t.runs, "server"),
                phase(&t.runs, "template"),
                phase(&t.runs, "clone"),
                t.start_and_clone_seconds.seconds(),
                secs(t.runs.wall_seconds.median),
                ratio(t.ratio)
            );
        }
        for t in &c.throwaway {
            let _ = writeln!(
                out,
                "   => {}: {} clones with start-up in {} of Django's time (target <= {TARGET}x: {}){}",
                t.label,
                r.parallel,
                ratio(t.ratio),
                verdict(t),
                if t.runs.cloned_lines.is_empty() {
                    String::new()
                } else {
                    format!("; {}", cloned(&t.runs))
                }
            );
        }
        let w = &r.whole;
        let _ = writeln!(
            out,
            "   {} -j{}: stock {}, throwaway {} => {}\n   \
             phases (median) server | template | clone | build | run | teardown: stock {}; throwaway {}",
            w.suite,
            r.parallel,
            w.stock.wall_seconds.seconds(),
            w.throwaway.wall_seconds.seconds(),
            times(w.wall_ratio),
            phase_line(&w.stock),
            phase_line(&w.throwaway)
        );
    }
    out
}

fn phase_line(runs: &Runs) -> String {
    ["server", "template", "clone", "build", "run", "teardown"]
        .iter()
        .map(|p| phase(runs, p))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The Markdown of section 8 (after the run's heading), for BENCHMARKS.md.
pub(crate) fn markdown(runs: &[EphemeralRun]) -> String {
    let mut md = String::new();
    let Some(first) = runs.first() else {
        let _ = writeln!(md, "Nothing measured.");
        return md;
    };
    let n = first.parallel;
    let size = first.clones.template;
    let _ = writeln!(
        md,
        "{n} clones of the bench template ({} tables × {} indexes × {} rows + view, trigger, \
         routine; {} migration files) made by `paraclone test -j{n}` for a `kind = \"command\"` \
         suite of {n} trivial tests in {n} groups, {} interleaved round{}; median (min–max). \
         \"With start-up\" = the summary's `server` + `clone` phases; the ratio is that over \
         Django's method on the stock server, in the same rounds (**≤ {TARGET}×** is the \
         target).\n\n\
         | backend | throwaway server | clones on it | server | clone | **{n} clones with start-up** | Django's method, stock server | **ratio** | ≤ {TARGET}× |\n\
         |---|---|---|---:|---:|---:|---:|---:|---|",
        size.tables,
        size.indexes_per_table,
        size.rows_per_table,
        first.clones.migration_files,
        first.rounds,
        if first.rounds == 1 { "" } else { "s" }
    );
    for r in runs {
        let c = &r.clones;
        for t in &c.throwaway {
            let way = if t.key == "default" {
                "databases (`CREATE DATABASE … TEMPLATE`)".to_owned()
            } else {
                format!("`ephemeral_clones = \"{}\"`", t.key)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {way} | {} | {} | **{}** | {} | **{}** | {} |",
                dialect(&r.backend),
                server_of(&t.runs),
                phase(&t.runs, "server"),
                phase(&t.runs, "clone"),
                t.start_and_clone_seconds.seconds(),
                c.django_seconds.seconds(),
                ratio(t.ratio),
                verdict(t)
            );
        }
    }
    let _ = writeln!(
        md,
        "\nEvery run of the generated project (medians; wall around the process; build = the \
         static test list; teardown includes stopping the throwaway server). × Django = the \
         clone phase over Django's time, and for throwaway servers also server + clone:\n\n\
         | backend | method | server | template | clone | teardown | wall | × Django: clone | server + clone | how the clones were made |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in runs {
        let c = &r.clones;
        let _ = writeln!(
            md,
            "| {} | {} (template built once in {}) | – | – | {} | – | – | 1.00× | – | – |",
            dialect(&r.backend),
            c.django_label.replace('|', "\\|"),
            secs(c.django_template_seconds),
            c.django_seconds.seconds()
        );
        let _ = writeln!(
            md,
            "| {} | paraclone, stock server (`{}`) | – | {} | {} | {} | {} | {} | – | {} |",
            dialect(&r.backend),
            c.stock.command,
            phase(&c.stock, "template"),
            c.stock
                .phases
                .get("clone")
                .map_or_else(|| "–".to_owned(), Stats::seconds),
            phase(&c.stock, "teardown"),
            secs(c.stock.wall_seconds.median),
            ratio(c.stock_clone_ratio),
            cloned(&c.stock)
        );
        for t in &c.throwaway {
            let _ = writeln!(
                md,
                "| {} | {} (`{}`) | {} | {} | {} | {} | {} | {} | {} | {} |",
                dialect(&r.backend),
                t.label,
                t.runs.command,
                phase(&t.runs, "server"),
                phase(&t.runs, "template"),
                t.runs
                    .phases
                    .get("clone")
                    .map_or_else(|| "–".to_owned(), Stats::seconds),
                phase(&t.runs, "teardown"),
                secs(t.runs.wall_seconds.median),
                ratio(t.clone_ratio),
                ratio(t.ratio),
                cloned(&t.runs)
            );
        }
    }
    let _ = writeln!(
        md,
        "\n**Whole run**: examples/shop at `-j{n}` on the stock server and with `--ephemeral`, \
         interleaved rounds (the order alternating) after one unmeasured run of each; ratio = \
         throwaway over stock (below 1: faster); then the phases, medians, stock → throwaway.\n\n\
         | backend | tests | stock server: wall | throwaway server: wall | **ratio** | server | template | clone | build | run | teardown |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in runs {
        let w = &r.whole;
        let arrow =
            |name: &str| format!("{} → {}", phase(&w.stock, name), phase(&w.throwaway, name));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} | {} |",
            dialect(&r.backend),
            w.throwaway.tests,
            w.stock.wall_seconds.seconds(),
            w.throwaway.wall_seconds.seconds(),
            times(w.wall_ratio),
            arrow("server"),
            arrow("template"),
            arrow("clone"),
            arrow("build"),
            arrow("run"),
            arrow("teardown")
        );
    }
    let _ = writeln!(md);
    for r in runs {
        let f = &r.clones.first_run;
        let _ = writeln!(
            md,
            "- {}: the first run ({}), with nothing cached in the project's state directory \
             (not measured): server {}, clone {}, wall {}.",
            dialect(&r.backend),
            f.label,
            secs(f.server_seconds),
            secs(f.clone_seconds),
            secs(f.wall_seconds)
        );
    }
    let misses: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.clones
                .throwaway
                .iter()
                .filter(|t| !t.target_met)
                .map(|t| {
                    format!(
                        "{}, {}: {} clones with start-up took {} of Django's time ({} against {}).",
                        dialect(&r.backend),
                        t.label,
                        r.parallel,
                        ratio(t.ratio),
                        secs(t.start_and_clone_seconds.median),
                        secs(r.clones.django_seconds.median)
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let _ = writeln!(md, "\n#### Short of the {TARGET}× target in this run\n");
    if misses.is_empty() {
        let _ = writeln!(md, "Nowhere in this run.");
    }
    for m in misses {
        let _ = writeln!(md, "- {m}");
    }
    md
}
