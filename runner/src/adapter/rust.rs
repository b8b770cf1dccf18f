//! Rust test binaries: built by cargo, listed with `--list`, one spawned
//! process per test with `--exact`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::adapter::{Group, Listing};
use crate::error::RunError;
use crate::events::{Outcome, TestId};
use crate::spawn::{self, ChildSpec, Exit, Limits};

/// One built test binary.
#[derive(Clone, Debug)]
pub(crate) struct TestBinary {
    /// `package::target`, as shown in reports.
    pub(crate) id: String,
    /// The executable.
    pub(crate) path: PathBuf,
    /// The package's directory: the test's working directory, as under
    /// `cargo test`.
    pub(crate) package_dir: PathBuf,
}

/// The built and listed suite.
#[derive(Debug)]
pub(crate) struct RustSuite {
    pub(crate) binaries: Vec<TestBinary>,
}

impl RustSuite {
    /// The command that runs one test of this suite.
    pub(crate) fn test_command(&self, group: &Group, test: &TestId) -> ChildSpec {
        let binary = &self.binaries[group.binary];
        ChildSpec::new(&binary.path, &binary.package_dir)
            .args([
                "--exact",
                test.name.as_str(),
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .envs([(
                "CARGO_MANIFEST_DIR".to_owned(),
                binary.package_dir.display().to_string(),
            )])
    }

    /// The outcome of one test from its process's end.
    pub(crate) fn outcome(exit: Exit, output: &str, timeout: Option<Duration>) -> Outcome {
        match exit {
            Exit::Code(0) if ran_one_test(output) => Outcome::Passed,
            Exit::Code(0) => Outcome::SpawnFailed {
                reason: "the test binary ran no test of that name".to_owned(),
            },
            Exit::Code(code) => Outcome::Failed { code },
            Exit::Signal(signal) => Outcome::Signalled {
                signal: spawn::signal_name(signal),
            },
            Exit::TimedOut => Outcome::TimedOut {
                limit: timeout.unwrap_or_default(),
            },
            Exit::Interrupted => Outcome::Interrupted,
        }
    }
}

/// Whether a finished test process really ran the one test it was given
/// (an exit code of 0 with zero tests run means the name matched nothing).
fn ran_one_test(output: &str) -> bool {
    output.contains("running 1 test")
}

#[derive(Deserialize)]
struct Artifact {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    package_id: Option<String>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
}

#[derive(Deserialize)]
struct Profile {
    test: bool,
}

/// What to build: `cargo test --no-run` with these.
#[derive(Debug)]
pub(crate) struct Build<'a> {
    pub(crate) workspace: &'a Path,
    pub(crate) packages: &'a [String],
    pub(crate) features: &'a [String],
    /// Cargo's own flags, as the user's `cargo test` gets them.
    pub(crate) cargo_args: &'a [String],
    /// `RUSTUP_TOOLCHAIN`, if set.
    pub(crate) toolchain: Option<&'a str>,
}

impl Build<'_> {
    /// The build command: exactly the user's `cargo test` with these
    /// flags, plus `--no-run` and JSON messages, so that binaries already
    /// built with those flags are not built again.
    pub(crate) fn command(&self) -> ChildSpec {
        // Under `cargo run`, CARGO is the toolchain's cargo; a toolchain
        // asked for goes through rustup's proxy instead.
        let cargo = match self.toolchain {
            Some(_) => "cargo".into(),
            None => std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        };
        let mut build = ChildSpec::new(cargo, self.workspace).args([
            "test",
            "--no-run",
            "--message-format",
            "json-render-diagnostics",
        ]);
        for p in self.packages {
            build = build.arg("--package").arg(p);
        }
        if !self.features.is_empty() {
            build = build.arg("--features").arg(self.features.join(","));
        }
        build = build.args(self.cargo_args.iter());
        if let Some(toolchain) = self.toolchain {
            build = build.envs([("RUSTUP_TOOLCHAIN".to_owned(), toolchain.to_owned())]);
        }
        build
    }
}

/// How far a build has got, from cargo's messages so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildProgress {
    /// Crates (units) compiled or found fresh.
    pub(crate) done: usize,
    /// The crate cargo said it is compiling last.
    pub(crate) current: Option<String>,
}

impl BuildProgress {
    /// Takes in more of cargo's output (JSON lines on stdout, status lines
    /// on stderr, merged); `partial` holds an unfinished last line.
    pub(crate) fn feed(&mut self, partial: &mut String, bytes: &[u8]) {
        partial.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = partial.find('\n') {
            let line: String = partial.drain(..=end).collect();
            let line = line.trim();
            if line.starts_with('{') {
                if line.contains("\"reason\":\"compiler-artifact\"") {
                    self.done += 1;
                }
            } else if let Some(rest) = line.strip_prefix("Compiling ") {
                self.current = rest.split_whitespace().next().map(str::to_owned);
            }
        }
    }
}

