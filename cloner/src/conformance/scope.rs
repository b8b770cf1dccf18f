//! [`Scope`]: the databases one check creates, and dropping them afterwards.

use std::error::Error;

use crate::naming::{Role, RunId, database_name, run_prefix};
use crate::{Cloner, Connection};

/// The databases of one check: fresh names from a run id of their own, and
/// a record of every name before it is created, so that the check can drop
/// them all at the end ([`Scope::finish`]) and, if it panics first, the
/// guard drops them on the way out.
pub(crate) struct Scope<'a> {
    cloner: &'a dyn Cloner,
    check: &'static str,
    base: String,
    run: RunId,
    created: Vec<String>,
    finished: bool,
}

impl<'a> Scope<'a> {
    /// A scope for `check` whose names start with `base`.
    pub(crate) fn new(cloner: &'a dyn Cloner, check: &'static str, base: &str) -> Scope<'a> {
        Scope {
            cloner,
            check,
            base: base.to_owned(),
            run: RunId::generate(),
            created: Vec::new(),
            finished: false,
        }
    }

    /// The name of this scope's database with `role`.
    pub(crate) fn name(&self, role: Role) -> String {
        database_name(&self.base, &self.run, role, self.cloner.max_name_len())
    }

    /// The prefix every name of this scope starts with.
    pub(crate) fn prefix(&self) -> String {
        run_prefix(&self.base, &self.run, self.cloner.max_name_len())
    }

    /// Records `name` as possibly created, before it is created.
    pub(crate) fn track(&mut self, name: &str) {
        if !self.created.iter().any(|n| n == name) {
            self.created.push(name.to_owned());
        }
    }

    /// The check's name, for messages.
    pub(crate) fn check(&self) -> &'static str {
        self.check
    }

    /// Creates and seals this scope's template from `migrations`.
    pub(crate) async fn template(&mut self, migrations: &[crate::Migration]) -> String {
        let name = self.name(Role::Template);
        self.track(&name);
        let check = self.check;
        let connection = self
            .cloner
            .create_template(&name, migrations)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{check}: creating the template {name:?} failed: {}",
                    chain(&e)
                )
            });
        assert_eq!(
            connection.name, name,
            "{check}: create_template({name:?}) described another database"
        );
        self.cloner.seal_template(&name).await.unwrap_or_else(|e| {
            panic!(
                "{check}: sealing the template {name:?} failed: {}",
                chain(&e)
            )
        });
        name
    }

    /// Clones `template` into the databases of worker `1..=count`, all at
    /// once, and returns their names.
    pub(crate) async fn clones(&mut self, template: &str, count: u32) -> Vec<String> {
        let names: Vec<String> = (1..=count).map(|n| self.name(Role::Worker(n))).collect();
        for name in &names {
            self.track(name);
        }
        let check = self.check;
        let cloner = self.cloner;
        let results = futures_util::future::join_all(
            names
                .iter()
                .map(|name| cloner.clone_database(template, name)),
        )
        .await;
        for (name, result) in names.iter().zip(results) {
            let connection: Connection = result.unwrap_or_else(|e| {
                panic!(
                    "{check}: cloning the template {template:?} into {name:?} failed: {}",
                    chain(&e)
                )
            });
            assert_eq!(
                &connection.name, name,
                "{check}: clone_database({template:?}, {name:?}) described another database"
            );
        }
        names
    }

    /// Drops every database of the scope (clones before the template),
    /// asserting that each drop succeeds and that nothing of the scope is
    /// listed afterwards.
    pub(crate) async fn finish(mut self) {
        self.finished = true;
        let check = self.check;
        for name in self.created.iter().rev() {
            self.cloner
                .drop_database(name)
                .await
                .unwrap_or_else(|e| panic!("{check}: dropping {name:?} failed: {}", chain(&e)));
        }
        let prefix = self.prefix();
        let left = self
            .cloner
            .list_databases(&prefix)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{check}: listing databases with prefix {prefix:?} failed: {}",
                    chain(&e)
                )
            });
        assert!(
            left.is_empty(),
            "{check}: databases left behind after dropping all of them: {left:?}"
        );
    }
}

