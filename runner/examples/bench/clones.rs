//! Measurement 1, clone throughput: paraclone's clones of a generated
//! template against the methods users have today, side by side, several
//! interleaved rounds, every database dropped in every path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use cloner::naming::{self, RunId};
use cloner::{Cloner, Migration};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::backends::{self, Backend, How, Method, Role};
use crate::schema::{self, TemplateSize};
use crate::stats::{Stats, secs};

/// The base of every database name the harness makes.
pub(crate) const BASE: &str = "pcbench";

/// What the clone measurement found for one backend.
#[derive(Debug, Serialize)]
pub(crate) struct CloneResult {
    pub(crate) backend: String,
    pub(crate) version: String,
    pub(crate) server: String,
    pub(crate) concurrency_hint: usize,
    pub(crate) template: TemplateInfo,
    pub(crate) rounds: usize,
    pub(crate) methods: Vec<MethodResult>,
    pub(crate) ratios: Ratios,
    pub(crate) notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TemplateInfo {
    #[serde(flatten)]
    pub(crate) size: TemplateSize,
    pub(crate) migration_files: usize,
    pub(crate) bytes: Option<u64>,
    /// Building it once: creating the database and replaying the migrations.
    pub(crate) build_seconds: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct MethodResult {
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) role: Role,
    pub(crate) databases: usize,
    /// Seconds until every database existed.
    pub(crate) seconds: Stats,
    /// Seconds to drop them again (at most `concurrency_hint` at once).
    pub(crate) drop_seconds: Stats,
}

/// The headline: how many times faster paraclone's `n` clones are than
/// each way users have today (above 1: paraclone is faster).
#[derive(Debug, Serialize)]
pub(crate) struct Ratios {
    /// How many databases the ratios compare.
    pub(crate) databases: usize,
    pub(crate) vs_django: Option<f64>,
    pub(crate) vs_replay: Option<f64>,
    /// paraclone's time over the floor's (at least 1; closer is better).
    pub(crate) over_floor: Option<f64>,
}

/// Measures `backend`: builds the template, then `rounds` rounds of every
/// method in turn. Every database is named under a fresh run id and swept
/// afterwards, also after an error, a panic or Ctrl-C (`stop`).
pub(crate) async fn measure(
    backend: Backend,
    size: TemplateSize,
    rounds: usize,
    stop: &CancellationToken,
) -> Result<CloneResult> {
    let run = RunId::generate();
    let sweeper = (backend.paraclone)()?;
    let what = format!("the {} measurement", backend.name);
    guarded(
        &what,
        &*sweeper,
        &run,
        stop,
        measure_all(backend, size, rounds, run.clone()),
    )
    .await
}

/// Runs `work`, which names its databases under `run`, until it ends or
/// `stop` is cancelled; then drops every database of `run` with
/// `sweeper`, also after an error, a panic or Ctrl-C.
pub(crate) async fn guarded<T: Send + 'static>(
    what: &str,
    sweeper: &dyn Cloner,
    run: &RunId,
    stop: &CancellationToken,
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    let mut task = tokio::spawn(work);
    let outcome = tokio::select! {
        joined = &mut task => Some(joined),
        () = stop.cancelled() => None,
    };
    let outcome = match outcome {
        Some(Ok(result)) => result,
        Some(Err(joined)) => Err(anyhow!("{what} panicked: {joined}")),
        None => {
            task.abort();
            let _ = task.await;
            Err(anyhow!("interrupted"))
        }
    };
    let left = sweep(sweeper, run).await;
    match (outcome, left) {
        (outcome, Ok(())) => outcome,
        (Ok(_), Err(e)) => Err(e),
        (Err(e), Err(left)) => Err(e.context(format!("{left:#}"))),
    }
}

