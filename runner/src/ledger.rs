//! The ledger: every database a run creates, written down before it is
//! created, in a file that outlives the run.
//!
//! Each run owns one file, `<state dir>/ledger/<run-id>.jsonl`, and holds an
//! exclusive lock on it for as long as it lives. The kernel releases that
//! lock when the process dies, however it dies (SIGKILL included), so "can
//! I take the lock?" answers "is that run dead?" without trusting pids,
//! which get reused. A file is created under a temporary name, locked, and
//! only then renamed into place, so a sweeper never mistakes a run that is
//! just starting for a dead one; a start that fails removes its temporary
//! file, and a sweep removes those of runs killed while starting.
//!
//! Lines are JSON objects: a header (`run`), then `create` before each
//! database is created, `created` or `failed` when the backend answered,
//! and `dropped` after each confirmed drop (or once the server said the
//! database is not there). A throwaway server the run starts is listed the
//! same way: `server` before its directory is made, `server_pid` once its
//! process runs, `server_gone` once it is stopped and its directory
//! removed (the databases on it go with it). The file is removed when
//! everything it lists was dropped or stopped; what remains is what a later
//! sweep (`paraclone clean`, or the start of the next run) drops and stops.
//!
//! Reading never fails on what a file contains: a line that is not a
//! ledger line is a [`Record::problems`] entry, and a file with such lines
//! (or without a header) is [`Record::damaged`], so one bad file cannot
//! stop every run.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::servers::{Kind, Recorded};

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
        /// The config's path, for people reading the file (lossy: a path
        /// that is not UTF-8 must not stop the run).
        config: String,
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
    /// The backend created the database.
    Created { name: String },
    /// The create returned an error (or was never started): the backend
    /// removes what it made on error, so normally nothing exists, but a
    /// drop is still tried in case its cleanup failed.
    Failed { name: String },
    /// Written after the database was dropped, or found not to exist.
    Dropped { name: String },
    /// The run keeps the database on purpose (`--keep-failed`): it is not
    /// dropped at the start of later runs, only by `paraclone clean`.
    Kept {
        name: String,
        /// The failed test it was kept for (`binary name`).
        test: String,
    },
    /// The template is kept for reuse by later runs (`--reuse`), its
    /// record written: no sweep drops it, only `paraclone clean
    /// --templates` (or a later run, once it is stale and unused).
    KeptTemplate { name: String },
    /// Written (and synced) before a throwaway server's directory is made
    /// and its process started.
    Server {
        kind: Kind,
        /// Its directory (lossy, like `config`): removed with it.
        dir: String,
        port: u16,
        /// The `server` its databases are recorded with.
        label: String,
    },
    /// The server's process was started.
    ServerPid { dir: String, pid: u32 },
    /// The server was stopped and its directory removed: it, and every
    /// database on it, are gone.
    ServerGone { dir: String },
}

/// How far the create of a listed database got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Made {
    /// Only the intent is recorded: the run died during the create.
    Unknown,
    /// The backend created it.
    Created,
    /// The create returned an error or was not started.
    Failed,
}

/// The ledger file of the running process.
#[derive(Debug)]
pub(crate) struct Ledger {
    path: PathBuf,
    file: Mutex<File>,
}

impl Ledger {
    /// Creates and locks this run's ledger file in `dir`. On error nothing
    /// is left in `dir` (but the directory itself).
    pub(crate) fn create(dir: &Path, run_id: &str, config: &Path) -> std::io::Result<Ledger> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{run_id}.jsonl"));
        let temporary = dir.join(format!(".{run_id}.jsonl.new"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .read(true)
            .open(&temporary)?;
        let started = (|| {
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
                config: lossy(config),
            })?;
            std::fs::rename(&temporary, &path)?;
            Ok(ledger)
        })();
        if started.is_err() {
            // Locked or not, it lists nothing: a leftover would only be
            // clutter (or, renamed, a ledger without databases).
            let _ = std::fs::remove_file(&temporary);
        }
        started
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

    /// Records that the backend created `name`.
    pub(crate) fn created(&self, name: &str) -> std::io::Result<()> {
        self.append(&Line::Created {
            name: name.to_owned(),
        })
    }

    /// Records that creating `name` failed or was not started.
    pub(crate) fn failed(&self, name: &str) -> std::io::Result<()> {
        self.append(&Line::Failed {
            name: name.to_owned(),
        })
    }

