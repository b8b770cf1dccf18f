//! Reading a template schema from the dictionary and `DBMS_METADATA`, and
//! pinning its sequences when it is sealed.

use std::collections::{BTreeMap, BTreeSet};

use crate::io::session::{column, exec, rows, scalar};
use crate::plan::identity::{IdentityColumn, pin_statement};
use crate::plan::schema::{
    ObjectInfo, SequenceDef, SourceObject, TableDef, TemplateSchema, order_types,
};
use crate::plan::statements::{
    DEFAULT_PRIVILEGES, METADATA_TRANSFORMS, Quota, metadata_type, next_value, restart_sequence,
};

/// What a clone copies from a template besides its objects: the template
/// user's privileges, roles and quotas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Grants {
    pub(crate) privileges: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) quotas: Vec<Quota>,
}

impl Grants {
    /// Django's set, for when the dictionary views of grants are not readable.
    pub(crate) fn default_set() -> Grants {
        Grants {
            privileges: DEFAULT_PRIVILEGES.iter().map(|p| (*p).to_owned()).collect(),
            roles: Vec::new(),
            quotas: Vec::new(),
        }
    }
}

/// A template as read once and shared by all of its clones.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    pub(crate) schema: TemplateSchema,
    pub(crate) objects: Vec<ObjectInfo>,
    pub(crate) grants: Grants,
}

/// The template's objects as `ALL_OBJECTS` lists them (not partitions, not
/// system-named ones, not the recycle bin).
pub(crate) fn objects(
    conn: &oracle::Connection,
    owner: &str,
) -> Result<Vec<ObjectInfo>, oracle::Error> {
    Ok(rows(
        conn,
        "SELECT object_type, object_name, status FROM all_objects \
         WHERE owner = :owner AND subobject_name IS NULL AND generated = 'N' \
         AND object_name NOT LIKE 'BIN$%' ORDER BY object_type, object_name",
        &[("owner", &owner)],
    )?
    .into_iter()
    .map(|row| {
        let mut row = row.into_iter().map(Option::unwrap_or_default);
        ObjectInfo {
            object_type: row.next().unwrap_or_default(),
            name: row.next().unwrap_or_default(),
            status: row.next().unwrap_or_default(),
        }
    })
    .collect())
}

/// The template user's system privileges, roles and quotas, from the
/// `DBA_` views; Django's privileges when those are not readable.
pub(crate) fn grants(conn: &oracle::Connection, owner: &str) -> Result<Grants, oracle::Error> {
    let read = || -> Result<Grants, oracle::Error> {
        let privileges = column(
            conn,
            "SELECT privilege FROM dba_sys_privs WHERE grantee = :owner ORDER BY privilege",
            &[("owner", &owner)],
        )?;
        let roles = column(
            conn,
            "SELECT granted_role FROM dba_role_privs WHERE grantee = :owner ORDER BY granted_role",
            &[("owner", &owner)],
        )?;
        let quotas = rows(
            conn,
            "SELECT tablespace_name, max_bytes FROM dba_ts_quotas WHERE username = :owner \
             ORDER BY tablespace_name",
            &[("owner", &owner)],
        )?
        .into_iter()
        .filter_map(|row| {
            let tablespace = row.first().cloned().flatten()?;
            let bytes = row
                .get(1)
                .cloned()
                .flatten()
                .and_then(|b| b.parse::<i64>().ok());
            Some(Quota {
                tablespace,
                bytes: bytes.filter(|b| *b >= 0).map(|b| b as u64),
            })
        })
        .collect();
        Ok(Grants {
            privileges,
            roles,
            quotas,
        })
    };
    match read() {
        Ok(grants) if !grants.privileges.is_empty() => Ok(grants),
        Ok(_) => Ok(Grants::default_set()),
        Err(e) if e.oci_code() == Some(crate::error::ora::NO_SUCH_TABLE) => {
            Ok(Grants::default_set())
        }
        Err(e) => Err(e),
    }
}

/// `DBMS_METADATA.GET_DDL` of one object.
fn ddl(
    conn: &oracle::Connection,
    object_type: &str,
    name: &str,
    owner: &str,
) -> Result<String, oracle::Error> {
    let kind = metadata_type(object_type);
    Ok(scalar(
        conn,
        "SELECT DBMS_METADATA.GET_DDL(:kind, :name, :owner) FROM dual",
        &[("kind", &kind), ("name", &name), ("owner", &owner)],
    )?
    .unwrap_or_default())
}

fn source_objects(
    conn: &oracle::Connection,
    owner: &str,
    object_type: &str,
    names: Vec<String>,
) -> Result<Vec<SourceObject>, oracle::Error> {
    names
        .into_iter()
        .map(|name| {
            Ok(SourceObject {
                ddl: ddl(conn, object_type, &name, owner)?,
                object_type: object_type.to_owned(),
                name,
            })
        })
        .collect()
}

