//! The run's databases: templates built once, clones made concurrently,
//! every one of them dropped at the end.
//!
//! Every database is recorded in [`Databases::created`] *before* the
//! backend is asked to create it, so teardown drops whatever exists,
//! however far provisioning got (drops are idempotent).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cloner::migrator::Tool;
use cloner::naming::{self, Role, RunId};
use cloner::quote::Dialect;
use cloner::redact::Redactor;
use cloner::{Cloner, Connection, Migration};
use futures_util::future::join_all;
use tokio::sync::Semaphore;

use crate::backends;
use crate::config::{AliasConfig, BackendSettings, CommandLine, Config, Located, Migrator};
use crate::context::Context;
use crate::error::RunError;
use crate::events::{AliasSummary, Event, KeptDatabase, LeftBehind, TestId};
use crate::ledger::Ledger;
use crate::migrators;
use crate::reuse::{self, Registry};
use crate::servers::{CloneOn, Kind, Server, Servers};
use crate::spawn::{self, ChildSpec, Exit};
use crate::sweep::{self, Gone};

/// One alias's databases.
#[derive(Debug)]
struct AliasDbs {
    config: AliasConfig,
    /// `None` for a mirror.
    cloner: Option<Arc<dyn Cloner>>,
    /// The alias this one mirrors (an index into `Databases::aliases`).
    mirror_of: Option<usize>,
    migrations: Vec<Migration>,
    template: Option<Connection>,
    /// Worker `n`'s connection is at `n - 1`.
    clones: Vec<Connection>,
    /// The server's version, once asked (by `describe`).
    server_version: Option<String>,
    /// On the run's throwaway server of this kind (`Databases::servers`):
    /// described without asking it (it is not started yet), and no drops
    /// at teardown (its databases go with it).
    throwaway: Option<Kind>,
}

/// A worker's replacement clones, by alias index.
pub(crate) type Replaced = HashMap<usize, Connection>;

/// A database this run asked a backend to create.
#[derive(Debug)]
struct Created {
    alias: usize,
    name: String,
    template: bool,
}

/// All databases of one run.
#[derive(Debug)]
pub(crate) struct Databases {
    run_id: RunId,
    aliases: Vec<AliasDbs>,
    created: Mutex<Vec<Created>>,
    config_dir: PathBuf,
    ledger: Ledger,
    ledger_dir: PathBuf,
    /// Workers' replacement clones, by `(worker, alias)`: what each worker
    /// uses now, where it is not its first clone.
    current: Mutex<HashMap<(usize, usize), Connection>>,
    /// Clones kept for failed tests (`--keep-failed`): never dropped by
    /// this run.
    kept: Mutex<Vec<KeptDatabase>>,
    /// Template reuse (`--reuse`), when on.
    reuse: Option<ReuseState>,
    /// The run's throwaway servers.
    servers: Arc<Servers>,
    /// Per backend whose clones are servers: worker `n`'s server at
    /// `n - 1`.
    copies: Mutex<HashMap<Kind, Vec<Arc<Server>>>>,
    /// `[backends.*]`, for opening a cloner on a copy.
    settings: BackendSettings,
    config_path: PathBuf,
}

/// What a run that reuses templates holds.
#[derive(Debug)]
struct ReuseState {
    registry: Registry,
    config: Config,
    /// Each alias's fingerprint, once known (dependencies' go into their
    /// dependents').
    fingerprints: HashMap<String, String>,
    /// The use locks (shared) on the templates this run uses, held until
    /// the run ends.
    held: Vec<std::fs::File>,
}

impl Databases {
    /// Opens a cloner per alias and reads its migrations. `backend`
    /// overrides every alias's backend (the `--db` flag).
    pub(crate) fn plan(
        config: &Config,
        backend: Option<&str>,
        run_id: RunId,
        ledger_dir: &Path,
        servers: Arc<Servers>,
    ) -> Result<Databases, RunError> {
        let mut aliases: Vec<AliasDbs> = Vec::new();
        let mut cloners: HashMap<(String, Option<String>), Arc<dyn Cloner>> = HashMap::new();
        for alias in &config.aliases {
            if let Some(target) = &alias.mirror {
                let index = aliases
                    .iter()
                    .position(|a| &a.config.alias == target)
                    .expect("config orders mirrors after their target");
                let backend = aliases[index].cloner.as_ref().map_or("", |c| c.backend());
                alias.check_env(backend, &config.path)?;
                aliases.push(AliasDbs {
                    config: alias.clone(),
                    cloner: None,
                    mirror_of: Some(index),
                    migrations: Vec::new(),
                    template: None,
                    clones: Vec::new(),
                    server_version: None,
                    throwaway: None,
                });
                continue;
            }
            let chosen = chosen_backend(alias, config, backend);
            // Before any server is contacted: a placeholder this backend
            // has no value for would reach every worker as an empty string.
            alias.check_env(&chosen.value, &config.path)?;
            let throwaway = servers.for_backend(&chosen.value);
            // On a throwaway server every alias of the backend shares it.
            let key = (
                chosen.value.clone(),
                alias.url.clone().filter(|_| throwaway.is_none()),
            );
            let cloner = match cloners.get(&key) {
                Some(c) => Arc::clone(c),
                None => {
                    let c = match throwaway {
                        Some(server) => {
                            let c = open_on(server, &config.backends, &config.dir, &config.path)?;
                            server.set_label(c.server_label());
                            c
                        }
                        None => backends::open(
                            &chosen,
                            alias.url.as_deref(),
                            &config.backends,
                            &config.dir,
                            &config.path,
                        )?,
                    };
                    cloners.insert(key, Arc::clone(&c));
                    c
                }
            };
            let migrations = match &alias.migrations {
                Some(dir) => match tool_of(alias.migrator) {
                    None => read_migrations(config, alias, dir, &chosen.value)?,
                    Some(tool) => read_tool_migrations(config, alias, dir, &chosen.value, tool)?,
                },
                None => Vec::new(),
            };
            aliases.push(AliasDbs {
                config: alias.clone(),
                cloner: Some(cloner),
                mirror_of: None,
                migrations,
                template: None,
                clones: Vec::new(),
                server_version: None,
                throwaway: throwaway.map(Server::kind),
            });
        }
        let ledger =
            Ledger::create(ledger_dir, run_id.as_str(), &config.path).map_err(|source| {
                RunError::Ledger {
                    path: ledger_dir.to_owned(),
                    source,
                }
            })?;
        Ok(Databases {
            run_id,
            aliases,
            created: Mutex::new(Vec::new()),
            config_dir: config.dir.clone(),
            ledger,
            ledger_dir: ledger_dir.to_owned(),
            current: Mutex::new(HashMap::new()),
            kept: Mutex::new(Vec::new()),
            reuse: None,
            servers,
            copies: Mutex::new(HashMap::new()),
            settings: config.backends.clone(),
            config_path: config.path.clone(),
        })
    }

