//! The `paraclone` command: parses the command line, runs, sets the exit
//! code. All printing goes through the runner's reporter.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use runner::config::{self, Parallel};
use runner::{
    CancelReason, CleanOptions, Color, JunitOutput, ListOptions, Order, Partition, Reporter,
    ReporterOptions, RunError, RunOptions, Runner, exit_code,
};

/// Runs a database-backed test suite in parallel: builds the test database
/// once, clones it for every worker, runs the tests in spawned processes
/// (each with its own clone in DATABASE_URL), and drops every clone
/// afterwards.
#[derive(Debug, Parser)]
#[command(name = "paraclone", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the test suite described by paraclone.toml.
    ///
    /// Exit codes: 0 all tests passed; 1 a test failed; 2 could not run
    /// (config, database, build) or a database could not be dropped;
    /// 130 interrupted.
    Test(TestArgs),
    /// List the tests `paraclone test` would run, with their groups,
    /// without making a database (the tests are built and listed).
    List(ListArgs),
    /// Drop the databases that runs which died (killed, crashed machine)
    /// left behind, as their ledgers list them. Never touches a database
    /// that is in no ledger, nor one of a run that is still alive.
    Clean(CleanArgs),
}

#[derive(Debug, clap::Args)]
struct CleanArgs {
    /// List what would be dropped; drop nothing.
    #[arg(long)]
    dry_run: bool,

    /// Colour the output: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,

    /// Also sweep runs that are still alive but started longer ago than
    /// this (e.g. "2h"): a run hung for that long is taken for dead.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    older_than: Option<Duration>,

    /// The config file (its backends and state directory are used).
    #[arg(long, value_name = "PATH", env = "PARACLONE_CONFIG")]
    config: Option<PathBuf>,

    /// Instead of sweeping, take the ledger of this dead run away without
    /// dropping anything (for databases whose server is gone for good);
    /// prints what it listed. Repeatable.
    #[arg(long, value_name = "RUN", conflicts_with = "older_than")]
    forget: Vec<String>,

    /// Also drop the templates kept for reuse (`--reuse`) that no running
    /// paraclone uses, and their records; with --older-than, those built
    /// longer ago than that.
    #[arg(long, conflicts_with = "forget")]
    templates: bool,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// The config file. Default: paraclone.toml in this directory or the
    /// nearest parent that has one.
    #[arg(long, value_name = "PATH", env = "PARACLONE_CONFIG")]
    config: Option<PathBuf>,

    /// Backend for every database alias (names the would-be databases in
    /// the list command's environment; nothing is created).
    #[arg(long, value_name = "BACKEND", env = "PARACLONE_DB")]
    db: Option<String>,

    /// human (groups and their tests) or json (one document).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,

    /// Only this shard: hash:K/N, slice:K/N or duration:K/N (as `test`).
    #[arg(long, value_name = "KIND:K/N", value_parser = Partition::parse)]
    partition: Option<Partition>,

    /// Test durations from an earlier run's JUnit report, for
    /// duration:K/N (as `test`).
    #[arg(long, value_name = "PATH")]
    durations_from: Option<PathBuf>,

    /// An argument for the test tool (as `test`). Repeatable.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    tool_arg: Vec<String>,

    /// Colour the output: auto, always or never.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,

    /// Only tests whose name contains one of these strings.
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
}

/// `list --format`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

/// `--message-format`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum MessageFormat {
    Human,
    Json,
}

/// `--junit-output`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum JunitOutputArg {
    Failed,
    All,
}

#[derive(Debug, clap::Args)]
struct TestArgs {
    /// Write a JUnit XML report of the run here (also written when the
    /// run fails or is interrupted). Default: `[report] junit`, or under
    /// Bazel `XML_OUTPUT_FILE`.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,

    /// Whose output the JUnit report holds: failed (tests that did not
    /// pass; default: `[report] junit_output`, else failed) or all.
    #[arg(long, value_name = "WHICH", value_enum)]
    junit_output: Option<JunitOutputArg>,

    /// json: the run's events as JSON lines on stdout (format_version 1,
    /// see the README), the human report on stderr.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,

