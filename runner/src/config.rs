//! Reading and checking `paraclone.toml`.
//!
//! Parsing is strict (unknown keys are errors) and every error names the
//! file, the line and the key, because a test runner whose config is
//! silently half-read is worse than one that refuses to start.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// The config file's name, searched for upwards from the working directory.
pub const FILE_NAME: &str = "paraclone.toml";

/// The backends paraclone knows, compiled in or not.
pub const KNOWN_BACKENDS: &[&str] = &["sqlite", "postgres", "mysql", "oracle"];

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No config file was given and none was found.
    #[error("no {FILE_NAME} in {} or any parent directory (pass --config PATH)", dir.display())]
    NotFound {
        /// Where the search started.
        dir: PathBuf,
    },
    /// The file could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file says something wrong, at a known place.
    #[error("{}:{}:{}: {message}", path.display(), at.line, at.column)]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in the file.
        at: Location,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// A line and column in the config file, both 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based, in characters.
    pub column: usize,
}

impl Location {
    fn of(text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A value from the config together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub at: Location,
}

/// How many workers to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parallel {
    /// Exactly this many (at least 1).
    Count(usize),
    /// As many as the machine has cores.
    Auto,
}

impl Parallel {
    /// The number of workers this stands for on this machine.
    pub fn resolve(self) -> usize {
        match self {
            Parallel::Count(n) => n.max(1),
            Parallel::Auto => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// Parses `auto` or a positive number, as given on the command line.
    pub fn parse(s: &str) -> Result<Parallel, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Parallel::Auto);
        }
        match s.parse::<usize>() {
            Ok(0) | Err(_) => Err(format!("expected a positive number or \"auto\", got {s:?}")),
            Ok(n) => Ok(Parallel::Count(n)),
        }
    }
}

/// Parses a per-test time limit (`--timeout`, `tests.timeout`): a
/// humantime duration longer than zero, since a zero limit would fail every
/// test.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Err(e) => Err(format!("{e} (write e.g. \"90s\" or \"5m\")")),
        Ok(d) if d.is_zero() => Err(format!(
            "{s:?} would time out every test: give a limit longer than 0s, or none at all"
        )),
        Ok(d) => Ok(d),
    }
}

/// A command: a single string run by the shell, or a program and its
/// arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandLine {
    /// Run with `sh -c`.
    Shell(String),
    /// Run directly.
    Argv(Vec<String>),
}

/// The checked contents of a config file.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The directory relative paths are resolved against (the file's).
    pub dir: PathBuf,
    /// `[run] parallel`.
    pub parallel: Option<Parallel>,
    /// `[run] backend`: the backend of aliases that do not name one.
    pub backend: Option<Located<String>>,
    /// `[run] state_dir`: where the ledger lives (default
    /// `target/paraclone` next to the config).
    pub state_dir: PathBuf,
    /// `[run] reuse`: keep templates between runs and reuse them while
    /// their fingerprint matches (`--reuse` turns it on too).
    pub reuse: bool,
    /// `[tests]`.
    pub tests: TestsConfig,
    /// `[databases.*]`, in creation order (dependencies first).
    pub aliases: Vec<AliasConfig>,
    /// `[backends.*]`.
    pub backends: BackendSettings,
    /// `[report]`.
    pub report: ReportConfig,
}

/// `[report]`: files a run writes besides the terminal's report.
#[derive(Clone, Debug, Default)]
pub struct ReportConfig {
    /// `junit`: where the JUnit XML of every run goes (relative to the
    /// config); `--junit` overrides it.
    pub junit: Option<PathBuf>,
    /// `junit_output = "all"`: every test's output in the JUnit, not only
    /// that of tests that did not pass (`"failed"`, the default).
    pub junit_all_output: bool,
}

/// `[tests]`: what suite to run and how.
#[derive(Clone, Debug)]
pub struct TestsConfig {
    /// The adapter.
    pub kind: TestsKind,
    /// Per-test time limit; a test running longer is killed and fails.
    pub timeout: Option<Duration>,
    /// After this long a running test is reported as slow.
    pub slow: Duration,
    /// Grace period between the interrupt sent to tests and the kill.
    pub grace: Duration,
    /// A long-lived worker is replaced after this many tests (default:
    /// never).
    pub max_tests_per_worker: Option<usize>,
    /// A failed test runs again, on fresh clones, up to this many times
    /// (default 0).
    pub retries: usize,
}

/// The test adapter and its settings.
#[derive(Clone, Debug)]
pub enum TestsKind {
    /// Rust test binaries built by cargo.
    Rust {
        /// Cargo packages whose tests are run (`-p`); empty: the package of
        /// the config's directory.
        packages: Vec<String>,
        /// Cargo features to enable (`--features`).
        features: Vec<String>,
        /// The directory cargo runs in (default: the config's directory).
        workspace: PathBuf,
        /// Cargo's own flags for both the build and the listing
        /// (`--no-default-features`, `--profile ci`, …).
        cargo_args: Vec<String>,
        /// `RUSTUP_TOOLCHAIN` for cargo, if set.
        toolchain: Option<String>,
        /// What is scheduled as one unit.
        group: RustGroup,
    },
    /// Any test tool, driven by commands (also what the `django` and
    /// `pytest` presets become).
    Command(CommandTests),
}

/// How the Rust adapter groups tests (`tests.group`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RustGroup {
    /// Every test on its own: a clone per slot already isolates the slots.
    #[default]
    Test,
    /// The tests of a module together, in listed order, on one slot.
    Module,
    /// The tests of a binary together.
    Binary,
}

/// Which tool a command suite is, for the presets' discovery and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Plain commands, as configured.
    None,
    /// Django's `manage.py test`, through paraclone's runner class.
    Django,
    /// pytest.
    Pytest,
}

/// `[tests]` of a command suite.
#[derive(Clone, Debug)]
pub struct CommandTests {
    /// The preset it came from.
    pub preset: Preset,
    /// Prints one test id per line (run in the template's environment);
    /// `{args}` becomes the `--tool-arg`s of the command line.
    pub list: Option<CommandLine>,
    /// A fixed list of test ids, instead of `list`.
    pub tests: Vec<String>,
    /// Runs one group: `{tests}` becomes its ids (shell-quoted), `{junit}`
    /// a file the tool writes JUnit XML to, `{args}` the `--tool-arg`s of
    /// the command line. Run with `sh -c`.
    pub run: String,
    /// The working directory of both commands.
    pub cwd: PathBuf,
    /// Tests whose ids share everything before the last occurrence of this
    /// separator form one group (module, class, app).
    pub group_separator: String,
    /// At most this many tests per process.
    pub batch: usize,
    /// The command that starts a long-lived worker speaking the
    /// `paraclone-v1` protocol (`{args}` as in `run`); when set, each slot
    /// keeps one worker for the run and `run` is not used.
    pub worker: Option<String>,
    /// Extra variables for both commands.
    pub env: Vec<(String, String)>,
}

