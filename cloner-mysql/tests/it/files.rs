//! The file route ([`CopyMethod::Files`]): which tables it takes and which
//! it leaves to rows, tables changed by instant `ALTER TABLE`s, the
//! template's export lock, a clone left half-moved by a killed run, and a
//! data directory that is not the server's.

use std::time::{Duration, Instant};

use cloner::Cloner as _;
use cloner::conformance::Section;
use cloner_mysql::{CopyMethod, MysqlOptions};

use crate::support::{
    MysqlProbe, Names, assert_same, chain, cloner_copying, cloner_with, execute, migrations, query,
    scalar, server_url, snapshot, template, with_cleanup,
};

/// A template with one table of every kind the route treats apart.
const KINDS: &str = "
CREATE TABLE people (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    age INT NULL,
    KEY people_name_ix (name)
) ENGINE = InnoDB;
INSERT INTO people (name, age) VALUES ('ada', 36), ('bob', 41), ('cy', 29);
-- Instant changes leave metadata in the table's file that a table
-- created fresh from SHOW CREATE TABLE does not have.
ALTER TABLE people ADD COLUMN email VARCHAR(100) NOT NULL DEFAULT 'none', ALGORITHM = INSTANT;
ALTER TABLE people DROP COLUMN age, ALGORITHM = INSTANT;
ALTER TABLE people ADD COLUMN score INT NOT NULL DEFAULT 7 FIRST, ALGORITHM = INSTANT;
INSERT INTO people (name, email) VALUES ('dee', 'dee@example.com');
DELETE FROM people WHERE name = 'bob';
CREATE TABLE `odd-name table` (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL) ENGINE = InnoDB;
INSERT INTO `odd-name table` VALUES (1, 'odd');
CREATE TABLE memberships (
    person_id INT NOT NULL,
    since DATE NOT NULL,
    PRIMARY KEY (person_id, since),
    CONSTRAINT memberships_person_fk FOREIGN KEY (person_id) REFERENCES people (id) ON DELETE CASCADE
) ENGINE = InnoDB;
INSERT INTO memberships VALUES (1, '2024-01-01'), (3, '2024-02-01');
CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, body TEXT NOT NULL, FULLTEXT KEY docs_body (body))
    ENGINE = InnoDB;
INSERT INTO docs VALUES (1, 'hello parallel world'), (2, 'clones of databases');
CREATE TABLE visits (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at)) ENGINE = InnoDB
    PARTITION BY RANGE (YEAR(at)) (PARTITION p2023 VALUES LESS THAN (2024),
                                   PARTITION pmax VALUES LESS THAN MAXVALUE);
INSERT INTO visits VALUES (1, '2023-05-01'), (2, '2025-01-01');
CREATE TABLE settings (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT NOT NULL) ENGINE = Aria;
INSERT INTO settings VALUES ('retries', 3);
CREATE TABLE `café` (id INT NOT NULL PRIMARY KEY) ENGINE = InnoDB;
INSERT INTO `café` VALUES (5);
";

