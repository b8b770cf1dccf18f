//! [`Runner`]: the pipeline from plan to teardown.
//!
//! The public API is synchronous: [`Runner::execute`] builds its own tokio
//! runtime, runs the pipeline on it and hands every [`Event`] to the
//! caller's callback on the calling thread.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloner::naming::RunId;
use futures_util::FutureExt as _;
use futures_util::future::join_all;

use crate::adapter::{self, Suite, TestResult};
use crate::config::{Config, Parallel, Preset, TestsKind};
use crate::context::Context;
use crate::databases::{self, Databases, Replaced};
use crate::durations::{self, Durations};
use crate::error::RunError;
use crate::events::SweptRun;
use crate::events::{CancelReason, Event, LeftBehind, Outcome, Phase, RunStats, TestId};
use crate::schedule::{self, Costs};
use crate::servers::Servers;
use crate::spawn::{self, ChildSpec, Finished};
use crate::sweep::{self, SweepOptions};
use crate::worker::{GroupLimits, Observer, StartError, Worker};

/// What to run and how, after config and command line are merged.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The checked config.
    pub config: Config,
    /// Backend for every alias (`--db`), overriding the config.
    pub backend: Option<String>,
    /// Workers (`--parallel`), overriding the config.
    pub parallel: Option<Parallel>,
    /// Stop scheduling tests after the first failure.
    pub failfast: bool,
    /// Run only tests whose name contains one of these.
    pub filters: Vec<String>,
    /// Debug switch: no clones, every worker uses the template.
    pub share_database: bool,
    /// Per-test time limit, overriding the config.
    pub timeout: Option<Duration>,
    /// The order tests are handed out in.
    pub order: Order,
    /// How many of the slowest tests the summary lists.
    pub durations: usize,
    /// Extra arguments for the test tool (`{args}` of command suites and
    /// the django/pytest presets).
    pub tool_args: Vec<String>,
    /// Run a failed test again, on fresh clones, up to this many times
    /// (`--retries`, overriding `tests.retries`).
    pub retries: Option<usize>,
    /// Test durations from an earlier run's JUnit report
    /// (`--durations-from`), for `--partition duration:K/N` and the order.
    pub durations_from: Option<std::path::PathBuf>,
    /// Run only this shard of the selected tests (`--partition`).
    pub partition: Option<crate::partition::Partition>,
    /// Keep the clones of up to this many failed tests (`--keep-failed`).
    pub keep_failed: usize,
    /// Keep templates and reuse them by fingerprint (`--reuse`; the config's
    /// `[run] reuse` turns it on too).
    pub reuse: bool,
    /// Start a throwaway server for every server backend of the run
    /// (`--ephemeral`), as `server = "ephemeral"` does for one.
    pub ephemeral: bool,
}

/// The order groups (and the tests in each) are run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// As listed (longest groups first, tests in listed order).
    #[default]
    Listed,
    /// Listed order, reversed: groups and the tests within each.
    Reverse,
    /// Shuffled with this seed: groups and the tests within each; the same
    /// seed gives the same order.
    Shuffle(u64),
}

/// Runs one test run. See the module doc.
#[derive(Debug)]
pub struct Runner {
    options: RunOptions,
}

impl Runner {
    /// A runner for `options`.
    pub fn new(options: RunOptions) -> Runner {
        Runner { options }
    }

    /// Runs the pipeline to the end, calling `callback` with every event.
    /// Failing tests are in the returned stats; `Err` means the run could
    /// not be carried out (and whatever it created was dropped).
    pub fn execute(self, mut callback: impl FnMut(Event)) -> Result<RunStats, RunError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("paraclone")
            .build()
            .map_err(RunError::Runtime)?;
        let result = runtime.block_on(async move {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let ctx = Arc::new(Context::new(tx, self.options.config.tests.grace));
            let signals = listen_for_signals(Arc::clone(&ctx)).map_err(RunError::Runtime)?;
            let pipeline = pipeline(self.options, Arc::clone(&ctx));
            tokio::pin!(pipeline);
            // A panic in the callback must not drop the pipeline half-way
            // (its databases would never be dropped): it stops the run, and
            // is resumed once teardown is done.
            let mut callback_panic = None;
            let mut deliver = |event: Event, panic: &mut Option<Box<dyn std::any::Any + Send>>| {
                if panic.is_none()
                    && let Err(p) = std::panic::catch_unwind(AssertUnwindSafe(|| callback(event)))
                {
                    *panic = Some(p);
                    ctx.cancel(CancelReason::SetupFailed);
                }
            };
            let result = loop {
                tokio::select! {
                    biased;
                    Some(event) = rx.recv() => deliver(event, &mut callback_panic),
                    result = &mut pipeline => break result,
                }
            };
            signals.abort();
            while let Ok(event) = rx.try_recv() {
                deliver(event, &mut callback_panic);
            }
            if let Some(panic) = callback_panic {
                std::panic::resume_unwind(panic);
            }
            result
        });
        // Output readers of test processes end when their pipes close; a
        // process that escaped its group could hold one open for ever.
        runtime.shutdown_timeout(Duration::from_secs(1));
        result
    }
}

