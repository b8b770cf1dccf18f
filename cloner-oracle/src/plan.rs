//! The pure layer: every statement the cloner runs is built here, from
//! plain data, without I/O, so that all of it is unit-tested on machines
//! without an Oracle server.
//!
//! - [`lexer`]: tokens of Oracle SQL and PL/SQL;
//! - [`script`]: splitting scripts (`;` statements, `/`-terminated PL/SQL);
//! - [`ddl`]: remapping `GET_DDL` output to the clone's schema, dropping
//!   storage clauses, restarting sequences;
//! - [`identity`]: identity columns that continue where the template's did;
//! - [`schema`]: the template as read, the ordered clone plan, the check
//!   of the finished clone;
//! - [`statements`]: users, grants, quotas, drops, sessions, recompiles;
//! - [`datapump`]: the Data Pump route's link and import job;
//! - [`names`]: identifier limits, quoting, logins, passwords.

pub(crate) mod datapump;
pub(crate) mod ddl;
pub(crate) mod identity;
pub(crate) mod lexer;
pub(crate) mod names;
pub(crate) mod schema;
pub(crate) mod script;
pub(crate) mod statements;

#[cfg(test)]
pub(crate) mod samples;
