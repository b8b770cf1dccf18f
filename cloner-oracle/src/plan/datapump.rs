//! The Data Pump route: a schema-mode `DBMS_DATAPUMP` import over a
//! loopback database link, with `REMAP_SCHEMA` from the template to the
//! clone.
//!
//! Data Pump copies every object type the server knows (object types,
//! materialized views, scheduler jobs, queues …) which the DDL route does
//! not; it costs a job start (a few seconds) per clone and needs more
//! privileges. The clone's user is created by the cloner first (with its
//! own password, privileges and quota), so the import leaves users,
//! grants to the user and quotas out, and drops segment attributes so the
//! clone lives in its own default tablespace.

use crate::plan::names::{ident, literal};

/// `CREATE DATABASE LINK` for the import: a private link of the cloner's
/// login, back to the same database, logging in as that login. Contains
/// the login's password: never put it in a message.
pub(crate) fn create_link(link: &str, user: &str, password: &str, connect_string: &str) -> String {
    format!(
        "CREATE DATABASE LINK {} CONNECT TO {} IDENTIFIED BY {} USING {}",
        ident(link),
        ident(user),
        ident(password),
        literal(connect_string)
    )
}

/// Drops the link made by [`create_link`].
pub(crate) fn drop_link(link: &str) -> String {
    format!("DROP DATABASE LINK {}", ident(link))
}

/// The PL/SQL block that imports schema `template` as `clone` over `link`
/// in a job named `link`, waits for it and returns its final state in
/// the bind `:state` (`COMPLETED` when it ran to the end).
pub(crate) fn import_block(link: &str, template: &str, clone: &str, parallel: u32) -> String {
    let template_list = literal(&literal(template));
    let exclude = literal(
        "IN ('USER', 'SYSTEM_GRANT', 'ROLE_GRANT', 'DEFAULT_ROLE', 'TABLESPACE_QUOTA', \
         'PASSWORD_HISTORY', 'DB_LINK')",
    );
    format!(
        "DECLARE
  h NUMBER;
  job_state VARCHAR2(30);
BEGIN
  h := DBMS_DATAPUMP.OPEN(operation => 'IMPORT', job_mode => 'SCHEMA', remote_link => {link_lit}, job_name => {link_lit});
  DBMS_DATAPUMP.METADATA_FILTER(h, 'SCHEMA_LIST', {template_list});
  DBMS_DATAPUMP.METADATA_FILTER(h, 'EXCLUDE_PATH_EXPR', {exclude});
  DBMS_DATAPUMP.METADATA_REMAP(h, 'REMAP_SCHEMA', {template_lit}, {clone_lit});
  DBMS_DATAPUMP.METADATA_TRANSFORM(h, 'SEGMENT_ATTRIBUTES', 0);
  DBMS_DATAPUMP.SET_PARALLEL(h, {parallel});
  DBMS_DATAPUMP.START_JOB(h);
  DBMS_DATAPUMP.WAIT_FOR_JOB(h, job_state);
  :state := job_state;
EXCEPTION
  WHEN OTHERS THEN
    BEGIN
      DBMS_DATAPUMP.STOP_JOB(h, 1, 0);
    EXCEPTION
      WHEN OTHERS THEN NULL;
    END;
    RAISE;
END;",
        link_lit = literal(link),
        template_lit = literal(template),
        clone_lit = literal(clone),
        parallel = parallel.max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::script::split_script;

    #[test]
    fn the_link_points_back_at_the_same_database() {
        assert_eq!(
            create_link(
                "PARACLONE_0A1B",
                "SYSTEM",
                "Secret7",
                "//db.example:1521/FREEPDB1"
            ),
            "CREATE DATABASE LINK \"PARACLONE_0A1B\" CONNECT TO \"SYSTEM\" IDENTIFIED BY \"Secret7\" \
             USING '//db.example:1521/FREEPDB1'"
        );
        assert_eq!(
            drop_link("PARACLONE_0A1B"),
            "DROP DATABASE LINK \"PARACLONE_0A1B\""
        );
    }

    #[test]
    fn the_import_remaps_the_template_schema_and_skips_the_user() {
        let block = import_block(
            "PARACLONE_0A1B",
            "o'neil shop_pc_tpl",
            "o'neil shop_pc_w1",
            2,
        );
        for part in [
            "DBMS_DATAPUMP.OPEN(operation => 'IMPORT', job_mode => 'SCHEMA', remote_link => 'PARACLONE_0A1B', \
             job_name => 'PARACLONE_0A1B')",
            // SCHEMA_LIST takes quoted names, inside a literal: the quote of
            // o'neil is doubled twice.
            "METADATA_FILTER(h, 'SCHEMA_LIST', '''o''''neil shop_pc_tpl''')",
            "METADATA_FILTER(h, 'EXCLUDE_PATH_EXPR', 'IN (''USER'', ''SYSTEM_GRANT'', ''ROLE_GRANT'', \
             ''DEFAULT_ROLE'', ''TABLESPACE_QUOTA'', ''PASSWORD_HISTORY'', ''DB_LINK'')')",
            "METADATA_REMAP(h, 'REMAP_SCHEMA', 'o''neil shop_pc_tpl', 'o''neil shop_pc_w1')",
            "METADATA_TRANSFORM(h, 'SEGMENT_ATTRIBUTES', 0)",
            "SET_PARALLEL(h, 2)",
            "START_JOB(h)",
            "WAIT_FOR_JOB(h, job_state)",
            ":state := job_state",
        ] {
            assert!(block.contains(part), "{part}\n{block}");
        }
        // One PL/SQL block, as the splitter sees it.
        let statements = split_script(&block);
        assert_eq!(statements.len(), 1);
        assert!(statements[0].plsql);
        assert!(import_block("L", "a", "b", 0).contains("SET_PARALLEL(h, 1)"));
    }
}
