//! Orders: placing, stock taken, refusals, cancelling, shipping, purging.

use shop::{CustomerId, OrderLine, OrderStatus, ShopError};

use crate::support::{self, customer, product, stock};

#[test]
fn placed_order_has_items_and_totals() {
    let shop = support::shop();
    let alice = customer(&shop, "alice");
    product(&shop, "MUG", 1250, 10);
    product(&shop, "TEA", 499, 20);
    let order = shop
        .place_order(
            alice.id,
            &[OrderLine::new("TEA", 3), OrderLine::new("MUG", 2)],
            None,
        )
        .unwrap();
    assert_eq!(order.customer_id, alice.id);
    assert_eq!(order.status, OrderStatus::Placed);
    assert_eq!(order.coupon_code, None);
    let lines: Vec<_> = order
        .items
        .iter()
        .map(|item| (item.sku.as_str(), item.quantity, item.unit_price_cents))
        .collect();
    assert_eq!(lines, [("MUG", 2, 1250), ("TEA", 3, 499)]);
    assert_eq!(order.subtotal_cents, 2 * 1250 + 3 * 499);
    assert_eq!(order.total_cents, order.subtotal_cents);
    assert_eq!(order.unit_count(), 5);
    assert_eq!(shop.order(order.id).unwrap(), order);
}

#[test]
fn placing_an_order_takes_stock() {
    let shop = support::shop();
    let bob = customer(&shop, "bob");
    product(&shop, "MUG", 1250, 10);
    shop.place_order(bob.id, &[OrderLine::new("MUG", 3)], None)
        .unwrap();
    assert_eq!(stock(&shop, "MUG"), 7);
    shop.place_order(bob.id, &[OrderLine::new("MUG", 7)], None)
        .unwrap();
    assert_eq!(stock(&shop, "MUG"), 0);
}

#[test]
fn order_keeps_the_price_it_was_placed_at() {
    let shop = support::shop();
    let carol = customer(&shop, "carol");
    product(&shop, "LAMP", 3000, 5);
    let order = shop
        .place_order(carol.id, &[OrderLine::new("LAMP", 2)], None)
        .unwrap();
    shop.set_price("LAMP", 4500).unwrap();
    let reread = shop.order(order.id).unwrap();
    assert_eq!(reread.items[0].unit_price_cents, 3000);
    assert_eq!(reread.total_cents, 6000);
    let later = shop
        .place_order(carol.id, &[OrderLine::new("LAMP", 1)], None)
        .unwrap();
    assert_eq!(later.total_cents, 4500);
}

#[test]
fn out_of_stock_names_the_product_and_the_numbers() {
    let shop = support::shop();
    let dave = customer(&shop, "dave");
    product(&shop, "RARE-BOOK", 9900, 2);
    let err = shop
        .place_order(dave.id, &[OrderLine::new("RARE-BOOK", 5)], None)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ShopError::OutOfStock { sku, requested: 5, available: 2 } if sku == "RARE-BOOK"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "not enough RARE-BOOK in stock: 5 requested, 2 available"
    );
    assert_eq!(shop.order_count().unwrap(), 0);
    assert_eq!(stock(&shop, "RARE-BOOK"), 2);
}

#[test]
fn empty_order_is_refused() {
    let shop = support::shop();
    let erin = customer(&shop, "erin");
    let err = shop.place_order(erin.id, &[], None).unwrap_err();
    assert!(matches!(err, ShopError::EmptyOrder), "{err:?}");
    assert_eq!(shop.order_count().unwrap(), 0);
}

#[test]
fn zero_quantity_is_refused() {
    let shop = support::shop();
    let frank = customer(&shop, "frank");
    product(&shop, "PEN", 150, 100);
    let err = shop
        .place_order(
            frank.id,
            &[OrderLine::new("PEN", 2), OrderLine::new("PEN", 0)],
            None,
        )
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::ZeroQuantity { sku } if sku == "PEN"),
        "{err:?}"
    );
    assert_eq!(shop.order_count().unwrap(), 0);
    assert_eq!(stock(&shop, "PEN"), 100);
}

#[test]
fn lines_of_the_same_product_are_merged() {
    let shop = support::shop();
    let grace = customer(&shop, "grace");
    product(&shop, "PEN", 150, 100);
    let order = shop
        .place_order(
            grace.id,
            &[
                OrderLine::new("PEN", 2),
                OrderLine::new("PEN", 3),
                OrderLine::new(" PEN ", 1),
            ],
            None,
        )
        .unwrap();
    assert_eq!(order.items.len(), 1);
    assert_eq!(order.items[0].quantity, 6);
    assert_eq!(stock(&shop, "PEN"), 94);
}

#[test]
fn order_for_unknown_customer_is_refused() {
    let shop = support::shop();
    let heidi = customer(&shop, "heidi");
    product(&shop, "PEN", 150, 100);
    let ghost = CustomerId::new(heidi.id.get() + 1000);
    let err = shop
        .place_order(ghost, &[OrderLine::new("PEN", 1)], None)
        .unwrap_err();
    assert!(
        matches!(err, ShopError::UnknownCustomer { id } if id == ghost),
        "{err:?}"
    );
    assert_eq!(shop.order_count().unwrap(), 0);
    assert_eq!(stock(&shop, "PEN"), 100);
}