    /// Write the JSON event lines to this file (the human report stays on
    /// stdout).
    #[arg(long, value_name = "PATH", conflicts_with = "message_format")]
    events: Option<PathBuf>,

    /// Run only this shard of the selected tests: hash:K/N (by a stable
    /// hash of each test's name), slice:K/N (round-robin) or duration:K/N
    /// (balanced by remembered durations, or those of --durations-from).
    /// Under Bazel, TEST_TOTAL_SHARDS and TEST_SHARD_INDEX give hash.
    #[arg(long, value_name = "KIND:K/N", value_parser = Partition::parse)]
    partition: Option<Partition>,

    /// Test durations from an earlier run's JUnit report (paraclone's
    /// --junit), for --partition duration:K/N and the order of the tests.
    #[arg(long, value_name = "PATH")]
    durations_from: Option<PathBuf>,

    /// Do not drop the clones of the first N failed tests (`--keep-failed`
    /// keeps one, `--keep-failed=3` three):
    /// the summary prints their URLs; `paraclone clean` drops them.
    #[arg(long, value_name = "N", num_args = 0..=1, require_equals = true, default_missing_value = "1", conflicts_with = "share_database")]
    keep_failed: Option<usize>,

    /// Keep the templates after the run and reuse them in the next while
    /// their fingerprint (migrations, setup and its inputs, backend,
    /// server version and settings, paraclone's version) matches
    /// (`[run] reuse`; PARACLONE_REUSE=1).
    #[arg(long, env = "PARACLONE_REUSE", conflicts_with = "share_database")]
    reuse: bool,

    /// Start a throwaway PostgreSQL/MariaDB server of this run's own, in
    /// RAM, for every server backend of the run (`server = "ephemeral"`
    /// does it for one); stopped and removed at the end.
    #[arg(long, env = "PARACLONE_EPHEMERAL")]
    ephemeral: bool,

    /// Run a failed test again, on fresh clones, up to N times (overrides
    /// `tests.retries`); one that passes then is FLAKY.
    #[arg(long, value_name = "N")]
    retries: Option<usize>,

    /// Make a flaky test (passed only on a retry) fail the run.
    #[arg(long)]
    flaky_fails: bool,

    /// Backend for every database alias, overriding the config
    /// (sqlite, postgres, mysql, oracle).
    #[arg(long, value_name = "BACKEND", env = "PARACLONE_DB")]
    db: Option<String>,

    /// Number of workers, each with its own clone: a number, or "auto" for
    /// one per CPU core. Default: the config's run.parallel, else auto.
    // Hyphen values are taken so that `--parallel -3` reaches the parser
    // and is refused as a count, instead of clap suggesting `-- -3` (which
    // would run `-3` as a filter).
    #[arg(long, short = 'j', value_name = "N|auto", value_parser = Parallel::parse, allow_hyphen_values = true, env = "PARACLONE_PARALLEL")]
    parallel: Option<Parallel>,

    /// Start no further test after the first failure.
    #[arg(long)]
    failfast: bool,

    /// The config file. Default: paraclone.toml in this directory or the
    /// nearest parent that has one.
    #[arg(long, value_name = "PATH", env = "PARACLONE_CONFIG")]
    config: Option<PathBuf>,

    /// Per-test time limit (e.g. "90s", "5m"); a test running longer is
    /// killed and reported as timed out.
    #[arg(long, value_name = "DURATION", value_parser = config::parse_timeout)]
    timeout: Option<Duration>,

    /// Print the output of passing tests too.
    #[arg(long)]
    show_output: bool,

    /// Never draw a progress bar, print a line per test instead.
    #[arg(long)]
    no_progress: bool,

    /// Colour the output: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,

    /// Debugging aid: make no clones, let every worker use the template.
    /// Shows what isolation prevents; tests that share state will fail.
    #[arg(long)]
    share_database: bool,

    /// Run groups and tests in a random order; the seed is printed before
    /// and after the run, and `--shuffle SEED` repeats an order.
    #[arg(long, value_name = "SEED", num_args = 0..=1, default_missing_value = "random", conflicts_with = "reverse")]
    shuffle: Option<String>,

