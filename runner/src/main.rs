//! The `paraclone` command: parses the command line, runs, sets the exit
//! code. All printing goes through the runner's reporter.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use runner::config::{self, Parallel};
use runner::{
    CancelReason, CleanOptions, Color, Order, Reporter, ReporterOptions, RunError, RunOptions,
    Runner, exit_code,
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
}

#[derive(Debug, clap::Args)]
struct TestArgs {
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
            let mut reporter = Reporter::new(ReporterOptions {
                progress: !args.no_progress
                    && std::io::stderr().is_terminal()
                    && std::io::stdout().is_terminal(),
                show_output: args.show_output,
                color: args.color.into(),
            });
            let result = test(args, &mut reporter);
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
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            reporter.report_error(&error);
            error.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

fn load_config(explicit: Option<&std::path::Path>) -> Result<config::Config, RunError> {
    let cwd = std::env::current_dir().map_err(RunError::Runtime)?;
    let path = config::locate(explicit, &cwd)?;
    Ok(config::load(&path)?)
}

fn clean(args: CleanArgs, reporter: &mut Reporter) -> Result<i32, RunError> {
    let config = load_config(args.config.as_deref())?;
    let runs = runner::clean(CleanOptions {
        config,
        dry_run: args.dry_run,
        older_than: args.older_than,
        forget: args.forget,
    })?;
    reporter.report_clean(&runs, args.dry_run);
    let failed = runs.iter().any(|r| !r.not_dropped.is_empty());
    Ok(if failed {
        exit_code::COULD_NOT_RUN
    } else {
        exit_code::SUCCESS
    })
}

fn test(args: TestArgs, reporter: &mut Reporter) -> Result<i32, RunError> {
    let config = load_config(args.config.as_deref())?;
    if let Some(db) = &args.db
        && !config::KNOWN_BACKENDS.contains(&db.as_str())
    {
        return Err(RunError::BadSetting {
            config: PathBuf::from("--db"),
            key: db.clone(),
            message: format!(
                "unknown backend (known: {})",
                config::KNOWN_BACKENDS.join(", ")
            ),
        });
    }
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
    };
    let stats = Runner::new(options).execute(|event| reporter.report(&event))?;
    Ok(match stats.cancelled {
        Some(CancelReason::Signal | CancelReason::SecondSignal) => exit_code::INTERRUPTED,
        // Databases left on a server outweigh test failures: the server (or
        // the network) failed, and the test results may say nothing.
        _ if !stats.left_behind.is_empty() => exit_code::COULD_NOT_RUN,
        _ if stats.failed > 0 => exit_code::TESTS_FAILED,
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