/// `[databases.<alias>] migrator`: how `migrations` is laid out and which
/// tool's history table records it (see `cloner::migrator`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Migrator {
    /// `*.sql` files in file-name order, no history table.
    #[default]
    Sql,
    /// diesel: `<version>_<name>/up.sql`, `__diesel_schema_migrations`.
    Diesel,
    /// sqlx: `<version>_<description>.sql`, `_sqlx_migrations`.
    Sqlx,
    /// refinery: `V<version>__<name>.sql`, `refinery_schema_history`.
    Refinery,
    /// The tool's own CLI, as the setup command; no `migrations`.
    Command,
}

/// One `[databases.<alias>]` entry.
#[derive(Clone, Debug)]
pub struct AliasConfig {
    /// The alias (`default`, `other`, …).
    pub alias: String,
    /// The base of every database name made for it.
    pub base_name: String,
    /// Its backend, if it names one.
    pub backend: Option<Located<String>>,
    /// Directory of `*.sql` files, with `{backend}` not yet replaced.
    pub migrations: Option<Located<String>>,
    /// The layout of `migrations` and the history table the template gets.
    pub migrator: Migrator,
    /// Command that sets the template up after the migrations.
    pub setup: Option<CommandLine>,
    /// Another alias whose database this one uses.
    pub mirror: Option<String>,
    /// Aliases whose templates must be built before this one's.
    pub depends: Vec<String>,
    /// The server URL for this alias (overrides the backend's).
    pub url: Option<String>,
    /// Extra variables set from this alias's clone, values with
    /// placeholders such as `{name}` and `{url}`.
    pub env: Vec<EnvVar>,
    /// `inputs`: globs (relative to the config) of the files the setup
    /// command reads, part of the template's fingerprint (`--reuse`).
    pub inputs: Vec<String>,
}

/// One variable of `[databases.<alias>.env]` (or of
/// `[databases.<alias>.env.<backend>]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name.
    pub key: String,
    /// Its value, placeholders not yet filled.
    pub value: String,
    /// The backend it is set on only; `None`: every backend.
    pub backend: Option<String>,
    /// Where the value was written.
    pub at: Location,
}

/// The placeholders of env values, and what a backend's connection fills
/// them from.
pub const PLACEHOLDERS: &[&str] = &[
    "url", "name", "host", "port", "user", "password", "path", "worker",
];

/// The placeholders `backend` has a value for: a file (SQLite) has a path
/// and no server, a server no path.
pub fn placeholders_of(backend: &str) -> &'static [&'static str] {
    if backend == "sqlite" {
        &["url", "name", "path", "worker"]
    } else {
        &["url", "name", "host", "port", "user", "password", "worker"]
    }
}

/// The first placeholder in `value` that `backend` has no value for.
fn missing_placeholder(value: &str, backend: &str) -> Option<&'static str> {
    let have = placeholders_of(backend);
    PLACEHOLDERS
        .iter()
        .find(|p| !have.contains(p) && value.contains(&format!("{{{p}}}")))
        .copied()
}

impl AliasConfig {
    /// The variables that apply on `backend`: the common ones, except
    /// those the backend's own table sets too, then the backend's own.
    pub fn env_on<'a>(&'a self, backend: &'a str) -> impl Iterator<Item = &'a EnvVar> + 'a {
        let own = |v: &&EnvVar| v.backend.as_deref() == Some(backend);
        let common = self.env.iter().filter(move |v| {
            v.backend.is_none() && !self.env.iter().filter(own).any(|o| o.key == v.key)
        });
        common.chain(self.env.iter().filter(own))
    }

    /// Checks that the common variables use only placeholders `backend`
    /// fills (the backend tables are checked when the file is read): an
    /// empty `{path}` on a server would silently hand every worker a
    /// useless value.
    pub fn check_env(&self, backend: &str, config: &Path) -> Result<(), ConfigError> {
        for var in self.env.iter().filter(|v| v.backend.is_none()) {
            if let Some(missing) = missing_placeholder(&var.value, backend) {
                return Err(ConfigError::Invalid {
                    path: config.to_owned(),
                    at: var.at,
                    message: format!(
                        "databases.{}.env.{}: {{{missing}}} has no value on the {backend} backend (it has {}); to set {} on some backends only, put it in [databases.{}.env.<backend>], e.g. [databases.{}.env.{}]",
                        self.alias,
                        var.key,
                        braced(placeholders_of(backend)),
                        var.key,
                        self.alias,
                        self.alias,
                        if missing == "path" {
                            "sqlite"
                        } else {
                            "postgres"
                        },
                    ),
                });
            }
        }
        Ok(())
    }
}

fn braced(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `[backends.*]`: settings per backend, shared by the aliases using it.
#[derive(Clone, Debug, Default)]
pub struct BackendSettings {
    /// `[backends.sqlite]`.
    pub sqlite: SqliteSettings,
    /// `[backends.postgres]`.
    pub postgres: ServerSettings,
    /// `[backends.mysql]`.
    pub mysql: ServerSettings,
    /// `[backends.oracle]`.
    pub oracle: ServerSettings,
}

/// `[backends.sqlite]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteSettings {
    /// Where database files go: `disk` (default) or `ram`.
    pub target: Option<String>,
    /// The directory for `disk` (default `target/paraclone/sqlite` under
    /// the config's directory).
    pub dir: Option<PathBuf>,
    /// `auto` (default), `backup`, `vacuum` or `copy`.
    pub method: Option<String>,
    /// Whether workers load their clone into a shared-memory database.
    pub in_memory: Option<bool>,
}

