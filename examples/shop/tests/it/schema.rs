//! The schema the migrations built: tables, seeded data, constraints, triggers, the view.
//!
//! These tests write rows with plain SQL, past the application's own checks,
//! to show that the database itself holds the line.

use shop::{ConstraintKind, Db, DbError, Dialect, OrderLine, Placeholders, Shop, ShopError, args};

use crate::support::{self, MUTABLE_TABLES, REFERENCE_TABLES, count, customer, product, stock};

/// An object of the schema, as the catalogs list them.
#[derive(Debug, Clone, Copy)]
enum Object {
    Table,
    View,
    Trigger,
}

/// The names of the schema's objects of one kind, sorted, paraclone's own
/// bookkeeping left out. SQLite lists them in `sqlite_master`, PostgreSQL
/// and MySQL in `information_schema` (the current schema, the current database).
fn names(db: &Db, object: Object) -> Vec<String> {
    let schema = match db.dialect() {
        Dialect::Sqlite => "main",
        Dialect::Postgres => "current_schema()",
        Dialect::Mysql => "DATABASE()",
    };
    let sql = match (db.dialect(), object) {
        (Dialect::Sqlite, _) => {
            let kind = match object {
                Object::Table => "table",
                Object::View => "view",
                Object::Trigger => "trigger",
            };
            format!(
                "SELECT name FROM sqlite_master WHERE type = '{kind}' \
                 AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
            )
        }
        (_, Object::Table) => format!(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = {schema} AND table_type = 'BASE TABLE'"
        ),
        (_, Object::View) => format!(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = {schema} AND table_type = 'VIEW'"
        ),
        // One row per event a trigger fires on.
        (_, Object::Trigger) => format!(
            "SELECT DISTINCT trigger_name FROM information_schema.triggers \
             WHERE trigger_schema = {schema}"
        ),
    };
    let mut names: Vec<String> = db
        .query(&sql, args![])
        .unwrap()
        .iter()
        .map(|row| row.text(0).unwrap())
        .filter(|name| !name.starts_with("_paraclone") && !name.starts_with("paraclone"))
        .collect();
    names.sort_unstable();
    names
}

/// What a dialect's error says to name a violated key: SQLite names the
/// columns of a unique key (`customers.email`) and no foreign key at all
/// (`FOREIGN KEY constraint failed`); PostgreSQL and MySQL name the
/// constraint, except that every primary key is `PRIMARY` on MySQL.
fn key_name(
    db: &Db,
    sqlite: &'static str,
    postgres: &'static str,
    mysql: &'static str,
) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
        Dialect::Mysql => mysql,
    }
}

fn assert_violates(result: Result<u64, DbError>, kind: ConstraintKind, name: &str) {
    match result {
        Err(error) => assert!(
            error.violates(kind, name),
            "expected a {kind} violation of {name}, got {error:?}"
        ),
        Ok(changed) => {
            panic!("expected a {kind} violation of {name}, but {changed} row(s) changed")
        }
    }
}

/// Inserts a customer and a product with plain SQL; returns their ids.
fn raw_customer_and_product(db: &Db, stock: i64) -> (i64, i64) {
    let customer = db
        .insert(
            "INSERT INTO customers (email, name) VALUES (?, ?)",
            args!["raw@example.com", "Raw"],
        )
        .unwrap();
    let product = db
        .insert(
            "INSERT INTO products (sku, name, category_id, price_cents, stock) \
             VALUES (?, ?, (SELECT id FROM categories WHERE slug = ?), ?, ?)",
            args!["RAW-1", "Raw Product", "books", 1000, stock],
        )
        .unwrap();
    (customer, product)
}

#[test]
fn migrations_created_the_expected_objects() {
    let shop = support::shop();
    let db = shop.db();
    assert_eq!(
        names(db, Object::Table),
        [
            "categories",
            "coupons",
            "customers",
            "order_items",
            "orders",
            "price_history",
            "products",
        ]
    );
    assert_eq!(names(db, Object::View), ["order_totals"]);
    assert_eq!(
        names(db, Object::Trigger),
        ["order_items_take_stock", "products_price_history"]
    );
}

