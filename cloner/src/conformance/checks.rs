//! The checks of the kit, one `pub async fn` each.
//!
//! Every check takes a fresh run id (so checks can run in parallel against
//! one server and leftovers are recognisable), drops everything it created
//! on success, and panics with a message naming the check, the database and
//! what differed.

use crate::conformance::fixture::{Fixture, TABLES, fixture};
use crate::conformance::probe::{Probe, Row};
use crate::conformance::scope::{Scope, chain};
use crate::conformance::snapshot::Snapshot;
use crate::naming::{Role, RunId, database_name, run_prefix};
use crate::{Cloner, ClonerError, Migration};

/// How many clones the concurrent check makes at once.
pub const CONCURRENT_CLONES: u32 = 4;

/// The template is built from the fixture's migrations, holds its rows and
/// catalog, and creating it a second time fails with
/// [`ClonerError::Exists`] without harming it.
pub async fn template_is_built(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "template_is_built", "kit_tpl");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    assert_row_counts(probe, &f, &tpl, check).await;
    let before = snapshot(probe, &f, &tpl, check).await;
    let values: Vec<String> = before.values().map(str::to_lowercase).collect();
    for table in TABLES
        .iter()
        .chain(&["customer_orders", "orders_audit", "customers_email_uq"])
    {
        assert!(
            values.iter().any(|v| v == table),
            "{check}: the catalog of {tpl:?} does not list {table}; it holds {:?}",
            before.sections
        );
    }
    match cloner.create_template(&tpl, &f.migrations).await {
        Err(ClonerError::Exists { name }) => {
            assert_eq!(
                name, tpl,
                "{check}: the Exists error for {tpl:?} names another database"
            )
        }
        Err(other) => panic!(
            "{check}: creating {tpl:?} a second time failed with \"{}\" instead of ClonerError::Exists",
            chain(&other)
        ),
        Ok(_) => panic!(
            "{check}: creating {tpl:?} a second time succeeded; it must fail with ClonerError::Exists"
        ),
    }
    assert_same(
        &before,
        &snapshot(probe, &f, &tpl, check).await,
        check,
        "after the failed second create",
    );
    scope.finish().await;
}

/// [`CONCURRENT_CLONES`] clones made at the same time each match the
/// template: the same catalog (tables, columns, indexes, views, triggers,
/// foreign keys) and the same rows in every table.
pub async fn clones_made_concurrently_match_template(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(
        cloner,
        "clones_made_concurrently_match_template",
        "kit_conc",
    );
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let expected = snapshot(probe, &f, &tpl, check).await;
    let clones = scope.clones(&tpl, CONCURRENT_CLONES).await;
    let snapshots =
        futures_util::future::join_all(clones.iter().map(|c| snapshot(probe, &f, c, check))).await;
    for actual in &snapshots {
        assert_same(&expected, actual, check, "right after cloning");
    }
    assert_same(
        &expected,
        &snapshot(probe, &f, &tpl, check).await,
        check,
        "after cloning from it",
    );
    let mut listed = list(cloner, &scope.prefix(), check).await;
    listed.sort();
    let mut all = clones.clone();
    all.push(tpl);
    all.sort();
    assert_eq!(
        listed,
        all,
        "{check}: list_databases({:?}) does not list exactly the template and its clones",
        scope.prefix()
    );
    scope.finish().await;
}

/// Inserts, updates and deletes in one clone show in that clone only: the
/// template and a sibling clone keep their rows.
pub async fn writes_are_isolated(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "writes_are_isolated", "kit_iso");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let expected = snapshot(probe, &f, &tpl, check).await;
    let clones = scope.clones(&tpl, 2).await;
    let (written, sibling) = (&clones[0], &clones[1]);
    for sql in [
        "INSERT INTO customers (name, email) VALUES ('Isolated Iris', 'iris@example.com')",
        "UPDATE products SET price_cents = price_cents + 1000 WHERE id = 1",
        "DELETE FROM order_items WHERE order_id = 1 AND product_id = 1",
    ] {
        execute(probe, written, sql, check).await;
    }
    assert_eq!(
        count(probe, written, "customers", check).await,
        4,
        "{check}: the insert into {written:?} did not show"
    );
    assert_eq!(
        scalar(
            probe,
            written,
            "SELECT price_cents FROM products WHERE id = 1",
            check
        )
        .await
        .as_deref(),
        Some("1250"),
        "{check}: the update in {written:?} did not show"
    );
    assert_eq!(
        count(probe, written, "order_items", check).await,
        4,
        "{check}: the delete in {written:?} did not show"
    );
    assert_same(
        &expected,
        &snapshot(probe, &f, &tpl, check).await,
        check,
        "after writes to its clone",
    );
    assert_same(
        &expected,
        &snapshot(probe, &f, sibling, check).await,
        check,
        "after writes to its sibling",
    );
    scope.finish().await;
}