fn listen_for_signals(ctx: Arc<Context>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            seen += 1;
            ctx.cancel(if seen == 1 {
                CancelReason::Signal
            } else {
                CancelReason::SecondSignal
            });
        }
    }))
}

async fn pipeline(options: RunOptions, ctx: Arc<Context>) -> Result<RunStats, RunError> {
    let started = Instant::now();
    ctx.keep.set_limit(options.keep_failed);
    let workers = options
        .parallel
        .or(options.config.parallel)
        .unwrap_or(Parallel::Auto)
        .resolve();
    let run_id = RunId::generate();
    let ledger_dir = options.config.state_dir.join("ledger");
    let servers = Arc::new(
        Servers::plan(
            &options.config,
            &databases::chosen_backends(&options.config, options.backend.as_deref()),
            options.ephemeral,
            run_id.as_str(),
        )
        .await?,
    );
    if !servers.is_empty() && options.keep_failed > 0 {
        ctx.keep.set_limit(0);
        ctx.send(Event::Warning {
            message: "--keep-failed keeps nothing on a throwaway server: it ends with the run"
                .to_owned(),
        });
    }
    let mut dbs = Databases::plan(
        &options.config,
        options.backend.as_deref(),
        run_id.clone(),
        &ledger_dir,
        Arc::clone(&servers),
    )?;
    // Whatever runs that died before us left, and their ledgers list, goes
    // first. A database the sweep cannot drop is reported and stays listed;
    // only a ledger that cannot be read stops the run.
    let own = SweepOptions {
        own: Some(run_id.as_str()),
        ..SweepOptions::default()
    };
    let swept = match sweep::sweep(&options.config, &ledger_dir, own).await {
        Ok(swept) => swept,
        Err(e) => {
            let _ = dbs.close_ledger();
            return Err(e);
        }
    };
    if !swept.is_empty() {
        ctx.send(Event::Swept { runs: swept });
    }
    if options.reuse || options.config.reuse {
        if !servers.is_empty() {
            ctx.send(Event::Warning {
                message: "[run] reuse is off for this run: a throwaway server ends with the run, \
                          and its templates with it"
                    .to_owned(),
            });
        } else if options.share_database {
            // Workers writing to a kept template would hand their rows to
            // every later run.
            ctx.send(Event::Warning {
                message: "[run] reuse is off for this run: --share-database lets the tests \
                          write to the template"
                    .to_owned(),
            });
        } else {
            dbs.enable_reuse(&options.config);
        }
    }
    let mut stats = RunStats {
        workers,
        requested_workers: workers,
        shared_database: options.share_database,
        ..RunStats::default()
    };

    // Everything from here on may create databases: whatever happens inside
    // (an error, a panic, a stop), teardown runs after it.
    let outcome = AssertUnwindSafe(provision_and_run(
        &options, &ctx, &mut dbs, &servers, &mut stats,
    ))
    .catch_unwind()
    .await;

    stats.clone_methods = dbs.clone_methods();
    if !options.share_database {
        // Counted from what exists: a run stopped during the build or the
        // cloning made clones too.
        stats.clones = dbs.clones_made();
    }
    let teardown = Instant::now();
    ctx.send(Event::PhaseStarted {
        phase: Phase::Teardown,
        steps: 0,
    });
    let with_servers = dbs.on_throwaway_servers();
    let (mut dropped, mut left_behind) = dbs.teardown(&ctx).await;
    // The servers last: a database on one goes with it.
    let servers_left = servers.stop(dbs.ledger()).await;
    if servers_left.is_empty() {
        dropped += with_servers;
    }
    left_behind.extend(servers_left.into_iter().map(|(server, reason)| LeftBehind {
        alias: String::new(),
        name: server,
        reason,
    }));
    let duration = teardown.elapsed();
    ctx.send(Event::PhaseFinished {
        phase: Phase::Teardown,
        duration,
    });
    stats.phases.push((Phase::Teardown, duration));
    stats.dropped = dropped;
    stats.left_behind = left_behind;
    stats.kept = dbs.kept();
    stats.total = started.elapsed();
    stats.cancelled = ctx.cancel_reason();
    let closed = dbs.close_ledger();

    match outcome {
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(Err(RunError::Interrupted)) | Ok(Ok(())) => {
            closed?;
            ctx.send(Event::RunFinished {
                stats: stats.clone(),
            });
            Ok(stats)
        }
        Ok(Err(e)) => {
            if !stats.left_behind.is_empty() {
                // The summary that would name them is not printed on this
                // path: say it here, before the error.
                ctx.send(Event::TeardownIncomplete {
                    left: stats.left_behind,
                });
            }
            Err(e)
        }
    }
}

