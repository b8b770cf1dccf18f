//! The conformance kit catches broken backends: each mutant of the SQLite
//! cloner breaks one promise, and the check for that promise must fail
//! with a message that says what broke.

use std::future::Future;

use async_trait::async_trait;
use cloner::conformance;
use cloner::{Cloner, ClonerError, Connection, Migration};
use cloner_sqlite::{Method, SqliteCloner, Target};

use crate::support::{SqliteProbe, open, setup};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// Clones forget the AUTOINCREMENT counters, as a naive dump does.
    ForgetsCounters,
    /// A clone is a symbolic link to the template: writes reach the template.
    SharesTheTemplate,
    /// Dropping a database that is gone is an error.
    DropFailsWhenGone,
    /// Listing ignores the prefix.
    ListsEverything,
    /// Creating an existing database fails with the wrong error.
    WrongExistsError,
}

#[derive(Debug)]
struct Mutant {
    inner: SqliteCloner,
    flaw: Flaw,
}

#[async_trait]
impl Cloner for Mutant {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn server_version(&self) -> Result<String, ClonerError> {
        self.inner.server_version().await
    }
    fn concurrency_hint(&self) -> usize {
        self.inner.concurrency_hint()
    }
    fn max_name_len(&self) -> usize {
        self.inner.max_name_len()
    }
    async fn create_template(
        &self,
        name: &str,
        migrations: &[Migration],
    ) -> Result<Connection, ClonerError> {
        match self.inner.create_template(name, migrations).await {
            Err(ClonerError::Exists { name }) if self.flaw == Flaw::WrongExistsError => {
                Err(ClonerError::Missing { name })
            }
            other => other,
        }
    }
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        self.inner.seal_template(name).await
    }
    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError> {
        if self.flaw == Flaw::SharesTheTemplate {
            std::os::unix::fs::symlink(self.inner.path(template), self.inner.path(name)).unwrap();
            return Ok(self.inner.connection(name));
        }
        let connection = self.inner.clone_database(template, name).await?;
        if self.flaw == Flaw::ForgetsCounters {
            open(&self.inner.path(name))
                .unwrap()
                .execute_batch("DELETE FROM sqlite_sequence")
                .unwrap();
        }
        Ok(connection)
    }
    async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
        if self.flaw == Flaw::DropFailsWhenGone && !self.inner.path(name).exists() {
            return Err(ClonerError::Missing {
                name: name.to_owned(),
            });
        }
        self.inner.drop_database(name).await
    }
    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
        let prefix = if self.flaw == Flaw::ListsEverything {
            ""
        } else {
            prefix
        };
        self.inner.list_databases(prefix).await
    }
    fn connection(&self, name: &str) -> Connection {
        self.inner.connection(name)
    }
    fn server_label(&self) -> String {
        self.inner.server_label()
    }
}

/// Runs `check` against a mutant with `flaw` and returns its panic message.
async fn failure<F, Fut>(flaw: Flaw, check: F) -> String
where
    F: FnOnce(Mutant, SqliteProbe) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (inner, probe) = setup(Target::Disk, Method::Copy).await;
    let outcome = tokio::spawn(check(Mutant { inner, flaw }, probe)).await;
    let panic = outcome
        .expect_err("the check passed against a broken backend")
        .into_panic();
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_autoincrement_counters_are_caught() {
    let message = failure(Flaw::ForgetsCounters, |c, p| async move {
        conformance::next_id_continues_from_template(&c, &p).await
    })
    .await;
    assert!(
        message.contains("got id Some(\"4\"), expected 6"),
        "{message}"
    );
    let message = failure(Flaw::ForgetsCounters, |c, p| async move {
        conformance::clones_made_concurrently_match_template(&c, &p).await
    })
    .await;
    assert!(message.contains("sqlite_sequence differ"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clones_that_share_the_template_are_caught() {
    let message = failure(Flaw::SharesTheTemplate, |c, p| async move {
        conformance::writes_are_isolated(&c, &p).await
    })
    .await;
    assert!(
        message.contains("changed after writes to its clone: rows of customers differ"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drop_that_is_not_idempotent_is_caught() {
    let message = failure(Flaw::DropFailsWhenGone, |c, p| async move {
        conformance::drop_is_idempotent(&c, &p).await
    })
    .await;
    assert!(message.contains("the second drop of"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_beyond_the_prefix_is_caught() {
    let message = failure(Flaw::ListsEverything, |c, p| async move {
        conformance::list_by_prefix(&c, &p).await
    })
    .await;
    assert!(
        message.contains("must list exactly this run's databases"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_error_for_an_existing_template_is_caught() {
    let message = failure(Flaw::WrongExistsError, |c, p| async move {
        conformance::template_is_built(&c, &p).await
    })
    .await;
    assert!(
        message.contains("instead of ClonerError::Exists"),
        "{message}"
    );
}
