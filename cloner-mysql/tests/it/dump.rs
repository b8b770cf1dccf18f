//! The dump file: `mysqldump`-compatible SQL that the `mariadb`/`mysql`
//! client loads into a copy of the template, and that works as a migration.

use std::path::Path;
use std::process::{Command, Stdio};

use cloner::{Cloner as _, Connection, Migration};

use crate::objects::{check_objects, sections, template_migrations};
use crate::support::{
    MysqlProbe, Names, assert_same, chain, cloner, is_mariadb, snapshot, template, with_cleanup,
};

/// Loads the SQL file at `path` into the database of `connection` with
/// the `mariadb` (else `mysql`) command-line client, as a user would,
/// running `init` first in the client's session.
pub(crate) fn load_with_client(connection: &Connection, path: &Path, init: Option<&str>) {
    let client = ["mariadb", "mysql"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("the `mariadb` or `mysql` client is needed (apt-get install mariadb-client)");
    let mut command = Command::new(client);
    command
        .arg("--protocol=TCP")
        .arg(format!(
            "--host={}",
            connection.host.as_deref().unwrap_or("127.0.0.1")
        ))
        .arg(format!("--port={}", connection.port.unwrap_or(3306)))
        .arg(format!(
            "--user={}",
            connection.user.as_deref().unwrap_or("root")
        ))
        .env("MYSQL_PWD", connection.password.as_deref().unwrap_or(""))
        .stdin(std::fs::File::open(path).expect("the dump file"));
    if let Some(init) = init {
        command.arg(format!("--init-command={init}"));
    }
    let output = command
        .arg(&connection.name)
        .output()
        .unwrap_or_else(|e| panic!("could not run {client}: {e}"));
    assert!(
        output.status.success(),
        "{client} could not load {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dump_loads_with_the_client_and_as_a_migration() {
    let cloner = cloner().await;
    let probe = MysqlProbe::new();
    let names = Names::new("dump");
    let mariadb = is_mariadb(&cloner).await;
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        template(&cloner, &tpl, &template_migrations(&cloner).await).await;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("template.sql");
        if let Err(e) = cloner.dump_template(&tpl, &path).await {
            panic!("dumping {tpl:?} failed: {}", chain(&e));
        }
        let bytes = std::fs::read(&path).expect("the dump file");
        let text = String::from_utf8(bytes).expect("the fixture's dump is UTF-8");
        for needle in [
            "/*!40101 SET NAMES utf8mb4 */;",
            "/*!40103 SET TIME_ZONE='+00:00' */;",
            "DROP TABLE IF EXISTS `authors`;",
            "CREATE TABLE `authors`",
            "INSERT INTO `authors` (`id`, `name`) VALUES (1,'Ursula'),(2,'Terry');",
            "DELIMITER ;;",
            "CREATE PROCEDURE `rename_author`",
            "CREATE TRIGGER books_log",
            "CREATE EVENT `tick`",
            "AUTO_INCREMENT=4",
        ] {
            assert!(text.contains(needle), "the dump lacks {needle:?}:\n{text}");
        }
        assert!(
            !text.contains("DEFINER="),
            "the dump names a definer:\n{text}"
        );
        let expected = snapshot(&probe, &tpl, &sections()).await;

        // Loaded by the command-line client into an empty database.
        let loaded = names.worker(1);
        template(&cloner, &loaded, &[]).await;
        load_with_client(&cloner.connection(&loaded), &path, None);
        assert_same(
            &expected,
            &snapshot(&probe, &loaded, &sections()).await,
            "the dump loaded with the client",
        );
        check_objects(&probe, &loaded, mariadb).await;

        // Used as a migration (it splits at its DELIMITER directives).
        let migrated = names.worker(2);
        template(
            &cloner,
            &migrated,
            &[Migration {
                name: "template.sql".to_owned(),
                sql: text,
            }],
        )
        .await;
        assert_same(
            &expected,
            &snapshot(&probe, &migrated, &sections()).await,
            "the dump applied as a migration",
        );
        check_objects(&probe, &migrated, mariadb).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dumping_a_missing_template_fails_and_writes_nothing() {
    let cloner = cloner().await;
    let names = Names::new("dump_missing");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("missing.sql");
    match cloner.dump_template(&names.template(), &path).await {
        Err(cloner::ClonerError::Missing { name }) => assert_eq!(name, names.template()),
        other => panic!("dumping a missing template gave {other:?}"),
    }
    assert!(
        !path.exists(),
        "a dump file was written for a missing template"
    );
    let unwritable = dir.path().join("no/such/dir/x.sql");
    let tpl = names.template();
    with_cleanup(&cloner, &names, async {
        template(&cloner, &tpl, &[]).await;
        match cloner.dump_template(&tpl, &unwritable).await {
            Err(cloner::ClonerError::Io { op, path, .. }) => {
                assert_eq!(
                    (op, path.as_path()),
                    ("write the dump", unwritable.as_path())
                )
            }
            other => panic!("dumping into a missing directory gave {other:?}"),
        }
    })
    .await;
}
