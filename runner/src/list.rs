//! `paraclone list`: the tests a `paraclone test` with the same config,
//! filters and partition would run, and their groups, found the way the
//! run finds them (built and listed), without a template, a clone or a
//! ledger: nothing is created on any server or disk but the build.

use std::sync::Arc;

use crate::adapter;
use crate::config::Config;
use crate::context::Context;
use crate::databases;
use crate::error::RunError;
use crate::events::TestId;
use crate::partition::Partition;

/// What to list.
#[derive(Clone, Debug)]
pub struct ListOptions {
    /// The checked config.
    pub config: Config,
    /// Backend for every alias (`--db`): only names the would-be
    /// databases in the list command's environment.
    pub backend: Option<String>,
    /// Only tests whose `binary name` contains one of these.
    pub filters: Vec<String>,
    /// Only this shard.
    pub partition: Option<Partition>,
    /// Test durations from an earlier run's JUnit report, for
    /// `duration:K/N` (else the remembered ones).
    pub durations_from: Option<std::path::PathBuf>,
    /// Extra arguments for the test tool (`{args}`).
    pub tool_args: Vec<String>,
}

/// The listed tests.
#[derive(Clone, Debug)]
pub struct TestList {
    /// Where the tests come from (`1 binary`, `the pytest suite`).
    pub source: String,
    /// The groups, in listed order: tests that run in order on one worker.
    pub groups: Vec<Vec<TestId>>,
    /// Ignored tests (selected, not run).
    pub ignored: Vec<TestId>,
    /// Tests no filter matched.
    pub filtered_out: usize,
    /// Tests in other shards of the partition.
    pub other_shards: usize,
    /// The partition, if any.
    pub partition: Option<Partition>,
}

impl TestList {
    /// How many tests would run.
    pub fn selected(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }
}

/// Builds and lists the suite; see the module doc.
pub fn list(options: ListOptions) -> Result<TestList, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(async {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let ctx = Arc::new(Context::new(tx, options.config.tests.grace));
        let env = databases::listing_env(&options.config, options.backend.as_deref())?;
        let costs =
            crate::run::load_costs(&options.config, options.durations_from.as_deref(), &ctx)?;
        let suite = adapter::discover(adapter::Discovery {
            kind: &options.config.tests.kind,
            filters: &options.filters,
            partition: options.partition.as_ref(),
            costs: &|t| costs.of(t),
            tool_args: &options.tool_args,
            env: &env,
            limits: &ctx.limits(None),
            progress: &|_| {},
        })
        .await?;
        Ok(TestList {
            source: suite.source(),
            groups: suite.groups.iter().map(|g| g.tests.clone()).collect(),
            ignored: suite.ignored_tests.clone(),
            filtered_out: suite.filtered_out,
            other_shards: suite.other_shards,
            partition: options.partition,
        })
    })
}
