//! Throwaway servers: a PostgreSQL or MariaDB server of the run's own,
//! started from the binaries installed on the machine, with its data in
//! RAM and durability off, gone when the run ends (`server =
//! "ephemeral"`, `--ephemeral`).
//!
//! Nothing of the user's own servers is touched: a throwaway server has a
//! directory of its own (mode 0700: data, socket), listens on a free port
//! of 127.0.0.1 only, and its superuser has a random password that only
//! this run's URLs carry. Each one is written to the ledger before its
//! directory is made, its pid once it is started, and that it is gone once
//! it is stopped and its directory removed; the sweep of a dead run's
//! ledger stops and removes what is left ([`stop_recorded`]).
//!
//! A blank data directory is copied from a skeleton made once per server
//! version (`skeleton`). The SQL a new server needs (its superuser's
//! password) comes from the backend crates, as all SQL does; this module
//! only makes directories and starts, watches and stops processes.

mod mysql;
mod postgres;
mod programs;
mod recorded;
mod skeleton;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub(crate) use recorded::{Kind, Recorded, stop_recorded};

use crate::config::{Config, Located};
use crate::context::Context;
use crate::error::RunError;
use crate::ledger::Ledger;
use crate::spawn::{self, Capture, ChildSpec, Running};

pub(crate) use programs::Programs;

/// How long a server may take to accept connections once started.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a clean shutdown (before its data directory is copied) may
/// take.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of a server's output is kept, for the error when it fails.
const OUTPUT_TAIL: usize = 16 * 1024;

/// The run's throwaway servers: one per backend that asks for one, and
/// for a MySQL one whose clones are servers, its copies (one per worker).
#[derive(Debug, Default)]
pub(crate) struct Servers {
    servers: Vec<Server>,
    copies: Mutex<Vec<Arc<Server>>>,
}

/// Where a throwaway MySQL/MariaDB server's clones are made
/// (`[backends.mysql] ephemeral_clones`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloneOn {
    /// Databases cloned inside the one server, by the backend's routes.
    Databases,
    /// One server per worker: the server with the templates is stopped
    /// and its data directory copied for each, so that no clone waits for
    /// another in one server's data dictionary.
    Servers,
    /// Chosen once the templates are built, by their size
    /// ([`servers_pay`]).
    Auto,
}

/// One throwaway server.
#[derive(Debug)]
pub(crate) struct Server {
    kind: Kind,
    /// Its own directory: `data/`, the socket, nothing else.
    dir: PathBuf,
    port: u16,
    password: String,
    /// The user it runs as, where that is not paraclone's (PostgreSQL
    /// refuses to run as root).
    run_as: Option<(u32, u32)>,
    programs: Programs,
    /// Where what outlives a run is kept (`<state dir>/servers`).
    cache_dir: PathBuf,
    /// Where its clones are made.
    clone_on: CloneOn,
    /// For a copy: the data directory it starts from (the stopped server
    /// with the templates) instead of a new one.
    seed: Option<PathBuf>,
    /// The label its databases are recorded under (the cloner's, set once
    /// the cloner for it is opened).
    label: OnceLock<String>,
    /// Whether the ledger lists it (and so must hear that it is gone).
    recorded: std::sync::atomic::AtomicBool,
    process: Mutex<Option<Running>>,
}