async fn provision_and_run(
    options: &RunOptions,
    ctx: &Context,
    dbs: &mut Databases,
    servers: &Servers,
    stats: &mut RunStats,
) -> Result<(), RunError> {
    let aliases = dbs.describe().await?;
    ctx.send(Event::RunStarted {
        run_id: dbs.run_id().to_string(),
        workers: stats.workers,
        aliases,
    });

    // Tools that read their settings while listing (Django) get the
    // templates' connections, known before the templates exist.
    let dbs_env = dbs.template_env();
    // What earlier runs measured decides shards (`duration:K/N`) and the
    // order (longest first).
    let costs = load_costs(&options.config, options.durations_from.as_deref(), ctx)?;
    // How many groups there are to run, once the tests are listed: no more
    // slots (and clones) than that.
    let (units_tx, units_rx) = tokio::sync::watch::channel(None::<usize>);
    // Building the tests overlaps building the templates.
    // Neither future is dropped early (a dropped clone operation could
    // finish after teardown): when one fails, the other is asked to stop.
    let discover = async {
        let started = Instant::now();
        ctx.send(Event::PhaseStarted {
            phase: Phase::Discover,
            steps: 0,
        });
        let env = dbs_env.clone();
        let progress = |p: &adapter::BuildProgress| {
            ctx.send(Event::BuildProgress {
                crates: p.done,
                compiling: p.current.clone(),
                elapsed: started.elapsed(),
            });
        };
        let suite = adapter::discover(adapter::Discovery {
            kind: &options.config.tests.kind,
            filters: &options.filters,
            partition: options.partition.as_ref(),
            costs: &|t| costs.of(t),
            tool_args: &options.tool_args,
            env: &env,
            limits: &ctx.limits(None),
            progress: &progress,
        })
        .await;
        let duration = started.elapsed();
        ctx.send(Event::PhaseFinished {
            phase: Phase::Discover,
            duration,
        });
        if let Err(e) = &suite
            && !matches!(e, RunError::Interrupted)
        {
            ctx.cancel(CancelReason::BuildFailed);
        }
        if let Ok(suite) = &suite {
            let _ = units_tx.send(Some(suite.units()));
        }
        drop(units_tx);
        suite.map(|s| (s, duration))
    };
    let provision = async {
        let result = provision(
            dbs,
            servers,
            stats.workers,
            units_rx,
            options.share_database,
            ctx,
        )
        .await;
        if let Err(e) = &result
            && !matches!(e, RunError::Interrupted)
        {
            ctx.cancel(CancelReason::SetupFailed);
        }
        result
    };
    let (suite, provisioned) = tokio::join!(discover, provision);
    // Report the real cause, not the interruption it caused in the other.
    let (suite, discover_time, phases) = match (suite, provisioned) {
        (Err(RunError::Interrupted), Err(e)) | (Err(e), Err(RunError::Interrupted)) => {
            return Err(e);
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
        (Ok((suite, d)), Ok(p)) => (suite, d, p),
    };
    stats.clones = phases.2;
    stats.workers = phases.3;
    if let Some(server) = phases.4 {
        stats.phases.push((Phase::Server, server));
    }
    stats.phases.push((Phase::Template, phases.0));
    stats.phases.push((Phase::Clone, phases.1));
    stats.phases.push((Phase::Discover, discover_time));

    let mut suite = suite;
    schedule::arrange(&mut suite.groups, options.order, &costs);
    stats.shuffle_seed = match options.order {
        Order::Shuffle(seed) => Some(seed),
        _ => None,
    };
    stats.selected = suite.selected();
    stats.ignored = suite.ignored;
    stats.filtered_out = suite.filtered_out;
    stats.other_shards = suite.other_shards;
    stats.partition = options.partition.map(|p| p.to_string());
    ctx.send(Event::TestsDiscovered {
        source: suite.source(),
        selected: stats.selected,
        groups: suite.groups.len(),
        shuffle_seed: stats.shuffle_seed,
        ignored: suite.ignored_tests.clone(),
        partition: stats.partition.clone(),
    });
    if stats.selected == 0 {
        return Ok(());
    }

    let started = Instant::now();
    ctx.send(Event::PhaseStarted {
        phase: Phase::Run,
        steps: stats.selected,
    });
    let scratch = scratch_dir(dbs.run_id().as_str());
    std::fs::create_dir_all(&scratch).map_err(|source| RunError::Spawn {
        command: format!("create {}", scratch.display()),
        source,
    })?;
    let results = run_tests(&suite, dbs, stats.workers, options, ctx, &scratch, &costs).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let (results, leftovers, flaky) = results?;
    stats.flaky = flaky;
    stats.leftover_processes = leftovers;
    // Tests that ran to an end (a pass, a failure, a time-out) are
    // remembered for the next run's order; interrupted ones are not.
    let measured = results.iter().filter(|(_, outcome, _)| {
        !matches!(
            outcome,
            Outcome::Interrupted | Outcome::Skipped | Outcome::SpawnFailed { .. }
        )
    });
    if let Some(durations) = costs.into_durations()
        && let Err(e) = durations.record(measured.map(|(t, _, d)| (t.clone(), *d)))
    {
        ctx.send(Event::Warning {
            message: format!("could not remember this run's test durations: {e}"),
        });
    }
    let duration = started.elapsed();
    ctx.send(Event::PhaseFinished {
        phase: Phase::Run,
        duration,
    });
    stats.phases.push((Phase::Run, duration));

    let mut timings = Vec::with_capacity(results.len());
    for (test, outcome, duration) in results {
        match outcome {
            Outcome::Passed => stats.passed += 1,
            Outcome::Interrupted => stats.interrupted += 1,
            Outcome::Skipped => stats.ignored += 1,
            _ => stats.failed += 1,
        }
        timings.push((test, duration));
    }
    stats.not_run += stats.selected - timings.len();
    timings.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    timings.truncate(options.durations);
    stats.slowest = timings;
    Ok(())
}

/// Starts the throwaway servers, builds the templates, then, once the
/// tests are listed (`units` is how many groups they make), the clones for
/// as many slots as there are groups, at most `workers`. Returns the time
/// of the template and clone phases, the number of clones, the number of
/// slots and, if there were servers to start, the time that took.
async fn provision(
    dbs: &mut Databases,
    servers: &Servers,
    workers: usize,
    mut units: tokio::sync::watch::Receiver<Option<usize>>,
    share: bool,
    ctx: &Context,
) -> Result<(Duration, Duration, usize, usize, Option<Duration>), RunError> {
    let mut server_time = None;
    if !servers.is_empty() {
        let started = Instant::now();
        ctx.send(Event::PhaseStarted {
            phase: Phase::Server,
            steps: 0,
        });
        let result = servers.start(dbs.ledger(), ctx).await;
        let duration = started.elapsed();
        ctx.send(Event::PhaseFinished {
            phase: Phase::Server,
            duration,
        });
        result?;
        ctx.checkpoint("server").await;
        server_time = Some(duration);
    }
    let started = Instant::now();
    ctx.send(Event::PhaseStarted {
        phase: Phase::Template,
        steps: 0,
    });
    let result = dbs.build_templates(ctx).await;
    let template = started.elapsed();
    ctx.send(Event::PhaseFinished {
        phase: Phase::Template,
        duration: template,
    });
    result?;

    let listed = tokio::select! {
        listed = units.wait_for(Option::is_some) => listed.ok().and_then(|u| *u),
        () = ctx.soft_stop.cancelled() => None,
    };
    let Some(units) = listed else {
        return Err(RunError::Interrupted);
    };
    // No test selected: the run ends before it needs a clone.
    let workers = workers.min(units).max(1);
    if units == 0 {
        return Ok((template, Duration::ZERO, 0, workers, server_time));
    }

    let started = Instant::now();
    ctx.send(Event::PhaseStarted {
        phase: Phase::Clone,
        steps: if share {
            0
        } else {
            workers * dbs.backed_aliases()
        },
    });
    let made = dbs.make_clones(workers, share, ctx).await;
    let clone = started.elapsed();
    ctx.send(Event::PhaseFinished {
        phase: Phase::Clone,
        duration: clone,
    });
    Ok((template, clone, made?, workers, server_time))
}

/// Runs the suite's groups on `workers` slots: a free slot takes the next
/// group and runs its tests, each in a fresh process, or, for suites run on
/// long-lived workers, on the slot's worker (started when the slot first
/// needs it, replaced when it breaks). Tests a broken worker did not get to
/// go back to the front of the queue. `Err` is a worker that could not be
/// started at all.
async fn run_tests(
    suite: &Suite,
    dbs: &Databases,
    workers: usize,
    options: &RunOptions,
    ctx: &Context,
    scratch: &std::path::Path,
    costs: &Costs,
) -> Result<(Vec<(TestId, Outcome, Duration)>, usize, usize), RunError> {
    let queue = Mutex::new(suite.groups.iter().cloned().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::with_capacity(suite.selected()));
    let failure = Mutex::new(None);
    let flaky = AtomicUsize::new(0);
    let slots = (1..=workers).map(|worker| {
        let slot = Slot {
            worker,
            workers,
            suite,
            dbs,
            options,
            ctx,
            scratch,
            costs,
            queue: &queue,
            results: &results,
            failure: &failure,
            flaky: &flaky,
        };
        slot.run()
    });
    ctx.checkpoint("run").await;
    join_all(slots).await;
    // What tests started outside their process groups and left running
    // (found by the tag every child carries) goes with the run phase.
    let leftovers = spawn::kill_leftovers();
    if let Some(e) = failure.into_inner().expect("not poisoned") {
        return Err(e);
    }
    Ok((
        results.into_inner().expect("not poisoned"),
        leftovers,
        flaky.into_inner(),
    ))
}

/// One slot of the run phase: its clones, its worker if the suite has
/// them, and the loop that takes work.
struct Slot<'a> {
    worker: usize,
    workers: usize,
    suite: &'a Suite,
    dbs: &'a Databases,
    options: &'a RunOptions,
    ctx: &'a Context,
    scratch: &'a std::path::Path,
    costs: &'a Costs,
    queue: &'a Mutex<VecDeque<adapter::Group>>,
    results: &'a Mutex<Vec<(TestId, Outcome, Duration)>>,
    failure: &'a Mutex<Option<RunError>>,
    flaky: &'a AtomicUsize,
}

