//! Names: long bases cut within PostgreSQL's 63 bytes and still distinct,
//! odd characters quoted, and the worker URL read back by real clients.

use std::str::FromStr;

use cloner::Cloner;
use cloner::naming::{Role, parse_name};
use cloner_postgres::{MAX_NAME_LEN, PostgresCloner};

use crate::support::{Databases, chain, options};

#[tokio::test(flavor = "multi_thread")]
async fn long_base_names_fit_in_63_bytes_and_stay_distinct() {
    let options = options().await;
    let cloner = PostgresCloner::new(options.clone()).unwrap();
    assert_eq!(cloner.max_name_len(), MAX_NAME_LEN);
    let bases = [
        "a".repeat(100) + "_one",
        "a".repeat(100) + "_two",
        "é".repeat(50),
    ];
    let mut all = Vec::new();
    for base in &bases {
        let mut dbs = Databases::new(&options, base);
        let tpl = dbs.template().await;
        let clones = [dbs.name(Role::Worker(1)), dbs.name(Role::Worker(12))];
        for clone in &clones {
            cloner
                .clone_database(&tpl, clone)
                .await
                .unwrap_or_else(|e| panic!("cloning into {clone:?} failed: {}", chain(&e)));
        }
        let mut mine = vec![tpl.clone()];
        mine.extend(clones.iter().cloned());
        for name in &mine {
            assert!(name.len() <= 63, "{name:?} is {} bytes", name.len());
            assert!(parse_name(name).is_some(), "{name:?} is not recognisable");
        }
        let mut listed = cloner.list_databases(&dbs.prefix()).await.unwrap();
        listed.sort();
        mine.sort();
        assert_eq!(listed, mine, "listing by the run's prefix of a long base");
        all.extend(mine);
        // `dbs` drops them here.
    }
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "two long bases gave one name: {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_urls_reach_the_clone_with_tokio_postgres_and_psql() {
    let options = options().await;
    let cloner = PostgresCloner::new(options.clone()).unwrap();
    let mut dbs = Databases::new(&options, "it o'dd \"url\" é/?#%");
    let tpl = dbs.template().await;
    let clone = dbs.name(Role::Worker(1));
    let connection = cloner.clone_database(&tpl, &clone).await.unwrap();
    assert!(
        connection.url.starts_with("postgres://") || connection.url.starts_with("postgresql://"),
        "{}",
        connection.redacted_url()
    );
    assert!(
        !connection.url.contains(' '),
        "{}",
        connection.redacted_url()
    );

    let config = tokio_postgres::Config::from_str(&connection.url).unwrap();
    let (client, task) = config
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "tokio-postgres cannot use {}: {e}",
                connection.redacted_url()
            )
        });
    let driver = tokio::spawn(task);
    let row = client
        .query_one("SELECT current_database()::text, count(*) FROM things", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), clone);
    assert_eq!(row.get::<_, i64>(1), 1);
    drop(client);
    let _ = driver.await;

    // libpq, as psql, diesel and psycopg (Django) use it.
    match std::process::Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-c",
            "SELECT current_database()",
            &connection.url,
        ])
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "psql cannot use {}: {}",
                connection.redacted_url(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), clone);
        }
        // No libpq client on this machine: tokio-postgres above is the check.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("running psql failed: {e}"),
    }
}