/// Drops every database of `run`, and checks that none is left. A drop
/// that raced with a server-side copy still running after an interrupted
/// round is retried.
async fn sweep(cloner: &dyn Cloner, run: &RunId) -> Result<()> {
    let prefix = naming::run_prefix(BASE, run, cloner.max_name_len());
    let mut left = Vec::new();
    for attempt in 0..10 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        left = cloner.list_databases(&prefix).await?;
        if left.is_empty() {
            return Ok(());
        }
        for name in &left {
            let _ = cloner.drop_database(name).await;
        }
    }
    bail!(
        "could not drop {} (run `paraclone clean` or drop them by hand)",
        left.join(", ")
    )
}

async fn measure_all(
    backend: Backend,
    size: TemplateSize,
    rounds: usize,
    run: RunId,
) -> Result<CloneResult> {
    let builder = (backend.paraclone)()?;
    let version = builder.server_version().await?;
    let hint = builder.concurrency_hint();
    let migrations = schema::migrations(backend.name, size);
    let template =
        naming::database_name(BASE, &run, naming::Role::Template, builder.max_name_len());
    eprintln!(
        "bench: {}: building the template ({} tables x {} rows, {} migration files)",
        backend.name,
        size.tables,
        size.rows_per_table,
        migrations.len()
    );
    let build_seconds = build_template(&*builder, &template, &migrations).await?;
    let bytes = {
        let (name, template) = (backend.name, template.clone());
        let probe = (backend.paraclone)()?;
        tokio::task::spawn_blocking(move || backends::database_size(name, &*probe, &template))
            .await?
    };
    eprintln!(
        "bench: {}: template built in {} ({}); {} rounds of {} methods",
        backend.name,
        secs(build_seconds),
        bytes.map_or_else(
            || "size unknown".to_owned(),
            |b| format!("{:.1} MB", b as f64 / 1e6)
        ),
        rounds,
        backend.methods.len()
    );

    let mut made = vec![Vec::new(); backend.methods.len()];
    let mut dropped = vec![Vec::new(); backend.methods.len()];
    // Rounds interleave the methods, so that a noisy moment of the machine
    // (or a checkpoint falling due) does not land on one method only.
    for round in 1..=rounds {
        for (i, method) in backend.methods.iter().enumerate() {
            let (m, d) = run_method(method, &template, &run, &migrations)
                .await
                .with_context(|| format!("{} (round {round})", method.label))?;
            eprintln!(
                "bench: {}: round {round}/{rounds}: {:<70} {:>9}",
                backend.name,
                method.label,
                secs(m.as_secs_f64())
            );
            made[i].push(m);
            dropped[i].push(d);
        }
    }
    builder.drop_database(&template).await?;

    let methods: Vec<MethodResult> = backend
        .methods
        .iter()
        .zip(made.iter().zip(&dropped))
        .map(|(m, (made, dropped))| MethodResult {
            key: m.key.clone(),
            label: m.label.clone(),
            role: m.role,
            databases: m.how.count(),
            seconds: Stats::of_durations(made),
            drop_seconds: Stats::of_durations(dropped),
        })
        .collect();
    let ratios = ratios(&methods);
    Ok(CloneResult {
        backend: backend.name.to_owned(),
        version,
        server: builder.server_label(),
        concurrency_hint: hint,
        template: TemplateInfo {
            size,
            migration_files: migrations.len(),
            bytes,
            build_seconds,
        },
        rounds,
        methods,
        ratios,
        notes: backend.notes,
    })
}

/// Builds and seals the template `name` from `migrations`, as the runner
/// does; returns the seconds it took.
pub(crate) async fn build_template(
    cloner: &dyn Cloner,
    name: &str,
    migrations: &[Migration],
) -> Result<f64> {
    let started = Instant::now();
    cloner
        .create_template(name, migrations)
        .await
        .context("build the template")?;
    cloner.seal_template(name).await?;
    Ok(started.elapsed().as_secs_f64())
}

fn ratios(methods: &[MethodResult]) -> Ratios {
    let n = methods
        .iter()
        .filter(|m| m.role == Role::Paraclone)
        .map(|m| m.databases)
        .max()
        .unwrap_or(0);
    let median = |role: Role| {
        methods
            .iter()
            .find(|m| m.role == role && m.databases == n)
            .map(|m| m.seconds.median)
    };
    let ours = median(Role::Paraclone);
    let over = |theirs: Option<f64>| Some(theirs? / ours?);
    Ratios {
        databases: n,
        vs_django: over(median(Role::Django)),
        vs_replay: over(median(Role::Replay)),
        over_floor: median(Role::Floor).and_then(|floor| Some(ours? / floor)),
    }
}

