//! Failures a user meets, each one typed and with advice, none showing a
//! password.

use cloner::naming::{Role, RunId};
use cloner::{Cloner, ClonerError};
use cloner_postgres::{PostgresCloner, PostgresOptions};

use crate::support::{Databases, admin, chain, expect_err, options};

/// The whole text a user would see for `error`: the chain and the hint.
fn shown(error: &ClonerError) -> String {
    format!(
        "{} (hint: {})",
        chain(error),
        error.hint().unwrap_or("none")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_a_connect_error_saying_how_to_start_it() {
    let cloner = PostgresCloner::new(PostgresOptions::with_url(
        "postgres://postgres:hunter2@127.0.0.1:1/postgres",
    ))
    .expect("new() does not contact the server");
    let tpl = cloner::naming::database_name("it_down", &RunId::generate(), Role::Template, 63);
    for (what, result) in [
        ("server_version", cloner.server_version().await.map(drop)),
        (
            "create_template",
            cloner.create_template(&tpl, &[]).await.map(drop),
        ),
        (
            "clone_database",
            cloner.clone_database(&tpl, "x").await.map(drop),
        ),
        ("drop_database", cloner.drop_database(&tpl).await),
        ("list_databases", cloner.list_databases("x").await.map(drop)),
    ] {
        let error = expect_err(result, what);
        let text = shown(&error);
        match &error {
            ClonerError::Connect { server, hint, .. } => {
                assert_eq!(server, "postgres://postgres:***@127.0.0.1:1/postgres");
                let hint = hint.as_deref().unwrap_or_default();
                for part in [
                    "127.0.0.1:1",
                    "pg_ctlcluster",
                    "[backends.postgres]",
                    "PARACLONE_POSTGRES_URL",
                ] {
                    assert!(
                        hint.contains(part),
                        "{what}: the hint lacks {part:?}: {text}"
                    );
                }
            }
            _ => panic!("{what} gave \"{text}\" instead of ClonerError::Connect"),
        }
        assert!(
            !text.contains("hunter2"),
            "{what} shows the password: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_maintenance_database_is_a_connect_error_naming_it() {
    let options = options().await;
    let mut url = options.url.clone();
    let path_start = url.find("://").unwrap() + 3;
    let path_start = url[path_start..]
        .find('/')
        .map_or(url.len(), |i| path_start + i);
    let end = url[path_start..]
        .find('?')
        .map_or(url.len(), |i| path_start + i);
    url.replace_range(path_start..end, "/paraclone_it_no_such_database");
    let cloner = PostgresCloner::new(PostgresOptions::with_url(url)).unwrap();
    let error = expect_err(cloner.server_version().await, "server_version");
    match &error {
        ClonerError::Connect {
            hint: Some(hint), ..
        } => assert!(
            hint.contains("paraclone_it_no_such_database") && hint.contains("path"),
            "{}",
            shown(&error)
        ),
        _ => panic!("gave \"{}\" instead of ClonerError::Connect", shown(&error)),
    }
}

/// A role of the test's own, dropped when the guard goes.
struct TestRole {
    options: PostgresOptions,
    name: String,
    password: String,
}

impl TestRole {
    async fn create(options: &PostgresOptions, attributes: &str) -> TestRole {
        let run = RunId::generate();
        let role = TestRole {
            options: options.clone(),
            name: format!("paraclone_it_{run}"),
            password: format!("pw_{run}_secret"),
        };
        let (client, task) = admin(options).await;
        client
            .batch_execute(&format!(
                "CREATE ROLE {} {attributes} PASSWORD '{}'",
                role.name, role.password
            ))
            .await
            .expect("creating a role (the test login needs CREATEROLE)");
        drop(client);
        let _ = task.await;
        role
    }

    /// The server URL with this role's login.
    fn url(&self) -> String {
        let probe = PostgresCloner::new(self.options.clone()).unwrap();
        let c = probe.connection("postgres");
        format!(
            "postgres://{}:{}@{}:{}/postgres",
            self.name,
            self.password,
            c.host.unwrap(),
            c.port.unwrap()
        )
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let sql = format!("DROP ROLE IF EXISTS {}", self.name);
        let options = self.options.clone();
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let (client, task) = admin(&options).await;
                let result = client.batch_execute(&sql).await;
                drop(client);
                let _ = task.await;
                if let Err(e) = result
                    && !std::thread::panicking()
                {
                    panic!("`{sql}` failed: {e}");
                }
            })
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_without_createdb_is_a_privilege_error() {
    let options = options().await;
    let role = TestRole::create(&options, "LOGIN NOCREATEDB").await;
    let mut dbs = Databases::new(&options, "it_priv");
    let tpl = dbs.template().await;
    let clone = dbs.name(Role::Worker(1));
    let own_tpl = dbs.name(Role::Replacement(1, 1));
    let cloner = PostgresCloner::new(PostgresOptions::with_url(role.url())).unwrap();
    cloner
        .server_version()
        .await
        .unwrap_or_else(|e| panic!("the role cannot log in: {}", shown(&e)));
    for (what, result) in [
        (
            "create_template",
            cloner.create_template(&own_tpl, &[]).await.map(drop),
        ),
        (
            "clone_database",
            cloner.clone_database(&tpl, &clone).await.map(drop),
        ),
    ] {
        let error = expect_err(result, what);
        let text = shown(&error);
        match &error {
            ClonerError::Privilege {
                privilege, server, ..
            } => {
                assert_eq!(privilege, "CREATEDB", "{what}: {text}");
                assert!(server.contains(":***@"), "{what}: {text}");
            }
            _ => panic!("{what} gave \"{text}\" instead of ClonerError::Privilege"),
        }
        assert!(
            !text.contains(&role.password),
            "{what} shows the password: {text}"
        );
    }
    let admin_view = PostgresCloner::new(options.clone()).unwrap();
    assert_eq!(
        admin_view.list_databases(&dbs.prefix()).await.unwrap(),
        [tpl],
        "a refused create left a database behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_login_is_a_connect_error_with_a_login_hint() {
    let options = options().await;
    // Refused whatever pg_hba.conf says, trust included.
    let role = TestRole::create(&options, "NOLOGIN").await;
    let cloner = PostgresCloner::new(PostgresOptions::with_url(role.url())).unwrap();
    let error = expect_err(
        cloner.server_version().await,
        "logging in as a NOLOGIN role",
    );
    let text = shown(&error);
    match &error {
        ClonerError::Connect {
            hint: Some(hint), ..
        } => {
            assert!(hint.contains("user and password"), "{text}")
        }
        _ => panic!("gave \"{text}\" instead of ClonerError::Connect with a hint"),
    }
    assert!(!text.contains(&role.password), "shows the password: {text}");
}
