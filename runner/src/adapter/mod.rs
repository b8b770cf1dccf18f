//! Test adapters: how a suite is built, listed, grouped and run.
//!
//! Every adapter ends up as a [`Suite`]: groups of tests (tests that share
//! state stay together, in order, on one worker) and, for each group, the
//! processes that run it ([`Invocation`]s) and how to read their results.

mod command;
mod junit;
mod rust;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use command::CommandSuite;
pub(crate) use rust::describe_exit;
pub(crate) use rust::RustSuite;

use crate::config::TestsKind;
use crate::error::RunError;
use crate::events::{Outcome, TestId};
use crate::spawn::{ChildSpec, Finished, Limits};

/// Tests that run in order on one worker.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// The binary (Rust) or 0 (command suites).
    pub(crate) binary: usize,
    pub(crate) tests: Vec<TestId>,
}

/// The tests one binary (or one command suite) lists.
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) binary: usize,
    pub(crate) binary_id: String,
    /// Runnable tests, in listed order.
    pub(crate) tests: Vec<String>,
    /// Tests the suite marks as ignored (not run, counted).
    pub(crate) ignored: usize,
}

/// One process that runs some tests of a group.
#[derive(Debug)]
pub(crate) struct Invocation {
    pub(crate) tests: Vec<TestId>,
    pub(crate) spec: ChildSpec,
    /// Where the tool writes JUnit XML, if it does.
    pub(crate) junit: Option<PathBuf>,
}

/// One test's result, read from its invocation.
#[derive(Debug)]
pub(crate) struct TestResult {
    pub(crate) test: TestId,
    pub(crate) outcome: Outcome,
    pub(crate) duration: Duration,
    pub(crate) output: String,
    /// Whether the process ended outside the tool's control (a signal, a
    /// time-out, an exit a test failure does not explain), so that what it
    /// was doing to its database was cut short.
    pub(crate) crashed: bool,
}

/// A built and listed suite.
#[derive(Debug)]
pub(crate) struct Suite {
    kind: SuiteKind,
    pub(crate) groups: Vec<Group>,
    pub(crate) binaries: usize,
    pub(crate) ignored: usize,
    pub(crate) filtered_out: usize,
}

#[derive(Debug)]
enum SuiteKind {
    Rust(RustSuite),
    Command(Box<CommandSuite>),
}

impl Suite {
    /// Where the tests come from, for reports: `1 binary`, `the pytest
    /// suite`.
    pub(crate) fn source(&self) -> String {
        match &self.kind {
            SuiteKind::Rust(_) if self.binaries == 1 => "1 binary".to_owned(),
            SuiteKind::Rust(_) => format!("{} binaries", self.binaries),
            SuiteKind::Command(_) => match self.groups.first().and_then(|g| g.tests.first()) {
                // A suite without a preset is named `suite` in its tests' ids.
                Some(t) if t.binary != "suite" => format!("the {} suite", t.binary),
                _ => "the suite".to_owned(),
            },
        }
    }

    pub(crate) fn selected(&self) -> usize {
        self.groups.iter().map(|g| g.tests.len()).sum()
    }

    /// For suites whose processes are dear to start (an interpreter and a
    /// framework per process), the most tests one process may run when a
    /// slot takes several groups at once; `None` where each test has its
    /// own process anyway.
    pub(crate) fn pack_limit(&self) -> Option<usize> {
        match &self.kind {
            SuiteKind::Rust(_) => None,
            // A worker takes one group at a time.
            SuiteKind::Command(command) if command.worker_spec().is_some() => None,
            SuiteKind::Command(command) => Some(command.batch()),
        }
    }

    /// For suites run on long-lived workers, the command that starts one
    /// (the slot adds its databases' environment).
    pub(crate) fn worker_spec(&self) -> Option<ChildSpec> {
        match &self.kind {
            SuiteKind::Rust(_) => None,
            SuiteKind::Command(command) => command.worker_spec(),
        }
    }

    /// The processes that run `group`, in order. `scratch` is a directory
    /// for files such as JUnit reports.
    pub(crate) fn invocations(&self, group: &Group, scratch: &std::path::Path) -> Vec<Invocation> {
        match &self.kind {
            SuiteKind::Rust(rust) => group
                .tests
                .iter()
                .map(|test| Invocation {
                    tests: vec![test.clone()],
                    spec: rust.test_command(group, test),
                    junit: None,
                })
                .collect(),
            SuiteKind::Command(command) => command.invocations(group, scratch),
        }
    }

