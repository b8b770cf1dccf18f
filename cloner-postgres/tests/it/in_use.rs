//! A session holding the template ("source database is being accessed by
//! other users"): waited for within the configured time, named when it
//! stays, terminated when the options say so.

use std::time::{Duration, Instant};

use cloner::naming::Role;
use cloner::{Cloner, ClonerError};
use cloner_postgres::{PostgresCloner, PostgresOptions};

use crate::support::{Databases, chain, connect, expect_err, options};

const HOLDER: &str = "paraclone-it-holder";

fn cloner(options: &PostgresOptions, timeout: Duration, terminate: bool) -> PostgresCloner {
    PostgresCloner::new(PostgresOptions {
        in_use_timeout: timeout,
        terminate_sessions: terminate,
        ..options.clone()
    })
    .expect("a cloner")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_template_is_waited_for_then_the_holder_is_named() {
    let options = options().await;
    let mut dbs = Databases::new(&options, "it_hold");
    let tpl = dbs.template().await;
    let clone = dbs.name(Role::Worker(1));
    let (holder, holder_task) = connect(&options.url, &tpl, HOLDER)
        .await
        .expect("a session on the template");
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("the holder's pid")
        .get(0);

    let waiting = cloner(&options, Duration::from_secs(2), false);
    let started = Instant::now();
    let error = expect_err(
        waiting.clone_database(&tpl, &clone).await,
        "cloning a template another session holds",
    );
    let waited = started.elapsed();
    match &error {
        ClonerError::InUse { name, sessions } => {
            assert_eq!(name, &tpl, "the error names another database");
            for part in [HOLDER, &format!("pid {pid}"), "terminate_sessions"] {
                assert!(
                    sessions.contains(part),
                    "the message lacks {part:?}: {}",
                    chain(&error)
                );
            }
        }
        other => panic!(
            "cloning a held template gave \"{}\" instead of ClonerError::InUse",
            chain(other)
        ),
    }
    assert!(
        waited >= Duration::from_secs(2),
        "gave up after {waited:?}, before the 2 s it was given"
    );
    assert!(
        waited < Duration::from_secs(6),
        "waited {waited:?}, far beyond the 2 s it was given"
    );
    assert_eq!(
        waiting.list_databases(&dbs.prefix()).await.unwrap(),
        std::slice::from_ref(&tpl),
        "a failed clone left a database behind"
    );
    holder
        .simple_query("SELECT 1")
        .await
        .expect("the holder was left alone without terminate_sessions");

    let terminating = cloner(&options, Duration::from_secs(10), true);
    terminating
        .clone_database(&tpl, &clone)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "with terminate_sessions the clone still failed: {}",
                chain(&e)
            )
        });
    assert!(
        holder.simple_query("SELECT 1").await.is_err(),
        "the holder's session survived terminate_sessions"
    );
    drop(holder);
    let _ = holder_task.await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_holder_that_leaves_during_the_wait_lets_the_clone_through() {
    let options = options().await;
    let mut dbs = Databases::new(&options, "it_leave");
    let tpl = dbs.template().await;
    let clone = dbs.name(Role::Worker(1));
    let (holder, holder_task) = connect(&options.url, &tpl, HOLDER)
        .await
        .expect("a session on the template");
    let leaving = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(holder);
        let _ = holder_task.await;
    });
    let started = Instant::now();
    let made = cloner(&options, Duration::from_secs(10), false)
        .clone_database(&tpl, &clone)
        .await
        .unwrap_or_else(|e| panic!("the clone failed though the holder left: {}", chain(&e)));
    assert_eq!(made.name, clone);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the clone did not wait for the holder ({:?})",
        started.elapsed()
    );
    leaving.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sealing_leaves_no_session_of_ours_on_the_template() {
    let options = options().await;
    let mut dbs = Databases::new(&options, "it_seal");
    let tpl = dbs.template().await;
    let (admin, task) = crate::support::admin(&options).await;
    let sessions: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1::text",
            &[&tpl],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        sessions, 0,
        "sessions remain on the sealed template {tpl:?}"
    );
    drop(admin);
    let _ = task.await;
}
