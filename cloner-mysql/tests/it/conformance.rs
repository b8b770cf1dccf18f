//! The conformance kit: server-side clones, and clones streamed through the
//! client ([`MysqlCloner::clone_to`](cloner_mysql::MysqlCloner::clone_to)).

use crate::support::{MysqlProbe, Streamed, cloner, setup};

cloner::conformance_tests!(server_side, setup());
cloner::conformance_tests!(streamed, async {
    (Streamed(cloner().await), MysqlProbe::new())
});
