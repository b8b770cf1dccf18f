//! Measurements 2–4, through the release `paraclone` binary: a whole run of
//! the example suite at several parallelisms, the runner's per-test
//! overhead against cargo-nextest on the same test binary, and the
//! runner's peak memory for growing numbers of tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::stats::{Stats, secs};

/// Where the programs measured are and where generated suites go.
#[derive(Clone, Debug)]
pub(crate) struct Tools {
    /// The release `paraclone` binary.
    pub(crate) paraclone: PathBuf,
    /// The workspace root (for examples/shop).
    pub(crate) root: PathBuf,
    /// Where generated suites and outputs go.
    pub(crate) work: PathBuf,
    pub(crate) stop: CancellationToken,
}

impl Tools {
    pub(crate) fn check_stop(&self) -> Result<()> {
        if self.stop.is_cancelled() {
            bail!("interrupted");
        }
        Ok(())
    }
}

// --- 2. whole run --------------------------------------------------------

#[derive(Debug, Serialize)]
pub(crate) struct WholeRun {
    pub(crate) backend: String,
    pub(crate) suite: String,
    pub(crate) tests: usize,
    pub(crate) rounds: usize,
    pub(crate) runs: Vec<RunPoint>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RunPoint {
    pub(crate) parallel: usize,
    /// Wall time of the `paraclone` process, as the harness measured it.
    pub(crate) wall_seconds: Stats,
    /// Time per phase from the summary's `Phases` line (template, clone,
    /// build, run, teardown; build overlaps template; clones wait for the build).
    pub(crate) phases: BTreeMap<String, Stats>,
    /// Serial wall time over this one (median over median).
    pub(crate) speedup: f64,
    /// The same for the run phase alone (tests running, no setup).
    pub(crate) run_phase_speedup: Option<f64>,
}

/// What one `paraclone test` printed in its summary.
pub(crate) struct Summary {
    pub(crate) tests: usize,
    pub(crate) phases: Vec<(String, f64)>,
}

pub(crate) fn parse_summary(output: &str) -> Result<Summary> {
    let line = |label: &str| {
        output
            .lines()
            .map(str::trim_start)
            .find_map(|l| l.strip_prefix(label).map(str::trim))
    };
    let summary = line("Summary ").context("no Summary line in paraclone's output")?;
    let tests = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .context("the Summary line has no test count")?;
    let phases_line = line("Phases ").context("no Phases line in paraclone's output")?;
    let phases_line = phases_line.split(" (").next().unwrap_or(phases_line);
    let phases = phases_line
        .split(" | ")
        .map(|p| {
            let (name, value) = p
                .trim()
                .rsplit_once(' ')
                .with_context(|| format!("phase {p:?}"))?;
            let seconds = humantime_secs(value).with_context(|| format!("phase {p:?}"))?;
            Ok((name.to_owned(), seconds))
        })
        .collect::<Result<_>>()?;
    Ok(Summary { tests, phases })
}

/// `0.123s` → 0.123.
fn humantime_secs(value: &str) -> Option<f64> {
    value.strip_suffix('s')?.parse().ok()
}

/// Runs `program` to completion with its output captured; fails with the
/// output's tail unless it exits 0.
pub(crate) fn run_checked(mut command: Command, what: &str) -> Result<(Duration, String)> {
    command.stdin(Stdio::null());
    let started = Instant::now();
    let out = command.output().with_context(|| format!("start {what}"))?;
    let took = started.elapsed();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{what} failed ({}):\n{}", out.status, tail.join("\n"));
    }
    Ok((took, text))
}

