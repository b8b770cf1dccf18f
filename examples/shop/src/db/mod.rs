//! The database connection: one [`Db`] type over a SQLite, PostgreSQL or MySQL/MariaDB client.
//!
//! `connection.rs` holds what every dialect shares (placeholders,
//! transactions and savepoints, the query helpers); each client crate is
//! touched by its own file only, which converts [`Value`](crate::Value)s,
//! rows and errors between that client's types and the shop's.

mod connection;
mod mysql;
mod postgres;
mod sqlite;

pub use connection::Db;
