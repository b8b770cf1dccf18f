//! The ledger: every database a run creates, written down before it is
//! created, in a file that outlives the run.
//!
//! Each run owns one file, `<state dir>/ledger/<run-id>.jsonl`, and holds an
//! exclusive lock on it for as long as it lives. The kernel releases that
//! lock when the process dies, however it dies (SIGKILL included), so "can
//! I take the lock?" answers "is that run dead?" without trusting pids,
//! which get reused. A file is created under a temporary name, locked, and
//! only then renamed into place, so a sweeper never mistakes a run that is
//! just starting for a dead one.
//!
//! Lines are JSON objects: a header (`run`), then `create` before each
//! database is created and `dropped` after each confirmed drop. The file is
//! removed when everything it lists was dropped; what remains is what a
//! later sweep (`paraclone clean`, or the start of the next run) drops.

use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One line of a ledger file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Line {
    /// The first line: who owns the file.
    Run {
        run_id: String,
        pid: u32,
        host: String,
        /// Seconds since the Unix epoch.
        started: u64,
        config: PathBuf,
    },
    /// Written (and synced) before the database is created.
    Create {
        alias: String,
        backend: String,
        /// The server's label (redacted), to check a sweep talks to the
        /// same server.
        server: String,
        name: String,
    },
    /// Written after the database was dropped.
    Dropped { name: String },
}

/// The ledger file of the running process.
#[derive(Debug)]
pub(crate) struct Ledger {
    path: PathBuf,
    file: Mutex<File>,
}