    /// The results of the tests of `invocation`, which ended as `finished`
    /// (`output` is its redacted output).
    pub(crate) fn results(
        &self,
        invocation: &Invocation,
        finished: &Finished,
        output: String,
        timeout: Option<Duration>,
    ) -> Vec<TestResult> {
        match &self.kind {
            SuiteKind::Rust(_) => {
                let test = invocation.tests[0].clone();
                let outcome = RustSuite::outcome(finished.exit, &output, timeout);
                // A Rust test that fails panics and exits with 101; any
                // other exit code is the process dying some other way.
                let crashed = match &outcome {
                    Outcome::Signalled { .. } | Outcome::TimedOut { .. } => true,
                    Outcome::Failed { code } => *code != 101,
                    _ => false,
                };
                vec![TestResult {
                    test,
                    outcome,
                    duration: finished.duration,
                    output,
                    crashed,
                }]
            }
            SuiteKind::Command(_) => command::results(invocation, finished, output, timeout),
        }
    }
}

/// Builds and lists the suite of `kind`, keeping the tests whose
/// `binary name` contains one of `filters` (all if there are none). `env`
/// is given to list commands (the templates' connections, for tools that
/// read settings while listing).
pub(crate) async fn discover(
    kind: &TestsKind,
    filters: &[String],
    tool_args: &[String],
    env: &[(String, String)],
    limits: &Limits,
) -> Result<Suite, RunError> {
    let (kind, listings, separator) = match kind {
        TestsKind::Rust {
            packages,
            features,
            workspace,
        } => {
            let (suite, listings) = rust::discover(workspace, packages, features, limits).await?;
            (SuiteKind::Rust(suite), listings, "::".to_owned())
        }
        TestsKind::Command(config) => {
            let (suite, listing) = command::discover(config, tool_args, env, limits).await?;
            (
                SuiteKind::Command(Box::new(suite)),
                vec![listing],
                config.group_separator.clone(),
            )
        }
    };
    let binaries = listings.len();
    let ignored = listings.iter().map(|l| l.ignored).sum();
    let (groups, filtered_out) = group(listings, &separator, filters);
    Ok(Suite {
        kind,
        groups,
        binaries,
        ignored,
        filtered_out,
    })
}

/// Filters and groups listed tests: tests sharing everything before the
/// last `separator` of their name form one group, in listed order.
fn group(listings: Vec<Listing>, separator: &str, filters: &[String]) -> (Vec<Group>, usize) {
    let mut groups = Vec::new();
    let mut filtered_out = 0;
    for listing in listings {
        let mut by_prefix: BTreeMap<String, Vec<TestId>> = BTreeMap::new();
        for name in listing.tests {
            let id = TestId {
                binary: listing.binary_id.clone(),
                name,
            };
            let shown = id.to_string();
            if !filters.is_empty() && !filters.iter().any(|f| shown.contains(f.as_str())) {
                filtered_out += 1;
                continue;
            }
            let prefix = id
                .name
                .rsplit_once(separator)
                .map_or("", |(p, _)| p)
                .to_owned();
            by_prefix.entry(prefix).or_default().push(id);
        }
        groups.extend(by_prefix.into_values().map(|tests| Group {
            binary: listing.binary,
            tests,
        }));
    }
    // Longest groups first: a free worker takes the next one, so the long
    // ones start early and the short ones fill in at the end.
    groups.sort_by_key(|g| std::cmp::Reverse(g.tests.len()));
    (groups, filtered_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_group_by_prefix_and_filters_apply_to_the_shown_name() {
        let listing = Listing {
            binary: 0,
            binary_id: "shop::it".to_owned(),
            tests: ["a::x", "b::y", "a::z", "b::c::w", "top"]
                .map(str::to_owned)
                .to_vec(),
            ignored: 2,
        };
        let (groups, filtered) = group(
            vec![listing],
            "::",
            &["shop::it a::".to_owned(), "b::".to_owned()],
        );
        let names: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.tests.iter().map(|t| t.name.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["a::x", "a::z"], vec!["b::y"], vec!["b::c::w"]]);
        assert_eq!(filtered, 1);
    }
}