/// `[backends.postgres]`, `[backends.mysql]`, `[backends.oracle]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// The server URL (a maintenance database and a login allowed to
    /// create databases).
    pub url: Option<String>,
    /// How many clone operations to run at once at most.
    pub max_concurrency: Option<usize>,
    /// How clones are made: PostgreSQL's `CREATE DATABASE … STRATEGY`
    /// (`file_copy`, `wal_log`); MySQL's copy (`auto`, `files`, `rows`);
    /// Oracle's route (`ddl`, `datapump`).
    pub strategy: Option<String>,
    /// MySQL/MariaDB: the server's data directory as this machine sees it,
    /// for copying table files (default: the server's `@@datadir`).
    pub datadir: Option<PathBuf>,
    /// Oracle: the tablespace clone users get their quota on (default
    /// `USERS`).
    pub tablespace: Option<String>,
    /// PostgreSQL: terminate other sessions holding the template.
    pub terminate_sessions: Option<bool>,
    /// PostgreSQL, MySQL: `"ephemeral"` to start a throwaway server of the
    /// run's own instead of using `url` (`"url"`, the default).
    pub server: Option<String>,
    /// MySQL/MariaDB on a throwaway server: `"databases"` (clones inside
    /// it), `"servers"` (one server per worker, copied from the one with
    /// the templates) or `"auto"` (by the templates' size, the default).
    pub ephemeral_clones: Option<String>,
    /// Where a throwaway server's directory goes (default `/dev/shm`
    /// where it exists, else the temporary directory).
    pub ephemeral_dir: Option<PathBuf>,
    /// The directory with a throwaway server's programs (default: `PATH`,
    /// then `pg_config --bindir`, then where packages install them).
    pub bin_dir: Option<PathBuf>,
    /// The user a throwaway server runs as (default: paraclone's; as root,
    /// PostgreSQL's runs as `postgres`, else `nobody`).
    pub run_as: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    run: RawRun,
    tests: RawTests,
    #[serde(default)]
    databases: BTreeMap<Spanned<String>, Spanned<RawAlias>>,
    #[serde(default)]
    backends: RawBackends,
    #[serde(default)]
    report: RawReport,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    junit: Option<PathBuf>,
    junit_output: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    parallel: Option<Spanned<toml::Value>>,
    state_dir: Option<PathBuf>,
    backend: Option<Spanned<String>>,
    reuse: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTests {
    kind: Spanned<String>,
    #[serde(default)]
    packages: Vec<String>,
    #[serde(default)]
    features: Vec<String>,
    workspace: Option<PathBuf>,
    list: Option<RawCommand>,
    tests: Option<Vec<String>>,
    run: Option<Spanned<String>>,
    cwd: Option<PathBuf>,
    group_separator: Option<String>,
    group: Option<Spanned<String>>,
    #[serde(default)]
    cargo_args: Vec<String>,
    toolchain: Option<String>,
    batch: Option<Spanned<i64>>,
    protocol: Option<Spanned<String>>,
    max_tests_per_worker: Option<Spanned<i64>>,
    retries: Option<Spanned<i64>>,
    python: Option<String>,
    manage: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    timeout: Option<Spanned<String>>,
    slow: Option<Spanned<String>>,
    grace: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    name: Option<String>,
    backend: Option<Spanned<String>>,
    migrations: Option<Spanned<String>>,
    migrator: Option<Spanned<Migrator>>,
    setup: Option<Spanned<RawCommand>>,
    mirror: Option<Spanned<String>>,
    #[serde(default)]
    depends: Vec<Spanned<String>>,
    url: Option<String>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<RawEnvValue>>,
    #[serde(default)]
    inputs: Vec<String>,
}

/// A value of `[databases.<alias>.env]`: a variable's value, or a table
/// of one backend's variables.
enum RawEnvValue {
    Var(String),
    Backend(Vec<(Spanned<String>, Spanned<String>)>),
}

impl<'de> Deserialize<'de> for RawEnvValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawEnvValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, or a table of one backend's variables")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawEnvValue, E> {
                Ok(RawEnvValue::Var(v.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawEnvValue, A::Error> {
                let mut vars = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    vars.push((key, map.next_value::<Spanned<String>>()?));
                }
                Ok(RawEnvValue::Backend(vars))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Checks and flattens an alias's `env` table: backend tables must name a
/// backend, and their values use only that backend's placeholders.
fn alias_env(
    text: &str,
    alias: &str,
    raw: BTreeMap<Spanned<String>, Spanned<RawEnvValue>>,
    invalid: &dyn Fn(usize, String) -> ConfigError,
) -> Result<Vec<EnvVar>, ConfigError> {
    let mut env = Vec::new();
    for (key, value) in raw {
        let at = value.span().start;
        match value.into_inner() {
            RawEnvValue::Var(value) => env.push(EnvVar {
                key: key.into_inner(),
                value,
                backend: None,
                at: Location::of(text, at),
            }),
            RawEnvValue::Backend(vars) => {
                let backend = key.get_ref();
                if !KNOWN_BACKENDS.contains(&backend.as_str()) {
                    return Err(invalid(
                        key.span().start,
                        format!(
                            "databases.{alias}.env.{backend}: a table here holds one backend's variables, and {backend:?} is not a backend (known: {})",
                            KNOWN_BACKENDS.join(", ")
                        ),
                    ));
                }
                for (name, value) in vars {
                    if let Some(missing) = missing_placeholder(value.get_ref(), backend) {
                        return Err(invalid(
                            value.span().start,
                            format!(
                                "databases.{alias}.env.{backend}.{}: {{{missing}}} has no value on the {backend} backend (it has {})",
                                name.get_ref(),
                                braced(placeholders_of(backend))
                            ),
                        ));
                    }
                    env.push(EnvVar {
                        key: name.into_inner(),
                        at: Location::of(text, value.span().start),
                        value: value.into_inner(),
                        backend: Some(backend.clone()),
                    });
                }
            }
        }
    }
    Ok(env)
}

/// Replaces `{python}` in a setup command with the suite's interpreter
/// (`tests.python` of a django or pytest suite), shell-quoted in a shell
/// string, as it is in an argument list.
fn with_python(setup: CommandLine, python: Option<&str>) -> Result<CommandLine, String> {
    let uses = match &setup {
        CommandLine::Shell(s) => s.contains("{python}"),
        CommandLine::Argv(v) => v.iter().any(|a| a.contains("{python}")),
    };
    if !uses {
        return Ok(setup);
    }
    let Some(python) = python else {
        return Err(
            "{python} stands for tests.python, which only kind = \"django\" and \"pytest\" have"
                .to_owned(),
        );
    };
    Ok(match setup {
        CommandLine::Shell(s) => CommandLine::Shell(s.replace("{python}", &shell_quote(python))),
        CommandLine::Argv(v) => {
            CommandLine::Argv(v.iter().map(|a| a.replace("{python}", python)).collect())
        }
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCommand {
    Shell(String),
    Argv(Vec<String>),
}

impl RawCommand {
    fn into_command(self) -> CommandLine {
        match self {
            RawCommand::Shell(s) => CommandLine::Shell(s),
            RawCommand::Argv(v) => CommandLine::Argv(v),
        }
    }
}

/// Quotes a word for `sh`: unchanged if it is plainly safe, else in single
/// quotes.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackends {
    #[serde(default)]
    sqlite: SqliteSettings,
    #[serde(default)]
    postgres: ServerSettings,
    #[serde(default)]
    mysql: ServerSettings,
    #[serde(default)]
    oracle: ServerSettings,
}

/// Finds the config: `explicit` if given, else `paraclone.toml` in `start`
/// or the nearest parent that has one.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| ConfigError::NotFound {
            dir: start.to_owned(),
        })
}

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    parse(&text, &path)
}

