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
//! Skeletons live in the state directory (`<state dir>/servers/
//! postgres-<key>/data`), one per server version, program and `initdb`
//! options ([`skeleton_key`]). One is made by a run's `initdb` into its
//! own data directory (where the server's user may surely write), copied
//! into a temporary sibling of the skeleton's place and renamed into it:
//! the rename is the commit point, so no run ever sees half a skeleton;
//! a run that loses the race removes its copy and the winner's serves.
//! A skeleton that is not whole (no `PG_VERSION`, no `pg_control`) is
//! replaced by the next one made. Where the state directory cannot hold
//! skeletons, `initdb` makes the data directory with the password, as
//! before skeletons.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

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

/// Changes with the skeleton's layout, so that a paraclone that lays it
/// out otherwise makes its own.
const SKELETON_FORMAT: &str = "skeleton 1";

/// A temporary directory beside the skeletons older than this is a dead
/// run's (making a skeleton takes seconds): the next run removes it.
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// Makes its data directory: a copy of the skeleton, made first where
/// there is none; where skeletons cannot be kept, `initdb` with the
/// run's password.
pub(super) async fn init(server: &Server, ctx: &Context) -> Result<(), RunError> {
    let Some(skeleton) = Skeleton::open(server) else {
        return init_direct(server, ctx).await;
    };
    if skeleton.is_whole() {
        let (kept, to, owner) = (skeleton.clone(), server.data_dir(), server.run_as);
        // A skeleton that cannot be read (another user's) is as good as
        // none: this run makes the data directory itself.
        let copied = blocking(move || {
            copy_data_dir(&kept.data(), &to, owner)?;
            // What a killed run left beside it would stay for ever, once
            // no run needs to make a skeleton again.
            kept.remove_stale();
            Ok(())
        });
        if copied.await.is_ok() {
            return Ok(());
        }
        let _ = super::recorded::remove_dir(&server.data_dir());
    }
    init_blank(server, ctx).await?;
    if !ctx.stopping() {
        let (data, owner) = (server.data_dir(), server.run_as);
        // The run has its data directory whatever happens here: a
        // skeleton that could not be kept is made again by the next run.
        let _ = blocking(move || skeleton.keep(&data, owner)).await;
    }
    Ok(())
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

/// The name of the skeleton for a server `version` (what `postgres
/// --version` says), made by `initdb` with `options`: a different
/// version, installation or option set is a different skeleton. The
/// machine's architecture is in it too (a state directory may be shared
/// between machines; a data directory is not portable).
fn skeleton_key(version: &str, initdb: &Path, options: &[&str]) -> String {
    let mut hasher = Sha256::new();
    let parts = [
        SKELETON_FORMAT.as_bytes(),
        std::env::consts::ARCH.as_bytes(),
        version.as_bytes(),
        initdb.as_os_str().as_bytes(),
    ];
    for part in parts
        .into_iter()
        .chain(options.iter().map(|o| o.as_bytes()))
    {
        hasher.update(part);
        hasher.update([0]);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A blank cluster kept for copying: `<cache>/postgres-<key>/data`.
#[derive(Clone, Debug)]
struct Skeleton {
    /// `<cache>/postgres-<key>`.
    path: PathBuf,
}

impl Skeleton {
    /// The skeleton for `server`, once its directory's parent exists;
    /// `None` where it cannot be made (a read-only state directory).
    fn open(server: &Server) -> Option<Skeleton> {
        fs::create_dir_all(&server.cache_dir).ok()?;
        let mut options: Vec<String> = SKELETON_OPTIONS.iter().map(|o| (*o).to_owned()).collect();
        options.push(format!("{}={}", INIT_ENV.0, INIT_ENV.1));
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        let key = skeleton_key(&server.programs.version, &server.programs.init, &options);
        Some(Skeleton {
            path: server.cache_dir.join(format!("postgres-{key}")),
        })
    }

    fn data(&self) -> PathBuf {
        self.path.join("data")
    }

    /// Whether it is there and looks whole. A skeleton only appears
    /// whole (by rename), so this catches what damaged it since.
    fn is_whole(&self) -> bool {
        let data = self.data();
        fs::read_to_string(data.join("PG_VERSION")).is_ok_and(|v| !v.trim().is_empty())
            && fs::metadata(data.join("global/pg_control")).is_ok_and(|m| m.is_file())
    }

    /// A new name beside it, `<name>.<what>.<pid>.<nanoseconds>`.
    fn sibling(&self, what: &str) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(format!(".{what}.{}.{nanos}", std::process::id()));
        self.path.with_file_name(name)
    }

    /// Makes `data` (a data directory fresh from `initdb`) the skeleton,
    /// unless another run has made a whole one meanwhile.
    fn keep(&self, data: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
        self.remove_stale();
        let temporary = self.sibling("tmp");
        fs::DirBuilder::new().mode(0o700).create(&temporary)?;
        let result = copy_data_dir(data, &temporary.join("data"), owner)
            .and_then(|()| self.install(&temporary));
        let _ = remove_any(&temporary);
        result
    }

    /// Renames `temporary` into its place. Where a skeleton is there
    /// already, a whole one stays (another run's, as good as this one)
    /// and one that is not is moved aside and removed first.
    fn install(&self, temporary: &Path) -> io::Result<()> {
        for _ in 0..2 {
            let error = match fs::rename(temporary, &self.path) {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if fs::symlink_metadata(&self.path).is_err() {
                return Err(error);
            }
            if self.is_whole() {
                return Ok(());
            }
            let aside = self.sibling("damaged");
            match fs::rename(&self.path, &aside) {
                Ok(()) => remove_any(&aside)?,
                // Another run moved it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        // Another run's took the place between the two renames.
        Ok(())
    }

    /// Removes what dead runs left beside the skeletons: temporary copies
    /// and damaged skeletons moved aside, older than [`STALE_AFTER`].
    fn remove_stale(&self) {
        let Some(cache) = self.path.parent() else {
            return;
        };
        let Ok(entries) = fs::read_dir(cache) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let leftover = name.starts_with("postgres-")
                && (name.contains(".tmp.") || name.contains(".damaged."));
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_AFTER);
            if leftover && old {
                let _ = remove_any(&entry.path());
            }
        }
    }
}

/// Copies data directory `from` to the new directory `to` (mode 0700, as
/// PostgreSQL insists), everything in it `owner`'s where given.
fn copy_data_dir(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    super::copy_tree(from, to, owner)?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o700))
}

/// Removes `path`, a directory (and all in it) or anything else.
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs file work off the runtime's threads (the servers start together).
async fn blocking<F>(work: F) -> io::Result<()>
where
    F: FnOnce() -> io::Result<()> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)";
    const INITDB: &str = "/usr/lib/postgresql/15/bin/initdb";

    #[test]
    fn the_skeleton_key_changes_with_version_program_and_options() {
        let key = skeleton_key(VERSION, Path::new(INITDB), SKELETON_OPTIONS);
        assert_eq!(key.len(), 16);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        assert_eq!(
            key,
            skeleton_key(VERSION, Path::new(INITDB), SKELETON_OPTIONS),
            "the same inputs, the same skeleton"
        );
        let others = [
            skeleton_key(
                "postgres (PostgreSQL) 16.4",
                Path::new(INITDB),
                SKELETON_OPTIONS,
            ),
            skeleton_key(
                VERSION,
                Path::new("/usr/local/pgsql/bin/initdb"),
                SKELETON_OPTIONS,
            ),
            skeleton_key(VERSION, Path::new(INITDB), DIRECT_OPTIONS),
            skeleton_key(VERSION, Path::new(INITDB), &SKELETON_OPTIONS[1..]),
        ];
        for other in others {
            assert_ne!(key, other);
        }
        // The parts are delimited: moving a byte between them is a change.
        assert_ne!(
            skeleton_key("a", Path::new("b"), &["c"]),
            skeleton_key("ab", Path::new(""), &["c"])
        );
    }

    /// A directory that looks like `initdb`'s, with the modes it gives.
    fn fake_data_dir(dir: &Path) {
        fs::DirBuilder::new().mode(0o700).create(dir).unwrap();
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.join("global"))
            .unwrap();
        fs::write(dir.join("PG_VERSION"), "15\n").unwrap();
        fs::write(dir.join("global/pg_control"), [0u8; 64]).unwrap();
        fs::set_permissions(dir.join("PG_VERSION"), fs::Permissions::from_mode(0o600)).unwrap();
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_copied_data_directory_keeps_its_contents_and_modes_and_is_0700() {
        let root = tempfile::tempdir().unwrap();
        let from = root.path().join("from");
        fake_data_dir(&from);
        fs::set_permissions(&from, fs::Permissions::from_mode(0o750)).unwrap();
        let to = root.path().join("to");
        copy_data_dir(&from, &to, None).unwrap();
        assert_eq!(mode(&to), 0o700, "PostgreSQL wants its data directory 0700");
        assert_eq!(mode(&to.join("global")), 0o700);
        assert_eq!(mode(&to.join("PG_VERSION")), 0o600);
        assert_eq!(fs::read_to_string(to.join("PG_VERSION")).unwrap(), "15\n");
        assert_eq!(fs::read(to.join("global/pg_control")).unwrap(), [0u8; 64]);
        // A copy never lands on an existing directory.
        assert!(copy_data_dir(&from, &to, None).is_err());
    }

    fn skeleton_in(cache: &Path) -> Skeleton {
        Skeleton {
            path: cache.join("postgres-0123456789abcdef"),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_first_skeleton_kept_stays_and_later_ones_leave_nothing() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("servers");
        fs::create_dir(&cache).unwrap();
        let skeleton = skeleton_in(&cache);
        assert!(!skeleton.is_whole());
        let first = root.path().join("first");
        fake_data_dir(&first);
        skeleton.keep(&first, None).unwrap();
        assert!(skeleton.is_whole());
        assert_eq!(mode(&skeleton.data()), 0o700);
        // A run that lost the race: the winner's stays, this one's goes.
        let second = root.path().join("second");
        fake_data_dir(&second);
        fs::write(second.join("PG_VERSION"), "16\n").unwrap();
        skeleton.keep(&second, None).unwrap();
        assert_eq!(
            fs::read_to_string(skeleton.data().join("PG_VERSION")).unwrap(),
            "15\n"
        );
        assert_eq!(names(&cache), ["postgres-0123456789abcdef"]);
    }

    #[test]
    fn a_damaged_skeleton_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("servers");
        fs::create_dir(&cache).unwrap();
        let skeleton = skeleton_in(&cache);
        let data = root.path().join("data");
        fake_data_dir(&data);
        skeleton.keep(&data, None).unwrap();
        fs::remove_file(skeleton.data().join("PG_VERSION")).unwrap();
        assert!(!skeleton.is_whole());
        skeleton.keep(&data, None).unwrap();
        assert!(skeleton.is_whole());
        // Even a file where the skeleton should be.
        remove_any(&skeleton.path).unwrap();
        fs::write(&skeleton.path, "not a skeleton").unwrap();
        skeleton.keep(&data, None).unwrap();
        assert!(skeleton.is_whole());
        assert_eq!(names(&cache), ["postgres-0123456789abcdef"]);
    }

    #[test]
    fn only_old_leftovers_beside_the_skeletons_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("servers");
        fs::create_dir(&cache).unwrap();
        let skeleton = skeleton_in(&cache);
        let old = cache.join("postgres-aaaa.tmp.1.2");
        let young = cache.join("postgres-bbbb.tmp.3.4");
        let other = cache.join("mariadb-cccc.tmp.5.6");
        for dir in [&old, &young, &other] {
            fs::create_dir(dir).unwrap();
        }
        let long_ago = SystemTime::now() - 2 * STALE_AFTER;
        for dir in [&old, &other] {
            fs::File::open(dir).unwrap().set_modified(long_ago).unwrap();
        }
        skeleton.remove_stale();
        assert_eq!(
            names(&cache),
            ["mariadb-cccc.tmp.5.6", "postgres-bbbb.tmp.3.4"]
        );
    }
}
