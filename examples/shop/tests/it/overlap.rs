//! The same customer, registered by four tests at the same moment.
//!
//! Each test sits in a module of its own, so paraclone puts them in four
//! groups that four workers start together. Each empties the tables,
//! registers `shared@example.com`, holds still for a moment (as a slow test
//! would), and checks that its customer is still there and alone. Each on
//! its own clone, all four pass. On one shared database their fixtures
//! delete each other's customer or the unique email clashes, so at most one
//! passes: `paraclone test --share-database --parallel 4 overlap::` shows it.

mod a;
mod b;
mod c;
mod d;

use std::time::Duration;

use crate::support;

/// Registers the shared customer, waits, and checks it is intact.
fn register_and_hold(who: &str) {
    let shop = support::shop();
    let registered = shop
        .register_customer("shared@example.com", who)
        .unwrap_or_else(|e| panic!("{who} could not register: {e}"));
    std::thread::sleep(Duration::from_millis(400));
    let found = shop
        .customer(registered.id)
        .unwrap_or_else(|e| panic!("{who}'s customer is gone: {e}"));
    assert_eq!(found.name, who);
    assert_eq!(shop.customer_count().unwrap(), 1, "{who} is not alone");
}
