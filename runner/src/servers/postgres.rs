//! A throwaway PostgreSQL server: `initdb`, then `postgres` with
//! durability off.

use super::Server;
use crate::context::Context;
use crate::error::RunError;
use crate::spawn::ChildSpec;

/// The settings that make it fast and keep it to itself. Durability is
/// off (its data is thrown away); `wal_level = minimal` writes no WAL for
/// what is created and filled in one transaction; no autovacuum competes
/// with the tests.
const SETTINGS: &[(&str, &str)] = &[
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("wal_level", "minimal"),
    ("max_wal_senders", "0"),
    ("autovacuum", "off"),
    ("listen_addresses", "127.0.0.1"),
    ("max_connections", "300"),
    ("logging_collector", "off"),
];

/// Makes its data directory: the superuser `postgres` with the run's
/// password, password authentication for every connection.
pub(super) async fn init(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let password_file = server.dir.join("password");
    write_private(&password_file, &server.password).map_err(|e| RunError::Server {
        backend: "postgres",
        message: format!("could not write {}: {e}", password_file.display()),
        output: String::new(),
    })?;
    server.give(&password_file).map_err(|e| RunError::Server {
        backend: "postgres",
        message: format!("could not hand {} over: {e}", password_file.display()),
        output: String::new(),
    })?;
    let spec = ChildSpec::new(&server.programs.init, &server.dir)
        .arg("--pgdata")
        .arg(server.data_dir())
        .args(["--username=postgres", "--auth=scram-sha-256"])
        .arg(format!("--pwfile={}", password_file.display()))
        .args([
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ])
        .envs([("LC_ALL".to_owned(), "C".to_owned())]);
    let result = server.run_setup(spec, ctx).await;
    let _ = std::fs::remove_file(&password_file);
    result
}

/// What is done once it accepts connections.
pub(super) async fn started(_server: &Server, _ctx: &Context) -> Result<(), RunError> {
    Ok(())
}

/// The server's command line.
pub(super) fn server(server: &Server) -> ChildSpec {
    let mut spec = ChildSpec::new(&server.programs.server, &server.dir)
        .arg("-D")
        .arg(server.data_dir())
        .arg("-c")
        .arg(format!("port={}", server.port))
        .arg("-c")
        .arg(format!(
            "unix_socket_directories={}",
            server.socket_dir().display()
        ));
    for (key, value) in SETTINGS {
        spec = spec.arg("-c").arg(format!("{key}={value}"));
    }
    spec
}

/// Whether it accepts connections: its `postmaster.pid` says `ready` on
/// its eighth line once it does.
pub(super) fn ready(server: &Server) -> bool {
    std::fs::read_to_string(server.data_dir().join(super::recorded::PID_FILE))
        .is_ok_and(|text| text.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
}

/// Writes `text` to a new file only its owner may read.
pub(super) fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}
