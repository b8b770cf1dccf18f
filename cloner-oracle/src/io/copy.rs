//! Running a clone plan: statements in order on the clone's DDL session,
//! the row copies and index builds at once on sessions of their own; the
//! Data Pump import; recompiling and checking the result.

use std::sync::Mutex;

use cloner::ClonerError;
use oracle::sql_type::OracleType;

use crate::error::{OracleError, ora};
use crate::io::catalog::objects;
use crate::io::session::{exec, rows};
use crate::oracle_cloner::Shared;
use crate::plan::datapump::{create_link, drop_link, import_block};
use crate::plan::names::link_name;
use crate::plan::schema::{ClonePlan, ObjectInfo, Planned, verify};
use crate::plan::statements::compile;

/// What a failed statement of a clone becomes.
fn statement_error(
    shared: &Shared,
    clone: &str,
    planned: &Planned,
    error: &oracle::Error,
) -> ClonerError {
    let source = shared.oracle_error(error).context(&planned.object);
    if source.ora == Some(ora::INSUFFICIENT_PRIVILEGES) {
        return ClonerError::Privilege {
            privilege:
                "DBA (or CREATE ANY TABLE, SELECT ANY TABLE, INSERT ANY TABLE and the other ANY \
                        privileges the crate documentation lists)"
                    .to_owned(),
            server: shared.server.label().to_owned(),
            source: Box::new(source),
        };
    }
    ClonerError::Database {
        op: "copy the template into",
        name: clone.to_owned(),
        source: Box::new(source),
    }
}

/// Runs `plan` into the (existing, empty) user `clone`; `conn` is a session
/// of the cloner's login.
pub(crate) fn run_plan(
    shared: &Shared,
    conn: &oracle::Connection,
    clone: &str,
    plan: &ClonePlan,
) -> Result<(), ClonerError> {
    exec(conn, &crate::plan::statements::set_current_schema(clone))
        .map_err(|e| shared.database_error("open a session for", clone, &e))?;
    for step in &plan.steps {
        if step.phase.parallel() && step.statements.len() > 1 {
            run_parallel(shared, clone, &step.statements)?;
            continue;
        }
        for planned in &step.statements {
            exec(conn, &planned.sql)
                .and_then(|()| conn.commit())
                .map_err(|e| statement_error(shared, clone, planned, &e))?;
        }
    }
    Ok(())
}