impl Servers {
    /// Which backends of this run get a throwaway server: those whose
    /// `[backends.<name>] server` is `"ephemeral"`, or, with `all`
    /// (`--ephemeral`), every server backend of the run. Finds their
    /// programs (an error names what to install); starts nothing.
    pub(crate) async fn plan(
        config: &Config,
        backends: &[Located<String>],
        all: bool,
        run_id: &str,
    ) -> Result<Servers, RunError> {
        let mut servers = Vec::new();
        let mut seen = Vec::new();
        for backend in backends {
            let (kind, settings) = match backend.value.as_str() {
                "postgres" => (Kind::Postgres, &config.backends.postgres),
                "mysql" => (Kind::Mysql, &config.backends.mysql),
                _ => continue,
            };
            if seen.contains(&kind) {
                continue;
            }
            seen.push(kind);
            let wanted = match settings.server.as_deref() {
                None => all,
                Some("ephemeral") => true,
                Some("url") => all,
                Some(other) => {
                    return Err(bad(
                        config,
                        kind,
                        "server",
                        &format!(
                            "{other:?} is not a kind of server: use \"ephemeral\" (paraclone \
                             starts its own) or \"url\" (the server at `url`, the default)"
                        ),
                    ));
                }
            };
            if !wanted {
                continue;
            }
            let base = match &settings.ephemeral_dir {
                Some(dir) => config.dir.join(dir),
                None => default_base(),
            };
            if !base.is_dir() {
                return Err(bad(
                    config,
                    kind,
                    "ephemeral_dir",
                    &format!("{} is not a directory", base.display()),
                ));
            }
            let run_as = run_as(kind, settings.run_as.as_deref())
                .map_err(|message| bad(config, kind, "run_as", &message))?;
            let clone_on = match (kind, settings.ephemeral_clones.as_deref()) {
                (Kind::Mysql, None | Some("auto")) => CloneOn::Auto,
                (Kind::Mysql, Some("databases")) | (Kind::Postgres, None) => CloneOn::Databases,
                (Kind::Mysql, Some("servers")) => CloneOn::Servers,
                (Kind::Mysql, Some(other)) => {
                    return Err(bad(
                        config,
                        kind,
                        "ephemeral_clones",
                        &format!(
                            "{other:?} is not a way to clone on a throwaway server: use \
                             \"databases\" (clones inside the one server), \"servers\" (one \
                             server per worker, copied from the one with the templates) or \
                             \"auto\" (by the templates' size, the default)"
                        ),
                    ));
                }
                (Kind::Postgres, Some(_)) => {
                    return Err(bad(
                        config,
                        kind,
                        "ephemeral_clones",
                        "is a MySQL/MariaDB setting: PostgreSQL clones inside its one server \
                         (CREATE DATABASE … TEMPLATE)",
                    ));
                }
            };
            let bin_dir = settings.bin_dir.as_ref().map(|d| config.dir.join(d));
            let programs = Programs::find(kind, bin_dir.as_deref()).await?;
            let dir = base.join(format!("paraclone-{run_id}-{}", kind.backend()));
            let taken: Vec<u16> = servers.iter().map(|s: &Server| s.port).collect();
            let server = Server {
                kind,
                port: unused_port(kind, &taken)?,
                password: password()
                    .map_err(|e| failed(kind, format!("could not make a password: {e}")))?,
                dir,
                run_as,
                programs,
                cache_dir: config.state_dir.join("servers"),
                clone_on,
                seed: None,
                label: OnceLock::new(),
                recorded: std::sync::atomic::AtomicBool::new(false),
                process: Mutex::new(None),
            };
            server.check_socket_path(config)?;
            servers.push(server);
        }
        Ok(Servers {
            servers,
            copies: Mutex::new(Vec::new()),
        })
    }

    /// Whether the run has none.
    pub(crate) fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Every server but the copies.
    pub(crate) fn all(&self) -> &[Server] {
        &self.servers
    }

