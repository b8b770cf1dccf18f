//! The closed set of events a run reports, and the data they carry.
//!
//! The pipeline sends these; the reporter is their only consumer and the
//! only code that writes to the terminal.

use std::time::Duration;

/// A test, as the run knows it: the binary (or suite) it belongs to and its
/// name within it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TestId {
    /// The binary, as `package::target` (`shop::it`).
    pub binary: String,
    /// The test's full name within the binary (`orders::places_an_order`).
    pub name: String,
}

impl std::fmt::Display for TestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.binary, self.name)
    }
}

/// How one test ended. A failing test is an outcome, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed: the test process exited with this code.
    Failed {
        /// The exit code (101 is a Rust test's panic).
        code: i32,
    },
    /// It failed, as the test tool running it in a long-lived worker
    /// reported (no exit code of its own).
    Reported,
    /// A signal ended it (a crash: abort, segfault).
    Signalled {
        /// The signal's name (`SIGSEGV`).
        signal: String,
    },
    /// It ran past the time limit and was killed.
    TimedOut {
        /// The limit.
        limit: Duration,
    },
    /// The tool reported it skipped (counted as ignored).
    Skipped,
    /// The run was interrupted while it ran.
    Interrupted,
    /// It could not be started.
    SpawnFailed {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Whether this counts as a pass.
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Passed)
    }
}

/// A phase of the run, timed separately in the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Starting throwaway servers (`server = "ephemeral"`).
    Server,
    /// Building the templates.
    Template,
    /// Making the clones.
    Clone,
    /// Building and listing the tests (overlaps template and clone).
    Discover,
    /// Running the tests.
    Run,
    /// Dropping databases.
    Teardown,
}

impl Phase {
    /// The phase's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Server => "server",
            Phase::Template => "template",
            Phase::Clone => "clone",
            Phase::Discover => "build",
            Phase::Run => "run",
            Phase::Teardown => "teardown",
        }
    }
}

/// One database alias of the run, as reported when the run starts.
#[derive(Clone, Debug)]
pub struct AliasSummary {
    /// The alias.
    pub alias: String,
    /// Its backend's name.
    pub backend: String,
    /// The server (password redacted) and its version.
    pub server: String,
    /// The alias it mirrors, if it is a mirror.
    pub mirror_of: Option<String>,
}

/// A database kept after the run for a failed test (`--keep-failed`).
#[derive(Clone, Debug)]
pub struct KeptDatabase {
    /// The alias it belongs to.
    pub alias: String,
    /// Its name.
    pub name: String,
    /// Its URL, password redacted.
    pub url: String,
    /// The failed test that ran on it.
    pub test: TestId,
}

/// A database that could not be dropped at teardown.
#[derive(Clone, Debug)]
pub struct LeftBehind {
    /// The alias it belongs to.
    pub alias: String,
    /// Its name.
    pub name: String,
    /// Why the drop failed (redacted).
    pub reason: String,
}

/// What a sweep did with the ledger of one earlier run.
#[derive(Clone, Debug)]
pub struct SweptRun {
    /// The earlier run's id.
    pub run_id: String,
    /// Its process id, host and how long ago it started: `None` when its
    /// ledger has no readable header.
    pub pid: Option<u32>,
    /// Its host.
    pub host: Option<String>,
    /// How long ago it started.
    pub age: Option<Duration>,
    /// Whether it is still running (swept only because of its age).
    pub alive: bool,
    /// Databases dropped (or, in a dry run, that would be).
    pub dropped: Vec<String>,
    /// Databases listed that the server says are not there (their create
    /// had failed): taken off the ledger without a drop.
    pub absent: Vec<String>,
    /// Databases that could not be dropped, and why; they stay in the
    /// ledger for the next sweep.
    pub not_dropped: Vec<(String, String)>,
    /// Throwaway servers stopped and their directories removed (or, in a
    /// dry run, that would be), as `<kind> server in <dir>`: the databases
    /// on them went with them.
    pub stopped: Vec<String>,
    /// Throwaway servers that could not be stopped or removed, and why;
    /// they stay in the ledger, with the databases on them, for the next
    /// sweep.
    pub not_stopped: Vec<(String, String)>,
    /// `Some` for `clean --forget`: the databases taken off the ledger
    /// undropped, with the server each is on.
    pub forgotten: Option<Vec<(String, String)>>,
    /// What is wrong with the ledger file itself, one sentence each,
    /// naming its path.
    pub warnings: Vec<String>,
    /// The ledger was left as it is (damaged or unreadable; see
    /// `warnings`).
    pub skipped: bool,
}

