//! The schema the migrations built: tables, seeded data, constraints, triggers, the view.
//!
//! These tests write rows with plain SQL, past the application's own checks,
//! to show that the database itself holds the line.

use shop::{ConstraintKind, Db, DbError, OrderLine, Placeholders, Shop, args};

use crate::support::{self, MUTABLE_TABLES, REFERENCE_TABLES, count, customer, product, stock};

fn names(db: &Db, kind: &str) -> Vec<String> {
    db.query(
        "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite!_%' ESCAPE '!' \
         ORDER BY name",
        args![kind],
    )
    .unwrap()
    .iter()
    .map(|row| row.text(0).unwrap())
    .filter(|name| !name.starts_with("_paraclone") && !name.starts_with("paraclone"))
    .collect()
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
        names(db, "table"),
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
    assert_eq!(names(db, "view"), ["order_totals"]);
    assert_eq!(
        names(db, "trigger"),
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
        names(db, "table"),
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
        "customers.email",
    );
    assert_eq!(count(db, "customers"), 1);
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
        "FOREIGN KEY",
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
        "FOREIGN KEY",
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
        "order_items",
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
        "FOREIGN KEY",
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
fn the_app_runs_with_postgres_style_placeholders() {
    // SQLite also understands `$1`, so the PostgreSQL rewrite of every
    // statement used here is checked against a real database.
    let shop = support::shop();
    let numbered = Shop::new(
        shop.other_connection()
            .with_placeholders(Placeholders::Numbered),
    );
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
