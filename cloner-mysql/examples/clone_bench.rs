//! Measures paraclone's MySQL clones against Django's method on one server.
//!
//! Builds a template of `--tables` tables (default 200), each with 3
//! secondary indexes, a foreign key to the previous table and `--rows`
//! rows (default 1000, about 400 bytes each), plus a view, a trigger and a
//! procedure; then times, on the server named by `PARACLONE_MYSQL_URL`
//! (else `mysql://root@127.0.0.1:3306`):
//!
//! - paraclone: 1, 4 and 8 clones asked for at once from [`MysqlCloner`]
//!   (which makes as many at a time as its concurrency hint allows);
//! - Django's method: `mysqldump --routines --events <template> | mysql
//!   <clone>` per clone, one clone after another (what Django's
//!   `clone_test_db` does for each worker), for 1 and 8 clones.
//!
//! ```text
//! cargo run -p cloner-mysql --example clone_bench [-- --tables 200 --rows 1000 --reps 1]
//! ```
//!
//! `--no-django` times paraclone's clones only (with `--reps`,
//! `--table-parallelism` and `--max-concurrency`, to compare settings).
//!
//! Every database it makes is named `bench_pc<run>_…` and dropped at the end.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cloner::naming::{Role, RunId, database_name};
use cloner::{Cloner, Migration};
use cloner_mysql::{CopyMethod, MysqlCloner, MysqlOptions, resolve_url};
use mysql_async::Opts;

struct Args {
    tables: usize,
    rows: usize,
    reps: usize,
    parallelism: Vec<usize>,
    concurrency: Vec<usize>,
    django: bool,
}

fn args() -> Args {
    let mut out = Args {
        tables: 200,
        rows: 1000,
        reps: 1,
        parallelism: vec![],
        concurrency: vec![],
        django: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // Only paraclone's clones, for comparing its settings quickly.
        if flag == "--no-django" {
            out.django = false;
            continue;
        }
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--tables" => out.tables = value.parse().expect("--tables N"),
            "--rows" => out.rows = value.parse().expect("--rows N"),
            "--reps" => out.reps = value.parse().expect("--reps N"),
            // Also time 8 clones with these table_parallelism values.
            "--table-parallelism" => {
                out.parallelism = value.split(',').map(|v| v.parse().expect("N,N")).collect()
            }
            // Also time 8 clones with these max_concurrency values.
            "--max-concurrency" => {
                out.concurrency = value.split(',').map(|v| v.parse().expect("N,N")).collect()
            }
            other => panic!("unknown argument {other}"),
        }
    }
    out
}

fn schema(tables: usize, rows: usize) -> String {
    let mut sql = String::new();
    for t in 0..tables {
        let parent = if t == 0 {
            String::new()
        } else {
            format!(
                ",\n    CONSTRAINT t{t:03}_parent_fk FOREIGN KEY (parent_id) REFERENCES t{:03} (id)",
                t - 1
            )
        };
        sql.push_str(&format!(
            "CREATE TABLE t{t:03} (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    parent_id INT NULL,
    code VARCHAR(64) NOT NULL,
    amount DECIMAL(12, 2) NOT NULL,
    created_at DATETIME NOT NULL,
    note VARCHAR(200) NOT NULL,
    payload VARCHAR(255) NOT NULL,
    KEY t{t:03}_code_ix (code),
    KEY t{t:03}_created_ix (created_at, amount),
    KEY t{t:03}_parent_ix (parent_id){parent}
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT INTO t{t:03} (parent_id, code, amount, created_at, note, payload)
WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
SELECT {parent_value}, CONCAT('code-', i), i * 1.25, '2024-01-01' + INTERVAL i MINUTE,
       REPEAT(MD5(i), 5), REPEAT(SHA1(i), 6) FROM n;
",
            parent_value = if t == 0 { "NULL" } else { "i" },
        ));
    }
    sql.push_str(
        "CREATE VIEW t000_totals AS SELECT code, SUM(amount) AS total FROM t000 GROUP BY code;
CREATE TABLE audit (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, row_id INT NOT NULL);
CREATE TRIGGER t000_audit AFTER INSERT ON t000 FOR EACH ROW INSERT INTO audit (row_id) VALUES (NEW.id);
CREATE PROCEDURE touch(IN p INT) UPDATE t000 SET amount = amount + 1 WHERE id = p;
",
    );
    sql
}

/// Django's `clone_test_db` for MySQL: create the database, then
/// `mysqldump --routines --events <source> | mysql <target>`.
fn django_clone(opts: &Opts, template: &str, clone: &str) {
    let connection = [
        format!("--host={}", opts.ip_or_hostname()),
        format!("--port={}", opts.tcp_port()),
        format!("--user={}", opts.user().unwrap_or("root")),
        "--protocol=TCP".to_owned(),
    ];
    let password = opts.pass().unwrap_or("").to_owned();
    let status = Command::new("mysql")
        .args(&connection)
        .arg("-e")
        .arg(format!("CREATE DATABASE `{clone}`"))
        .env("MYSQL_PWD", &password)
        .status()
        .expect("mysql");
    assert!(status.success(), "create {clone}");
    let mut dump = Command::new("mysqldump")
        .args(&connection)
        .args(["--routines", "--events", template])
        .env("MYSQL_PWD", &password)
        .stdout(Stdio::piped())
        .spawn()
        .expect("mysqldump");
    let load = Command::new("mysql")
        .args(&connection)
        .arg(clone)
        .env("MYSQL_PWD", &password)
        .stdin(dump.stdout.take().expect("piped"))
        .status()
        .expect("mysql");
    assert!(dump.wait().expect("mysqldump").success() && load.success());
}