    /// Turns template reuse on (`--reuse`): templates are looked up by
    /// fingerprint, kept after the run, and stale ones dropped.
    pub(crate) fn enable_reuse(&mut self, config: &Config) {
        self.reuse = Some(ReuseState {
            registry: Registry::new(&config.state_dir),
            config: config.clone(),
            fingerprints: HashMap::new(),
            held: Vec::new(),
        });
    }

    /// A summary of each alias for the run's header: backend, server,
    /// version. Asking for the version is also the first contact with each
    /// server, so an unreachable one fails here, before anything is made.
    pub(crate) async fn describe(&mut self) -> Result<Vec<AliasSummary>, RunError> {
        let mut out = Vec::new();
        for index in 0..self.aliases.len() {
            let a = &self.aliases[index];
            let summary = match (&a.cloner, a.mirror_of) {
                (Some(cloner), _) if a.throwaway.is_some() => {
                    let server = self
                        .throwaway_server(a)
                        .expect("an alias on a throwaway server has one");
                    let summary = AliasSummary {
                        alias: a.config.alias.clone(),
                        backend: cloner.backend().to_owned(),
                        server: server.describe(),
                        mirror_of: None,
                    };
                    self.aliases[index].server_version = Some(server.version().to_owned());
                    summary
                }
                (Some(cloner), _) => {
                    let version =
                        cloner
                            .server_version()
                            .await
                            .map_err(|source| RunError::Backend {
                                alias: Some(a.config.alias.clone()),
                                op: "reach the database server",
                                source,
                            })?;
                    let summary = AliasSummary {
                        alias: a.config.alias.clone(),
                        backend: cloner.backend().to_owned(),
                        server: format!("{} ({version})", cloner.server_label()),
                        mirror_of: None,
                    };
                    // The fingerprint of a kept template needs it again.
                    self.aliases[index].server_version = Some(version);
                    summary
                }
                (None, Some(target)) => AliasSummary {
                    alias: a.config.alias.clone(),
                    backend: String::new(),
                    server: String::new(),
                    mirror_of: Some(self.aliases[target].config.alias.clone()),
                },
                (None, None) => unreachable!("an alias is either backed or a mirror"),
            };
            out.push(summary);
        }
        Ok(out)
    }

    /// Builds every template, in dependency order: create, migrate, run the
    /// setup command, seal. With reuse on, a kept template whose
    /// fingerprint matches is used instead.
    pub(crate) async fn build_templates(&mut self, ctx: &Context) -> Result<(), RunError> {
        for index in 0..self.aliases.len() {
            if ctx.stopping() {
                return Err(RunError::Interrupted);
            }
            let Some(cloner) = self.aliases[index].cloner.clone() else {
                continue;
            };
            if self.reuse.is_some() {
                self.reuse_or_build(index, cloner, ctx).await?;
                continue;
            }
            let started = Instant::now();
            let name = naming::database_name(
                &self.aliases[index].config.base_name,
                &self.run_id,
                Role::Template,
                cloner.max_name_len(),
            );
            self.build_template(index, cloner.as_ref(), &name, ctx)
                .await?;
            ctx.send(Event::TemplateReady {
                alias: self.aliases[index].config.alias.clone(),
                name,
                duration: started.elapsed(),
                reuse: None,
            });
        }
        Ok(())
    }

    /// Records, creates, migrates, sets up and seals the template `name`
    /// of alias `index`.
    async fn build_template(
        &mut self,
        index: usize,
        cloner: &dyn Cloner,
        name: &str,
        ctx: &Context,
    ) -> Result<(), RunError> {
        let alias = self.aliases[index].config.alias.clone();
        self.record(index, name, true)?;
        let backend_error = |op, source| RunError::Backend {
            alias: Some(alias.clone()),
            op,
            source,
        };
        let created = cloner
            .create_template(name, &self.aliases[index].migrations)
            .await;
        self.answered(name, created.is_ok());
        let connection = created.map_err(|e| backend_error("build the template", e))?;
        ctx.redactor_add(&connection);
        self.aliases[index].template = Some(connection);
        ctx.checkpoint("template").await;
        if let Some(setup) = self.aliases[index].config.setup.clone() {
            self.run_setup(index, &setup, ctx).await?;
        }
        cloner
            .seal_template(name)
            .await
            .map_err(|e| backend_error("seal the template", e))?;
        Ok(())
    }

