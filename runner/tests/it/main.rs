//! End-to-end tests of `paraclone`: the built binary runs the example
//! suite (`examples/shop`) on real SQLite databases in a temporary
//! directory, and the tests look at what it printed, its exit code and what
//! it left on disk.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod ci;
mod cli;
mod color;
mod command;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod ephemeral;
mod example;
mod faults;
mod leaks;
mod ledger;
mod list;
mod migrators;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod python;
mod retries;
mod reuse;
mod scheduling;
mod signals;
mod slots;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch project: a config pointing at the example suite, with its
/// SQLite databases in a directory of its own.
pub(crate) struct Project {
    pub(crate) dir: tempfile::TempDir,
}

impl Project {
    /// A project with the example's config; `extra` is appended to it.
    pub(crate) fn example(extra: &str) -> Project {
        let root = workspace_root();
        let migrations = root.join("examples/shop/migrations/{backend}");
        let config = format!(
            r#"[run]
parallel = 2

[tests]
kind = "rust"
packages = ["shop"]
workspace = "{root}"
timeout = "2m"

[databases.default]
name = "shop"
migrations = "{migrations}"

[backends.sqlite]
dir = "dbs"
{extra}"#,
            root = root.display(),
            migrations = migrations.display(),
        );
        Project::with_config(&config)
    }

    /// A project whose config is `head` (`[run]`, `[tests]`) and one SQLite
    /// database named `name`, made by a one-table migration.
    pub(crate) fn with_suite(head: &str, name: &str) -> Project {
        let project = Project::with_config(&format!(
            "{head}\n[databases.default]\nname = \"{name}\"\nmigrations = \"migrations\"\n\n[backends.sqlite]\ndir = \"dbs\"\n"
        ));
        let migrations = project.dir.path().join("migrations");
        std::fs::create_dir_all(&migrations).expect("mkdir");
        std::fs::write(migrations.join("0001.sql"), "CREATE TABLE t (x INTEGER);\n")
            .expect("migration");
        project
    }

    pub(crate) fn with_config(config: &str) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("paraclone.toml"), config).expect("write config");
        Project { dir }
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.path().join("paraclone.toml")
    }

    /// `paraclone test --config <this project> --no-progress <args>`.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paraclone"));
        cmd.arg("test")
            .arg("--config")
            .arg(self.config())
            .arg("--no-progress")
            .args(args);
        cmd.env_remove("PARACLONE_PARALLEL")
            .env_remove("PARACLONE_DB")
            .env_remove("SHOP_DEMO");
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("paraclone runs"))
    }

    /// Database files left in the project's SQLite directory.
    pub(crate) fn database_files(&self) -> Vec<String> {
        let dir = self.dir.path().join("dbs");
        match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .map(|e| {
                    e.expect("dir entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// What a finished `paraclone` printed and returned.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Names of the tests reported with `status` (`PASS`, `FAIL`, …).
    pub(crate) fn tests_with(&self, status: &str) -> BTreeSet<String> {
        self.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("{status} [")))
            .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest))
            .filter_map(|rest| {
                rest.split_once(' ')
                    .map(|(_worker, test)| test.split(" (").next().unwrap_or(test).to_owned())
            })
            .collect()
    }

    /// The run's id, from its `Starting run <id> …` line.
    pub(crate) fn run_id(&self) -> String {
        let line = self
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("Starting run "))
            .unwrap_or_else(|| panic!("no Starting line:\n{}", self.stdout));
        line.split_whitespace()
            .nth(2)
            .expect("the run id")
            .to_owned()
    }

    pub(crate) fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner is in the workspace")
        .to_owned()
}
