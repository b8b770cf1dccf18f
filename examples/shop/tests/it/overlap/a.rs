//! One of the four overlapping registrations (see the parent module).

#[test]
fn registers_the_shared_customer() {
    super::register_and_hold("a");
}
