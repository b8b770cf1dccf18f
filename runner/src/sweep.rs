//! Sweeping: dropping what dead runs left behind, as their ledgers list it.
//!
//! Only databases named in the ledger of a run that is gone (or, on
//! request, older than a bound) are touched, and only on the server the
//! ledger recorded: a database in no ledger is never dropped. A drop that
//! fails for a database the server does not list is no failure: there is
//! nothing to drop (its create had failed, e.g. for a name or a privilege
//! the server refuses). A damaged ledger is reported with its path and
//! never stops a run; `clean` takes what can be read of it.

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
        if !orphan.record.pending.is_empty() && orphan.record.pending.iter().all(spared) {
            // Kept for debugging (the user drops them with `clean`) or for
            // reuse (`clean --templates`).
            continue;
        }
        // Newest first: clones before the template they were made from.
        for pending in orphan.record.pending.clone().into_iter().rev() {
            if spared(&pending) {
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
            if orphan.record.damaged && orphan.record.pending.is_empty() {
                run.warnings.push(format!(
                    "the ledger of run {} was damaged: what could be read of it is done, \
                     and the file is removed",
                    run.run_id
                ));
            }
            // Kept databases stay listed: the file stays with them.
            orphan.finish().map_err(ledger_error)?;
            // The scratch directory (sockets, JUnit files) of a run that
            // was killed goes with its ledger.
            let _ = std::fs::remove_dir_all(crate::run::scratch_dir(&run.run_id));
        }
        report.push(run);
    }
    Ok(report)
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
/// without dropping anything, and says what it listed. With `dry_run` the
/// ledger stays.
pub(crate) fn forget(ledger_dir: &Path, run: &str, dry_run: bool) -> Result<SweptRun, RunError> {
    let path = ledger_dir.join(format!("{run}.jsonl"));
    let ledger_error = |source| RunError::Ledger {
        path: path.clone(),
        source,
    };
    let orphan = ledger::dead_run(ledger_dir, run).map_err(ledger_error)?;
    let mut report = describe(&orphan);
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
