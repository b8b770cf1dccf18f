//! [`conformance_tests!`](crate::conformance_tests): the kit as a module of tests.

/// Expands to a module named `$name` holding one
/// `#[tokio::test(flavor = "multi_thread")]` per check of the
/// [conformance kit](crate::conformance), so `cargo test` lists each check
/// by name (`sqlite_disk_backup::writes_are_isolated`).
///
/// `$setup` is an expression evaluated once per test, in the generated
/// module (which glob-imports its parent), yielding a future of
/// `(cloner, probe)`: values whose types implement [`Cloner`](crate::Cloner)
/// and [`Probe`](crate::conformance::Probe). Both live until the test ends,
/// so either may own a temporary directory or a server handle.
///
/// ```text
/// cloner::conformance_tests!(sqlite_disk_backup, async { (make_cloner(), make_probe()) });
/// ```
///
/// The calling crate needs no tokio dependency of its own.
#[macro_export]
macro_rules! conformance_tests {
    ($name:ident, $setup:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            // The test attribute expands to `tokio::…` paths; this import
            // makes them resolve to the kit's tokio.
            use $crate::conformance::__private::tokio;

            $crate::__conformance_test!($setup, template_is_built);
            $crate::__conformance_test!($setup, clones_made_concurrently_match_template);
            $crate::__conformance_test!($setup, writes_are_isolated);
            $crate::__conformance_test!($setup, next_id_continues_from_template);
            $crate::__conformance_test!($setup, trigger_and_view_work_in_clone);
            $crate::__conformance_test!($setup, foreign_keys_enforced_in_clone);
            $crate::__conformance_test!($setup, drop_is_idempotent);
            $crate::__conformance_test!($setup, odd_names_work);
            $crate::__conformance_test!($setup, list_by_prefix);
            $crate::__conformance_test!($setup, connection_describes_database);
            $crate::__conformance_test!($setup, failing_migration_is_reported);
            $crate::__conformance_test!($setup, clone_errors_are_typed);
            $crate::__conformance_test!($setup, backend_describes_itself);
        }
    };
}

/// One test of [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    ($setup:expr, $check:ident) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $check() {
            let (cloner, probe) = $setup.await;
            $crate::conformance::$check(&cloner, &probe).await;
        }
    };
}