/// The rows of every table of [`KINDS`].
const ROWS: &[Section] = &[
    Section {
        label: "rows of people",
        sql: "SELECT * FROM people ORDER BY id",
    },
    Section {
        label: "rows of odd-name table",
        sql: "SELECT * FROM `odd-name table` ORDER BY id",
    },
    Section {
        label: "rows of memberships",
        sql: "SELECT * FROM memberships ORDER BY 1, 2",
    },
    Section {
        label: "rows of docs",
        sql: "SELECT * FROM docs ORDER BY id",
    },
    Section {
        label: "rows of visits",
        sql: "SELECT * FROM visits ORDER BY id",
    },
    Section {
        label: "rows of settings",
        sql: "SELECT * FROM settings ORDER BY k",
    },
    Section {
        label: "rows of café",
        sql: "SELECT * FROM `café` ORDER BY id",
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn innodb_tables_go_by_files_and_the_others_by_rows() {
    let cloner = cloner_copying(CopyMethod::Files).await;
    let probe = MysqlProbe::new();
    let names = Names::new("files_kinds");
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        template(&cloner, &tpl, &migrations(&[("0001_kinds.sql", KINDS)])).await;
        let mut sections = cloner::conformance::fixture(cloner::quote::Dialect::Mysql).catalog;
        sections.extend_from_slice(ROWS);
        let expected = snapshot(&probe, &tpl, &sections).await;
        let clones = [names.worker(1), names.worker(2)];
        for (name, made) in clones.iter().zip(
            futures_util::future::join_all(clones.iter().map(|c| cloner.clone_database(&tpl, c)))
                .await,
        ) {
            if let Err(e) = made {
                panic!("cloning into {name:?} failed: {}", chain(&e));
            }
        }
        // people, `odd-name table`, memberships by files; docs (FULLTEXT),
        // visits (partitioned), settings (Aria), café (a name whose file
        // name is not derived) by rows; in each of 2 clones.
        let report = cloner.copy_report();
        assert_eq!(
            (report.tables_by_files, report.tables_by_rows),
            (6, 8),
            "notes: {:?}",
            report.notes
        );
        for clone in &clones {
            assert_same(
                &expected,
                &snapshot(&probe, clone, &sections).await,
                "right after cloning",
            );
            // The imported tables are whole and take new rows, with the
            // counter after the template's, and their constraints hold.
            let checked = query(
                &probe,
                clone,
                "CHECK TABLE people, `odd-name table`, memberships",
            )
            .await;
            for row in &checked {
                assert_eq!(
                    row.last().cloned().flatten().as_deref(),
                    Some("OK"),
                    "{row:?}"
                );
            }
            execute(&probe, clone, "INSERT INTO people (name) VALUES ('eve')").await;
            assert_eq!(
                scalar(
                    &probe,
                    clone,
                    "SELECT CONCAT(id, ' ', score, ' ', email) FROM people WHERE name = 'eve'"
                )
                .await
                .as_deref(),
                Some("5 7 none")
            );
            let orphan = probe_error(
                &probe,
                clone,
                "INSERT INTO memberships VALUES (99, '2024-03-01')",
            )
            .await;
            assert!(orphan.contains("foreign key constraint"), "{orphan}");
            execute(&probe, clone, "DELETE FROM people WHERE id = 1").await;
            assert_eq!(
                scalar(&probe, clone, "SELECT COUNT(*) FROM memberships")
                    .await
                    .as_deref(),
                Some("1"),
                "the cascade did not delete the membership"
            );
            assert_eq!(
                scalar(
                    &probe,
                    clone,
                    "SELECT id FROM docs WHERE MATCH (body) AGAINST ('clones')"
                )
                .await
                .as_deref(),
                Some("2")
            );
        }
        // The template is as it was, and writable again.
        assert_same(
            &expected,
            &snapshot(&probe, &tpl, &sections).await,
            "the template after its clones were used",
        );
    })
    .await;
}

/// Runs `sql` on `database` and returns the server's error message.
async fn probe_error(probe: &MysqlProbe, database: &str, sql: &str) -> String {
    use cloner::conformance::Probe as _;
    match probe.execute(database, sql).await {
        Ok(()) => panic!("{sql:?} succeeded on {database:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_is_unlocked_once_its_clones_are_made() {
    let cloner = cloner_copying(CopyMethod::Files).await;
    let probe = MysqlProbe::new();
    let names = Names::new("files_lock");
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        let schema = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY) ENGINE = InnoDB; \
                      INSERT INTO t VALUES (1);";
        template(&cloner, &tpl, &migrations(&[("0001.sql", schema)])).await;
        cloner
            .clone_database(&tpl, &names.worker(1))
            .await
            .unwrap_or_else(|e| panic!("{}", chain(&e)));
        assert_eq!(cloner.copy_report().tables_by_files, 1);
        // The export ends in the background as the last clone finishes:
        // a write to the template waits for it, at most a few seconds.
        let started = Instant::now();
        execute(
            &probe,
            &tpl,
            "SET SESSION lock_wait_timeout = 10; INSERT INTO t VALUES (2)",
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(10));
        // A later clone exports again and sees the new row.
        cloner
            .clone_database(&tpl, &names.worker(2))
            .await
            .unwrap_or_else(|e| panic!("{}", chain(&e)));
        assert_eq!(
            scalar(&probe, &names.worker(2), "SELECT COUNT(*) FROM t")
                .await
                .as_deref(),
            Some("2")
        );
        assert_eq!(cloner.copy_report().tables_by_files, 2);
    })
    .await;
}

