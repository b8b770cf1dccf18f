//! A throwaway PostgreSQL server: its data directory copied from a blank
//! cluster made once per server version (the skeleton), then `postgres`
//! with durability off, then its superuser's password.
//!
//! `initdb` is most of a start (about 0.5 s of 0.6 s on two cores), a
//! copy of what it makes a tenth of that. The skeleton has no password:
//! its Unix socket trusts its users (the socket's directory is the
//! server's user's, mode 0700: only that user and root get in) and TCP
//! asks for a password, which [`started`] sets through the socket before
//! anything else connects. So the skeleton holds no secret and serves
//! every run.
//!
//! The skeleton is kept as `super::skeleton` keeps every kind's; where
//! the state directory cannot hold one, `initdb` makes the data directory
//! with the password, as before skeletons.

use std::fs;

use super::Server;
use super::skeleton::{self, Skeleton};
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

/// `initdb`'s options for a skeleton: the superuser `postgres` without a
/// password, trusted on the socket, asked for its password on TCP.
const SKELETON_OPTIONS: &[&str] = &[
    "--username=postgres",
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
];

/// `initdb`'s options where no skeleton can be kept: the password (from
/// a file) for every connection.
const DIRECT_OPTIONS: &[&str] = &[
    "--username=postgres",
    "--auth=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
];

/// `initdb`'s environment, whichever way it runs.
const INIT_ENV: (&str, &str) = ("LC_ALL", "C");

/// Files a whole skeleton has.
const MARKERS: &[&str] = &["PG_VERSION", "global/pg_control"];

/// Makes its data directory: a copy of the skeleton, made first where
/// there is none; where skeletons cannot be kept, `initdb` with the
/// run's password.
pub(super) async fn init(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let mut options: Vec<String> = SKELETON_OPTIONS.iter().map(|o| (*o).to_owned()).collect();
    options.push(format!("{}={}", INIT_ENV.0, INIT_ENV.1));
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let Some(skeleton) = Skeleton::open(server, &options, MARKERS) else {
        return init_direct(server, ctx).await;
    };
    skeleton::make_data_dir(server, ctx, skeleton, init_blank(server, ctx)).await
}

/// `initdb` into the data directory as for a skeleton: no password yet.
async fn init_blank(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let spec = ChildSpec::new(&server.programs.init, &server.dir)
        .arg("--pgdata")
        .arg(server.data_dir())
        .args(SKELETON_OPTIONS.iter().copied())
        .envs([(INIT_ENV.0.to_owned(), INIT_ENV.1.to_owned())]);
    server.run_setup(spec, ctx).await
}

/// `initdb` into the data directory with the superuser's password and
/// password authentication for every connection.
async fn init_direct(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let password_file = server.dir.join("password");
    let failed = |what: &str, e: std::io::Error| {
        super::failed(
            server.kind,
            format!("could not {what} {}: {e}", password_file.display()),
        )
    };
    write_private(&password_file, &server.password).map_err(|e| failed("write", e))?;
    server
        .give(&password_file)
        .map_err(|e| failed("hand over", e))?;
    let spec = ChildSpec::new(&server.programs.init, &server.dir)
        .arg("--pgdata")
        .arg(server.data_dir())
        .arg(format!("--pwfile={}", password_file.display()))
        .args(DIRECT_OPTIONS.iter().copied())
        .envs([(INIT_ENV.0.to_owned(), INIT_ENV.1.to_owned())]);
    let result = server.run_setup(spec, ctx).await;
    let _ = fs::remove_file(&password_file);
    result
}

/// What is done once it accepts connections: its superuser gets the run's
/// password, through the socket (the SQL is the backend crate's). On a
/// data directory `initdb` made with the password (no skeleton), the
/// socket asks for it and it is set again, to the same.
pub(super) async fn started(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let socket = server.socket_dir();
    crate::backends::postgres_set_password(&socket, server.port, &server.password)
        .await
        .map_err(|why| RunError::Server {
            backend: "postgres",
            message: format!(
                "could not set the superuser's password through its socket: {}",
                ctx.redact(&why)
            ),
            output: server
                .process
                .lock()
                .expect("not poisoned")
                .as_ref()
                .map(|running| ctx.redact_bytes(&running.tail()))
                .unwrap_or_default(),
        })
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
