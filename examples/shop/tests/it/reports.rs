//! Reports: best sellers, revenue per category, best customers, low stock.

use shop::{OrderLine, Shop};

use crate::support::{self, customer, product_in};

/// Two customers, four products in three categories, three orders (one of
/// them cancelled, one with a 10 % coupon).
fn sales(shop: &Shop) {
    let alice = customer(shop, "alice");
    let bob = customer(shop, "bob");
    product_in(shop, "books", "NOVEL", 1500, 50);
    product_in(shop, "books", "ATLAS", 4000, 50);
    product_in(shop, "toys", "KITE", 2500, 50);
    product_in(shop, "kitchen", "WHISK", 800, 50);
    shop.create_coupon("TENOFF", 10, None).unwrap();
    shop.place_order(
        alice.id,
        &[OrderLine::new("NOVEL", 4), OrderLine::new("KITE", 1)],
        None,
    )
    .unwrap();
    shop.place_order(
        bob.id,
        &[OrderLine::new("NOVEL", 1), OrderLine::new("ATLAS", 2)],
        Some("TENOFF"),
    )
    .unwrap();
    let cancelled = shop
        .place_order(alice.id, &[OrderLine::new("WHISK", 30)], None)
        .unwrap();
    shop.cancel_order(cancelled.id).unwrap();
}

#[test]
fn empty_shop_has_empty_reports() {
    let shop = support::shop();
    assert!(shop.top_products(10).unwrap().is_empty());
    assert!(shop.top_customers(10).unwrap().is_empty());
    assert_eq!(shop.net_revenue().unwrap(), 0);
    let categories = shop.revenue_by_category().unwrap();
    assert_eq!(categories.len(), 5);
    assert!(
        categories
            .iter()
            .all(|c| c.revenue_cents == 0 && c.orders == 0)
    );
}

#[test]
fn top_products_rank_by_units_and_skip_cancelled_orders() {
    let shop = support::shop();
    sales(&shop);
    let top: Vec<_> = shop
        .top_products(10)
        .unwrap()
        .into_iter()
        .map(|p| (p.sku, p.units_sold, p.revenue_cents))
        .collect();
    assert_eq!(
        top,
        [
            ("NOVEL".to_owned(), 5, 7500),
            ("ATLAS".to_owned(), 2, 8000),
            ("KITE".to_owned(), 1, 2500),
        ]
    );
}

#[test]
fn top_products_limit_and_ties() {
    let shop = support::shop();
    let carol = customer(&shop, "carol");
    for sku in ["DELTA", "ALPHA", "CHARLIE", "BRAVO"] {
        product_in(&shop, "toys", sku, 100, 10);
    }
    shop.place_order(
        carol.id,
        &[
            OrderLine::new("DELTA", 3),
            OrderLine::new("ALPHA", 2),
            OrderLine::new("CHARLIE", 2),
            OrderLine::new("BRAVO", 1),
        ],
        None,
    )
    .unwrap();
    let top: Vec<_> = shop
        .top_products(3)
        .unwrap()
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert_eq!(top, ["DELTA", "ALPHA", "CHARLIE"]);
}

#[test]
fn revenue_by_category_lists_every_category() {
    let shop = support::shop();
    sales(&shop);
    let rows: Vec<_> = shop
        .revenue_by_category()
        .unwrap()
        .into_iter()
        .map(|c| (c.slug, c.orders, c.units_sold, c.revenue_cents))
        .collect();
    assert_eq!(
        rows,
        [
            ("books".to_owned(), 2, 7, 4 * 1500 + 1500 + 2 * 4000),
            ("toys".to_owned(), 1, 1, 2500),
            ("electronics".to_owned(), 0, 0, 0),
            ("garden".to_owned(), 0, 0, 0),
            ("kitchen".to_owned(), 0, 0, 0),
        ]
    );
}

#[test]
fn net_revenue_subtracts_discounts() {
    let shop = support::shop();
    sales(&shop);
    let alice_order = 4 * 1500 + 2500;
    let bob_subtotal = 1500 + 2 * 4000;
    let bob_order = bob_subtotal - bob_subtotal / 10;
    assert_eq!(shop.net_revenue().unwrap(), alice_order + bob_order);
}

#[test]
fn top_customers_rank_by_spend() {
    let shop = support::shop();
    sales(&shop);
    let top: Vec<_> = shop
        .top_customers(5)
        .unwrap()
        .into_iter()
        .map(|c| (c.email, c.orders, c.spent_cents))
        .collect();
    assert_eq!(
        top,
        [
            ("bob@example.com".to_owned(), 1, 8550),
            ("alice@example.com".to_owned(), 1, 8500),
        ]
    );
}

#[test]
fn low_stock_lists_active_products_at_or_below_the_threshold() {
    let shop = support::shop();
    product_in(&shop, "garden", "SEEDS", 299, 3);
    product_in(&shop, "garden", "RAKE", 1999, 0);
    product_in(&shop, "garden", "HOSE", 2999, 4);
    product_in(&shop, "garden", "SHOVEL", 2499, 9);
    product_in(&shop, "garden", "TROWEL", 999, 1);
    shop.deactivate_product("TROWEL").unwrap();
    let low: Vec<_> = shop
        .low_stock(4)
        .unwrap()
        .into_iter()
        .map(|p| (p.sku, p.stock))
        .collect();
    assert_eq!(
        low,
        [
            ("RAKE".to_owned(), 0),
            ("SEEDS".to_owned(), 3),
            ("HOSE".to_owned(), 4),
        ]
    );
}

#[test]
fn order_totals_view_feeds_the_order_history() {
    let shop = support::shop();
    sales(&shop);
    let alice = shop
        .customer_by_email("alice@example.com")
        .unwrap()
        .unwrap();
    let history = shop.orders_for_customer(alice.id).unwrap();
    let rows: Vec<_> = history
        .iter()
        .map(|t| (t.status.as_str(), t.line_count, t.item_count, t.total_cents))
        .collect();
    assert_eq!(rows, [("cancelled", 1, 30, 24000), ("placed", 2, 5, 8500)]);
}
