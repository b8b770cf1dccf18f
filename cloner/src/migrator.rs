//! The history tables of migration tools (diesel, sqlx, refinery), so that
//! a template brought up by paraclone looks to the tool as if the tool had
//! migrated it itself.
//!
//! A test process that runs its tool's "run pending migrations" at start
//! would otherwise find none of them recorded and run them all again on a
//! clone that already has the schema ("relation … already exists"). The
//! runner reads a tool's layout into [`ToolMigration`]s, in the tool's
//! order; [`plan`] turns them into the [`Migration`]s a cloner applies
//! through [`crate::Cloner::create_template`]: the tool's migrations as they
//! are, then one more that creates the history table with the tool's own
//! statement for the dialect and inserts one row per migration, with the
//! tool's checksum. The statements and checksums follow diesel_migrations
//! 2.3, sqlx 0.8 and refinery_core 0.8; the tools are not linked: what they
//! record is a table definition and a hash, and linking them would pull
//! each tool's database drivers into the runner.

use sha2::{Digest, Sha384};

use crate::Migration;
use crate::quote::{Dialect, quote_ident, quote_literal};

/// A migration tool whose layout and history table paraclone reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// diesel: `<version>_<name>/up.sql`, `__diesel_schema_migrations`.
    Diesel,
    /// sqlx: `<version>_<description>.sql` (or `.up.sql`), `_sqlx_migrations`.
    Sqlx,
    /// refinery: `V<version>__<name>.sql` (or `U…`), `refinery_schema_history`.
    Refinery,
}

impl Tool {
    /// The name used in the config (`migrator = "diesel"`).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Diesel => "diesel",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
        }
    }

    /// The tool's history table.
    pub fn history_table(self) -> &'static str {
        match self {
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Refinery => "refinery_schema_history",
        }
    }
}

/// One migration of a tool's layout, as the runner read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolMigration {
    /// The file it came from, for error messages.
    pub file: String,
    /// The version as the tool records it: diesel's text without `-`,
    /// sqlx's and refinery's integer.
    pub version: String,
    /// sqlx's description (the file name's rest, `_` as spaces) or
    /// refinery's name; unused for diesel, which records the version only.
    pub name: String,
    /// The script, exactly as in the file (the checksums cover it).
    pub sql: String,
}

/// Why a layout cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The tool has no history table on this backend.
    #[error("{tool} does not support the {dialect:?} backend")]
    Unsupported {
        /// The tool.
        tool: &'static str,
        /// The backend's dialect.
        dialect: Dialect,
    },
    /// A version is not the integer the tool's table holds.
    #[error("{file}: version {version:?} is not an integer {tool} accepts")]
    BadVersion {
        /// The tool.
        tool: &'static str,
        /// The migration's file.
        file: String,
        /// The version read.
        version: String,
    },
}

/// The dialect of a backend named as in the config, if it has one.
pub fn dialect_of(backend: &str) -> Option<Dialect> {
    match backend {
        "sqlite" => Some(Dialect::Sqlite),
        "postgres" => Some(Dialect::Postgres),
        "mysql" => Some(Dialect::Mysql),
        "oracle" => Some(Dialect::Oracle),
        _ => None,
    }
}

/// The migrations a cloner applies for `migrations` (in the tool's order):
/// each script as it is, then the history table with one row each.
pub fn plan(
    dialect: Dialect,
    tool: Tool,
    migrations: &[ToolMigration],
) -> Result<Vec<Migration>, PlanError> {
    let mut out: Vec<Migration> = migrations
        .iter()
        .map(|m| Migration {
            name: m.file.clone(),
            sql: m.sql.clone(),
        })
        .collect();
    out.push(Migration {
        name: format!("{} history table {}", tool.name(), tool.history_table()),
        sql: history(dialect, tool, migrations)?,
    });
    Ok(out)
}

