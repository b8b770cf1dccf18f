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
    /// `[tests]`.
    pub tests: TestsConfig,
    /// `[databases.*]`, in creation order (dependencies first).
    pub aliases: Vec<AliasConfig>,
    /// `[backends.*]`.
    pub backends: BackendSettings,
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
    },
    /// Any test tool, driven by commands (also what the `django` and
    /// `pytest` presets become).
    Command(CommandTests),
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
    /// Extra variables for both commands.
    pub env: Vec<(String, String)>,
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
    pub env: Vec<(String, String)>,
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
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    parallel: Option<Spanned<toml::Value>>,
    state_dir: Option<PathBuf>,
    backend: Option<Spanned<String>>,
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
    batch: Option<Spanned<i64>>,
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
    setup: Option<RawCommand>,
    mirror: Option<Spanned<String>>,
    #[serde(default)]
    depends: Vec<Spanned<String>>,
    url: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
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
        invalid(offset, e.message().trim_end().to_owned())
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
            TestsKind::Rust {
                packages: tests.packages,
                features: tests.features,
                workspace: tests.workspace.map_or_else(|| dir.clone(), |w| dir.join(w)),
            }
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
            if !run.get_ref().contains("{tests}") {
                return Err(invalid(
                    run.span().start,
                    "tests.run: must contain {tests}, where the ids of a group go".to_owned(),
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
    let tests = TestsConfig {
        kind,
        timeout: duration(tests.timeout, "timeout")?,
        slow: duration(tests.slow, "slow")?.unwrap_or(Duration::from_secs(60)),
        grace: duration(tests.grace, "grace")?.unwrap_or(Duration::from_secs(5)),
    };

    let mut aliases = Vec::new();
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
        aliases.push(AliasConfig {
            alias: alias.clone(),
            base_name,
            backend,
            migrations: entry.migrations.map(|m| Located {
                at: Location::of(text, m.span().start),
                value: m.into_inner(),
            }),
            setup: entry.setup.map(RawCommand::into_command),
            mirror: entry.mirror.map(Spanned::into_inner),
            depends: entry.depends.into_iter().map(Spanned::into_inner).collect(),
            url: entry.url,
            env: entry.env.into_iter().collect(),
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
    let aliases = order_aliases(aliases).map_err(|m| invalid(0, m))?;

    Ok(Config {
        path: path.to_owned(),
        state_dir: dir.join(
            raw.run
                .state_dir
                .unwrap_or_else(|| PathBuf::from("target/paraclone")),
        ),
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

/// Checks mirrors and dependencies and puts every alias after the ones it
/// depends on (Django's TEST DEPENDENCIES); ties keep alphabetical order,
/// with `default` first.
fn order_aliases(mut aliases: Vec<AliasConfig>) -> Result<Vec<AliasConfig>, String> {
    let names: Vec<String> = aliases.iter().map(|a| a.alias.clone()).collect();
    for a in &aliases {
        for d in a.depends.iter().chain(&a.mirror) {
            if !names.contains(d) {
                return Err(format!(
                    "databases.{}: refers to {d:?}, which is not a database alias",
                    a.alias
                ));
            }
            if d == &a.alias {
                return Err(format!("databases.{}: refers to itself", a.alias));
            }
        }
        if let Some(m) = &a.mirror {
            let target = aliases
                .iter()
                .find(|t| &t.alias == m)
                .expect("checked above");
            if target.mirror.is_some() {
                return Err(format!(
                    "databases.{}: mirrors {m:?}, which is itself a mirror",
                    a.alias
                ));
            }
            if a.migrations.is_some() || a.setup.is_some() {
                return Err(format!(
                    "databases.{}: a mirror has no migrations or setup of its own",
                    a.alias
                ));
            }
        }
    }
    aliases.sort_by_key(|a| (a.alias != "default", a.alias.clone()));
    let mut ordered: Vec<AliasConfig> = Vec::with_capacity(aliases.len());
    while !aliases.is_empty() {
        let ready = aliases.iter().position(|a| {
            a.depends
                .iter()
                .chain(&a.mirror)
                .all(|d| ordered.iter().any(|o| &o.alias == d))
        });
        match ready {
            Some(i) => ordered.push(aliases.remove(i)),
            None => {
                let cycle: Vec<&str> = aliases.iter().map(|a| a.alias.as_str()).collect();
                return Err(format!(
                    "databases: circular dependency among {}",
                    cycle.join(", ")
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
        let e = parse_err(
            "[tests]\nkind = \"rust\"\n[databases.a]\ndepends = [\"b\"]\n[databases.b]\ndepends = [\"a\"]\n",
        );
        assert!(e.contains("circular dependency among a, b"), "{e}");
        let e = parse_err("[tests]\nkind = \"rust\"\n[databases.a]\nmirror = \"nope\"\n");
        assert!(e.contains("refers to \"nope\""), "{e}");
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
            [("SHOP_DB".to_owned(), "{path}".to_owned())]
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