/// Checks config `text` read from `path` (used for messages and relative
/// paths).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let invalid = |offset: usize, message: String| ConfigError::Invalid {
        path: path.to_owned(),
        at: Location::of(text, offset),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim_end();
        match e.span() {
            Some(span) if message == "duplicate key" => invalid(offset, duplicate_key(text, span)),
            _ => invalid(offset, message.to_owned()),
        }
    })?;
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();

    let parallel = match raw.run.parallel {
        None => None,
        Some(value) => {
            let parsed = match value.get_ref() {
                toml::Value::Integer(n) if *n > 0 => Ok(Parallel::Count(*n as usize)),
                toml::Value::String(s) => Parallel::parse(s),
                other => Err(format!(
                    "expected a positive number or \"auto\", got {other}"
                )),
            };
            Some(parsed.map_err(|m| invalid(value.span().start, format!("run.parallel: {m}")))?)
        }
    };
    let backend = raw
        .run
        .backend
        .map(|b| known_backend(text, b, "run.backend", &invalid))
        .transpose()?;

    let tests = raw.tests;
    let duration =
        |value: Option<Spanned<String>>, key: &str| -> Result<Option<Duration>, ConfigError> {
            value
                .map(|v| {
                    humantime::parse_duration(v.get_ref()).map_err(|e| {
                        invalid(
                            v.span().start,
                            format!("tests.{key}: {e} (write e.g. \"90s\" or \"5m\")"),
                        )
                    })
                })
                .transpose()
        };
    let kind_at = tests.kind.span().start;
    let only_for = |present: bool, key: &str, kinds: &str| -> Result<(), ConfigError> {
        if present {
            Err(invalid(
                kind_at,
                format!("tests.{key}: only used with kind = {kinds}"),
            ))
        } else {
            Ok(())
        }
    };
    let batch = match &tests.batch {
        None => None,
        Some(b) if *b.get_ref() >= 1 => Some(*b.get_ref() as usize),
        Some(b) => {
            return Err(invalid(
                b.span().start,
                "tests.batch: must be at least 1".to_owned(),
            ));
        }
    };
    let cwd = tests
        .cwd
        .as_ref()
        .map_or_else(|| dir.clone(), |c| dir.join(c));
    let env: Vec<(String, String)> = tests.env.clone().into_iter().collect();
    // Whether the suite's processes are long-lived workers: `paraclone-v1`
    // (the default of the django and pytest presets) or `none`.
    let protocol = match &tests.protocol {
        None => None,
        Some(p) if p.get_ref() == "paraclone-v1" => Some(true),
        Some(p) if p.get_ref() == "none" => Some(false),
        Some(p) => {
            return Err(invalid(
                p.span().start,
                format!(
                    "tests.protocol: unknown protocol {:?} (known: \"paraclone-v1\", \"none\")",
                    p.get_ref()
                ),
            ));
        }
    };
    let max_tests_per_worker = match &tests.max_tests_per_worker {
        None => None,
        Some(n) if *n.get_ref() >= 1 => Some(*n.get_ref() as usize),
        Some(n) => {
            return Err(invalid(
                n.span().start,
                "tests.max_tests_per_worker: must be at least 1".to_owned(),
            ));
        }
    };
    let kind = match tests.kind.get_ref().as_str() {
        "rust" => {
            only_for(
                tests.list.is_some() || tests.tests.is_some() || tests.run.is_some(),
                "list/tests/run",
                "\"command\"",
            )?;
            only_for(
                tests.python.is_some() || tests.manage.is_some(),
                "python/manage",
                "\"django\" or \"pytest\"",
            )?;
            only_for(
                protocol.is_some() || max_tests_per_worker.is_some(),
                "protocol/max_tests_per_worker",
                "\"command\", \"django\" or \"pytest\"",
            )?;
            only_for(
                tests.group_separator.is_some(),
                "group_separator",
                "\"command\", \"django\" or \"pytest\" (Rust tests are grouped by `group`)",
            )?;
            let group = match tests
                .group
                .as_ref()
                .map(|g| (g.get_ref().as_str(), g.span().start))
            {
                None | Some(("test", _)) => RustGroup::Test,
                Some(("module", _)) => RustGroup::Module,
                Some(("binary", _)) => RustGroup::Binary,
                Some((other, at)) => {
                    return Err(invalid(
                        at,
                        format!(
                            "tests.group: unknown grouping {other:?} (known: \"test\", \"module\", \"binary\")"
                        ),
                    ));
                }
            };
            TestsKind::Rust {
                packages: tests.packages,
                features: tests.features,
                workspace: tests.workspace.map_or_else(|| dir.clone(), |w| dir.join(w)),
                cargo_args: tests.cargo_args,
                toolchain: tests.toolchain,
                group,
            }
        }
        "command" | "django" | "pytest"
            if tests.group.is_some()
                || !tests.cargo_args.is_empty()
                || tests.toolchain.is_some() =>
        {
            return Err(invalid(
                kind_at,
                "tests.group/cargo_args/toolchain: only used with kind = \"rust\" (command suites group by `group_separator`)".to_owned(),
            ));
        }
        "command" => {
            only_for(
                !tests.packages.is_empty()
                    || !tests.features.is_empty()
                    || tests.workspace.is_some(),
                "packages/features/workspace",
                "\"rust\"",
            )?;
            let run = tests.run.ok_or_else(|| {
                invalid(
                    kind_at,
                    "tests.run: a command suite needs a run command, e.g. run = \"pytest {tests}\""
                        .to_owned(),
                )
            })?;
            let speaks = protocol == Some(true);
            if !speaks && !run.get_ref().contains("{tests}") {
                return Err(invalid(
                    run.span().start,
                    "tests.run: must contain {tests}, where the ids of a group go (or set protocol = \"paraclone-v1\" for a tool that runs as a worker)".to_owned(),
                ));
            }
            if speaks && (run.get_ref().contains("{tests}") || run.get_ref().contains("{junit}")) {
                return Err(invalid(
                    run.span().start,
                    "tests.run: with protocol = \"paraclone-v1\" it starts a worker, which gets its tests over the protocol: no {tests} or {junit}".to_owned(),
                ));
            }
            let list = tests.list.map(RawCommand::into_command);
            let fixed = tests.tests.unwrap_or_default();
            if list.is_none() == fixed.is_empty() {
                return Err(invalid(kind_at, "tests: give either `list` (a command printing test ids) or `tests` (the ids), not both or neither".to_owned()));
            }
            TestsKind::Command(CommandTests {
                preset: Preset::None,
                list,
                tests: fixed,
                worker: speaks.then(|| run.get_ref().clone()),
                run: run.into_inner(),
                cwd,
                group_separator: tests.group_separator.unwrap_or_else(|| "::".to_owned()),
                batch: batch.unwrap_or(100),
                env,
            })
        }
        "django" => {
            only_for(
                tests.run.is_some() || tests.list.is_some() || tests.tests.is_some(),
                "list/tests/run",
                "\"command\"",
            )?;
            let python = shell_quote(tests.python.as_deref().unwrap_or("python3"));
            let manage = shell_quote(tests.manage.as_deref().unwrap_or("manage.py"));
            let labels: Vec<String> = tests.labels.iter().map(|l| shell_quote(l)).collect();
            let args: Vec<String> = tests.args.iter().map(|a| shell_quote(a)).collect();
            let runner = "--testrunner paraclone_django.ParacloneRunner";
            TestsKind::Command(CommandTests {
                preset: Preset::Django,
                list: Some(CommandLine::Shell(format!(
                    "PARACLONE_DJANGO_LIST=1 {python} {manage} test {runner} {} {{args}} {}",
                    args.join(" "),
                    labels.join(" ")
                ))),
                tests: Vec::new(),
                run: format!(
                    "PARACLONE_JUNIT={{junit}} {python} {manage} test {runner} {} {{args}} {{tests}}",
                    args.join(" ")
                ),
                worker: (protocol != Some(false)).then(|| {
                    format!(
                        "exec {python} {manage} test {runner} {} {{args}}",
                        args.join(" ")
                    )
                }),
                cwd,
                group_separator: tests.group_separator.unwrap_or_else(|| ".".to_owned()),
                batch: batch.unwrap_or(500),
                env,
            })
        }
        "pytest" => {
            only_for(
                tests.run.is_some() || tests.list.is_some() || tests.tests.is_some(),
                "list/tests/run",
                "\"command\"",
            )?;
            only_for(tests.manage.is_some(), "manage", "\"django\"")?;
            let python = shell_quote(tests.python.as_deref().unwrap_or("python3"));
            let args: Vec<String> = tests.args.iter().map(|a| shell_quote(a)).collect();
            let labels: Vec<String> = tests.labels.iter().map(|l| shell_quote(l)).collect();
            TestsKind::Command(CommandTests {
                preset: Preset::Pytest,
                list: Some(CommandLine::Shell(format!(
                    "{python} -m pytest --collect-only -q -p no:cacheprovider {} {{args}} {}",
                    args.join(" "),
                    labels.join(" ")
                ))),
                tests: Vec::new(),
                run: format!(
                    "{python} -m pytest -p no:cacheprovider -q --junitxml={{junit}} {} {{args}} -- {{tests}}",
                    args.join(" ")
                ),
                worker: (protocol != Some(false)).then(|| {
                    format!(
                        "exec {python} -m pytest -p paraclone_pytest -p no:cacheprovider -q {} {{args}} {}",
                        args.join(" "),
                        labels.join(" ")
                    )
                }),
                cwd,
                group_separator: tests.group_separator.unwrap_or_else(|| "::".to_owned()),
                batch: batch.unwrap_or(500),
                env,
            })
        }
        other => {
            return Err(invalid(
                kind_at,
                format!(
                    "tests.kind: unknown test adapter {other:?} (known: \"rust\", \"command\", \"django\", \"pytest\")"
                ),
            ));
        }
    };
    // What `{python}` in a setup command stands for: the suite's
    // interpreter, so a virtualenv's path is written once.
    let setup_python = matches!(tests.kind.get_ref().as_str(), "django" | "pytest")
        .then(|| tests.python.clone().unwrap_or_else(|| "python3".to_owned()));
    let timeout = tests
        .timeout
        .map(|v| {
            parse_timeout(v.get_ref())
                .map_err(|e| invalid(v.span().start, format!("tests.timeout: {e}")))
        })
        .transpose()?;
    let tests = TestsConfig {
        kind,
        timeout,
        slow: duration(tests.slow, "slow")?.unwrap_or(Duration::from_secs(60)),
        grace: duration(tests.grace, "grace")?.unwrap_or(Duration::from_secs(5)),
        max_tests_per_worker,
        retries: match &tests.retries {
            None => 0,
            Some(n) if (0..=100).contains(n.get_ref()) => *n.get_ref() as usize,
            Some(n) => {
                return Err(invalid(
                    n.span().start,
                    "tests.retries: must be between 0 and 100".to_owned(),
                ));
            }
        },
    };

    let mut aliases = Vec::new();
    let mut spans = Vec::new();
    for (alias, entry) in raw.databases {
        let alias_span = alias.span();
        let alias = alias.into_inner();
        if alias.is_empty()
            || !alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                alias_span.start,
                format!(
                    "databases.{alias:?}: an alias may hold only ASCII letters, digits, '_' and '-'"
                ),
            ));
        }
        let entry = entry.into_inner();
        let key = |k: &str| format!("databases.{alias}.{k}");
        let backend = entry
            .backend
            .map(|b| known_backend(text, b, &key("backend"), &invalid))
            .transpose()?;
        let base_name = entry.name.unwrap_or_else(|| format!("test_{alias}"));
        if base_name.is_empty() {
            return Err(invalid(
                alias_span.start,
                format!("{}: must not be empty", key("name")),
            ));
        }
        let setup = entry
            .setup
            .map(|setup| {
                let at = setup.span().start;
                with_python(setup.into_inner().into_command(), setup_python.as_deref())
                    .map_err(|m| invalid(at, format!("{}: {m}", key("setup"))))
            })
            .transpose()?;
        let migrator = match entry.migrator {
            None => Migrator::Sql,
            Some(m) => {
                let at = m.span().start;
                let m = m.into_inner();
                match m {
                    Migrator::Command if entry.migrations.is_some() => {
                        return Err(invalid(
                            at,
                            format!(
                                "{}: \"command\" migrates with the setup command, so {} must not be set",
                                key("migrator"),
                                key("migrations")
                            ),
                        ));
                    }
                    Migrator::Command if setup.is_none() => {
                        return Err(invalid(
                            at,
                            format!(
                                "{}: \"command\" needs {}, the tool's command (e.g. [\"diesel\", \"migration\", \"run\"])",
                                key("migrator"),
                                key("setup")
                            ),
                        ));
                    }
                    Migrator::Diesel | Migrator::Sqlx | Migrator::Refinery
                        if entry.migrations.is_none() =>
                    {
                        return Err(invalid(
                            at,
                            format!(
                                "{}: needs {}, the tool's migrations directory",
                                key("migrator"),
                                key("migrations")
                            ),
                        ));
                    }
                    _ => m,
                }
            }
        };
        spans.push(AliasSpans {
            mirror: entry.mirror.as_ref().map(|m| m.span().start),
            depends: entry.depends.iter().map(|d| d.span().start).collect(),
        });
        aliases.push(AliasConfig {
            alias: alias.clone(),
            base_name,
            backend,
            migrations: entry.migrations.map(|m| Located {
                at: Location::of(text, m.span().start),
                value: m.into_inner(),
            }),
            migrator,
            setup,
            mirror: entry.mirror.map(Spanned::into_inner),
            depends: entry.depends.into_iter().map(Spanned::into_inner).collect(),
            url: entry.url,
            env: alias_env(text, &alias, entry.env, &invalid)?,
            inputs: entry.inputs,
        });
        let setup_is_empty = matches!(&aliases.last().expect("just pushed").setup, Some(CommandLine::Argv(v)) if v.is_empty());
        if setup_is_empty {
            return Err(invalid(
                alias_span.start,
                format!("{}: the command is empty", key("setup")),
            ));
        }
    }
    if aliases.is_empty() {
        return Err(invalid(
            text.len(),
            "no [databases.<alias>] table: name at least one database".to_owned(),
        ));
    }
    let aliases = order_aliases(aliases, &spans).map_err(|(at, m)| invalid(at, m))?;

    let junit_all_output = match &raw.report.junit_output {
        None => false,
        Some(v) => match v.get_ref().as_str() {
            "failed" => false,
            "all" => true,
            other => {
                return Err(invalid(
                    v.span().start,
                    format!("report.junit_output: {other:?} is neither \"failed\" nor \"all\""),
                ));
            }
        },
    };
    let report = ReportConfig {
        junit: raw.report.junit.as_ref().map(|j| dir.join(j)),
        junit_all_output,
    };
    Ok(Config {
        report,
        path: path.to_owned(),
        state_dir: dir.join(
            raw.run
                .state_dir
                .unwrap_or_else(|| PathBuf::from("target/paraclone")),
        ),
        reuse: raw.run.reuse.unwrap_or(false),
        dir,
        parallel,
        backend,
        tests,
        aliases,
        backends: BackendSettings {
            sqlite: raw.backends.sqlite,
            postgres: raw.backends.postgres,
            mysql: raw.backends.mysql,
            oracle: raw.backends.oracle,
        },
    })
}