/// A row inserted without an id into a clone gets the template's next id
/// (6: the template handed out 1 to 5 and deleted 4 and 5), in every clone
/// independently; plain sequences continue where the template left them.
pub async fn next_id_continues_from_template(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "next_id_continues_from_template", "kit_seq");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let ids = query(probe, &tpl, "SELECT id FROM customers ORDER BY id", check).await;
    assert_eq!(
        ids,
        [["1"], ["2"], ["3"]].map(|r| r.map(|c| Some(c.to_owned())).to_vec()),
        "{check}: customers of {tpl:?}"
    );
    let expected = snapshot(probe, &f, &tpl, check).await;
    let clones = scope.clones(&tpl, 2).await;
    let next = f.next_customer_id;
    for (clone, inserts) in clones.iter().zip([2, 1]) {
        for k in 0..inserts {
            let email = format!("next{k}@example.com");
            execute(
                probe,
                clone,
                &format!("INSERT INTO customers (name, email) VALUES ('Next', '{email}')"),
                check,
            )
            .await;
            let id = scalar(
                probe,
                clone,
                &format!("SELECT id FROM customers WHERE email = '{email}'"),
                check,
            )
            .await;
            let want = next + k;
            assert_eq!(
                id.as_deref(),
                Some(want.to_string().as_str()),
                "{check}: insert number {} without an id into {clone:?} got id {id:?}, expected {want}: the clone \
                 did not keep the template's auto-increment/sequence state (ids 4 and 5 were used and deleted)",
                k + 1
            );
        }
        if let Some((sql, want)) = f.next_sequence_value {
            let got = scalar(probe, clone, sql, check).await;
            assert_eq!(
                got.as_deref(),
                Some(want),
                "{check}: `{sql}` in {clone:?}: the sequence did not continue"
            );
        }
    }
    assert_same(
        &expected,
        &snapshot(probe, &f, &tpl, check).await,
        check,
        "after inserts into its clones",
    );
    scope.finish().await;
}

/// The template's trigger fires in a clone and writes to the clone, and the
/// view reads the clone's rows.
pub async fn trigger_and_view_work_in_clone(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "trigger_and_view_work_in_clone", "kit_trg");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let expected = snapshot(probe, &f, &tpl, check).await;
    let clone = scope.clones(&tpl, 1).await.remove(0);
    execute(
        probe,
        &clone,
        "INSERT INTO orders (customer_id, status, total_cents) VALUES (3, 'new', 75)",
        check,
    )
    .await;
    let id = scalar(probe, &clone, "SELECT max(id) FROM orders", check)
        .await
        .unwrap_or_else(|| panic!("{check}: {clone:?} has no orders after an insert"));
    let audit = query(
        probe,
        &clone,
        &format!("SELECT entity, operation FROM audit_log WHERE entity_id = {id} ORDER BY id"),
        check,
    )
    .await;
    assert_eq!(
        audit,
        vec![vec![Some("orders".to_owned()), Some("insert".to_owned())]],
        "{check}: the trigger orders_audit did not write one audit row for order {id} in {clone:?}"
    );
    execute(
        probe,
        &clone,
        "UPDATE customers SET name = 'Rear Admiral Hopper' WHERE id = 3",
        check,
    )
    .await;
    let view = query(
        probe,
        &clone,
        &format!("SELECT customer_name, status FROM customer_orders WHERE order_id = {id}"),
        check,
    )
    .await;
    assert_eq!(
        view,
        vec![vec![
            Some("Rear Admiral Hopper".to_owned()),
            Some("new".to_owned())
        ]],
        "{check}: the view customer_orders in {clone:?} does not show the clone's new order and customer name"
    );
    assert_eq!(
        count(probe, &clone, "customer_orders", check).await,
        4,
        "{check}: rows of customer_orders in {clone:?}"
    );
    assert_same(
        &expected,
        &snapshot(probe, &f, &tpl, check).await,
        check,
        "after the trigger fired in its clone",
    );
    scope.finish().await;
}