    /// Records that `name` was dropped (or is not on the server).
    pub(crate) fn dropped(&self, name: &str) -> std::io::Result<()> {
        self.append(&Line::Dropped {
            name: name.to_owned(),
        })
    }

    /// Records that the template `name` is kept for reuse: only `paraclone
    /// clean --templates` (or a run that finds it stale) drops it.
    pub(crate) fn kept_template(&self, name: &str) -> std::io::Result<()> {
        self.append(&Line::KeptTemplate {
            name: name.to_owned(),
        })
    }

    /// Records that `name` is kept for the failed test `test`: only
    /// `paraclone clean` drops it.
    pub(crate) fn kept(&self, name: &str, test: &str) -> std::io::Result<()> {
        self.append(&Line::Kept {
            name: name.to_owned(),
            test: test.to_owned(),
        })
    }

    /// Records, durably, that the throwaway server `server` is about to be
    /// made (its `pid` is not written: [`Ledger::server_started`] does).
    pub(crate) fn will_start_server(&self, server: &Recorded) -> std::io::Result<()> {
        self.append(&Line::Server {
            kind: server.kind,
            dir: lossy(&server.dir),
            port: server.port,
            label: server.label.clone(),
        })
    }

    /// Records that the process of the server in `dir` was started.
    pub(crate) fn server_started(&self, dir: &Path, pid: u32) -> std::io::Result<()> {
        self.append(&Line::ServerPid {
            dir: lossy(dir),
            pid,
        })
    }

    /// Records that the server in `dir` was stopped and its directory
    /// removed: it leaves the ledger, and so do the databases on it.
    pub(crate) fn server_gone(&self, dir: &Path) -> std::io::Result<()> {
        self.append(&Line::ServerGone { dir: lossy(dir) })
    }

    /// Ends the run's use of the ledger: the file is removed if nothing in
    /// it is left to drop or stop, and kept (unlocked) for a later sweep
    /// otherwise.
    pub(crate) fn close(self) -> std::io::Result<()> {
        let file = self.file.into_inner().expect("not poisoned");
        if read(&self.path, &file)?.is_empty() {
            std::fs::remove_file(&self.path)?;
        }
        Ok(())
    }

    fn append(&self, line: &Line) -> std::io::Result<()> {
        let mut file = self.file.lock().expect("not poisoned");
        write_line(&mut file, line)
    }
}

/// A path as a ledger line holds it: a path that is not UTF-8 must not
/// stop the run.
fn lossy(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn write_line(file: &mut File, line: &Line) -> std::io::Result<()> {
    let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// A database a ledger says was (or may have been) created and not dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) alias: String,
    pub(crate) backend: String,
    pub(crate) server: String,
    pub(crate) name: String,
    pub(crate) made: Made,
    /// Kept on purpose for a failed test (`--keep-failed`), with the test:
    /// only `clean` drops it.
    pub(crate) kept: Option<String>,
    /// A template kept for reuse (`--reuse`): only `clean --templates`
    /// drops it.
    pub(crate) reusable: bool,
}

/// Who wrote a ledger, from its header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) pid: u32,
    pub(crate) host: String,
    /// Seconds since the Unix epoch.
    pub(crate) started: u64,
}

impl Header {
    /// How long ago the run started.
    pub(crate) fn age(&self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Duration::from_secs(now.saturating_sub(self.started))
    }
}

/// What one ledger file says.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) path: PathBuf,
    /// From the file's name.
    pub(crate) run_id: String,
    /// `None` when the file has no readable header line.
    pub(crate) header: Option<Header>,
    /// Created (or maybe created), not yet dropped, in creation order.
    pub(crate) pending: Vec<Pending>,
    /// Throwaway servers started (or maybe started), not yet stopped, in
    /// start order.
    pub(crate) servers: Vec<Recorded>,
    /// What could not be read, one sentence each (line numbers, an
    /// excerpt), for the user.
    pub(crate) problems: Vec<String>,
    /// Lines that are not ledger lines, or no header: the file says less
    /// than it should (a last line cut short by a crash is a problem, but
    /// not damage: the run died while writing it).
    pub(crate) damaged: bool,
}

impl Record {
    /// Whether it lists nothing left to drop or stop.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.servers.is_empty()
    }

    /// Takes the server in `dir` off the list, with the databases on it (a
    /// `dir` never listed changes nothing).
    fn server_gone(&mut self, dir: &Path) {
        let mut labels = Vec::new();
        self.servers.retain(|s| {
            let gone = s.dir == dir;
            if gone {
                labels.push(s.label.clone());
            }
            !gone
        });
        self.pending.retain(|p| !labels.contains(&p.server));
    }
}

