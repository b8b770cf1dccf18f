//! The template schema as the cloner reads it, and the plan that copies it
//! into a clone: which statements, in which order, which of them in
//! parallel; and the check of the finished clone against its template.
//!
//! The order is what makes a schema copy both correct and fast:
//!
//! 1. sequences (column defaults may use them), restarted at the
//!    template's next value;
//! 2. object type specifications, in dependency order (tables may use
//!    them);
//! 3. tables, without foreign keys, their identities starting at the
//!    template's next value and generated `BY DEFAULT` for the copy;
//! 4. rows, every table at once on its own session (direct-path inserts,
//!    no index, constraint or trigger to maintain yet);
//! 5. indexes, in parallel, then primary key, unique and check
//!    constraints (built on the loaded rows, once);
//! 6. foreign keys, now that every row is in;
//! 7. `GENERATED ALWAYS` restored on identity columns;
//! 8. synonyms, package specifications, procedures and functions, views,
//!    package and type bodies, and last triggers (so none fires during the
//!    copy);
//!
//! then whatever is invalid is recompiled, and [`verify`] compares the
//! clone's objects with the template's.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::ddl::{
    DdlError, StatementKind, classify, remap_schema, restart_sequence, strip_storage,
};
use crate::plan::identity::{IdentityColumn, prepare_table};
use crate::plan::script::split_script;
use crate::plan::statements::copy_rows;

/// A schema object and its DDL as `GET_DDL` returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceObject {
    /// The type as `ALL_OBJECTS` names it (`PACKAGE BODY`, `VIEW` …).
    pub(crate) object_type: String,
    /// The object's name.
    pub(crate) name: String,
    /// `GET_DDL`'s text, with terminators.
    pub(crate) ddl: String,
}

/// A sequence of the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SequenceDef {
    pub(crate) name: String,
    pub(crate) ddl: String,
    /// `ALL_SEQUENCES.LAST_NUMBER`: the next value once the template is
    /// sealed (see [`crate::plan::identity`]), the end of the cache before.
    pub(crate) last_number: String,
}

/// A table of the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableDef {
    pub(crate) name: String,
    pub(crate) ddl: String,
    /// The columns whose values are copied: stored, user-defined ones,
    /// invisible ones included, virtual ones not.
    pub(crate) columns: Vec<String>,
    /// Whether its rows are copied (not for temporary or external tables).
    pub(crate) copy_rows: bool,
    /// Its identity columns, each with the template's next value.
    pub(crate) identity: Vec<IdentityColumn>,
}

/// Everything the DDL route copies from a template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TemplateSchema {
    /// The template's (user's) name.
    pub(crate) name: String,
    pub(crate) sequences: Vec<SequenceDef>,
    /// Object type specifications, in dependency order ([`order_types`]).
    pub(crate) types: Vec<SourceObject>,
    pub(crate) tables: Vec<TableDef>,
    /// Indexes that no constraint created.
    pub(crate) indexes: Vec<SourceObject>,
    pub(crate) foreign_keys: Vec<SourceObject>,
    pub(crate) synonyms: Vec<SourceObject>,
    /// Packages, procedures, functions, package bodies, type bodies.
    pub(crate) code: Vec<SourceObject>,
    pub(crate) views: Vec<SourceObject>,
    pub(crate) triggers: Vec<SourceObject>,
}

/// A stage of the copy, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Sequences,
    Types,
    Tables,
    Rows,
    Indexes,
    Constraints,
    ForeignKeys,
    Identities,
    Synonyms,
    Specifications,
    Views,
    Bodies,
    Triggers,
}

impl Phase {
    /// Whether the statements of the phase run at once, each on its own
    /// session: independent and heavy (row copies, index builds).
    pub(crate) fn parallel(self) -> bool {
        matches!(self, Phase::Rows | Phase::Indexes)
    }
}

/// One statement of a plan and what it is about, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Planned {
    pub(crate) sql: String,
    /// `table "ORDERS"`, `rows of "ORDERS"` …
    pub(crate) object: String,
}

