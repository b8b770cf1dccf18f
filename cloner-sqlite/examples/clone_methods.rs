//! Measures the three clone methods on a realistic template, on disk and in RAM: the numbers behind `Method::Auto`.
//!
//! ```text
//! cargo run --release -p cloner-sqlite --example clone_methods [-- DISK_DIR [TABLES [ROWS]]]
//! ```
//!
//! Builds a template of 200 tables × 1,000 rows (two indexes per table),
//! then, per method, in nine rounds: one clone alone, and eight clones
//! made as the runner makes them, `concurrency_hint()` at a time (medians
//! of the rounds). Every clone is dropped again. `DISK_DIR`
//! defaults to `target/paraclone-clone-methods`; it must be on the disk to
//! be measured, not on a tmpfs.
#![allow(
    clippy::print_stdout,
    reason = "the report is the point of this program"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cloner::naming::{Role, RunId, database_name};
use cloner::{Cloner, ClonerError, Migration};
use cloner_sqlite::{Method, SqliteCloner, SqliteOptions, Target};

const ROUNDS: u32 = 9;
const CLONES: u32 = 8;

#[tokio::main]
async fn main() -> Result<(), ClonerError> {
    let mut args = std::env::args().skip(1);
    let disk = args.next().map_or_else(
        || PathBuf::from("target/paraclone-clone-methods"),
        PathBuf::from,
    );
    let tables: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let migrations = [Migration {
        name: "bench.sql".to_owned(),
        sql: template_sql(tables, rows),
    }];
    println!(
        "SQLite {}, template of {tables} tables x {rows} rows",
        rusqlite::version()
    );
    println!(
        "{:<8} {:<7} {:>12} {:>16}",
        "target", "method", "one clone", "8 clones"
    );
    for target in [Target::Disk, Target::Ram] {
        let options = SqliteOptions::new(&disk).target(target);
        let builder = SqliteCloner::new(options.clone())?;
        let run = RunId::generate();
        let template = database_name("bench", &run, Role::Template, builder.max_name_len());
        let started = Instant::now();
        builder.create_template(&template, &migrations).await?;
        builder.seal_template(&template).await?;
        let size = std::fs::metadata(builder.path(&template))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "{target:<8} template: {:.1} MB in {:.2?} at {}",
            size as f64 / 1e6,
            started.elapsed(),
            builder.dir().display()
        );
        let methods = [Method::Copy, Method::Backup, Method::Vacuum];
        let mut one = vec![Vec::new(); methods.len()];
        let mut batch = vec![Vec::new(); methods.len()];
        // Rounds interleave the methods, so that a noisy moment of the
        // machine does not fall on one method only.
        for round in 1..=ROUNDS {
            for (i, method) in methods.into_iter().enumerate() {
                let cloner = SqliteCloner::new(options.clone().method(method))?;
                let clone =
                    database_name("bench", &run, Role::Worker(round), cloner.max_name_len());
                let started = Instant::now();
                cloner.clone_database(&template, &clone).await?;
                one[i].push(started.elapsed());
                cloner.drop_database(&clone).await?;
                batch[i].push(clone_batch(&cloner, &template, &run, round).await?);
            }
        }
        for (i, method) in methods.into_iter().enumerate() {
            println!(
                "{target:<8} {method:<7} {:>12} {:>16}",
                ms(median(&mut one[i])),
                ms(median(&mut batch[i]))
            );
        }
        builder.drop_database(&template).await?;
        if target == Target::Ram {
            let _ = std::fs::remove_dir(builder.dir());
        }
    }
    Ok(())
}

/// Makes [`CLONES`] clones as the runner does, at most
/// `concurrency_hint()` at a time, and drops them; returns the time the
/// cloning took.
async fn clone_batch(
    cloner: &SqliteCloner,
    template: &str,
    run: &RunId,
    round: u32,
) -> Result<Duration, ClonerError> {
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(cloner.concurrency_hint()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=CLONES {
        let (cloner, template, limit) = (cloner.clone(), template.to_owned(), limit.clone());
        let clone = database_name(
            "bench",
            run,
            Role::Replacement(n, round),
            cloner.max_name_len(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire().await.expect("the semaphore stays open");
            cloner
                .clone_database(&template, &clone)
                .await
                .map(|_| clone)
        });
    }
    let mut clones = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        clones.push(joined.expect("a clone task")?);
    }
    let took = started.elapsed();
    for clone in clones {
        cloner.drop_database(&clone).await?;
    }
    Ok(took)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `tables` tables of `rows` rows each, with a plain and a unique index.
fn template_sql(tables: usize, rows: usize) -> String {
    let mut sql = String::from("BEGIN;\n");
    for t in 0..tables {
        sql.push_str(&format!(
            "CREATE TABLE t{t} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, value INTEGER NOT NULL, \
             note TEXT);\n\
             CREATE INDEX t{t}_name ON t{t} (name);\n\
             CREATE UNIQUE INDEX t{t}_value ON t{t} (value, id);\n\
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})\n\
             INSERT INTO t{t} (name, value, note) SELECT 'name ' || i, i * 7, printf('%.60c', 'x') FROM n;\n"
        ));
    }
    sql.push_str("COMMIT;\n");
    sql
}