    /// Run groups and tests in reverse order.
    #[arg(long)]
    reverse: bool,

    /// How many of the slowest tests the summary lists.
    #[arg(long, value_name = "N", default_value_t = 5)]
    durations: usize,

    /// An argument for the test tool of a command, django or pytest suite
    /// (where `{args}` is in its commands), e.g. `--tool-arg=--tag=slow`
    /// or `--tool-arg=-m --tool-arg=slow`. Repeatable.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    tool_arg: Vec<String>,

    /// Run only tests whose name contains one of these strings.
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
}

/// `--color`'s values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for Color {
    fn from(c: ColorArg) -> Color {
        match c {
            ColorArg::Auto => Color::Auto,
            ColorArg::Always => Color::Always,
            ColorArg::Never => Color::Never,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (mut reporter, result) = match cli.command {
        Command::Test(args) => {
            let options = ReporterOptions {
                progress: !args.no_progress
                    && std::io::stderr().is_terminal()
                    && std::io::stdout().is_terminal(),
                show_output: args.show_output,
                color: args.color.into(),
            };
            // As cargo and nextest do: JSON on stdout, people's report on
            // stderr.
            let mut reporter = if args.message_format == MessageFormat::Json {
                let mut r = Reporter::to_stderr(options);
                r.set_events(Box::new(std::io::stdout()));
                r
            } else {
                Reporter::new(options)
            };
            let result = test(args, &mut reporter);
            (reporter, result)
        }
        Command::List(args) => {
            let mut reporter = Reporter::new(ReporterOptions {
                color: args.color.into(),
                ..ReporterOptions::default()
            });
            let result = list(args, &mut reporter);
            (reporter, result)
        }
        Command::Clean(args) => {
            let mut reporter = Reporter::new(ReporterOptions {
                color: args.color.into(),
                ..ReporterOptions::default()
            });
            let result = clean(args, &mut reporter);
            (reporter, result)
        }
    };
    let mut code = match result {
        Ok(code) => code,
        Err(error) => {
            reporter.report_error(&error);
            error.exit_code()
        }
    };
    // A report CI asked for and did not get fails the run.
    if !reporter.finish().is_empty() && code == exit_code::SUCCESS {
        code = exit_code::COULD_NOT_RUN;
    }
    ExitCode::from(code as u8)
}

fn load_config(explicit: Option<&std::path::Path>) -> Result<config::Config, RunError> {
    let cwd = std::env::current_dir().map_err(RunError::Runtime)?;
    let path = config::locate(explicit, &cwd)?;
    Ok(config::load(&path)?)
}

fn check_backend(db: Option<&str>) -> Result<(), RunError> {
    if let Some(db) = db
        && !config::KNOWN_BACKENDS.contains(&db)
    {
        return Err(RunError::BadSetting {
            config: PathBuf::from("--db"),
            key: db.to_owned(),
            message: format!(
                "unknown backend (known: {})",
                config::KNOWN_BACKENDS.join(", ")
            ),
        });
    }
    Ok(())
}

/// `--partition`, else Bazel's shard (`TEST_TOTAL_SHARDS`,
/// `TEST_SHARD_INDEX`), whose `TEST_SHARD_STATUS_FILE` is then touched to
/// tell Bazel that sharding is supported.
fn partition(flag: Option<Partition>) -> Result<Option<Partition>, RunError> {
    if flag.is_some() {
        return Ok(flag);
    }
    let Some(bazel) = Partition::from_bazel(|k| std::env::var(k).ok()) else {
        return Ok(None);
    };
    let partition = bazel.map_err(|message| RunError::BadSetting {
        config: PathBuf::from("TEST_TOTAL_SHARDS/TEST_SHARD_INDEX"),
        key: "Bazel's shard".to_owned(),
        message,
    })?;
    if let Some(status) = std::env::var_os("TEST_SHARD_STATUS_FILE") {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&status)
            .map_err(|source| RunError::Spawn {
                command: format!("touch {}", PathBuf::from(status).display()),
                source,
            })?;
    }
    Ok(Some(partition))
}

