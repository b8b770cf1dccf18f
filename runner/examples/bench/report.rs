//! The results: one serializable record (results.json), rendered as a
//! plain-text table for the terminal and as the Markdown section of
//! BENCHMARKS.md, with notes derived from the numbers wherever paraclone
//! is slower than something it is compared with.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::backends::Role;
use crate::clones::{CloneResult, MethodResult};
use crate::ephemeral::EphemeralRun;
use crate::machine::Machine;
use crate::python::{PythonRun, Starts};
use crate::reuse::ReuseRun;
use crate::schedule::Schedule;
use crate::stats::{Stats, faster, kib, secs, times};
use crate::suites::{Memory, Overhead, WholeRun};

#[derive(Debug, Serialize)]
pub(crate) struct Results {
    /// Version of this file's shape.
    pub(crate) format: u32,
    pub(crate) command: String,
    pub(crate) mode: String,
    pub(crate) sizes: String,
    pub(crate) backends: Vec<String>,
    pub(crate) started_unix: u64,
    pub(crate) elapsed_seconds: f64,
    pub(crate) machine: Machine,
    pub(crate) servers: Vec<ServerFacts>,
    pub(crate) clone: Vec<CloneResult>,
    pub(crate) whole_run: Vec<WholeRun>,
    pub(crate) overhead: Option<Overhead>,
    pub(crate) memory: Option<Memory>,
    /// Section 5, per backend.
    pub(crate) python: Vec<PythonRun>,
    /// Section 6: scheduling against cargo-nextest.
    pub(crate) schedule: Option<Schedule>,
    /// Section 7: template reuse, per backend.
    pub(crate) reuse: Vec<ReuseRun>,
    /// Section 8: throwaway servers against the stock ones, per backend.
    pub(crate) ephemeral: Vec<EphemeralRun>,
    /// Sections that could not be measured, and why.
    pub(crate) errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServerFacts {
    pub(crate) backend: String,
    pub(crate) version: String,
    pub(crate) server: String,
    pub(crate) settings: BTreeMap<String, String>,
    /// The disk under the server's data directory, when the server is on
    /// this machine and says where that is.
    pub(crate) disk: Option<String>,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Paraclone => "paraclone",
        Role::Django => "Django",
        Role::Replay => "replay",
        Role::Floor => "floor",
        Role::Variant => "variant",
    }
}

fn dialect_name(backend: &str) -> &str {
    match backend {
        "sqlite" => "SQLite",
        "postgres" => "PostgreSQL",
        "mysql" => "MySQL/MariaDB",
        other => other,
    }
}

fn template_line(c: &CloneResult) -> String {
    let t = &c.template;
    format!(
        "{} tables × {} indexes × {} rows + view, trigger{}, {} migration files{}; built once in {}",
        t.size.tables,
        t.size.indexes_per_table,
        t.size.rows_per_table,
        if c.backend == "sqlite" {
            ""
        } else {
            ", routine"
        },
        t.migration_files,
        t.bytes
            .map(|b| format!(", {:.1} MB", b as f64 / 1e6))
            .unwrap_or_default(),
        secs(t.build_seconds)
    )
}