    /// With reuse on: the kept template of alias `index` whose fingerprint
    /// matches, if it was sealed and is on the server; else it is built
    /// (under the build lock, so one run builds and the others wait and
    /// reuse), recorded and kept. Stale templates of the alias that no run
    /// uses are dropped afterwards.
    async fn reuse_or_build(
        &mut self,
        index: usize,
        cloner: Arc<dyn Cloner>,
        ctx: &Context,
    ) -> Result<(), RunError> {
        let started = Instant::now();
        let alias = self.aliases[index].config.alias.clone();
        let backend_error = |op, source| RunError::Backend {
            alias: Some(alias.clone()),
            op,
            source,
        };
        let version = match self.aliases[index].server_version.clone() {
            Some(version) => version,
            None => cloner
                .server_version()
                .await
                .map_err(|e| backend_error("reach the database server", e))?,
        };
        let server = cloner.server_label();
        let state = self.reuse.as_ref().expect("reuse is on");
        let registry = state.registry.clone();
        let reuse_error = |path: PathBuf, source| RunError::Reuse { path, source };
        let fingerprint = {
            let config = &self.aliases[index].config;
            let dependencies = config
                .depends
                .iter()
                .map(|d| {
                    let fp = state.fingerprints.get(d).cloned().unwrap_or_default();
                    (d.clone(), fp)
                })
                .collect();
            reuse::fingerprint(&reuse::Parts {
                config: &state.config,
                alias: config,
                backend: cloner.backend(),
                server: &server,
                server_version: &version,
                migrations: &self.aliases[index].migrations,
                dependencies,
            })
            .map_err(|(path, source)| reuse_error(path, source))?
        };
        let fp = fingerprint.hex.clone();
        let name = naming::kept_template_name(
            &self.aliases[index].config.base_name,
            &fp,
            cloner.max_name_len(),
        );
        let registry_error = |source| reuse_error(registry.dir.clone(), source);
        // One builder per fingerprint: the others wait here, then find
        // its record.
        let build_lock =
            wait_for_lock(ctx, || registry.try_build(&alias, &fp), registry_error).await?;
        let use_lock = wait_for_lock(ctx, || registry.try_use(&alias, &fp), registry_error).await?;
        let state = self.reuse.as_mut().expect("reuse is on");
        state.held.push(use_lock);
        state.fingerprints.insert(alias.clone(), fp.clone());
        let record = registry.record(&alias, &fp);
        let on_server = cloner
            .list_databases(&name)
            .await
            .map_err(|e| backend_error("list the kept templates", e))?
            .contains(&name);
        let short = &fp[..naming::FINGERPRINT_PREFIX_LEN];
        if let Some(record) = &record
            && on_server
            && record.name == name
            && record.server == server
        {
            let connection = cloner.connection(&name);
            ctx.redactor_add(&connection);
            self.aliases[index].template = Some(connection);
            drop(build_lock);
            ctx.send(Event::TemplateReused {
                alias: alias.clone(),
                name,
                fingerprint: short.to_owned(),
                age: record.age(),
                duration: started.elapsed(),
            });
            self.drop_stale(index, cloner.as_ref(), &fp, ctx).await;
            return Ok(());
        }
        let reason = match (&record, on_server) {
            (Some(_), false) => "rebuilt: the kept template was no longer on the server".to_owned(),
            (None, true) => {
                "rebuilt: the kept template was never sealed (its build was stopped)".to_owned()
            }
            _ => {
                let before = registry
                    .records()
                    .into_iter()
                    .find(|r| r.alias == alias && r.fingerprint != fp);
                match before {
                    Some(before) => {
                        format!(
                            "rebuilt: {}",
                            reuse::what_changed(&before.inputs, &fingerprint)
                        )
                    }
                    None => "new".to_owned(),
                }
            }
        };
        if record.is_some() {
            registry.remove(&alias, &fp).map_err(registry_error)?;
        }
        if on_server {
            // A build that did not get to its record: whatever it made is
            // not to be trusted.
            sweep::drop_or_absent(cloner.as_ref(), &name)
                .await
                .map_err(|why| RunError::Backend {
                    alias: Some(alias.clone()),
                    op: "drop a kept template that was never sealed",
                    source: cloner::ClonerError::Database {
                        op: "drop",
                        name: name.clone(),
                        source: why.into(),
                    },
                })?;
        }
        self.build_template(index, cloner.as_ref(), &name, ctx)
            .await?;
        // Sealed: recorded, then kept (a crash in between leaves a template
        // the ledger's sweep drops, and a record the next run finds
        // without its database).
        let kept = reuse::Record::new(
            &alias,
            cloner.backend(),
            &server,
            &name,
            &fingerprint,
            self.run_id.as_str(),
        );
        registry.write(&kept).map_err(registry_error)?;
        let _ = self.ledger.kept_template(&name);
        self.created
            .lock()
            .expect("not poisoned")
            .retain(|c| c.name != name);
        drop(build_lock);
        ctx.send(Event::TemplateReady {
            alias: alias.clone(),
            name,
            duration: started.elapsed(),
            reuse: Some(reason),
        });
        self.drop_stale(index, cloner.as_ref(), &fp, ctx).await;
        Ok(())
    }

    /// Drops the kept templates of alias `index` on this server whose
    /// fingerprint is not `current`, each only if no run uses or builds it
    /// now; one in use stays for a later run to drop.
    async fn drop_stale(&self, index: usize, cloner: &dyn Cloner, current: &str, ctx: &Context) {
        let Some(state) = &self.reuse else { return };
        let alias = &self.aliases[index].config.alias;
        let server = cloner.server_label();
        for record in state.registry.records() {
            if &record.alias != alias
                || record.fingerprint == current
                || record.backend != cloner.backend()
                || record.server != server
            {
                continue;
            }
            let Ok(Some(locks)) = state.registry.try_drop(alias, &record.fingerprint) else {
                continue;
            };
            if sweep::drop_or_absent(cloner, &record.name).await.is_ok() {
                reuse::forget_dropped(&state.registry, &self.ledger_dir, &record);
                ctx.send(Event::StaleTemplateDropped {
                    alias: alias.clone(),
                    name: record.name.clone(),
                });
            }
            drop(locks);
        }
    }