    /// The throwaway server for `backend`, if the run has one.
    pub(crate) fn for_backend(&self, backend: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.kind.backend() == backend)
    }

    /// Starts every server at once and waits until each accepts
    /// connections. On an error the others are still waited for (a
    /// server half-started is stopped by [`Servers::stop`]).
    pub(crate) async fn start(&self, ledger: &Ledger, ctx: &Context) -> Result<(), RunError> {
        let results =
            futures_util::future::join_all(self.servers.iter().map(|s| s.start(ledger, ctx))).await;
        results.into_iter().collect()
    }

    /// Stops every server and removes its directory; says in the ledger
    /// which are gone. Returns what could not be stopped or removed.
    pub(crate) async fn stop(&self, ledger: &Ledger) -> Vec<(String, String)> {
        let copies = self.copies.lock().expect("not poisoned").clone();
        let all: Vec<&Server> = copies
            .iter()
            .map(Arc::as_ref)
            .chain(self.servers.iter())
            .collect();
        let results = futures_util::future::join_all(all.iter().map(|s| s.stop(ledger))).await;
        all.iter()
            .zip(results)
            .filter_map(|(s, r)| r.err().map(|why| (s.describe(), why)))
            .collect()
    }

    /// Stops `seed` (cleanly: its copies must start without recovery) and
    /// starts `n` copies of it, each on a port and in a directory of its
    /// own, all at once. The seed's directory stays, for
    /// [`Server::refresh`]. Every copy is recorded before it is made, and
    /// stopped by [`Servers::stop`] whatever happens here.
    pub(crate) async fn copies(
        &self,
        seed: &Server,
        n: usize,
        ledger: &Ledger,
        ctx: &Context,
    ) -> Result<Vec<Arc<Server>>, RunError> {
        seed.shut_down().await?;
        let mut made: Vec<Arc<Server>> = Vec::with_capacity(n);
        for worker in 1..=n {
            let taken: Vec<u16> = made.iter().map(|c| c.port).chain([seed.port]).collect();
            let port = unused_port(seed.kind, &taken)?;
            let copy = Arc::new(Server {
                kind: seed.kind,
                dir: PathBuf::from(format!("{}-w{worker}", seed.dir.display())),
                port,
                password: seed.password.clone(),
                run_as: seed.run_as,
                programs: seed.programs.clone(),
                cache_dir: seed.cache_dir.clone(),
                clone_on: CloneOn::Databases,
                seed: Some(seed.data_dir()),
                label: OnceLock::new(),
                recorded: std::sync::atomic::AtomicBool::new(false),
                process: Mutex::new(None),
            });
            self.copies
                .lock()
                .expect("not poisoned")
                .push(Arc::clone(&copy));
            made.push(copy);
        }
        let results =
            futures_util::future::join_all(made.iter().map(|c| c.start(ledger, ctx))).await;
        results.into_iter().collect::<Result<(), _>>()?;
        Ok(made)
    }
}

impl Server {
    /// Its kind.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The URL of its superuser, with the password.
    pub(crate) fn url(&self) -> String {
        match self.kind {
            Kind::Postgres => format!(
                "postgres://postgres:{}@127.0.0.1:{}/postgres",
                self.password, self.port
            ),
            Kind::Mysql => format!("mysql://root:{}@127.0.0.1:{}", self.password, self.port),
        }
    }