impl Ledger {
    /// Creates and locks this run's ledger file in `dir`.
    pub(crate) fn create(dir: &Path, run_id: &str, config: &Path) -> std::io::Result<Ledger> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{run_id}.jsonl"));
        let temporary = dir.join(format!(".{run_id}.jsonl.new"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .read(true)
            .open(&temporary)?;
        file.try_lock().map_err(std::io::Error::other)?;
        let ledger = Ledger {
            path: path.clone(),
            file: Mutex::new(file),
        };
        ledger.append(&Line::Run {
            run_id: run_id.to_owned(),
            pid: std::process::id(),
            host: hostname(),
            started: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
            config: config.to_owned(),
        })?;
        std::fs::rename(&temporary, &path)?;
        Ok(ledger)
    }

    /// Records, durably, that `name` is about to be created.
    pub(crate) fn will_create(
        &self,
        alias: &str,
        backend: &str,
        server: &str,
        name: &str,
    ) -> std::io::Result<()> {
        self.append(&Line::Create {
            alias: alias.to_owned(),
            backend: backend.to_owned(),
            server: server.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Records that `name` was dropped.
    pub(crate) fn dropped(&self, name: &str) -> std::io::Result<()> {
        self.append(&Line::Dropped {
            name: name.to_owned(),
        })
    }

    /// Ends the run's use of the ledger: the file is removed if nothing in
    /// it is left to drop, and kept (unlocked) for a later sweep otherwise.
    pub(crate) fn close(self) -> std::io::Result<()> {
        let remaining = read(&self.path)?.pending.len();
        if remaining == 0 {
            std::fs::remove_file(&self.path)?;
        }
        Ok(())
    }

    fn append(&self, line: &Line) -> std::io::Result<()> {
        let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        text.push('\n');
        let mut file = self.file.lock().expect("not poisoned");
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }
}

/// A database a ledger says was created and not dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) alias: String,
    pub(crate) backend: String,
    pub(crate) server: String,
    pub(crate) name: String,
}

/// What one ledger file says.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) path: PathBuf,
    pub(crate) run_id: String,
    pub(crate) pid: u32,
    pub(crate) host: String,
    pub(crate) started: u64,
    /// Created, not yet dropped, in creation order.
    pub(crate) pending: Vec<Pending>,
}

impl Record {
    /// How long ago the run started.
    pub(crate) fn age(&self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Duration::from_secs(now.saturating_sub(self.started))
    }
}

fn read(path: &Path) -> std::io::Result<Record> {
    let file = File::open(path)?;
    let mut record = Record {
        path: path.to_owned(),
        run_id: String::new(),
        pid: 0,
        host: String::new(),
        started: 0,
        pending: Vec::new(),
    };
    for line in BufReader::new(file).lines() {
        let line = line?;
        // A line cut short by a crash mid-write is the last one and
        // describes nothing that was created yet.
        let Ok(line) = serde_json::from_str::<Line>(&line) else {
            continue;
        };
        match line {
            Line::Run {
                run_id,
                pid,
                host,
                started,
                ..
            } => {
                record.run_id = run_id;
                record.pid = pid;
                record.host = host;
                record.started = started;
            }
            Line::Create {
                alias,
                backend,
                server,
                name,
            } => record.pending.push(Pending {
                alias,
                backend,
                server,
                name,
            }),
            Line::Dropped { name } => record.pending.retain(|p| p.name != name),
        }
    }
    Ok(record)
}

/// A ledger of a run that is gone (or older than asked), locked by the
/// sweeper while it works on it.
#[derive(Debug)]
pub(crate) struct Orphan {
    pub(crate) record: Record,
    /// Whether its run still holds the lock (swept only by age).
    pub(crate) alive: bool,
    file: File,
}

impl Orphan {
    /// Records a drop made by the sweeper.
    pub(crate) fn dropped(&mut self, name: &str) -> std::io::Result<()> {
        let mut text = serde_json::to_string(&Line::Dropped {
            name: name.to_owned(),
        })
        .map_err(std::io::Error::other)?;
        text.push('\n');
        let mut file = OpenOptions::new().append(true).open(&self.record.path)?;
        file.write_all(text.as_bytes())?;
        file.sync_data()?;
        self.record.pending.retain(|p| p.name != name);
        Ok(())
    }

    /// Removes the ledger file if nothing in it is left to drop.
    pub(crate) fn finish(self) -> std::io::Result<()> {
        if self.record.pending.is_empty() {
            std::fs::remove_file(&self.record.path)?;
        }
        drop(self.file);
        Ok(())
    }
}

/// The ledgers in `dir` of runs that are no longer alive, and, with
/// `older_than`, of live runs that started longer ago than that. Ledgers of
/// live runs are never returned otherwise; `own` (this run) never is.
pub(crate) fn orphans(
    dir: &Path,
    own: Option<&str>,
    older_than: Option<Duration>,
) -> std::io::Result<Vec<Orphan>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(run) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".jsonl"))
        else {
            continue;
        };
        if run.starts_with('.') || Some(run) == own {
            continue;
        }
        let file = match File::open(&path) {
            Ok(f) => f,
            // Removed by its run or another sweeper meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let alive = match file.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        };
        let record = read(&path)?;
        let too_old = older_than.is_some_and(|limit| record.age() >= limit);
        if !alive || too_old {
            found.push(Orphan {
                record,
                alive,
                file,
            });
        }
    }
    found.sort_by_key(|a| a.record.started);
    Ok(found)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_run_is_not_an_orphan_and_a_closed_clean_run_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run1", Path::new("/p/paraclone.toml")).unwrap();
        ledger
            .will_create("default", "sqlite", "SQLite at /x", "db_w1")
            .unwrap();
        assert!(
            orphans(dir.path(), None, None).unwrap().is_empty(),
            "the lock marks the run alive"
        );
        let by_age = orphans(dir.path(), None, Some(Duration::ZERO)).unwrap();
        assert_eq!(by_age.len(), 1);
        assert!(by_age[0].alive);
        drop(by_age);
        ledger.dropped("db_w1").unwrap();
        ledger.close().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_dead_run_is_an_orphan_with_what_it_did_not_drop() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run2", Path::new("/p/paraclone.toml")).unwrap();
        for name in ["a_tpl", "a_w1", "a_w2"] {
            ledger.will_create("default", "sqlite", "S", name).unwrap();
        }
        ledger.dropped("a_w1").unwrap();
        // Dropping the handle releases the lock, as the death of the process would.
        drop(ledger);
        let mut found = orphans(dir.path(), None, None).unwrap();
        assert_eq!(found.len(), 1);
        let orphan = &mut found[0];
        assert!(!orphan.alive);
        assert_eq!(orphan.record.run_id, "run2");
        assert_eq!(orphan.record.pid, std::process::id());
        let names: Vec<&str> = orphan
            .record
            .pending
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["a_tpl", "a_w2"]);
        orphan.dropped("a_tpl").unwrap();
        orphan.dropped("a_w2").unwrap();
        found.pop().unwrap().finish().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn own_ledger_and_half_written_lines_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run3", Path::new("/p")).unwrap();
        ledger
            .will_create("default", "sqlite", "S", "x_w1")
            .unwrap();
        drop(ledger);
        let path = dir.path().join("run3.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"op\":\"create\",\"alias\":\"de").unwrap();
        assert!(orphans(dir.path(), Some("run3"), None).unwrap().is_empty());
        let found = orphans(dir.path(), None, None).unwrap();
        assert_eq!(found[0].record.pending.len(), 1);
    }

    #[test]
    fn a_missing_directory_has_no_orphans() {
        assert!(
            orphans(Path::new("/nonexistent/paraclone/ledger"), None, None)
                .unwrap()
                .is_empty()
        );
    }
}