impl Slot<'_> {
    async fn run(self) {
        let ctx = self.ctx;
        let mut replaced = Replaced::new();
        let mut generation = 0;
        let mut env = self.dbs.worker_env(self.worker, self.workers, &replaced);
        let mut recorder = Recorder {
            ctx,
            worker: self.worker,
            failfast: self.options.failfast,
            results: self.results,
            current: None,
            retries: self
                .options
                .retries
                .unwrap_or(self.options.config.tests.retries),
            attempts: HashMap::new(),
            to_retry: Vec::new(),
            flaky: self.flaky,
        };
        // Failed tests to run again here, on the fresh clones they get.
        let mut again: Option<adapter::Group> = None;
        let worker_spec = self.suite.worker_spec();
        let mut warm: Option<Worker> = None;
        let mut started = 0;
        loop {
            if ctx.no_new_tests() {
                break;
            }
            let next = match again.take() {
                Some(group) => Some(group),
                None => schedule::take_work(
                    &mut self.queue.lock().expect("not poisoned"),
                    self.suite.pack_limit(),
                    self.workers,
                    self.costs,
                ),
            };
            let Some(group) = next else {
                break;
            };
            let crashed = match &worker_spec {
                None => {
                    let (crashed, left) = self.run_processes(&group, &env, &mut recorder).await;
                    // The rest of the group runs after the fresh clones,
                    // here or on another slot.
                    self.requeue(&group, left);
                    crashed
                }
                Some(spec) => {
                    let on_worker = self
                        .run_on_worker(&group, spec, &env, &mut warm, &mut started, &mut recorder)
                        .await;
                    match on_worker {
                        Some(crashed) => crashed,
                        None => break,
                    }
                }
            };
            let crashed = crashed.or_else(|| ctx.keep.take_fresh(self.worker));
            // Failed tests run again on fresh clones, here, next.
            let crashed = match std::mem::take(&mut recorder.to_retry) {
                retry if retry.is_empty() => crashed,
                retry => {
                    let first = retry[0].clone();
                    again = Some(adapter::Group {
                        binary: group.binary,
                        tests: retry,
                        splittable: false,
                    });
                    crashed.or(Some(first))
                }
            };
            if let Some(after) = crashed.filter(|_| !self.options.share_database && !ctx.stopping())
            {
                // The test did not get to clean up after itself: the next
                // test on this slot gets fresh clones (and a new worker).
                if let Some(w) = warm.take() {
                    w.exit(ctx).await;
                }
                generation += 1;
                let result = self
                    .dbs
                    .replace_clones(self.worker, generation, &mut replaced, ctx)
                    .await;
                let error = result
                    .as_ref()
                    .err()
                    .map(|e| ctx.redact(&crate::error_chain(e)));
                ctx.send(Event::ClonesReplaced {
                    worker: self.worker,
                    after,
                    error,
                });
                if result.is_err() {
                    // This slot retires; the others take its groups (and
                    // its tests waiting to run again).
                    if let Some(group) = again.take() {
                        self.queue.lock().expect("not poisoned").push_front(group);
                    }
                    break;
                }
                env = self.dbs.worker_env(self.worker, self.workers, &replaced);
            }
        }
        if let Some(w) = warm {
            w.exit(ctx).await;
        }
    }

    /// Puts `tests` of `group` back at the front of the queue.
    fn requeue(&self, group: &adapter::Group, tests: Vec<TestId>) {
        if tests.is_empty() {
            return;
        }
        self.queue
            .lock()
            .expect("not poisoned")
            .push_front(adapter::Group {
                splittable: group.splittable,
                binary: group.binary,
                tests,
            });
    }

    /// Each test's time limit.
    fn timeout(&self) -> Option<Duration> {
        self.options.timeout.or(self.options.config.tests.timeout)
    }

    /// Runs `group` on the slot's worker, starting one (from `spec` with
    /// `env`) if it has none. Returns the test after which the slot needs
    /// fresh clones, if any; `None` when the slot must stop (the run was
    /// interrupted, or no worker could be started: the run fails).
    async fn run_on_worker(
        &self,
        group: &adapter::Group,
        spec: &ChildSpec,
        env: &[(String, String)],
        warm: &mut Option<Worker>,
        started: &mut usize,
        recorder: &mut Recorder<'_>,
    ) -> Option<Option<TestId>> {
        let ctx = self.ctx;
        if warm.is_none() {
            *started += 1;
            let name = format!("w{}-{started}", self.worker);
            let start = Worker::start(
                spec.clone().envs(env.iter().cloned()),
                &self.scratch.join(format!("{name}.sock")),
                &self.scratch.join(format!("{name}.out")),
                ctx,
            )
            .await;
            match start {
                Ok(w) => *warm = Some(w),
                Err(StartError::Interrupted) => return None,
                Err(StartError::Failed {
                    command,
                    what,
                    output,
                }) => {
                    let mut failure = self.failure.lock().expect("not poisoned");
                    if failure.is_none() {
                        *failure = Some(RunError::Worker {
                            command,
                            what,
                            output,
                        });
                    }
                    drop(failure);
                    ctx.cancel(CancelReason::WorkerFailed);
                    return None;
                }
            }
        }
        let w = warm.as_mut().expect("started above");
        let limits = GroupLimits {
            timeout: self.timeout(),
            slow: self.options.config.tests.slow,
            failfast: self.options.failfast,
        };
        let end = w.run_group(&group.tests, ctx, limits, recorder).await;
        self.requeue(group, end.left);
        if let Some(broken) = end.broken {
            *warm = None;
            return Some(broken.after);
        }
        let recycle = self.options.config.tests.max_tests_per_worker;
        if recycle.is_some_and(|n| w.tests_run >= n)
            && let Some(w) = warm.take()
        {
            w.exit(ctx).await;
        }
        Some(None)
    }

    /// Runs `group` in one-shot processes (a process per test, or per
    /// batch of a command suite). Stops at the first process that crashed:
    /// returns its first crashed test and the tests not run yet.
    async fn run_processes(
        &self,
        group: &adapter::Group,
        env: &[(String, String)],
        recorder: &mut Recorder<'_>,
    ) -> (Option<TestId>, Vec<TestId>) {
        let ctx = self.ctx;
        let worker = self.worker;
        let timeout = self.timeout();
        let slow = self.options.config.tests.slow;
        let invocations = self.suite.invocations(group, self.scratch);
        for (n, invocation) in invocations.iter().enumerate() {
            if ctx.no_new_tests() {
                return (None, Vec::new());
            }
            let spec = invocation.spec.clone().envs(env.iter().cloned());
            for test in &invocation.tests {
                ctx.send(Event::TestStarted {
                    test: test.clone(),
                    worker,
                });
            }
            let count = invocation.tests.len();
            ctx.running.fetch_add(count, Ordering::SeqCst);
            let mut on_slow = || {
                for test in &invocation.tests {
                    ctx.send(Event::TestSlow {
                        test: test.clone(),
                        worker,
                        elapsed: slow,
                    });
                }
            };
            let done = spawn::run(&spec, &ctx.limits(timeout), Some((slow, &mut on_slow))).await;
            ctx.running.fetch_sub(count, Ordering::SeqCst);
            if let Ok(Finished {
                leaked: Some(killed),
                ..
            }) = &done
            {
                for test in &invocation.tests {
                    ctx.send(Event::TestLeaked {
                        test: test.clone(),
                        worker,
                        killed: *killed,
                    });
                }
            }
            let tested = match done {
                Ok(done) => {
                    let output = ctx.redact(&String::from_utf8_lossy(&done.output));
                    self.suite.results(invocation, &done, output, timeout)
                }
                Err(e) => invocation
                    .tests
                    .iter()
                    .map(|test| TestResult {
                        test: test.clone(),
                        outcome: Outcome::SpawnFailed {
                            reason: format!("could not start {}: {e}", spec.display()),
                        },
                        duration: Duration::ZERO,
                        output: String::new(),
                        crashed: false,
                    })
                    .collect(),
            };
            let mut crashed = None;
            for r in tested {
                if r.crashed && crashed.is_none() {
                    crashed = Some(r.test.clone());
                }
                recorder.record(r);
            }
            // A failed test whose clones are kept (--keep-failed) leaves
            // them as a crash does: no later test changes them.
            if crashed.is_some() || ctx.keep.wants_fresh(worker) {
                let left = invocations[n + 1..]
                    .iter()
                    .flat_map(|i| i.tests.iter().cloned())
                    .collect();
                return (crashed.or_else(|| ctx.keep.take_fresh(worker)), left);
            }
        }
        (None, Vec::new())
    }
}

