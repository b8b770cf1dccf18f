//! Test adapters: how a suite is built, listed, grouped and run.
//!
//! Every adapter ends up as a [`Suite`]: groups of tests (tests that share
//! state stay together, in order, on one worker) and, for each group, the
//! processes that run it ([`Invocation`]s) and how to read their results.

mod command;
mod junit;
mod rust;
mod select;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use command::CommandSuite;
pub(crate) use rust::RustSuite;
pub(crate) use rust::{BuildProgress, describe_exit};

/// `(classname, name, time)` of every test case of a JUnit report.
pub(crate) fn junit_times(xml: &str) -> Result<Vec<(String, String, std::time::Duration)>, String> {
    junit::parse(xml)
        .map(|cases| {
            cases
                .into_iter()
                .map(|c| (c.classname, c.name, c.time))
                .collect()
        })
        .map_err(|e| e.to_string())
}

use crate::config::{Preset, RustGroup, TestsKind};
use crate::error::RunError;
use crate::events::{Outcome, TestId};
use crate::partition::Partition;
use crate::spawn::{ChildSpec, Finished, Limits};

/// Tests that run in order on one worker.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// The binary (Rust) or 0 (command suites).
    pub(crate) binary: usize,
    pub(crate) tests: Vec<TestId>,
    /// Whether its tests may also run on different slots (they share
    /// nothing a fresh worker cannot set up again: a pytest module), so
    /// the scheduler may hand it out in parts.
    pub(crate) splittable: bool,
}

/// How listed tests are put in groups.
#[derive(Clone, Debug)]
enum Grouping {
    /// Tests sharing everything before the last separator (a module, a
    /// class).
    LastSeparator(String),
    /// Tests sharing everything before the first separator (a pytest
    /// file), which the scheduler may split.
    FirstSeparator(String),
    /// Each test alone.
    EachTest,
    /// All the tests of a binary together.
    Binary,
}

/// The tests one binary (or one command suite) lists.
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) binary: usize,
    pub(crate) binary_id: String,
    /// Runnable tests, in listed order.
    pub(crate) tests: Vec<String>,
    /// Tests the suite marks as ignored (not run, counted), in listed
    /// order.
    pub(crate) ignored: Vec<String>,
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
    pub(crate) ignored: usize,
    /// The ignored tests the filters (and the partition) selected.
    pub(crate) ignored_tests: Vec<TestId>,
    pub(crate) filtered_out: usize,
    /// Selected by the filters, but in another shard of the partition.
    pub(crate) other_shards: usize,
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
            SuiteKind::Rust(rust) => {
                // The binaries by name (those with selected tests), so a
                // run says what it ran.
                let mut names: Vec<&str> = rust
                    .binaries
                    .iter()
                    .map(|b| b.id.as_str())
                    .filter(|id| {
                        self.groups
                            .iter()
                            .any(|g| g.tests.iter().any(|t| t.binary == *id))
                    })
                    .collect();
                let count = names.len();
                let more = count.saturating_sub(5);
                names.truncate(5);
                let list = names.join(", ");
                match (count, more) {
                    (1, _) => format!("1 binary ({list})"),
                    (_, 0) => format!("{count} binaries ({list})"),
                    _ => format!("{count} binaries ({list} and {more} more)"),
                }
            }
            SuiteKind::Command(_) => match self.groups.first().and_then(|g| g.tests.first()) {
                // A suite without a preset is named `suite` in its tests' ids.
                Some(t) if t.binary != "suite" => format!("the {} suite", t.binary),
                _ => "the suite".to_owned(),
            },
        }
    }

    /// How many slots could have work at once: a group each, or a test
    /// each of a group the scheduler may split.
    pub(crate) fn units(&self) -> usize {
        self.groups
            .iter()
            .map(|g| if g.splittable { g.tests.len() } else { 1 })
            .sum()
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

/// What to discover and how.
pub(crate) struct Discovery<'a> {
    pub(crate) kind: &'a TestsKind,
    /// Tests whose `binary name` contains one of these (all if none).
    pub(crate) filters: &'a [String],
    /// Of those, the ones in this shard.
    pub(crate) partition: Option<&'a Partition>,
    /// What a test is expected to cost (for `duration` partitions).
    pub(crate) costs: &'a (dyn Fn(&TestId) -> std::time::Duration + Sync),
    /// `--tool-arg`s.
    pub(crate) tool_args: &'a [String],
    /// Given to list commands (the templates' connections, for tools that
    /// read settings while listing).
    pub(crate) env: &'a [(String, String)],
    pub(crate) limits: &'a Limits,
    /// Hears how a build goes.
    pub(crate) progress: &'a (dyn Fn(&BuildProgress) + Sync),
}