    async fn run_setup(
        &self,
        index: usize,
        setup: &CommandLine,
        ctx: &Context,
    ) -> Result<(), RunError> {
        let alias = &self.aliases[index];
        let template = alias.template.as_ref().expect("template was just built");
        let mut env = vec![
            ("DATABASE_URL".to_owned(), template.url.clone()),
            ("PARACLONE_RUN_ID".to_owned(), self.run_id.to_string()),
            ("PARACLONE_PHASE".to_owned(), "setup".to_owned()),
        ];
        for other in &self.aliases {
            if let Some(t) = self.resolve(other).template.as_ref() {
                env.push((alias_variable(&other.config.alias), t.url.clone()));
            }
        }
        env.extend(template.extra_env.iter().cloned());
        env.extend(mapped_env(
            &alias.config,
            self.backend_of(alias),
            template,
            0,
        ));
        let spec = ChildSpec::command_line(setup, &self.config_dir).envs(env);
        let done = spawn::run(&spec, &ctx.limits(None), None)
            .await
            .map_err(|source| RunError::Spawn {
                command: spec.display(),
                source,
            })?;
        let status = match done.exit {
            Exit::Code(0) => return Ok(()),
            Exit::Interrupted => return Err(RunError::Interrupted),
            Exit::Code(c) => format!("exited with code {c}"),
            Exit::Signal(s) => format!("was killed by {}", spawn::signal_name(s)),
            Exit::TimedOut => "timed out".to_owned(),
        };
        Err(RunError::Setup {
            alias: alias.config.alias.clone(),
            command: ctx.redact(&spec.display()),
            status,
            output: ctx.redact(&String::from_utf8_lossy(&done.output)),
        })
    }