impl SweptRun {
    /// Whether something it lists could not be dropped or stopped (and
    /// stays in the ledger).
    pub fn incomplete(&self) -> bool {
        !self.not_dropped.is_empty() || !self.not_stopped.is_empty()
    }
}

/// Why a run stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// Ctrl-C or SIGTERM.
    Signal,
    /// A second Ctrl-C: no more grace period.
    SecondSignal,
    /// `--failfast` and a test failed.
    FailFast,
    /// The databases could not be set up (a template, a clone), or the
    /// run had to stop for a reason of its own (the reporter panicked).
    SetupFailed,
    /// The tests could not be built or listed.
    BuildFailed,
    /// A long-lived test worker could not be started.
    WorkerFailed,
}

/// Counts and times of a finished run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Workers (slots) used.
    pub workers: usize,
    /// Workers asked for (`--parallel`); more than `workers` when there were
    /// fewer groups of tests than that.
    pub requested_workers: usize,
    /// Clones made, over all aliases.
    pub clones: usize,
    /// Whether isolation was off (`--share-database`).
    pub shared_database: bool,
    /// Tests selected to run.
    pub selected: usize,
    /// Passed.
    pub passed: usize,
    /// Failed, crashed, timed out or could not be started.
    pub failed: usize,
    /// Marked with the ignore attribute in the suite, not run.
    pub ignored: usize,
    /// Not matched by the filters.
    pub filtered_out: usize,
    /// Started, then stopped by an interrupt before they ended.
    pub interrupted: usize,
    /// Selected but never started (a stop, fail-fast).
    pub not_run: usize,
    /// The slowest tests, slowest first.
    pub slowest: Vec<(TestId, Duration)>,
    /// Time per phase, in pipeline order.
    pub phases: Vec<(Phase, Duration)>,
    /// Wall time of the whole run.
    pub total: Duration,
    /// How each backend that chose among ways made its clones, as
    /// `(backend, description)` (see `Cloner::clone_method`).
    pub clone_methods: Vec<(String, String)>,
    /// Passed only after failing first (`--retries`); counted in `passed`
    /// too.
    pub flaky: usize,
    /// Processes tests left running, killed when the run phase ended.
    pub leftover_processes: usize,
    /// Databases dropped at teardown.
    pub dropped: usize,
    /// Databases that could not be dropped.
    pub left_behind: Vec<LeftBehind>,
    /// Set if the run was cancelled.
    pub cancelled: Option<CancelReason>,
    /// The seed, if the order was shuffled.
    pub shuffle_seed: Option<u64>,
    /// The shard this run took (`hash:1/3`), if the suite was partitioned.
    pub partition: Option<String>,
    /// Tests the filters selected that are in other shards.
    pub other_shards: usize,
    /// Databases of failed tests not dropped (`--keep-failed`).
    pub kept: Vec<KeptDatabase>,
}

