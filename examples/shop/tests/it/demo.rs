//! Tests that misbehave on request, to show how the runner reports them.
//!
//! `SHOP_DEMO=fail` makes `demo::failure_on_request` fail after printing;
//! `SHOP_DEMO=abort` makes `demo::abort_on_request` abort the process (a
//! crash, as a segfault would be); `SHOP_DEMO=hang` makes
//! `demo::hang_on_request` hang, writing its pid into `SHOP_DEMO_PID_DIR`
//! first; `SHOP_DEMO=segfault` makes `demo::segfault_on_request` die of
//! SIGSEGV. Without `SHOP_DEMO` each does real work and passes.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use shop::OrderLine;

use crate::support::{self, customer, product};

fn demo() -> String {
    std::env::var("SHOP_DEMO").unwrap_or_default()
}

#[test]
fn failure_on_request() {
    let shop = support::shop();
    let trent = customer(&shop, "trent");
    product(&shop, "MUG", 1250, 10);
    product(&shop, "TEA", 499, 20);
    let order = shop
        .place_order(
            trent.id,
            &[OrderLine::new("MUG", 2), OrderLine::new("TEA", 1)],
            None,
        )
        .unwrap();
    println!(
        "demo output: checking the order total of order {}",
        order.id
    );
    for item in &order.items {
        println!(
            "  {:<4} x{} at {} cents",
            item.sku, item.quantity, item.unit_price_cents
        );
    }
    let expected = if demo() == "fail" {
        eprintln!("SHOP_DEMO=fail: expecting a wrong total on purpose");
        3000
    } else {
        2 * 1250 + 499
    };
    assert_eq!(order.total_cents, expected, "order total in cents");
}

#[test]
fn abort_on_request() {
    let shop = support::shop();
    let ann = customer(&shop, "ann");
    product(&shop, "PEN", 150, 3);
    let order = shop
        .place_order(ann.id, &[OrderLine::new("PEN", 3)], None)
        .unwrap();
    if demo() == "abort" {
        println!("demo output: aborting with order {} committed", order.id);
        std::process::abort();
    }
    assert_eq!(support::stock(&shop, "PEN"), 0);
}

#[test]
fn hang_on_request() {
    let shop = support::shop();
    customer(&shop, "hal");
    if demo() == "hang" {
        if let Some(dir) = std::env::var_os("SHOP_DEMO_PID_DIR") {
            let pid = std::process::id().to_string();
            std::fs::write(std::path::Path::new(&dir).join(pid), "").unwrap();
        }
        println!("demo output: hanging");
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
    assert_eq!(shop.customer_count().unwrap(), 1);
}

#[test]
fn segfault_on_request() {
    let shop = support::shop();
    customer(&shop, "sid");
    if demo() == "segfault" {
        println!("demo output: a child sends this process SIGSEGV");
        // A crash as a bad pointer would cause one, without unsafe code:
        // `kill -SEGV <this process>` from a child process. Twice: Rust's
        // runtime takes the first SIGSEGV to check for a stack overflow and
        // then restores the default action, which the second one meets.
        let _ = std::process::Command::new("sh")
            .args(["-c", "kill -SEGV $0; sleep 0.2; kill -SEGV $0"])
            .arg(std::process::id().to_string())
            .status();
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
    assert_eq!(shop.customer_count().unwrap(), 1);
}