pub(crate) fn paraclone_test(
    tools: &Tools,
    config: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
) -> Command {
    let mut command = Command::new(&tools.paraclone);
    command
        .arg("test")
        .arg("--config")
        .arg(config)
        .arg("--no-progress")
        .args(args)
        .current_dir(config.parent().unwrap_or(Path::new(".")));
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Runs examples/shop on `backend` at every parallelism in `parallel`,
/// `rounds` interleaved rounds, after one unmeasured run that builds the
/// suite.
pub(crate) fn whole_run(
    tools: &Tools,
    backend: &str,
    parallel: &[usize],
    rounds: usize,
) -> Result<WholeRun> {
    let config = tools.root.join("examples/shop/paraclone.toml");
    let run = |p: usize| -> Result<(Duration, Summary)> {
        tools.check_stop()?;
        let p = p.to_string();
        let command = paraclone_test(tools, &config, &["--db", backend, "--parallel", &p], &[]);
        let (took, output) = run_checked(
            command,
            &format!("paraclone on examples/shop ({backend}, --parallel {p})"),
        )?;
        Ok((took, parse_summary(&output)?))
    };
    eprintln!("bench: whole run on {backend}: building examples/shop (not measured)");
    let (_, warm) = run(parallel.last().copied().unwrap_or(2))?;
    let mut walls = vec![Vec::new(); parallel.len()];
    let mut phases: Vec<BTreeMap<String, Vec<f64>>> = vec![BTreeMap::new(); parallel.len()];
    for round in 1..=rounds {
        for (i, &p) in parallel.iter().enumerate() {
            let (took, summary) = run(p)?;
            eprintln!(
                "bench: whole run on {backend}: round {round}/{rounds}: --parallel {p}: {}",
                secs(took.as_secs_f64())
            );
            walls[i].push(took.as_secs_f64());
            for (name, s) in summary.phases {
                phases[i].entry(name).or_default().push(s);
            }
        }
    }
    let serial = Stats::of(&walls[0]).median;
    let serial_run = phases[0].get("run").map(|r| Stats::of(r).median);
    Ok(WholeRun {
        backend: backend.to_owned(),
        suite: "examples/shop".to_owned(),
        tests: warm.tests,
        rounds,
        runs: parallel
            .iter()
            .zip(walls.iter().zip(phases))
            .map(|(&p, (walls, phases))| {
                let wall = Stats::of(walls);
                let run = phases.get("run").map(|r| Stats::of(r).median);
                RunPoint {
                    parallel: p,
                    speedup: serial / wall.median,
                    run_phase_speedup: serial_run.zip(run).map(|(s, r)| s / r),
                    wall_seconds: wall,
                    phases: phases
                        .iter()
                        .map(|(k, v)| (k.clone(), Stats::of(v)))
                        .collect(),
                }
            })
            .collect(),
    })
}

// --- 3. runner overhead ----------------------------------------------------

#[derive(Debug, Serialize)]
pub(crate) struct Overhead {
    pub(crate) tests: usize,
    pub(crate) parallel: usize,
    pub(crate) rounds: usize,
    pub(crate) nextest_seconds: Stats,
    pub(crate) paraclone_seconds: Stats,
    pub(crate) nextest_ms_per_test: f64,
    pub(crate) paraclone_ms_per_test: f64,
    /// paraclone's wall time per test over nextest's (1 = the same; below
    /// 1: paraclone is faster).
    pub(crate) ratio: f64,
    pub(crate) nextest_version: String,
    /// paraclone's phases from its summary: the fixed part (template,
    /// clone, build, teardown) and the run.
    pub(crate) paraclone_phases: BTreeMap<String, Stats>,
}

/// Writes `text` to `path` unless it already holds exactly that, so that a
/// generated crate is not rebuilt for nothing.
pub(crate) fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
}

/// The `Cargo.toml` (its own workspace, one integration-test binary
/// `tests/{test}.rs`) and the empty `src/lib.rs` of a generated crate.
pub(crate) fn write_test_crate(dir: &Path, about: &str, package: &str, test: &str) -> Result<()> {
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "# Generated by `cargo xtask bench`: {about}\n\
             [package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\
             autotests = false\n\n[lib]\npath = \"src/lib.rs\"\ntest = false\ndoctest = false\n\n\
             [[test]]\nname = \"{test}\"\npath = \"tests/{test}.rs\"\n\n\
             # Not a member of the paraclone workspace this directory sits in.\n[workspace]\n"
        ),
    )?;
    write_if_changed(
        &dir.join("src/lib.rs"),
        "//! Nothing: the tests are the point.\n",
    )
}