/// Reads everything the DDL route copies from template `owner`.
pub(crate) fn read_schema(
    conn: &oracle::Connection,
    owner: &str,
) -> Result<TemplateSchema, oracle::Error> {
    exec(conn, METADATA_TRANSFORMS)?;
    let owner_bind: [(&str, &dyn oracle::sql_type::ToSql); 1] = [("owner", &owner)];

    let table_rows = rows(
        conn,
        "SELECT t.table_name, t.temporary, \
           CASE WHEN EXISTS (SELECT 1 FROM all_external_tables e \
                             WHERE e.owner = t.owner AND e.table_name = t.table_name) \
                THEN 'Y' ELSE 'N' END \
         FROM all_tables t WHERE t.owner = :owner AND t.nested = 'NO' AND t.secondary = 'N' \
           AND t.dropped = 'NO' AND (t.iot_type IS NULL OR t.iot_type = 'IOT') \
           AND NOT EXISTS (SELECT 1 FROM all_mviews m WHERE m.owner = t.owner AND m.mview_name = t.table_name) \
           AND NOT EXISTS (SELECT 1 FROM all_mview_logs l WHERE l.log_owner = t.owner AND l.log_table = t.table_name) \
         ORDER BY t.table_name",
        &owner_bind,
    )?;
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows(
        conn,
        "SELECT table_name, column_name FROM all_tab_cols \
         WHERE owner = :owner AND virtual_column = 'NO' AND user_generated = 'YES' \
         ORDER BY table_name, internal_column_id",
        &owner_bind,
    )? {
        if let [Some(table), Some(column)] = &row[..] {
            columns
                .entry(table.clone())
                .or_default()
                .push(column.clone());
        }
    }
    let mut identity: BTreeMap<String, Vec<IdentityColumn>> = BTreeMap::new();
    let mut identity_sequences = BTreeSet::new();
    for row in rows(
        conn,
        "SELECT ic.table_name, ic.column_name, s.last_number, ic.sequence_name \
         FROM all_tab_identity_columns ic JOIN all_sequences s \
           ON s.sequence_owner = ic.owner AND s.sequence_name = ic.sequence_name \
         WHERE ic.owner = :owner ORDER BY ic.table_name, ic.column_name",
        &owner_bind,
    )? {
        if let [Some(table), Some(column), Some(next), Some(sequence)] = &row[..] {
            identity
                .entry(table.clone())
                .or_default()
                .push(IdentityColumn {
                    column: column.clone(),
                    next: next.clone(),
                });
            identity_sequences.insert(sequence.clone());
        }
    }
    let mut tables = Vec::new();
    for row in table_rows {
        let [Some(name), temporary, external] = &row[..] else {
            continue;
        };
        let copy_rows = temporary.as_deref() != Some("Y") && external.as_deref() != Some("Y");
        tables.push(TableDef {
            ddl: ddl(conn, "TABLE", name, owner)?,
            columns: columns.remove(name).unwrap_or_default(),
            copy_rows,
            identity: identity.remove(name).unwrap_or_default(),
            name: name.clone(),
        });
    }
    let copied: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();

    let mut sequences = Vec::new();
    for row in rows(
        conn,
        "SELECT sequence_name, last_number FROM all_sequences WHERE sequence_owner = :owner \
         ORDER BY sequence_name",
        &owner_bind,
    )? {
        if let [Some(name), Some(last_number)] = &row[..]
            && !identity_sequences.contains(name)
            && !name.starts_with("ISEQ$$_")
        {
            sequences.push(SequenceDef {
                ddl: ddl(conn, "SEQUENCE", name, owner)?,
                name: name.clone(),
                last_number: last_number.clone(),
            });
        }
    }

    let named = |sql: &str| column(conn, sql, &owner_bind);
    let type_names = named(
        "SELECT object_name FROM all_objects WHERE owner = :owner AND object_type = 'TYPE' \
         AND generated = 'N' ORDER BY object_name",
    )?;
    let type_dependencies: Vec<(String, String)> = rows(
        conn,
        "SELECT name, referenced_name FROM all_dependencies WHERE owner = :owner AND type = 'TYPE' \
         AND referenced_owner = :owner AND referenced_type = 'TYPE'",
        &owner_bind,
    )?
    .into_iter()
    .filter_map(|row| Some((row.first()?.clone()?, row.get(1)?.clone()?)))
    .collect();
    let types = order_types(
        source_objects(conn, owner, "TYPE", type_names)?,
        &type_dependencies,
    );

    let mut indexes = Vec::new();
    for row in rows(
        conn,
        "SELECT index_name, table_name FROM all_indexes WHERE owner = :owner AND table_owner = :owner \
         AND constraint_index = 'NO' AND generated = 'N' \
         AND index_type NOT IN ('LOB', 'IOT - TOP', 'CLUSTER') ORDER BY index_name",
        &owner_bind,
    )? {
        if let [Some(name), Some(table)] = &row[..]
            && copied.contains(table.as_str())
        {
            indexes.push(SourceObject {
                ddl: ddl(conn, "INDEX", name, owner)?,
                object_type: "INDEX".to_owned(),
                name: name.clone(),
            });
        }
    }
    let mut foreign_keys = Vec::new();
    for row in rows(
        conn,
        "SELECT constraint_name, table_name FROM all_constraints WHERE owner = :owner \
         AND constraint_type = 'R' ORDER BY table_name, constraint_name",
        &owner_bind,
    )? {
        if let [Some(name), Some(table)] = &row[..]
            && copied.contains(table.as_str())
        {
            foreign_keys.push(SourceObject {
                ddl: ddl(conn, "REF_CONSTRAINT", name, owner)?,
                object_type: "REF_CONSTRAINT".to_owned(),
                name: name.clone(),
            });
        }
    }
    let synonyms = source_objects(
        conn,
        owner,
        "SYNONYM",
        named("SELECT synonym_name FROM all_synonyms WHERE owner = :owner ORDER BY synonym_name")?,
    )?;
    let mut code = Vec::new();
    for row in rows(
        conn,
        "SELECT object_type, object_name FROM all_objects WHERE owner = :owner AND generated = 'N' \
         AND object_type IN ('PACKAGE', 'PACKAGE BODY', 'PROCEDURE', 'FUNCTION', 'TYPE BODY') \
         ORDER BY DECODE(object_type, 'PACKAGE', 1, 'FUNCTION', 2, 'PROCEDURE', 3, 'PACKAGE BODY', 4, 5), \
           object_name",
        &owner_bind,
    )? {
        if let [Some(object_type), Some(name)] = &row[..] {
            code.push(SourceObject {
                ddl: ddl(conn, object_type, name, owner)?,
                object_type: object_type.clone(),
                name: name.clone(),
            });
        }
    }
    let views = source_objects(
        conn,
        owner,
        "VIEW",
        named("SELECT view_name FROM all_views WHERE owner = :owner ORDER BY view_name")?,
    )?;
    let triggers = source_objects(
        conn,
        owner,
        "TRIGGER",
        named("SELECT trigger_name FROM all_triggers WHERE owner = :owner ORDER BY trigger_name")?,
    )?;
    Ok(TemplateSchema {
        name: owner.to_owned(),
        sequences,
        types,
        tables,
        indexes,
        foreign_keys,
        synonyms,
        code,
        views,
        triggers,
    })
}