/// The statements of one phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) phase: Phase,
    pub(crate) statements: Vec<Planned>,
}

/// What copying a template into a clone takes, in order. Holds no
/// password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClonePlan {
    pub(crate) steps: Vec<Step>,
}

impl ClonePlan {
    /// Every statement, in order, for tests and messages.
    #[cfg(test)]
    pub(crate) fn statements(&self) -> Vec<&str> {
        self.steps
            .iter()
            .flat_map(|s| s.statements.iter().map(|p| p.sql.as_str()))
            .collect()
    }
}

/// The plan that copies `template` into the (existing, empty) user `clone`.
pub(crate) fn clone_plan(template: &TemplateSchema, clone: &str) -> Result<ClonePlan, DdlError> {
    let from = template.name.as_str();
    let mut phases: BTreeMap<Phase, Vec<Planned>> = BTreeMap::new();
    let mut add = |phase: Phase, sql: String, object: String| {
        phases
            .entry(phase)
            .or_default()
            .push(Planned { sql, object });
    };
    let remapped = |ddl: &str| -> Vec<String> {
        split_script(ddl)
            .into_iter()
            .map(|s| remap_schema(&s.sql, from, clone))
            .collect()
    };

    for sequence in &template.sequences {
        let object = format!("sequence {:?}", sequence.name);
        for sql in remapped(&sequence.ddl) {
            let sql = if sql.trim_start().to_ascii_uppercase().starts_with("CREATE") {
                restart_sequence(&sql, &sequence.last_number)?
            } else {
                sql
            };
            add(Phase::Sequences, sql, object.clone());
        }
    }
    for object in &template.types {
        for sql in remapped(&object.ddl) {
            add(Phase::Types, sql, describe(object));
        }
    }
    for table in &template.tables {
        let object = format!("table {:?}", table.name);
        for sql in remapped(&table.ddl) {
            match classify(&sql) {
                StatementKind::CreateTable => {
                    let prepared =
                        prepare_table(&strip_storage(&sql), clone, &table.name, &table.identity)?;
                    add(Phase::Tables, prepared.create, object.clone());
                    for restore in prepared.restore {
                        add(Phase::Identities, restore, object.clone());
                    }
                }
                StatementKind::CreateIndex => {
                    add(Phase::Indexes, strip_storage(&sql), object.clone())
                }
                StatementKind::AlterTable => {
                    add(Phase::Constraints, strip_storage(&sql), object.clone());
                }
                StatementKind::AlterTrigger | StatementKind::Comment | StatementKind::Other => {
                    add(Phase::Constraints, sql, object.clone());
                }
            }
        }
        if table.copy_rows && !table.columns.is_empty() {
            add(
                Phase::Rows,
                copy_rows(from, clone, &table.name, &table.columns),
                format!("rows of {:?}", table.name),
            );
        }
    }
    for index in &template.indexes {
        for sql in remapped(&index.ddl) {
            let sql = match classify(&sql) {
                StatementKind::CreateIndex => strip_storage(&sql),
                _ => sql,
            };
            add(Phase::Indexes, sql, describe(index));
        }
    }
    for (objects, phase) in [
        (&template.foreign_keys, Phase::ForeignKeys),
        (&template.synonyms, Phase::Synonyms),
        (&template.views, Phase::Views),
        (&template.triggers, Phase::Triggers),
    ] {
        for object in objects {
            for sql in remapped(&object.ddl) {
                add(phase, sql, describe(object));
            }
        }
    }
    for object in &template.code {
        let phase = if object.object_type.ends_with("BODY") {
            Phase::Bodies
        } else {
            Phase::Specifications
        };
        for sql in remapped(&object.ddl) {
            add(phase, sql, describe(object));
        }
    }
    Ok(ClonePlan {
        steps: phases
            .into_iter()
            .map(|(phase, statements)| Step { phase, statements })
            .collect(),
    })
}

fn describe(object: &SourceObject) -> String {
    format!("{} {:?}", object.object_type.to_lowercase(), object.name)
}

