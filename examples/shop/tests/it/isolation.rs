//! The tests most sensitive to sharing a database: exact counts, consecutive ids, unique keys.
//!
//! Each one commits rows and then asserts on the whole table. Alone on its
//! database it always passes; next to another test on the same database, that
//! test's fixture deletes its rows, its rows inflate the counts, or both
//! register the same unique key. `paraclone run -- isolation::` runs just these.

use shop::{OrderLine, ShopError};

use crate::support::{self, MUTABLE_TABLES, count, customer, product, stock};

#[test]
fn fixture_starts_from_empty_tables() {
    let shop = support::shop();
    for table in MUTABLE_TABLES {
        assert_eq!(count(shop.db(), table), 0, "{table} is not empty");
    }
    customer(&shop, "leftover");
    assert_eq!(shop.customer_count().unwrap(), 1);
}

#[test]
fn three_registrations_make_exactly_three_customers() {
    let shop = support::shop();
    for name in ["ann", "ben", "cat"] {
        customer(&shop, name);
    }
    assert_eq!(shop.customer_count().unwrap(), 3);
    let emails: Vec<_> = shop
        .customers()
        .unwrap()
        .into_iter()
        .map(|customer| customer.email)
        .collect();
    assert_eq!(
        emails,
        ["ann@example.com", "ben@example.com", "cat@example.com"]
    );
}

#[test]
fn a_bulk_import_registers_exactly_every_customer() {
    // One commit per customer, as a sign-up form would make them: every
    // commit is a point where another test sharing the database can step in.
    let shop = support::shop();
    let mut imported = Vec::new();
    for i in 0..100 {
        let email = format!("import{i:03}@example.com");
        let customer = shop
            .register_customer(&email, &format!("Imported {i}"))
            .unwrap_or_else(|err| panic!("customer {i}: {err}"));
        imported.push(customer.id.get());
        assert_eq!(
            shop.customer_count().unwrap(),
            i + 1,
            "after importing {email}"
        );
    }
    let listed: Vec<i64> = shop
        .customers()
        .unwrap()
        .iter()
        .map(|c| c.id.get())
        .collect();
    assert_eq!(listed, imported);
}

#[test]
fn an_email_registers_once() {
    let shop = support::shop();
    shop.register_customer("shared@example.com", "First")
        .unwrap();
    let err = shop
        .register_customer("shared@example.com", "Second")
        .unwrap_err();
    assert!(matches!(err, ShopError::EmailTaken { .. }), "{err:?}");
    let stored = shop
        .customer_by_email("shared@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "First");
}

#[test]
fn customer_ids_are_consecutive() {
    let shop = support::shop();
    let ids: Vec<i64> = ["dan", "eve", "fay", "gus"]
        .iter()
        .map(|name| customer(&shop, name).id.get())
        .collect();
    let expected: Vec<i64> = (ids[0]..ids[0] + 4).collect();
    assert_eq!(ids, expected);
}

#[test]
fn a_sku_is_added_once() {
    let shop = support::shop();
    product(&shop, "ISO-SKU", 100, 1);
    let err = shop
        .add_product(&shop::NewProduct {
            sku: "ISO-SKU",
            name: "Copy",
            description: "",
            category: "toys",
            price_cents: 100,
            stock: 1,
        })
        .unwrap_err();
    assert!(matches!(err, ShopError::SkuTaken { .. }), "{err:?}");
    assert_eq!(shop.product_count().unwrap(), 1);
}

#[test]
fn stock_after_a_series_of_orders_is_exact() {
    let shop = support::shop();
    let hal = customer(&shop, "hal");
    product(&shop, "WIDGET", 250, 100);
    for quantity in [5, 10, 15, 20] {
        shop.place_order(hal.id, &[OrderLine::new("WIDGET", quantity)], None)
            .unwrap();
    }
    assert_eq!(stock(&shop, "WIDGET"), 50);
    assert_eq!(shop.order_count().unwrap(), 4);
}

#[test]
fn revenue_counts_exactly_these_orders() {
    let shop = support::shop();
    let ida = customer(&shop, "ida");
    product(&shop, "WIDGET", 250, 100);
    for _ in 0..5 {
        shop.place_order(ida.id, &[OrderLine::new("WIDGET", 2)], None)
            .unwrap();
    }
    assert_eq!(shop.net_revenue().unwrap(), 5 * 2 * 250);
    let top = shop.top_products(10).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].units_sold, 10);
}

#[test]
fn limited_coupon_serves_exactly_its_limit() {
    let shop = support::shop();
    let jon = customer(&shop, "jon");
    product(&shop, "WIDGET", 250, 100);
    shop.create_coupon("LIMITED", 20, Some(3)).unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        outcomes.push(
            shop.place_order(jon.id, &[OrderLine::new("WIDGET", 1)], Some("LIMITED"))
                .is_ok(),
        );
    }
    assert_eq!(outcomes, [true, true, true, false, false]);
    assert_eq!(shop.coupon("LIMITED").unwrap().times_used, 3);
    assert_eq!(shop.order_count().unwrap(), 3);
}

#[test]
fn a_busy_day_of_orders_sells_exactly_the_stock() {
    let shop = support::shop();
    let customers: Vec<_> = ["lea", "max", "ned", "oda", "pia"]
        .iter()
        .map(|name| customer(&shop, name))
        .collect();
    product(&shop, "GADGET", 1000, 60);
    let mut left = 60;
    for round in 0..10 {
        for buyer in &customers {
            shop.place_order(buyer.id, &[OrderLine::new("GADGET", 1)], None)
                .unwrap_or_else(|err| panic!("round {round}: {err}"));
            left -= 1;
            assert_eq!(stock(&shop, "GADGET"), left, "in round {round}");
        }
    }
    assert_eq!(stock(&shop, "GADGET"), 10);
    assert_eq!(shop.order_count().unwrap(), 50);
    assert_eq!(shop.net_revenue().unwrap(), 50 * 1000);
    let top = shop.top_customers(10).unwrap();
    assert_eq!(top.len(), 5);
    assert!(top.iter().all(|spend| spend.orders == 10), "{top:?}");
}

#[test]
fn order_ids_follow_each_other() {
    let shop = support::shop();
    let kim = customer(&shop, "kim");
    product(&shop, "WIDGET", 250, 100);
    let ids: Vec<i64> = (0..4)
        .map(|_| {
            shop.place_order(kim.id, &[OrderLine::new("WIDGET", 1)], None)
                .unwrap()
                .id
                .get()
        })
        .collect();
    let expected: Vec<i64> = (ids[0]..ids[0] + 4).collect();
    assert_eq!(ids, expected);
    assert_eq!(shop.orders_for_customer(kim.id).unwrap().len(), 4);
}