/// Makes every sequence of template `owner` (identity ones included)
/// report its exact next value as `LAST_NUMBER`: draws the next value and
/// restarts the sequence there, which empties its cache and leaves its
/// next value as it was.
///
/// A sequence that cannot be pinned (at its `MAXVALUE`, or a server that
/// refuses the restart) is left alone: its clones then continue from its
/// high-water mark, which skips values but never repeats one.
pub(crate) fn pin_sequences(conn: &oracle::Connection, owner: &str) -> Result<(), oracle::Error> {
    let owner_bind: [(&str, &dyn oracle::sql_type::ToSql); 1] = [("owner", &owner)];
    let identities = rows(
        conn,
        "SELECT ic.table_name, ic.column_name, ic.generation_type, ic.identity_options, \
           ic.sequence_name, c.default_on_null \
         FROM all_tab_identity_columns ic JOIN all_tab_columns c \
           ON c.owner = ic.owner AND c.table_name = ic.table_name AND c.column_name = ic.column_name \
         WHERE ic.owner = :owner",
        &owner_bind,
    )?;
    let mut identity_sequences = BTreeSet::new();
    for row in identities {
        let [
            Some(table),
            Some(column),
            Some(generation),
            Some(options),
            Some(sequence),
            on_null,
        ] = &row[..]
        else {
            continue;
        };
        identity_sequences.insert(sequence.clone());
        let Ok(Some(next)) = scalar(conn, &next_value(owner, sequence), &[]) else {
            continue;
        };
        if let Ok(sql) = pin_statement(
            owner,
            table,
            column,
            generation,
            on_null.as_deref() == Some("YES"),
            options,
            &next,
        ) {
            let _ = exec(conn, &sql);
        }
    }
    let sequences = column(
        conn,
        "SELECT sequence_name FROM all_sequences WHERE sequence_owner = :owner",
        &owner_bind,
    )?;
    for sequence in sequences
        .iter()
        .filter(|s| !identity_sequences.contains(*s) && !s.starts_with("ISEQ$$_"))
    {
        let Ok(Some(next)) = scalar(conn, &next_value(owner, sequence), &[]) else {
            continue;
        };
        if let Ok(sql) = restart_sequence(owner, sequence, &next) {
            let _ = exec(conn, &sql);
        }
    }
    Ok(())
}