fn list(args: ListArgs, reporter: &mut Reporter) -> Result<i32, RunError> {
    let config = load_config(args.config.as_deref())?;
    check_backend(args.db.as_deref())?;
    let list = runner::list(ListOptions {
        config,
        backend: args.db,
        filters: args.filters,
        partition: partition(args.partition)?,
        durations_from: args.durations_from,
        tool_args: args.tool_arg,
    })?;
    reporter.report_list(&list, args.format == ListFormat::Json);
    Ok(exit_code::SUCCESS)
}

fn clean(args: CleanArgs, reporter: &mut Reporter) -> Result<i32, RunError> {
    let config = load_config(args.config.as_deref())?;
    let runs = runner::clean(CleanOptions {
        config,
        dry_run: args.dry_run,
        older_than: args.older_than,
        forget: args.forget,
        templates: args.templates,
    })?;
    reporter.report_clean(&runs, args.dry_run);
    let failed = runs.iter().any(runner::SweptRun::incomplete);
    Ok(if failed {
        exit_code::COULD_NOT_RUN
    } else {
        exit_code::SUCCESS
    })
}

fn test(args: TestArgs, reporter: &mut Reporter) -> Result<i32, RunError> {
    let config = load_config(args.config.as_deref())?;
    check_backend(args.db.as_deref())?;
    // The JUnit report: the flag, the config, or where Bazel wants it.
    let junit = args
        .junit
        .clone()
        .or_else(|| config.report.junit.clone())
        .or_else(|| std::env::var_os("XML_OUTPUT_FILE").map(PathBuf::from));
    if let Some(path) = junit {
        let all = match args.junit_output {
            Some(which) => which == JunitOutputArg::All,
            None => config.report.junit_all_output,
        };
        let output = if all {
            JunitOutput::All
        } else {
            JunitOutput::Failed
        };
        reporter.set_junit(path, output);
    }
    if let Some(path) = &args.events {
        let file = std::fs::File::create(path).map_err(|source| RunError::Spawn {
            command: format!("create {}", path.display()),
            source,
        })?;
        reporter.set_events(Box::new(file));
    }
    let partition = partition(args.partition)?;
    let order = match args.shuffle.as_deref() {
        None if args.reverse => Order::Reverse,
        None => Order::Listed,
        Some("random") => Order::Shuffle(random_seed()),
        Some(seed) => Order::Shuffle(seed.parse().map_err(|_| RunError::BadSetting {
            config: PathBuf::from("--shuffle"),
            key: seed.to_owned(),
            message: "a seed is a number (as printed by an earlier --shuffle run)".to_owned(),
        })?),
    };
    let options = RunOptions {
        config,
        backend: args.db,
        parallel: args.parallel,
        failfast: args.failfast,
        filters: args.filters,
        share_database: args.share_database,
        timeout: args.timeout,
        order,
        durations: args.durations,
        tool_args: args.tool_arg,
        partition,
        keep_failed: args.keep_failed.unwrap_or(0),
        retries: args.retries,
        durations_from: args.durations_from,
        reuse: args.reuse,
        ephemeral: args.ephemeral,
    };
    let flaky_fails = args.flaky_fails;
    let stats = Runner::new(options).execute(|event| reporter.report(&event))?;
    Ok(match stats.cancelled {
        Some(CancelReason::Signal | CancelReason::SecondSignal) => exit_code::INTERRUPTED,
        // Databases left on a server outweigh test failures: the server (or
        // the network) failed, and the test results may say nothing.
        _ if !stats.left_behind.is_empty() => exit_code::COULD_NOT_RUN,
        _ if stats.failed > 0 => exit_code::TESTS_FAILED,
        _ if flaky_fails && stats.flaky > 0 => exit_code::TESTS_FAILED,
        _ if stats.selected == 0 => exit_code::COULD_NOT_RUN,
        _ => exit_code::SUCCESS,
    })
}

/// A seed for `--shuffle` without one: the clock's nanoseconds and the pid,
/// mixed.
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000
}
