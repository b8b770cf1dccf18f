//! The conformance kit: clones whose rows the server copies, clones made
//! by copying tablespace files, and clones streamed through the client
//! ([`MysqlCloner::clone_to`](cloner_mysql::MysqlCloner::clone_to)).

use crate::support::{MysqlProbe, Streamed, cloner, setup, setup_files};

cloner::conformance_tests!(server_side, setup());
cloner::conformance_tests!(by_files, setup_files());
cloner::conformance_tests!(streamed, async {
    (Streamed(cloner().await), MysqlProbe::new())
});