/// Makes the method's databases once and drops them again: (time to make,
/// time to drop).
pub(crate) async fn run_method(
    method: &Method,
    template: &str,
    run: &RunId,
    migrations: &[Migration],
) -> Result<(Duration, Duration)> {
    let cloner = (method.cloner)()?;
    // Opening a session and learning the server's limits (and so the
    // concurrency hint) is done before the clock starts, as the runner
    // does it while planning.
    cloner.server_version().await?;
    let names: Vec<String> = (1..=method.how.count())
        .map(|w| {
            naming::database_name(
                BASE,
                run,
                naming::Role::Worker(w as u32),
                cloner.max_name_len(),
            )
        })
        .collect();
    let started = Instant::now();
    match method.how {
        How::Bounded(_) => {
            bounded(&cloner, &names, |c, name| {
                let template = template.to_owned();
                async move { c.clone_database(&template, &name).await.map(|_| ()) }
            })
            .await?;
        }
        How::Sequential(_) => {
            for name in &names {
                cloner.clone_database(template, name).await?;
            }
        }
        How::FileCopy(_) => {
            let source = cloner
                .connection(template)
                .path
                .context("a file copy needs a file database")?;
            let targets: Vec<_> = names
                .iter()
                .map(|n| cloner.connection(n).path.context("a file database"))
                .collect::<Result<_>>()?;
            tokio::task::spawn_blocking(move || -> Result<()> {
                for target in targets {
                    std::fs::copy(&source, &target)
                        .with_context(|| format!("copy to {}", target.display()))?;
                }
                Ok(())
            })
            .await??;
        }
        How::DumpLoad(_) => {
            let source = cloner.connection(template);
            for name in &names {
                // Django creates the clone with its own connection, then
                // pipes the dump into it.
                cloner.create_template(name, &[]).await?;
                let (source, name) = (source.clone(), name.clone());
                tokio::task::spawn_blocking(move || backends::dump_load(&source, &name)).await??;
            }
        }
        How::Replay(n) => {
            // Test workers start together and each migrates its own
            // database: no bound but their number.
            let migrations = Arc::new(migrations.to_vec());
            concurrently(&cloner, &names, n, |c, name| {
                let migrations = migrations.clone();
                async move { c.create_template(&name, &migrations).await.map(|_| ()) }
            })
            .await?;
        }
    }
    let made = started.elapsed();
    let started = Instant::now();
    bounded(&cloner, &names, |c, name| async move {
        c.drop_database(&name).await
    })
    .await?;
    Ok((made, started.elapsed()))
}

/// Runs `op` for every name at once, each in its own task, at most
/// `concurrency_hint()` at a time, as the runner's clone and teardown
/// phases do.
async fn bounded<F, Fut>(cloner: &Arc<dyn Cloner>, names: &[String], op: F) -> Result<()>
where
    F: Fn(Arc<dyn Cloner>, String) -> Fut,
    Fut: Future<Output = Result<(), cloner::ClonerError>> + Send + 'static,
{
    concurrently(cloner, names, cloner.concurrency_hint(), op).await
}

/// Runs `op` for every name, each in its own task, at most `limit` at a
/// time; the first error is returned after every operation finished.
async fn concurrently<F, Fut>(
    cloner: &Arc<dyn Cloner>,
    names: &[String],
    limit: usize,
    op: F,
) -> Result<()>
where
    F: Fn(Arc<dyn Cloner>, String) -> Fut,
    Fut: Future<Output = Result<(), cloner::ClonerError>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(limit.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let (limit, fut) = (limit.clone(), op(cloner.clone(), name.clone()));
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("the semaphore stays open");
            fut.await
        });
    }
    let mut first = None;
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined? {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), |e| Err(e.into()))
}
