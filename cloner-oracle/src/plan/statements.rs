//! The statements around a schema copy: creating and dropping users, their
//! privileges and quotas, the `DBMS_METADATA` session set-up, copying a
//! table's rows, recompiling, and ending sessions.

use crate::plan::ddl::{DdlError, check_value};
use crate::plan::names::{ident, qualified};

/// The system privileges a test user gets, as Django grants them to its
/// Oracle test users, plus `CREATE TYPE`.
pub(crate) const DEFAULT_PRIVILEGES: [&str; 7] = [
    "CREATE SESSION",
    "CREATE TABLE",
    "CREATE VIEW",
    "CREATE SEQUENCE",
    "CREATE TRIGGER",
    "CREATE PROCEDURE",
    "CREATE TYPE",
];

/// The quota of a user on one tablespace (`None`: unlimited).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
    /// The tablespace.
    pub(crate) tablespace: String,
    /// Bytes, or `None` for `UNLIMITED`.
    pub(crate) bytes: Option<u64>,
}

/// What a new user (template or clone) is created with.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct NewUser<'a> {
    /// The user's (the database's) name.
    pub(crate) name: &'a str,
    /// Its password (never shown: this type has no `Debug`).
    pub(crate) password: &'a str,
    /// Its default tablespace.
    pub(crate) tablespace: &'a str,
    /// Its temporary tablespace, if not the database's default.
    pub(crate) temporary_tablespace: Option<&'a str>,
    /// Whether the user gets a tablespace of its own, named like it, as
    /// Django's `TEST_TBLSPACE` does (needs Oracle-managed files).
    pub(crate) own_tablespace: bool,
    /// System privileges to grant.
    pub(crate) privileges: &'a [String],
    /// Roles to grant.
    pub(crate) roles: &'a [String],
    /// Quotas besides the one on the default tablespace.
    pub(crate) quotas: &'a [Quota],
}

/// The statements that create `user`, in order. They contain the password:
/// never put them in a message.
pub(crate) fn create_user(user: &NewUser<'_>) -> Vec<String> {
    let name = ident(user.name);
    let mut out = Vec::new();
    let tablespace = if user.own_tablespace {
        out.push(format!(
            "CREATE BIGFILE TABLESPACE {name} DATAFILE SIZE 16M AUTOEXTEND ON NEXT 16M MAXSIZE UNLIMITED"
        ));
        user.name
    } else {
        user.tablespace
    };
    let mut create = format!(
        "CREATE USER {name} IDENTIFIED BY {} DEFAULT TABLESPACE {} QUOTA UNLIMITED ON {}",
        ident(user.password),
        ident(tablespace),
        ident(tablespace)
    );
    if let Some(temporary) = user.temporary_tablespace {
        create.push_str(&format!(" TEMPORARY TABLESPACE {}", ident(temporary)));
    }
    out.push(create);
    for quota in user.quotas.iter().filter(|q| q.tablespace != tablespace) {
        let amount = quota
            .bytes
            .map_or_else(|| "UNLIMITED".to_owned(), |b| b.to_string());
        out.push(format!(
            "ALTER USER {name} QUOTA {amount} ON {}",
            ident(&quota.tablespace)
        ));
    }
    if !user.privileges.is_empty() {
        out.push(format!("GRANT {} TO {name}", user.privileges.join(", ")));
    }
    for role in user.roles {
        out.push(format!("GRANT {} TO {name}", ident(role)));
    }
    out
}

/// The statements that drop database `name`: the user with everything it
/// owns and, when it has one, its own tablespace.
pub(crate) fn drop_user(name: &str, own_tablespace: bool) -> Vec<String> {
    let mut out = vec![format!("DROP USER {} CASCADE", ident(name))];
    if own_tablespace {
        out.push(format!(
            "DROP TABLESPACE {} INCLUDING CONTENTS AND DATAFILES",
            ident(name)
        ));
    }
    out
}

/// The query listing the sessions of user `name` (bind `:name`), for the
/// message when a drop finds the user still connected.
pub(crate) const SESSIONS_OF_USER: &str = "SELECT sid, serial#, NVL(status, '?'), NVL(program, '?'), \
     NVL(machine, '?'), NVL(osuser, '?') FROM v$session WHERE username = :name ORDER BY sid";