    /// How many tables (and views) the database `name` has, by the files
    /// in its data directory (MySQL/MariaDB keep one `.frm` per table and
    /// view): for choosing where clones go, so it never fails.
    pub(crate) fn tables_in(&self, name: &str) -> usize {
        std::fs::read_dir(self.data_dir().join(name)).map_or(0, |entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "frm"))
                .count()
        })
    }

    /// Where its clones are made.
    pub(crate) fn clone_on(&self) -> CloneOn {
        self.clone_on
    }

    /// Its data directory.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Its program's version, as the program says it.
    pub(crate) fn version(&self) -> &str {
        &self.programs.version
    }

    /// For the run's header and messages: what it is and where.
    pub(crate) fn describe(&self) -> String {
        format!("throwaway {} in {}", self.programs.name, self.dir.display())
    }

    /// Sets the label its databases are recorded under.
    pub(crate) fn set_label(&self, label: String) {
        let _ = self.label.set(label);
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.join("socket")
    }

    fn recorded(&self) -> Recorded {
        Recorded {
            kind: self.kind,
            dir: self.dir.clone(),
            port: self.port,
            label: self.label.get().cloned().unwrap_or_default(),
            pid: None,
        }
    }

    /// The socket path must fit a `sockaddr_un` (107 bytes on Linux, 103
    /// on macOS): said before anything is made.
    fn check_socket_path(&self, config: &Config) -> Result<(), RunError> {
        let longest = self
            .socket_dir()
            .join(format!(".s.PGSQL.{}.lock", self.port));
        let length = longest.as_os_str().len();
        if length > 100 {
            return Err(bad(
                config,
                self.kind,
                "ephemeral_dir",
                &format!(
                    "the server's socket would be {} ({length} bytes), longer than a socket \
                     path may be: choose a shorter directory",
                    longest.display()
                ),
            ));
        }
        Ok(())
    }

    async fn start(&self, ledger: &Ledger, ctx: &Context) -> Result<(), RunError> {
        let error = |message| failed(self.kind, message);
        ctx.redactor_add_secret(&self.password);
        ledger
            .will_start_server(&self.recorded())
            .map_err(|e| error(format!("could not write the ledger: {e}")))?;
        self.recorded
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if ctx.stopping() {
            return Err(RunError::Interrupted);
        }
        self.make_dirs()
            .map_err(|e| error(format!("could not make {}: {e}", self.dir.display())))?;
        match (&self.seed, self.kind) {
            (Some(seed), _) => self.copy_seed(seed).await?,
            (None, Kind::Postgres) => postgres::init(self, ctx).await?,
            (None, Kind::Mysql) => mysql::init(self, ctx).await?,
        }
        self.launch(ledger, ctx).await
    }

    /// Starts the server on its data directory and waits until it takes
    /// connections.
    async fn launch(&self, ledger: &Ledger, ctx: &Context) -> Result<(), RunError> {
        let error = |message| failed(self.kind, message);
        if ctx.stopping() {
            return Err(RunError::Interrupted);
        }
        let spec = match self.kind {
            Kind::Postgres => postgres::server(self),
            Kind::Mysql => mysql::server(self)
                .map_err(|e| error(format!("could not write its start-up file: {e}")))?,
        }
        .server()
        .run_as(self.run_as);
        let running = spawn::start(&spec, Capture::Tail(OUTPUT_TAIL)).map_err(|e| {
            error(format!(
                "could not start {}: {e}",
                self.programs.server.display()
            ))
        })?;
        if let Some(pid) = running.id() {
            ledger
                .server_started(&self.dir, pid)
                .map_err(|e| error(format!("could not write the ledger: {e}")))?;
        }
        *self.process.lock().expect("not poisoned") = Some(running);
        self.wait_ready(ctx).await?;
        match self.kind {
            Kind::Postgres => postgres::started(self, ctx).await,
            Kind::Mysql => Ok(()),
        }
    }

    /// A copy's fresh start, for a worker whose clone may be half-written
    /// (a test crashed, or failed and runs again): killed, its data
    /// directory copied again from the seed, started on the same port.
    pub(crate) async fn refresh(&self, ledger: &Ledger, ctx: &Context) -> Result<(), RunError> {
        let seed = self.seed.as_ref().expect("only copies are refreshed");
        let running = self.process.lock().expect("not poisoned").take();
        if let Some(mut running) = running {
            running.kill().await;
        }
        let data = self.data_dir();
        recorded::remove_dir(&data).map_err(|message| failed(self.kind, message))?;
        self.copy_seed(seed).await?;
        self.launch(ledger, ctx).await
    }

    /// Stops the server cleanly (its data directory stays, consistent)
    /// and waits for it.
    async fn shut_down(&self) -> Result<(), RunError> {
        let running = self.process.lock().expect("not poisoned").take();
        let Some(mut running) = running else {
            return Ok(());
        };
        if let Some(pid) = running.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        match tokio::time::timeout(SHUTDOWN_TIMEOUT, running.wait()).await {
            Ok(Ok(spawn::Exit::Code(0))) => Ok(()),
            other => {
                // It prints no secret: its password is set, never shown.
                let output = String::from_utf8_lossy(&running.tail()).into_owned();
                running.kill().await;
                Err(RunError::Server {
                    backend: self.kind.backend(),
                    message: match other {
                        Err(_) => format!(
                            "it did not shut down within {} s",
                            SHUTDOWN_TIMEOUT.as_secs()
                        ),
                        Ok(exit) => format!("it did not shut down cleanly: {exit:?}"),
                    },
                    output,
                })
            }
        }
    }

    /// Copies the seed's data directory into its own.
    async fn copy_seed(&self, seed: &Path) -> Result<(), RunError> {
        let (from, to, owner) = (seed.to_owned(), self.data_dir(), self.run_as);
        tokio::task::spawn_blocking(move || copy_tree(&from, &to, owner))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(|e| {
                failed(
                    self.kind,
                    format!(
                        "could not copy {} to {}: {e}",
                        seed.display(),
                        self.data_dir().display()
                    ),
                )
            })
    }

    /// Waits until the server accepts connections, it exits, the run is
    /// stopped or [`READY_TIMEOUT`] passes.
    async fn wait_ready(&self, ctx: &Context) -> Result<(), RunError> {
        let started = Instant::now();
        loop {
            let exited = {
                let mut guard = self.process.lock().expect("not poisoned");
                let running = guard.as_mut().expect("started");
                running.exited().then(|| running.tail())
            };
            if let Some(output) = exited {
                return Err(RunError::Server {
                    backend: self.kind.backend(),
                    message: format!("{} exited while starting", self.programs.server.display()),
                    output: ctx.redact_bytes(&output),
                });
            }
            let ready = match self.kind {
                Kind::Postgres => postgres::ready(self),
                Kind::Mysql => mysql::ready(self),
            };
            if ready {
                return Ok(());
            }
            if ctx.stopping() {
                return Err(RunError::Interrupted);
            }
            if started.elapsed() > READY_TIMEOUT {
                let output = self
                    .process
                    .lock()
                    .expect("not poisoned")
                    .as_ref()
                    .map(Running::tail)
                    .unwrap_or_default();
                return Err(RunError::Server {
                    backend: self.kind.backend(),
                    message: format!(
                        "it did not accept connections within {} s",
                        READY_TIMEOUT.as_secs()
                    ),
                    output: ctx.redact_bytes(&output),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Its directory, mode 0700, owned by the user it runs as.
    fn make_dirs(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt as _;
        let mut builder = std::fs::DirBuilder::new();
        builder.mode(0o700);
        builder.create(&self.dir)?;
        builder.create(self.socket_dir())?;
        self.give(&self.dir)?;
        self.give(&self.socket_dir())
    }

    /// Makes `path` the server user's, where it runs as another user.
    fn give(&self, path: &Path) -> std::io::Result<()> {
        match self.run_as {
            Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid)),
            None => Ok(()),
        }
    }

    async fn stop(&self, ledger: &Ledger) -> Result<(), String> {
        let running = self.process.lock().expect("not poisoned").take();
        if let Some(mut running) = running {
            if let Some(pid) = running.id() {
                let group = nix::unistd::Pid::from_raw(pid as i32);
                let _ = nix::sys::signal::killpg(group, self.kind.stop_signal());
                let _ = tokio::time::timeout(recorded::STOP_GRACE, running.wait()).await;
            }
            // Whatever of its group is left.
            running.kill().await;
        }
        if !self.recorded.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        recorded::remove_dir(&self.dir)?;
        ledger
            .server_gone(&self.dir)
            .map_err(|e| format!("could not write the ledger: {e}"))
    }

    /// Runs one of its set-up programs (`initdb`, `mariadb-install-db`) to
    /// the end; a failure is an error with what it printed.
    async fn run_setup(&self, spec: ChildSpec, ctx: &Context) -> Result<(), RunError> {
        let what = spec.display();
        let finished = spawn::run(&spec.run_as(self.run_as), &ctx.limits(None), None)
            .await
            .map_err(|e| failed(self.kind, format!("could not run {what}: {e}")))?;
        match finished.exit {
            spawn::Exit::Code(0) => Ok(()),
            spawn::Exit::Interrupted => Err(RunError::Interrupted),
            other => Err(RunError::Server {
                backend: self.kind.backend(),
                message: format!("{what} failed ({other:?})"),
                output: ctx.redact_bytes(&finished.output),
            }),
        }
    }
}

/// Copies the directory tree `from` to `to` (which must not exist):
/// directories with their modes, files by `std::fs::copy` (the kernel's
/// `copy_file_range`, a reflink where the filesystem has them), all owned
/// by `owner` when given.
pub(crate) fn copy_tree(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(from)?.permissions().mode();
    std::fs::DirBuilder::new().mode(mode & 0o7777).create(to)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(to, Some(uid), Some(gid))?;
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, owner)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&target, Some(uid), Some(gid))?;
            }
        }
        // Sockets and the like are the running server's, never copied.
    }
    Ok(())
}

