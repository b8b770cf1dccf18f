//! Test fixtures: open the worker's database, empty the mutable tables, make customers and products.

use std::ops::Deref;

use cloner_sqlite::worker::{WorkerDatabase, open_from_env};
use shop::{Customer, Db, DbError, NewProduct, Product, Shop, args};

/// The tables the application writes, children before parents: the fixture
/// empties them before every test. Reference data seeded by the migrations
/// (`categories`) is kept, and nothing else (such as id sequences) is reset.
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
    worker: WorkerDatabase,
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
        Db::sqlite(self.worker.connect().expect("open a second connection"))
    }
}

/// Opens the database named by `DATABASE_URL` and empties its mutable tables.
pub(crate) fn shop() -> TestShop {
    let worker = open_from_env("DATABASE_URL").unwrap_or_else(|error| {
        panic!(
            "the shop's tests need DATABASE_URL naming a database made from \
             examples/shop/migrations/sqlite (paraclone sets it): {error}"
        )
    });
    let db = Db::sqlite(worker.connect().expect("connect to the test database"));
    flush(&db);
    TestShop {
        shop: Shop::new(db),
        worker,
    }
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