/// A clone as a run killed in the middle of moving a table leaves it: one
/// table created, its tablespace discarded, its files maybe copied, not
/// imported; related by foreign keys to tables that are whole.
#[tokio::test(flavor = "multi_thread")]
async fn a_clone_left_half_moved_by_a_killed_run_is_dropped_whole() {
    let cloner = cloner_copying(CopyMethod::Files).await;
    let probe = MysqlProbe::new();
    let names = Names::new("files_killed");
    with_cleanup(&cloner, &names, async {
        for (n, discarded) in [(1, "child"), (2, "parent")] {
            let clone = names.worker(n);
            execute(&probe, "mysql", &format!("CREATE DATABASE `{clone}`")).await;
            execute(
                &probe,
                &clone,
                &format!(
                    "SET SESSION foreign_key_checks = 0; \
                     CREATE TABLE parent (id INT NOT NULL PRIMARY KEY) ENGINE = InnoDB; \
                     CREATE TABLE child (id INT NOT NULL PRIMARY KEY, parent_id INT NOT NULL, \
                         FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE = InnoDB; \
                     CREATE TABLE other (id INT NOT NULL PRIMARY KEY, child_id INT NULL, \
                         FOREIGN KEY (child_id) REFERENCES child (id)) ENGINE = InnoDB; \
                     ALTER TABLE {discarded} DISCARD TABLESPACE"
                ),
            )
            .await;
            cloner.drop_database(&clone).await.unwrap_or_else(|e| {
                panic!("dropping {clone:?} ({discarded} discarded): {}", chain(&e))
            });
            assert!(
                cloner
                    .list_databases(&clone)
                    .await
                    .expect("list")
                    .is_empty(),
                "{clone:?} is still there"
            );
        }
    })
    .await;
}

/// One table of 2,000 rows: a file big enough for `auto` to copy it.
const BIG: &str = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v VARCHAR(300)) ENGINE = InnoDB; \
                   INSERT INTO t SELECT seq, REPEAT('x', 300) FROM seq_1_to_2000;";

