//! The contract between paraclone's runner and its database backends.
//!
//! A test run builds one *template* database per alias and then makes one
//! *clone* of it per worker. How a clone is made is the whole difference
//! between a slow and a fast parallel test run, and it differs per DBMS:
//! SQLite copies a file, PostgreSQL copies a database with
//! `CREATE DATABASE … TEMPLATE`, MySQL restores a dump, Oracle copies a
//! schema. This crate names what every backend must be able to do (the
//! [`Cloner`] trait), holds the pieces that must be done the same way
//! everywhere (database [naming](naming), identifier [quoting](quote),
//! password [redaction](redact)), and ships the [conformance kit](conformance)
//! that every backend runs against a live database in its own test suite.
//!
//! This crate never talks to a database itself and never spawns a process.

mod connection;
mod error;
mod traits;

pub mod conformance;
pub mod migrator;
pub mod naming;
pub mod quote;
pub mod redact;
pub mod url;

pub use connection::Connection;
pub use error::{BoxError, ClonerError};
pub use traits::{Cloner, Migration};
