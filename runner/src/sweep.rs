//! Sweeping: dropping what dead runs left behind, as their ledgers list it.
//!
//! Only databases named in the ledger of a run that is gone (or, on
//! request, older than a bound) are touched, and only on the server the
//! ledger recorded: a database in no ledger is never dropped. A drop that
//! fails for a database the server does not list is no failure: there is
//! nothing to drop (its create had failed, e.g. for a name or a privilege
//! the server refuses). A damaged ledger is reported with its path and
//! never stops a run; `clean` takes what can be read of it.
//!
//! The throwaway servers a dead run started are stopped before its
//! databases are dropped, and the databases on them go with them. Those of
//! a run still alive are its own: neither they nor the databases on them
//! are touched.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cloner::Cloner;

use crate::backends;
use crate::config::{Config, Located};
use crate::error::RunError;
use crate::events::SweptRun;
use crate::ledger::{self, Orphan, Pending};
use crate::reuse::{self, Registry};
use crate::servers::{Recorded, stop_recorded};

/// What to sweep and how.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SweepOptions<'a> {
    /// This run's id, whose ledger is never swept.
    pub(crate) own: Option<&'a str>,
    /// Also sweep live runs that started longer ago than this.
    pub(crate) older_than: Option<Duration>,
    /// List what would be dropped, drop nothing.
    pub(crate) dry_run: bool,
    /// Sweep damaged ledgers too, as far as they can be read, and remove
    /// them once nothing readable is left (`clean`: the user asked). The
    /// start of a run leaves them alone and says so.
    pub(crate) damaged: bool,
    /// Drop databases kept on purpose for failed tests (`--keep-failed`)
    /// too (`clean`); the start of a run leaves them, and says nothing of
    /// a ledger that lists only those.
    pub(crate) kept: bool,
    /// Drop templates kept for reuse (`--reuse`) too (`clean
    /// --templates`), those the registry no longer lists; the ones it
    /// lists go through [`sweep_templates`], which respects their locks.
    pub(crate) templates: bool,
}

/// Sweeps the ledgers in `ledger_dir`; see the module doc.
pub(crate) async fn sweep(
    config: &Config,
    ledger_dir: &Path,
    options: SweepOptions<'_>,
) -> Result<Vec<SweptRun>, RunError> {
    let orphans =
        ledger::orphans(ledger_dir, options.own, options.older_than).map_err(|source| {
            RunError::Ledger {
                path: ledger_dir.to_owned(),
                source,
            }
        })?;
    let mut cloners = Cloners::default();
    let mut report = Vec::new();
    // Kept templates with a record: the registry's (and their locks'),
    // never a ledger sweep's.
    let recorded: Vec<String> = if options.templates {
        Registry::new(&config.state_dir)
            .records()
            .into_iter()
            .map(|r| r.name)
            .collect()
    } else {
        Vec::new()
    };
    let spared = |p: &Pending| {
        (p.kept.is_some() && !options.kept)
            || (p.reusable && (!options.templates || recorded.contains(&p.name)))
    };
    for mut orphan in orphans {
        let mut run = describe(&orphan);
        let path = orphan.record.path.clone();
        let ledger_error = |source| RunError::Ledger {
            path: path.clone(),
            source,
        };
        if !orphan.readable() || (orphan.record.damaged && !options.damaged) {
            run.skipped = true;
            run.warnings.push(if orphan.readable() {
                format!(
                    "the ledger of run {} is left as it is: `paraclone clean` drops what can \
                     be read of it and removes it",
                    run.run_id
                )
            } else {
                format!(
                    "the ledger of run {} is left as it is: nothing in it can be read, remove \
                     it by hand once you know what it lists",
                    run.run_id
                )
            });
            report.push(run);
            continue;
        }
        if orphan.record.servers.is_empty()
            && !orphan.record.pending.is_empty()
            && orphan.record.pending.iter().all(spared)
        {
            // Kept for debugging (the user drops them with `clean`) or for
            // reuse (`clean --templates`).
            continue;
        }
        // Servers first: what was on one is gone with it.
        let held = stop_servers(&mut orphan, &mut run, options.dry_run)
            .await
            .map_err(ledger_error)?;
        // Newest first: clones before the template they were made from.
        for pending in orphan.record.pending.clone().into_iter().rev() {
            if spared(&pending) {
                continue;
            }
            if let Some((_, why)) = held.iter().find(|(label, _)| *label == pending.server) {
                if let Some(why) = why {
                    run.not_dropped
                        .push((pending.name.clone(), (*why).to_owned()));
                }
                continue;
            }
            let cloner =
                match cloners.open(config, &pending.backend, &pending.alias, &pending.server) {
                    Ok(c) => c,
                    Err(why) => {
                        run.not_dropped.push((pending.name.clone(), why));
                        continue;
                    }
                };
            if options.dry_run {
                run.dropped.push(pending.name.clone());
                continue;
            }
            match drop_or_absent(cloner.as_ref(), &pending.name).await {
                Ok(gone) => {
                    orphan.dropped(&pending.name).map_err(ledger_error)?;
                    match gone {
                        Gone::Dropped => run.dropped.push(pending.name.clone()),
                        Gone::Absent => run.absent.push(pending.name.clone()),
                    }
                }
                Err(why) => run.not_dropped.push((pending.name.clone(), why)),
            }
        }
        if !options.dry_run {
            if orphan.record.damaged && orphan.record.is_empty() {
                run.warnings.push(format!(
                    "the ledger of run {} was damaged: what could be read of it is done, \
                     and the file is removed",
                    run.run_id
                ));
            }
            let alive = orphan.alive;
            // Kept databases stay listed: the file stays with them.
            orphan.finish().map_err(ledger_error)?;
            // The scratch directory (sockets, JUnit files) of a run that
            // was killed goes with its ledger; a live run still uses its.
            if !alive {
                let _ = std::fs::remove_dir_all(crate::run::scratch_dir(&run.run_id));
            }
        }
        report.push(run);
    }
    Ok(report)
}

