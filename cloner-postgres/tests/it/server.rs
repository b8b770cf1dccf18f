//! What the cloner says about the server, and the clone strategies.

use cloner::Cloner;
use cloner::naming::Role;
use cloner_postgres::{DEFAULT_MAX_CONCURRENCY, PostgresCloner, PostgresOptions, Strategy};

use crate::support::{Databases, chain, options};

#[tokio::test(flavor = "multi_thread")]
async fn version_and_concurrency_hint_come_from_the_server() {
    let options = options().await;
    let cloner = PostgresCloner::new(options.clone()).unwrap();
    let version = cloner.server_version().await.unwrap();
    let number = version
        .strip_prefix("PostgreSQL ")
        .unwrap_or_else(|| panic!("{version:?} does not start with \"PostgreSQL \""));
    assert!(
        number.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{version:?} is not \"PostgreSQL <number>\""
    );
    let hint = cloner.concurrency_hint();
    assert!((1..=DEFAULT_MAX_CONCURRENCY).contains(&hint), "hint {hint}");

    let capped = PostgresCloner::new(PostgresOptions {
        max_concurrency: Some(2),
        ..options
    })
    .unwrap();
    capped.server_version().await.unwrap();
    assert_eq!(capped.concurrency_hint(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_strategy_makes_a_faithful_copy() {
    let options = options().await;
    let mut dbs = Databases::new(&options, "it_strategy");
    let tpl = dbs.template().await;
    for (n, strategy) in [Strategy::WalLog, Strategy::FileCopy]
        .into_iter()
        .enumerate()
    {
        let cloner = PostgresCloner::new(PostgresOptions {
            strategy: Some(strategy),
            ..options.clone()
        })
        .unwrap();
        let name = dbs.name(Role::Worker(n as u32 + 1));
        cloner
            .clone_database(&tpl, &name)
            .await
            .unwrap_or_else(|e| panic!("cloning with {strategy} failed: {}", chain(&e)));
        let (client, task) = crate::support::connect(&options.url, &name, "paraclone-it")
            .await
            .unwrap();
        let label: String = client
            .query_one("SELECT label FROM things", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(label, "first", "the {strategy} clone");
        drop(client);
        let _ = task.await;
    }
}