/// Orders type specifications so that each comes after the types it
/// uses (`dependencies`: (type, type it references), both in the schema);
/// types in a cycle follow in name order (they are created with errors and
/// recompiled).
pub(crate) fn order_types(
    types: Vec<SourceObject>,
    dependencies: &[(String, String)],
) -> Vec<SourceObject> {
    let names: BTreeSet<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let mut waiting_on: BTreeMap<&str, BTreeSet<&str>> = types
        .iter()
        .map(|t| (t.name.as_str(), BTreeSet::new()))
        .collect();
    for (dependent, referenced) in dependencies {
        if dependent != referenced
            && names.contains(referenced.as_str())
            && let Some(set) = waiting_on.get_mut(dependent.as_str())
        {
            set.insert(referenced.as_str());
        }
    }
    let mut order: Vec<String> = Vec::new();
    while !waiting_on.is_empty() {
        let ready: Vec<&str> = waiting_on
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(name, _)| *name)
            .collect();
        let batch = if ready.is_empty() {
            // A cycle: take the first by name and go on.
            vec![*waiting_on.keys().next().expect("not empty")]
        } else {
            ready
        };
        for name in batch {
            waiting_on.remove(name);
            for deps in waiting_on.values_mut() {
                deps.remove(name);
            }
            order.push(name.to_owned());
        }
    }
    let mut by_name: BTreeMap<String, SourceObject> =
        types.into_iter().map(|t| (t.name.clone(), t)).collect();
    order
        .into_iter()
        .filter_map(|name| by_name.remove(&name))
        .collect()
}

/// An object as `ALL_OBJECTS` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ObjectInfo {
    pub(crate) object_type: String,
    pub(crate) name: String,
    /// `VALID` or `INVALID` (or `N/A`).
    pub(crate) status: String,
}

/// The object types the DDL route copies. Partitions and LOB segments come
/// with their tables.
const DDL_ROUTE_TYPES: [&str; 18] = [
    "TABLE",
    "INDEX",
    "SEQUENCE",
    "VIEW",
    "TRIGGER",
    "PROCEDURE",
    "FUNCTION",
    "PACKAGE",
    "PACKAGE BODY",
    "TYPE",
    "TYPE BODY",
    "SYNONYM",
    "LOB",
    "TABLE PARTITION",
    "TABLE SUBPARTITION",
    "INDEX PARTITION",
    "INDEX SUBPARTITION",
    "LOB PARTITION",
];

/// Whether the dictionary made the object for another one (identity
/// sequences, LOB segments and indexes, system-named constraint indexes,
/// the recycle bin), so it is not copied by itself nor compared by name.
fn system_named(name: &str) -> bool {
    name.starts_with("ISEQ$$_") || name.starts_with("SYS_") || name.starts_with("BIN$")
}

/// The template's objects the DDL route cannot copy (materialized views,
/// database links, scheduler jobs, queues, Java …), as `TYPE "NAME"`.
pub(crate) fn unsupported(objects: &[ObjectInfo]) -> Vec<String> {
    objects
        .iter()
        .filter(|o| !system_named(&o.name) && !DDL_ROUTE_TYPES.contains(&o.object_type.as_str()))
        .map(|o| format!("{} {:?}", o.object_type, o.name))
        .collect()
}