/// Runs `statements` on up to `copy_parallelism` sessions at once, each
/// taking the next statement when it is done; stops at the first error.
fn run_parallel(shared: &Shared, clone: &str, statements: &[Planned]) -> Result<(), ClonerError> {
    let workers = shared.options.copy_parallelism.clamp(1, statements.len());
    let queue = Mutex::new(statements.iter());
    let failure: Mutex<Option<ClonerError>> = Mutex::new(None);
    let fail = |error: ClonerError| {
        let mut slot = failure.lock().expect("not poisoned");
        slot.get_or_insert(error);
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let conn = match shared.admin_session() {
                    Ok(conn) => conn,
                    Err(error) => return fail(error),
                };
                if let Err(e) = exec(&conn, &crate::plan::statements::set_current_schema(clone)) {
                    return fail(shared.database_error("open a session for", clone, &e));
                }
                loop {
                    if failure.lock().expect("not poisoned").is_some() {
                        break;
                    }
                    let Some(planned) = queue.lock().expect("not poisoned").next() else {
                        break;
                    };
                    // A direct-path insert must be committed before the
                    // table can be read again.
                    if let Err(e) = exec(&conn, &planned.sql).and_then(|()| conn.commit()) {
                        fail(statement_error(shared, clone, planned, &e));
                        break;
                    }
                }
                let _ = conn.close();
            });
        }
    });
    match failure.into_inner().expect("not poisoned") {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Imports schema `template` as `clone` with Data Pump over a loopback
/// link that exists only for the import.
pub(crate) fn run_datapump(
    shared: &Shared,
    conn: &oracle::Connection,
    template: &str,
    clone: &str,
) -> Result<(), ClonerError> {
    let link = link_name(template, clone);
    let connect = shared
        .options
        .link_connect_string
        .clone()
        .unwrap_or_else(|| shared.server.connect_string());
    let failed = |what: &str, e: &oracle::Error| {
        let source = shared.oracle_error(e).context(what);
        if source.ora == Some(ora::INSUFFICIENT_PRIVILEGES) {
            ClonerError::Privilege {
                privilege: "CREATE DATABASE LINK and DATAPUMP_IMP_FULL_DATABASE".to_owned(),
                server: shared.server.label().to_owned(),
                source: Box::new(source),
            }
        } else {
            ClonerError::Database {
                op: "import the template with Data Pump into",
                name: clone.to_owned(),
                source: Box::new(source),
            }
        }
    };
    // A link of an earlier, killed attempt at the same clone is in the way.
    let _ = exec(conn, &drop_link(&link));
    exec(
        conn,
        &create_link(
            &link,
            &shared.server.dictionary_user(),
            shared.server.password(),
            &connect,
        ),
    )
    .map_err(|e| failed("create the loopback database link", &e))?;
    let result = (|| -> Result<String, oracle::Error> {
        let mut statement = conn
            .statement(&import_block(
                &link,
                template,
                clone,
                shared.options.copy_parallelism as u32,
            ))
            .build()?;
        statement.execute_named(&[("state", &OracleType::Varchar2(30))])?;
        statement.bind_value("state")
    })();
    let _ = exec(conn, &drop_link(&link));
    let state = result.map_err(|e| failed("run the Data Pump import", &e))?;
    if state != "COMPLETED" {
        return Err(ClonerError::Database {
            op: "import the template with Data Pump into",
            name: clone.to_owned(),
            source: Box::new(OracleError::message(format!(
                "the Data Pump job ended in state {state:?}; its log is in DBA_DATAPUMP_JOBS / the \
                 alert log"
            ))),
        });
    }
    Ok(())
}

/// Recompiles the clone's invalid objects until none is left or a round
/// makes no progress (objects invalid in the template stay invalid).
pub(crate) fn recompile(conn: &oracle::Connection, clone: &str) -> Result<(), oracle::Error> {
    let mut left = usize::MAX;
    for _ in 0..4 {
        let invalid = rows(
            conn,
            "SELECT object_type, object_name FROM all_objects WHERE owner = :owner AND status = 'INVALID' \
             ORDER BY DECODE(object_type, 'TYPE', 1, 'PACKAGE', 2, 'FUNCTION', 3, 'PROCEDURE', 3, 'VIEW', 4, \
               'SYNONYM', 4, 5), object_name",
            &[("owner", &clone)],
        )?;
        if invalid.is_empty() || invalid.len() >= left {
            break;
        }
        left = invalid.len();
        for row in invalid {
            if let [Some(object_type), Some(name)] = &row[..]
                && let Some(sql) = compile(object_type, clone, name)
            {
                // Failing to compile leaves the object invalid, which
                // `check` reports if the template's was valid.
                let _ = exec(conn, &sql);
            }
        }
    }
    Ok(())
}

/// Checks the finished clone against the template's objects.
pub(crate) fn check(
    shared: &Shared,
    conn: &oracle::Connection,
    template_objects: &[ObjectInfo],
    clone: &str,
) -> Result<(), ClonerError> {
    recompile(conn, clone)
        .map_err(|e| shared.database_error("recompile the objects of", clone, &e))?;
    let made = objects(conn, clone)
        .map_err(|e| shared.database_error("list the objects of", clone, &e))?;
    verify(template_objects, &made).map_err(|problems| ClonerError::Database {
        op: "check the copy in",
        name: clone.to_owned(),
        source: Box::new(OracleError::message(problems)),
    })
}