/// The plain-text table printed at the end of a run.
pub(crate) fn table(r: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nparaclone bench ({}, sizes {}): {} cores, {:.1} GiB, took {}",
        r.mode,
        r.sizes,
        r.machine.cores,
        r.machine.memory_gib,
        secs(r.elapsed_seconds)
    );
    for c in &r.clone {
        let _ = writeln!(
            out,
            "\n== 1. Clone throughput, {} ({}), {}, concurrency hint {}\n   template: {}",
            dialect_name(&c.backend),
            c.version,
            rounds(c.rounds),
            c.concurrency_hint,
            template_line(c)
        );
        let _ = writeln!(
            out,
            "   {:<82} {:>3} {:>28} {:>10}",
            "method", "dbs", "make: median (min–max)", "drop"
        );
        for m in &c.methods {
            let _ = writeln!(
                out,
                "   {:<82} {:>3} {:>28} {:>10}",
                m.label,
                m.databases,
                m.seconds.seconds(),
                secs(m.drop_seconds.median)
            );
        }
        let _ = writeln!(out, "   => {}", headline_sentence(c));
    }
    for w in &r.whole_run {
        let _ = writeln!(
            out,
            "\n== 2. Whole run, {} ({} tests) on {}, {}",
            w.suite,
            w.tests,
            dialect_name(&w.backend),
            rounds(w.rounds)
        );
        let _ = writeln!(
            out,
            "   {:>8} {:>26} {:>8} {:>9}  phases (median): template | clone | build | run | teardown",
            "parallel", "wall: median (min–max)", "speedup", "run phase"
        );
        for p in &w.runs {
            let _ = writeln!(
                out,
                "   {:>8} {:>26} {:>8} {:>9}  {}",
                p.parallel,
                p.wall_seconds.seconds(),
                times(p.speedup),
                p.run_phase_speedup.map_or_else(|| "–".to_owned(), times),
                phase_line(&p.phases)
            );
        }
    }
    if let Some(o) = &r.overhead {
        let _ = writeln!(
            out,
            "\n== 3. Runner overhead: {} no-I/O tests, {} at a time, {}",
            o.tests,
            o.parallel,
            rounds(o.rounds)
        );
        let _ = writeln!(
            out,
            "   cargo nextest run  {:>26}  {:.2} ms/test  ({})",
            o.nextest_seconds.seconds(),
            o.nextest_ms_per_test,
            o.nextest_version
        );
        let _ = writeln!(
            out,
            "   paraclone          {:>26}  {:.2} ms/test  (phases: {})",
            o.paraclone_seconds.seconds(),
            o.paraclone_ms_per_test,
            phase_line(&o.paraclone_phases)
        );
        let _ = writeln!(
            out,
            "   => paraclone's wall time per test is {} nextest's",
            times(o.ratio)
        );
    }
    if let Some(m) = &r.memory {
        let _ = writeln!(
            out,
            "\n== 4. Runner memory: kind = \"command\", run = \"true {{tests}}\", batch {}, {} workers, {}",
            m.batch,
            m.parallel,
            rounds(m.rounds)
        );
        for p in &m.points {
            let _ = writeln!(
                out,
                "   {:>6} tests: peak RSS {:>9} (wait4 ru_maxrss), {:>9} (VmHWM), in {}",
                p.tests,
                kib(p.max_rss_kib.median),
                p.vm_hwm_kib
                    .as_ref()
                    .map_or_else(|| "n/a".to_owned(), |s| kib(s.median)),
                secs(p.wall_seconds.median)
            );
        }
    }
    for p in &r.python {
        let _ = writeln!(
            out,
            "\n== 5. Python suites on {}, --parallel {} / -n {}, {}",
            dialect_name(&p.backend),
            p.parallel,
            p.parallel,
            rounds(p.rounds)
        );
        for c in &p.suites {
            let _ = writeln!(
                out,
                "   {} ({} tests): paraclone {}, `{}` ({} tests) {}\n   => ratio {} (target <= 0.7x); \
                 interpreter starts: paraclone {}, own {}\n   paraclone phases: {}; worker start-up {}",
                c.suite,
                c.tests,
                c.paraclone_seconds.seconds(),
                c.tool,
                c.tool_tests,
                c.tool_seconds.seconds(),
                times(c.ratio),
                starts_line(&c.paraclone_starts),
                starts_line(&c.tool_starts),
                phase_line(&c.phases),
                c.worker_startup_seconds
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |s| s.seconds())
            );
        }
    }
    if let Some(s) = &r.schedule {
        out.push_str(&crate::schedule::table(s));
    }
    out.push_str(&crate::reuse::table(&r.reuse));
    out.push_str(&crate::ephemeral::table(&r.ephemeral));
    for e in &r.errors {
        let _ = writeln!(out, "\nERROR: {e}");
    }
    out
}

/// `6 (1 setup + 1 list + 4 workers)`, or a tool's plain count.
fn starts_line(s: &Starts) -> String {
    let varied = if s.varied { ", varied by round" } else { "" };
    if s.workers == 0 && s.setup == 0 {
        return format!("{}{varied}", s.total);
    }
    format!(
        "{} ({} setup + {} list + {} workers{varied})",
        s.total, s.setup, s.other, s.workers
    )
}