/// Copies an example's tree, leaving out caches, build output, SQLite
/// journals and the files `database` names.
pub(crate) fn copy_example(from: &Path, to: &Path, database: &dyn Fn(&str) -> bool) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if ["__pycache__", ".pytest_cache", "target"].contains(&name_str.as_ref())
            || name_str.ends_with(".pyc")
            || name_str.ends_with("-journal")
            || database(&name_str)
        {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_example(&entry.path(), &target, database)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A standalone crate (its own workspace) with one integration-test binary
/// of `tests` tests that do no I/O, in modules of 20, and a paraclone.toml
/// for it with a database alias and no migrations.
fn noop_suite(dir: &Path, tests: usize) -> Result<()> {
    write_test_crate(
        dir,
        "a test binary whose tests do no I/O.",
        "paraclone-bench-noop",
        "noop",
    )?;
    let mut text =
        String::from("//! Generated tests that do no I/O, to time a runner's own overhead.\n");
    for module in 0..tests.div_ceil(20) {
        let _ = writeln!(text, "\nmod m{module:03} {{");
        for t in module * 20..((module + 1) * 20).min(tests) {
            let _ = writeln!(
                text,
                "    #[test]\n    fn t{t:05}() {{\n        assert_eq!(std::hint::black_box({t}u64) * 2, {});\n    }}",
                t * 2
            );
        }
        text.push_str("}\n");
    }
    write_if_changed(&dir.join("tests/noop.rs"), &text)?;
    write_if_changed(
        &dir.join("paraclone.toml"),
        "# Generated by `cargo xtask bench`: the same binary nextest runs.\n\
         [run]\nstate_dir = \"target/paraclone\"\n\n\
         [tests]\nkind = \"rust\"\nworkspace = \".\"\n\n\
         # No migrations: the tests do not use it, the runner still makes it.\n\
         [databases.default]\nname = \"noop\"\nbackend = \"sqlite\"\n\n\
         [backends.sqlite]\ndir = \"target/paraclone/sqlite\"\n",
    )
}

/// Runs the same generated test binary under `cargo nextest run` and under
/// paraclone, `parallel` at a time, interleaved rounds after an unmeasured
/// run of each (which builds it).
pub(crate) fn overhead(
    tools: &Tools,
    tests: usize,
    parallel: usize,
    rounds: usize,
) -> Result<Overhead> {
    let dir = tools.work.join("noop-suite");
    noop_suite(&dir, tests)?;
    let target = dir.join("target");
    let p = parallel.to_string();
    let nextest = || {
        let mut command = Command::new("cargo");
        command
            .args(["nextest", "run", "--no-fail-fast", "--test-threads", &p])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target);
        command
    };
    let config = dir.join("paraclone.toml");
    let paraclone = || {
        paraclone_test(
            tools,
            &config,
            &["--parallel", &p],
            &[("CARGO_TARGET_DIR", &target)],
        )
    };
    let (_, version) = run_checked(
        {
            let mut c = Command::new("cargo");
            c.args(["nextest", "--version"]);
            c
        },
        "cargo nextest --version (install cargo-nextest)",
    )?;
    eprintln!("bench: overhead: building the generated suite of {tests} tests (not measured)");
    run_checked(nextest(), "cargo nextest run")?;
    let (_, output) = run_checked(paraclone(), "paraclone on the generated suite")?;
    let counted = parse_summary(&output)?.tests;
    if counted != tests {
        bail!("paraclone ran {counted} of the {tests} generated tests");
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for round in 1..=rounds {
        tools.check_stop()?;
        let (n, _) = run_checked(nextest(), "cargo nextest run")?;
        tools.check_stop()?;
        let (o, output) = run_checked(paraclone(), "paraclone on the generated suite")?;
        for (name, s) in parse_summary(&output)?.phases {
            phases.entry(name).or_default().push(s);
        }
        eprintln!(
            "bench: overhead: round {round}/{rounds}: nextest {}, paraclone {}",
            secs(n.as_secs_f64()),
            secs(o.as_secs_f64())
        );
        theirs.push(n);
        ours.push(o);
    }
    let (ours, theirs) = (Stats::of_durations(&ours), Stats::of_durations(&theirs));
    Ok(Overhead {
        tests,
        parallel,
        rounds,
        nextest_ms_per_test: theirs.median * 1e3 / tests as f64,
        paraclone_ms_per_test: ours.median * 1e3 / tests as f64,
        ratio: ours.median / theirs.median,
        nextest_seconds: theirs,
        paraclone_seconds: ours,
        nextest_version: version.lines().next().unwrap_or_default().trim().to_owned(),
        paraclone_phases: phases
            .iter()
            .map(|(k, v)| (k.clone(), Stats::of(v)))
            .collect(),
    })
}

// --- 4. runner memory ------------------------------------------------------

#[derive(Debug, Serialize)]
pub(crate) struct Memory {
    pub(crate) parallel: usize,
    pub(crate) batch: usize,
    pub(crate) rounds: usize,
    pub(crate) points: Vec<MemoryPoint>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MemoryPoint {
    pub(crate) tests: usize,
    /// `ru_maxrss` from `wait4` on the paraclone process, in KiB: the
    /// largest resident set of it, of any descendant it waited for (here
    /// `sh` and `true`, far smaller) and of the small helper process that
    /// started it (see `peak_rss_helper`).
    pub(crate) max_rss_kib: Stats,
    /// The largest `VmHWM` of the paraclone process itself, sampled from
    /// /proc every few milliseconds (Linux only), in KiB.
    pub(crate) vm_hwm_kib: Option<Stats>,
    pub(crate) wall_seconds: Stats,
}

const BATCH: usize = 50;

fn memory_suite(dir: &Path, tests: usize, parallel: usize) -> Result<PathBuf> {
    let mut ids = String::new();
    for t in 0..tests {
        let _ = write!(
            ids,
            "{}\"m{:04}::t{t:05}\"",
            if t == 0 { "" } else { ", " },
            t / BATCH
        );
    }
    let config = dir.join("paraclone.toml");
    write_if_changed(
        &config,
        &format!(
            "# Generated by `cargo xtask bench`: {tests} trivial tests in groups of {BATCH}.\n\
             [run]\nparallel = {parallel}\nstate_dir = \"target/paraclone\"\n\n\
             [tests]\nkind = \"command\"\nrun = \"true {{tests}}\"\nbatch = {BATCH}\ntests = [{ids}]\n\n\
             [databases.default]\nname = \"mem\"\nbackend = \"sqlite\"\n\n\
             [backends.sqlite]\ndir = \"target/paraclone/sqlite\"\n"
        ),
    )?;
    Ok(config)
}

/// Peak memory of `paraclone` running `counts` trivial tests each.
pub(crate) fn memory(
    tools: &Tools,
    counts: &[usize],
    parallel: usize,
    rounds: usize,
) -> Result<Memory> {
    let mut points = Vec::new();
    for &tests in counts {
        let dir = tools.work.join(format!("memory-{tests}"));
        let config = memory_suite(&dir, tests, parallel)?;
        let (mut rss, mut hwm, mut walls) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=rounds {
            tools.check_stop()?;
            let log = dir.join("output.txt");
            let record = dir.join("peak.txt");
            // paraclone is started by a fresh, small copy of this program
            // (see `peak_rss_helper`), not by this process.
            let mut command = Command::new(std::env::current_exe()?);
            command
                .arg(PEAK_RSS_FLAG)
                .arg(&record)
                .arg(&tools.paraclone)
                .args(["test", "--no-progress", "--config"])
                .arg(&config)
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log)?)
                .stderr(Stdio::null());
            let started = Instant::now();
            let helper = command.status().context("start the peak-RSS helper")?;
            if !helper.success() {
                bail!("the peak-RSS helper failed ({helper})");
            }
            let peak = Peak::read(&record)?;
            let took = started.elapsed();
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            if peak.status != 0 {
                bail!(
                    "paraclone with {tests} trivial tests exited with {} (output in {})",
                    peak.status,
                    log.display()
                );
            }
            let ran = parse_summary(&output)?.tests;
            if ran != tests {
                bail!(
                    "paraclone ran {ran} of {tests} trivial tests (output in {})",
                    log.display()
                );
            }
            eprintln!(
                "bench: memory: {tests} tests, round {round}/{rounds}: max RSS {} KiB in {}",
                peak.max_rss_kib,
                secs(took.as_secs_f64())
            );
            rss.push(peak.max_rss_kib as f64);
            hwm.extend(peak.vm_hwm_kib.map(|k| k as f64));
            walls.push(took.as_secs_f64());
        }
        points.push(MemoryPoint {
            tests,
            max_rss_kib: Stats::of(&rss),
            vm_hwm_kib: (hwm.len() == rss.len()).then(|| Stats::of(&hwm)),
            wall_seconds: Stats::of(&walls),
        });
    }
    Ok(Memory {
        parallel,
        batch: BATCH,
        rounds,
        points,
    })
}