/// Turns what a slot's tests do into events and results, whichever way
/// they run.
struct Recorder<'a> {
    ctx: &'a Context,
    worker: usize,
    failfast: bool,
    results: &'a Mutex<Vec<(TestId, Outcome, Duration)>>,
    /// The test a worker reported started and has not finished.
    current: Option<TestId>,
    /// How many times a failed test runs again.
    retries: usize,
    /// Failed attempts so far, per test.
    attempts: HashMap<TestId, usize>,
    /// Failed tests waiting to run again (on fresh clones).
    to_retry: Vec<TestId>,
    /// Tests that passed only on a retry, over all slots.
    flaky: &'a AtomicUsize,
}

impl Recorder<'_> {
    fn record(&mut self, r: TestResult) {
        let failed =
            !r.outcome.is_pass() && !matches!(r.outcome, Outcome::Interrupted | Outcome::Skipped);
        let failures = self.attempts.get(&r.test).copied().unwrap_or(0);
        if failed && failures < self.retries && !self.ctx.no_new_tests() {
            self.attempts.insert(r.test.clone(), failures + 1);
            self.to_retry.push(r.test.clone());
            self.ctx.send(Event::TestRetry {
                test: r.test,
                worker: self.worker,
                attempt: failures + 1,
                outcome: r.outcome,
                duration: r.duration,
                output: r.output,
            });
            return;
        }
        if r.outcome.is_pass() && failures > 0 {
            self.flaky.fetch_add(1, Ordering::SeqCst);
        }
        if self.failfast && failed {
            self.ctx.cancel(CancelReason::FailFast);
        }
        if failed {
            self.ctx.keep.note(self.worker, &r.test);
        }
        self.results.lock().expect("not poisoned").push((
            r.test.clone(),
            r.outcome.clone(),
            r.duration,
        ));
        self.ctx.send(Event::TestFinished {
            test: r.test,
            worker: self.worker,
            outcome: r.outcome,
            duration: r.duration,
            output: r.output,
        });
    }
}

