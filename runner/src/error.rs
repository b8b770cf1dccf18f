//! [`RunError`]: why a run could not be carried out (as opposed to tests
//! failing, which is an outcome), and the documented exit codes.

use std::path::PathBuf;

use cloner::ClonerError;

use crate::config::{ConfigError, Location};

/// Exit codes of `paraclone`, stable and documented in the README.
pub mod exit_code {
    /// Every selected test passed.
    pub const SUCCESS: i32 = 0;
    /// At least one test failed, crashed or timed out.
    pub const TESTS_FAILED: i32 = 1;
    /// The run could not be carried out: bad config or command line, a
    /// database or build problem. Nothing was left behind unless the
    /// message says so.
    pub const COULD_NOT_RUN: i32 = 2;
    /// Interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells do).
    pub const INTERRUPTED: i32 = 130;
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The config is missing or wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A throwaway server (`server = "ephemeral"`) could not be found,
    /// made or started.
    #[error("throwaway {backend} server: {message}{}", if output.is_empty() { String::new() } else { format!("\n{}", output.trim_end()) })]
    Server {
        /// The backend it is for.
        backend: &'static str,
        /// What went wrong.
        message: String,
        /// What the server or its set-up program printed (redacted).
        output: String,
    },
    /// A setting has a value the backend does not accept.
    #[error("{}: {key}: {message}", config.display())]
    BadSetting {
        /// The config file.
        config: PathBuf,
        /// The setting.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The alias asks for a backend this build does not have.
    #[error(
        "{origin}: the {backend} backend is not compiled into this build (compiled in: {compiled}); rebuild with `--features {backend}`"
    )]
    BackendNotCompiled {
        /// The backend asked for.
        backend: String,
        /// Where it was asked for: `paraclone.toml:3:11`, or `--db mysql`.
        origin: String,
        /// The backends this build has.
        compiled: String,
    },
    /// A migrations directory is missing or unreadable.
    #[error("{}:{at}: databases.{alias}.migrations: cannot read directory {}", config.display(), dir.display())]
    Migrations {
        /// The config file.
        config: PathBuf,
        /// Where the directory was named.
        at: Location,
        /// The alias.
        alias: String,
        /// The directory (with `{backend}` replaced).
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A migrations directory is not in its migrator's layout.
    #[error("{}:{at}: databases.{alias}.migrations: {} is not a {tool} migrations directory", config.display(), dir.display())]
    MigrationLayout {
        /// The config file.
        config: PathBuf,
        /// Where the directory was named.
        at: Location,
        /// The alias.
        alias: String,
        /// The tool (`migrator`).
        tool: &'static str,
        /// The directory (with `{backend}` replaced).
        dir: PathBuf,
        /// What is wrong.
        #[source]
        source: Box<crate::migrators::LayoutError>,
    },
    /// A backend operation failed.
    #[error("failed to {op}{}", alias.as_ref().map(|a| format!(" for database alias {a:?}")).unwrap_or_default())]
    Backend {
        /// The alias, if one is concerned.
        alias: Option<String>,
        /// What was being done.
        op: &'static str,
        /// The backend's error.
        #[source]
        source: ClonerError,
    },
    /// The alias's setup command failed.
    #[error("the setup command of database alias {alias:?} ({command}) {status}\n{output}")]
    Setup {
        /// The alias.
        alias: String,
        /// The command.
        command: String,
        /// How it ended.
        status: String,
        /// Its output, redacted.
        output: String,
    },
    /// Building or listing the tests failed.
    #[error("{what}\n{output}")]
    Discover {
        /// What failed (`cargo test --no-run exited with code 101`).
        what: String,
        /// The tool's output.
        output: String,
    },
    /// A long-lived test worker could not be started.
    #[error("the test worker `{command}` {what}\n{output}")]
    Worker {
        /// The command.
        command: String,
        /// What went wrong (`exited with code 1 before it was ready`).
        what: String,
        /// What it printed, redacted.
        output: String,
    },
    /// A process could not be started.
    #[error("could not start {command}")]
    Spawn {
        /// The command.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The ledger could not be written or read.
    #[error("could not use the ledger in {}", path.display())]
    Ledger {
        /// The ledger directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A kept template's registry, lock or fingerprint input could not be
    /// used (`--reuse`).
    #[error("could not use {} for template reuse", path.display())]
    Reuse {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime or signal handling could not be set up.
    #[error("could not set up the runtime")]
    Runtime(#[source] std::io::Error),
    /// The run was interrupted before the tests started.
    #[error("interrupted")]
    Interrupted,
}

impl RunError {
    /// Advice printed after the error, when there is some.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Backend { source, .. } => source.hint().map(str::to_owned),
            RunError::Config(ConfigError::NotFound { .. }) => Some(
                "run paraclone from a directory with a paraclone.toml, or pass --config PATH"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// The exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Interrupted => exit_code::INTERRUPTED,
            _ => exit_code::COULD_NOT_RUN,
        }
    }
}
