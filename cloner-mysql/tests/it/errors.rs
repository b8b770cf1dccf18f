//! Failures are typed and explain themselves: an unreachable server, a
//! refused login, a login without a privilege the clone needs; none shows
//! a password, and none leaves a database behind.

use cloner::naming::Role;
use cloner::{Cloner as _, ClonerError};
use cloner_mysql::{MysqlCloner, MysqlOptions};
use futures_util::FutureExt as _;
use mysql_async::Opts;

use crate::support::{
    MysqlProbe, Names, chain, cloner, cloner_with, execute, migrations, server_url, template,
    with_cleanup,
};

/// Everything an error shows: its chain, its `Debug` and its hint.
fn everything(e: &ClonerError) -> String {
    format!("{} {e:?} {}", chain(e), e.hint().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_a_connect_error_saying_how_to_start_one() {
    let cloner = MysqlCloner::new(MysqlOptions::with_url("mysql://root:hunter2@127.0.0.1:1"))
        .expect("new does not connect");
    let names = Names::new("unreachable");
    let results = [
        cloner.server_version().await.map(drop),
        cloner
            .create_template(&names.template(), &[])
            .await
            .map(drop),
        cloner
            .clone_database(&names.template(), &names.worker(1))
            .await
            .map(drop),
        cloner.drop_database(&names.worker(1)).await,
        cloner.list_databases("x").await.map(drop),
    ];
    for result in results {
        let e = result.expect_err("port 1 answers nothing");
        let ClonerError::Connect { server, hint, .. } = &e else {
            panic!("expected ClonerError::Connect, got {}", everything(&e));
        };
        assert_eq!(server, "mysql://root:***@127.0.0.1:1");
        let hint = hint.as_deref().unwrap_or_default();
        for needle in [
            "127.0.0.1:1",
            "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
            "[backends.mysql]",
            "PARACLONE_MYSQL_URL",
        ] {
            assert!(hint.contains(needle), "the hint lacks {needle:?}: {hint}");
        }
        assert!(!everything(&e).contains("hunter2"), "{}", everything(&e));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_login_is_a_connect_error_about_the_credentials() {
    let opts = Opts::from_url(&server_url()).expect("the test server's URL");
    let names = Names::new("login");
    let url = format!(
        "mysql://pc_nobody_{}:hunter2@{}:{}",
        names.run(),
        opts.ip_or_hostname(),
        opts.tcp_port()
    );
    let cloner = MysqlCloner::new(MysqlOptions::with_url(url)).expect("valid URL");
    let e = cloner.server_version().await.expect_err("no such user");
    match &e {
        ClonerError::Connect { hint, .. } => {
            let hint = hint.as_deref().unwrap_or_default();
            assert!(
                hint.contains("refused the login") && hint.contains("pc_nobody_"),
                "{hint}"
            );
        }
        other => panic!("expected ClonerError::Connect, got {}", everything(other)),
    }
    assert!(!everything(&e).contains("hunter2"), "{}", everything(&e));
}

/// A table with a trigger, and no routines (a login that may not read
/// routines would fail on those first).
const TRIGGERED: &str = "
CREATE TABLE items (id INT NOT NULL PRIMARY KEY, n INT NOT NULL);
CREATE TABLE item_log (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, item_id INT NOT NULL);
CREATE TRIGGER items_log AFTER INSERT ON items FOR EACH ROW INSERT INTO item_log (item_id) VALUES (NEW.id);
INSERT INTO items VALUES (1, 10), (2, 20);
";

#[tokio::test(flavor = "multi_thread")]
async fn a_login_without_a_privilege_gets_an_error_naming_it_and_nothing_stays() {
    let root = cloner().await;
    let probe = MysqlProbe::new();
    let names = Names::new("pcpriv");
    let elsewhere = Names::new("pcother");
    let user = format!("pc_notrig_{}", names.run());
    let password = format!("pw_{}", names.run());
    let opts = Opts::from_url(&server_url()).expect("the test server's URL");
    // Every privilege a clone needs but TRIGGER, on this test's names only.
    let pattern = format!("pcpriv\\_pc{}\\_%", names.run());
    let setup = [
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, REFERENCES, \
             CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE, EVENT, LOCK TABLES \
             ON `{pattern}`.* TO '{user}'@'%'"
        ),
    ];
    let test = with_cleanup(&root, &names, async {
        for sql in &setup {
            execute(&probe, "mysql", sql).await;
        }
        let limited = cloner_with(MysqlOptions::with_url(format!(
            "mysql://{user}:{password}@{}:{}",
            opts.ip_or_hostname(),
            opts.tcp_port()
        )))
        .await;
        let tpl = names.template();
        template(&root, &tpl, &migrations(&[("0001_items.sql", TRIGGERED)])).await;

        // The login cannot see the template's trigger, and cannot make one:
        // the clone fails naming TRIGGER instead of coming out without it.
        let clone = names.worker(1);
        let e = limited
            .clone_database(&tpl, &clone)
            .await
            .expect_err("a clone without TRIGGER");
        match &e {
            ClonerError::Privilege { privilege, .. } => {
                assert_eq!(privilege, "TRIGGER", "{}", everything(&e))
            }
            other => panic!("expected ClonerError::Privilege, got {}", everything(other)),
        }
        assert!(!everything(&e).contains(&password), "{}", everything(&e));

        // A template whose migration makes a trigger: the same, and the
        // half-built template is gone.
        let own = names.name(Role::Replacement(1, 1));
        match limited
            .create_template(&own, &migrations(&[("0001_items.sql", TRIGGERED)]))
            .await
        {
            Err(ClonerError::Privilege {
                privilege, source, ..
            }) => {
                assert_eq!(privilege, "TRIGGER");
                assert!(source.to_string().contains("0001_items.sql"), "{source}");
            }
            other => panic!("expected ClonerError::Privilege, got {other:?}"),
        }

        // A template without triggers: the login could not have seen them
        // (MySQL hides triggers from it), so the clone checks that it may
        // make one, and fails naming TRIGGER.
        let plain = names.name(Role::Replacement(2, 1));
        template(
            &root,
            &plain,
            &migrations(&[("0001_plain.sql", "CREATE TABLE t (id INT PRIMARY KEY)")]),
        )
        .await;
        match limited.clone_database(&plain, &names.worker(2)).await {
            Err(e @ ClonerError::Privilege { .. }) => {
                let text = everything(&e);
                assert!(
                    matches!(&e, ClonerError::Privilege { privilege, .. } if privilege == "TRIGGER")
                        && text.contains("check that triggers can be copied"),
                    "{text}"
                );
            }
            other => panic!("expected ClonerError::Privilege, got {other:?}"),
        }

        // Outside its grants the login may not even create a database.
        match limited.create_template(&elsewhere.template(), &[]).await {
            Err(e @ ClonerError::Privilege { .. }) => assert!(
                matches!(&e, ClonerError::Privilege { privilege, .. } if privilege == "CREATE"),
                "{}",
                everything(&e)
            ),
            other => panic!("expected ClonerError::Privilege, got {other:?}"),
        }

        let mut left = root.list_databases(&names.prefix()).await.expect("list");
        left.extend(
            root.list_databases(&elsewhere.prefix())
                .await
                .expect("list"),
        );
        left.sort();
        let mut want = vec![tpl.clone(), plain.clone()];
        want.sort();
        assert_eq!(left, want, "the failed operations left databases behind");
    });
    let outcome = std::panic::AssertUnwindSafe(test).catch_unwind().await;
    execute(
        &probe,
        "mysql",
        &format!("DROP USER IF EXISTS '{user}'@'%'"),
    )
    .await;
    for name in root
        .list_databases(&elsewhere.prefix())
        .await
        .expect("list")
    {
        root.drop_database(&name).await.expect("drop");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
