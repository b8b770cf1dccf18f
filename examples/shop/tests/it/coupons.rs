//! Coupons: unique codes, percentages, usage limits, redemption inside the order's transaction.

use shop::{OrderLine, ShopError};

use crate::support::{self, customer, product, stock};

#[test]
fn coupon_code_is_normalized() {
    let shop = support::shop();
    let coupon = shop.create_coupon("  spring-10 ", 10, Some(100)).unwrap();
    assert_eq!(coupon.code, "SPRING-10");
    assert_eq!(coupon.remaining_uses(), Some(100));
    assert_eq!(shop.coupon("Spring-10").unwrap(), coupon);
}

#[test]
fn duplicate_coupon_code_is_refused() {
    let shop = support::shop();
    shop.create_coupon("WELCOME", 5, None).unwrap();
    let err = shop.create_coupon("welcome", 50, Some(1)).unwrap_err();
    assert!(
        matches!(&err, ShopError::CouponCodeTaken { code } if code == "WELCOME"),
        "{err:?}"
    );
    assert_eq!(shop.coupon_count().unwrap(), 1);
    assert_eq!(shop.coupon("WELCOME").unwrap().percent_off, 5);
}

#[test]
fn invalid_coupons_are_refused() {
    let shop = support::shop();
    let cases: [(&str, i64, Option<i64>); 5] = [
        ("ZERO", 0, None),
        ("TOO-MUCH", 101, None),
        ("NEVER", 10, Some(0)),
        ("AB", 10, None),
        ("NO SPACES", 10, None),
    ];
    for (code, percent, max_uses) in cases {
        let err = shop.create_coupon(code, percent, max_uses).unwrap_err();
        assert!(
            matches!(&err, ShopError::InvalidCoupon { code: given, .. } if given == code),
            "{code}: {err:?}"
        );
    }
    assert_eq!(shop.coupon_count().unwrap(), 0);
}

#[test]
fn coupon_discount_is_rounded_down_to_the_cent() {
    let shop = support::shop();
    let alice = customer(&shop, "alice");
    product(&shop, "SCARF", 1999, 10);
    shop.create_coupon("FIFTEEN", 15, None).unwrap();
    let order = shop
        .place_order(alice.id, &[OrderLine::new("SCARF", 3)], Some("fifteen"))
        .unwrap();
    // 15 % of 59.97 is 8.9955.
    assert_eq!(order.subtotal_cents, 5997);
    assert_eq!(order.discount_cents, 899);
    assert_eq!(order.total_cents, 5098);
    assert_eq!(order.coupon_code.as_deref(), Some("FIFTEEN"));
}

#[test]
fn each_order_counts_one_use() {
    let shop = support::shop();
    let bob = customer(&shop, "bob");
    product(&shop, "SCARF", 1999, 10);
    shop.create_coupon("TRIO", 10, Some(3)).unwrap();
    for _ in 0..2 {
        shop.place_order(bob.id, &[OrderLine::new("SCARF", 1)], Some("TRIO"))
            .unwrap();
    }
    let coupon = shop.coupon("TRIO").unwrap();
    assert_eq!(coupon.times_used, 2);
    assert_eq!(coupon.remaining_uses(), Some(1));
}

#[test]
fn exhausted_coupon_refuses_the_whole_order() {
    let shop = support::shop();
    let carol = customer(&shop, "carol");
    product(&shop, "SCARF", 1999, 10);
    shop.create_coupon("ONCE", 50, Some(1)).unwrap();
    shop.place_order(carol.id, &[OrderLine::new("SCARF", 1)], Some("ONCE"))
        .unwrap();
    let err = shop
        .place_order(carol.id, &[OrderLine::new("SCARF", 2)], Some("ONCE"))
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::CouponExhausted { code, max_uses: 1 } if code == "ONCE"),
        "{err:?}"
    );
    // The refused order took no stock and left no order behind.
    assert_eq!(stock(&shop, "SCARF"), 9);
    assert_eq!(shop.order_count().unwrap(), 1);
    assert_eq!(shop.coupon("ONCE").unwrap().times_used, 1);
}

#[test]
fn inactive_coupon_is_refused() {
    let shop = support::shop();
    let dave = customer(&shop, "dave");
    product(&shop, "SCARF", 1999, 10);
    shop.create_coupon("EXPIRED", 20, None).unwrap();
    shop.deactivate_coupon("expired").unwrap();
    let err = shop
        .place_order(dave.id, &[OrderLine::new("SCARF", 1)], Some("EXPIRED"))
        .unwrap_err();
    assert!(matches!(err, ShopError::CouponInactive { .. }), "{err:?}");
    assert_eq!(shop.order_count().unwrap(), 0);
    assert_eq!(stock(&shop, "SCARF"), 10);
}

#[test]
fn unknown_coupon_is_refused() {
    let shop = support::shop();
    let erin = customer(&shop, "erin");
    product(&shop, "SCARF", 1999, 10);
    let err = shop
        .place_order(erin.id, &[OrderLine::new("SCARF", 1)], Some("free-stuff"))
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::UnknownCoupon { code } if code == "FREE-STUFF"),
        "{err:?}"
    );
    assert_eq!(shop.order_count().unwrap(), 0);
    let err = shop.deactivate_coupon("free-stuff").unwrap_err();
    assert!(matches!(err, ShopError::UnknownCoupon { .. }), "{err:?}");
}

#[test]
fn cancelling_an_order_gives_its_coupon_use_back() {
    let shop = support::shop();
    let frank = customer(&shop, "frank");
    product(&shop, "SCARF", 1999, 10);
    shop.create_coupon("ONCE", 50, Some(1)).unwrap();
    let order = shop
        .place_order(frank.id, &[OrderLine::new("SCARF", 1)], Some("ONCE"))
        .unwrap();
    shop.cancel_order(order.id).unwrap();
    assert_eq!(shop.coupon("ONCE").unwrap().times_used, 0);
    let again = shop
        .place_order(frank.id, &[OrderLine::new("SCARF", 1)], Some("ONCE"))
        .unwrap();
    assert_eq!(again.discount_cents, 999);
}

#[test]
fn unlimited_coupon_never_runs_out() {
    let shop = support::shop();
    let grace = customer(&shop, "grace");
    product(&shop, "PEN", 100, 1000);
    let coupon = shop.create_coupon("ALWAYS", 100, None).unwrap();
    assert_eq!(coupon.remaining_uses(), None);
    for _ in 0..12 {
        let order = shop
            .place_order(grace.id, &[OrderLine::new("PEN", 1)], Some("ALWAYS"))
            .unwrap();
        assert_eq!(order.total_cents, 0);
    }
    assert_eq!(shop.coupon("ALWAYS").unwrap().times_used, 12);
}