/// The Markdown of section 5 for BENCHMARKS.md (without its markers).
pub(crate) fn python_markdown(r: &Results) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "<!-- Generated by `cargo xtask bench`; rerun it rather than editing by hand. -->\n\n\
         ### Run of {} ({} mode)\n\n`{}` took {}; {} cores ({}), {} GiB.",
        date(r.started_unix),
        r.mode,
        r.command,
        secs(r.elapsed_seconds),
        r.machine.cores,
        r.machine.cpu,
        r.machine.memory_gib
    );
    if let Some(p) = r.python.first() {
        let v = |k: &str| p.versions.get(k).map_or("?", String::as_str);
        let _ = write!(
            md,
            "Python {}, Django {}, pytest {}, pytest-xdist {}",
            v("python"),
            v("django"),
            v("pytest"),
            v("pytest-xdist")
        );
        for s in r.servers.iter().filter(|s| s.backend != "sqlite") {
            let _ = write!(md, ", {}", s.version);
        }
        let _ = writeln!(md, ".");
    }
    if r.python.is_empty() {
        let _ = writeln!(md, "\nNothing measured.");
    } else {
        let _ = writeln!(
            md,
            "\nWall time around the process, median (min–max) of interleaved rounds; the ratio is \
             paraclone's median over the tool's (**≤ 0.7×** is the target). Interpreter starts \
             are counted by the `python3` shim.\n\n\
             | example | backend | tests | paraclone `--parallel {n}` | the tool's own | own command | ratio | ≤ 0.7× | Python starts: paraclone | own |\n\
             |---|---|---:|---:|---:|---|---:|---|---|---:|",
            n = r.python[0].parallel
        );
    }
    for p in &r.python {
        for c in &p.suites {
            let tests = if c.tests == c.tool_tests {
                c.tests.to_string()
            } else {
                format!("{} (own: {})", c.tests, c.tool_tests)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {tests} | {} | {} | `{}` | **{}** | {} | {} | {} |",
                c.suite,
                dialect_name(&p.backend),
                c.paraclone_seconds.seconds(),
                c.tool_seconds.seconds(),
                c.tool,
                times(c.ratio),
                if c.ratio <= 0.7 { "met" } else { "missed" },
                starts_line(&c.paraclone_starts),
                starts_line(&c.tool_starts)
            );
        }
    }
    if !r.python.is_empty() {
        let _ = writeln!(
            md,
            "\nWhere paraclone's time goes (medians; from its summary, build = listing the tests, \
             overlapping template and clone; worker start-up = from a worker's interpreter start \
             to its first test starting, median over the workers, inside the run phase; between \
             tests = per worker, the part of its first test's start to its last test's end that \
             no test duration covers (class set-up and tear-down, restores after a \
             `TransactionTestCase`, round trips), median over the workers; tests = the sum of \
             the per-test durations reported, over all workers, {n} workers on {cores} cores):\n\n\
             | example | backend | wall | template | clone | build | run | of which worker start-up | between tests | teardown | tests (sum) |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            n = r.python[0].parallel,
            cores = r.machine.cores
        );
    }
    for p in &r.python {
        for c in &p.suites {
            let phase = |name: &str| {
                c.phases
                    .get(name)
                    .map_or_else(|| "–".to_owned(), |s| secs(s.median))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.suite,
                dialect_name(&p.backend),
                secs(c.paraclone_seconds.median),
                phase("template"),
                phase("clone"),
                phase("build"),
                phase("run"),
                c.worker_startup_seconds
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |s| secs(s.median)),
                c.between_tests_seconds
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |s| secs(s.median)),
                phase("teardown"),
                secs(c.test_seconds_sum)
            );
        }
    }
    let misses: Vec<String> = r
        .python
        .iter()
        .flat_map(|p| {
            p.suites.iter().filter(|c| c.ratio > 0.7).map(|c| {
                format!(
                    "{} on {}: {} of `{}`'s wall time ({} against {}).",
                    c.suite,
                    dialect_name(&p.backend),
                    times(c.ratio),
                    c.tool,
                    secs(c.paraclone_seconds.median),
                    secs(c.tool_seconds.median)
                )
            })
        })
        .collect();
    if !r.python.is_empty() {
        let _ = writeln!(md, "\n#### Short of the 0.7× target in this run\n");
        if misses.is_empty() {
            let _ = writeln!(md, "Nowhere in this run.");
        }
        for m in misses {
            let _ = writeln!(md, "- {m}");
        }
    }
    for e in r.errors.iter().filter(|e| e.starts_with("python")) {
        let _ = writeln!(md, "\n**Not measured**: {}", e.replace('\n', " "));
    }
    md
}

