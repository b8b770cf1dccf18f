//! `shop`: the data layer of a small online shop, the example application whose
//! database-backed test suite paraclone runs.
//!
//! Customers register once per email address, products have unique SKUs and a
//! stock that can never go negative, orders are placed all or nothing (a
//! trigger takes their units out of stock, and any refusal rolls everything
//! back), coupons have unique codes and usage limits, and reports read the
//! `order_totals` view. The schema is created by the SQL migrations in
//! `migrations/<dialect>/`, which paraclone applies to the template database
//! once; neither the application nor its tests create tables.
//!
//! The SQL is written once, portably; [`Dialect`] holds what differs between
//! SQLite, PostgreSQL and MySQL/MariaDB, and [`Db`] is the only type that
//! knows a client crate: one connection over rusqlite, `postgres` or `mysql`,
//! chosen by the scheme of the database URL ([`Db::connect`]) or by the
//! connection it wraps. All three clients are always compiled in.
//!
//! The test suite (`tests/it`) is the point of the example: every test commits
//! real rows and asserts exact counts and unique keys, so two tests sharing a
//! database at the same time break each other, and running them in parallel
//! needs one database per worker.

mod catalog;
mod coupons;
mod customers;
mod db;
mod dialect;
mod error;
mod model;
mod orders;
mod reports;
mod shop;
mod value;

pub use db::Db;
pub use dialect::{Dialect, Placeholders};
pub use error::{BoxError, ConstraintKind, DbError, ShopError};
pub use model::{
    Category, CategoryId, CategoryRevenue, Coupon, CouponId, Customer, CustomerId, CustomerSpend,
    NewProduct, Order, OrderId, OrderItem, OrderLine, OrderStatus, OrderTotals, PriceChange,
    Product, ProductId, ProductQuery, TopProduct,
};
pub use shop::Shop;
pub use value::{Row, Value};
