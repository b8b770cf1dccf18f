//! `TIMESTAMP`s are stored in UTC and shown in the session's time zone:
//! clones and dumps keep the instants, whatever zone the template was
//! written in and whatever zone the copy is read in.

use cloner::Cloner as _;
use cloner::conformance::Section;

use crate::dump::load_with_client;
use crate::support::{
    MysqlProbe, Names, assert_same, chain, cloner, migrations, query, snapshot, template,
    with_cleanup,
};

/// Written in +05:30; the edges of the TIMESTAMP range; an instant that a
/// zone with daylight saving time (Europe, 28 March 2021) skips.
const MOMENTS: &str = "
SET time_zone = '+05:30';
CREATE TABLE moments (
    id INT NOT NULL PRIMARY KEY,
    at TIMESTAMP(3) NULL,
    local_at DATETIME(3) NULL,
    created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE = InnoDB;
INSERT INTO moments (id, at, local_at, created) VALUES
    (1, '2021-03-28 02:30:00.125', '2021-03-28 02:30:00.125', '2000-01-01 00:00:00'),
    (2, '2038-01-19 08:44:07', '2038-01-19 08:44:07', '2000-01-01 00:00:00'),
    (3, '1970-01-01 05:30:01', NULL, '2000-01-01 00:00:00');
CREATE EVENT later ON SCHEDULE AT '2035-06-01 09:00:00' ON COMPLETION PRESERVE DISABLE
    DO DELETE FROM moments;
";

const SECTIONS: &[Section] = &[
    Section {
        label: "moments as the session sees them, and in UTC seconds",
        sql: "SELECT id, at, local_at, created, UNIX_TIMESTAMP(at), UNIX_TIMESTAMP(created) \
              FROM moments ORDER BY id",
    },
    Section {
        label: "the event's schedule",
        sql: "SELECT EVENT_NAME, EXECUTE_AT, TIME_ZONE, STATUS FROM information_schema.EVENTS \
              WHERE EVENT_SCHEMA = DATABASE()",
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn timestamps_keep_their_instants_in_clones_and_dumps_under_any_session_zone() {
    let cloner = cloner().await;
    let names = Names::new("tz");
    with_cleanup(&cloner, &names, async {
        let tpl = names.template();
        template(&cloner, &tpl, &migrations(&[("0001_moments.sql", MOMENTS)])).await;
        let server_side = names.worker(1);
        let streamed = names.worker(2);
        let dumped = names.worker(3);
        if let Err(e) = cloner.clone_database(&tpl, &server_side).await {
            panic!("cloning {tpl:?} failed: {}", chain(&e));
        }
        if let Err(e) = cloner.clone_to(&tpl, &cloner, &streamed).await {
            panic!("streaming {tpl:?} failed: {}", chain(&e));
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("moments.sql");
        if let Err(e) = cloner.dump_template(&tpl, &path).await {
            panic!("dumping {tpl:?} failed: {}", chain(&e));
        }
        template(&cloner, &dumped, &[]).await;
        // The client's session starts in another zone; the dump sets its own.
        load_with_client(
            &cloner.connection(&dumped),
            &path,
            Some("SET time_zone = '-08:00'"),
        );
        for zone in ["+00:00", "-08:00", "+05:30", "SYSTEM"] {
            let probe = MysqlProbe::in_time_zone(zone);
            let expected = snapshot(&probe, &tpl, SECTIONS).await;
            for copy in [&server_side, &streamed, &dumped] {
                assert_same(
                    &expected,
                    &snapshot(&probe, copy, SECTIONS).await,
                    &format!("read with time_zone {zone}"),
                );
            }
        }
        let local = MysqlProbe::in_time_zone("+05:30");
        for copy in [&server_side, &streamed, &dumped] {
            assert_eq!(
                query(
                    &local,
                    copy,
                    "SELECT at, UNIX_TIMESTAMP(at) FROM moments WHERE id = 1"
                )
                .await,
                vec![vec![
                    Some("2021-03-28 02:30:00.125".to_owned()),
                    Some("1616878800.125".to_owned())
                ]],
                "{copy:?}: the TIMESTAMP written in +05:30 does not read back the same in +05:30"
            );
        }
    })
    .await;
}