/// Builds and lists the suite, keeping the tests `how` selects.
pub(crate) async fn discover(how: Discovery<'_>) -> Result<Suite, RunError> {
    let Discovery {
        kind,
        filters,
        partition,
        costs,
        tool_args,
        env,
        limits,
        progress,
    } = how;
    let (kind, listings, grouping) = match kind {
        TestsKind::Rust {
            packages,
            features,
            workspace,
            cargo_args,
            toolchain,
            group,
        } => {
            let build = rust::Build {
                workspace,
                packages,
                features,
                cargo_args,
                toolchain: toolchain.as_deref(),
            };
            let (suite, listings) = rust::discover(&build, limits, progress).await?;
            let grouping = match group {
                RustGroup::Test => Grouping::EachTest,
                RustGroup::Module => Grouping::LastSeparator("::".to_owned()),
                RustGroup::Binary => Grouping::Binary,
            };
            (SuiteKind::Rust(suite), listings, grouping)
        }
        TestsKind::Command(config) => {
            let (suite, listing) = command::discover(config, tool_args, env, limits).await?;
            // pytest modules may be split across workers, as under
            // pytest-xdist's `load`; run on workers, fixtures are set up
            // again where a part lands. Batched processes keep groups
            // whole.
            let grouping = if config.preset == Preset::Pytest && config.worker.is_some() {
                Grouping::FirstSeparator(config.group_separator.clone())
            } else {
                Grouping::LastSeparator(config.group_separator.clone())
            };
            (SuiteKind::Command(Box::new(suite)), vec![listing], grouping)
        }
    };
    // Filters and the partition first (select.rs), then the groups.
    let selected = select::select(listings, filters, partition, costs)?;
    let (groups, _) = group(selected.listings, &grouping, &[]);
    Ok(Suite {
        kind,
        groups,
        ignored: selected.ignored.len(),
        ignored_tests: selected.ignored,
        filtered_out: selected.filtered_out,
        other_shards: selected.other_shards,
    })
}

/// Filters and groups listed tests (see [`Grouping`]), in listed order.
fn group(listings: Vec<Listing>, grouping: &Grouping, filters: &[String]) -> (Vec<Group>, usize) {
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
            let prefix = match grouping {
                Grouping::LastSeparator(sep) => {
                    id.name.rsplit_once(sep.as_str()).map_or("", |(p, _)| p)
                }
                Grouping::FirstSeparator(sep) => {
                    id.name.split_once(sep.as_str()).map_or("", |(p, _)| p)
                }
                Grouping::EachTest => id.name.as_str(),
                Grouping::Binary => "",
            }
            .to_owned();
            by_prefix.entry(prefix).or_default().push(id);
        }
        let splittable = matches!(grouping, Grouping::FirstSeparator(_));
        groups.extend(by_prefix.into_values().map(|tests| Group {
            binary: listing.binary,
            tests,
            splittable,
        }));
    }
    // The scheduler orders them (schedule::arrange).
    (groups, filtered_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        Listing {
            binary: 0,
            binary_id: "shop::it".to_owned(),
            tests: ["a::x", "b::y", "a::z", "b::c::w", "top"]
                .map(str::to_owned)
                .to_vec(),
            ignored: vec!["a::ignored".to_owned()],
        }
    }

    fn names(groups: &[Group]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.tests.iter().map(|t| t.name.as_str()).collect())
            .collect()
    }

    #[test]
    fn tests_group_by_prefix_and_filters_apply_to_the_shown_name() {
        let filters = ["shop::it a::".to_owned(), "b::".to_owned()];
        let by_module = Grouping::LastSeparator("::".to_owned());
        let (groups, filtered) = group(vec![listing()], &by_module, &filters);
        assert_eq!(
            names(&groups),
            [vec!["a::x", "a::z"], vec!["b::y"], vec!["b::c::w"]]
        );
        assert_eq!(filtered, 1);
        assert!(groups.iter().all(|g| !g.splittable));

        let (groups, _) = group(vec![listing()], &Grouping::EachTest, &filters);
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.tests.len() == 1));

        let (groups, _) = group(vec![listing()], &Grouping::Binary, &[]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].tests.len(), 5);

        let by_file = Grouping::FirstSeparator("::".to_owned());
        let (groups, _) = group(vec![listing()], &by_file, &filters);
        assert_eq!(
            names(&groups),
            [vec!["a::x", "a::z"], vec!["b::y", "b::c::w"]]
        );
        assert!(groups.iter().all(|g| g.splittable));
    }
}
