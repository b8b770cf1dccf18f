//! A throwaway MariaDB (or MySQL) server: `mariadb-install-db` (`mysqld
//! --initialize-insecure`), then the server with durability off.

use super::Server;
use super::programs::Flavor;
use super::skeleton::{self, Skeleton};
use crate::context::Context;
use crate::error::RunError;
use crate::spawn::ChildSpec;

/// The statements the server runs at every start (its password).
const INIT_FILE: &str = "init.sql";

/// The socket's name in the server's socket directory.
const SOCKET: &str = "mysqld.sock";

/// Settings for speed: nothing is flushed or doubled (the data is thrown
/// away), no binary log, a small redo log (less to write and to copy).
const SETTINGS: &[&str] = &[
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-log-file-size=16M",
    // Nothing of the pool is saved or loaded: a copy starts at once.
    "--innodb-buffer-pool-dump-at-shutdown=0",
    "--innodb-buffer-pool-load-at-startup=0",
    "--skip-log-bin",
    "--skip-name-resolve",
    "--max-connections=300",
];

/// Files a whole skeleton has.
const MARKERS: &[&str] = &["ibdata1", "mysql"];

/// Makes its data directory: a copy of the skeleton (`super::skeleton`:
/// `root` without a password, which the start-up file sets each time),
/// made first where there is none.
pub(super) async fn init(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let options = install_options(server.programs.flavor);
    match Skeleton::open(server, &options, MARKERS) {
        Some(skeleton) => {
            skeleton::make_data_dir(server, ctx, skeleton, install(server, ctx)).await
        }
        None => install(server, ctx).await,
    }
}

/// The set-up program's options, but the data directory.
fn install_options(flavor: Flavor) -> Vec<&'static str> {
    let mut options = vec!["--no-defaults"];
    match flavor {
        Flavor::Mysql => options.push("--initialize-insecure"),
        Flavor::Mariadb | Flavor::Postgres => options.extend([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ]),
    }
    options.extend(user_arg());
    options
}

/// Runs the set-up program into its data directory.
async fn install(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let spec = ChildSpec::new(&server.programs.init, &server.dir)
        .args(install_options(server.programs.flavor))
        .arg(format!("--datadir={}", server.data_dir().display()));
    server.run_setup(spec, ctx).await
}

/// The server's command line; writes the start-up statements it reads.
pub(super) fn server(server: &Server) -> std::io::Result<ChildSpec> {
    let init = server.dir.join(INIT_FILE);
    let statements = crate::backends::mysql_init_statements(&server.password)
        .ok_or_else(|| std::io::Error::other("this build has no mysql backend"))?;
    if !init.exists() {
        super::postgres::write_private(&init, &statements)?;
    }
    let data = server.data_dir();
    Ok(ChildSpec::new(&server.programs.server, &server.dir)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!(
            "--socket={}",
            server.socket_dir().join(SOCKET).display()
        ))
        .arg(format!("--port={}", server.port))
        .arg("--bind-address=127.0.0.1")
        // Its temporary files in its own directory, not the machine's /tmp.
        .arg(format!("--tmpdir={}", server.socket_dir().display()))
        .arg(format!(
            "--pid-file={}",
            data.join(super::recorded::PID_FILE).display()
        ))
        .arg(format!("--init-file={}", init.display()))
        .args(SETTINGS)
        // The server with the templates clones inside itself (the backend
        // makes as many clones at once as its pool has 32 MiB); a copy,
        // one worker's, needs little.
        .arg(if server.seed.is_some() {
            "--innodb-buffer-pool-size=64M"
        } else {
            "--innodb-buffer-pool-size=256M"
        })
        .args(user_arg()))
}

/// Whether it accepts connections: its socket answers.
pub(super) fn ready(server: &Server) -> bool {
    std::os::unix::net::UnixStream::connect(server.socket_dir().join(SOCKET)).is_ok()
}

/// As root, the server must be told to stay root (it would refuse to
/// start): paraclone copies table files into its data directory, which
/// the server must be able to read.
fn user_arg() -> Option<&'static str> {
    nix::unistd::geteuid().is_root().then_some("--user=root")
}