/// The argument that makes the harness a peak-RSS helper.
pub(crate) const PEAK_RSS_FLAG: &str = "--peak-rss";

/// What the helper found, as it writes it: `status max_rss_kib vm_hwm_kib`
/// (`-` for an unknown VmHWM).
struct Peak {
    status: i32,
    max_rss_kib: u64,
    vm_hwm_kib: Option<u64>,
}

impl Peak {
    fn read(path: &Path) -> Result<Peak> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        let mut fields = text.split_whitespace();
        let mut next = || fields.next().context("a short peak-RSS record");
        Ok(Peak {
            status: next()?.parse()?,
            max_rss_kib: next()?.parse()?,
            vm_hwm_kib: next()?.parse().ok(),
        })
    }
}

/// `bench --peak-rss RECORD PROGRAM ARGS…`: runs the program (stdio
/// inherited), waits for it with `wait4` and writes its exit status and
/// peak memory to RECORD.
///
/// Why a helper: Linux counts in a process's `ru_maxrss` the memory of the
/// process image it replaced at `execve`, and a child spawned from this
/// harness replaces a copy of the harness (tens of MiB, every backend
/// client linked in). Started from a fresh copy of the harness that has
/// done nothing yet, paraclone's `ru_maxrss` carries at most that copy's
/// few MiB.
pub(crate) fn peak_rss_helper(args: &[String]) -> Result<()> {
    let [record, program, rest @ ..] = args else {
        bail!("usage: {PEAK_RSS_FLAG} RECORD PROGRAM [ARGS…]");
    };
    let mut command = Command::new(program);
    command.args(rest);
    let peak = peak_memory(command)?;
    std::fs::write(
        record,
        format!(
            "{} {} {}\n",
            peak.status,
            peak.max_rss_kib,
            peak.vm_hwm_kib
                .map_or_else(|| "-".to_owned(), |k| k.to_string())
        ),
    )
    .with_context(|| format!("write {record}"))
}

/// Runs `command` and returns its exit status and peak memory: `ru_maxrss`
/// from `wait4`, and the last `VmHWM` read from /proc while it ran.
fn peak_memory(mut command: Command) -> Result<Peak> {
    let child = command.spawn().context("start paraclone")?;
    let pid = child.id() as libc::pid_t;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = None;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(k) = vm_hwm(pid) {
                    peak = Some(peak.map_or(k, |p: u64| p.max(k)));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for (`child` is never
    // waited on through std); both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let vm_hwm_kib = sampler.join().ok().flatten();
    if waited != pid {
        bail!("wait4 on paraclone: {}", std::io::Error::last_os_error());
    }
    // The child was reaped by wait4: std must not wait for it again.
    drop(child);
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    // Linux reports ru_maxrss in KiB, macOS in bytes.
    let max_rss = usage.ru_maxrss as u64;
    let max_rss_kib = if cfg!(target_os = "macos") {
        max_rss / 1024
    } else {
        max_rss
    };
    Ok(Peak {
        status,
        max_rss_kib,
        vm_hwm_kib,
    })
}

/// The process's peak resident set so far (`VmHWM`), in KiB.
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