/// Waits until the server has written out the dirty pages of what came
/// before (at most a minute), so that one measurement does not pay for the
/// previous one's writes.
async fn settle(url: &str) {
    use mysql_async::prelude::Queryable as _;
    let mut conn = mysql_async::Conn::from_url(url).await.expect("connect");
    let started = Instant::now();
    loop {
        let dirty: Option<(String, u64)> = conn
            .query_first("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")
            .await
            .expect("status");
        if dirty.map_or(0, |(_, n)| n) < 200 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = conn.disconnect().await;
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let url = resolve_url(None);
    let opts = Opts::from_url(&url).expect("a mysql:// URL");
    let cloner = MysqlCloner::new(MysqlOptions::with_url(&url)).expect("options");
    let version = cloner.server_version().await.expect("the server answers");
    let run = RunId::generate();
    let name = |role| database_name("bench", &run, role, cloner.max_name_len());
    let template = name(Role::Template);
    println!(
        "server {version}; template {} tables x 3 indexes x {} rows; {} core(s)",
        args.tables,
        args.rows,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let started = Instant::now();
    cloner
        .create_template(
            &template,
            &[Migration {
                name: "bench.sql".to_owned(),
                sql: schema(args.tables, args.rows),
            }],
        )
        .await
        .expect("the template");
    println!("template built in {}", secs(started.elapsed()));

    let mut results = Vec::new();
    let django = |n: u32, results: &mut Vec<(String, Duration)>| {
        let clones: Vec<String> = (1..=n).map(|w| name(Role::Worker(w))).collect();
        let started = Instant::now();
        for c in &clones {
            django_clone(&opts, &template, c);
        }
        results.push((
            format!("Django: mysqldump | mysql, {n} clone(s) in a row"),
            started.elapsed(),
        ));
        clones
    };
    let timed = |label: String, cloner: MysqlCloner, n: u32| {
        let (template, name) = (&template, &name);
        async move {
            // Learns the server's limits, as the runner does first.
            cloner.server_version().await.expect("the server answers");
            let label = format!(
                "{label} [{} at a time]",
                cloner.concurrency_hint().min(n as usize)
            );
            let clones: Vec<String> = (1..=n).map(|w| name(Role::Worker(w))).collect();
            let started = Instant::now();
            let made = futures_util::future::join_all(
                clones.iter().map(|c| cloner.clone_database(template, c)),
            )
            .await;
            let took = started.elapsed();
            for m in made {
                m.expect("a clone");
            }
            let report = cloner.copy_report();
            let label = format!(
                "{label} ({} tables by files, {} by rows)",
                report.tables_by_files, report.tables_by_rows
            );
            for note in &report.notes {
                println!("  note: {note}");
            }
            for c in &clones {
                cloner.drop_database(c).await.expect("drop");
            }
            (label, took)
        }
    };
    let options = |tp: Option<usize>, cap: Option<usize>, copy: CopyMethod| {
        MysqlCloner::new(MysqlOptions {
            table_parallelism: tp,
            max_concurrency: cap,
            copy,
            ..MysqlOptions::with_url(&url)
        })
        .expect("options")
    };
    if args.django {
        settle(&url).await;
        for c in django(1, &mut results) {
            cloner.drop_database(&c).await.expect("drop");
        }
    }
    for _ in 0..args.reps {
        for n in [1u32, 4, 8] {
            settle(&url).await;
            results.push(
                timed(
                    format!("paraclone, {n} clone(s) at once"),
                    options(None, None, CopyMethod::Auto),
                    n,
                )
                .await,
            );
        }
        settle(&url).await;
        results.push(
            timed(
                "paraclone rows only, 8 clones".to_owned(),
                options(None, None, CopyMethod::Rows),
                8,
            )
            .await,
        );
        for p in &args.parallelism {
            settle(&url).await;
            results.push(
                timed(
                    format!("paraclone, 8 clones, table_parallelism {p}"),
                    options(Some(*p), None, CopyMethod::Auto),
                    8,
                )
                .await,
            );
        }
        for c in &args.concurrency {
            settle(&url).await;
            results.push(
                timed(
                    format!("paraclone, 8 clones, max_concurrency {c}"),
                    options(None, Some(*c), CopyMethod::Auto),
                    8,
                )
                .await,
            );
        }
    }
    if args.django {
        settle(&url).await;
        let clone = name(Role::Worker(1));
        let started = Instant::now();
        cloner
            .clone_to(&template, &cloner, &clone)
            .await
            .expect("a streamed clone");
        results.push((
            "paraclone clone_to (rows through the client), 1 clone".to_owned(),
            started.elapsed(),
        ));
        cloner.drop_database(&clone).await.expect("drop");
    }
    if args.django {
        settle(&url).await;
        for c in django(8, &mut results) {
            cloner.drop_database(&c).await.expect("drop");
        }
    }
    cloner
        .drop_database(&template)
        .await
        .expect("drop the template");
    println!();
    for (what, took) in &results {
        println!("{what:<62} {:>9}", secs(*took));
    }
    let best = |label: &str| {
        results
            .iter()
            .find(|(w, _)| w.starts_with(label))
            .map(|(_, t)| *t)
    };
    if let (Some(ours), Some(django)) = (
        best("paraclone, 8 clone(s)"),
        best("Django: mysqldump | mysql, 8"),
    ) {
        println!(
            "\n8 clones: paraclone / Django = {:.3}",
            ours.as_secs_f64() / django.as_secs_f64()
        );
    }
}
