//! paraclone's SQLite backend: templates and clones are files, cloned by copy, backup or `VACUUM INTO`.
//!
//! A SQLite database is one file, so a clone is a copy of the template's
//! file, and the question is only how to copy it safely and fast:
//!
//! - [`Method::Copy`] copies the file as it is. It is the fastest (two to
//!   three times faster than a backup), but only faithful when
//!   every page is in the main file and nobody writes to it: the cloner
//!   therefore seals templates ([`Cloner::seal_template`](cloner::Cloner::seal_template):
//!   checkpoint, rollback journal mode, close, sync) and falls back to a
//!   backup for a template that still has a journal next to it.
//! - [`Method::Backup`] copies pages through SQLite's online backup API,
//!   consistent even while another connection reads the template.
//! - [`Method::Vacuum`] runs `VACUUM INTO`, which rebuilds the database
//!   compactly; the slowest of the three.
//!
//! [`Method::Auto`] picks the fastest safe one, as measured (see
//! [`Method`] for the numbers). Files go to a directory on disk or, with
//! [`Target::Ram`], to a RAM-backed one (`/dev/shm`), where cloning and
//! tests skip the disk altogether.
//!
//! The [`worker`] module is the other half, used inside test processes
//! rather than by the runner: it opens the clone named by `DATABASE_URL`
//! and can load it into a shared in-memory database first, as Django does
//! for SQLite under the spawn start method.
//!
//! The backend runs the whole [conformance kit](cloner::conformance) in its
//! own tests, for every method on disk and in RAM.

mod files;
mod options;
mod sqlite_cloner;
mod url;

pub mod worker;

pub use options::{Method, ParseOptionError, SqliteOptions, Target};
pub use sqlite_cloner::SqliteCloner;