    /// Makes `workers` clones of every template, all at once, at most each
    /// backend's concurrency hint at a time per backend. With `share` no
    /// clone is made and every worker uses the template (a debug switch that
    /// shows what isolation prevents).
    pub(crate) async fn make_clones(
        &mut self,
        workers: usize,
        share: bool,
        ctx: &Context,
    ) -> Result<usize, RunError> {
        if share {
            for a in self.aliases.iter_mut().filter(|a| a.cloner.is_some()) {
                let template = a
                    .template
                    .clone()
                    .expect("templates are built before cloning");
                a.clones = vec![template; workers];
            }
            return Ok(0);
        }
        let on_copies = self.make_server_copies(workers, ctx).await?;
        let mut semaphores: HashMap<usize, Arc<Semaphore>> = HashMap::new();
        let mut jobs = Vec::new();
        let this = &*self;
        for (index, a) in self.aliases.iter().enumerate() {
            let Some(cloner) = &a.cloner else { continue };
            if on_copies.contains(&index) {
                continue;
            }
            // One semaphore per cloner instance, shared by the aliases that
            // use the same server.
            let key = Arc::as_ptr(cloner) as *const () as usize;
            let permits = Arc::clone(
                semaphores
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(cloner.concurrency_hint().max(1)))),
            );
            let template = a
                .template
                .as_ref()
                .expect("templates are built before cloning")
                .name
                .clone();
            for worker in 1..=workers {
                let name = naming::database_name(
                    &a.config.base_name,
                    &self.run_id,
                    Role::Worker(worker as u32),
                    cloner.max_name_len(),
                );
                self.record(index, &name, false)?;
                let cloner = Arc::clone(cloner);
                let permits = Arc::clone(&permits);
                let template = template.clone();
                let alias = a.config.alias.clone();
                jobs.push(async move {
                    // Clones already started finish (so teardown can drop
                    // them); clones not yet started are skipped on a stop.
                    let _permit = permits.acquire().await.expect("semaphore is never closed");
                    if ctx.stopping() {
                        this.answered(&name, false);
                        return (index, worker, Err(None));
                    }
                    let result = cloner.clone_database(&template, &name).await;
                    this.answered(&name, result.is_ok());
                    if result.is_ok() {
                        ctx.checkpoint("clone").await;
                        ctx.send(Event::CloneReady {
                            alias: alias.clone(),
                            worker,
                            name,
                        });
                    }
                    (index, worker, result.map_err(Some))
                });
            }
        }
        let mut made = on_copies.len() * workers;
        let mut first_error = None;
        let results = join_all(jobs).await;
        for (index, a) in self.aliases.iter_mut().enumerate() {
            if a.cloner.is_some() && !on_copies.contains(&index) {
                a.clones = Vec::with_capacity(workers);
            }
        }
        let mut sorted = results;
        sorted.sort_by_key(|(index, worker, _)| (*index, *worker));
        for (index, _worker, result) in sorted {
            match result {
                Ok(connection) => {
                    ctx.redactor_add(&connection);
                    self.aliases[index].clones.push(connection);
                    made += 1;
                }
                Err(Some(source)) if first_error.is_none() => {
                    first_error = Some(RunError::Backend {
                        alias: Some(self.aliases[index].config.alias.clone()),
                        op: "clone the template",
                        source,
                    });
                }
                Err(_) => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None if ctx.stopping() => Err(RunError::Interrupted),
            None => Ok(made),
        }
    }

    /// For each throwaway server whose clones are servers (`ephemeral_clones
    /// = "servers"`, or `"auto"` and the templates are big enough): its
    /// copies, one per worker, and every alias on it gets worker `n`'s
    /// template on copy `n` as its clone. Returns those aliases.
    async fn make_server_copies(
        &mut self,
        workers: usize,
        ctx: &Context,
    ) -> Result<Vec<usize>, RunError> {
        let mut done = Vec::new();
        let servers = Arc::clone(&self.servers);
        for server in servers.all() {
            let kind = server.kind();
            let on_it: Vec<usize> = (0..self.aliases.len())
                .filter(|i| self.aliases[*i].throwaway == Some(kind))
                .collect();
            let templates: Vec<String> = on_it
                .iter()
                .filter_map(|i| self.aliases[*i].template.as_ref().map(|t| t.name.clone()))
                .collect();
            let wanted = match server.clone_on() {
                CloneOn::Databases => false,
                CloneOn::Servers => true,
                CloneOn::Auto => crate::servers::servers_pay(
                    templates.iter().map(|t| server.tables_in(t)).sum(),
                    workers,
                ),
            };
            if !wanted {
                continue;
            }
            let copies = servers.copies(server, workers, &self.ledger, ctx).await?;
            let cloners = copies
                .iter()
                .map(|copy| open_on(copy, &self.settings, &self.config_dir, &self.config_path))
                .collect::<Result<Vec<_>, _>>()?;
            for &index in &on_it {
                let name = self.aliases[index]
                    .template
                    .as_ref()
                    .expect("templates are built before cloning")
                    .name
                    .clone();
                let clones: Vec<Connection> = cloners.iter().map(|c| c.connection(&name)).collect();
                for (worker, connection) in clones.iter().enumerate() {
                    ctx.redactor_add(connection);
                    ctx.send(Event::CloneReady {
                        alias: self.aliases[index].config.alias.clone(),
                        worker: worker + 1,
                        name: name.clone(),
                    });
                }
                self.aliases[index].clones = clones;
                done.push(index);
            }
            self.copies
                .lock()
                .expect("not poisoned")
                .insert(kind, copies);
            ctx.checkpoint("clone").await;
        }
        Ok(done)
    }

    /// The environment of worker `worker` (1-based): the contract documented
    /// in the README.
    pub(crate) fn worker_env(
        &self,
        worker: usize,
        workers: usize,
        replaced: &Replaced,
    ) -> Vec<(String, String)> {
        let mut env = vec![
            ("PARACLONE_WORKER".to_owned(), worker.to_string()),
            ("PARACLONE_WORKERS".to_owned(), workers.to_string()),
            ("PARACLONE_RUN_ID".to_owned(), self.run_id.to_string()),
        ];
        env.extend(self.alias_env(worker, |owner| {
            Some(
                replaced
                    .get(&owner)
                    .unwrap_or(&self.aliases[owner].clones[worker - 1])
                    .clone(),
            )
        }));
        env
    }

    /// Gives worker `worker` fresh clones of every template, after a test
    /// crashed and may have left its databases half-written: the new clones
    /// are made (as replacement number `generation`), then the old ones are
    /// dropped. `replaced` holds the worker's current replacements and is
    /// updated.
    pub(crate) async fn replace_clones(
        &self,
        worker: usize,
        generation: u32,
        replaced: &mut Replaced,
        ctx: &Context,
    ) -> Result<(), RunError> {
        // The clones being left were a failed test's, to be kept.
        let keep_for = ctx.keep.claim(worker);
        let copies = self.copies.lock().expect("not poisoned").clone();
        let mut refreshed = Vec::new();
        for (index, a) in self.aliases.iter().enumerate() {
            let Some(cloner) = &a.cloner else { continue };
            let kind = a.throwaway;
            if let Some(copy) = kind.and_then(|k| copies.get(&k)).map(|c| &c[worker - 1]) {
                // Its own server, started again from the templates: the
                // connection stays the same.
                if !refreshed.contains(&kind) {
                    copy.refresh(&self.ledger, ctx).await?;
                    refreshed.push(kind);
                }
                ctx.send(Event::ReplacementReady {
                    alias: a.config.alias.clone(),
                    worker,
                    name: a.clones[worker - 1].name.clone(),
                });
                continue;
            }
            let template = &a
                .template
                .as_ref()
                .expect("templates are built before running")
                .name;
            let name = naming::database_name(
                &a.config.base_name,
                &self.run_id,
                Role::Replacement(worker as u32, generation),
                cloner.max_name_len(),
            );
            self.record(index, &name, false)?;
            let made = cloner.clone_database(template, &name).await;
            self.answered(&name, made.is_ok());
            let connection = made.map_err(|source| RunError::Backend {
                alias: Some(a.config.alias.clone()),
                op: "make a fresh clone after a crashed test",
                source,
            })?;
            ctx.redactor_add(&connection);
            ctx.send(Event::ReplacementReady {
                alias: a.config.alias.clone(),
                worker,
                name: connection.name.clone(),
            });
            self.current
                .lock()
                .expect("not poisoned")
                .insert((worker, index), connection.clone());
            let old = replaced
                .insert(index, connection)
                .unwrap_or_else(|| a.clones[worker - 1].clone());
            if let Some(test) = &keep_for {
                self.keep(index, worker, &old, test, ctx);
            } else if cloner.drop_database(&old.name).await.is_ok() {
                let _ = self.ledger.dropped(&old.name);
                self.created
                    .lock()
                    .expect("not poisoned")
                    .retain(|c| c.name != old.name);
                ctx.send(Event::DatabaseDropped {
                    alias: a.config.alias.clone(),
                    name: old.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Keeps `connection`, worker `worker`'s clone of alias `index`, for
    /// the failed `test`: marked kept in the ledger, never dropped by this
    /// run. A template (`--share-database`) is never kept.
    fn keep(
        &self,
        index: usize,
        worker: usize,
        connection: &Connection,
        test: &TestId,
        ctx: &Context,
    ) {
        let mut created = self.created.lock().expect("not poisoned");
        let Some(at) = created
            .iter()
            .position(|c| c.name == connection.name && !c.template)
        else {
            return;
        };
        created.remove(at);
        drop(created);
        let _ = self.ledger.kept(&connection.name, &test.to_string());
        let kept = KeptDatabase {
            alias: self.aliases[index].config.alias.clone(),
            name: connection.name.clone(),
            url: ctx.redact(&cloner::redact::redact_url(&connection.url)),
            test: test.clone(),
        };
        self.kept.lock().expect("not poisoned").push(kept.clone());
        ctx.send(Event::DatabaseKept { worker, kept });
    }

    /// The clones kept for failed tests.
    pub(crate) fn kept(&self) -> Vec<KeptDatabase> {
        self.kept.lock().expect("not poisoned").clone()
    }

    /// The environment of the templates-to-be, for commands that need one
    /// before the templates exist (listing tests while they are built):
    /// `DATABASE_URL` and `DATABASE_URL_<ALIAS>` with the templates' names.
    pub(crate) fn template_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("PARACLONE_RUN_ID".to_owned(), self.run_id.to_string())];
        env.extend(self.alias_env(0, |owner| {
            let owner = &self.aliases[owner];
            let cloner = owner.cloner.as_ref()?;
            let name = naming::database_name(
                &owner.config.base_name,
                &self.run_id,
                Role::Template,
                cloner.max_name_len(),
            );
            Some(cloner.connection(&name))
        }));
        env
    }

    /// `DATABASE_URL` (the `default` alias, else the first), then for every
    /// alias `DATABASE_URL_<ALIAS>`, the backend's extra variables and the
    /// alias's mapped ones, from the connection `connection_of` gives for
    /// the alias owning the database (a mirror's target).
    fn alias_env(
        &self,
        worker: usize,
        connection_of: impl Fn(usize) -> Option<Connection>,
    ) -> Vec<(String, String)> {
        let default = self
            .aliases
            .iter()
            .position(|a| a.config.alias == "default")
            .unwrap_or(0);
        let mut env = Vec::new();
        for (index, a) in self.aliases.iter().enumerate() {
            let Some(connection) = connection_of(a.mirror_of.unwrap_or(index)) else {
                continue;
            };
            if index == default {
                env.push(("DATABASE_URL".to_owned(), connection.url.clone()));
            }
            env.push((alias_variable(&a.config.alias), connection.url.clone()));
            env.extend(connection.extra_env.iter().cloned());
            env.extend(mapped_env(
                &a.config,
                self.backend_of(a),
                &connection,
                worker,
            ));
        }
        env
    }

    /// Drops every database this run created, clones first (concurrently),
    /// then templates. Returns how many were dropped and what could not be.
    /// How the backends that choose among ways made this run's clones,
    /// once per cloner.
    pub(crate) fn clone_methods(&self) -> Vec<(String, String)> {
        let mut seen: Vec<*const ()> = Vec::new();
        let mut out = Vec::new();
        for cloner in self.aliases.iter().filter_map(|a| a.cloner.as_ref()) {
            let id = Arc::as_ptr(cloner).cast::<()>();
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(method) = cloner.clone_method() {
                out.push((cloner.backend().to_owned(), method));
            }
        }
        for (kind, copies) in self.copies.lock().expect("not poisoned").iter() {
            // The seed's own line counts the clones it did not make.
            out.retain(|(backend, _)| backend != kind.backend());
            out.push((
                kind.backend().to_owned(),
                format!(
                    "one throwaway server per worker ({} copies of the data directory)",
                    copies.len()
                ),
            ));
        }
        out
    }

    pub(crate) async fn teardown(&self, ctx: &Context) -> (usize, Vec<LeftBehind>) {
        // Failed tests' clones still in use when the run ended are kept.
        for (worker, test) in ctx.keep.claim_all() {
            for (index, a) in self.aliases.iter().enumerate() {
                if a.cloner.is_none() {
                    continue;
                }
                let current = self
                    .current
                    .lock()
                    .expect("not poisoned")
                    .get(&(worker, index))
                    .cloned()
                    .or_else(|| a.clones.get(worker - 1).cloned());
                if let Some(connection) = current {
                    self.keep(index, worker, &connection, &test, ctx);
                }
            }
        }
        let created = std::mem::take(&mut *self.created.lock().expect("not poisoned"));
        // Those on a throwaway server go with it (`Servers::stop`).
        let created = created
            .into_iter()
            .filter(|c| self.aliases[c.alias].throwaway.is_none());
        let (templates, clones): (Vec<_>, Vec<_>) = created.partition(|c| c.template);
        let mut dropped = 0;
        let mut left = Vec::new();
        for batch in [clones, templates] {
            let results = join_all(batch.iter().map(|c| async move {
                let cloner = self.aliases[c.alias]
                    .cloner
                    .as_ref()
                    .expect("only backed aliases create databases");
                (c, sweep::drop_or_absent(cloner.as_ref(), &c.name).await)
            }))
            .await;
            if !batch.first().is_some_and(|c| c.template) {
                // Clones dropped, templates not yet.
                ctx.checkpoint("teardown").await;
            }
            for (c, result) in results {
                match result {
                    Ok(gone) => {
                        // Not on the server (its create had failed):
                        // nothing was dropped, and nothing is left.
                        if gone == Gone::Dropped {
                            dropped += 1;
                            ctx.send(Event::DatabaseDropped {
                                alias: self.aliases[c.alias].config.alias.clone(),
                                name: c.name.clone(),
                            });
                        }
                        // Should the ledger not take the line, the entry
                        // stays and a later sweep finds the database gone.
                        let _ = self.ledger.dropped(&c.name);
                    }
                    Err(why) => left.push(LeftBehind {
                        alias: self.aliases[c.alias].config.alias.clone(),
                        name: c.name.clone(),
                        reason: ctx.redact(&why),
                    }),
                }
            }
        }
        (dropped, left)
    }

    /// The clones of workers that exist (made, whether or not the cloning
    /// was stopped), over all aliases; replacements not counted. With
    /// `--share-database` these are the templates.
    pub(crate) fn clones_made(&self) -> usize {
        self.aliases
            .iter()
            .filter(|a| a.cloner.is_some())
            .map(|a| a.clones.len())
            .sum()
    }

    pub(crate) fn run_id(&self) -> &RunId {
        &self.run_id
    }

    /// How many databases this run made on throwaway servers (gone when
    /// they are stopped).
    pub(crate) fn on_throwaway_servers(&self) -> usize {
        self.created
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|c| self.aliases[c.alias].throwaway.is_some())
            .count()
    }

    /// The throwaway server `alias` is on, if it is on one.
    fn throwaway_server(&self, alias: &AliasDbs) -> Option<&Server> {
        self.servers.for_backend(alias.throwaway?.backend())
    }

    /// The run's ledger (throwaway servers are recorded in it too).
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Aliases with databases of their own (not mirrors).
    pub(crate) fn backed_aliases(&self) -> usize {
        self.aliases.iter().filter(|a| a.cloner.is_some()).count()
    }

    /// Writes `name` down, in the ledger and in memory, before it exists.
    fn record(&self, alias: usize, name: &str, template: bool) -> Result<(), RunError> {
        let a = &self.aliases[alias];
        let cloner = a
            .cloner
            .as_ref()
            .expect("only backed aliases create databases");
        self.ledger
            .will_create(
                &a.config.alias,
                cloner.backend(),
                &cloner.server_label(),
                name,
            )
            .map_err(|source| RunError::Ledger {
                path: self.ledger_dir.clone(),
                source,
            })?;
        self.created.lock().expect("not poisoned").push(Created {
            alias,
            name: name.to_owned(),
            template,
        });
        Ok(())
    }

    /// Writes down whether the backend created `name`. Should the line not
    /// be taken, the entry stays "maybe created", which a sweep treats as
    /// created: safe either way.
    fn answered(&self, name: &str, created: bool) {
        let _ = if created {
            self.ledger.created(name)
        } else {
            self.ledger.failed(name)
        };
    }

    /// Closes the ledger: its file goes if everything was dropped.
    pub(crate) fn close_ledger(self) -> Result<(), RunError> {
        let path = self.ledger_dir.clone();
        self.ledger
            .close()
            .map_err(|source| RunError::Ledger { path, source })
    }

    fn resolve<'a>(&'a self, alias: &'a AliasDbs) -> &'a AliasDbs {
        alias.mirror_of.map_or(alias, |i| &self.aliases[i])
    }

    /// The backend of the database `alias` uses (a mirror's target's).
    fn backend_of(&self, alias: &AliasDbs) -> &'static str {
        self.resolve(alias)
            .cloner
            .as_ref()
            .map_or("", |c| c.backend())
    }
}