/// The statements that create `tool`'s history table and record `migrations`.
pub fn history(
    dialect: Dialect,
    tool: Tool,
    migrations: &[ToolMigration],
) -> Result<String, PlanError> {
    if dialect == Dialect::Oracle {
        return Err(PlanError::Unsupported {
            tool: tool.name(),
            dialect,
        });
    }
    let q = |ident: &str| quote_ident(dialect, ident);
    let lit = |text: &str| quote_literal(dialect, text);
    let table = q(tool.history_table());
    let integer = |m: &ToolMigration| -> Result<String, PlanError> {
        let ok = match tool {
            Tool::Sqlx => m.version.parse::<i64>().is_ok(),
            _ => m.version.parse::<i32>().is_ok(),
        };
        if ok {
            Ok(m.version.clone())
        } else {
            Err(PlanError::BadVersion {
                tool: tool.name(),
                file: m.file.clone(),
                version: m.version.clone(),
            })
        }
    };
    let mut rows = Vec::with_capacity(migrations.len());
    let (create, columns) = match tool {
        // diesel's setup_migration_table.sql, the same on every backend.
        Tool::Diesel => {
            for m in migrations {
                rows.push(format!("({})", lit(&m.version)));
            }
            (
                format!(
                    "CREATE TABLE IF NOT EXISTS {table} (\n    {} VARCHAR(50) PRIMARY KEY NOT NULL,\n    {} TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n)",
                    q("version"),
                    q("run_on")
                ),
                vec!["version"],
            )
        }
        // sqlx-{postgres,sqlite,mysql}'s ensure_migrations_table; the row
        // is what `apply` leaves (success, the SHA-384 of the file), with
        // an execution time of 0 ns: nothing was timed per script.
        Tool::Sqlx => {
            let (installed_on, blob) = match dialect {
                Dialect::Postgres => ("TIMESTAMPTZ NOT NULL DEFAULT now()", "BYTEA"),
                _ => ("TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", "BLOB"),
            };
            for m in migrations {
                let hex = hex(&sqlx_checksum(&m.sql));
                let checksum = match dialect {
                    Dialect::Postgres => format!("decode('{hex}', 'hex')"),
                    _ => format!("X'{hex}'"),
                };
                rows.push(format!(
                    "({}, {}, TRUE, {checksum}, 0)",
                    integer(m)?,
                    lit(&m.name)
                ));
            }
            (
                format!(
                    "CREATE TABLE IF NOT EXISTS {table} (\n    {} BIGINT PRIMARY KEY,\n    {} TEXT NOT NULL,\n    {} {installed_on},\n    {} BOOLEAN NOT NULL,\n    {} {blob} NOT NULL,\n    {} BIGINT NOT NULL\n)",
                    q("version"),
                    q("description"),
                    q("installed_on"),
                    q("success"),
                    q("checksum"),
                    q("execution_time"),
                ),
                vec![
                    "version",
                    "description",
                    "success",
                    "checksum",
                    "execution_time",
                ],
            )
        }
        // refinery_core's ASSERT_MIGRATIONS_TABLE_QUERY and
        // insert_migration_query (applied_on as RFC 3339 text).
        Tool::Refinery => {
            for m in migrations {
                let version = integer(m)?;
                let checksum = refinery_checksum(
                    &m.name,
                    version.parse().expect("checked just above"),
                    &m.sql,
                );
                rows.push(format!(
                    "({version}, {}, {}, {})",
                    lit(&m.name),
                    lit(APPLIED_ON),
                    lit(&checksum.to_string())
                ));
            }
            (
                format!(
                    "CREATE TABLE IF NOT EXISTS {table} (\n    {} INT4 PRIMARY KEY,\n    {} VARCHAR(255),\n    {} VARCHAR(255),\n    {} VARCHAR(255)\n)",
                    q("version"),
                    q("name"),
                    q("applied_on"),
                    q("checksum"),
                ),
                vec!["version", "name", "applied_on", "checksum"],
            )
        }
    };
    let mut sql = format!("{create};\n");
    if !rows.is_empty() {
        let columns: Vec<String> = columns.iter().map(|c| q(c)).collect();
        sql.push_str(&format!(
            "INSERT INTO {table} ({}) VALUES\n    {};\n",
            columns.join(", "),
            rows.join(",\n    ")
        ));
    }
    Ok(sql)
}

/// refinery's `applied_on` is text its client formats (RFC 3339); the
/// cloner crate has no clock library, so it is a fixed, valid instant:
/// refinery parses it back and shows it, it never compares it.
const APPLIED_ON: &str = "1970-01-01T00:00:00Z";

/// sqlx's checksum: the SHA-384 of the file's text.
pub fn sqlx_checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

