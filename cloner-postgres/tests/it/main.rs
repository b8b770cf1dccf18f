//! The PostgreSQL backend's integration tests, in one binary (one link, fast
//! builds), against a live server: `PARACLONE_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres`. Without a server every test
//! fails, saying how to start one (there is no silent skip: a backend
//! maintainer must see that nothing was tested).
//!
//! - `conformance`: the cloner crate's conformance kit;
//! - `in_use`: a session holding the template, waited for, named,
//!   terminated on request;
//! - `errors`: unreachable server, refused login, missing `CREATEDB`,
//!   missing maintenance database, passwords kept out of messages;
//! - `names`: long and odd names within 63 bytes, and the worker URL as
//!   real clients read it;
//! - `server`: version, concurrency hint, strategies.

mod conformance;
mod errors;
mod in_use;
mod names;
mod server;
mod support;