/// The message for a key defined twice, whose second definition is at
/// `span`: the key's dotted path and the line of its first definition.
/// The file did not parse, so this reads its lines the simple way (table
/// headers and `key =` lines); where that finds no first definition, the
/// key alone is named.
fn duplicate_key(text: &str, span: std::ops::Range<usize>) -> String {
    fn segments(s: &str) -> Vec<String> {
        s.split('.')
            .map(|p| p.trim().trim_matches('"').trim_matches('\'').to_owned())
            .collect()
    }
    fn header(line: &str) -> Option<Vec<String>> {
        let inner = line.trim().strip_prefix('[')?;
        let inner = inner.strip_prefix('[').unwrap_or(inner);
        Some(segments(&inner[..inner.find(']')?]))
    }
    fn key_path(line: &str) -> Option<Vec<String>> {
        let line = line.trim_start();
        if line.starts_with('#') || line.starts_with('[') {
            return None;
        }
        Some(segments(&line[..line.find('=')?]))
    }
    fn up_to(mut path: Vec<String>, key: &str) -> Vec<String> {
        if let Some(i) = path.iter().rposition(|p| p == key) {
            path.truncate(i + 1);
        }
        path
    }
    let start = span.start.min(text.len());
    let key = text
        .get(span)
        .unwrap_or("")
        .trim()
        .trim_matches('"')
        .trim_matches('\'')
        .to_owned();
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before: Vec<&str> = text[..line_start].lines().collect();
    let table_at = |lines: &[&str]| -> Vec<String> {
        lines
            .iter()
            .rev()
            .find_map(|l| header(l))
            .unwrap_or_default()
    };
    let line = text[line_start..].lines().next().unwrap_or("");
    let path = match (header(line), key_path(line)) {
        (Some(h), _) => up_to(h, &key),
        (None, Some(k)) => {
            let mut path = table_at(&before);
            path.extend(up_to(k, &key));
            path
        }
        (None, None) => vec![key.clone()],
    };
    let first = (0..before.len()).find(|&i| match header(before[i]) {
        Some(h) => h == path,
        None => key_path(before[i]).is_some_and(|k| {
            let mut full = table_at(&before[..i]);
            full.extend(k);
            full.starts_with(&path)
        }),
    });
    let dotted = path.join(".");
    match first {
        Some(i) => format!("duplicate key `{dotted}`: first defined on line {}", i + 1),
        None => format!("duplicate key `{dotted}`"),
    }
}