/// Reads the ledger at `path` through `file` (opened on it).
fn read(path: &Path, mut file: &File) -> std::io::Result<Record> {
    use std::io::Seek as _;
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut record = Record {
        path: path.to_owned(),
        run_id: run_of(path).unwrap_or_default().to_owned(),
        header: None,
        pending: Vec::new(),
        servers: Vec::new(),
        problems: Vec::new(),
        damaged: false,
    };
    let mut lines = bytes.split(|b| *b == b'\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        // The piece after the last newline: empty, or a line cut short.
        let last = lines.peek().is_none();
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = index + 1;
        let parsed = std::str::from_utf8(raw)
            .ok()
            .and_then(|text| serde_json::from_str::<Line>(text).ok());
        let Some(line) = parsed else {
            let excerpt = excerpt(raw);
            if last && std::str::from_utf8(raw).is_ok() {
                record.problems.push(format!(
                    "its last line is cut short (the run died while writing it), ignored: {excerpt}"
                ));
            } else {
                record.damaged = true;
                record
                    .problems
                    .push(format!("line {number} is not a ledger line: {excerpt}"));
            }
            continue;
        };
        match line {
            Line::Run {
                pid, host, started, ..
            } => {
                record.header = Some(Header { pid, host, started });
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
                made: Made::Unknown,
                kept: None,
                reusable: false,
            }),
            Line::Created { name } => {
                if let Some(p) = latest(&mut record.pending, &name) {
                    p.made = Made::Created;
                }
            }
            Line::Failed { name } => {
                if let Some(p) = latest(&mut record.pending, &name) {
                    p.made = Made::Failed;
                }
            }
            Line::Dropped { name } => record.pending.retain(|p| p.name != name),
            Line::Kept { name, test } => {
                if let Some(p) = latest(&mut record.pending, &name) {
                    p.kept = Some(test);
                }
            }
            Line::KeptTemplate { name } => {
                if let Some(p) = latest(&mut record.pending, &name) {
                    p.reusable = true;
                }
            }
            Line::Server {
                kind,
                dir,
                port,
                label,
            } => record.servers.push(Recorded {
                kind,
                dir: PathBuf::from(dir),
                port,
                label,
                pid: None,
            }),
            Line::ServerPid { dir, pid } => {
                let dir = Path::new(&dir);
                if let Some(s) = record.servers.iter_mut().rev().find(|s| s.dir == dir) {
                    s.pid = Some(pid);
                }
            }
            Line::ServerGone { dir } => record.server_gone(Path::new(&dir)),
        }
    }
    if record.header.is_none() {
        record.damaged = true;
        record
            .problems
            .push("it has no header line (which run, pid, host, start)".to_owned());
    }
    Ok(record)
}

/// The latest entry listed for `name`.
fn latest<'a>(pending: &'a mut [Pending], name: &str) -> Option<&'a mut Pending> {
    pending.iter_mut().rev().find(|p| p.name == name)
}

/// A line as the user can be shown it: at most 60 characters, quoted, bytes
/// that are not UTF-8 replaced.
fn excerpt(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// The run id a ledger file's name gives: `<run>.jsonl`.
fn run_of(path: &Path) -> Option<&str> {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".jsonl"))
        .filter(|run| !run.is_empty() && !run.starts_with('.'))
}

/// A ledger of a run that is gone (or older than asked), locked by the
/// sweeper while it works on it.
#[derive(Debug)]
pub(crate) struct Orphan {
    pub(crate) record: Record,
    /// Whether its run still holds the lock (swept only by age).
    pub(crate) alive: bool,
    /// `None` when the file could not be opened, locked or read (the
    /// reason is in `record.problems`): nothing can be done with it.
    file: Option<File>,
}

impl Orphan {
    /// Whether the file could be read at all.
    pub(crate) fn readable(&self) -> bool {
        self.file.is_some()
    }

    /// Records a drop made by the sweeper (or that the database is not on
    /// its server).
    pub(crate) fn dropped(&mut self, name: &str) -> std::io::Result<()> {
        let mut file = OpenOptions::new().append(true).open(&self.record.path)?;
        write_line(
            &mut file,
            &Line::Dropped {
                name: name.to_owned(),
            },
        )?;
        self.record.pending.retain(|p| p.name != name);
        Ok(())
    }