/// The Markdown of section 7 for BENCHMARKS.md (without its markers).
pub(crate) fn reuse_markdown(r: &Results) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "{}", run_heading(r, false));
    let servers: Vec<String> = r
        .servers
        .iter()
        .filter(|s| s.backend != "sqlite" && r.reuse.iter().any(|u| u.backend == s.backend))
        .map(|s| format!("{} at {}", s.version, s.server))
        .collect();
    if !servers.is_empty() {
        let _ = writeln!(md, "Servers: {}.", servers.join("; "));
    }
    let _ = writeln!(md);
    md.push_str(&crate::reuse::markdown(&r.reuse));
    for e in r.errors.iter().filter(|e| e.starts_with("reuse")) {
        let _ = writeln!(md, "\n**Error**: {}", e.replace('\n', " "));
    }
    md
}

/// The Markdown of section 8 for BENCHMARKS.md (without its markers).
pub(crate) fn ephemeral_markdown(r: &Results) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "{}", run_heading(r, true));
    let servers: Vec<String> = r
        .servers
        .iter()
        .filter(|s| r.ephemeral.iter().any(|e| e.backend == s.backend))
        .map(|s| format!("{} at {}{}", s.version, s.server, settings_line(s)))
        .collect();
    if !servers.is_empty() {
        let _ = writeln!(md, "Stock servers: {}.", servers.join("; "));
    }
    let _ = writeln!(md);
    md.push_str(&crate::ephemeral::markdown(&r.ephemeral));
    for e in r.errors.iter().filter(|e| e.starts_with("ephemeral")) {
        let _ = writeln!(md, "\n**Not measured**: {}", e.replace('\n', " "));
    }
    md
}

/// The first lines of a section's generated block: the marker comment,
/// when and how the run was made (with the template sizes if `sizes`),
/// the machine.
fn run_heading(r: &Results, sizes: bool) -> String {
    let mode = if sizes {
        format!("{} mode, sizes `{}`", r.mode, r.sizes)
    } else {
        format!("{} mode", r.mode)
    };
    format!(
        "<!-- Generated by `cargo xtask bench`; rerun it rather than editing by hand. -->\n\n\
         ### Run of {} ({mode})\n\n`{}` took {}; {} cores ({}), {:.1} GiB.",
        date(r.started_unix),
        r.command,
        secs(r.elapsed_seconds),
        r.machine.cores,
        r.machine.cpu,
        r.machine.memory_gib
    )
}

/// The Markdown of section 6 for BENCHMARKS.md (without its markers).
pub(crate) fn schedule_markdown(r: &Results) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "{}\n", run_heading(r, false));
    match &r.schedule {
        Some(s) => md.push_str(&crate::schedule::markdown(s)),
        None => {
            let _ = writeln!(md, "Nothing measured.");
        }
    }
    for e in r.errors.iter().filter(|e| e.starts_with("schedule")) {
        let _ = writeln!(md, "\n**Not measured**: {}", e.replace('\n', " "));
    }
    md
}

