//! Transactions: all-or-nothing orders, rollback, savepoints, what other connections see.

use shop::{DbError, OrderLine, ShopError, args};

use crate::support::{self, count, customer, product, stock};

#[test]
fn failed_order_undoes_the_stock_earlier_lines_took() {
    let shop = support::shop();
    let alice = customer(&shop, "alice");
    product(&shop, "PLENTY", 100, 50);
    product(&shop, "SCARCE", 100, 1);
    let err = shop
        .place_order(
            alice.id,
            &[OrderLine::new("PLENTY", 10), OrderLine::new("SCARCE", 2)],
            None,
        )
        .unwrap_err();
    assert!(matches!(err, ShopError::OutOfStock { .. }), "{err:?}");
    // The first line's item and the stock its trigger took were written in
    // the transaction, and rolled back with it.
    assert_eq!(stock(&shop, "PLENTY"), 50);
    assert_eq!(stock(&shop, "SCARCE"), 1);
    assert_eq!(count(shop.db(), "orders"), 0);
    assert_eq!(count(shop.db(), "order_items"), 0);
}

#[test]
fn failed_order_keeps_earlier_committed_orders() {
    let shop = support::shop();
    let bob = customer(&shop, "bob");
    product(&shop, "MUG", 1000, 5);
    let first = shop
        .place_order(bob.id, &[OrderLine::new("MUG", 3)], None)
        .unwrap();
    shop.place_order(bob.id, &[OrderLine::new("MUG", 3)], None)
        .unwrap_err();
    assert_eq!(shop.order_count().unwrap(), 1);
    assert_eq!(shop.order(first.id).unwrap().items[0].quantity, 3);
    assert_eq!(stock(&shop, "MUG"), 2);
}

#[test]
fn connection_is_usable_after_a_rollback() {
    let shop = support::shop();
    let carol = customer(&shop, "carol");
    product(&shop, "MUG", 1000, 5);
    shop.place_order(carol.id, &[OrderLine::new("MUG", 9)], None)
        .unwrap_err();
    assert!(!shop.db().in_transaction());
    let order = shop
        .place_order(carol.id, &[OrderLine::new("MUG", 5)], None)
        .unwrap();
    assert_eq!(order.total_cents, 5000);
    assert_eq!(stock(&shop, "MUG"), 0);
}

#[test]
fn atomically_commits_everything_on_success() {
    let shop = support::shop();
    let (dave, order) = shop
        .atomically(|shop| {
            let dave = shop.register_customer("dave@example.com", "Dave")?;
            support::product(shop, "DESK", 15000, 2);
            let order = shop.place_order(dave.id, &[OrderLine::new("DESK", 1)], None)?;
            Ok((dave, order))
        })
        .unwrap();
    assert_eq!(shop.customer(dave.id).unwrap().email, "dave@example.com");
    assert_eq!(shop.order(order.id).unwrap().total_cents, 15000);
    assert_eq!(stock(&shop, "DESK"), 1);
}

#[test]
fn atomically_rolls_everything_back_on_error() {
    let shop = support::shop();
    let err = shop
        .atomically(|shop| {
            let erin = shop.register_customer("erin@example.com", "Erin")?;
            support::product(shop, "DESK", 15000, 2);
            shop.place_order(erin.id, &[OrderLine::new("DESK", 1)], None)?;
            // Refused: the whole unit of work goes, not just this order.
            shop.place_order(erin.id, &[OrderLine::new("DESK", 5)], None)?;
            Ok(())
        })
        .unwrap_err();
    assert!(
        matches!(err, ShopError::OutOfStock { available: 1, .. }),
        "{err:?}"
    );
    assert_eq!(shop.customer_count().unwrap(), 0);
    assert_eq!(shop.product_count().unwrap(), 0);
    assert_eq!(shop.order_count().unwrap(), 0);
}

#[test]
fn inner_failure_rolls_back_only_its_savepoint() {
    let shop = support::shop();
    let frank = customer(&shop, "frank");
    product(&shop, "CHAIR", 4000, 4);
    let placed = shop
        .atomically(|shop| {
            let first = shop.place_order(frank.id, &[OrderLine::new("CHAIR", 2)], None)?;
            // This order fails inside its own savepoint; the outer work goes on.
            let refused = shop.place_order(frank.id, &[OrderLine::new("CHAIR", 3)], None);
            assert!(matches!(refused, Err(ShopError::OutOfStock { .. })));
            let second = shop.place_order(frank.id, &[OrderLine::new("CHAIR", 1)], None)?;
            Ok([first.id, second.id])
        })
        .unwrap();
    assert_eq!(shop.order_count().unwrap(), 2);
    assert_eq!(shop.order(placed[1]).unwrap().items[0].quantity, 1);
    assert_eq!(stock(&shop, "CHAIR"), 1);
}

#[test]
fn uncommitted_rows_are_invisible_to_other_connections() {
    let shop = support::shop();
    let other = shop.other_connection();
    shop.atomically(|shop| {
        customer(shop, "grace");
        customer(shop, "heidi");
        assert_eq!(shop.customer_count()?, 2);
        // The other connection either reads the last committed state or,
        // when the database only allows one connection at a time (an
        // in-memory shared cache), is told that the table is locked; it never
        // sees rows that are not committed.
        match other.scalar("SELECT COUNT(*) FROM customers", args![]) {
            Ok(seen) => assert_eq!(seen, 0, "uncommitted rows leaked"),
            Err(DbError::Busy { .. }) => {}
            Err(error) => panic!("unexpected error: {error:?}"),
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        other
            .scalar("SELECT COUNT(*) FROM customers", args![])
            .unwrap(),
        2
    );
}

#[test]
fn rolled_back_rows_never_reach_other_connections() {
    let shop = support::shop();
    let other = shop.other_connection();
    let result: Result<(), ShopError> = shop.atomically(|shop| {
        customer(shop, "ivan");
        Err(ShopError::BlankName)
    });
    assert!(matches!(result, Err(ShopError::BlankName)));
    assert_eq!(
        other
            .scalar("SELECT COUNT(*) FROM customers", args![])
            .unwrap(),
        0
    );
    assert_eq!(shop.customer_count().unwrap(), 0);
}

#[test]
fn panicking_work_is_rolled_back() {
    let shop = support::shop();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), ShopError> = shop.atomically(|shop| {
            customer(shop, "judy");
            panic!("work panicked halfway");
        });
    }));
    assert!(outcome.is_err(), "the work should have panicked");
    assert!(!shop.db().in_transaction());
    assert_eq!(shop.customer_count().unwrap(), 0);
    // The connection still works, and "judy" was never registered.
    customer(&shop, "judy");
    assert_eq!(shop.customer_count().unwrap(), 1);
}