/// Why a database on a throwaway server of a live run is not dropped.
const SERVER_OF_LIVE_RUN: &str =
    "it is on a throwaway server of its run, which is still running and stops it itself";

/// Why a database on a throwaway server that could not be stopped is not
/// dropped.
const SERVER_NOT_STOPPED: &str = "the throwaway server it is on could not be stopped";

/// Stops the throwaway servers of `orphan`, a dead run's (in a dry run,
/// lists them as `stopped`), and says in `run` what became of each. The
/// servers of a live run are left to it, with a warning. Returns the
/// labels of the servers still listed, each with why the databases on
/// it are not dropped (`None`: a dry run, they would go with it).
async fn stop_servers(
    orphan: &mut Orphan,
    run: &mut SweptRun,
    dry_run: bool,
) -> std::io::Result<Vec<(String, Option<&'static str>)>> {
    let servers = orphan.record.servers.clone();
    if orphan.alive {
        if !servers.is_empty() {
            let names: Vec<String> = servers.iter().map(server_text).collect();
            run.warnings.push(format!(
                "run {} is still running: its throwaway servers ({}) are left to it, and so \
                 are the databases on them",
                run.run_id,
                names.join(", ")
            ));
        }
        return Ok(servers
            .into_iter()
            .map(|s| (s.label, Some(SERVER_OF_LIVE_RUN)))
            .collect());
    }
    let mut held = Vec::new();
    for server in servers {
        let what = server_text(&server);
        if dry_run {
            run.stopped.push(what);
            held.push((server.label, None));
            continue;
        }
        match stop_recorded(&server).await {
            Ok(()) => {
                orphan.server_gone(&server.dir)?;
                run.stopped.push(what);
            }
            Err(why) => {
                run.not_stopped.push((what, why));
                held.push((server.label, Some(SERVER_NOT_STOPPED)));
            }
        }
    }
    Ok(held)
}

/// A throwaway server as reports name it: `<kind> server in <dir>`.
fn server_text(server: &Recorded) -> String {
    format!(
        "{} server in {}",
        server.kind.backend(),
        server.dir.display()
    )
}

/// The backends a sweep opens, one per backend and alias, as the config
/// names them now.
#[derive(Default)]
struct Cloners(HashMap<(String, String), Arc<dyn Cloner>>);

