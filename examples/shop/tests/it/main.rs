//! The shop's test suite: one binary, one module per area, every test on a real database.
//!
//! Each test opens the database named by `DATABASE_URL` (the worker's clone
//! when paraclone runs the suite; its scheme says the dialect, `sqlite:`,
//! `postgres://` or `mysql://`, and every test runs on each), deletes every
//! row of the app's mutable tables, as Django's `TransactionTestCase` does,
//! and then commits real data and asserts exact counts, ids and unique keys. Run one after another on
//! one database, every test passes; run at the same time on a shared one,
//! they trample each other. That is why each worker needs its own clone.

mod coupons;
mod customers;
mod demo;
mod isolation;
mod orders;
mod overlap;
mod products;
mod reports;
mod schema;
mod support;
mod transactions;
