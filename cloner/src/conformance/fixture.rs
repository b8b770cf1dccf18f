//! The template the kit builds, per SQL dialect, and how to read it back.
//!
//! Every dialect gets the same logical database: five tables (`customers`,
//! `products`, `orders`, `order_items`, `audit_log`), a unique and a plain
//! index, foreign keys (one with `ON DELETE CASCADE`), a check constraint,
//! a view over two tables (`customer_orders`), an `AFTER INSERT` trigger
//! writing to `audit_log`, rows with quotes and non-ASCII text, and an
//! auto-increment state ahead of `max(id)`: five customers are inserted and
//! the last two deleted, so the next customer must get id 6, not 4. A copy
//! that re-derives the counter from the rows (as a naive dump does) fails.

use crate::Migration;
use crate::quote::Dialect;

/// One query whose result is compared between a template and its clones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// What the query reads, for messages (`tables`, `rows of customers`).
    pub label: &'static str,
    /// A single statement without a trailing `;`, ordered so that its
    /// result is deterministic.
    pub sql: &'static str,
}

/// The kit's template for one dialect and the queries that describe it.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The dialect this fixture is written in.
    pub dialect: Dialect,
    /// The scripts that build the template, in order.
    pub migrations: Vec<Migration>,
    /// Catalog queries: tables, columns, indexes, views, triggers, foreign
    /// keys, routines, as far as the dialect exposes them. Their results
    /// contain no database name, so a clone's match its template's.
    pub catalog: Vec<Section>,
    /// One query per table returning every row ordered by primary key, plus
    /// the dialect's sequence state where it is plain data.
    pub rows: Vec<Section>,
    /// The number of rows each table holds in the template.
    pub row_counts: Vec<(&'static str, usize)>,
    /// The id the next customer inserted without an id must get.
    pub next_customer_id: i64,
    /// A query that draws the next value of a plain sequence, and the value
    /// it must return in a fresh copy of the template, where the dialect
    /// has sequences.
    pub next_sequence_value: Option<(&'static str, &'static str)>,
    /// A base name with a single quote, a space, non-ASCII letters and,
    /// where the DBMS allows it in a name, a double quote.
    pub odd_base: &'static str,
}

/// The tables of the fixture, in creation order.
pub const TABLES: [&str; 5] = [
    "customers",
    "products",
    "orders",
    "order_items",
    "audit_log",
];

/// The fixture for `dialect`.
pub fn fixture(dialect: Dialect) -> Fixture {
    let (migrations, catalog, extra_rows, next_sequence_value, odd_base) = match dialect {
        Dialect::Sqlite => (
            [
                (
                    "0001_schema.sql",
                    include_str!("fixtures/sqlite/0001_schema.sql"),
                ),
                (
                    "0002_data.sql",
                    include_str!("fixtures/sqlite/0002_data.sql"),
                ),
            ],
            SQLITE_CATALOG,
            &[Section {
                label: "sqlite_sequence",
                sql: "SELECT name, seq FROM sqlite_sequence ORDER BY name",
            }][..],
            None,
            "o'neil \"shop\" café",
        ),
        Dialect::Postgres => (
            [
                (
                    "0001_schema.sql",
                    include_str!("fixtures/postgres/0001_schema.sql"),
                ),
                (
                    "0002_data.sql",
                    include_str!("fixtures/postgres/0002_data.sql"),
                ),
            ],
            POSTGRES_CATALOG,
            &[Section {
                label: "sequences",
                sql: "SELECT sequencename, last_value, start_value, increment_by FROM pg_sequences \
                      WHERE schemaname = current_schema() ORDER BY sequencename",
            }][..],
            Some(("SELECT nextval('invoice_numbers')", "1020")),
            "o'neil \"shop\" café",
        ),
        Dialect::Mysql => (
            [
                (
                    "0001_schema.sql",
                    include_str!("fixtures/mysql/0001_schema.sql"),
                ),
                (
                    "0002_data.sql",
                    include_str!("fixtures/mysql/0002_data.sql"),
                ),
            ],
            MYSQL_CATALOG,
            &[][..],
            None,
            "o'neil \"shop\" café",
        ),
        Dialect::Oracle => (
            [
                (
                    "0001_schema.sql",
                    include_str!("fixtures/oracle/0001_schema.sql"),
                ),
                (
                    "0002_data.sql",
                    include_str!("fixtures/oracle/0002_data.sql"),
                ),
            ],
            ORACLE_CATALOG,
            &[][..],
            Some(("SELECT invoice_numbers.NEXTVAL FROM dual", "1020")),
            // Oracle's quoted identifiers may hold anything but a double quote.
            "o'neil shop café",
        ),
    };
    let mut rows = TABLE_ROWS.to_vec();
    rows.extend_from_slice(extra_rows);
    Fixture {
        dialect,
        migrations: migrations
            .iter()
            .map(|(name, sql)| Migration {
                name: (*name).to_owned(),
                sql: (*sql).to_owned(),
            })
            .collect(),
        catalog: catalog.to_vec(),
        rows,
        row_counts: vec![
            ("customers", 3),
            ("products", 4),
            ("orders", 3),
            ("order_items", 5),
            ("audit_log", 3),
        ],
        next_customer_id: 6,
        next_sequence_value,
        odd_base,
    }
}

