//! A throwaway server as the ledger records it, and stopping one a dead
//! run left running.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// Which server program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// PostgreSQL (`initdb`, `postgres`).
    Postgres,
    /// MariaDB or MySQL (`mariadb-install-db`/`mariadbd`, `mysqld`).
    Mysql,
}

impl Kind {
    /// The paraclone backend it serves.
    pub(crate) fn backend(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
        }
    }

    /// The signal that ends it soonest while letting it clean up what
    /// outlives processes (PostgreSQL's System V shared memory segment:
    /// SIGQUIT is its immediate shutdown). A MariaDB server holds nothing
    /// of the kind, and its data is thrown away: SIGKILL.
    pub(crate) fn stop_signal(self) -> Signal {
        match self {
            Kind::Postgres => Signal::SIGQUIT,
            Kind::Mysql => Signal::SIGKILL,
        }
    }
}

/// What the ledger says of one throwaway server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub(crate) kind: Kind,
    /// Its own directory (data, socket, log): removed with it.
    pub(crate) dir: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub(crate) port: u16,
    /// The label its databases are recorded under (their `server`), so
    /// that they go from the ledger with it.
    pub(crate) label: String,
    /// Its main process, once started (`None`: the run died before).
    pub(crate) pid: Option<u32>,
}

/// How long a server gets to end after its stop signal before its whole
/// process group is killed.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(5);

/// Stops the server `server` describes, if its process is still that
/// server, and removes its directory. `Ok` when neither is left.
pub(crate) async fn stop_recorded(server: &Recorded) -> Result<(), String> {
    // A run killed between starting the server and writing its pid down:
    // the server's own pid file says it.
    let pid = server.pid.or_else(|| pid_file(&server.dir));
    if let Some(pid) = pid
        && is_that_server(pid, &server.dir)
    {
        end_group(pid, server.kind.stop_signal()).await;
    }
    remove_dir(&server.dir)
}

/// Whether process `pid` is alive and is the server of `dir` (a pid is
/// reused: a process that is not that server is never signalled).
fn is_that_server(pid: u32, dir: &Path) -> bool {
    kill(Pid::from_raw(pid as i32), None).is_ok()
        && (crate::os::mentions(pid, dir) || pid_file_names(dir, pid))
}

/// The name of the file in a server's data directory that holds its pid
/// while it runs (PostgreSQL's own name; MariaDB is told to use it too).
pub(crate) const PID_FILE: &str = "postmaster.pid";

/// Whether the server's pid file names `pid`.
fn pid_file_names(dir: &Path, pid: u32) -> bool {
    pid_file(dir) == Some(pid)
}

/// The pid the server's pid file (its first line) names.
fn pid_file(dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join("data").join(PID_FILE)).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// Sends `signal` to the process group of `leader`, waits for the leader
/// to go ([`STOP_GRACE`] at most), then kills what is left of the group.
pub(crate) async fn end_group(leader: u32, signal: Signal) {
    let group = Pid::from_raw(leader as i32);
    let _ = killpg(group, signal);
    let deadline = Instant::now() + STOP_GRACE;
    while killpg(group, None).is_ok() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = killpg(group, Signal::SIGKILL);
}

/// Removes `dir` and everything in it; a directory already gone is no
/// error.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("could not remove {}: {e}", dir.display())),
    }
}