/// The cloner for throwaway server `server` (a MySQL one's table files are
/// in its own data directory).
fn open_on(
    server: &Server,
    settings: &BackendSettings,
    config_dir: &Path,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    let mut settings = settings.clone();
    if server.kind() == Kind::Mysql {
        settings.mysql.datadir = Some(server.data_dir());
    }
    let backend = Located {
        value: server.kind().backend().to_owned(),
        at: Default::default(),
    };
    backends::open(
        &backend,
        Some(&server.url()),
        &settings,
        config_dir,
        config_path,
    )
}

/// For `paraclone list`: the environment a list command gets during a
/// run (`DATABASE_URL`, `DATABASE_URL_<ALIAS>`, the aliases' variables),
/// with the names the templates of a run would have, without a ledger,
/// without contacting a server and without creating anything.
pub(crate) fn listing_env(
    config: &Config,
    backend: Option<&str>,
) -> Result<Vec<(String, String)>, RunError> {
    let run_id = RunId::generate();
    let default = config
        .aliases
        .iter()
        .position(|a| a.alias == "default")
        .unwrap_or(0);
    let mut env = vec![("PARACLONE_RUN_ID".to_owned(), run_id.to_string())];
    // Each alias's (backend, connection), mirrors resolved to their target.
    let mut connections: Vec<(&'static str, Connection)> = Vec::new();
    for (index, alias) in config.aliases.iter().enumerate() {
        let (backend_name, connection) = match &alias.mirror {
            Some(target) => {
                let at = config
                    .aliases
                    .iter()
                    .position(|a| &a.alias == target)
                    .expect("config orders mirrors after their target");
                connections[at].clone()
            }
            None => {
                let chosen = chosen_backend(alias, config, backend);
                alias.check_env(&chosen.value, &config.path)?;
                let cloner = backends::open(
                    &chosen,
                    alias.url.as_deref(),
                    &config.backends,
                    &config.dir,
                    &config.path,
                )?;
                let name = naming::database_name(
                    &alias.base_name,
                    &run_id,
                    Role::Template,
                    cloner.max_name_len(),
                );
                (cloner.backend(), cloner.connection(&name))
            }
        };
        if index == default {
            env.push(("DATABASE_URL".to_owned(), connection.url.clone()));
        }
        env.push((alias_variable(&alias.alias), connection.url.clone()));
        env.extend(connection.extra_env.iter().cloned());
        env.extend(mapped_env(alias, backend_name, &connection, 0));
        connections.push((backend_name, connection));
    }
    Ok(env)
}

fn read_migrations(
    config: &Config,
    alias: &AliasConfig,
    dir: &Located<String>,
    backend: &str,
) -> Result<Vec<Migration>, RunError> {
    let path = config.dir.join(dir.value.replace("{backend}", backend));
    let error = |source| RunError::Migrations {
        config: config.path.clone(),
        at: dir.at,
        alias: alias.alias.clone(),
        dir: path.clone(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
        .map_err(error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "it holds no *.sql file",
        )));
    }
    files
        .iter()
        .map(|f| {
            let sql = std::fs::read_to_string(f).map_err(error)?;
            // The whole path, so that an error names the file one can open.
            Ok(Migration {
                name: f.display().to_string(),
                sql,
            })
        })
        .collect()
}