/// refinery's checksum: SipHash-1-3 with zero keys over
/// `name.hash(); version.hash(); sql.hash()` as `std::hash::Hash` feeds a
/// hasher (a string's bytes then `0xff`, an `i32` as 4 native-endian bytes).
pub fn refinery_checksum(name: &str, version: i32, sql: &str) -> u64 {
    let mut h = SipHasher13::default();
    h.write(name.as_bytes());
    h.write(&[0xff]);
    h.write(&version.to_ne_bytes());
    h.write(sql.as_bytes());
    h.write(&[0xff]);
    h.finish()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SipHash-1-3 (one compression round, three finalization rounds), keys 0.
#[derive(Default)]
struct SipHasher13 {
    v: [u64; 4],
    tail: Vec<u8>,
    length: usize,
    started: bool,
}

impl SipHasher13 {
    fn start(&mut self) {
        if !self.started {
            // The constants XORed with the (zero) keys.
            self.v = [
                0x736f_6d65_7073_6575,
                0x646f_7261_6e64_6f6d,
                0x6c79_6765_6e65_7261,
                0x7465_6462_7974_6573,
            ];
            self.started = true;
        }
    }

    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13);
        v[1] ^= v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16);
        v[3] ^= v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21);
        v[3] ^= v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17);
        v[1] ^= v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        Self::round(&mut self.v);
        self.v[0] ^= m;
    }

    fn write(&mut self, bytes: &[u8]) {
        self.start();
        self.length += bytes.len();
        self.tail.extend_from_slice(bytes);
        let whole = self.tail.len() / 8 * 8;
        let words: Vec<u64> = self.tail[..whole]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        for m in words {
            self.compress(m);
        }
        self.tail.drain(..whole);
    }

    fn finish(mut self) -> u64 {
        self.start();
        let mut last = [0u8; 8];
        last[..self.tail.len()].copy_from_slice(&self.tail);
        last[7] = self.length as u8;
        self.compress(u64::from_le_bytes(last));
        self.v[2] ^= 0xff;
        for _ in 0..3 {
            Self::round(&mut self.v);
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(version: &str, name: &str, sql: &str) -> ToolMigration {
        ToolMigration {
            file: format!("{version}_{name}"),
            version: version.to_owned(),
            name: name.to_owned(),
            sql: sql.to_owned(),
        }
    }

    #[test]
    fn siphash13_matches_the_reference_vectors() {
        // The reference implementation's SipHash-1-3 with key 00..0f is
        // not what refinery uses (zero keys), so check the zero-key hash
        // of "" and of a string against std's own SipHasher13-based
        // DefaultHasher: both are SipHash-1-3 with zero keys today.
        #[allow(deprecated)]
        fn std_hash(parts: &[&[u8]]) -> u64 {
            use std::hash::Hasher;
            let mut h = std::hash::DefaultHasher::new();
            for p in parts {
                h.write(p);
            }
            h.finish()
        }
        for parts in [
            &[][..],
            &[&b"a"[..]][..],
            &[&b"0123456789abcdef_x"[..], &[0xff][..]][..],
            &[
                &b"create"[..],
                &7i32.to_ne_bytes()[..],
                &b"CREATE TABLE t (x INT);"[..],
            ][..],
        ] {
            let mut ours = SipHasher13::default();
            for p in parts {
                ours.write(p);
            }
            assert_eq!(ours.finish(), std_hash(parts), "{parts:?}");
        }
    }

    #[test]
    fn refinery_checksum_is_hash_of_name_version_sql() {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        "initial".hash(&mut h);
        1i32.hash(&mut h);
        "CREATE TABLE persons (id int);".hash(&mut h);
        assert_eq!(
            refinery_checksum("initial", 1, "CREATE TABLE persons (id int);"),
            h.finish()
        );
    }

    #[test]
    fn diesel_history_is_one_row_per_version() {
        let sql = history(
            Dialect::Mysql,
            Tool::Diesel,
            &[m("20170721184144", "y", "x"), m("20170927135928", "x", "y")],
        )
        .unwrap();
        assert_eq!(
            sql,
            "CREATE TABLE IF NOT EXISTS `__diesel_schema_migrations` (\n    `version` VARCHAR(50) PRIMARY KEY NOT NULL,\n    `run_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\nINSERT INTO `__diesel_schema_migrations` (`version`) VALUES\n    ('20170721184144'),\n    ('20170927135928');\n"
        );
    }

    #[test]
    fn sqlx_rows_carry_the_sha384_per_dialect() {
        let one = [m("1", "create it", "CREATE TABLE t (x INT);\n")];
        let digest = hex(&sqlx_checksum(&one[0].sql));
        assert_eq!(digest.len(), 96);
        let pg = history(Dialect::Postgres, Tool::Sqlx, &one).unwrap();
        assert!(
            pg.contains("\"installed_on\" TIMESTAMPTZ NOT NULL DEFAULT now()"),
            "{pg}"
        );
        assert!(
            pg.contains(&format!(
                "(1, 'create it', TRUE, decode('{digest}', 'hex'), 0)"
            )),
            "{pg}"
        );
        let lite = history(Dialect::Sqlite, Tool::Sqlx, &one).unwrap();
        assert!(lite.contains("\"checksum\" BLOB NOT NULL"), "{lite}");
        assert!(lite.contains(&format!("X'{digest}'")), "{lite}");
    }

    #[test]
    fn versions_that_are_not_integers_and_oracle_are_refused() {
        let err = history(Dialect::Sqlite, Tool::Sqlx, &[m("1x", "a", "")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1x_a: version \"1x\" is not an integer sqlx accepts"
        );
        let err = history(
            Dialect::Sqlite,
            Tool::Refinery,
            &[m("99999999999", "a", "")],
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::BadVersion { .. }), "{err}");
        let err = plan(Dialect::Oracle, Tool::Diesel, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "diesel does not support the Oracle backend"
        );
    }

    #[test]
    fn plan_is_the_scripts_then_the_history() {
        let plan = plan(
            Dialect::Sqlite,
            Tool::Refinery,
            &[m("2", "b", "B"), m("3", "c", "C")],
        )
        .unwrap();
        let names: Vec<&str> = plan.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "2_b",
                "3_c",
                "refinery history table refinery_schema_history"
            ]
        );
        assert!(
            plan[2].sql.contains("(2, 'b', '1970-01-01T00:00:00Z', '"),
            "{}",
            plan[2].sql
        );
    }
}