/// Compares a finished clone's objects with its template's: every object
/// of the template must be in the clone, and none valid in the template
/// may be invalid in the clone. The error lists what is wrong.
pub(crate) fn verify(template: &[ObjectInfo], clone: &[ObjectInfo]) -> Result<(), String> {
    let in_clone: BTreeMap<(&str, &str), &str> = clone
        .iter()
        .map(|o| ((o.object_type.as_str(), o.name.as_str()), o.status.as_str()))
        .collect();
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    for object in template
        .iter()
        .filter(|o| !system_named(&o.name) && o.object_type != "DATABASE LINK")
    {
        match in_clone.get(&(object.object_type.as_str(), object.name.as_str())) {
            None => missing.push(format!("{} {:?}", object.object_type, object.name)),
            Some(&"INVALID") if object.status != "INVALID" => {
                invalid.push(format!("{} {:?}", object.object_type, object.name));
            }
            Some(_) => {}
        }
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing in the clone: {}", missing.join(", ")));
    }
    if !invalid.is_empty() {
        problems.push(format!(
            "invalid in the clone though valid in the template: {}",
            invalid.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::samples;

    fn object(object_type: &str, name: &str, ddl: &str) -> SourceObject {
        SourceObject {
            object_type: object_type.to_owned(),
            name: name.to_owned(),
            ddl: ddl.to_owned(),
        }
    }

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|c| (*c).to_owned()).collect()
    }

    /// A template like the conformance kit's, plus a package, a procedure,
    /// a function, a synonym, types and a 23ai table, read from a server.
    fn shop() -> TemplateSchema {
        TemplateSchema {
            name: "TPL".to_owned(),
            sequences: vec![
                SequenceDef {
                    name: "INVOICE_NUMBERS".to_owned(),
                    ddl: samples::SEQUENCE_INVOICE_NUMBERS_19C.to_owned(),
                    last_number: "1020".to_owned(),
                },
                SequenceDef {
                    name: "TICKET_REFS".to_owned(),
                    ddl: samples::SEQUENCE_TICKET_REFS_23AI.to_owned(),
                    last_number: "23".to_owned(),
                },
            ],
            types: vec![
                object("TYPE", "MONEY_T", samples::TYPE_MONEY_SPEC_19C),
                object("TYPE", "PRICE_LIST_T", samples::TYPE_PRICE_LIST_SPEC_19C),
            ],
            tables: vec![
                TableDef {
                    name: "CUSTOMERS".to_owned(),
                    ddl: samples::TABLE_CUSTOMERS_19C.to_owned(),
                    columns: columns(&["ID", "NAME", "EMAIL", "NOTE"]),
                    copy_rows: true,
                    identity: vec![IdentityColumn {
                        column: "ID".to_owned(),
                        next: "6".to_owned(),
                    }],
                },
                TableDef {
                    name: "ORDERS".to_owned(),
                    ddl: samples::TABLE_ORDERS_19C.to_owned(),
                    columns: columns(&["ID", "CUSTOMER_ID", "STATUS", "TOTAL_CENTS"]),
                    copy_rows: true,
                    identity: vec![IdentityColumn {
                        column: "ID".to_owned(),
                        next: "4".to_owned(),
                    }],
                },
                TableDef {
                    name: "PRODUCTS".to_owned(),
                    ddl: samples::TABLE_PRODUCTS_19C.to_owned(),
                    columns: columns(&["ID", "SKU", "NAME", "PRICE_CENTS"]),
                    copy_rows: true,
                    identity: vec![],
                },
                TableDef {
                    name: "TICKETS".to_owned(),
                    ddl: samples::TABLE_TICKETS_23AI.to_owned(),
                    columns: columns(&["ID", "SEQ_NO", "TITLE", "NOTE", "CREATED_AT"]),
                    copy_rows: true,
                    identity: vec![
                        IdentityColumn {
                            column: "ID".to_owned(),
                            next: "8".to_owned(),
                        },
                        IdentityColumn {
                            column: "SEQ_NO".to_owned(),
                            next: "140".to_owned(),
                        },
                    ],
                },
                TableDef {
                    name: "SCRATCH".to_owned(),
                    ddl: "\n  CREATE GLOBAL TEMPORARY TABLE \"TPL\".\"SCRATCH\" \n   (\t\"X\" NUMBER\n   ) ON COMMIT DELETE ROWS ;"
                        .to_owned(),
                    columns: columns(&["X"]),
                    copy_rows: false,
                    identity: vec![],
                },
            ],
            indexes: vec![
                object("INDEX", "CUSTOMERS_EMAIL_UQ", samples::INDEX_EMAIL_19C_DEFAULT),
                object("INDEX", "ORDERS_CUSTOMER_IX", samples::INDEX_ORDERS_CUSTOMER_19C),
                object(
                    "INDEX",
                    "CUSTOMERS_LOWER_EMAIL_IX",
                    samples::INDEX_CUSTOMERS_LOWER_EMAIL_23AI,
                ),
            ],
            foreign_keys: vec![
                object("REF_CONSTRAINT", "ORDERS_CUSTOMER_FK", samples::REF_CONSTRAINT_ORDERS_CUSTOMER_19C),
                object(
                    "REF_CONSTRAINT",
                    "ORDER_ITEMS_ORDER_FK",
                    samples::REF_CONSTRAINT_ORDER_ITEMS_ORDER_19C,
                ),
            ],
            synonyms: vec![object("SYNONYM", "PURCHASES", samples::SYNONYM_PURCHASES_19C)],
            code: vec![
                object("FUNCTION", "CENTS_TO_TEXT", samples::FUNCTION_CENTS_TO_TEXT_19C),
                object("PACKAGE", "SHOP_API", samples::PACKAGE_SHOP_API_SPEC_19C),
                object("PACKAGE BODY", "SHOP_API", samples::PACKAGE_SHOP_API_BODY_19C),
                object("PROCEDURE", "PURGE_AUDIT", samples::PROCEDURE_PURGE_AUDIT_19C),
            ],
            views: vec![object("VIEW", "CUSTOMER_ORDERS", samples::VIEW_CUSTOMER_ORDERS_19C)],
            triggers: vec![
                object("TRIGGER", "ORDERS_AUDIT", samples::TRIGGER_ORDERS_AUDIT_19C),
                object("TRIGGER", "TICKETS_STAMP", samples::TRIGGER_TICKETS_STAMP_23AI),
            ],
        }
    }

    const CLONE: &str = "shop_pcabc123xyz0_w1";

    fn plan() -> ClonePlan {
        clone_plan(&shop(), CLONE).unwrap()
    }

    #[test]
    fn phases_run_in_dependency_order() {
        let phases: Vec<Phase> = plan().steps.iter().map(|s| s.phase).collect();
        assert_eq!(
            phases,
            vec![
                Phase::Sequences,
                Phase::Types,
                Phase::Tables,
                Phase::Rows,
                Phase::Indexes,
                Phase::Constraints,
                Phase::ForeignKeys,
                Phase::Identities,
                Phase::Synonyms,
                Phase::Specifications,
                Phase::Views,
                Phase::Bodies,
                Phase::Triggers,
            ]
        );
        assert!(Phase::Rows.parallel() && Phase::Indexes.parallel());
        assert!(!Phase::Tables.parallel() && !Phase::Triggers.parallel());
    }

    #[test]
    fn no_statement_names_the_template_schema() {
        for sql in plan().statements() {
            if sql.starts_with("INSERT /*+ APPEND */") {
                continue;
            }
            assert!(!sql.contains("\"TPL\""), "{sql}");
            // Only PL/SQL units keep their final `;`.
            if sql.ends_with(';') {
                let tokens = crate::plan::lexer::tokenize(sql);
                assert!(crate::plan::script::is_plsql(&tokens), "{sql}");
            }
        }
    }

    #[test]
    fn sequences_continue_from_the_templates_value() {
        let plan = plan();
        let step = &plan.steps[0];
        assert_eq!(step.statements.len(), 2);
        assert!(
            step.statements[0]
                .sql
                .contains(&format!("\"{CLONE}\".\"INVOICE_NUMBERS\"  MINVALUE 1 MAXVALUE 9999999999999999999999999999 INCREMENT BY 10 START WITH 1020 NOCACHE")),
            "{}",
            step.statements[0].sql
        );
        // The cached sequence continues at its next value, not at the
        // end of its cache that GET_DDL printed.
        assert!(
            step.statements[1].sql.contains("START WITH 23 CACHE 20"),
            "{}",
            step.statements[1].sql
        );
        assert_eq!(step.statements[1].object, "sequence \"TICKET_REFS\"");
    }

    #[test]
    fn tables_are_created_bare_and_filled_before_their_constraints() {
        let plan = plan();
        let tables = &plan.steps[2];
        assert_eq!(tables.phase, Phase::Tables);
        assert_eq!(tables.statements.len(), 5);
        let customers = &tables.statements[0].sql;
        assert!(
            customers.starts_with(&format!("CREATE TABLE \"{CLONE}\".\"CUSTOMERS\"")),
            "{customers}"
        );
        assert!(customers.contains("GENERATED BY DEFAULT AS IDENTITY MINVALUE 1 MAXVALUE 9999999999999999999999999999 INCREMENT BY 1 START WITH 6 CACHE 20"), "{customers}");
        assert!(!customers.contains("CONSTRAINT"), "{customers}");
        let tickets = &tables.statements[3].sql;
        assert!(
            tickets.contains("\"ID\" NUMBER GENERATED BY DEFAULT AS IDENTITY"),
            "{tickets}"
        );
        assert!(tickets.contains("START WITH 140"), "{tickets}");
        let rows = &plan.steps[3];
        assert_eq!(rows.phase, Phase::Rows);
        assert_eq!(
            rows.statements
                .iter()
                .map(|p| p.object.as_str())
                .collect::<Vec<_>>(),
            vec![
                "rows of \"CUSTOMERS\"",
                "rows of \"ORDERS\"",
                "rows of \"PRODUCTS\"",
                "rows of \"TICKETS\""
            ],
            "the temporary table's rows are not copied"
        );
        // The virtual column is neither written nor read.
        assert_eq!(
            rows.statements[3].sql,
            format!(
                "INSERT /*+ APPEND */ INTO \"{CLONE}\".\"TICKETS\" (\"ID\", \"SEQ_NO\", \"TITLE\", \"NOTE\", \"CREATED_AT\") \
                 SELECT \"ID\", \"SEQ_NO\", \"TITLE\", \"NOTE\", \"CREATED_AT\" FROM \"TPL\".\"TICKETS\""
            )
        );
    }

    #[test]
    fn indexes_and_constraints_follow_the_rows_and_foreign_keys_come_last() {
        let plan = plan();
        let indexes = &plan.steps[4];
        assert_eq!(indexes.phase, Phase::Indexes);
        assert_eq!(
            indexes
                .statements
                .iter()
                .map(|p| p.sql.as_str())
                .collect::<Vec<_>>(),
            vec![
                format!(
                    "CREATE UNIQUE INDEX \"{CLONE}\".\"CUSTOMERS_EMAIL_UQ\" ON \"{CLONE}\".\"CUSTOMERS\" (\"EMAIL\")"
                ),
                format!(
                    "CREATE INDEX \"{CLONE}\".\"ORDERS_CUSTOMER_IX\" ON \"{CLONE}\".\"ORDERS\" (\"CUSTOMER_ID\")"
                ),
                format!(
                    "CREATE INDEX \"{CLONE}\".\"CUSTOMERS_LOWER_EMAIL_IX\" ON \"{CLONE}\".\"CUSTOMERS\" (LOWER(\"EMAIL\"))"
                ),
            ]
        );
        let constraints = &plan.steps[5];
        assert_eq!(constraints.phase, Phase::Constraints);
        assert_eq!(
            constraints.statements[0].sql,
            format!(
                "ALTER TABLE \"{CLONE}\".\"CUSTOMERS\" ADD CONSTRAINT \"CUSTOMERS_PK\" PRIMARY KEY (\"ID\")\n  USING INDEX  ENABLE"
            )
        );
        assert!(
            constraints
                .statements
                .iter()
                .any(|p| p.sql.contains("CHECK (title <> 'x;y') ENABLE"))
        );
        let fks = &plan.steps[6];
        assert_eq!(
            fks.statements[1].sql,
            format!(
                "ALTER TABLE \"{CLONE}\".\"ORDER_ITEMS\" ADD CONSTRAINT \"ORDER_ITEMS_ORDER_FK\" FOREIGN KEY (\"ORDER_ID\")\n\
                 \t  REFERENCES \"{CLONE}\".\"ORDERS\" (\"ID\") ON DELETE CASCADE ENABLE"
            )
        );
        let identities = &plan.steps[7];
        assert_eq!(identities.phase, Phase::Identities);
        assert_eq!(identities.statements.len(), 1);
        assert!(identities.statements[0].sql.starts_with(&format!(
            "ALTER TABLE \"{CLONE}\".\"TICKETS\" MODIFY (\"ID\" GENERATED ALWAYS AS IDENTITY (MINVALUE 1"
        )));
    }

    #[test]
    fn code_views_and_triggers_come_after_the_data() {
        let plan = plan();
        let by_phase = |phase: Phase| -> Vec<String> {
            plan.steps
                .iter()
                .find(|s| s.phase == phase)
                .map(|s| s.statements.iter().map(|p| p.sql.clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            by_phase(Phase::Synonyms),
            vec![format!(
                "CREATE OR REPLACE EDITIONABLE SYNONYM \"{CLONE}\".\"PURCHASES\" FOR \"{CLONE}\".\"ORDERS\""
            )]
        );
        let specs = by_phase(Phase::Specifications);
        assert_eq!(specs.len(), 3);
        assert!(specs[1].starts_with(&format!(
            "CREATE OR REPLACE EDITIONABLE PACKAGE \"{CLONE}\".\"SHOP_API\" AS"
        )));
        assert!(specs[1].ends_with("END shop_api;"));
        let bodies = by_phase(Phase::Bodies);
        assert_eq!(bodies.len(), 1);
        assert!(
            bodies[0].contains(&format!("INSERT INTO \"{CLONE}\".audit_log")),
            "{}",
            bodies[0]
        );
        assert!(bodies[0].contains("q'[event; /\n/]'"), "{}", bodies[0]);
        assert!(bodies[0].contains("RETURN v_total; -- cents; never null"));
        let views = by_phase(Phase::Views);
        assert_eq!(
            views,
            vec![format!(
                "CREATE OR REPLACE FORCE EDITIONABLE VIEW \"{CLONE}\".\"CUSTOMER_ORDERS\" (\"CUSTOMER_NAME\", \"ORDER_ID\", \
                 \"STATUS\", \"TOTAL_CENTS\") DEFAULT COLLATION \"USING_NLS_COMP\"  AS \n  SELECT c.name AS customer_name, \
                 o.id AS order_id, o.status AS status, o.total_cents AS total_cents\n    FROM customers c JOIN orders o ON o.customer_id = c.id"
            )]
        );
        let triggers = by_phase(Phase::Triggers);
        assert_eq!(triggers.len(), 4);
        assert!(triggers[0].starts_with(&format!(
            "CREATE OR REPLACE EDITIONABLE TRIGGER \"{CLONE}\".\"ORDERS_AUDIT\""
        )));
        assert!(triggers[0].ends_with("END;"));
        assert_eq!(
            triggers[1],
            format!("ALTER TRIGGER \"{CLONE}\".\"ORDERS_AUDIT\" ENABLE")
        );
        assert!(triggers[2].contains(&format!("BEFORE UPDATE ON \"{CLONE}\".\"TICKETS\"")));
        assert!(
            triggers[2].contains("/* keep the creation time;\n  /\n  */"),
            "{}",
            triggers[2]
        );
        assert_eq!(
            triggers[3],
            format!("ALTER TRIGGER \"{CLONE}\".\"TICKETS_STAMP\" DISABLE")
        );
    }

    #[test]
    fn types_come_before_the_tables_in_dependency_order() {
        let types = order_types(
            vec![
                object("TYPE", "PRICE_LIST_T", samples::TYPE_PRICE_LIST_SPEC_19C),
                object("TYPE", "A_T", "CREATE TYPE a_t AS OBJECT (x NUMBER);\n/"),
                object("TYPE", "MONEY_T", samples::TYPE_MONEY_SPEC_19C),
            ],
            &[
                ("PRICE_LIST_T".to_owned(), "MONEY_T".to_owned()),
                ("MONEY_T".to_owned(), "STANDARD".to_owned()),
                ("MONEY_T".to_owned(), "MONEY_T".to_owned()),
            ],
        );
        let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["A_T", "MONEY_T", "PRICE_LIST_T"]);
        let cyclic = order_types(
            vec![object("TYPE", "B", ""), object("TYPE", "A", "")],
            &[
                ("A".to_owned(), "B".to_owned()),
                ("B".to_owned(), "A".to_owned()),
            ],
        );
        assert_eq!(
            cyclic.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            vec!["A", "B"]
        );
        let plan = plan();
        assert_eq!(
            plan.steps[1].statements[1].sql,
            format!(
                "CREATE OR REPLACE EDITIONABLE TYPE \"{CLONE}\".\"PRICE_LIST_T\" AS TABLE OF \"{CLONE}\".\"MONEY_T\";"
            )
        );
    }

    #[test]
    fn a_table_whose_identity_is_not_in_its_ddl_fails_the_plan() {
        let mut template = shop();
        template.tables[2].identity.push(IdentityColumn {
            column: "SKU".to_owned(),
            next: "1".to_owned(),
        });
        assert_eq!(
            clone_plan(&template, CLONE).unwrap_err(),
            DdlError::IdentityNotFound {
                table: "PRODUCTS".to_owned(),
                column: "SKU".to_owned()
            }
        );
    }

    fn info(object_type: &str, name: &str, status: &str) -> ObjectInfo {
        ObjectInfo {
            object_type: object_type.to_owned(),
            name: name.to_owned(),
            status: status.to_owned(),
        }
    }

    #[test]
    fn a_faithful_clone_verifies() {
        let template = vec![
            info("TABLE", "ORDERS", "VALID"),
            info("INDEX", "SYS_C008123", "VALID"),
            info("SEQUENCE", "ISEQ$$_73142", "VALID"),
            info("PACKAGE BODY", "SHOP_API", "VALID"),
            info("VIEW", "BROKEN", "INVALID"),
        ];
        let clone = vec![
            info("TABLE", "ORDERS", "VALID"),
            info("INDEX", "SYS_C008200", "VALID"),
            info("SEQUENCE", "ISEQ$$_73200", "VALID"),
            info("PACKAGE BODY", "SHOP_API", "VALID"),
            info("VIEW", "BROKEN", "INVALID"),
        ];
        assert_eq!(verify(&template, &clone), Ok(()));
    }

    #[test]
    fn missing_and_newly_invalid_objects_are_listed() {
        let template = vec![
            info("TABLE", "ORDERS", "VALID"),
            info("TRIGGER", "ORDERS_AUDIT", "VALID"),
            info("PACKAGE BODY", "SHOP_API", "VALID"),
        ];
        let clone = vec![
            info("TABLE", "ORDERS", "VALID"),
            info("PACKAGE BODY", "SHOP_API", "INVALID"),
        ];
        assert_eq!(
            verify(&template, &clone),
            Err("missing in the clone: TRIGGER \"ORDERS_AUDIT\"; invalid in the clone though valid in the template: \
                 PACKAGE BODY \"SHOP_API\""
                .to_owned())
        );
    }

    #[test]
    fn objects_the_ddl_route_cannot_copy_are_named() {
        let objects = vec![
            info("TABLE", "ORDERS", "VALID"),
            info("LOB", "SYS_LOB0000073150C00002$$", "VALID"),
            info("MATERIALIZED VIEW", "SALES_MV", "VALID"),
            info("DATABASE LINK", "REMOTE", "VALID"),
            info("JOB", "NIGHTLY", "VALID"),
        ];
        assert_eq!(
            unsupported(&objects),
            vec![
                "MATERIALIZED VIEW \"SALES_MV\"",
                "DATABASE LINK \"REMOTE\"",
                "JOB \"NIGHTLY\""
            ]
        );
    }
}