#[test]
fn fixture_empties_every_table_but_the_reference_data() {
    let shop = support::shop();
    let db = shop.db();
    let mut covered: Vec<&str> = MUTABLE_TABLES
        .iter()
        .chain(REFERENCE_TABLES)
        .copied()
        .collect();
    covered.sort_unstable();
    assert_eq!(
        names(db, Object::Table),
        covered,
        "a new table must be added to the fixture"
    );
    for table in MUTABLE_TABLES {
        assert_eq!(count(db, table), 0, "{table} after the fixture");
    }
    assert_eq!(count(db, "categories"), 5);
}

#[test]
fn categories_are_seeded_by_the_migrations() {
    let shop = support::shop();
    let rows: Vec<(String, String)> = shop
        .db()
        .query("SELECT slug, name FROM categories ORDER BY id", args![])
        .unwrap()
        .iter()
        .map(|row| (row.text(0).unwrap(), row.text(1).unwrap()))
        .collect();
    let expected = [
        ("books", "Books"),
        ("electronics", "Electronics"),
        ("garden", "Home & Garden"),
        ("kitchen", "Kitchen"),
        ("toys", "Toys & Games"),
    ];
    assert_eq!(rows.len(), expected.len());
    for ((slug, name), (want_slug, want_name)) in rows.iter().zip(expected) {
        assert_eq!((slug.as_str(), name.as_str()), (want_slug, want_name));
    }
}

#[test]
fn email_is_unique_in_the_database() {
    let shop = support::shop();
    let db = shop.db();
    let insert = "INSERT INTO customers (email, name) VALUES (?, ?)";
    db.execute(insert, args!["uma@example.com", "Uma"]).unwrap();
    assert_violates(
        db.execute(insert, args!["uma@example.com", "Uma Two"]),
        ConstraintKind::Unique,
        key_name(
            db,
            "customers.email",
            "customers_email_key",
            "customers_email_key",
        ),
    );
    assert_eq!(count(db, "customers"), 1);
}

#[test]
fn keys_compare_exactly_whatever_the_case() {
    // SQLite and PostgreSQL compare text byte for byte; the MySQL migrations
    // give the looked-up keys a binary collation so that MySQL does too.
    let shop = support::shop();
    product(&shop, "MUG", 1250, 1);
    product(&shop, "mug", 990, 2);
    assert_eq!(shop.product_count().unwrap(), 2);
    assert_eq!(shop.product("mug").unwrap().price_cents, 990);
    assert!(matches!(
        shop.product("Mug").unwrap_err(),
        ShopError::UnknownProduct { .. }
    ));
    let found = shop
        .db()
        .query("SELECT sku FROM products WHERE sku = ?", args!["MUG"])
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(matches!(
        shop.category("Books").unwrap_err(),
        ShopError::UnknownCategory { .. }
    ));
}

#[test]
fn email_shape_is_checked_by_the_database() {
    let shop = support::shop();
    let db = shop.db();
    let insert = "INSERT INTO customers (email, name) VALUES (?, ?)";
    assert_violates(
        db.execute(insert, args!["not-an-email", "Vera"]),
        ConstraintKind::Check,
        "customers_email_check",
    );
    assert_violates(
        db.execute(insert, args!["Vera@Example.com", "Vera"]),
        ConstraintKind::Check,
        "customers_email_check",
    );
    assert_violates(
        db.execute(insert, args!["vera@example.com", ""]),
        ConstraintKind::Check,
        "customers_name_check",
    );
    assert_eq!(count(db, "customers"), 0);
}

#[test]
fn stock_and_price_cannot_go_negative() {
    let shop = support::shop();
    product(&shop, "CRATE", 500, 2);
    let db = shop.db();
    assert_violates(
        db.execute(
            "UPDATE products SET stock = stock - 3 WHERE sku = ?",
            args!["CRATE"],
        ),
        ConstraintKind::Check,
        "products_stock_check",
    );
    assert_violates(
        db.execute(
            "UPDATE products SET price_cents = -1 WHERE sku = ?",
            args!["CRATE"],
        ),
        ConstraintKind::Check,
        "products_price_check",
    );
    let crate_ = shop.product("CRATE").unwrap();
    assert_eq!((crate_.stock, crate_.price_cents), (2, 500));
}

#[test]
fn product_needs_an_existing_category() {
    let shop = support::shop();
    let db = shop.db();
    let missing = db
        .scalar("SELECT MAX(id) + 1 FROM categories", args![])
        .unwrap();
    assert_violates(
        db.execute(
            "INSERT INTO products (sku, name, category_id, price_cents) VALUES (?, ?, ?, ?)",
            args!["ORPHAN", "Orphan", missing, 100],
        ),
        ConstraintKind::ForeignKey,
        key_name(
            db,
            "FOREIGN KEY",
            "products_category_fk",
            "products_category_fk",
        ),
    );
    assert_eq!(count(db, "products"), 0);
}

