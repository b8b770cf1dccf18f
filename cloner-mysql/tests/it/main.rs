//! The MySQL/MariaDB backend's integration tests, in one binary (one link,
//! fast builds), against the server named by `PARACLONE_MYSQL_URL` (else
//! `mysql://root@127.0.0.1:3306`). An unreachable server fails every test
//! with a message saying how to start one; nothing is skipped.
//!
//! - `cache`: a changed template is read again after sealing or recreating;
//! - `conformance`: the cloner crate's conformance kit, for clones whose
//!   rows the server copies, clones made from tablespace files, and clones
//!   streamed through the client;
//! - `files`: the file route: which tables it takes, instant `ALTER`s,
//!   the template's export lock, a clone left half-moved by a killed run,
//!   a data directory that is not the server's. It needs MariaDB 10.6+ on
//!   this machine with its data directory readable and writable by the
//!   tests (root, or the server's user), as CI has it;
//! - `objects`: procedures, functions (also with `DELIMITER` bodies),
//!   events, triggers, views over views, cascading foreign keys, character
//!   sets, generated columns, AUTO_INCREMENT and sequences, in every clone;
//! - `dump`: the dump file loads with the `mariadb` client (and as a
//!   migration) into a copy of the template;
//! - `time_zones`: `TIMESTAMP`s survive clones and dumps under non-UTC
//!   session time zones;
//! - `errors`: unreachable servers, refused logins, missing privileges.

mod cache;
mod conformance;
mod dump;
mod errors;
mod files;
mod objects;
mod support;
mod time_zones;