    /// Records that the sweeper stopped the server in `dir` and removed its
    /// directory: it leaves the record, with the databases on it.
    pub(crate) fn server_gone(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut file = OpenOptions::new().append(true).open(&self.record.path)?;
        write_line(&mut file, &Line::ServerGone { dir: lossy(dir) })?;
        self.record.server_gone(dir);
        Ok(())
    }

    /// Removes the ledger file if nothing in it is left to drop or stop.
    pub(crate) fn finish(self) -> std::io::Result<()> {
        if self.file.is_some() && self.record.is_empty() {
            std::fs::remove_file(&self.record.path)?;
        }
        Ok(())
    }

    /// Removes the ledger file whatever it still lists (`clean --forget`).
    pub(crate) fn forget(self) -> std::io::Result<()> {
        std::fs::remove_file(&self.record.path)
    }
}

/// The ledger of run `run` in `dir`, if that run is no longer alive.
pub(crate) fn dead_run(dir: &Path, run: &str) -> std::io::Result<Orphan> {
    let path = dir.join(format!("{run}.jsonl"));
    let file = File::open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            std::io::Error::new(
                e.kind(),
                format!("no ledger of run {run} ({} does not exist)", path.display()),
            )
        } else {
            e
        }
    })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ResourceBusy,
                format!("run {run} is still running (it holds the lock on its ledger)"),
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    let record = read(&path, &file)?;
    Ok(Orphan {
        record,
        alive: false,
        file: Some(file),
    })
}

/// The ledgers in `dir` of runs that are no longer alive, and, with
/// `older_than`, of live runs that started longer ago than that. Ledgers of
/// live runs are never returned otherwise; `own` (this run) never is. A
/// file that cannot be opened or read is returned too, unreadable, so that
/// it can be reported. Temporary files of runs that died while starting
/// are removed (they list nothing).
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
        if is_temporary(&path) {
            remove_if_abandoned(&path);
            continue;
        }
        let Some(run) = run_of(&path) else {
            continue;
        };
        if Some(run) == own {
            continue;
        }
        let unreadable = |why: String| Orphan {
            record: Record {
                path: path.clone(),
                run_id: run.to_owned(),
                header: None,
                pending: Vec::new(),
                servers: Vec::new(),
                problems: vec![why],
                damaged: true,
            },
            alive: false,
            file: None,
        };
        let file = match File::open(&path) {
            Ok(f) => f,
            // Removed by its run or another sweeper meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                found.push(unreadable(format!("it cannot be opened: {e}")));
                continue;
            }
        };
        let alive = match file.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(e)) => {
                found.push(unreadable(format!("it cannot be locked: {e}")));
                continue;
            }
        };
        if alive && older_than.is_none() {
            continue;
        }
        let record = match read(&path, &file) {
            Ok(r) => r,
            Err(e) => {
                found.push(unreadable(format!("it cannot be read: {e}")));
                continue;
            }
        };
        let too_old = older_than.is_some_and(|limit| {
            record
                .header
                .as_ref()
                .is_some_and(|header| header.age() >= limit)
        });
        if !alive || too_old {
            found.push(Orphan {
                record,
                alive,
                file: Some(file),
            });
        }
    }
    found.sort_by_key(|o| o.record.header.as_ref().map_or(0, |h| h.started));
    Ok(found)
}

/// `.<run>.jsonl.new`: a ledger being started.
fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(".jsonl.new"))
}