/// Whether one server per worker is worth it for `workers` clones of
/// templates of `tables` tables in all. Measured on 2 cores (MariaDB
/// 10.11 in /dev/shm): copies cost about 0.5 s whatever the size (the
/// seed's stop, then 8 servers starting at once; a 180 MB data directory
/// copies in 0.1 s), while clones inside one server cost each table's
/// create, discard and import, one at a time in its data dictionary: 8
/// clones of 200 tables 5.2 s (3 ms a table), against 1.6 s as copies; of
/// small tables (by rows) 0.5 ms a table. From 800 tables cloned in all,
/// copies win even for small tables.
pub(crate) fn servers_pay(tables: usize, workers: usize) -> bool {
    tables * workers >= SERVERS_PAY_FROM
}

/// See [`servers_pay`].
const SERVERS_PAY_FROM: usize = 800;

/// Where throwaway servers go by default: RAM (`/dev/shm`) where the
/// system has it, else the temporary directory.
fn default_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// The user a server of `kind` runs as: `run_as` if set; as root, a
/// PostgreSQL server runs as `postgres` (else `nobody`); otherwise as
/// paraclone.
fn run_as(kind: Kind, configured: Option<&str>) -> Result<Option<(u32, u32)>, String> {
    let lookup = |name: &str| -> Result<Option<(u32, u32)>, String> {
        match nix::unistd::User::from_name(name) {
            Ok(Some(user)) => Ok(Some((user.uid.as_raw(), user.gid.as_raw()))),
            Ok(None) => Err(format!("there is no user {name:?} on this machine")),
            Err(e) => Err(format!("could not look up the user {name:?}: {e}")),
        }
    };
    if let Some(name) = configured {
        return lookup(name);
    }
    if kind != Kind::Postgres || !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    lookup("postgres").or_else(|_| lookup("nobody"))
}