fn known_backend(
    text: &str,
    value: Spanned<String>,
    key: &str,
    invalid: &dyn Fn(usize, String) -> ConfigError,
) -> Result<Located<String>, ConfigError> {
    if KNOWN_BACKENDS.contains(&value.get_ref().as_str()) {
        Ok(Located {
            at: Location::of(text, value.span().start),
            value: value.into_inner(),
        })
    } else {
        Err(invalid(
            value.span().start,
            format!(
                "{key}: unknown backend {:?} (known: {})",
                value.get_ref(),
                KNOWN_BACKENDS.join(", ")
            ),
        ))
    }
}

/// Where an alias's references were written, as offsets into the file.
struct AliasSpans {
    /// Its `mirror` value.
    mirror: Option<usize>,
    /// Each of its `depends` entries.
    depends: Vec<usize>,
}

/// Checks mirrors and dependencies and puts every alias after the ones it
/// depends on (Django's TEST DEPENDENCIES); ties keep alphabetical order,
/// with `default` first. `spans[i]` is where `aliases[i]` was written; an
/// error comes with the offset of the reference it is about.
fn order_aliases(
    aliases: Vec<AliasConfig>,
    spans: &[AliasSpans],
) -> Result<Vec<AliasConfig>, (usize, String)> {
    let names: Vec<String> = aliases.iter().map(|a| a.alias.clone()).collect();
    for (a, at) in aliases.iter().zip(spans) {
        let references = a
            .depends
            .iter()
            .zip(&at.depends)
            .map(|(d, at)| ("depends", d, *at))
            .chain(
                a.mirror
                    .iter()
                    .zip(at.mirror)
                    .map(|(m, at)| ("mirror", m, at)),
            );
        for (key, d, offset) in references {
            if !names.contains(d) {
                return Err((
                    offset,
                    format!(
                        "databases.{}.{key}: {d:?} is not a database alias (known: {})",
                        a.alias,
                        names.join(", ")
                    ),
                ));
            }
            if d == &a.alias {
                return Err((
                    offset,
                    format!("databases.{}.{key}: refers to itself", a.alias),
                ));
            }
        }
        if let (Some(m), Some(offset)) = (&a.mirror, at.mirror) {
            let target = aliases
                .iter()
                .find(|t| &t.alias == m)
                .expect("checked above");
            if target.mirror.is_some() {
                return Err((
                    offset,
                    format!(
                        "databases.{}.mirror: mirrors {m:?}, which is itself a mirror",
                        a.alias
                    ),
                ));
            }
            if a.migrations.is_some() || a.setup.is_some() {
                return Err((
                    offset,
                    format!(
                        "databases.{}.mirror: a mirror has no migrations or setup of its own",
                        a.alias
                    ),
                ));
            }
        }
    }
    let mut pending: Vec<(AliasConfig, &AliasSpans)> = aliases.into_iter().zip(spans).collect();
    pending.sort_by_key(|(a, _)| (a.alias != "default", a.alias.clone()));
    let mut ordered: Vec<AliasConfig> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|(a, _)| {
            a.depends
                .iter()
                .chain(&a.mirror)
                .all(|d| ordered.iter().any(|o| &o.alias == d))
        });
        match ready {
            Some(i) => ordered.push(pending.remove(i).0),
            None => {
                // Every alias left waits for another one left, so following
                // the first such reference from any of them comes back to
                // one already seen: that loop is the cycle.
                let next = |i: usize| -> (usize, &'static str, usize) {
                    let (a, at) = &pending[i];
                    a.depends
                        .iter()
                        .zip(&at.depends)
                        .map(|(d, offset)| ("depends", d, *offset))
                        .chain(
                            a.mirror
                                .iter()
                                .zip(at.mirror)
                                .map(|(m, o)| ("mirror", m, o)),
                        )
                        .find_map(|(key, d, offset)| {
                            pending
                                .iter()
                                .position(|(p, _)| &p.alias == d)
                                .map(|j| (j, key, offset))
                        })
                        .expect("an alias left waits for another one left")
                };
                let mut path = vec![0];
                loop {
                    let (j, _, _) = next(*path.last().expect("never empty"));
                    if let Some(k) = path.iter().position(|&p| p == j) {
                        path.drain(..k);
                        break;
                    }
                    path.push(j);
                }
                let (_, key, offset) = next(path[0]);
                let mut cycle: Vec<&str> =
                    path.iter().map(|&i| pending[i].0.alias.as_str()).collect();
                cycle.push(cycle[0]);
                return Err((
                    offset,
                    format!(
                        "databases.{}.{key}: circular dependency: {}",
                        cycle[0],
                        cycle.join(" -> ")
                    ),
                ));
            }
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        parse(text, Path::new("/p/paraclone.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> String {
        parse(text, Path::new("/p/paraclone.toml"))
            .map(|_| ())
            .expect_err("config should be rejected")
            .to_string()
    }

    const MINIMAL: &str = "[tests]\nkind = \"rust\"\n\n[databases.default]\nmigrations = \"m\"\n";

    #[test]
    fn minimal_config_has_defaults() {
        let c = parse_ok(MINIMAL);
        assert_eq!(c.aliases.len(), 1);
        assert_eq!(c.aliases[0].base_name, "test_default");
        assert_eq!(
            c.aliases[0].migrations.as_ref().unwrap().at,
            Location {
                line: 5,
                column: 14
            }
        );
        assert_eq!(c.parallel, None);
        assert_eq!(c.dir, Path::new("/p"));
        assert_eq!(c.tests.slow, Duration::from_secs(60));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = parse_err("[tests]\nkind = \"rust\"\nparalel = 3\n[databases.default]\n");
        assert!(
            e.starts_with("/p/paraclone.toml:3:1: unknown field `paralel`"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_names_line() {
        let e =
            parse_err("[run]\nparallel = true\n[tests]\nkind = \"rust\"\n[databases.default]\n");
        assert!(
            e.starts_with("/p/paraclone.toml:2:12: run.parallel: expected a positive number"),
            "{e}"
        );
        let e = parse_err("[tests]\nkind = \"rust\"\n[databases.default]\ndepends = \"x\"\n");
        assert!(e.starts_with("/p/paraclone.toml:4:11: invalid type"), "{e}");
    }

    #[test]
    fn parallel_accepts_numbers_and_auto() {
        assert_eq!(
            parse_ok(&format!("[run]\nparallel = 3\n{MINIMAL}")).parallel,
            Some(Parallel::Count(3))
        );
        assert_eq!(
            parse_ok(&format!("[run]\nparallel = \"auto\"\n{MINIMAL}")).parallel,
            Some(Parallel::Auto)
        );
        assert!(parse_err(&format!("[run]\nparallel = 0\n{MINIMAL}")).contains("run.parallel"));
        assert_eq!(
            Parallel::parse("0"),
            Err("expected a positive number or \"auto\", got \"0\"".to_owned())
        );
    }

    #[test]
    fn unknown_backend_is_rejected_with_the_known_ones() {
        let e = parse_err(
            "[run]\nbackend = \"mongo\"\n[tests]\nkind = \"rust\"\n[databases.default]\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:2:11: run.backend: unknown backend \"mongo\" (known: sqlite, postgres, mysql, oracle)"
        );
    }

    #[test]
    fn bad_duration_is_explained() {
        let e = parse_err("[tests]\nkind = \"rust\"\ntimeout = \"soon\"\n[databases.default]\n");
        assert!(
            e.starts_with("/p/paraclone.toml:3:11: tests.timeout:"),
            "{e}"
        );
    }

    #[test]
    fn dependencies_order_aliases_and_cycles_are_errors() {
        let c = parse_ok(
            "[tests]\nkind = \"rust\"\n[databases.default]\ndepends = [\"b\"]\n[databases.b]\n[databases.a]\nmirror = \"default\"\n",
        );
        let order: Vec<&str> = c.aliases.iter().map(|a| a.alias.as_str()).collect();
        assert_eq!(order, ["b", "default", "a"]);
    }

    #[test]
    fn reference_errors_point_at_the_reference() {
        // A cycle: at the first `depends` entry that closes it.
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.a]\ndepends = [\"c\", \"b\"]\n[databases.b]\ndepends = [\"a\"]\n[databases.c]\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:4:17: databases.a.depends: circular dependency: a -> b -> a"
        );
        // A cycle through a mirror, not involving aliases waiting on it.
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.a]\ndepends = [\"m\"]\n[databases.m]\nmirror = \"a\"\n[databases.z]\ndepends = [\"a\"]\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:4:12: databases.a.depends: circular dependency: a -> m -> a"
        );
        let e = parse_err("[tests]\nkind = \"rust\"\n[databases.a]\nmirror = \"nope\"\n");
        assert_eq!(
            e,
            "/p/paraclone.toml:4:10: databases.a.mirror: \"nope\" is not a database alias (known: a)"
        );
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.a]\n[databases.b]\ndepends = [\"a\", \"x\"]\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:5:17: databases.b.depends: \"x\" is not a database alias (known: a, b)"
        );
        let e = parse_err("[tests]\nkind = \"rust\"\n[databases.a]\ndepends = [\"a\"]\n");
        assert_eq!(
            e,
            "/p/paraclone.toml:4:12: databases.a.depends: refers to itself"
        );
    }

    #[test]
    fn a_duplicate_key_is_named_with_its_first_definition() {
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.default]\nname = \"a\"\nmigrations = \"m\"\nname = \"b\"\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:6:1: duplicate key `databases.default.name`: first defined on line 4"
        );
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.default]\nname = \"a\"\n[databases.other]\n[databases.default]\nname = \"b\"\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:6:12: duplicate key `databases.default`: first defined on line 3"
        );
        // The same key in another table is no duplicate of it.
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.a]\nname = \"a\"\n[databases.b]\nname = \"b\"\nname = \"c\"\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:7:1: duplicate key `databases.b.name`: first defined on line 6"
        );
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        let e = parse_err("[tests]\nkind = \"rust\"\ntimeout = \"0s\"\n[databases.default]\n");
        assert_eq!(
            e,
            "/p/paraclone.toml:3:11: tests.timeout: \"0s\" would time out every test: give a limit longer than 0s, or none at all"
        );
        assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_timeout("0ms").is_err());
    }

    #[test]
    fn backend_env_tables_apply_on_their_backend_only() {
        let c = parse_ok(
            "[tests]\nkind = \"rust\"\n[databases.default]\n[databases.default.env]\nA = \"{name}\"\nB = \"common\"\n[databases.default.env.sqlite]\nB = \"{path}\"\n",
        );
        let alias = &c.aliases[0];
        let on = |backend: &str| -> Vec<(String, String)> {
            alias
                .env_on(backend)
                .map(|v| (v.key.clone(), v.value.clone()))
                .collect()
        };
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(on("sqlite"), [pair("A", "{name}"), pair("B", "{path}")]);
        assert_eq!(on("postgres"), [pair("A", "{name}"), pair("B", "common")]);
        assert_eq!(alias.env[2].at, Location { line: 8, column: 5 });
        alias
            .check_env("postgres", Path::new("/p/paraclone.toml"))
            .expect("the common values have no {path}");
    }

    #[test]
    fn a_placeholder_the_backend_lacks_is_an_error() {
        let c = parse_ok(
            "[tests]\nkind = \"rust\"\n[databases.default]\n[databases.default.env]\nDATABASE_URL = \"sqlite:///{path}\"\n",
        );
        c.aliases[0]
            .check_env("sqlite", &c.path)
            .expect("sqlite has {path}");
        let e = c.aliases[0]
            .check_env("postgres", &c.path)
            .expect_err("postgres has no {path}")
            .to_string();
        assert_eq!(
            e,
            "/p/paraclone.toml:5:16: databases.default.env.DATABASE_URL: {path} has no value on the postgres backend (it has {url} {name} {host} {port} {user} {password} {worker}); to set DATABASE_URL on some backends only, put it in [databases.default.env.<backend>], e.g. [databases.default.env.sqlite]"
        );
        // In a backend's own table, checked when the file is read.
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.default]\n[databases.default.env.sqlite]\nPGHOST = \"{host}\"\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:5:10: databases.default.env.sqlite.PGHOST: {host} has no value on the sqlite backend (it has {url} {name} {path} {worker})"
        );
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.default]\n[databases.default.env.mongo]\nX = \"1\"\n",
        );
        assert!(
            e.starts_with("/p/paraclone.toml:4:24: databases.default.env.mongo: a table here holds one backend's variables"),
            "{e}"
        );
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.default]\n[databases.default.env]\nX = 3\n",
        );
        assert!(
            e.starts_with("/p/paraclone.toml:5:5: invalid type: integer"),
            "{e}"
        );
    }

    #[test]
    fn python_in_setup_is_the_suites_interpreter() {
        let config = |kind: &str, setup: &str| {
            format!(
                "[tests]\nkind = \"{kind}\"\npython = \"/opt/my venv/bin/python\"\n[databases.default]\nsetup = {setup}\n"
            )
        };
        let c = parse_ok(&config("django", "\"{python} manage.py migrate\""));
        assert_eq!(
            c.aliases[0].setup,
            Some(CommandLine::Shell(
                "'/opt/my venv/bin/python' manage.py migrate".to_owned()
            ))
        );
        let c = parse_ok(&config("pytest", "[\"{python}\", \"seed.py\"]"));
        assert_eq!(
            c.aliases[0].setup,
            Some(CommandLine::Argv(vec![
                "/opt/my venv/bin/python".to_owned(),
                "seed.py".to_owned()
            ]))
        );
        let c = parse_ok(
            "[tests]\nkind = \"pytest\"\n[databases.default]\nsetup = \"{python} seed.py\"\n",
        );
        assert_eq!(
            c.aliases[0].setup,
            Some(CommandLine::Shell("python3 seed.py".to_owned()))
        );
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.default]\nsetup = \"{python} seed.py\"\n",
        );
        assert_eq!(
            e,
            "/p/paraclone.toml:4:9: databases.default.setup: {python} stands for tests.python, which only kind = \"django\" and \"pytest\" have"
        );
    }

    #[test]
    fn no_database_is_an_error() {
        assert!(parse_err("[tests]\nkind = \"rust\"\n").contains("no [databases.<alias>] table"));
    }

    #[test]
    fn syntax_error_has_a_line() {
        let e = parse_err("[tests]\nkind = \"rust\n");
        assert!(e.starts_with("/p/paraclone.toml:2:"), "{e}");
    }

    const FULL: &str = r#"[run]