/// Everything the reporter hears about.
#[derive(Debug)]
pub enum Event {
    /// Databases left by earlier runs that died were swept.
    Swept {
        /// One entry per earlier run.
        runs: Vec<SweptRun>,
    },
    /// The run has a plan.
    RunStarted {
        /// The run's id (part of every database name).
        run_id: String,
        /// Workers.
        workers: usize,
        /// The databases.
        aliases: Vec<AliasSummary>,
    },
    /// A phase began.
    PhaseStarted {
        /// Which.
        phase: Phase,
        /// How many steps it has (clones, tests), if known.
        steps: usize,
    },
    /// A template is ready to be cloned.
    TemplateReady {
        /// Its alias.
        alias: String,
        /// Its database name.
        name: String,
        /// How long building it took.
        duration: Duration,
        /// With reuse on (`--reuse`), why it was built: `new`, or
        /// `rebuilt: <what changed>`; it is kept for later runs.
        reuse: Option<String>,
    },
    /// A template kept by an earlier run was reused (`--reuse`): its
    /// fingerprint matched.
    TemplateReused {
        /// Its alias.
        alias: String,
        /// Its database name.
        name: String,
        /// The fingerprint's first 12 hex digits.
        fingerprint: String,
        /// How long ago it was built.
        age: Duration,
        /// How long finding it took.
        duration: Duration,
    },
    /// A kept template whose fingerprint no longer matches, and that no
    /// run used, was dropped.
    StaleTemplateDropped {
        /// Its alias.
        alias: String,
        /// Its database name.
        name: String,
    },
    /// One clone is ready.
    CloneReady {
        /// Its alias.
        alias: String,
        /// The worker it belongs to.
        worker: usize,
        /// Its database name.
        name: String,
    },
    /// A fresh clone for a worker whose test crashed (or whose failed
    /// test's clone is kept) is ready.
    ReplacementReady {
        /// Its alias.
        alias: String,
        /// The worker it belongs to.
        worker: usize,
        /// Its database name.
        name: String,
    },
    /// A database was dropped (at teardown, or an old clone after a
    /// worker got fresh ones).
    DatabaseDropped {
        /// Its alias.
        alias: String,
        /// Its name.
        name: String,
    },
    /// A failed test's clone is kept (`--keep-failed`): not dropped at
    /// teardown, marked kept in the ledger.
    DatabaseKept {
        /// The worker whose clone it was.
        worker: usize,
        /// What is kept.
        kept: KeptDatabase,
    },
    /// A phase ended.
    PhaseFinished {
        /// Which.
        phase: Phase,
        /// How long it took.
        duration: Duration,
    },
    /// How the build of the tests is going (every few seconds while cargo
    /// builds).
    BuildProgress {
        /// Crates compiled (or found up to date) so far.
        crates: usize,
        /// The crate being compiled, as cargo last said.
        compiling: Option<String>,
        /// Since the build started.
        elapsed: Duration,
    },
    /// The tests are built and listed.
    TestsDiscovered {
        /// Where the tests come from (`3 binaries`, `the pytest suite`).
        source: String,
        /// Tests selected to run.
        selected: usize,
        /// Groups they were put in.
        groups: usize,
        /// The seed, if the order is shuffled.
        shuffle_seed: Option<u64>,
        /// Ignored tests the filters (and partition) selected: not run.
        ignored: Vec<TestId>,
        /// The shard this run takes (`hash:1/3`), if partitioned.
        partition: Option<String>,
    },
    /// A test started on a worker.
    TestStarted {
        /// Which.
        test: TestId,
        /// On which worker.
        worker: usize,
    },
    /// A test has run longer than the slow threshold.
    TestSlow {
        /// Which.
        test: TestId,
        /// On which worker.
        worker: usize,
        /// How long so far.
        elapsed: Duration,
    },
    /// A test ended.
    TestFinished {
        /// Which.
        test: TestId,
        /// On which worker.
        worker: usize,
        /// How.
        outcome: Outcome,
        /// How long it ran.
        duration: Duration,
        /// Its output, stdout and stderr merged, passwords redacted.
        output: String,
    },
    /// Something the user should know that does not stop the run (a
    /// damaged file that is ignored, say).
    Warning {
        /// What, in a sentence.
        message: String,
    },
    /// A test failed and runs again (`--retries`), on fresh clones; its
    /// last attempt ends with `TestFinished` (a pass then is flaky).
    TestRetry {
        /// Which.
        test: TestId,
        /// On which worker.
        worker: usize,
        /// The attempt that failed (1 for the first run).
        attempt: usize,
        /// How it failed.
        outcome: Outcome,
        /// How long it ran.
        duration: Duration,
        /// Its output, passwords redacted.
        output: String,
    },
    /// A test left processes running that outlived its process group and
    /// held its output open; they were killed where the OS allows.
    TestLeaked {
        /// Which.
        test: TestId,
        /// On which worker.
        worker: usize,
        /// How many processes were found and killed.
        killed: usize,
    },
    /// A worker got fresh clones after a test crashed on it.
    ClonesReplaced {
        /// The worker.
        worker: usize,
        /// The test that crashed.
        after: TestId,
        /// Set if the fresh clones could not be made: the worker stopped.
        error: Option<String>,
    },
    /// The run is stopping early.
    RunCancelling {
        /// Why.
        reason: CancelReason,
        /// Tests still running, being stopped.
        running: usize,
    },
    /// The run could not be carried out, and some of its databases could
    /// not be dropped either.
    TeardownIncomplete {
        /// What is left, and why.
        left: Vec<LeftBehind>,
    },
    /// The run is over.
    RunFinished {
        /// Its counts and times.
        stats: RunStats,
    },
}
