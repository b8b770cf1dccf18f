//! The Oracle backend's integration tests, in one binary with its own
//! `main` (`harness = false`), against a live server named by `ORACLE_URL`.
//!
//! No Oracle server runs on paraclone's own machines, and a skipped test
//! must never look like a passed one. So without `ORACLE_URL` this binary
//! says once, on stderr, that nothing ran and why, lists no test and
//! reports no result line (libtest's "0 passed" would read as success).
//! With `ORACLE_URL` it runs, each as a named test with libtest's output
//! shape (`test NAME ... ok`, `test result: …`):
//!
//! - `conformance::ddl::*`: the cloner crate's conformance kit on the DDL
//!   route (and `conformance::datapump::*` with `ORACLE_IT_DATAPUMP=1`,
//!   since the Data Pump route needs privileges and a loopback link a test
//!   server may not allow);
//! - `oracle::*`: what only Oracle has (`extras`): cached sequences and
//!   identity columns that continue, `GENERATED ALWAYS` kept, a PL/SQL
//!   package valid and working in the clone, virtual and invisible
//!   columns, a drop that waits for a session and names it.
//!
//! Arguments: a substring filters tests by name (`--exact` for whole
//! names), `--list` lists them (as `cargo nextest` asks).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod extras;
mod probe;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use cloner::Cloner;
use cloner_oracle::{OracleCloner, OracleOptions, Route, URL_ENV};

use crate::probe::OraProbe;

/// A check: given a cloner and a probe for it, panics on failure.
type Check = fn(Arc<OracleCloner>, Arc<OraProbe>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// The kit's checks, by name.
macro_rules! kit {
    ($($check:ident),* $(,)?) => {
        vec![$((
            stringify!($check),
            (|c, p| Box::pin(async move { cloner::conformance::$check(&*c, &*p).await })) as Check,
        )),*]
    };
}

/// The variable that switches the Data Pump route's kit on.
const DATAPUMP_ENV: &str = "ORACLE_IT_DATAPUMP";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listing = args.iter().any(|a| a == "--list");
    let exact = args.iter().any(|a| a == "--exact");
    // libtest's options that take a value; `--skip` excludes by substring.
    let (mut filters, mut skips) = (Vec::new(), Vec::new());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--skip" => skips.extend(rest.next().map(String::as_str)),
            "--format" | "--test-threads" | "--color" | "--logfile" | "--shuffle-seed" | "-Z" => {
                rest.next();
            }
            flag if flag.starts_with('-') => {}
            filter => filters.push(filter),
        }
    }
    if args.iter().any(|a| a == "--ignored") {
        // No test here is ignored.
        return ExitCode::SUCCESS;
    }
    let Some(url) = std::env::var(URL_ENV).ok().filter(|v| !v.trim().is_empty()) else {
        eprintln!(
            "cloner-oracle integration tests NOT RUN: {URL_ENV} is not set. They need a live Oracle \
             server (12.2 or later, e.g. Oracle Database Free 23ai) and the Oracle Instant Client on this \
             machine; set {URL_ENV}=oracle://system:<password>@127.0.0.1:1521/FREEPDB1 (a DBA login on a \
             pluggable database) and run `cargo test -p cloner-oracle --test it` again. No test ran and \
             none counts as passed."
        );
        return ExitCode::SUCCESS;
    };

    let datapump = std::env::var(DATAPUMP_ENV).is_ok_and(|v| v == "1");
    let mut tests: Vec<(String, Route, Check)> = Vec::new();
    let mut routes = vec![Route::Ddl];
    if datapump {
        routes.push(Route::Datapump);
    }
    for route in routes {
        for (name, check) in kit![
            template_is_built,
            clones_made_concurrently_match_template,
            writes_are_isolated,
            next_id_continues_from_template,
            trigger_and_view_work_in_clone,
            foreign_keys_enforced_in_clone,
            drop_is_idempotent,
            odd_names_work,
            list_by_prefix,
            connection_describes_database,
            failing_migration_is_reported,
            clone_errors_are_typed,
            backend_describes_itself,
        ] {
            tests.push((format!("conformance::{route}::{name}"), route, check));
        }
    }
    for (name, check) in extras::checks() {
        tests.push((format!("oracle::{name}"), Route::Ddl, check));
    }
    let total = tests.len();
    tests.retain(|(name, _, _)| {
        let matches = |f: &&str| if exact { name == f } else { name.contains(f) };
        (filters.is_empty() || filters.iter().any(matches)) && !skips.iter().any(matches)
    });

    let filtered_out = total - tests.len();
    if listing {
        for (name, _, _) in &tests {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    if !datapump {
        eprintln!(
            "cloner-oracle: the Data Pump route's conformance checks NOT RUN: set {DATAPUMP_ENV}=1 (the \
             login then needs DATAPUMP_IMP_FULL_DATABASE and CREATE DATABASE LINK)."
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(url, tests, filtered_out))
}

async fn run(url: String, tests: Vec<(String, Route, Check)>, filtered_out: usize) -> ExitCode {
    let started = Instant::now();
    let make = |route: Route| {
        Arc::new(
            OracleCloner::new(OracleOptions {
                route,
                ..OracleOptions::with_url(url.clone())
            })
            .unwrap_or_else(|e| panic!("{URL_ENV} is not usable: {}", probe::chain(&e))),
        )
    };
    // First contact: learns the identifier limit before any name is made,
    // and stops here, once, when the server or the client library is
    // missing.
    let first = make(Route::Ddl);
    match first.server_version().await {
        Ok(version) => println!(
            "\nrunning {} tests against {} ({version})",
            tests.len(),
            first.server_label()
        ),
        Err(e) => {
            eprintln!(
                "cloner-oracle integration tests could not start: {}\n{}",
                probe::chain(&e),
                e.hint().unwrap_or("")
            );
            return ExitCode::FAILURE;
        }
    }
    let (mut passed, mut failed) = (0, Vec::new());
    for (name, route, check) in tests {
        let cloner = make(route);
        // Learn the server's limit on this cloner too, so every name of
        // the check is made with it.
        if let Err(e) = cloner.server_version().await {
            println!("test {name} ... FAILED");
            eprintln!("{name}: {}", probe::chain(&e));
            failed.push(name);
            continue;
        }
        let probe = Arc::new(OraProbe::new(Arc::clone(&cloner)));
        // A check that panics is a failed test; the kit's guards still drop
        // what it made (the runtime is multi-threaded).
        let outcome = tokio::spawn(check(cloner, probe)).await;
        if outcome.is_ok() {
            println!("test {name} ... ok");
            passed += 1;
        } else {
            println!("test {name} ... FAILED");
            failed.push(name);
        }
    }
    let status = if failed.is_empty() { "ok" } else { "FAILED" };
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {status}. {passed} passed; {} failed; 0 ignored; 0 measured; {filtered_out} filtered out; \
         finished in {:.2}s\n",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