/// Removes the temporary file of a run that died while starting. A run
/// creates the file, then locks it, then writes its header: an unlocked
/// file with a header belongs to a dead run; an unlocked empty one may be
/// a run between create and lock, and is left alone for a minute.
fn remove_if_abandoned(path: &Path) {
    let Ok(file) = File::open(path) else { return };
    if file.try_lock().is_err() {
        return;
    }
    let Ok(meta) = file.metadata() else { return };
    let old = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age > Duration::from_secs(60));
    if meta.len() > 0 || old {
        let _ = std::fs::remove_file(path);
    }
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
        assert_eq!(
            orphan.record.header.as_ref().map(|h| h.pid),
            Some(std::process::id())
        );
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
        assert!(
            !found[0].record.damaged,
            "a cut-short last line is no damage"
        );
        assert_eq!(found[0].record.problems.len(), 1, "but it is said");
        assert!(
            found[0].record.problems[0].contains("last line is cut short"),
            "{:?}",
            found[0].record.problems
        );
    }

    #[test]
    fn the_ledger_says_how_far_each_create_got() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run4", Path::new("/p")).unwrap();
        for name in ["made", "refused", "cut_off"] {
            ledger.will_create("default", "sqlite", "S", name).unwrap();
        }
        ledger.created("made").unwrap();
        ledger.failed("refused").unwrap();
        drop(ledger);
        let found = orphans(dir.path(), None, None).unwrap();
        let made: Vec<(&str, Made)> = found[0]
            .record
            .pending
            .iter()
            .map(|p| (p.name.as_str(), p.made))
            .collect();
        assert_eq!(
            made,
            [
                ("made", Made::Created),
                ("refused", Made::Failed),
                ("cut_off", Made::Unknown)
            ]
        );
    }

    #[test]
    fn a_damaged_ledger_is_read_as_far_as_it_goes_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let create = r#"{"op":"create","alias":"a","backend":"sqlite","server":"S","name":"x_w1"}"#;
        let mut bytes = b"\xff\xfe\x00binary\n".to_vec();
        bytes.extend_from_slice(create.as_bytes());
        bytes.push(b'\n');
        std::fs::write(dir.path().join("bin0000000.jsonl"), bytes).unwrap();
        std::fs::write(
            dir.path().join("txt0000000.jsonl"),
            "hello world\nnot json\n",
        )
        .unwrap();
        let found = orphans(dir.path(), None, None).unwrap();
        assert_eq!(found.len(), 2);
        for orphan in &found {
            assert!(orphan.readable());
            assert!(orphan.record.damaged);
            assert!(orphan.record.header.is_none());
            assert!(
                orphan
                    .record
                    .problems
                    .iter()
                    .any(|p| p.contains("no header")),
                "{:?}",
                orphan.record.problems
            );
        }
        let binary = found
            .iter()
            .find(|o| o.record.run_id == "bin0000000")
            .unwrap();
        assert_eq!(binary.record.pending.len(), 1, "what can be read is kept");
        assert!(
            binary.record.problems[0]
                .starts_with("line 1 is not a ledger line: \"\u{fffd}\u{fffd}"),
            "{:?}",
            binary.record.problems
        );
        let text = found
            .iter()
            .find(|o| o.record.run_id == "txt0000000")
            .unwrap();
        assert_eq!(
            text.record.problems[..2],
            [
                "line 1 is not a ledger line: \"hello world\"",
                "line 2 is not a ledger line: \"not json\""
            ]
        );
    }

    #[test]
    fn a_start_that_fails_leaves_no_temporary_file_and_a_dead_ones_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the ledger goes makes the rename fail, after
        // the temporary file was made, locked and written.
        std::fs::create_dir_all(dir.path().join("run5.jsonl/full")).unwrap();
        assert!(Ledger::create(dir.path(), "run5", Path::new("/p")).is_err());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["run5.jsonl"]);
        std::fs::remove_dir_all(dir.path().join("run5.jsonl")).unwrap();

        // A run killed between writing its header and the rename.
        std::fs::write(dir.path().join(".run6.jsonl.new"), "{}\n").unwrap();
        // One that has just created its file: left alone.
        std::fs::write(dir.path().join(".run7.jsonl.new"), "").unwrap();
        let starting = File::open(dir.path().join(".run7.jsonl.new")).unwrap();
        assert!(orphans(dir.path(), None, None).unwrap().is_empty());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [".run7.jsonl.new"]);
        drop(starting);
    }

    #[test]
    fn a_config_path_that_is_not_utf8_does_not_stop_the_ledger() {
        use std::os::unix::ffi::OsStrExt as _;
        let dir = tempfile::tempdir().unwrap();
        let config = Path::new(std::ffi::OsStr::from_bytes(b"/p\xff/paraclone.toml"));
        Ledger::create(dir.path(), "run8", config)
            .unwrap()
            .close()
            .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn only_a_dead_run_can_be_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run9", Path::new("/p")).unwrap();
        ledger
            .will_create("default", "sqlite", "S", "f_w1")
            .unwrap();
        let busy = dead_run(dir.path(), "run9").unwrap_err();
        assert!(busy.to_string().contains("still running"), "{busy}");
        drop(ledger);
        let orphan = dead_run(dir.path(), "run9").unwrap();
        assert_eq!(orphan.record.pending.len(), 1);
        orphan.forget().unwrap();
        let gone = dead_run(dir.path(), "run9").unwrap_err();
        assert!(gone.to_string().contains("no ledger of run run9"), "{gone}");
    }

    fn server(dir: &Path, label: &str) -> Recorded {
        Recorded {
            kind: Kind::Postgres,
            dir: dir.to_owned(),
            port: 54321,
            label: label.to_owned(),
            pid: None,
        }
    }

    #[test]
    fn a_server_is_listed_until_it_is_gone_and_its_databases_go_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run10", Path::new("/p")).unwrap();
        let srv = Path::new("/tmp/pc/srv1");
        ledger.will_start_server(&server(srv, "L1")).unwrap();
        ledger.server_started(srv, 4242).unwrap();
        for name in ["s_tpl", "s_w1"] {
            ledger
                .will_create("default", "postgres", "L1", name)
                .unwrap();
        }
        ledger.will_create("other", "sqlite", "S", "o_w1").unwrap();
        // Lines for a server never listed change nothing.
        ledger
            .server_started(Path::new("/tmp/pc/elsewhere"), 1)
            .unwrap();
        ledger.server_gone(Path::new("/tmp/pc/elsewhere")).unwrap();
        let text = std::fs::read_to_string(dir.path().join("run10.jsonl")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1..3],
            [
                r#"{"op":"server","kind":"postgres","dir":"/tmp/pc/srv1","port":54321,"label":"L1"}"#,
                r#"{"op":"server_pid","dir":"/tmp/pc/srv1","pid":4242}"#,
            ]
        );
        let by_age = orphans(dir.path(), None, Some(Duration::ZERO)).unwrap();
        assert_eq!(
            by_age[0].record.servers,
            [Recorded {
                pid: Some(4242),
                ..server(srv, "L1")
            }]
        );
        assert_eq!(by_age[0].record.pending.len(), 3);
        drop(by_age);

        ledger.server_gone(srv).unwrap();
        let by_age = orphans(dir.path(), None, Some(Duration::ZERO)).unwrap();
        assert!(by_age[0].record.servers.is_empty());
        let names: Vec<&str> = by_age[0]
            .record
            .pending
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["o_w1"], "the databases on it went with it");
        drop(by_age);
        ledger.dropped("o_w1").unwrap();
        ledger.close().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_server_left_keeps_the_ledger_even_without_databases() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run11", Path::new("/p")).unwrap();
        let srv = Path::new("/tmp/pc/srv2");
        ledger.will_start_server(&server(srv, "L2")).unwrap();
        ledger.close().unwrap();
        let found = orphans(dir.path(), None, None).unwrap();
        assert_eq!(found.len(), 1, "the server is left to stop");
        assert!(found[0].record.pending.is_empty());
        assert_eq!(found[0].record.servers, [server(srv, "L2")]);
    }

    #[test]
    fn a_run_killed_before_its_server_ran_leaves_it_without_a_pid() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), "run12", Path::new("/p")).unwrap();
        let (first, second) = (Path::new("/tmp/pc/a"), Path::new("/tmp/pc/b"));
        ledger.will_start_server(&server(first, "LA")).unwrap();
        ledger.server_started(first, 7).unwrap();
        ledger
            .will_create("default", "postgres", "LA", "a_w1")
            .unwrap();
        ledger.will_start_server(&server(second, "LB")).unwrap();
        ledger
            .will_create("other", "postgres", "LB", "b_w1")
            .unwrap();
        // Killed here: between `server` and `server_pid` of the second.
        drop(ledger);
        let mut found = orphans(dir.path(), None, None).unwrap();
        let orphan = &mut found[0];
        let pids: Vec<(&Path, Option<u32>)> = orphan
            .record
            .servers
            .iter()
            .map(|s| (s.dir.as_path(), s.pid))
            .collect();
        assert_eq!(pids, [(first, Some(7)), (second, None)]);

        orphan.server_gone(second).unwrap();
        let names: Vec<&str> = orphan
            .record
            .pending
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["a_w1"]);
        found.pop().unwrap().finish().unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "a server is still listed"
        );

        let mut found = orphans(dir.path(), None, None).unwrap();
        let orphan = &mut found[0];
        assert_eq!(
            orphan.record.servers,
            [Recorded {
                pid: Some(7),
                ..server(first, "LA")
            }],
            "what the sweeper wrote is read back"
        );
        orphan.server_gone(first).unwrap();
        assert!(orphan.record.pending.is_empty());
        found.pop().unwrap().finish().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
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
