//! Test fixtures: open the worker's database, empty the mutable tables, make customers and products.

use std::error::Error;
use std::ops::Deref;

use cloner_sqlite::worker::{WorkerDatabase, open_from_env};
use shop::{Customer, Db, DbError, Dialect, NewProduct, Product, Shop, args};

/// The tables the application writes, children before parents: the fixture
/// empties them before every test (PostgreSQL and MySQL check foreign keys
/// per statement, so the order matters there). Reference data seeded by the
/// migrations (`categories`) is kept, and nothing else (such as id
/// sequences) is reset.
pub(crate) const MUTABLE_TABLES: &[&str] = &[
    "price_history",
    "order_items",
    "orders",
    "coupons",
    "products",
    "customers",
];

/// Tables whose rows the migrations own.
pub(crate) const REFERENCE_TABLES: &[&str] = &["categories"];

/// A shop on the worker's database, emptied of mutable rows.
pub(crate) struct TestShop {
    // Field order matters: the connection is closed before the worker's
    // database handle, which may own an in-memory copy of the clone.
    shop: Shop,
    database: Database,
}

/// Where the worker's database is, to open more connections to it.
enum Database {
    /// A SQLite clone, a file or an in-memory copy this process owns.
    Sqlite(WorkerDatabase),
    /// A database on a PostgreSQL or MySQL/MariaDB server, by its URL.
    Server(String),
}

impl Deref for TestShop {
    type Target = Shop;

    fn deref(&self) -> &Shop {
        &self.shop
    }
}

impl TestShop {
    /// A second, independent connection to the same database.
    pub(crate) fn other_connection(&self) -> Db {
        match &self.database {
            Database::Sqlite(worker) => {
                Db::sqlite(worker.connect().expect("open a second connection"))
            }
            Database::Server(url) => Db::connect(url)
                .unwrap_or_else(|error| panic!("open a second connection: {}", chain(&error))),
        }
    }
}

/// Opens the database named by `DATABASE_URL`, whose scheme says its dialect
/// (`sqlite:`, `postgres://`, `mysql://`), and empties its mutable tables.
pub(crate) fn shop() -> TestShop {
    let url = std::env::var("DATABASE_URL").unwrap_or_default();
    let (db, database) = match Dialect::from_url(&url) {
        Some(Dialect::Postgres | Dialect::Mysql) => {
            // The URL is not printed: it may hold a password.
            let db = Db::connect(&url).unwrap_or_else(|error| {
                panic!(
                    "could not connect to the database of DATABASE_URL: {}",
                    chain(&error)
                )
            });
            (db, Database::Server(url))
        }
        // `sqlite:` URLs, plain paths, and anything else, which the worker
        // helper refuses with the reason (an unset variable included).
        Some(Dialect::Sqlite) | None => {
            let worker = open_from_env("DATABASE_URL").unwrap_or_else(|error| {
                panic!(
                    "the shop's tests need DATABASE_URL naming a database made from \
                     examples/shop/migrations/<dialect> (paraclone sets it): \
                     sqlite:///path, postgres://user@host:port/name or \
                     mysql://user@host:port/name: {error}"
                )
            });
            let db = Db::sqlite(worker.connect().expect("connect to the test database"));
            (db, Database::Sqlite(worker))
        }
    };
    flush(&db);
    TestShop {
        shop: Shop::new(db),
        database,
    }
}

/// An error and its sources, one after another (the shop's errors leave
/// their sources' words to the sources).
pub(crate) fn chain(error: &dyn Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(error) = source {
        out.push_str(": ");
        out.push_str(&error.to_string());
        source = error.source();
    }
    out
}

/// Deletes every row of the mutable tables, in one transaction.
fn flush(db: &Db) {
    db.transaction(|db| {
        for table in MUTABLE_TABLES {
            db.execute(&format!("DELETE FROM {table}"), args![])?;
        }
        Ok::<_, DbError>(())
    })
    .expect("empty the mutable tables");
}

/// Registers `<name>@example.com`, named after `name`.
pub(crate) fn customer(shop: &Shop, name: &str) -> Customer {
    shop.register_customer(&format!("{name}@example.com"), name)
        .expect("register a customer")
}

/// Adds a book with this SKU, price and stock.
pub(crate) fn product(shop: &Shop, sku: &str, price_cents: i64, stock: i64) -> Product {
    product_in(shop, "books", sku, price_cents, stock)
}

/// Adds a product of `category` with this SKU, price and stock, named after the SKU.
pub(crate) fn product_in(
    shop: &Shop,
    category: &str,
    sku: &str,
    price_cents: i64,
    stock: i64,
) -> Product {
    shop.add_product(&NewProduct {
        sku,
        name: &format!("Product {sku}"),
        description: "",
        category,
        price_cents,
        stock,
    })
    .expect("add a product")
}

/// Current stock of the product `sku`.
pub(crate) fn stock(shop: &Shop, sku: &str) -> i64 {
    shop.product(sku).expect("read a product").stock
}

/// Number of rows in `table`.
pub(crate) fn count(db: &Db, table: &str) -> i64 {
    db.scalar(&format!("SELECT COUNT(*) FROM {table}"), args![])
        .expect("count rows")
}