/// A free port that is none of `taken` (ports asked for one after another,
/// each released at once, may come back the same).
fn unused_port(kind: Kind, taken: &[u16]) -> Result<u16, RunError> {
    loop {
        let port = free_port().map_err(|e| {
            failed(
                kind,
                format!("could not find a free port on 127.0.0.1: {e}"),
            )
        })?;
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on now (the kernel's choice).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// 24 random letters and digits (143 bits), safe in a URL as they are.
fn password() -> std::io::Result<String> {
    use std::io::Read as _;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 64];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    // 248 is the largest multiple of 62 that fits a byte: no bias.
    let password: String = bytes
        .iter()
        .filter(|b| **b < 248)
        .take(24)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    if password.len() < 24 {
        return Err(std::io::Error::other("too few random bytes"));
    }
    Ok(password)
}

/// A throwaway server's error with nothing it printed to show.
pub(super) fn failed(kind: Kind, message: String) -> RunError {
    RunError::Server {
        backend: kind.backend(),
        message,
        output: String::new(),
    }
}

fn bad(config: &Config, kind: Kind, key: &str, message: &str) -> RunError {
    RunError::BadSetting {
        config: config.path.clone(),
        key: format!("backends.{}.{key}", kind.backend()),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_url_safe() {
        let a = password().unwrap();
        let b = password().unwrap();
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
    }

    #[test]
    fn servers_per_worker_pay_for_big_templates_only() {
        // The bench template (200 tables) at 4 and 8 workers.
        assert!(servers_pay(200, 4) && servers_pay(200, 8));
        // The shop (28 tables) even at 8.
        assert!(!servers_pay(28, 8));
        assert!(!servers_pay(200, 1));
    }

    #[test]
    fn a_tree_is_copied_whole_with_its_modes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::create_dir_all(from.join("db")).unwrap();
        std::fs::write(from.join("ibdata1"), b"data").unwrap();
        std::fs::write(from.join("db/t.ibd"), b"table").unwrap();
        std::fs::set_permissions(&from, std::fs::Permissions::from_mode(0o700)).unwrap();
        let to = dir.path().join("to");
        copy_tree(&from, &to, None).unwrap();
        assert_eq!(std::fs::read(to.join("db/t.ibd")).unwrap(), b"table");
        assert_eq!(std::fs::read(to.join("ibdata1")).unwrap(), b"data");
        let mode = std::fs::metadata(&to).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(
            copy_tree(&from, &to, None).is_err(),
            "never into an existing directory"
        );
    }

    #[test]
    fn a_free_port_can_be_bound() {
        let port = free_port().unwrap();
        assert!(port > 0);
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    }
}