#[tokio::test(flavor = "multi_thread")]
async fn a_data_directory_that_is_not_the_servers_fails_files_and_falls_back_under_auto() {
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let with = |copy| MysqlOptions {
        copy,
        datadir: Some(elsewhere.path().to_owned()),
        ..MysqlOptions::with_url(server_url())
    };
    let files = cloner_with(with(CopyMethod::Files)).await;
    let auto = cloner_with(with(CopyMethod::Auto)).await;
    let probe = MysqlProbe::new();
    let names = Names::new("files_elsewhere");
    with_cleanup(&files, &names, async {
        let tpl = names.template();
        template(&files, &tpl, &migrations(&[("0001.sql", BIG)])).await;

        let refused = files
            .clone_database(&tpl, &names.worker(1))
            .await
            .expect_err("a clone by files from a directory that is not the server's");
        let message = chain(&refused);
        assert!(
            message.contains("datadir")
                && message.contains(&elsewhere.path().display().to_string()),
            "{message}"
        );
        assert_eq!(
            files.list_databases(&names.prefix()).await.expect("list"),
            vec![tpl.clone()],
            "the failed clone was left behind"
        );

        auto.clone_database(&tpl, &names.worker(2))
            .await
            .unwrap_or_else(|e| panic!("{}", chain(&e)));
        assert_eq!(
            scalar(&probe, &names.worker(2), "SELECT COUNT(*) FROM t")
                .await
                .as_deref(),
            Some("2000")
        );
        let report = auto.copy_report();
        assert_eq!((report.tables_by_files, report.tables_by_rows), (0, 1));
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("file route not taken")),
            "{:?}",
            report.notes
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_copies_big_tables_as_files_and_small_ones_as_rows() {
    let cloner = cloner_copying(CopyMethod::Auto).await;
    let probe = MysqlProbe::new();
    let names = Names::new("files_auto");
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        let schema = "
            CREATE TABLE big (id INT NOT NULL PRIMARY KEY, v VARCHAR(300) NOT NULL) ENGINE = InnoDB;
            INSERT INTO big SELECT seq, REPEAT(CHAR(65 + seq % 26), 300) FROM seq_1_to_3000;
            CREATE TABLE small (id INT NOT NULL PRIMARY KEY, big_id INT NOT NULL,
                FOREIGN KEY (big_id) REFERENCES big (id)) ENGINE = InnoDB;
            INSERT INTO small VALUES (1, 10), (2, 20);";
        template(&cloner, &tpl, &migrations(&[("0001.sql", schema)])).await;
        let sections = [
            Section {
                label: "rows of big",
                sql: "SELECT COUNT(*), SUM(id), MD5(GROUP_CONCAT(v ORDER BY id)) FROM big",
            },
            Section {
                label: "rows of small",
                sql: "SELECT * FROM small ORDER BY id",
            },
        ];
        let expected = snapshot(&probe, &tpl, &sections).await;
        let clones = [names.worker(1), names.worker(2), names.worker(3)];
        for made in
            futures_util::future::join_all(clones.iter().map(|c| cloner.clone_database(&tpl, c)))
                .await
        {
            made.unwrap_or_else(|e| panic!("{}", chain(&e)));
        }
        for clone in &clones {
            assert_same(
                &expected,
                &snapshot(&probe, clone, &sections).await,
                "after cloning",
            );
        }
        let report = cloner.copy_report();
        assert_eq!(
            (report.tables_by_files, report.tables_by_rows),
            (3, 3),
            "notes: {:?}",
            report.notes
        );
        assert_eq!(
            cloner.clone_method().as_deref(),
            Some("3 tables by table files, 3 by rows")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_without_process_and_reload_copies_rows_under_auto_and_fails_files_naming_it() {
    use futures_util::FutureExt as _;
    let root = cloner_copying(CopyMethod::Auto).await;
    let probe = MysqlProbe::new();
    let names = Names::new("files_priv");
    let user = format!("pc_nofiles_{}", names.run());
    let password = format!("pw_{}", names.run());
    let opts = mysql_async::Opts::from_url(&server_url()).expect("the test server's URL");
    let pattern = format!("files\\_priv\\_pc{}\\_%", names.run());
    // Everything a clone by rows needs, on this test's names only; not the
    // global PROCESS (to find the files) and RELOAD (to export them).
    execute(
        &probe,
        "mysql",
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
    )
    .await;
    execute(
        &probe,
        "mysql",
        &format!("GRANT ALL ON `{pattern}`.* TO '{user}'@'%'"),
    )
    .await;
    let limited = |copy| {
        cloner_with(MysqlOptions {
            copy,
            ..MysqlOptions::with_url(format!(
                "mysql://{user}:{password}@{}:{}",
                opts.ip_or_hostname(),
                opts.tcp_port()
            ))
        })
    };
    let (auto, files) = (
        limited(CopyMethod::Auto).await,
        limited(CopyMethod::Files).await,
    );
    let outcome = std::panic::AssertUnwindSafe(with_cleanup(&root, &names, async {
        let tpl = names.template();
        template(&root, &tpl, &migrations(&[("0001.sql", BIG)])).await;

        auto.clone_database(&tpl, &names.worker(1))
            .await
            .unwrap_or_else(|e| panic!("{}", chain(&e)));
        let report = auto.copy_report();
        assert_eq!((report.tables_by_files, report.tables_by_rows), (0, 1));
        assert!(
            report.notes.iter().any(|n| n.contains("PROCESS")),
            "{:?}",
            report.notes
        );

        match files.clone_database(&tpl, &names.worker(2)).await {
            Err(e @ cloner::ClonerError::Privilege { .. }) => assert!(
                matches!(&e, cloner::ClonerError::Privilege { privilege, .. } if privilege == "PROCESS"),
                "{}",
                chain(&e)
            ),
            other => panic!("expected a missing privilege, got {other:?}"),
        }
        let mut left = root.list_databases(&names.prefix()).await.expect("list");
        left.sort();
        assert_eq!(left, vec![tpl.clone(), names.worker(1)]);
    }))
    .catch_unwind()
    .await;
    execute(&probe, "mysql", &format!("DROP USER '{user}'@'%'")).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