impl Cloners {
    /// The cloner for a database the ledger lists on `server`, or why it
    /// cannot be had: the backend cannot be opened, or the config now
    /// points elsewhere (what is on another server is not touched).
    fn open(
        &mut self,
        config: &Config,
        backend: &str,
        alias: &str,
        server: &str,
    ) -> Result<Arc<dyn Cloner>, String> {
        let key = (backend.to_owned(), alias.to_owned());
        let cloner = match self.0.get(&key) {
            Some(c) => Arc::clone(c),
            None => {
                let url = config
                    .aliases
                    .iter()
                    .find(|a| a.alias == alias)
                    .and_then(|a| a.url.as_deref());
                let located = Located {
                    value: backend.to_owned(),
                    at: Default::default(),
                };
                let c = backends::open(&located, url, &config.backends, &config.dir, &config.path)
                    .map_err(|e| crate::error_chain(&e))?;
                self.0.insert(key, Arc::clone(&c));
                c
            }
        };
        if cloner.server_label() != server {
            return Err(format!(
                "it is on {server}, the config now points to {}",
                cloner.server_label()
            ));
        }
        Ok(cloner)
    }
}

/// How a listed database left its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gone {
    /// The drop succeeded.
    Dropped,
    /// The drop failed, but the server does not list the database: there
    /// was nothing to drop.
    Absent,
}

/// Drops `name`; if that fails, asks the server whether it is there at
/// all. `Err` is the drop's error, when the database is (or may be) there.
pub(crate) async fn drop_or_absent(cloner: &dyn Cloner, name: &str) -> Result<Gone, String> {
    let error = match cloner.drop_database(name).await {
        Ok(()) => return Ok(Gone::Dropped),
        Err(e) => e,
    };
    match cloner.list_databases(name).await {
        Ok(listed) if !listed.iter().any(|n| n == name) => Ok(Gone::Absent),
        _ => Err(crate::error_chain(&error)),
    }
}

/// `clean --forget RUN`: takes the ledger of the dead run `run` away
/// without dropping or stopping anything, and says what it listed (its
/// throwaway servers in a warning). With `dry_run` the ledger stays.
pub(crate) fn forget(ledger_dir: &Path, run: &str, dry_run: bool) -> Result<SweptRun, RunError> {
    let path = ledger_dir.join(format!("{run}.jsonl"));
    let ledger_error = |source| RunError::Ledger {
        path: path.clone(),
        source,
    };
    let orphan = ledger::dead_run(ledger_dir, run).map_err(ledger_error)?;
    let mut report = describe(&orphan);
    if !orphan.record.servers.is_empty() {
        let servers: Vec<String> = orphan
            .record
            .servers
            .iter()
            .map(|s| match s.pid {
                Some(pid) => format!("{} (pid {pid}, port {})", server_text(s), s.port),
                None => format!("{} (port {})", server_text(s), s.port),
            })
            .collect();
        report.warnings.push(format!(
            "forgetting run {run} does not stop its throwaway servers: {}; stop any that still \
             runs and remove its directory by hand",
            servers.join(", ")
        ));
    }
    report.forgotten = Some(
        orphan
            .record
            .pending
            .iter()
            .map(|p| (p.name.clone(), p.server.clone()))
            .collect(),
    );
    if !dry_run {
        orphan.forget().map_err(ledger_error)?;
    }
    Ok(report)
}

/// A report for `orphan` with nothing done yet: who it was, and what is
/// wrong with its file.
fn describe(orphan: &Orphan) -> SweptRun {
    let record = &orphan.record;
    let header = record.header.as_ref();
    SweptRun {
        pid: header.map(|h| h.pid),
        host: header.map(|h| h.host.clone()),
        alive: orphan.alive,
        warnings: record
            .problems
            .iter()
            .map(|p| format!("ledger {}: {p}", record.path.display()))
            .collect(),
        ..untouched(&record.run_id, header.map(|h| h.age()))
    }
}

/// A report for run `run_id` (of unknown pid and host, not alive) with
/// nothing done yet.
fn untouched(run_id: &str, age: Option<Duration>) -> SweptRun {
    SweptRun {
        run_id: run_id.to_owned(),
        pid: None,
        host: None,
        age,
        alive: false,
        dropped: Vec::new(),
        absent: Vec::new(),
        not_dropped: Vec::new(),
        stopped: Vec::new(),
        not_stopped: Vec::new(),
        forgotten: None,
        warnings: Vec::new(),
        skipped: false,
    }
}