/// Foreign keys hold in a clone: a row pointing nowhere is refused, a
/// referenced row cannot be deleted, and `ON DELETE CASCADE` cascades.
pub async fn foreign_keys_enforced_in_clone(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "foreign_keys_enforced_in_clone", "kit_fk");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let clone = scope.clones(&tpl, 1).await.remove(0);
    for (sql, what) in [
        (
            "INSERT INTO orders (customer_id, status) VALUES (999, 'new')",
            "an order of a customer that does not exist",
        ),
        (
            "DELETE FROM customers WHERE id = 1",
            "deleting a customer who has orders",
        ),
        (
            "INSERT INTO order_items (order_id, product_id, quantity) VALUES (1, 99, 1)",
            "an item of a missing product",
        ),
    ] {
        assert!(
            probe.execute(&clone, sql).await.is_err(),
            "{check}: {clone:?} accepted {what} (`{sql}`): foreign keys are not enforced in the clone"
        );
    }
    execute(
        probe,
        &clone,
        "INSERT INTO orders (customer_id, status) VALUES (2, 'new')",
        check,
    )
    .await;
    execute(probe, &clone, "DELETE FROM orders WHERE id = 1", check).await;
    let left = scalar(
        probe,
        &clone,
        "SELECT count(*) FROM order_items WHERE order_id = 1",
        check,
    )
    .await;
    assert_eq!(
        left.as_deref(),
        Some("0"),
        "{check}: deleting order 1 in {clone:?} did not cascade to order_items"
    );
    assert_eq!(
        count(probe, &clone, "orders", check).await,
        3,
        "{check}: orders in {clone:?}"
    );
    scope.finish().await;
}

/// Dropping a clone twice succeeds both times, the clone is no longer
/// listed nor reachable, dropping a database that never existed succeeds,
/// and the template still works and can be cloned again under the same name.
pub async fn drop_is_idempotent(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "drop_is_idempotent", "kit_drop");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let expected = snapshot(probe, &f, &tpl, check).await;
    let clone = scope.clones(&tpl, 1).await.remove(0);
    for attempt in ["first", "second"] {
        if let Err(e) = cloner.drop_database(&clone).await {
            panic!(
                "{check}: the {attempt} drop of {clone:?} failed: {}",
                chain(&e)
            );
        }
    }
    let listed = list(cloner, &scope.prefix(), check).await;
    assert_eq!(
        listed,
        std::slice::from_ref(&tpl),
        "{check}: after dropping {clone:?} the run lists {listed:?}"
    );
    assert!(
        probe
            .query(&clone, "SELECT count(*) FROM customers")
            .await
            .is_err(),
        "{check}: {clone:?} can still be queried after it was dropped"
    );
    let never = scope.name(Role::Replacement(9, 9));
    if let Err(e) = cloner.drop_database(&never).await {
        panic!(
            "{check}: dropping {never:?}, which never existed, failed: {}",
            chain(&e)
        );
    }
    assert_same(
        &expected,
        &snapshot(probe, &f, &tpl, check).await,
        check,
        "after dropping its clone",
    );
    let again = scope.clones(&tpl, 1).await.remove(0);
    assert_eq!(again, clone);
    assert_same(
        &expected,
        &snapshot(probe, &f, &again, check).await,
        check,
        "cloned again after a drop",
    );
    scope.finish().await;
}

