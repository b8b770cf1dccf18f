//! [`SqliteOptions`]: where database files live and how clones are made.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// How a [`SqliteCloner`](crate::SqliteCloner) is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Where database files live (`<dir>/<name>.sqlite3`) with
    /// [`Target::Disk`]. With [`Target::Ram`] it only names the project: the
    /// files live in a directory of their own in RAM, derived from it (see
    /// [`Target::Ram`]). A relative path is taken from the current directory.
    pub dir: PathBuf,
    /// Disk or RAM.
    pub target: Target,
    /// How clones are made.
    pub method: Method,
    /// Whether worker processes load their clone into a shared in-memory
    /// database ([`crate::worker`]); the cloner then adds
    /// `PARACLONE_SQLITE_IN_MEMORY=1` to every clone's environment.
    pub in_memory_workers: bool,
}

impl SqliteOptions {
    /// Files in `dir` on disk, the fastest safe clone method, workers on the
    /// files.
    pub fn new(dir: impl Into<PathBuf>) -> SqliteOptions {
        SqliteOptions {
            dir: dir.into(),
            target: Target::Disk,
            method: Method::Auto,
            in_memory_workers: false,
        }
    }

    /// The same options with `target`.
    pub fn target(mut self, target: Target) -> SqliteOptions {
        self.target = target;
        self
    }

    /// The same options with `method`.
    pub fn method(mut self, method: Method) -> SqliteOptions {
        self.method = method;
        self
    }

    /// The same options with in-memory workers on or off.
    pub fn in_memory_workers(mut self, on: bool) -> SqliteOptions {
        self.in_memory_workers = on;
        self
    }
}

/// Where database files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// In [`SqliteOptions::dir`].
    Disk,
    /// In RAM: `/dev/shm` when it exists and is writable (Linux), else the
    /// system's temporary directory (which is RAM-backed on some systems
    /// only). Inside it, each project gets the directory
    /// `paraclone-<hash of the absolute SqliteOptions::dir>`, so runs of one
    /// project find (and sweep) each other's files and projects never meet.
    /// Files in RAM vanish on reboot; nothing else changes.
    Ram,
}

/// How a clone is made from its template.
///
/// All three produce a faithful copy (the conformance kit checks each);
/// they differ in speed. Measured with
/// `cargo run --release -p cloner-sqlite --example clone_methods` on a
/// template of 200 tables × 1,000 rows with two indexes per table
/// (25.5 MB), SQLite 3.54.1, Linux, 2 cores, ext4 and tmpfs (`/dev/shm`),
/// other builds running: medians over 8 runs of the medians of 9 rounds.
/// "8 clones" is the wall time of eight clones made the way the runner
/// makes them, `concurrency_hint()` (here 2) at a time.
///
/// | method   | disk, 1 clone | disk, 8 clones | RAM, 1 clone | RAM, 8 clones |
/// |----------|--------------:|---------------:|-------------:|--------------:|
/// | `Copy`   |         10 ms |         140 ms |        10 ms |         78 ms |
/// | `Backup` |         31 ms |         210 ms |        20 ms |        180 ms |
/// | `Vacuum` |         70 ms |         645 ms |        67 ms |        600 ms |
///
/// `Copy` copies the file in the kernel (`copy_file_range`; Btrfs and XFS
/// may share the blocks instead), `Backup` copies pages through SQLite,
/// `Vacuum` rebuilds every table and index, which costs the most but yields
/// a compact file. `Copy` was the fastest in every single-clone
/// measurement and in 7 of 8 batch runs on disk (the eighth, with the page
/// cache under writeback pressure from other jobs, took 425 ms against
/// `Backup`'s 199 ms) and in all of them in RAM. So [`Method::Auto`] is
/// `Copy`. It is safe because a sealed template is closed, in rollback
/// journal mode and checkpointed, so its main file holds every page; for a
/// template that still has a `-wal` with content or a `-journal` next to
/// it, the cloner uses `Backup` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The fastest safe method, as measured: [`Method::Copy`].
    Auto,
    /// SQLite's online backup API, all pages in one step.
    Backup,
    /// `VACUUM INTO '<clone>'`.
    Vacuum,
    /// A plain copy of the template's file.
    Copy,
}

impl Method {
    /// Every method, for configuration help and benchmarks.
    pub const ALL: [Method; 4] = [Method::Auto, Method::Backup, Method::Vacuum, Method::Copy];

    /// The method `Auto` stands for; every other method is itself.
    pub fn resolve(self) -> Method {
        match self {
            Method::Auto => Method::Copy,
            other => other,
        }
    }

    /// The name used in configuration: `auto`, `backup`, `vacuum`, `copy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Backup => "backup",
            Method::Vacuum => "vacuum",
            Method::Copy => "copy",
        }
    }
}

impl Target {
    /// The name used in configuration: `disk`, `ram`.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Disk => "disk",
            Target::Ram => "ram",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A configuration value that names no [`Method`] or [`Target`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a SQLite {what}; expected one of {expected}")]
pub struct ParseOptionError {
    /// The value given.
    pub value: String,
    /// `clone method` or `target`.
    pub what: &'static str,
    /// The accepted values, comma-separated.
    pub expected: &'static str,
}

impl FromStr for Method {
    type Err = ParseOptionError;

    fn from_str(s: &str) -> Result<Method, ParseOptionError> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseOptionError {
                value: s.to_owned(),
                what: "clone method",
                expected: "auto, backup, vacuum, copy",
            })
    }
}

impl FromStr for Target {
    type Err = ParseOptionError;

    fn from_str(s: &str) -> Result<Target, ParseOptionError> {
        [Target::Disk, Target::Ram]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseOptionError {
                value: s.to_owned(),
                what: "target",
                expected: "disk, ram",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_resolves_to_the_measured_fastest_method() {
        assert_eq!(Method::Auto.resolve(), Method::Copy);
        for m in [Method::Backup, Method::Vacuum, Method::Copy] {
            assert_eq!(m.resolve(), m);
        }
    }

    #[test]
    fn names_parse_back() {
        for m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>(), Ok(m));
            assert_eq!(m.to_string().to_uppercase().parse::<Method>(), Ok(m));
        }
        assert_eq!("RAM".parse::<Target>(), Ok(Target::Ram));
        assert_eq!("disk".parse::<Target>(), Ok(Target::Disk));
        let e = "fast".parse::<Method>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"fast\" is not a SQLite clone method; expected one of auto, backup, vacuum, copy"
        );
        assert!(
            "tape"
                .parse::<Target>()
                .unwrap_err()
                .to_string()
                .contains("disk, ram")
        );
    }

    #[test]
    fn the_builder_sets_every_field() {
        let o = SqliteOptions::new("x")
            .target(Target::Ram)
            .method(Method::Vacuum)
            .in_memory_workers(true);
        assert_eq!(
            o,
            SqliteOptions {
                dir: "x".into(),
                target: Target::Ram,
                method: Method::Vacuum,
                in_memory_workers: true
            }
        );
        assert_eq!(SqliteOptions::new("y").method, Method::Auto);
    }
}