/// `clean --templates`: drops the templates kept for reuse that the
/// registry lists (those built longer ago than `older_than`, if given),
/// each only if no run uses or builds it now (its locks, without
/// waiting), on the server its record names; their records go. One
/// report per run that built them.
pub(crate) async fn sweep_templates(
    config: &Config,
    ledger_dir: &Path,
    older_than: Option<Duration>,
    dry_run: bool,
) -> Vec<SweptRun> {
    let registry = Registry::new(&config.state_dir);
    let mut cloners = Cloners::default();
    let mut report: Vec<SweptRun> = Vec::new();
    for record in registry.records() {
        if older_than.is_some_and(|limit| record.age() < limit) {
            continue;
        }
        let at = match report.iter().position(|r| r.run_id == record.run_id) {
            Some(at) => at,
            None => {
                report.push(untouched(&record.run_id, Some(record.age())));
                report.len() - 1
            }
        };
        let run = &mut report[at];
        let locks = match registry.try_drop(&record.alias, &record.fingerprint) {
            Ok(Some(locks)) => locks,
            Ok(None) => {
                run.not_dropped.push((
                    record.name.clone(),
                    "a running paraclone uses it (or builds it) now".to_owned(),
                ));
                continue;
            }
            Err(e) => {
                run.not_dropped
                    .push((record.name.clone(), format!("its lock: {e}")));
                continue;
            }
        };
        let cloner = match cloners.open(config, &record.backend, &record.alias, &record.server) {
            Ok(c) => c,
            Err(why) => {
                run.not_dropped.push((record.name.clone(), why));
                continue;
            }
        };
        if dry_run {
            run.dropped.push(record.name.clone());
            continue;
        }
        match drop_or_absent(cloner.as_ref(), &record.name).await {
            Ok(gone) => {
                reuse::forget_dropped(&registry, ledger_dir, &record);
                match gone {
                    Gone::Dropped => run.dropped.push(record.name.clone()),
                    Gone::Absent => run.absent.push(record.name.clone()),
                }
            }
            Err(why) => run.not_dropped.push((record.name.clone(), why)),
        }
        drop(locks);
    }
    report
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use nix::sys::signal::Signal;

    use super::*;
    use crate::ledger::Ledger;
    use crate::servers::Kind;
    use crate::spawn::{self, Capture, ChildSpec, Exit, Running};

    /// A config that names no server a ledger of these tests lists.
    fn config(dir: &Path) -> Config {
        crate::config::parse(
            "[tests]\nkind = \"rust\"\n\n[databases.default]\nmigrations = \"m\"\n",
            &dir.join("paraclone.toml"),
        )
        .unwrap()
    }

    /// A throwaway server's directory: `<dir>/srv`, `data/` in it.
    fn server_dir(dir: &Path) -> PathBuf {
        let srv = dir.join("srv");
        std::fs::create_dir_all(srv.join("data")).unwrap();
        srv
    }

    /// A process in a group of its own that runs until it is killed, with
    /// `file` on its command line, as a server names its log: one process,
    /// so that it is gone as soon as it dies.
    fn long_running(cwd: &Path, file: &Path) -> Running {
        std::fs::write(file, "").unwrap();
        let spec = ChildSpec::new("tail", cwd).arg("-f").arg(file);
        spawn::start(&spec, Capture::Tail(1024)).unwrap()
    }

    fn recorded(kind: Kind, dir: &Path, pid: Option<u32>) -> Recorded {
        Recorded {
            kind,
            dir: dir.to_owned(),
            port: 1,
            label: "throwaway at 127.0.0.1:1".to_owned(),
            pid,
        }
    }

    /// The ledger of run `run` with `server` started and `databases` made
    /// on it; dropping it is the run's death.
    fn ledger_of(ledger_dir: &Path, run: &str, server: &Recorded, databases: &[&str]) -> Ledger {
        let ledger = Ledger::create(ledger_dir, run, Path::new("/p")).unwrap();
        ledger.will_start_server(server).unwrap();
        if let Some(pid) = server.pid {
            ledger.server_started(&server.dir, pid).unwrap();
        }
        for name in databases {
            ledger
                .will_create("default", server.kind.backend(), &server.label, name)
                .unwrap();
            ledger.created(name).unwrap();
        }
        ledger
    }

    fn ledger_files(ledger_dir: &Path) -> usize {
        std::fs::read_dir(ledger_dir).unwrap().count()
    }

    #[tokio::test]
    async fn a_dead_runs_server_is_stopped_and_removed_and_its_databases_go_with_it() {
        let tmp = tempfile::tempdir().unwrap();
        let srv = server_dir(tmp.path());
        let mut process = long_running(tmp.path(), &srv.join("data/log"));
        let server = recorded(Kind::Postgres, &srv, process.id());
        let ledger_dir = tmp.path().join("ledger");
        drop(ledger_of(
            &ledger_dir,
            "srvdead001",
            &server,
            &["t_tpl", "t_w1"],
        ));
        // Reaped as soon as it dies, as its own run would: a zombie still
        // counts as alive.
        let exited = tokio::spawn(async move { process.wait().await.unwrap() });

        let report = sweep(&config(tmp.path()), &ledger_dir, SweepOptions::default())
            .await
            .unwrap();
        let exit = tokio::time::timeout(Duration::from_secs(10), exited)
            .await
            .expect("the server was stopped")
            .unwrap();
        assert_eq!(exit, Exit::Signal(Signal::SIGQUIT as i32));
        assert!(!srv.exists(), "its directory is removed");
        assert_eq!(report.len(), 1);
        let run = &report[0];
        assert_eq!(
            run.stopped,
            [format!("postgres server in {}", srv.display())]
        );
        assert!(run.not_stopped.is_empty(), "{:?}", run.not_stopped);
        assert!(run.dropped.is_empty(), "its databases went with it");
        assert!(run.not_dropped.is_empty(), "{:?}", run.not_dropped);
        assert!(!run.incomplete());
        assert_eq!(ledger_files(&ledger_dir), 0, "nothing is left to do");
    }

    #[tokio::test]
    async fn a_recorded_pid_that_is_not_the_server_is_not_signalled_but_the_directory_goes() {
        let tmp = tempfile::tempdir().unwrap();
        let srv = server_dir(tmp.path());
        // The pid was reused by a process that has nothing to do with it.
        let mut process = long_running(tmp.path(), &tmp.path().join("unrelated.log"));
        let server = recorded(Kind::Mysql, &srv, process.id());
        let ledger_dir = tmp.path().join("ledger");
        drop(ledger_of(&ledger_dir, "srvdead002", &server, &[]));

        let report = sweep(&config(tmp.path()), &ledger_dir, SweepOptions::default())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !process.exited(),
            "a process that is not the server lives on"
        );
        assert!(!srv.exists(), "its directory is removed");
        assert_eq!(
            report[0].stopped,
            [format!("mysql server in {}", srv.display())]
        );
        assert_eq!(ledger_files(&ledger_dir), 0);
        process.kill().await;
    }

    #[tokio::test]
    async fn a_live_runs_servers_and_the_databases_on_them_are_left_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let srv = server_dir(tmp.path());
        let mut process = long_running(tmp.path(), &srv.join("data/log"));
        let server = recorded(Kind::Postgres, &srv, process.id());
        let ledger_dir = tmp.path().join("ledger");
        let ledger = ledger_of(&ledger_dir, "srvlive001", &server, &["l_w1"]);
        let scratch = crate::run::scratch_dir("srvlive001");
        std::fs::create_dir_all(&scratch).unwrap();

        let options = SweepOptions {
            older_than: Some(Duration::ZERO),
            ..SweepOptions::default()
        };
        let report = sweep(&config(tmp.path()), &ledger_dir, options)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!process.exited(), "its server runs on");
        assert!(srv.join("data").is_dir(), "its directory stays");
        assert!(scratch.is_dir(), "and so does its scratch directory");
        let run = &report[0];
        assert!(run.alive);
        assert!(run.stopped.is_empty() && run.not_stopped.is_empty());
        assert_eq!(
            run.not_dropped,
            [("l_w1".to_owned(), SERVER_OF_LIVE_RUN.to_owned())]
        );
        assert!(
            run.warnings.iter().any(|w| w.contains(&format!(
                "run srvlive001 is still running: its throwaway servers (postgres server in {}) \
                 are left to it",
                srv.display()
            ))),
            "{:?}",
            run.warnings
        );
        assert_eq!(ledger_files(&ledger_dir), 1);
        process.kill().await;
        drop(ledger);
        std::fs::remove_dir_all(&scratch).unwrap();
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_removed_stays_listed_with_its_databases() {
        let tmp = tempfile::tempdir().unwrap();
        // A file where its directory should be: removing it fails.
        let srv = tmp.path().join("srv");
        std::fs::write(&srv, "").unwrap();
        let server = recorded(Kind::Postgres, &srv, None);
        let ledger_dir = tmp.path().join("ledger");
        drop(ledger_of(&ledger_dir, "srvdead003", &server, &["f_w1"]));

        let report = sweep(&config(tmp.path()), &ledger_dir, SweepOptions::default())
            .await
            .unwrap();
        let run = &report[0];
        assert!(run.stopped.is_empty());
        assert_eq!(run.not_stopped.len(), 1);
        assert_eq!(
            run.not_stopped[0].0,
            format!("postgres server in {}", srv.display())
        );
        assert!(
            run.not_stopped[0].1.starts_with("could not remove"),
            "{:?}",
            run.not_stopped
        );
        assert_eq!(
            run.not_dropped,
            [("f_w1".to_owned(), SERVER_NOT_STOPPED.to_owned())]
        );
        assert!(run.incomplete());
        let left = ledger::orphans(&ledger_dir, None, None).unwrap();
        assert_eq!(left[0].record.servers, [server]);
        assert_eq!(left[0].record.pending.len(), 1);
    }

    #[tokio::test]
    async fn a_dry_run_lists_the_server_and_touches_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let srv = server_dir(tmp.path());
        let mut process = long_running(tmp.path(), &srv.join("data/log"));
        let server = recorded(Kind::Postgres, &srv, process.id());
        let ledger_dir = tmp.path().join("ledger");
        drop(ledger_of(&ledger_dir, "srvdead004", &server, &["d_w1"]));

        let options = SweepOptions {
            dry_run: true,
            ..SweepOptions::default()
        };
        let report = sweep(&config(tmp.path()), &ledger_dir, options)
            .await
            .unwrap();
        let run = &report[0];
        assert_eq!(
            run.stopped,
            [format!("postgres server in {}", srv.display())]
        );
        assert!(run.dropped.is_empty(), "its databases would go with it");
        assert!(run.not_dropped.is_empty(), "{:?}", run.not_dropped);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!process.exited());
        assert!(srv.join("data").is_dir());
        let left = ledger::orphans(&ledger_dir, None, None).unwrap();
        assert_eq!(left[0].record.servers.len(), 1);
        assert_eq!(left[0].record.pending.len(), 1);
        process.kill().await;
    }

    #[tokio::test]
    async fn a_ledger_of_kept_databases_is_still_swept_for_its_server() {
        let tmp = tempfile::tempdir().unwrap();
        let srv = server_dir(tmp.path());
        let server = recorded(Kind::Mysql, &srv, None);
        let ledger_dir = tmp.path().join("ledger");
        let ledger = ledger_of(&ledger_dir, "srvdead005", &server, &["k_w1"]);
        ledger.kept("k_w1", "shop::it a::fails").unwrap();
        drop(ledger);

        // As at the start of a run: kept databases are spared.
        let report = sweep(&config(tmp.path()), &ledger_dir, SweepOptions::default())
            .await
            .unwrap();
        assert_eq!(report.len(), 1);
        assert_eq!(
            report[0].stopped,
            [format!("mysql server in {}", srv.display())]
        );
        assert!(!srv.exists());
        assert_eq!(ledger_files(&ledger_dir), 0);
    }

    #[test]
    fn forgetting_a_run_names_the_servers_it_does_not_stop() {
        let tmp = tempfile::tempdir().unwrap();
        let srv = server_dir(tmp.path());
        let server = recorded(Kind::Postgres, &srv, Some(4242));
        let ledger_dir = tmp.path().join("ledger");
        drop(ledger_of(&ledger_dir, "srvdead006", &server, &["g_w1"]));

        let report = forget(&ledger_dir, "srvdead006", false).unwrap();
        assert_eq!(
            report.forgotten,
            Some(vec![("g_w1".to_owned(), server.label.clone())])
        );
        assert_eq!(
            report.warnings,
            [format!(
                "forgetting run srvdead006 does not stop its throwaway servers: postgres server \
                 in {} (pid 4242, port 1); stop any that still runs and remove its directory by \
                 hand",
                srv.display()
            )]
        );
        assert!(srv.join("data").is_dir());
        assert_eq!(ledger_files(&ledger_dir), 0);
    }
}
