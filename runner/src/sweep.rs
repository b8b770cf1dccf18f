//! Sweeping: dropping what dead runs left behind, as their ledgers list it.
//!
//! Only databases named in the ledger of a run that is gone (or, on
//! request, older than a bound) are touched, and only on the server the
//! ledger recorded: a database in no ledger is never dropped.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cloner::Cloner;

use crate::backends;
use crate::config::{Config, Located};
use crate::error::RunError;
use crate::events::SweptRun;
use crate::ledger;

/// What to sweep and how.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SweepOptions<'a> {
    /// This run's id, whose ledger is never swept.
    pub(crate) own: Option<&'a str>,
    /// Also sweep live runs that started longer ago than this.
    pub(crate) older_than: Option<Duration>,
    /// List what would be dropped, drop nothing.
    pub(crate) dry_run: bool,
}

/// Sweeps the ledgers in `ledger_dir`; see the module doc.
pub(crate) async fn sweep(
    config: &Config,
    ledger_dir: &Path,
    options: SweepOptions<'_>,
) -> Result<Vec<SweptRun>, RunError> {
    let ledger_error = |source| RunError::Ledger {
        path: ledger_dir.to_owned(),
        source,
    };
    let orphans =
        ledger::orphans(ledger_dir, options.own, options.older_than).map_err(ledger_error)?;
    let mut cloners: HashMap<(String, String), Arc<dyn Cloner>> = HashMap::new();
    let mut report = Vec::new();
    for mut orphan in orphans {
        let mut run = SweptRun {
            run_id: orphan.record.run_id.clone(),
            pid: orphan.record.pid,
            host: orphan.record.host.clone(),
            age: orphan.record.age(),
            alive: orphan.alive,
            dropped: Vec::new(),
            not_dropped: Vec::new(),
        };
        // Newest first: clones before the template they were made from.
        for pending in orphan.record.pending.clone().into_iter().rev() {
            let key = (pending.backend.clone(), pending.alias.clone());
            let cloner = match cloners.get(&key) {
                Some(c) => Arc::clone(c),
                None => {
                    let url = config
                        .aliases
                        .iter()
                        .find(|a| a.alias == pending.alias)
                        .and_then(|a| a.url.as_deref());
                    let backend = Located {
                        value: pending.backend.clone(),
                        at: Default::default(),
                    };
                    match backends::open(&backend, url, &config.backends, &config.dir, &config.path)
                    {
                        Ok(c) => {
                            cloners.insert(key, Arc::clone(&c));
                            c
                        }
                        Err(e) => {
                            run.not_dropped
                                .push((pending.name.clone(), crate::error_chain(&e)));
                            continue;
                        }
                    }
                }
            };
            if cloner.server_label() != pending.server {
                run.not_dropped.push((
                    pending.name.clone(),
                    format!(
                        "it is on {}, the config now points to {}",
                        pending.server,
                        cloner.server_label()
                    ),
                ));
                continue;
            }
            if options.dry_run {
                run.dropped.push(pending.name.clone());
                continue;
            }
            match cloner.drop_database(&pending.name).await {
                Ok(()) => {
                    orphan.dropped(&pending.name).map_err(ledger_error)?;
                    run.dropped.push(pending.name.clone());
                }
                Err(e) => run
                    .not_dropped
                    .push((pending.name.clone(), crate::error_chain(&e))),
            }
        }
        if !options.dry_run {
            orphan.finish().map_err(ledger_error)?;
        }
        report.push(run);
    }
    Ok(report)
}
