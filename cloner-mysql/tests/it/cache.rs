//! The template's definition is read once and kept, until the template is
//! sealed, created or dropped again through the cloner.

use cloner::Cloner as _;

use crate::support::{
    MysqlProbe, Names, chain, cloner, execute, migrations, query, template, with_cleanup,
};

const TABLE: &str =
    "CREATE TABLE first (id INT NOT NULL PRIMARY KEY); INSERT INTO first VALUES (1);";

async fn tables(probe: &MysqlProbe, database: &str) -> Vec<String> {
    query(probe, database, "SHOW TABLES")
        .await
        .into_iter()
        .map(|row| row[0].clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_template_is_read_again_after_sealing_or_recreating() {
    let cloner = cloner().await;
    let probe = MysqlProbe::new();
    let names = Names::new("cache");
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        template(&cloner, &tpl, &migrations(&[("0001.sql", TABLE)])).await;
        let clone = |n| {
            let (cloner, tpl) = (&cloner, &tpl);
            let name = names.worker(n);
            async move {
                if let Err(e) = cloner.clone_database(tpl, &name).await {
                    panic!("cloning into {name:?} failed: {}", chain(&e));
                }
                name
            }
        };
        let first = clone(1).await;
        assert_eq!(tables(&probe, &first).await, ["first"]);

        // A setup command changes the template; sealing makes the cloner
        // read it again.
        execute(
            &probe,
            &tpl,
            "CREATE TABLE second (id INT NOT NULL PRIMARY KEY)",
        )
        .await;
        cloner.seal_template(&tpl).await.expect("seal");
        let second = clone(2).await;
        assert_eq!(tables(&probe, &second).await, ["first", "second"]);

        // Dropped and created again under the same name: read again.
        cloner.drop_database(&tpl).await.expect("drop");
        template(
            &cloner,
            &tpl,
            &migrations(&[(
                "0001.sql",
                "CREATE TABLE other (id INT NOT NULL PRIMARY KEY)",
            )]),
        )
        .await;
        let third = clone(3).await;
        assert_eq!(tables(&probe, &third).await, ["other"]);
    })
    .await;
}