const TABLE_ROWS: &[Section] = &[
    Section {
        label: "rows of customers",
        sql: "SELECT * FROM customers ORDER BY id",
    },
    Section {
        label: "rows of products",
        sql: "SELECT * FROM products ORDER BY id",
    },
    Section {
        label: "rows of orders",
        sql: "SELECT * FROM orders ORDER BY id",
    },
    Section {
        label: "rows of order_items",
        sql: "SELECT * FROM order_items ORDER BY order_id, product_id",
    },
    Section {
        label: "rows of audit_log",
        sql: "SELECT * FROM audit_log ORDER BY id",
    },
];

const SQLITE_CATALOG: &[Section] = &[
    Section {
        label: "schema objects (tables, indexes, views, triggers)",
        sql: "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    },
    Section {
        label: "columns",
        sql: "SELECT m.name, c.cid, c.name, c.type, c.\"notnull\", c.dflt_value, c.pk \
              FROM sqlite_master AS m, pragma_table_info(m.name) AS c \
              WHERE m.type IN ('table', 'view') ORDER BY m.name, c.cid",
    },
    Section {
        label: "indexes",
        sql: "SELECT m.name, i.name, i.\"unique\", i.origin, i.partial \
              FROM sqlite_master AS m, pragma_index_list(m.name) AS i \
              WHERE m.type = 'table' ORDER BY m.name, i.name",
    },
    Section {
        label: "foreign keys",
        sql: "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
              FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f \
              WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
    },
    Section {
        label: "header (user_version, application_id, encoding)",
        sql: "SELECT (SELECT user_version FROM pragma_user_version), \
              (SELECT application_id FROM pragma_application_id), (SELECT encoding FROM pragma_encoding)",
    },
];

const POSTGRES_CATALOG: &[Section] = &[
    Section {
        label: "tables and views",
        sql: "SELECT table_name, table_type FROM information_schema.tables \
              WHERE table_schema = current_schema() ORDER BY table_name",
    },
    Section {
        label: "columns",
        sql: "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default, \
              is_identity, identity_generation, collation_name \
              FROM information_schema.columns WHERE table_schema = current_schema() \
              ORDER BY table_name, ordinal_position",
    },
    Section {
        label: "indexes",
        sql: "SELECT tablename, indexname, indexdef FROM pg_indexes \
              WHERE schemaname = current_schema() ORDER BY tablename, indexname",
    },
    Section {
        label: "constraints (primary keys, unique, checks, foreign keys)",
        sql: "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint \
              WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2",
    },
    Section {
        label: "views",
        sql: "SELECT viewname, definition FROM pg_views WHERE schemaname = current_schema() ORDER BY viewname",
    },
    Section {
        label: "triggers",
        sql: "SELECT event_object_table, trigger_name, event_manipulation, action_timing, action_orientation, \
              action_statement FROM information_schema.triggers WHERE trigger_schema = current_schema() \
              ORDER BY event_object_table, trigger_name, event_manipulation",
    },
    Section {
        label: "functions",
        sql: "SELECT proname, pg_get_function_identity_arguments(oid), prosrc FROM pg_proc \
              WHERE pronamespace = current_schema()::regnamespace ORDER BY 1, 2",
    },
];

const MYSQL_CATALOG: &[Section] = &[
    Section {
        label: "database character set and collation",
        sql: "SELECT default_character_set_name, default_collation_name FROM information_schema.schemata \
              WHERE schema_name = DATABASE()",
    },
    Section {
        label: "tables and views",
        sql: "SELECT table_name, table_type, engine, table_collation FROM information_schema.tables \
              WHERE table_schema = DATABASE() ORDER BY table_name",
    },
    Section {
        label: "columns",
        sql: "SELECT table_name, ordinal_position, column_name, column_type, is_nullable, column_default, extra, \
              character_set_name, collation_name FROM information_schema.columns \
              WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position",
    },
    Section {
        label: "indexes",
        sql: "SELECT table_name, index_name, non_unique, seq_in_index, column_name FROM information_schema.statistics \
              WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index",
    },
    Section {
        label: "foreign keys",
        sql: "SELECT k.table_name, k.constraint_name, k.column_name, k.referenced_table_name, \
              k.referenced_column_name, r.update_rule, r.delete_rule \
              FROM information_schema.key_column_usage AS k JOIN information_schema.referential_constraints AS r \
              ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
              WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL \
              ORDER BY k.table_name, k.constraint_name, k.ordinal_position",
    },
    Section {
        label: "check constraints",
        sql: "SELECT constraint_name, check_clause FROM information_schema.check_constraints \
              WHERE constraint_schema = DATABASE() ORDER BY constraint_name",
    },
    Section {
        // A view's definition names its database; strip it so that clones
        // compare equal to their template.
        label: "views",
        sql: "SELECT table_name, REPLACE(view_definition, CONCAT('`', DATABASE(), '`.'), ''), check_option, \
              is_updatable, security_type FROM information_schema.views \
              WHERE table_schema = DATABASE() ORDER BY table_name",
    },
    Section {
        label: "triggers",
        sql: "SELECT trigger_name, event_manipulation, event_object_table, action_timing, action_orientation, \
              action_statement FROM information_schema.triggers WHERE trigger_schema = DATABASE() \
              ORDER BY trigger_name",
    },
    Section {
        label: "routines",
        sql: "SELECT routine_name, routine_type, routine_definition, sql_data_access, security_type \
              FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY routine_name",
    },
];

const ORACLE_CATALOG: &[Section] = &[
    Section {
        label: "tables",
        sql: "SELECT table_name FROM user_tables ORDER BY table_name",
    },
    Section {
        label: "columns",
        sql: "SELECT table_name, column_id, column_name, data_type, data_length, data_precision, data_scale, \
              nullable, char_used FROM user_tab_columns ORDER BY table_name, column_id",
    },
    Section {
        label: "identity columns",
        sql: "SELECT table_name, column_name, generation_type FROM user_tab_identity_columns \
              ORDER BY table_name, column_name",
    },
    Section {
        label: "indexes",
        sql: "SELECT i.table_name, i.index_name, i.uniqueness, c.column_position, c.column_name \
              FROM user_indexes i JOIN user_ind_columns c ON c.index_name = i.index_name \
              ORDER BY i.table_name, i.index_name, c.column_position",
    },
    Section {
        // NOT NULL constraints get system names (SYS_C…) that differ per
        // schema; every other constraint of the fixture is named.
        label: "constraints (primary keys, unique, checks, foreign keys)",
        sql: "SELECT table_name, constraint_name, constraint_type, r_constraint_name, delete_rule, status \
              FROM user_constraints WHERE constraint_name NOT LIKE 'SYS\\_%' ESCAPE '\\' \
              AND table_name NOT LIKE 'BIN$%' ORDER BY table_name, constraint_name",
    },
    Section {
        label: "views",
        sql: "SELECT view_name, text_vc FROM user_views ORDER BY view_name",
    },
    Section {
        label: "triggers",
        sql: "SELECT trigger_name, table_name, trigger_type, triggering_event, status FROM user_triggers \
              ORDER BY trigger_name",
    },
    Section {
        label: "sequences",
        sql: "SELECT sequence_name, increment_by, cache_size FROM user_sequences \
              WHERE sequence_name NOT LIKE 'ISEQ$$%' ORDER BY sequence_name",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const DIALECTS: [Dialect; 4] = [
        Dialect::Sqlite,
        Dialect::Postgres,
        Dialect::Mysql,
        Dialect::Oracle,
    ];

    #[test]
    fn every_dialect_builds_the_same_logical_database() {
        for dialect in DIALECTS {
            let f = fixture(dialect);
            assert_eq!(f.dialect, dialect);
            assert_eq!(f.migrations.len(), 2, "{dialect:?}");
            let sql = f
                .migrations
                .iter()
                .map(|m| m.sql.to_uppercase())
                .collect::<String>();
            for table in TABLES {
                assert!(
                    sql.contains(&format!("CREATE TABLE {}", table.to_uppercase())),
                    "{dialect:?} lacks {table}"
                );
                assert!(
                    f.row_counts.iter().any(|(t, _)| *t == table),
                    "{dialect:?} counts no rows of {table}"
                );
                assert!(
                    f.rows
                        .iter()
                        .any(|s| s.sql.contains(&format!("FROM {table} "))),
                    "{dialect:?} reads no {table}"
                );
            }
            for needle in [
                "CREATE UNIQUE INDEX",
                "CREATE INDEX",
                "CREATE VIEW CUSTOMER_ORDERS",
                "TRIGGER ORDERS_AUDIT",
                "FOREIGN KEY",
                "ON DELETE CASCADE",
                "CHECK (PRICE_CENTS >= 0)",
                "DELETE FROM CUSTOMERS",
            ] {
                assert!(sql.contains(needle), "{dialect:?} fixture lacks {needle}");
            }
            assert_eq!(
                sql.matches("INSERT INTO CUSTOMERS").count(),
                5,
                "{dialect:?}"
            );
            assert_eq!(f.next_customer_id, 6);
        }
    }

    #[test]
    fn sqlite_keeps_its_counter_in_sqlite_sequence() {
        let f = fixture(Dialect::Sqlite);
        assert!(f.migrations[0].sql.contains("AUTOINCREMENT"));
        assert!(f.rows.iter().any(|s| s.sql.contains("sqlite_sequence")));
    }

    #[test]
    fn queries_are_single_statements() {
        for dialect in DIALECTS {
            let f = fixture(dialect);
            for section in f.catalog.iter().chain(&f.rows) {
                assert!(
                    !section.sql.contains(';'),
                    "{dialect:?} {}: {}",
                    section.label,
                    section.sql
                );
                assert!(
                    section.sql.starts_with("SELECT "),
                    "{dialect:?} {}",
                    section.label
                );
            }
            for section in &f.rows {
                assert!(
                    section.sql.contains(" ORDER BY "),
                    "{dialect:?} {} must be ordered",
                    section.label
                );
            }
            assert!(f.catalog.len() >= 4, "{dialect:?} catalog is too thin");
        }
    }

    #[test]
    fn odd_bases_hold_the_awkward_characters() {
        for dialect in DIALECTS {
            let base = fixture(dialect).odd_base;
            assert!(
                base.contains('\'') && base.contains(' ') && !base.is_ascii(),
                "{dialect:?}: {base}"
            );
            assert_eq!(
                base.contains('"'),
                dialect != Dialect::Oracle,
                "{dialect:?}: {base}"
            );
        }
    }

    #[test]
    fn oracle_blocks_end_with_a_slash_line() {
        let f = fixture(Dialect::Oracle);
        for m in &f.migrations {
            let blocks = m.sql.lines().filter(|l| l.trim() == "/").count();
            let plsql = m.sql.lines().filter(|l| l.trim() == "BEGIN").count();
            assert_eq!(
                blocks, plsql,
                "{}: every PL/SQL block ends with '/'",
                m.name
            );
        }
    }
}