#[test]
fn order_item_needs_an_existing_order() {
    let shop = support::shop();
    let db = shop.db();
    let (_, product) = raw_customer_and_product(db, 10);
    assert_violates(
        db.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
             VALUES (?, ?, ?, ?)",
            args![i64::MAX, product, 1, 1000],
        ),
        ConstraintKind::ForeignKey,
        key_name(
            db,
            "FOREIGN KEY",
            "order_items_order_fk",
            "order_items_order_fk",
        ),
    );
    assert_eq!(count(db, "order_items"), 0);
    assert_eq!(stock(&shop, "RAW-1"), 10);
}

#[test]
fn order_status_and_quantity_are_checked() {
    let shop = support::shop();
    let db = shop.db();
    let (customer, product) = raw_customer_and_product(db, 10);
    assert_violates(
        db.execute(
            "INSERT INTO orders (customer_id, status) VALUES (?, ?)",
            args![customer, "lost"],
        ),
        ConstraintKind::Check,
        "orders_status_check",
    );
    let order = db
        .insert(
            "INSERT INTO orders (customer_id) VALUES (?)",
            args![customer],
        )
        .unwrap();
    assert_violates(
        db.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
             VALUES (?, ?, ?, ?)",
            args![order, product, 0, 1000],
        ),
        ConstraintKind::Check,
        "order_items_quantity_check",
    );
    let status = db
        .query_one("SELECT status FROM orders WHERE id = ?", args![order])
        .unwrap()
        .text(0)
        .unwrap();
    assert_eq!(status, "placed", "the default status");
}

#[test]
fn same_product_twice_in_an_order_violates_the_primary_key() {
    let shop = support::shop();
    let db = shop.db();
    let (customer, product) = raw_customer_and_product(db, 10);
    let order = db
        .insert(
            "INSERT INTO orders (customer_id) VALUES (?)",
            args![customer],
        )
        .unwrap();
    let insert = "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
                  VALUES (?, ?, ?, ?)";
    db.execute(insert, args![order, product, 1, 1000]).unwrap();
    assert_violates(
        db.execute(insert, args![order, product, 2, 1000]),
        ConstraintKind::Unique,
        key_name(db, "order_items", "order_items_pkey", "PRIMARY"),
    );
    assert_eq!(stock(&shop, "RAW-1"), 9);
}

#[test]
fn stock_trigger_fires_on_any_insert() {
    let shop = support::shop();
    let db = shop.db();
    let (customer, product) = raw_customer_and_product(db, 10);
    let order = db
        .insert(
            "INSERT INTO orders (customer_id) VALUES (?)",
            args![customer],
        )
        .unwrap();
    db.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
         VALUES (?, ?, ?, ?)",
        args![order, product, 4, 1000],
    )
    .unwrap();
    assert_eq!(stock(&shop, "RAW-1"), 6);
}

#[test]
fn stock_trigger_and_check_refuse_an_oversell() {
    let shop = support::shop();
    let db = shop.db();
    let (customer, product) = raw_customer_and_product(db, 3);
    let order = db
        .insert(
            "INSERT INTO orders (customer_id) VALUES (?)",
            args![customer],
        )
        .unwrap();
    assert_violates(
        db.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
             VALUES (?, ?, ?, ?)",
            args![order, product, 4, 1000],
        ),
        ConstraintKind::Check,
        "products_stock_check",
    );
    assert_eq!(count(db, "order_items"), 0);
    assert_eq!(stock(&shop, "RAW-1"), 3);
}