/// The tool whose layout and history table `migrator` names, if any.
fn tool_of(migrator: Migrator) -> Option<Tool> {
    match migrator {
        Migrator::Sql | Migrator::Command => None,
        Migrator::Diesel => Some(Tool::Diesel),
        Migrator::Sqlx => Some(Tool::Sqlx),
        Migrator::Refinery => Some(Tool::Refinery),
    }
}

/// A tool's migrations, in its order, then its history table
/// (`cloner::migrator`): the scripts are the files as they are, with no
/// `{backend}` in them replaced, since the tool's checksums cover them.
fn read_tool_migrations(
    config: &Config,
    alias: &AliasConfig,
    dir: &Located<String>,
    backend: &str,
    tool: Tool,
) -> Result<Vec<Migration>, RunError> {
    let path = config.dir.join(dir.value.replace("{backend}", backend));
    let error = |source: migrators::LayoutError| RunError::MigrationLayout {
        config: config.path.clone(),
        at: dir.at,
        alias: alias.alias.clone(),
        tool: tool.name(),
        dir: path.clone(),
        source: Box::new(source),
    };
    let read = migrators::read(tool, &path).map_err(error)?;
    let dialect = cloner::migrator::dialect_of(backend).unwrap_or(Dialect::Oracle);
    cloner::migrator::plan(dialect, tool, &read).map_err(|e| error(e.into()))
}