impl Observer for Recorder<'_> {
    fn started(&mut self, test: &TestId) {
        self.ctx.running.fetch_add(1, Ordering::SeqCst);
        self.current = Some(test.clone());
        self.ctx.send(Event::TestStarted {
            test: test.clone(),
            worker: self.worker,
        });
    }

    fn slow(&mut self, test: &TestId, elapsed: Duration) {
        self.ctx.send(Event::TestSlow {
            test: test.clone(),
            worker: self.worker,
            elapsed,
        });
    }

    fn finished(&mut self, result: TestResult) {
        if self.current.as_ref() == Some(&result.test) {
            self.current = None;
            self.ctx.running.fetch_sub(1, Ordering::SeqCst);
        } else {
            // Ended without starting (skipped, or never run): the reporter
            // still hears of its start first.
            self.ctx.send(Event::TestStarted {
                test: result.test.clone(),
                worker: self.worker,
            });
        }
        self.record(result);
    }
}

/// Where a run keeps its scratch files (worker sockets and output files,
/// JUnit reports of command suites): removed when the run phase ends, or
/// by the sweep of a run that was killed.
pub(crate) fn scratch_dir(run_id: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("paraclone-{run_id}"))
}

/// What each test is expected to cost: the remembered durations, and
/// those of an earlier run's JUnit report if one is given.
pub(crate) fn load_costs(
    config: &Config,
    junit: Option<&std::path::Path>,
    ctx: &Context,
) -> Result<Costs, RunError> {
    let (durations, warning) = Durations::load(Durations::path(
        &config.state_dir,
        &history_name(&config.tests.kind),
    ));
    if let Some(message) = warning {
        ctx.send(Event::Warning { message });
    }
    let given = match junit {
        None => HashMap::new(),
        Some(path) => {
            let bad = |message: String| RunError::BadSetting {
                config: "--durations-from".into(),
                key: path.display().to_string(),
                message,
            };
            let text =
                std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
            // paraclone's own report names a test by its binary
            // (classname) and name.
            adapter::junit_times(&text)
                .map_err(|e| bad(format!("not JUnit XML: {e}")))?
                .into_iter()
                .map(|(binary, name, time)| (TestId { binary, name }, time))
                .collect()
        }
    };
    Ok(Costs::new(Some(durations), given))
}