/// A session as `v$session` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SessionInfo {
    pub(crate) sid: i64,
    pub(crate) serial: i64,
    pub(crate) status: String,
    pub(crate) program: String,
    pub(crate) machine: String,
    pub(crate) os_user: String,
}

/// `ALTER SYSTEM KILL SESSION 'sid,serial#' IMMEDIATE`.
pub(crate) fn kill_session(session: &SessionInfo) -> String {
    format!(
        "ALTER SYSTEM KILL SESSION '{},{}' IMMEDIATE",
        session.sid, session.serial
    )
}

/// The sessions, for a message: `sid 12 serial# 345 (INACTIVE, program
/// "python3", machine "ci", OS user "runner")`.
pub(crate) fn describe_sessions(sessions: &[SessionInfo]) -> String {
    if sessions.is_empty() {
        return "sessions that were gone before they could be listed".to_owned();
    }
    sessions
        .iter()
        .map(|s| {
            format!(
                "sid {} serial# {} ({}, program {:?}, machine {:?}, OS user {:?})",
                s.sid, s.serial, s.status, s.program, s.machine, s.os_user
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The block that sets up `DBMS_METADATA` in a session for copying: no
/// segment attributes, storage or tablespace clauses; constraints as
/// separate `ALTER TABLE`s; foreign keys left out of table DDL (they are
/// added after the data); every statement terminated (`;` or `/`), so a
/// text with several statements can be split.
pub(crate) const METADATA_TRANSFORMS: &str = "BEGIN
  DBMS_METADATA.SET_TRANSFORM_PARAM(DBMS_METADATA.SESSION_TRANSFORM, 'SEGMENT_ATTRIBUTES', FALSE);
  DBMS_METADATA.SET_TRANSFORM_PARAM(DBMS_METADATA.SESSION_TRANSFORM, 'STORAGE', FALSE);
  DBMS_METADATA.SET_TRANSFORM_PARAM(DBMS_METADATA.SESSION_TRANSFORM, 'CONSTRAINTS_AS_ALTER', TRUE);
  DBMS_METADATA.SET_TRANSFORM_PARAM(DBMS_METADATA.SESSION_TRANSFORM, 'REF_CONSTRAINTS', FALSE);
  DBMS_METADATA.SET_TRANSFORM_PARAM(DBMS_METADATA.SESSION_TRANSFORM, 'SQLTERMINATOR', TRUE);
  DBMS_METADATA.SET_TRANSFORM_PARAM(DBMS_METADATA.SESSION_TRANSFORM, 'PRETTY', TRUE);
END;";

/// Makes unqualified names in the statements that follow resolve in the
/// clone's schema (view queries, trigger bodies, defaults).
pub(crate) fn set_current_schema(name: &str) -> String {
    format!("ALTER SESSION SET CURRENT_SCHEMA = {}", ident(name))
}

/// Copies every row of `table` from `template` to `clone`, naming
/// `columns` (the stored, user-visible ones: virtual columns are computed,
/// and writing them is an error) in a direct-path insert.
pub(crate) fn copy_rows(template: &str, clone: &str, table: &str, columns: &[String]) -> String {
    let list = columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT /*+ APPEND */ INTO {} ({list}) SELECT {list} FROM {}",
        qualified(clone, table),
        qualified(template, table)
    )
}

/// Draws the next value of sequence `schema.sequence`.
pub(crate) fn next_value(schema: &str, sequence: &str) -> String {
    format!("SELECT {}.NEXTVAL FROM dual", qualified(schema, sequence))
}

/// Restarts the sequence `schema.sequence` at `next` (the value just drawn
/// from it), which empties its cache so `LAST_NUMBER` is exact.
pub(crate) fn restart_sequence(
    schema: &str,
    sequence: &str,
    next: &str,
) -> Result<String, DdlError> {
    check_value(next)?;
    Ok(format!(
        "ALTER SEQUENCE {} RESTART START WITH {next}",
        qualified(schema, sequence)
    ))
}

/// The statement that recompiles the object `schema.name` of type
/// `object_type` (as `ALL_OBJECTS` names types); `None` for types that are
/// not compiled.
pub(crate) fn compile(object_type: &str, schema: &str, name: &str) -> Option<String> {
    let object = qualified(schema, name);
    let sql = match object_type {
        "PACKAGE" => format!("ALTER PACKAGE {object} COMPILE"),
        "PACKAGE BODY" => format!("ALTER PACKAGE {object} COMPILE BODY"),
        "TYPE" => format!("ALTER TYPE {object} COMPILE"),
        "TYPE BODY" => format!("ALTER TYPE {object} COMPILE BODY"),
        "PROCEDURE" | "FUNCTION" | "TRIGGER" | "VIEW" | "SYNONYM" | "MATERIALIZED VIEW" => {
            format!("ALTER {object_type} {object} COMPILE")
        }
        _ => return None,
    };
    Some(sql)
}

/// The `DBMS_METADATA.GET_DDL` object type of an `ALL_OBJECTS` type.
pub(crate) fn metadata_type(object_type: &str) -> String {
    match object_type {
        "PACKAGE" => "PACKAGE_SPEC".to_owned(),
        "TYPE" => "TYPE_SPEC".to_owned(),
        other => other.replace(' ', "_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privileges() -> Vec<String> {
        DEFAULT_PRIVILEGES.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn a_user_is_created_with_quota_and_djangos_privileges() {
        let privileges = privileges();
        let user = NewUser {
            name: "shop_pcabc123xyz0_w1",
            password: "PcSecret7",
            tablespace: "USERS",
            temporary_tablespace: None,
            own_tablespace: false,
            privileges: &privileges,
            roles: &[],
            quotas: &[],
        };
        assert_eq!(
            create_user(&user),
            vec![
                "CREATE USER \"shop_pcabc123xyz0_w1\" IDENTIFIED BY \"PcSecret7\" DEFAULT TABLESPACE \"USERS\" \
                 QUOTA UNLIMITED ON \"USERS\"",
                "GRANT CREATE SESSION, CREATE TABLE, CREATE VIEW, CREATE SEQUENCE, CREATE TRIGGER, \
                 CREATE PROCEDURE, CREATE TYPE TO \"shop_pcabc123xyz0_w1\"",
            ]
        );
    }

    #[test]
    fn a_clone_gets_the_templates_quotas_roles_and_own_tablespace() {
        let privileges = vec!["CREATE SESSION".to_owned(), "CREATE TABLE".to_owned()];
        let roles = vec!["APP_READER".to_owned()];
        let quotas = vec![
            Quota {
                tablespace: "o'neil shop_pc_w1".to_owned(),
                bytes: None,
            },
            Quota {
                tablespace: "DATA2".to_owned(),
                bytes: Some(10_485_760),
            },
        ];
        let user = NewUser {
            name: "o'neil shop_pc_w1",
            password: "PcX7",
            tablespace: "USERS",
            temporary_tablespace: Some("TEMP"),
            own_tablespace: true,
            privileges: &privileges,
            roles: &roles,
            quotas: &quotas,
        };
        assert_eq!(
            create_user(&user),
            vec![
                "CREATE BIGFILE TABLESPACE \"o'neil shop_pc_w1\" DATAFILE SIZE 16M AUTOEXTEND ON NEXT 16M MAXSIZE UNLIMITED",
                "CREATE USER \"o'neil shop_pc_w1\" IDENTIFIED BY \"PcX7\" DEFAULT TABLESPACE \"o'neil shop_pc_w1\" \
                 QUOTA UNLIMITED ON \"o'neil shop_pc_w1\" TEMPORARY TABLESPACE \"TEMP\"",
                "ALTER USER \"o'neil shop_pc_w1\" QUOTA 10485760 ON \"DATA2\"",
                "GRANT CREATE SESSION, CREATE TABLE TO \"o'neil shop_pc_w1\"",
                "GRANT \"APP_READER\" TO \"o'neil shop_pc_w1\"",
            ]
        );
    }

    #[test]
    fn dropping_removes_the_user_and_its_own_tablespace() {
        assert_eq!(
            drop_user("shop_pc_w1", false),
            vec!["DROP USER \"shop_pc_w1\" CASCADE"]
        );
        assert_eq!(
            drop_user("shop_pc_w1", true),
            vec![
                "DROP USER \"shop_pc_w1\" CASCADE",
                "DROP TABLESPACE \"shop_pc_w1\" INCLUDING CONTENTS AND DATAFILES"
            ]
        );
    }

    #[test]
    fn sessions_are_named_and_killed_by_sid_and_serial() {
        let session = SessionInfo {
            sid: 12,
            serial: 345,
            status: "INACTIVE".to_owned(),
            program: "python3".to_owned(),
            machine: "ci".to_owned(),
            os_user: "runner".to_owned(),
        };
        assert_eq!(
            kill_session(&session),
            "ALTER SYSTEM KILL SESSION '12,345' IMMEDIATE"
        );
        assert_eq!(
            describe_sessions(std::slice::from_ref(&session)),
            "sid 12 serial# 345 (INACTIVE, program \"python3\", machine \"ci\", OS user \"runner\")"
        );
        assert!(describe_sessions(&[]).contains("gone"));
    }

    #[test]
    fn rows_are_copied_direct_path_with_explicit_columns() {
        assert_eq!(
            copy_rows(
                "shop_pc_tpl",
                "shop_pc_w1",
                "ORDERS",
                &[
                    "ID".to_owned(),
                    "STATUS".to_owned(),
                    "Mixed Case".to_owned()
                ]
            ),
            "INSERT /*+ APPEND */ INTO \"shop_pc_w1\".\"ORDERS\" (\"ID\", \"STATUS\", \"Mixed Case\") \
             SELECT \"ID\", \"STATUS\", \"Mixed Case\" FROM \"shop_pc_tpl\".\"ORDERS\""
        );
    }

    #[test]
    fn sequences_are_drawn_and_restarted() {
        assert_eq!(
            next_value("tpl", "INVOICE_NUMBERS"),
            "SELECT \"tpl\".\"INVOICE_NUMBERS\".NEXTVAL FROM dual"
        );
        assert_eq!(
            restart_sequence("tpl", "INVOICE_NUMBERS", "1020").unwrap(),
            "ALTER SEQUENCE \"tpl\".\"INVOICE_NUMBERS\" RESTART START WITH 1020"
        );
        assert!(restart_sequence("tpl", "S", "1 CACHE 5").is_err());
    }

    #[test]
    fn objects_are_recompiled_by_type() {
        assert_eq!(
            compile("PACKAGE BODY", "w1", "SHOP_API").as_deref(),
            Some("ALTER PACKAGE \"w1\".\"SHOP_API\" COMPILE BODY")
        );
        assert_eq!(
            compile("VIEW", "w1", "CUSTOMER_ORDERS").as_deref(),
            Some("ALTER VIEW \"w1\".\"CUSTOMER_ORDERS\" COMPILE")
        );
        assert_eq!(
            compile("TYPE", "w1", "ADDRESS_T").as_deref(),
            Some("ALTER TYPE \"w1\".\"ADDRESS_T\" COMPILE")
        );
        assert_eq!(compile("TABLE", "w1", "T"), None);
        assert_eq!(metadata_type("PACKAGE"), "PACKAGE_SPEC");
        assert_eq!(metadata_type("PACKAGE BODY"), "PACKAGE_BODY");
        assert_eq!(metadata_type("TYPE BODY"), "TYPE_BODY");
        assert_eq!(metadata_type("TABLE"), "TABLE");
    }

    #[test]
    fn the_metadata_setup_names_every_transform() {
        for param in [
            "'SEGMENT_ATTRIBUTES', FALSE",
            "'STORAGE', FALSE",
            "'CONSTRAINTS_AS_ALTER', TRUE",
            "'REF_CONSTRAINTS', FALSE",
            "'SQLTERMINATOR', TRUE",
        ] {
            assert!(METADATA_TRANSFORMS.contains(param), "{param}");
        }
        assert_eq!(
            set_current_schema("shop_pc_w1"),
            "ALTER SESSION SET CURRENT_SCHEMA = \"shop_pc_w1\""
        );
    }
}