/// `DATABASE_URL_<ALIAS>`: the alias upper-cased, `-` as `_`.
pub(crate) fn alias_variable(alias: &str) -> String {
    format!(
        "DATABASE_URL_{}",
        alias.to_ascii_uppercase().replace('-', "_")
    )
}

/// The alias's `env` variables that apply on `backend`, placeholders
/// filled from `connection`.
fn mapped_env(
    alias: &AliasConfig,
    backend: &str,
    connection: &Connection,
    worker: usize,
) -> Vec<(String, String)> {
    alias
        .env_on(backend)
        .map(|v| {
            let value = fill_placeholders(&v.value, connection, worker);
            (v.key.clone(), value)
        })
        .collect()
}

/// Replaces `{url}`, `{name}`, `{host}`, `{port}`, `{user}`, `{password}`,
/// `{path}` and `{worker}`; a part the connection lacks becomes empty.
pub(crate) fn fill_placeholders(template: &str, c: &Connection, worker: usize) -> String {
    let path = c
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    template
        .replace("{url}", &c.url)
        .replace("{name}", &c.name)
        .replace("{host}", c.host.as_deref().unwrap_or(""))
        .replace("{port}", &c.port.map(|p| p.to_string()).unwrap_or_default())
        .replace("{user}", c.user.as_deref().unwrap_or(""))
        .replace("{password}", c.password.as_deref().unwrap_or(""))
        .replace("{path}", &path)
        .replace("{worker}", &worker.to_string())
}

/// Adds a connection's secrets to a redactor.
pub(crate) fn add_secrets(redactor: &mut Redactor, connection: &Connection) {
    if let Some(p) = &connection.password {
        redactor.add(p.clone());
    }
}

/// The lock `try_lock` takes, once no other run holds it, polling until
/// then (or until the run is stopped); `error` maps the lock file's errors.
async fn wait_for_lock(
    ctx: &Context,
    mut try_lock: impl FnMut() -> std::io::Result<Option<std::fs::File>>,
    error: impl Fn(std::io::Error) -> RunError,
) -> Result<std::fs::File, RunError> {
    loop {
        if let Some(lock) = try_lock().map_err(&error)? {
            return Ok(lock);
        }
        if ctx.stopping() {
            return Err(RunError::Interrupted);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The backend of every alias that has databases of its own (not a
/// mirror), `backend` (`--db`) overriding the config.
pub(crate) fn chosen_backends(config: &Config, backend: Option<&str>) -> Vec<Located<String>> {
    config
        .aliases
        .iter()
        .filter(|a| a.mirror.is_none())
        .map(|a| chosen_backend(a, config, backend))
        .collect()
}

/// The backend of `alias`: `--db` over the alias's own over `run.backend`,
/// SQLite when none names one.
fn chosen_backend(alias: &AliasConfig, config: &Config, backend: Option<&str>) -> Located<String> {
    match backend {
        Some(b) => Located {
            value: b.to_owned(),
            at: Default::default(),
        },
        None => alias
            .backend
            .clone()
            .or_else(|| config.backend.clone())
            .unwrap_or_else(|| Located {
                value: "sqlite".to_owned(),
                at: Default::default(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        Connection {
            url: "postgres://u:pw@h:5432/db_w1".to_owned(),
            name: "db_w1".to_owned(),
            host: Some("h".to_owned()),
            port: Some(5432),
            user: Some("u".to_owned()),
            password: Some("pw".to_owned()),
            path: None,
            extra_env: Vec::new(),
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill_placeholders(
                "{user}@{host}:{port}/{name} w{worker} {path}|{password}",
                &connection(),
                3
            ),
            "u@h:5432/db_w1 w3 |pw"
        );
    }

    #[test]
    fn alias_variables_are_upper_case() {
        assert_eq!(alias_variable("other-db"), "DATABASE_URL_OTHER_DB");
    }
}