#[test]
fn order_for_unknown_product_is_refused() {
    let shop = support::shop();
    let ivan = customer(&shop, "ivan");
    product(&shop, "PEN", 150, 100);
    let err = shop
        .place_order(
            ivan.id,
            &[OrderLine::new("PEN", 1), OrderLine::new("INK", 1)],
            None,
        )
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::UnknownProduct { sku } if sku == "INK"),
        "{err:?}"
    );
    assert_eq!(shop.order_count().unwrap(), 0);
    assert_eq!(stock(&shop, "PEN"), 100);
}

#[test]
fn cancelling_gives_the_stock_back() {
    let shop = support::shop();
    let judy = customer(&shop, "judy");
    product(&shop, "MUG", 1250, 10);
    product(&shop, "TEA", 499, 20);
    let order = shop
        .place_order(
            judy.id,
            &[OrderLine::new("MUG", 4), OrderLine::new("TEA", 5)],
            None,
        )
        .unwrap();
    assert_eq!((stock(&shop, "MUG"), stock(&shop, "TEA")), (6, 15));
    let cancelled = shop.cancel_order(order.id).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!((stock(&shop, "MUG"), stock(&shop, "TEA")), (10, 20));
    // The items stay, for the record.
    assert_eq!(cancelled.items, order.items);
}

#[test]
fn an_order_is_cancelled_once() {
    let shop = support::shop();
    let mallory = customer(&shop, "mallory");
    product(&shop, "MUG", 1250, 10);
    let order = shop
        .place_order(mallory.id, &[OrderLine::new("MUG", 4)], None)
        .unwrap();
    shop.cancel_order(order.id).unwrap();
    let err = shop.cancel_order(order.id).unwrap_err();
    assert!(
        matches!(
            err,
            ShopError::InvalidTransition { id, status: OrderStatus::Cancelled, action: "cancelled" }
                if id == order.id
        ),
        "{err:?}"
    );
    // Restocked once, not twice.
    assert_eq!(stock(&shop, "MUG"), 10);
}

#[test]
fn shipped_order_cannot_be_cancelled() {
    let shop = support::shop();
    let niaj = customer(&shop, "niaj");
    product(&shop, "MUG", 1250, 10);
    let order = shop
        .place_order(niaj.id, &[OrderLine::new("MUG", 1)], None)
        .unwrap();
    assert_eq!(
        shop.ship_order(order.id).unwrap().status,
        OrderStatus::Shipped
    );
    let err = shop.cancel_order(order.id).unwrap_err();
    assert!(
        matches!(
            err,
            ShopError::InvalidTransition {
                status: OrderStatus::Shipped,
                ..
            }
        ),
        "{err:?}"
    );
    let err = shop.ship_order(order.id).unwrap_err();
    assert!(
        matches!(err, ShopError::InvalidTransition { .. }),
        "{err:?}"
    );
    assert_eq!(stock(&shop, "MUG"), 9);
    assert_eq!(shop.order(order.id).unwrap().status, OrderStatus::Shipped);
}

#[test]
fn purging_cancelled_orders_deletes_their_items() {
    let shop = support::shop();
    let olivia = customer(&shop, "olivia");
    product(&shop, "MUG", 1250, 10);
    product(&shop, "TEA", 499, 20);
    let kept = shop
        .place_order(olivia.id, &[OrderLine::new("MUG", 1)], None)
        .unwrap();
    let dropped = shop
        .place_order(
            olivia.id,
            &[OrderLine::new("MUG", 1), OrderLine::new("TEA", 2)],
            None,
        )
        .unwrap();
    shop.cancel_order(dropped.id).unwrap();
    assert_eq!(support::count(shop.db(), "order_items"), 3);
    assert_eq!(shop.purge_cancelled_orders().unwrap(), 1);
    assert_eq!(support::count(shop.db(), "order_items"), 1);
    assert_eq!(shop.order_count().unwrap(), 1);
    assert!(matches!(
        shop.order(dropped.id).unwrap_err(),
        ShopError::UnknownOrder { .. }
    ));
    assert_eq!(shop.order(kept.id).unwrap().items.len(), 1);
}

#[test]
fn order_numbers_are_not_reused_after_a_purge() {
    let shop = support::shop();
    let peggy = customer(&shop, "peggy");
    product(&shop, "MUG", 1250, 10);
    let first = shop
        .place_order(peggy.id, &[OrderLine::new("MUG", 1)], None)
        .unwrap();
    shop.cancel_order(first.id).unwrap();
    shop.purge_cancelled_orders().unwrap();
    assert_eq!(shop.order_count().unwrap(), 0);
    let second = shop
        .place_order(peggy.id, &[OrderLine::new("MUG", 1)], None)
        .unwrap();
    assert!(second.id > first.id, "{} after {}", second.id, first.id);
}

#[test]
fn customer_order_history_is_newest_first() {
    let shop = support::shop();
    let rupert = customer(&shop, "rupert");
    let sybil = customer(&shop, "sybil");
    product(&shop, "MUG", 1000, 50);
    let mut placed = Vec::new();
    for quantity in 1..=3 {
        placed.push(
            shop.place_order(rupert.id, &[OrderLine::new("MUG", quantity)], None)
                .unwrap()
                .id,
        );
    }
    shop.place_order(sybil.id, &[OrderLine::new("MUG", 9)], None)
        .unwrap();
    let history = shop.orders_for_customer(rupert.id).unwrap();
    let ids: Vec<_> = history.iter().map(|totals| totals.order_id).collect();
    placed.reverse();
    assert_eq!(ids, placed);
    let totals: Vec<_> = history.iter().map(|totals| totals.total_cents).collect();
    assert_eq!(totals, [3000, 2000, 1000]);
}
