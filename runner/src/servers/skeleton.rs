//! Skeletons: a blank data directory made once per server version and
//! set-up options (`initdb`, `mariadb-install-db`), kept in the state
//! directory (`<state dir>/servers/<backend>-<key>/data`) and copied for
//! each run: making one is most of a server's start (about 0.5 s of 0.6 s
//! on two cores), a copy a tenth of that. A skeleton holds no password
//! (each run sets its own once the server is up).
//!
//! One is made by a run into its own data directory (where the server's
//! user may surely write), copied into a temporary sibling of the
//! skeleton's place and renamed into it: the rename is the commit point,
//! so no run ever sees half a skeleton; a run that loses the race removes
//! its copy and the winner's serves. A skeleton that is not whole (a
//! marker file missing or empty) is replaced by the next one made.

use std::fs;
use std::future::Future;
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::Server;
use crate::context::Context;
use crate::error::RunError;

/// Changes with the skeleton's layout, so that a paraclone that lays it
/// out otherwise makes its own.
const SKELETON_FORMAT: &str = "skeleton 1";

/// A temporary directory of a skeleton older than this is a dead run's
/// (making one takes seconds) and is removed by the next run making one.
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// Makes `server`'s data directory a copy of `skeleton`, made first by
/// `blank` (into the data directory) where there is none whole.
pub(super) async fn make_data_dir(
    server: &Server,
    ctx: &Context,
    skeleton: Skeleton,
    blank: impl Future<Output = Result<(), RunError>>,
) -> Result<(), RunError> {
    if skeleton.is_whole() {
        let (from, to, owner) = (skeleton.data(), server.data_dir(), server.run_as);
        // A skeleton that cannot be read (another user's) is as good as
        // none: this run makes the data directory itself.
        if blocking(move || copy_data_dir(&from, &to, owner))
            .await
            .is_ok()
        {
            return Ok(());
        }
        let _ = super::recorded::remove_dir(&server.data_dir());
    }
    blank.await?;
    if !ctx.stopping() {
        let (data, owner) = (server.data_dir(), server.run_as);
        // The run has its data directory whatever happens here: a
        // skeleton that could not be kept is made again by the next run.
        let _ = blocking(move || skeleton.keep(&data, owner)).await;
    }
    Ok(())
}

/// The name of the skeleton for a server `version` (what the server
/// program says), made by `init` with `options`: a different version,
/// installation or option set is a different skeleton. The machine's
/// architecture is in it too (a state directory may be shared between
/// machines; a data directory is not portable).
pub(super) fn skeleton_key(version: &str, init: &Path, options: &[&str]) -> String {
    let mut hasher = Sha256::new();
    let parts = [
        SKELETON_FORMAT.as_bytes(),
        std::env::consts::ARCH.as_bytes(),
        version.as_bytes(),
        init.as_os_str().as_bytes(),
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

/// A blank data directory kept for copying: `<cache>/<backend>-<key>/data`.
#[derive(Clone, Debug)]
pub(super) struct Skeleton {
    /// `<cache>/<backend>-<key>`.
    path: PathBuf,
    /// Files (relative to the data directory) a whole one has, none empty.
    markers: &'static [&'static str],
}

impl Skeleton {
    /// The skeleton for `server` made with `options`, once its
    /// directory's parent exists; `None` where it cannot be made (a
    /// read-only state directory).
    pub(super) fn open(
        server: &Server,
        options: &[&str],
        markers: &'static [&'static str],
    ) -> Option<Skeleton> {
        fs::create_dir_all(&server.cache_dir).ok()?;
        let key = skeleton_key(&server.programs.version, &server.programs.init, options);
        Some(Skeleton {
            path: server
                .cache_dir
                .join(format!("{}-{key}", server.kind.backend())),
            markers,
        })
    }

    fn data(&self) -> PathBuf {
        self.path.join("data")
    }

    /// Whether it is there and looks whole. A skeleton only appears
    /// whole (by rename), so this catches what damaged it since.
    fn is_whole(&self) -> bool {
        let data = self.data();
        self.markers.iter().all(|marker| {
            fs::symlink_metadata(data.join(marker)).is_ok_and(|m| m.is_dir() || m.len() > 0)
        })
    }

    /// The prefix of its name and of what runs leave beside it.
    fn prefix(&self) -> String {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        match name.split_once('-') {
            Some((backend, _)) => format!("{backend}-"),
            None => name.into_owned(),
        }
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
            let leftover = name.starts_with(&self.prefix())
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
pub(super) fn copy_data_dir(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
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
pub(super) async fn blocking<F>(work: F) -> io::Result<()>
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
    const SKELETON_OPTIONS: &[&str] = &["--username=postgres", "--auth-local=trust", "--no-sync"];
    const DIRECT_OPTIONS: &[&str] = &["--username=postgres", "--auth=scram-sha-256"];

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
            markers: &["PG_VERSION", "global/pg_control"],
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