/// The name the suite's remembered durations go by: its adapter and where
/// it runs.
fn history_name(kind: &TestsKind) -> String {
    match kind {
        TestsKind::Rust {
            workspace,
            packages,
            ..
        } => durations::suite_name(
            "rust",
            &format!("{}|{}", workspace.display(), packages.join(",")),
        ),
        TestsKind::Command(c) => durations::suite_name(
            match c.preset {
                Preset::Django => "django",
                Preset::Pytest => "pytest",
                Preset::None => "command",
            },
            &format!("{}|{}", c.cwd.display(), c.run),
        ),
    }
}

/// What `paraclone clean` should do.
#[derive(Clone, Debug)]
pub struct CleanOptions {
    /// The checked config (its backends and state directory are used).
    pub config: Config,
    /// List, drop nothing.
    pub dry_run: bool,
    /// Also sweep runs still alive that started longer ago than this.
    pub older_than: Option<Duration>,
    /// Instead of sweeping, take these dead runs' ledgers away without
    /// dropping anything (for databases whose server is gone for good).
    pub forget: Vec<String>,
    /// Also drop the templates kept for reuse (`--templates`), and their
    /// records; with `older_than`, only those built longer ago.
    pub templates: bool,
}

/// Drops the databases of dead runs listed in the ledger (`paraclone
/// clean`), damaged ledgers included as far as they can be read; or, with
/// [`CleanOptions::forget`], forgets the runs named.
pub fn clean(options: CleanOptions) -> Result<Vec<SweptRun>, RunError> {
    let ledger_dir = options.config.state_dir.join("ledger");
    if !options.forget.is_empty() {
        return options
            .forget
            .iter()
            .map(|run| {
                // Checked, so that `--forget ../x` names no other file.
                let run = RunId::parse(run).ok_or_else(|| RunError::BadSetting {
                    config: "--forget".into(),
                    key: run.clone(),
                    message: "not a run id (10 letters and digits, as a sweep printed it)"
                        .to_owned(),
                })?;
                sweep::forget(&ledger_dir, run.as_str(), options.dry_run)
            })
            .collect();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(async {
        let mut report = if options.templates {
            sweep::sweep_templates(
                &options.config,
                &ledger_dir,
                options.older_than,
                options.dry_run,
            )
            .await
        } else {
            Vec::new()
        };
        report.extend(
            sweep::sweep(
                &options.config,
                &ledger_dir,
                SweepOptions {
                    own: None,
                    older_than: options.older_than,
                    dry_run: options.dry_run,
                    damaged: true,
                    kept: true,
                    templates: options.templates,
                },
            )
            .await?,
        );
        Ok(report)
    })
}