impl Drop for Scope<'_> {
    /// A check that panicked before [`Scope::finish`] still drops what it
    /// made, as far as that can be done from a destructor: by blocking the
    /// current thread of a multi-threaded tokio runtime (what
    /// `#[tokio::test(flavor = "multi_thread")]` gives). Anywhere else the
    /// databases stay, recognisable by their run id.
    fn drop(&mut self) {
        use tokio::runtime::{Handle, RuntimeFlavor};
        if self.finished || self.created.is_empty() {
            return;
        }
        let Ok(handle) = Handle::try_current() else {
            return;
        };
        if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
            return;
        }
        let cloner = self.cloner;
        let names = std::mem::take(&mut self.created);
        // A panic here would abort the process while it is already
        // unwinding; errors are ignored for the same reason.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    for name in names.iter().rev() {
                        let drop = cloner.drop_database(name);
                        let _ =
                            tokio::time::timeout(std::time::Duration::from_secs(30), drop).await;
                    }
                })
            })
        }));
    }
}

/// An error and its sources, `: `-separated.
pub(crate) fn chain(error: &(dyn Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;

    use super::*;
    use crate::{ClonerError, Migration};

    /// A cloner that only keeps a set of names.
    #[derive(Debug, Default)]
    struct Fake {
        databases: Mutex<BTreeSet<String>>,
        dropped: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Cloner for Fake {
        fn backend(&self) -> &'static str {
            "fake"
        }
        async fn server_version(&self) -> Result<String, ClonerError> {
            Ok("Fake 1".to_owned())
        }
        fn concurrency_hint(&self) -> usize {
            1
        }
        fn max_name_len(&self) -> usize {
            63
        }
        async fn create_template(
            &self,
            name: &str,
            _: &[Migration],
        ) -> Result<Connection, ClonerError> {
            self.databases.lock().unwrap().insert(name.to_owned());
            Ok(self.connection(name))
        }
        async fn clone_database(&self, _: &str, name: &str) -> Result<Connection, ClonerError> {
            self.databases.lock().unwrap().insert(name.to_owned());
            Ok(self.connection(name))
        }
        async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
            self.databases.lock().unwrap().remove(name);
            self.dropped.lock().unwrap().push(name.to_owned());
            Ok(())
        }
        async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
            Ok(self
                .databases
                .lock()
                .unwrap()
                .iter()
                .filter(|n| n.starts_with(prefix))
                .cloned()
                .collect())
        }
        fn connection(&self, name: &str) -> Connection {
            Connection {
                url: format!("fake:///{name}"),
                name: name.to_owned(),
                host: None,
                port: None,
                user: None,
                password: None,
                path: None,
                extra_env: Vec::new(),
            }
        }
        fn server_label(&self) -> String {
            "fake".to_owned()
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn finish_drops_clones_before_the_template() {
        let fake = Fake::default();
        let mut scope = Scope::new(&fake, "t", "kit");
        let tpl = scope.template(&[]).await;
        let clones = scope.clones(&tpl, 2).await;
        assert!(clones.iter().all(|c| c.starts_with(&scope.prefix())));
        scope.finish().await;
        assert!(fake.databases.lock().unwrap().is_empty());
        let dropped = fake.dropped.lock().unwrap().clone();
        assert_eq!(dropped, [clones[1].clone(), clones[0].clone(), tpl]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_check_that_panics_still_drops_what_it_made() {
        let fake = Arc::new(Fake::default());
        let inner = Arc::clone(&fake);
        let outcome = tokio::spawn(async move {
            let mut scope = Scope::new(&*inner, "t", "kit");
            let tpl = scope.template(&[]).await;
            scope.clones(&tpl, 1).await;
            panic!("the check failed");
        })
        .await;
        assert!(outcome.unwrap_err().is_panic());
        assert!(
            fake.databases.lock().unwrap().is_empty(),
            "{:?}",
            fake.databases
        );
        assert_eq!(fake.dropped.lock().unwrap().len(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn on_a_single_threaded_runtime_the_guard_leaves_databases_alone() {
        let fake = Arc::new(Fake::default());
        let inner = Arc::clone(&fake);
        let outcome = tokio::spawn(async move {
            let mut scope = Scope::new(&*inner, "t", "kit");
            scope.template(&[]).await;
            panic!("the check failed");
        })
        .await;
        assert!(outcome.unwrap_err().is_panic());
        assert_eq!(
            fake.databases.lock().unwrap().len(),
            1,
            "blocking here would have deadlocked"
        );
    }

    #[test]
    fn chains_join_every_source() {
        let error = ClonerError::Io {
            op: "create directory",
            path: "/x".into(),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        };
        assert_eq!(chain(&error), "create directory /x: denied");
    }
}