parallel = 4
backend = "sqlite"
state_dir = "state"

[tests]
kind = "rust"
packages = ["shop"]
timeout = "2m"

[databases.default]
name = "shop"
migrations = "migrations/{backend}"
setup = ["python", "seed.py"]
depends = ["other"]

[databases.default.env]
SHOP_DB = "{path}"

[databases.other]
url = "postgres://u:p@h/db"

[databases.replica]
mirror = "default"

[backends.sqlite]
target = "ram"
method = "vacuum"
"#;

    #[test]
    fn full_config_parses() {
        let c = parse_ok(FULL);
        let order: Vec<&str> = c.aliases.iter().map(|a| a.alias.as_str()).collect();
        assert_eq!(order, ["other", "default", "replica"]);
        assert_eq!(c.state_dir, Path::new("/p/state"));
        assert_eq!(
            c.aliases[1].setup,
            Some(CommandLine::Argv(vec![
                "python".to_owned(),
                "seed.py".to_owned()
            ]))
        );
        assert_eq!(
            c.aliases[1].env,
            [EnvVar {
                key: "SHOP_DB".to_owned(),
                value: "{path}".to_owned(),
                backend: None,
                at: Location {
                    line: 18,
                    column: 11
                },
            }]
        );
        assert_eq!(c.backends.sqlite.target.as_deref(), Some("ram"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any text at all: an answer, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse(&text, Path::new("/p/paraclone.toml"));
        }

        /// A valid config with one span replaced by junk: an answer, never a
        /// panic, and any error names the file and a line within it.
        #[test]
        fn mutated_config_never_panics(start in 0..FULL.len(), len in 0..20usize, junk in "[\\[\\]{}=\"',.#a-z0-9 \n]{0,12}") {
            let mut text = FULL.to_owned();
            let start = (0..=start).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + len).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(start..end, &junk);
            if let Err(ConfigError::Invalid { path, at, .. }) = parse(&text, Path::new("/p/paraclone.toml")) {
                proptest::prop_assert_eq!(path, Path::new("/p/paraclone.toml"));
                proptest::prop_assert!(at.line >= 1 && at.line <= text.lines().count() + 1, "line {} of {}", at.line, text.lines().count());
            }
        }
    }
}