fn phase_line(phases: &BTreeMap<String, Stats>) -> String {
    ["template", "clone", "build", "run", "teardown"]
        .iter()
        .map(|p| {
            phases
                .get(*p)
                .map_or_else(|| "–".to_owned(), |s| secs(s.median))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn method<'a>(c: &'a CloneResult, key: &str) -> Option<&'a MethodResult> {
    c.methods.iter().find(|m| m.key == key)
}

fn headline_sentence(c: &CloneResult) -> String {
    let n = c.ratios.databases;
    let mut parts = Vec::new();
    if let Some(r) = c.ratios.vs_django {
        parts.push(format!("{} than Django's method", faster(r)));
    }
    if let Some(r) = c.ratios.vs_replay {
        parts.push(format!("{} than replaying the migrations", faster(r)));
    }
    if let Some(r) = c.ratios.over_floor {
        parts.push(format!("{} the time of a raw file copy", times(r)));
    }
    format!("paraclone's {n} clones: {}", parts.join(", "))
}

/// The concurrency the server allows on this machine: the backend's hint,
/// bounded by the cores (every copy here is done by this machine's CPUs
/// and disk).
fn allowed(c: &CloneResult, cores: usize) -> usize {
    c.concurrency_hint.min(cores).max(1)
}

/// Notes on where paraclone is slower than something it is compared with,
/// or short of a target, derived from the numbers.
fn slower_notes(r: &Results) -> Vec<String> {
    let mut notes = Vec::new();
    let cores = r.machine.cores;
    for c in &r.clone {
        let name = dialect_name(&c.backend);
        let Some(ours) = method(c, &format!("paraclone_{}", c.ratios.databases)) else {
            continue;
        };
        if let Some(ratio) = c.ratios.vs_django {
            let target = allowed(c, cores);
            if ratio < 1.0 {
                notes.push(format!(
                    "{name}: paraclone's {} clones were **{}** than Django's method.",
                    c.ratios.databases,
                    faster(ratio)
                ));
            } else if ratio < target as f64 {
                notes.push(format!(
                    "{name}: {} faster than Django's method, short of the target of {target}× \
                     (the concurrency this server allows on {cores} cores).",
                    times(ratio)
                ));
            }
        }
        for m in c.methods.iter().filter(|m| {
            matches!(m.role, Role::Variant | Role::Django)
                && m.databases == ours.databases
                // Within 5 % is noise, not a finding.
                && m.seconds.median < ours.seconds.median * 0.95
        }) {
            notes.push(format!(
                "{name}: \"{}\" ({}) was faster than paraclone's default ({}).",
                m.label,
                secs(m.seconds.median),
                secs(ours.seconds.median)
            ));
        }
        if let (Some(one), Some(django)) = (method(c, "paraclone_1"), method(c, "django")) {
            let per_clone = django.seconds.median / django.databases as f64;
            if one.seconds.median > per_clone * 1.1 {
                notes.push(format!(
                    "{name}: a single clone took {} with paraclone against {} per clone in \
                     Django's loop.",
                    secs(one.seconds.median),
                    secs(per_clone)
                ));
            }
        }
        if let Some(django) = method(c, "django")
            && ours.drop_seconds.median > django.drop_seconds.median * 1.2
            && ours.drop_seconds.median - django.drop_seconds.median > 0.05
        {
            notes.push(format!(
                "{name}: dropping paraclone's clones took {} against {} for Django's.",
                secs(ours.drop_seconds.median),
                secs(django.drop_seconds.median)
            ));
        }
    }
    for w in &r.whole_run {
        for p in w.runs.iter().filter(|p| p.parallel > 1) {
            let ideal = p.parallel.min(cores) as f64;
            if p.speedup < ideal * 0.75 {
                let run_phase = p
                    .run_phase_speedup
                    .map(|r| format!(" (the run phase alone: {})", faster(r)))
                    .unwrap_or_default();
                let wall = p.wall_seconds.median;
                let outside_run = p.phases.get("run").map(|run| wall - run.median);
                notes.push(format!(
                    "Whole run on {}: --parallel {} was {} than serial{run_phase}; the bound on \
                     {cores} cores is {}.{}",
                    dialect_name(&w.backend),
                    p.parallel,
                    faster(p.speedup),
                    times(ideal),
                    outside_run.map_or_else(String::new, |o| format!(
                        " Of its {}, {} were spent outside the run phase (template, clone, \
                         build, teardown).",
                        secs(wall),
                        secs(o)
                    ))
                ));
            }
        }
    }
    if let Some(o) = &r.overhead
        && o.ratio > 1.0
    {
        notes.push(format!(
            "Runner overhead: paraclone took {} nextest's wall time per no-I/O test \
             ({:.2} against {:.2} ms).",
            times(o.ratio),
            o.paraclone_ms_per_test,
            o.nextest_ms_per_test
        ));
    }
    if let Some(m) = &r.memory
        && let (Some(first), Some(last)) = (m.points.first(), m.points.last())
        && last.max_rss_kib.median > first.max_rss_kib.median * 1.5
    {
        notes.push(format!(
            "Memory: peak RSS grew from {} ({} tests) to {} ({} tests).",
            kib(first.max_rss_kib.median),
            first.tests,
            kib(last.max_rss_kib.median),
            last.tests
        ));
    }
    notes
}

/// `2025-01-31 14:05 UTC` from seconds since the epoch.
fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let (h, m) = ((unix % 86_400) / 3600, (unix % 3600) / 60);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

fn settings_line(s: &ServerFacts) -> String {
    let keys: &[&str] = match s.backend.as_str() {
        "postgres" => &[
            "fsync",
            "synchronous_commit",
            "full_page_writes",
            "wal_level",
            "shared_buffers",
            "max_wal_size",
            "checkpoint_timeout",
        ],
        "mysql" => &[
            "innodb_flush_log_at_trx_commit",
            "sync_binlog",
            "log_bin",
            "innodb_doublewrite",
            "innodb_flush_method",
            "innodb_buffer_pool_size",
        ],
        _ => &[],
    };
    let mut parts: Vec<String> = keys
        .iter()
        .filter_map(|k| s.settings.get(*k).map(|v| format!("`{k}` = {v}")))
        .collect();
    if let Some(why) = s.settings.get("unavailable") {
        parts.push(format!("settings unavailable: {why}"));
    }
    if let Some(disk) = &s.disk {
        parts.push(format!("data on {disk}"));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("; {}", parts.join(", "))
}

/// `1 round`, `3 rounds`.
fn rounds(n: usize) -> String {
    format!("{n} round{}", if n == 1 { "" } else { "s" })
}

/// The Markdown section for BENCHMARKS.md (without the markers).
pub(crate) fn markdown(r: &Results) -> String {
    let mut md = String::new();
    let m = &r.machine;
    let _ = writeln!(
        md,
        "<!-- Generated by `cargo xtask bench`; rerun it rather than editing by hand. -->\n\n\
         ### Run of {} ({} mode, sizes `{}`)\n\n`{}` took {}.\n",
        date(r.started_unix),
        r.mode,
        r.sizes,
        r.command,
        secs(r.elapsed_seconds)
    );
    let _ = writeln!(md, "| machine | |\n|---|---|");
    let _ = writeln!(md, "| cores | {} ({}) |", m.cores, m.cpu);
    let _ = writeln!(md, "| memory | {:.1} GiB |", m.memory_gib);
    let _ = writeln!(md, "| OS | {}, kernel {} |", m.os, m.kernel);
    let _ = writeln!(
        md,
        "| disk (SQLite files, generated suites) | {} |",
        m.work_disk
    );
    for s in &r.servers {
        let _ = writeln!(
            md,
            "| {} | {} at {}{} |",
            dialect_name(&s.backend),
            s.version,
            s.server,
            settings_line(s)
        );
    }

    let _ = writeln!(md, "\n#### Headline ratios\n");
    let _ = writeln!(
        md,
        "| backend | paraclone, 8 clones at once | vs Django's method | vs replaying the migrations | time of a raw file copy × | design target vs Django |\n|---|---:|---:|---:|---:|---|"
    );
    for c in &r.clone {
        let ours = method(c, &format!("paraclone_{}", c.ratios.databases));
        let cell =
            |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("**{}**", faster(v)));
        let target = allowed(c, r.machine.cores);
        let verdict = c.ratios.vs_django.map_or_else(
            || "–".to_owned(),
            |v| {
                format!(
                    "{} (≥ {target}×: concurrency hint {}, {} cores)",
                    if v >= target as f64 { "met" } else { "missed" },
                    c.concurrency_hint,
                    r.machine.cores
                )
            },
        );
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {verdict} |",
            dialect_name(&c.backend),
            ours.map_or_else(|| "–".to_owned(), |m| m.seconds.seconds()),
            cell(c.ratios.vs_django),
            cell(c.ratios.vs_replay),
            c.ratios.over_floor.map_or_else(|| "–".to_owned(), times)
        );
    }
    if let Some(o) = &r.overhead {
        let _ = writeln!(
            md,
            "\nRunner overhead: paraclone's wall time per no-I/O test is **{}** cargo-nextest's \
             ({:.2} ms against {:.2} ms; {} tests, {} at a time).",
            times(o.ratio),
            o.paraclone_ms_per_test,
            o.nextest_ms_per_test,
            o.tests,
            o.parallel
        );
    }
    if let Some(mem) = &r.memory {
        let points: Vec<String> = mem
            .points
            .iter()
            .map(|p| format!("{} for {} tests", kib(p.max_rss_kib.median), p.tests))
            .collect();
        let _ = writeln!(md, "\nRunner memory (peak RSS): {}.", points.join(", "));
    }

    let _ = writeln!(md, "\n#### 1. Clone throughput\n");
    let _ = writeln!(
        md,
        "Median of the rounds, (min–max); \"drop\" is the median time to drop the databases \
         again. Rounds interleave the methods."
    );
    for c in &r.clone {
        let _ = writeln!(
            md,
            "\n**{}** ({}), {}, concurrency hint {}. Template: {}.\n",
            dialect_name(&c.backend),
            c.version,
            rounds(c.rounds),
            c.concurrency_hint,
            template_line(c)
        );
        let _ = writeln!(
            md,
            "| method | role | databases | make | drop |\n|---|---|---:|---:|---:|"
        );
        for m in &c.methods {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                m.label.replace('|', "\\|"),
                role_name(m.role),
                m.databases,
                m.seconds.seconds(),
                secs(m.drop_seconds.median)
            );
        }
        let _ = writeln!(md, "\n{}.", headline_sentence(c));
        for note in &c.notes {
            let _ = writeln!(md, "\n{note}");
        }
    }

    if !r.whole_run.is_empty() {
        let _ = writeln!(md, "\n#### 2. Whole run\n");
        let _ = writeln!(
            md,
            "The release `paraclone` on the example suite; wall time as measured around the \
             process, phases from its summary (medians; build overlaps template; clones wait for the build)."
        );
    }
    for w in &r.whole_run {
        let _ = writeln!(
            md,
            "\n**{}**: {} ({} tests), {}.\n\n| --parallel | wall | speed-up over serial | run phase speed-up | template | clone | build | run | teardown |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            dialect_name(&w.backend),
            w.suite,
            w.tests,
            rounds(w.rounds)
        );
        for p in &w.runs {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                p.parallel,
                p.wall_seconds.seconds(),
                times(p.speedup),
                p.run_phase_speedup.map_or_else(|| "–".to_owned(), times),
                phase_line(&p.phases)
            );
        }
    }

    if let Some(o) = &r.overhead {
        let _ = writeln!(
            md,
            "\n#### 3. Runner overhead\n\nOne generated test binary of {} tests that do no I/O \
             (a standalone crate generated as `noop-suite` in the output directory), run by \
             `cargo nextest run --test-threads {}` and by `paraclone test --parallel {}` (one \
             process per test for both; paraclone also makes an empty SQLite template and its \
             clones), {}.\n\n\
             | runner | wall | per test |\n|---|---:|---:|\n\
             | cargo nextest run ({}) | {} | {:.2} ms |\n| paraclone | {} | {:.2} ms |\n\n\
             paraclone's phases (medians): template | clone | build | run | teardown = {}.",
            o.tests,
            o.parallel,
            o.parallel,
            rounds(o.rounds),
            o.nextest_version,
            o.nextest_seconds.seconds(),
            o.nextest_ms_per_test,
            o.paraclone_seconds.seconds(),
            o.paraclone_ms_per_test,
            phase_line(&o.paraclone_phases)
        );
    }
    if let Some(mem) = &r.memory {
        let _ = writeln!(
            md,
            "\n#### 4. Runner memory\n\nkind = \"command\", a static `tests` list, `run = \"true \
             {{tests}}\"`, batch {}, {} workers, {}. `ru_maxrss` is what `wait4` reports \
             for the paraclone process (the largest of it, the children it waited for, here `sh` \
             and `true`, and the few-MiB helper that started it: Linux keeps the size of the \
             image a process `exec`s from); VmHWM is paraclone's own peak, sampled from /proc \
             every 5 ms.\n\n\
             | tests | peak RSS (ru_maxrss) | VmHWM | wall |\n|---:|---:|---:|---:|",
            mem.batch,
            mem.parallel,
            rounds(mem.rounds)
        );
        for p in &mem.points {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                p.tests,
                kib(p.max_rss_kib.median),
                p.vm_hwm_kib
                    .as_ref()
                    .map_or_else(|| "n/a".to_owned(), |s| kib(s.median)),
                p.wall_seconds.seconds()
            );
        }
    }

    let notes = slower_notes(r);
    let _ = writeln!(md, "\n#### Where paraclone was slower in this run\n");
    if notes.is_empty() {
        let _ = writeln!(md, "Nowhere in this run.");
    }
    for n in notes {
        let _ = writeln!(md, "- {n}");
    }
    for e in r.errors.iter().filter(|e| {
        !["python", "schedule", "reuse", "ephemeral"]
            .iter()
            .any(|s| e.starts_with(s))
    }) {
        let _ = writeln!(md, "\n**Not measured**: {}", e.replace('\n', " "));
    }
    md
}
