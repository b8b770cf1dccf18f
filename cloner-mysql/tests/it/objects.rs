//! Every kind of object a MySQL template can hold arrives in every clone,
//! and works there: procedures and functions (one with a multi-statement
//! body written with `DELIMITER`), an event, a trigger, a view over two
//! tables and a view over that view, foreign keys with `ON DELETE
//! CASCADE`, a table with its own character set and collation, virtual
//! and stored generated columns, binary and `BIT` values, AUTO_INCREMENT
//! counters ahead of the rows, and (MariaDB) a sequence.

use cloner::Cloner as _;
use cloner::conformance::Probe as _;
use cloner::conformance::{Section, fixture};
use cloner::quote::Dialect;
use cloner_mysql::{CopyMethod, MysqlCloner};

use crate::support::{
    MysqlProbe, Names, assert_same, chain, cloner_copying, execute, is_mariadb, migrations, query,
    scalar, snapshot, template, with_cleanup,
};

/// How the clones of a test are made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `INSERT … SELECT` on the server.
    Rows,
    /// Tablespace files where possible (a failure otherwise).
    Files,
    /// Rows streamed through the client.
    Streamed,
}

/// The template's tables and objects.
pub(crate) const SCHEMA: &str = "
CREATE TABLE authors (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    name_upper VARCHAR(100) GENERATED ALWAYS AS (UPPER(name)) VIRTUAL,
    name_len INT GENERATED ALWAYS AS (CHAR_LENGTH(name)) STORED,
    KEY authors_name_len_ix (name_len)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE TABLE books (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    author_id INT NOT NULL,
    title VARCHAR(200) NOT NULL,
    published_at TIMESTAMP NULL,
    CONSTRAINT books_author_fk FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
CREATE TABLE legacy_notes (
    id INT NOT NULL PRIMARY KEY,
    note VARCHAR(100) NOT NULL,
    raw VARBINARY(16) NULL,
    flags BIT(5) NULL,
    ratio DOUBLE NULL,
    amount DECIMAL(12, 4) NULL
) ENGINE = InnoDB DEFAULT CHARSET = latin1 COLLATE = latin1_german2_ci;
CREATE TABLE book_log (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    book_id INT NULL,
    what VARCHAR(40) NOT NULL
) ENGINE = InnoDB;
CREATE TABLE ticks (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, at DATETIME NOT NULL) ENGINE = InnoDB;
CREATE VIEW author_books AS
    SELECT a.name AS author, b.title AS title FROM authors AS a JOIN books AS b ON b.author_id = a.id;
CREATE VIEW author_book_counts AS
    SELECT author, COUNT(*) AS books FROM author_books GROUP BY author;
CREATE TRIGGER books_log AFTER INSERT ON books FOR EACH ROW
    INSERT INTO book_log (book_id, what) VALUES (NEW.id, 'insert');
CREATE PROCEDURE add_book(IN p_author INT, IN p_title VARCHAR(200))
    INSERT INTO books (author_id, title) VALUES (p_author, p_title);
CREATE FUNCTION book_count(p_author INT) RETURNS INT READS SQL DATA
    RETURN (SELECT COUNT(*) FROM books WHERE author_id = p_author);
CREATE EVENT tick ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE
    DO INSERT INTO ticks (at) VALUES (NOW());
";

/// A routine whose body has several statements: only loadable with the
/// client's `DELIMITER` directive.
pub(crate) const DELIMITED: &str = "
-- A multi-statement body needs the client's DELIMITER directive.
DELIMITER ;;
CREATE PROCEDURE rename_author(IN p_id INT, IN p_name VARCHAR(100))
BEGIN
    UPDATE authors SET name = p_name WHERE id = p_id;
    INSERT INTO book_log (book_id, what) VALUES (NULL, CONCAT('rename; ', p_id));
END ;;
DELIMITER ;
";

/// The rows, with ids handed out and deleted, so counters are ahead.
pub(crate) const DATA: &str = "
INSERT INTO authors (name) VALUES ('Ursula'), ('Terry'), ('Gone');
DELETE FROM authors WHERE name = 'Gone';
INSERT INTO books (author_id, title, published_at) VALUES
    (1, 'Earthsea', '1990-11-01 12:00:00'), (2, 'Mort', '1987-11-12 08:30:00'), (2, 'Gone', NULL);
DELETE FROM books WHERE title = 'Gone';
INSERT INTO legacy_notes VALUES
    (1, 'Grüße, Straße', 0x00FF10, b'10101', 0.1, 12345678.1234),
    (2, 'it''s \\\\ \"quoted\"', '', b'0', 1e300, -0.0001);
";

/// MariaDB only: a sequence, drawn from twice.
pub(crate) const SEQUENCE: &str = "
CREATE SEQUENCE invoice_numbers START WITH 1000 NOCACHE;
SELECT NEXTVAL(invoice_numbers);
SELECT NEXTVAL(invoice_numbers);
";

/// The template's migrations on this server.
pub(crate) async fn template_migrations(cloner: &MysqlCloner) -> Vec<cloner::Migration> {
    let mut files = vec![
        ("0001_schema.sql", SCHEMA),
        ("0002_delimited.sql", DELIMITED),
        ("0003_data.sql", DATA),
    ];
    if is_mariadb(cloner).await {
        files.push(("0004_sequence.sql", SEQUENCE));
    }
    migrations(&files)
}

/// Catalog and rows to compare between the template and its copies: the
/// kit's catalog queries, and what they leave out.
pub(crate) fn sections() -> Vec<Section> {
    let mut sections = fixture(Dialect::Mysql).catalog;
    sections.extend_from_slice(&[
        Section {
            label: "routines with their modes",
            sql: "SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC, \
                  SQL_DATA_ACCESS, SECURITY_TYPE, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION \
                  FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME",
        },
        Section {
            label: "routine parameters",
            sql: "SELECT SPECIFIC_NAME, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER \
                  FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE() ORDER BY 1, 2",
        },
        Section {
            label: "triggers with their modes",
            sql: "SELECT TRIGGER_NAME, ACTION_ORDER, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION \
                  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME",
        },
        Section {
            label: "events",
            sql: "SELECT EVENT_NAME, EVENT_DEFINITION, EVENT_TYPE, INTERVAL_VALUE, INTERVAL_FIELD, STARTS, \
                  ENDS, STATUS, ON_COMPLETION, TIME_ZONE, SQL_MODE FROM information_schema.EVENTS \
                  WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME",
        },
        Section {
            label: "generated columns",
            sql: "SELECT TABLE_NAME, COLUMN_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS \
                  WHERE TABLE_SCHEMA = DATABASE() AND EXTRA LIKE '%GENERATED%' ORDER BY 1, 2",
        },
        Section {
            label: "rows of authors",
            sql: "SELECT * FROM authors ORDER BY id",
        },
        Section {
            label: "rows of books (TIMESTAMPs as UTC seconds too)",
            sql: "SELECT id, author_id, title, published_at, UNIX_TIMESTAMP(published_at) FROM books ORDER BY id",
        },
        Section {
            label: "rows of legacy_notes",
            sql: "SELECT id, note, HEX(note), HEX(raw), flags + 0, ratio, amount FROM legacy_notes ORDER BY id",
        },
        Section {
            label: "rows of book_log",
            sql: "SELECT * FROM book_log ORDER BY id",
        },
        Section {
            label: "views' rows",
            sql: "SELECT author, books FROM author_book_counts ORDER BY author",
        },
    ]);
    sections
}

/// Uses every object of a copy of the template, `database`, and checks
/// that each works there.
pub(crate) async fn check_objects(probe: &MysqlProbe, database: &str, mariadb: bool) {
    let db = database;
    // AUTO_INCREMENT continues after the deleted rows (ids 3), through a
    // procedure, and the trigger fires.
    execute(probe, db, "CALL add_book(1, 'Tehanu')").await;
    assert_eq!(
        scalar(probe, db, "SELECT id FROM books WHERE title = 'Tehanu'")
            .await
            .as_deref(),
        Some("4"),
        "{db:?}: books' AUTO_INCREMENT did not continue from the template's counter"
    );
    assert_eq!(
        query(
            probe,
            db,
            "SELECT book_id, what FROM book_log WHERE id > 3 ORDER BY id"
        )
        .await,
        vec![vec![Some("4".to_owned()), Some("insert".to_owned())]],
        "{db:?}: the trigger books_log"
    );
    assert_eq!(
        scalar(probe, db, "SELECT book_count(1)").await.as_deref(),
        Some("2"),
        "{db:?}: the function book_count"
    );
    assert_eq!(
        query(
            probe,
            db,
            "SELECT author, books FROM author_book_counts ORDER BY author"
        )
        .await,
        vec![
            vec![Some("Terry".to_owned()), Some("1".to_owned())],
            vec![Some("Ursula".to_owned()), Some("2".to_owned())],
        ],
        "{db:?}: the view over the view over two tables"
    );
    // Generated columns compute, and the counter of authors continues.
    execute(probe, db, "INSERT INTO authors (name) VALUES ('Neil')").await;
    assert_eq!(
        query(
            probe,
            db,
            "SELECT id, name_upper, name_len FROM authors WHERE name = 'Neil'"
        )
        .await,
        vec![vec![
            Some("4".to_owned()),
            Some("NEIL".to_owned()),
            Some("4".to_owned())
        ]],
        "{db:?}: generated columns or the authors' counter"
    );
    // The multi-statement procedure.
    execute(probe, db, "CALL rename_author(1, 'Le Guin')").await;
    assert_eq!(
        scalar(
            probe,
            db,
            "SELECT what FROM book_log ORDER BY id DESC LIMIT 1"
        )
        .await
        .as_deref(),
        Some("rename; 1"),
        "{db:?}: the procedure rename_author"
    );
    // Foreign keys: enforced, and cascading.
    assert!(
        probe
            .execute(
                db,
                "INSERT INTO books (author_id, title) VALUES (99, 'Orphan')"
            )
            .await
            .is_err(),
        "{db:?}: a book of a missing author was accepted"
    );
    execute(probe, db, "DELETE FROM authors WHERE id = 2").await;
    assert_eq!(
        scalar(probe, db, "SELECT COUNT(*) FROM books WHERE author_id = 2")
            .await
            .as_deref(),
        Some("0"),
        "{db:?}: deleting an author did not cascade to the books"
    );
    // The table's own character set and collation, and its text.
    assert_eq!(
        query(
            probe,
            db,
            "SELECT CCSA.CHARACTER_SET_NAME, T.TABLE_COLLATION FROM information_schema.TABLES AS T \
             JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA \
             ON CCSA.COLLATION_NAME = T.TABLE_COLLATION \
             WHERE T.TABLE_SCHEMA = DATABASE() AND T.TABLE_NAME = 'legacy_notes'"
        )
        .await,
        vec![vec![
            Some("latin1".to_owned()),
            Some("latin1_german2_ci".to_owned())
        ]],
        "{db:?}: legacy_notes' character set"
    );
    assert_eq!(
        scalar(probe, db, "SELECT note FROM legacy_notes WHERE id = 1")
            .await
            .as_deref(),
        Some("Grüße, Straße"),
    );
    // German phone-book collation: ü compares as ue, ß as ss.
    assert_eq!(
        scalar(
            probe,
            db,
            "SELECT COUNT(*) FROM legacy_notes WHERE note = 'Gruesse, Strasse'"
        )
        .await
        .as_deref(),
        Some("1"),
        "{db:?}: latin1_german2_ci does not compare ü as ue and ß as ss"
    );
    // The event, still disabled.
    assert_eq!(
        query(
            probe,
            db,
            "SELECT EVENT_NAME, STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
        )
        .await,
        vec![vec![Some("tick".to_owned()), Some("DISABLED".to_owned())]],
        "{db:?}: the event tick"
    );
    if mariadb {
        assert_eq!(
            scalar(probe, db, "SELECT NEXTVAL(invoice_numbers)")
                .await
                .as_deref(),
            Some("1002"),
            "{db:?}: the sequence did not continue from the template's"
        );
    }
}

/// Makes the objects' template and `clones` copies of it with `clone`,
/// all at once, and checks each against the template and by use.
async fn objects_in_every_clone(base: &str, route: Route) {
    let cloner = cloner_copying(match route {
        Route::Files => CopyMethod::Files,
        Route::Rows | Route::Streamed => CopyMethod::Rows,
    })
    .await;
    let probe = MysqlProbe::new();
    let names = Names::new(base);
    let mariadb = is_mariadb(&cloner).await;
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        template(&cloner, &tpl, &template_migrations(&cloner).await).await;
        let sections = sections();
        let expected = snapshot(&probe, &tpl, &sections).await;
        let clones: Vec<String> = (1..=3).map(|n| names.worker(n)).collect();
        let made = futures_util::future::join_all(clones.iter().map(|name| {
            let (cloner, tpl) = (&cloner, &tpl);
            async move {
                if route == Route::Streamed {
                    cloner.clone_to(tpl, cloner, name).await
                } else {
                    cloner.clone_database(tpl, name).await
                }
            }
        }))
        .await;
        for (name, result) in clones.iter().zip(made) {
            if let Err(e) = result {
                panic!("cloning {tpl:?} into {name:?} failed: {}", chain(&e));
            }
        }
        for clone in &clones {
            assert_same(
                &expected,
                &snapshot(&probe, clone, &sections).await,
                "right after cloning",
            );
        }
        for clone in &clones {
            check_objects(&probe, clone, mariadb).await;
        }
        assert_same(
            &expected,
            &snapshot(&probe, &tpl, &sections).await,
            "the template after its clones were used",
        );
        // The five tables of each of the 3 clones went the way asked; a
        // MariaDB sequence always goes by rows.
        let report = cloner.copy_report();
        let sequences = if mariadb { 3 } else { 0 };
        let (files, rows) = match route {
            Route::Files => (15, sequences),
            Route::Rows | Route::Streamed => (0, 15 + sequences),
        };
        assert_eq!(
            (report.tables_by_files, report.tables_by_rows),
            (files, rows),
            "tables by files and by rows; notes: {:?}",
            report.notes
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_object_works_in_every_server_side_clone() {
    objects_in_every_clone("objects_srv", Route::Rows).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_object_works_in_every_clone_made_from_files() {
    objects_in_every_clone("objects_fil", Route::Files).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_object_works_in_every_streamed_clone() {
    objects_in_every_clone("objects_str", Route::Streamed).await;
}