/// A base name with a single quote, a double quote (where the DBMS allows
/// one), a space and non-ASCII letters works for template, clone, listing
/// and drop.
pub async fn odd_names_work(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "odd_names_work", f.odd_base);
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    assert!(
        tpl.starts_with(f.odd_base),
        "{check}: {tpl:?} lost its base"
    );
    let clone = scope.clones(&tpl, 1).await.remove(0);
    let mut listed = list(cloner, &scope.prefix(), check).await;
    listed.sort();
    let mut want = vec![tpl.clone(), clone.clone()];
    want.sort();
    assert_eq!(
        listed,
        want,
        "{check}: list_databases({:?})",
        scope.prefix()
    );
    assert_same(
        &snapshot(probe, &f, &tpl, check).await,
        &snapshot(probe, &f, &clone, check).await,
        check,
        "with an odd name",
    );
    for name in [&tpl, &clone] {
        let connection = cloner.connection(name);
        assert_eq!(
            &connection.name, name,
            "{check}: connection({name:?}) names another database"
        );
    }
    scope.finish().await;
}

/// `list_databases(prefix)` lists exactly one run's databases for that
/// run's prefix, never another run's, and nothing for a run that made none.
pub async fn list_by_prefix(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut first = Scope::new(cloner, "list_by_prefix", "kit_list");
    let mut second = Scope::new(cloner, "list_by_prefix", "kit_list");
    let check = first.check();
    let tpl = first.template(&f.migrations).await;
    let mut first_names = first.clones(&tpl, 2).await;
    first_names.push(tpl);
    first_names.sort();
    let second_names = vec![second.template(&f.migrations).await];
    for (scope, names) in [(&first, &first_names), (&second, &second_names)] {
        let mut listed = list(cloner, &scope.prefix(), check).await;
        listed.sort();
        assert_eq!(
            &listed,
            names,
            "{check}: list_databases({:?}) must list exactly this run's databases",
            scope.prefix()
        );
    }
    let idle = run_prefix("kit_list", &RunId::generate(), cloner.max_name_len());
    let listed = list(cloner, &idle, check).await;
    assert!(
        listed.is_empty(),
        "{check}: list_databases({idle:?}) lists {listed:?} for a run that created nothing"
    );
    let shared = list(cloner, "kit_list_pc", check).await;
    for name in first_names.iter().chain(&second_names) {
        assert!(
            shared.contains(name),
            "{check}: list_databases(\"kit_list_pc\") lacks {name:?}: {shared:?}"
        );
    }
    assert!(
        shared.iter().all(|n| n.starts_with("kit_list_pc")),
        "{check}: list_databases(\"kit_list_pc\") lists names without that prefix: {shared:?}"
    );
    second.finish().await;
    first.finish().await;
}

/// `connection(name)` describes the database: its name, a non-empty URL,
/// and no password in the redacted URL, in `Debug` or in the server label.
/// A clone's connection from `clone_database` is the same as
/// `connection(name)`'s.
pub async fn connection_describes_database(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "connection_describes_database", "kit_conn");
    let check = scope.check();
    let tpl = scope.template(&f.migrations).await;
    let name = scope.name(Role::Worker(1));
    scope.track(&name);
    let made = cloner
        .clone_database(&tpl, &name)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{check}: cloning {tpl:?} into {name:?} failed: {}",
                chain(&e)
            )
        });
    let described = cloner.connection(&name);
    assert_eq!(
        made, described,
        "{check}: clone_database and connection describe {name:?} differently"
    );
    for db in [&tpl, &name] {
        let c = cloner.connection(db);
        assert_eq!(&c.name, db, "{check}: connection({db:?}).name");
        assert!(
            !c.url.is_empty(),
            "{check}: connection({db:?}) has an empty URL"
        );
        assert!(
            !c.redacted_url().is_empty(),
            "{check}: connection({db:?}) has an empty redacted URL"
        );
        if let Some(password) = c.password.as_deref().filter(|p| !p.is_empty()) {
            let debug = format!("{c:?}");
            for (what, text) in [
                ("redacted URL", c.redacted_url()),
                ("Debug output", debug),
                ("server label", cloner.server_label()),
            ] {
                assert!(
                    !text.contains(password),
                    "{check}: the {what} of {db:?} shows the password"
                );
            }
        }
    }
    scope.finish().await;
}

