//! Customer accounts: registration, unique emails, look-ups, changes, deletion.

use shop::{CustomerId, OrderLine, ShopError};

use crate::support::{self, customer, product};

#[test]
fn register_stores_the_customer() {
    let shop = support::shop();
    let alice = shop
        .register_customer("alice@example.com", "Alice Liddell")
        .unwrap();
    let stored = shop.customer(alice.id).unwrap();
    assert_eq!(stored, alice);
    assert_eq!(stored.email, "alice@example.com");
    assert_eq!(stored.name, "Alice Liddell");
    assert!(!stored.marketing_opt_in);
}

#[test]
fn register_normalizes_email_and_name() {
    let shop = support::shop();
    let bob = shop
        .register_customer("  Bob.Builder@Example.COM ", "  Bob  ")
        .unwrap();
    assert_eq!(bob.email, "bob.builder@example.com");
    assert_eq!(bob.name, "Bob");
    let found = shop.customer_by_email("BOB.BUILDER@example.com").unwrap();
    assert_eq!(found.map(|c| c.id), Some(bob.id));
}

#[test]
fn duplicate_email_is_refused() {
    let shop = support::shop();
    shop.register_customer("carol@example.com", "Carol")
        .unwrap();
    let err = shop
        .register_customer("carol@example.com", "Another Carol")
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::EmailTaken { email } if email == "carol@example.com"),
        "{err:?}"
    );
    assert_eq!(shop.customer_count().unwrap(), 1);
}

#[test]
fn duplicate_email_in_other_case_is_refused() {
    let shop = support::shop();
    shop.register_customer("dave@example.com", "Dave").unwrap();
    let err = shop
        .register_customer("DAVE@EXAMPLE.COM", "Dave Again")
        .unwrap_err();
    assert!(matches!(err, ShopError::EmailTaken { .. }), "{err:?}");
    assert_eq!(shop.customer_count().unwrap(), 1);
}

#[test]
fn invalid_emails_are_refused_and_nothing_is_stored() {
    let shop = support::shop();
    for email in [
        "",
        "plainaddress",
        "@example.com",
        "eve@",
        "eve@example",
        "e ve@example.com",
        "a@b@example.com",
    ] {
        let err = shop.register_customer(email, "Eve").unwrap_err();
        assert!(
            matches!(&err, ShopError::InvalidEmail { email: given } if given == email),
            "{email:?}: {err:?}"
        );
    }
    assert_eq!(shop.customer_count().unwrap(), 0);
}

#[test]
fn blank_name_is_refused() {
    let shop = support::shop();
    let err = shop
        .register_customer("frank@example.com", "   ")
        .unwrap_err();
    assert!(matches!(err, ShopError::BlankName), "{err:?}");
    assert!(
        shop.customer_by_email("frank@example.com")
            .unwrap()
            .is_none()
    );
}

#[test]
fn lookup_by_email_finds_only_registered_customers() {
    let shop = support::shop();
    let grace = customer(&shop, "grace");
    customer(&shop, "heidi");
    assert_eq!(
        shop.customer_by_email("grace@example.com").unwrap(),
        Some(grace)
    );
    assert_eq!(shop.customer_by_email("ivan@example.com").unwrap(), None);
}

#[test]
fn unknown_customer_id_is_reported() {
    let shop = support::shop();
    let judy = customer(&shop, "judy");
    let missing = CustomerId::new(judy.id.get() + 1000);
    let err = shop.customer(missing).unwrap_err();
    assert!(
        matches!(err, ShopError::UnknownCustomer { id } if id == missing),
        "{err:?}"
    );
}

#[test]
fn customers_are_listed_in_registration_order() {
    let shop = support::shop();
    let names = ["mallory", "niaj", "olivia", "peggy"];
    let registered: Vec<_> = names.iter().map(|name| customer(&shop, name)).collect();
    let listed = shop.customers().unwrap();
    assert_eq!(listed, registered);
    assert!(listed.windows(2).all(|pair| pair[0].id < pair[1].id));
}

#[test]
fn change_email_moves_the_unique_address() {
    let shop = support::shop();
    let rupert = customer(&shop, "rupert");
    let changed = shop.change_email(rupert.id, "Rupert@Example.org").unwrap();
    assert_eq!(changed.email, "rupert@example.org");
    assert!(
        shop.customer_by_email("rupert@example.com")
            .unwrap()
            .is_none()
    );
    // The old address is free again.
    let newcomer = shop
        .register_customer("rupert@example.com", "Another Rupert")
        .unwrap();
    assert_ne!(newcomer.id, rupert.id);
    assert_eq!(shop.customer_count().unwrap(), 2);
}

#[test]
fn change_email_to_a_taken_address_keeps_the_old_one() {
    let shop = support::shop();
    let sybil = customer(&shop, "sybil");
    customer(&shop, "trent");
    let err = shop
        .change_email(sybil.id, "trent@example.com")
        .unwrap_err();
    assert!(
        matches!(&err, ShopError::EmailTaken { email } if email == "trent@example.com"),
        "{err:?}"
    );
    assert_eq!(shop.customer(sybil.id).unwrap().email, "sybil@example.com");
}

#[test]
fn marketing_audience_lists_opted_in_customers() {
    let shop = support::shop();
    let victor = customer(&shop, "victor");
    let walter = customer(&shop, "walter");
    customer(&shop, "xavier");
    shop.set_marketing_opt_in(walter.id, true).unwrap();
    shop.set_marketing_opt_in(victor.id, true).unwrap();
    assert_eq!(
        shop.marketing_audience().unwrap(),
        ["victor@example.com", "walter@example.com"]
    );
    shop.set_marketing_opt_in(victor.id, false).unwrap();
    assert_eq!(shop.marketing_audience().unwrap(), ["walter@example.com"]);
    assert!(shop.customer(walter.id).unwrap().marketing_opt_in);
}

#[test]
fn customer_without_orders_can_be_deleted() {
    let shop = support::shop();
    let yvonne = customer(&shop, "yvonne");
    let zoe = customer(&shop, "zoe");
    shop.delete_customer(yvonne.id).unwrap();
    assert_eq!(shop.customers().unwrap(), [zoe]);
    let err = shop.delete_customer(yvonne.id).unwrap_err();
    assert!(matches!(err, ShopError::UnknownCustomer { .. }), "{err:?}");
}

#[test]
fn customer_with_orders_cannot_be_deleted() {
    let shop = support::shop();
    let alice = customer(&shop, "alice");
    product(&shop, "BOOK-1", 1999, 5);
    let order = shop
        .place_order(alice.id, &[OrderLine::new("BOOK-1", 1)], None)
        .unwrap();
    let err = shop.delete_customer(alice.id).unwrap_err();
    assert!(
        matches!(err, ShopError::CustomerHasOrders { id } if id == alice.id),
        "{err:?}"
    );
    assert_eq!(shop.customer(alice.id).unwrap().id, alice.id);
    assert_eq!(shop.order(order.id).unwrap().customer_id, alice.id);
}