#[test]
fn deleting_an_order_cascades_to_its_items() {
    let shop = support::shop();
    let alice = customer(&shop, "alice");
    product(&shop, "A", 100, 10);
    product(&shop, "B", 200, 10);
    let order = shop
        .place_order(
            alice.id,
            &[OrderLine::new("A", 1), OrderLine::new("B", 2)],
            None,
        )
        .unwrap();
    let db = shop.db();
    assert_eq!(count(db, "order_items"), 2);
    assert_eq!(
        db.execute("DELETE FROM orders WHERE id = ?", args![order.id])
            .unwrap(),
        1
    );
    assert_eq!(count(db, "order_items"), 0);
    // A product that was ordered cannot be deleted while an order references it.
    let kept = shop
        .place_order(alice.id, &[OrderLine::new("A", 1)], None)
        .unwrap();
    assert_violates(
        db.execute("DELETE FROM products WHERE sku = ?", args!["A"]),
        ConstraintKind::ForeignKey,
        key_name(
            db,
            "FOREIGN KEY",
            "order_items_product_fk",
            "order_items_product_fk",
        ),
    );
    assert_eq!(shop.order(kept.id).unwrap().items.len(), 1);
}

#[test]
fn order_totals_view_sums_items_and_subtracts_discounts() {
    let shop = support::shop();
    let db = shop.db();
    let (customer, product) = raw_customer_and_product(db, 10);
    let order = db
        .insert(
            "INSERT INTO orders (customer_id, discount_cents) VALUES (?, ?)",
            args![customer, 250],
        )
        .unwrap();
    db.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
         VALUES (?, ?, ?, ?)",
        args![order, product, 3, 1000],
    )
    .unwrap();
    let empty = db
        .insert(
            "INSERT INTO orders (customer_id) VALUES (?)",
            args![customer],
        )
        .unwrap();
    let rows: Vec<Vec<i64>> = db
        .query(
            "SELECT order_id, line_count, item_count, subtotal_cents, discount_cents, total_cents \
             FROM order_totals ORDER BY order_id",
            args![],
        )
        .unwrap()
        .iter()
        .map(|row| (0..6).map(|i| row.int(i).unwrap()).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec![order, 1, 3, 3000, 250, 2750],
            vec![empty, 0, 0, 0, 0, 0]
        ]
    );
}

#[test]
fn coupon_usage_cannot_exceed_its_limit() {
    let shop = support::shop();
    shop.create_coupon("TWICE", 10, Some(2)).unwrap();
    let db = shop.db();
    let bump = "UPDATE coupons SET times_used = times_used + 1 WHERE code = ?";
    db.execute(bump, args!["TWICE"]).unwrap();
    db.execute(bump, args!["TWICE"]).unwrap();
    assert_violates(
        db.execute(bump, args!["TWICE"]),
        ConstraintKind::Check,
        "coupons_usage_check",
    );
    assert_violates(
        db.execute(
            "UPDATE coupons SET percent_off = 0 WHERE code = ?",
            args!["TWICE"],
        ),
        ConstraintKind::Check,
        "coupons_percent_check",
    );
    assert_eq!(shop.coupon("TWICE").unwrap().times_used, 2);
}

#[test]
fn numbered_placeholders_run_the_app_where_the_dialect_takes_them() {
    // SQLite also understands PostgreSQL's `$1`, so there the PostgreSQL
    // rewrite of every statement used here runs against a second dialect;
    // PostgreSQL takes nothing else. MySQL only knows `?`: it refuses `$1`
    // (for it, a column name), and the app runs there with its own style.
    let shop = support::shop();
    let numbered = shop
        .other_connection()
        .with_placeholders(Placeholders::Numbered);
    let numbered = if shop.db().dialect() == Dialect::Mysql {
        let refused = Shop::new(numbered)
            .register_customer("alice@example.com", "Alice")
            .unwrap_err();
        assert!(matches!(refused, ShopError::Db(_)), "{refused:?}");
        Shop::new(shop.other_connection())
    } else {
        Shop::new(numbered)
    };
    let alice = numbered
        .register_customer("alice@example.com", "Alice")
        .unwrap();
    product(&numbered, "MUG", 1250, 10);
    numbered.create_coupon("HALF", 50, Some(1)).unwrap();
    let order = numbered
        .place_order(alice.id, &[OrderLine::new("MUG", 2)], Some("HALF"))
        .unwrap();
    assert_eq!(order.total_cents, 1250);
    let found = numbered
        .search_products(&shop::ProductQuery {
            text: Some("mug"),
            max_price_cents: Some(2000),
            ..shop::ProductQuery::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(numbered.top_products(5).unwrap()[0].units_sold, 2);
    numbered.cancel_order(order.id).unwrap();
    // The first connection sees what the second committed.
    assert_eq!(stock(&shop, "MUG"), 10);
    assert_eq!(shop.coupon("HALF").unwrap().times_used, 0);
}