/// A failing migration is reported as [`ClonerError::Migration`] naming the
/// script and the database.
pub async fn failing_migration_is_reported(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "failing_migration_is_reported", "kit_mig");
    let check = scope.check();
    let tpl = scope.name(Role::Template);
    scope.track(&tpl);
    let migrations = [
        f.migrations[0].clone(),
        Migration {
            name: "0002_broken.sql".to_owned(),
            sql: "CREATE TABLE broken (id INTEGER PRIMARY KEY,".to_owned(),
        },
    ];
    match cloner.create_template(&tpl, &migrations).await {
        Err(ClonerError::Migration {
            migration,
            database,
            ..
        }) => {
            assert_eq!(
                migration, "0002_broken.sql",
                "{check}: the error names the wrong migration"
            );
            assert_eq!(database, tpl, "{check}: the error names the wrong database");
        }
        Err(other) => panic!(
            "{check}: a broken migration failed with \"{}\" instead of ClonerError::Migration",
            chain(&other)
        ),
        Ok(_) => panic!("{check}: a template with a broken migration was created"),
    }
    scope.finish().await;
}

/// Cloning a template that does not exist fails with
/// [`ClonerError::Missing`], cloning onto an existing database with
/// [`ClonerError::Exists`], and a name over [`Cloner::max_name_len`] with
/// [`ClonerError::NameTooLong`].
pub async fn clone_errors_are_typed(cloner: &dyn Cloner, probe: &dyn Probe) {
    let f = fixture(probe.dialect());
    let mut scope = Scope::new(cloner, "clone_errors_are_typed", "kit_err");
    let check = scope.check();
    let absent = database_name(
        "kit_absent",
        &RunId::generate(),
        Role::Template,
        cloner.max_name_len(),
    );
    let target = scope.name(Role::Worker(1));
    scope.track(&target);
    match cloner.clone_database(&absent, &target).await {
        Err(ClonerError::Missing { name }) => assert_eq!(
            name, absent,
            "{check}: the Missing error names another database"
        ),
        other => panic!(
            "{check}: cloning the missing template {absent:?} gave {} instead of ClonerError::Missing",
            describe(&other)
        ),
    }
    let listed = list(cloner, &scope.prefix(), check).await;
    assert!(
        listed.is_empty(),
        "{check}: a failed clone left {listed:?} behind"
    );
    let tpl = scope.template(&f.migrations).await;
    let clone = scope.clones(&tpl, 1).await.remove(0);
    match cloner.clone_database(&tpl, &clone).await {
        Err(ClonerError::Exists { name }) => assert_eq!(
            name, clone,
            "{check}: the Exists error names another database"
        ),
        other => panic!(
            "{check}: cloning onto the existing {clone:?} gave {} instead of ClonerError::Exists",
            describe(&other)
        ),
    }
    let max = cloner.max_name_len();
    // Not tracked: a backend that accepted it under a cut name leaves a
    // database with the scope's prefix, which `finish` reports.
    let long = scope.name(Role::Worker(2)) + &"x".repeat(max);
    match cloner.clone_database(&tpl, &long).await {
        Err(ClonerError::NameTooLong {
            len, max: limit, ..
        }) => {
            assert_eq!(
                (len, limit),
                (long.len(), max),
                "{check}: NameTooLong reports the wrong lengths"
            )
        }
        other => panic!(
            "{check}: cloning into a {}-byte name gave {} instead of ClonerError::NameTooLong",
            long.len(),
            describe(&other)
        ),
    }
    match cloner.create_template(&long, &f.migrations).await {
        Err(ClonerError::NameTooLong { .. }) => {}
        other => panic!(
            "{check}: a template with a {}-byte name gave {} instead of ClonerError::NameTooLong",
            long.len(),
            describe(&other)
        ),
    }
    scope.finish().await;
}