/// Builds the test binaries and lists their tests; `progress` hears how
/// the build goes every few seconds.
pub(crate) async fn discover(
    how: &Build<'_>,
    limits: &Limits,
    progress: &(dyn Fn(&BuildProgress) + Sync),
) -> Result<(RustSuite, Vec<Listing>), RunError> {
    let build = how.command();
    let mut state = BuildProgress::default();
    let mut partial = String::new();
    let mut watch = |bytes: &[u8]| {
        state.feed(&mut partial, bytes);
        progress(&state);
    };
    let done = spawn::run_watched(
        &build,
        limits,
        None,
        Some((Duration::from_secs(2), &mut watch)),
    )
    .await
    .map_err(|source| RunError::Spawn {
        command: build.display(),
        source,
    })?;
    let output = String::from_utf8_lossy(&done.output);
    match done.exit {
        Exit::Code(0) => {}
        Exit::Interrupted => return Err(RunError::Interrupted),
        exit => {
            return Err(RunError::Discover {
                what: format!("`{}` {}", build.display(), describe_exit(exit)),
                output: human_lines(&output),
            });
        }
    }
    let binaries = parse_artifacts(&output);

    let listings =
        futures_util::future::try_join_all(binaries.iter().map(|b| list(b, limits))).await?;
    let listings = binaries
        .iter()
        .zip(listings)
        .enumerate()
        .map(|(index, (binary, (tests, ignored)))| Listing {
            binary: index,
            binary_id: binary.id.clone(),
            tests: tests.into_iter().filter(|t| !ignored.contains(t)).collect(),
            ignored,
        })
        .collect();
    Ok((RustSuite { binaries }, listings))
}

fn parse_artifacts(output: &str) -> Vec<TestBinary> {
    let mut binaries: Vec<TestBinary> = output
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Artifact>(l).ok())
        .filter(|a| a.reason == "compiler-artifact" && a.profile.as_ref().is_some_and(|p| p.test))
        .filter_map(|a| {
            let path = a.executable?;
            let package_dir = a.manifest_path?.parent()?.to_owned();
            let package = a
                .package_id
                .as_deref()
                .map(package_name)
                .unwrap_or_default();
            let target = a.target?.name;
            Some(TestBinary {
                id: format!("{package}::{target}"),
                path,
                package_dir,
            })
        })
        .collect();
    binaries.sort_by(|a, b| a.id.cmp(&b.id));
    binaries.dedup_by(|a, b| a.path == b.path);
    binaries
}

/// `path+file:///work/x/examples/shop#0.1.0` or `registry+…#shop@0.1.0` →
/// `shop`.
fn package_name(package_id: &str) -> String {
    let fragment = package_id.rsplit_once('#').map_or(package_id, |(_, f)| f);
    match fragment.split_once('@') {
        Some((name, _)) => name.to_owned(),
        None => {
            let path = package_id.rsplit_once('#').map_or(package_id, |(p, _)| p);
            path.rsplit('/').next().unwrap_or(path).to_owned()
        }
    }
}

/// Lists `binary`'s tests: all of them, and those its ignore attribute marks.
async fn list(
    binary: &TestBinary,
    limits: &Limits,
) -> Result<(Vec<String>, Vec<String>), RunError> {
    let all = list_with(binary, &[], limits).await?;
    let ignored = list_with(binary, &["--ignored"], limits).await?;
    Ok((all, ignored))
}

async fn list_with(
    binary: &TestBinary,
    extra: &[&str],
    limits: &Limits,
) -> Result<Vec<String>, RunError> {
    let spec = ChildSpec::new(&binary.path, &binary.package_dir)
        .args(["--list", "--format", "terse"])
        .args(extra.iter().copied());
    let done = spawn::run(&spec, limits, None)
        .await
        .map_err(|source| RunError::Spawn {
            command: spec.display(),
            source,
        })?;
    let output = String::from_utf8_lossy(&done.output);
    match done.exit {
        Exit::Code(0) => Ok(output
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_owned)
            .collect()),
        Exit::Interrupted => Err(RunError::Interrupted),
        exit => Err(RunError::Discover {
            what: format!("listing the tests of {} {}", binary.id, describe_exit(exit)),
            output: output.into_owned(),
        }),
    }
}

pub(crate) fn describe_exit(exit: Exit) -> String {
    match exit {
        Exit::Code(c) => format!("exited with code {c}"),
        Exit::Signal(s) => format!("was killed by {}", spawn::signal_name(s)),
        Exit::TimedOut => "timed out".to_owned(),
        Exit::Interrupted => "was interrupted".to_owned(),
    }
}

/// Cargo's output without its JSON lines: the human-readable diagnostics.
fn human_lines(output: &str) -> String {
    output
        .lines()
        .filter(|l| !l.starts_with('{'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_come_from_package_ids() {
        assert_eq!(
            package_name("path+file:///work/main/examples/shop#0.1.0"),
            "shop"
        );
        assert_eq!(
            package_name("path+file:///work/main/examples/shop#shopx@0.1.0"),
            "shopx"
        );
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.0"),
            "serde"
        );
    }

    #[test]
    fn artifacts_keep_test_executables_only() {
        let out = r#"   Compiling shop v0.1.0
{"reason":"compiler-artifact","package_id":"path+file:///w/shop#0.1.0","manifest_path":"/w/shop/Cargo.toml","target":{"name":"shop"},"profile":{"test":false},"executable":null}
{"reason":"compiler-artifact","package_id":"path+file:///w/shop#0.1.0","manifest_path":"/w/shop/Cargo.toml","target":{"name":"it"},"profile":{"test":true},"executable":"/w/target/debug/deps/it-abc"}
{"reason":"build-finished","success":true}"#;
        let b = parse_artifacts(out);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].id, "shop::it");
        assert_eq!(b[0].path, Path::new("/w/target/debug/deps/it-abc"));
        assert_eq!(b[0].package_dir, Path::new("/w/shop"));
        assert_eq!(human_lines(out), "   Compiling shop v0.1.0");
    }
}
