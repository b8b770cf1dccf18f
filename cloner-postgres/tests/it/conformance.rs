//! The conformance kit, with the default strategy and with each one named.

use cloner_postgres::Strategy;

use crate::support::{setup, setup_with_strategy};

cloner::conformance_tests!(default_strategy, setup());
cloner::conformance_tests!(wal_log, setup_with_strategy(Strategy::WalLog));