/// The backend describes itself: a lowercase short name, a server version,
/// a concurrency hint of at least one, a name limit that
/// [`crate::naming`] can work with, and a server label.
pub async fn backend_describes_itself(cloner: &dyn Cloner, _probe: &dyn Probe) {
    let check = "backend_describes_itself";
    let backend = cloner.backend();
    assert!(
        !backend.is_empty()
            && backend
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{check}: backend() is {backend:?}; it must be a short lowercase name"
    );
    let version = cloner
        .server_version()
        .await
        .unwrap_or_else(|e| panic!("{check}: server_version() failed: {}", chain(&e)));
    assert!(
        version.chars().any(|c| c.is_ascii_digit()),
        "{check}: server_version() is {version:?}, without a version number"
    );
    assert!(
        cloner.concurrency_hint() >= 1,
        "{check}: concurrency_hint() is 0"
    );
    assert!(
        cloner.max_name_len() >= 32,
        "{check}: max_name_len() is {}, below the 32 naming needs",
        cloner.max_name_len()
    );
    assert!(
        !cloner.server_label().is_empty(),
        "{check}: server_label() is empty"
    );
}

/// Checks that the template holds the fixture's rows.
async fn assert_row_counts(probe: &dyn Probe, f: &Fixture, database: &str, check: &str) {
    for (table, want) in &f.row_counts {
        let got = count(probe, database, table, check).await;
        assert_eq!(
            got, *want as i64,
            "{check}: {database:?} holds {got} rows in {table}, the fixture {want}"
        );
    }
}

async fn snapshot(probe: &dyn Probe, f: &Fixture, database: &str, check: &str) -> Snapshot {
    let sections: Vec<_> = f.catalog.iter().chain(&f.rows).copied().collect();
    Snapshot::take(probe, database, &sections)
        .await
        .unwrap_or_else(|e| panic!("{check}: could not {}", chain(&e)))
}

fn assert_same(expected: &Snapshot, actual: &Snapshot, check: &str, when: &str) {
    if actual.database != expected.database {
        if let Some(difference) = expected.difference(actual) {
            panic!(
                "{check}: {:?} does not match {:?} {when}: {difference}",
                actual.database, expected.database
            );
        }
        return;
    }
    // One database at two moments: name the moments.
    let before = Snapshot {
        database: format!("{} before", expected.database),
        ..expected.clone()
    };
    let now = Snapshot {
        database: format!("{} now", actual.database),
        ..actual.clone()
    };
    if let Some(difference) = before.difference(&now) {
        panic!(
            "{check}: {:?} changed {when}: {difference}",
            actual.database
        );
    }
}

async fn execute(probe: &dyn Probe, database: &str, sql: &str, check: &str) {
    if let Err(e) = probe.execute(database, sql).await {
        panic!("{check}: `{sql}` failed in {database:?}: {}", chain(&*e));
    }
}

async fn query(probe: &dyn Probe, database: &str, sql: &str, check: &str) -> Vec<Row> {
    probe
        .query(database, sql)
        .await
        .unwrap_or_else(|e| panic!("{check}: `{sql}` failed in {database:?}: {}", chain(&*e)))
}

async fn scalar(probe: &dyn Probe, database: &str, sql: &str, check: &str) -> Option<String> {
    let rows = query(probe, database, sql, check).await;
    match <[Row; 1]>::try_from(rows) {
        Ok([row]) if row.len() == 1 => row.into_iter().next().flatten(),
        Ok([row]) => panic!(
            "{check}: `{sql}` in {database:?} returned {} columns, expected one",
            row.len()
        ),
        Err(rows) => panic!(
            "{check}: `{sql}` in {database:?} returned {} rows, expected one",
            rows.len()
        ),
    }
}

async fn count(probe: &dyn Probe, database: &str, table: &str, check: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    let text = scalar(probe, database, &sql, check).await;
    text.as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| {
            panic!("{check}: `{sql}` in {database:?} returned {text:?}, not a number")
        })
}

async fn list(cloner: &dyn Cloner, prefix: &str, check: &str) -> Vec<String> {
    cloner
        .list_databases(prefix)
        .await
        .unwrap_or_else(|e| panic!("{check}: list_databases({prefix:?}) failed: {}", chain(&e)))
}

fn describe<T>(result: &Result<T, ClonerError>) -> String {
    match result {
        Ok(_) => "success".to_owned(),
        Err(e) => format!("the error \"{}\"", chain(e)),
    }
}
