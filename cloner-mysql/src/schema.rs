//! [`Schema`]: everything about a template except its rows, read once.
//!
//! Tables come from `SHOW CREATE TABLE` (which carries indexes, foreign
//! keys, check constraints, per-table and per-column character sets and
//! collations, and the `AUTO_INCREMENT` counter); views, routines,
//! triggers and events from their `SHOW CREATE …`, fetched the way
//! `mysqldump` fetches them: with `character_set_results = binary`, so
//! that their text comes back in the character set it was written in, and
//! with the `sql_mode`, `character_set_client`, `collation_connection` (and
//! for events `time_zone`) they were created under, to be replayed the same
//! way. `DEFINER=` clauses are stripped: objects in a clone belong to the
//! login that makes it, which need not be allowed to name another definer.

use std::collections::HashMap;

use cloner::quote::{Dialect, quote_ident};
use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Row, Value};

use crate::errors::{ObjectError, at};

/// The session settings every cloner session that reads or writes table
/// definitions and rows uses, whatever the server's defaults:
///
/// - `sql_mode` `NO_AUTO_VALUE_ON_ZERO` (and nothing else, as `mysqldump`
///   does): a row whose AUTO_INCREMENT column holds 0 keeps its 0, string
///   literals take backslash escapes, identifiers are quoted with
///   backticks, and no strictness setting can refuse what the template
///   already holds;
/// - `time_zone` `+00:00`: `TIMESTAMP` values are stored in UTC and
///   converted to and from the session's time zone, so a copy made under a
///   fixed offset round-trips every value, also those a zone with daylight
///   saving time cannot represent.
pub(crate) const SESSION_SETUP: &str = "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', sql_quote_show_create = 1, \
     time_zone = '+00:00'";

/// The `sql_mode` of [`SESSION_SETUP`], restored after replaying objects
/// under their own modes.
pub(crate) const BASE_SQL_MODE: &str = "NO_AUTO_VALUE_ON_ZERO";

/// A template's definition.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    /// The database's default character set.
    pub(crate) charset: String,
    /// The database's default collation.
    pub(crate) collation: String,
    /// Base tables (and MariaDB sequences), in name order.
    pub(crate) tables: Vec<Table>,
    /// Stored procedures and functions.
    pub(crate) routines: Vec<Program>,
    /// Views, ordered so that a view comes after the views it reads.
    pub(crate) views: Vec<Program>,
    /// Triggers, per table and event in their firing order.
    pub(crate) triggers: Vec<Program>,
    /// Events.
    pub(crate) events: Vec<Program>,
}

/// One base table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// Its name.
    pub(crate) name: String,
    /// `SHOW CREATE TABLE`, with the table unqualified and the
    /// `AUTO_INCREMENT=` option the template's counter had.
    pub(crate) create: String,
    /// The columns that hold data (generated columns are computed, and the
    /// server refuses values for them), quoted and comma-separated.
    pub(crate) columns: String,
}

/// What kind of stored object a [`Program`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    View,
    Procedure,
    Function,
    Trigger,
    Event,
}

impl Kind {
    /// The keyword in `CREATE …` and `SHOW CREATE …`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Kind::View => "VIEW",
            Kind::Procedure => "PROCEDURE",
            Kind::Function => "FUNCTION",
            Kind::Trigger => "TRIGGER",
            Kind::Event => "EVENT",
        }
    }

    /// The privilege creating one needs, named when the server only says
    /// "access denied" for the database.
    pub(crate) fn privilege(self) -> &'static str {
        match self {
            Kind::View => "CREATE VIEW",
            Kind::Procedure | Kind::Function => "CREATE ROUTINE",
            Kind::Trigger => "TRIGGER",
            Kind::Event => "EVENT",
        }
    }

    /// `view`, `procedure`, … for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::View => "view",
            Kind::Procedure => "procedure",
            Kind::Function => "function",
            Kind::Trigger => "trigger",
            Kind::Event => "event",
        }
    }
}

/// A view, routine, trigger or event: its `CREATE` statement and the
/// session settings to replay it under.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    /// What it is.
    pub(crate) kind: Kind,
    /// Its name.
    pub(crate) name: String,
    /// The `CREATE` statement without its `DEFINER=` clause, in the
    /// character set `charset_client` names (not necessarily UTF-8).
    pub(crate) create: Vec<u8>,
    /// The `sql_mode` it was created under (views have none).
    pub(crate) sql_mode: Option<String>,
    /// `character_set_client` at creation.
    pub(crate) charset_client: String,
    /// `collation_connection` at creation.
    pub(crate) collation_connection: String,
    /// The event's time zone (events only).
    pub(crate) time_zone: Option<String>,
}

impl Program {
    /// `trigger `orders_audit``, for messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} {}",
            self.kind.noun(),
            quote_ident(Dialect::Mysql, &self.name)
        )
    }

    /// The `SET SESSION …` that recreates its creation settings; every
    /// value is a name or mode list the server printed (letters, digits,
    /// `_`, `,`, `+`, `-`, `:`, `/`), quoted all the same.
    pub(crate) fn session_settings(&self) -> String {
        let mut sql = format!(
            "SET SESSION sql_mode = {}, character_set_client = {}, collation_connection = {}",
            literal(self.sql_mode.as_deref().unwrap_or(BASE_SQL_MODE)),
            literal(&self.charset_client),
            literal(&self.collation_connection),
        );
        if let Some(zone) = &self.time_zone {
            sql.push_str(", time_zone = ");
            sql.push_str(&literal(zone));
        }
        sql
    }
}

/// A string literal for a value the server printed.
pub(crate) fn literal(text: &str) -> String {
    cloner::quote::quote_literal(Dialect::Mysql, text)
}

/// What reading a template found wrong.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The template does not exist (or the login cannot see it).
    Missing,
    /// A statement failed.
    Failed(ObjectError),
    /// The template holds something the backend cannot copy.
    Unsupported(&'static str),
}

impl From<ObjectError> for ReadError {
    fn from(e: ObjectError) -> ReadError {
        ReadError::Failed(e)
    }
}

/// Reads the definition of `database` on `conn` (a fresh session, which is
/// left with `database` as its default database).
pub(crate) async fn read(conn: &mut Conn, database: &str) -> Result<Schema, ReadError> {
    let quoted = quote_ident(Dialect::Mysql, database);
    let found: Option<Row> = conn
        .exec_first(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
             FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (database,),
        )
        .await
        .map_err(at("look up the template", "SELECT"))?;
    let Some(row) = found else {
        return Err(ReadError::Missing);
    };
    let charset = text(&row, 0).unwrap_or_default();
    let collation = text(&row, 1).unwrap_or_default();
    // `USE` makes every SHOW CREATE print names of this database
    // unqualified, so that the statements recreate objects in any database.
    conn.query_drop(format!("{SESSION_SETUP}; USE {quoted}"))
        .await
        .map_err(at("open the template", "SELECT"))?;

    let listed: Vec<Row> = conn
        .query("SHOW FULL TABLES")
        .await
        .map_err(at("list the tables", "SELECT"))?;
    let mut table_names = Vec::new();
    let mut view_names = Vec::new();
    for row in &listed {
        let name = text(row, 0).unwrap_or_default();
        match text(row, 1).as_deref() {
            Some("VIEW") => view_names.push(name),
            Some("BASE TABLE" | "SEQUENCE") => table_names.push(name),
            // `SYSTEM VERSIONED` and other kinds.
            Some(_) | None => return Err(ReadError::Unsupported("tables of this kind")),
        }
    }
    table_names.sort();
    view_names.sort();

    let columns: Vec<Row> = conn
        .exec(
            "SELECT TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
            (database,),
        )
        .await
        .map_err(at("list the columns", "SELECT"))?;
    let mut data_columns: HashMap<String, Vec<String>> = HashMap::new();
    for row in &columns {
        let extra = text(row, 2).unwrap_or_default().to_ascii_uppercase();
        // MySQL: `VIRTUAL GENERATED`, `STORED GENERATED`; MariaDB also
        // `PERSISTENT GENERATED`. Not `DEFAULT_GENERATED`, which is a
        // column with an expression default (MySQL 8) that holds data.
        let generated = [
            "VIRTUAL GENERATED",
            "STORED GENERATED",
            "PERSISTENT GENERATED",
        ]
        .iter()
        .any(|g| extra.contains(g));
        if !generated {
            data_columns
                .entry(text(row, 0).unwrap_or_default())
                .or_default()
                .push(quote_ident(
                    Dialect::Mysql,
                    &text(row, 1).unwrap_or_default(),
                ));
        }
    }

    let mut tables = Vec::with_capacity(table_names.len());
    for name in table_names {
        let object = format!("read table {}", quote_ident(Dialect::Mysql, &name));
        let row: Option<Row> = conn
            .query_first(format!(
                "SHOW CREATE TABLE {}",
                quote_ident(Dialect::Mysql, &name)
            ))
            .await
            .map_err(at(object.clone(), "SELECT"))?;
        let create = row.as_ref().and_then(|r| text(r, 1)).unwrap_or_default();
        let columns = data_columns.remove(&name).unwrap_or_default().join(", ");
        tables.push(Table {
            name,
            create,
            columns,
        });
    }

    let routine_rows: Vec<Row> = conn
        .exec(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
            (database,),
        )
        .await
        .map_err(at("list the routines", "SELECT"))?;
    let mut routine_names = Vec::new();
    for row in &routine_rows {
        let kind = match text(row, 1).as_deref() {
            Some("PROCEDURE") => Kind::Procedure,
            Some("FUNCTION") => Kind::Function,
            // MariaDB's Oracle-mode packages.
            _ => return Err(ReadError::Unsupported("stored packages")),
        };
        routine_names.push((kind, text(row, 0).unwrap_or_default()));
    }
    let trigger_rows: Vec<Row> = conn
        .exec(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? \
             ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER",
            (database,),
        )
        .await
        .map_err(at("list the triggers", "TRIGGER"))?;
    let trigger_names: Vec<String> = trigger_rows
        .iter()
        .map(|r| text(r, 0).unwrap_or_default())
        .collect();
    // SHOW EVENTS, unlike information_schema.EVENTS, fails without the
    // EVENT privilege instead of showing nothing, so that events are never
    // silently left out.
    let event_rows: Vec<Row> = conn
        .query("SHOW EVENTS")
        .await
        .map_err(at("list the events", "EVENT"))?;
    let mut event_names: Vec<String> = event_rows
        .iter()
        .map(|r| text(r, 1).unwrap_or_default())
        .collect();
    event_names.sort();

    conn.query_drop("SET SESSION character_set_results = binary")
        .await
        .map_err(at("read definitions in their own character set", "SELECT"))?;
    let mut views = Vec::with_capacity(view_names.len());
    for name in view_names {
        views.push(show_create(conn, Kind::View, &name).await?);
    }
    let views = dependency_order(views);
    let mut routines = Vec::with_capacity(routine_names.len());
    for (kind, name) in routine_names {
        routines.push(show_create(conn, kind, &name).await?);
    }
    let mut triggers = Vec::with_capacity(trigger_names.len());
    for name in trigger_names {
        triggers.push(show_create(conn, Kind::Trigger, &name).await?);
    }
    let mut events = Vec::with_capacity(event_names.len());
    for name in event_names {
        events.push(show_create(conn, Kind::Event, &name).await?);
    }
    conn.query_drop("SET SESSION character_set_results = utf8mb4")
        .await
        .map_err(at("read definitions", "SELECT"))?;
    Ok(Schema {
        charset,
        collation,
        tables,
        routines,
        views,
        triggers,
        events,
    })
}

/// `SHOW CREATE <kind> name`, on a session with binary results.
async fn show_create(conn: &mut Conn, kind: Kind, name: &str) -> Result<Program, ReadError> {
    let object = format!("read {} {}", kind.noun(), quote_ident(Dialect::Mysql, name));
    let row: Option<Row> = conn
        .query_first(format!(
            "SHOW CREATE {} {}",
            kind.keyword(),
            quote_ident(Dialect::Mysql, name)
        ))
        .await
        .map_err(at(object.clone(), kind.privilege()))?;
    let row = row.ok_or_else(|| {
        ObjectError::new(
            object.clone(),
            kind.privilege(),
            "the server returned no row",
        )
    })?;
    // Column layouts, as MySQL 5.7+/8 and MariaDB 10.x print them:
    // VIEW      View, Create View, character_set_client, collation_connection
    // PROCEDURE Procedure, sql_mode, Create Procedure, character_set_client, collation_connection, …
    // TRIGGER   Trigger, sql_mode, SQL Original Statement, character_set_client, collation_connection, …
    // EVENT     Event, sql_mode, time_zone, Create Event, character_set_client, collation_connection, …
    let (create, sql_mode, time_zone, cs) = match kind {
        Kind::View => (1, None, None, 2),
        Kind::Procedure | Kind::Function | Kind::Trigger => (2, Some(1), None, 3),
        Kind::Event => (3, Some(1), Some(2), 4),
    };
    let Some(statement) = bytes(&row, create) else {
        // The server hides a routine's body from a login that may run it
        // but not read it.
        return Err(ReadError::Failed(ObjectError::denied(
            object,
            "SHOW CREATE ROUTINE (or global SELECT)",
            "the server hides the definition from this login, which is not its definer",
        )));
    };
    Ok(Program {
        kind,
        name: name.to_owned(),
        create: strip_definer(&statement, kind),
        sql_mode: sql_mode.map(|i| text(&row, i).unwrap_or_default()),
        charset_client: text(&row, cs).unwrap_or_else(|| "utf8mb4".to_owned()),
        collation_connection: text(&row, cs + 1).unwrap_or_else(|| "utf8mb4_general_ci".to_owned()),
        time_zone: time_zone.map(|i| text(&row, i).unwrap_or_else(|| "SYSTEM".to_owned())),
    })
}

/// Column `index` of `row` as bytes; `None` for NULL.
pub(crate) fn bytes(row: &Row, index: usize) -> Option<Vec<u8>> {
    match row.as_ref(index)? {
        Value::NULL => None,
        Value::Bytes(b) => Some(b.clone()),
        other => Some(other.as_sql(false).into_bytes()),
    }
}

/// Column `index` of `row` as text; `None` for NULL.
pub(crate) fn text(row: &Row, index: usize) -> Option<String> {
    bytes(row, index).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `statement` without its `DEFINER=user@host` clause, which only appears
/// between `CREATE` and the object's keyword.
pub(crate) fn strip_definer(statement: &[u8], kind: Kind) -> Vec<u8> {
    let lower = statement.to_ascii_lowercase();
    let keyword = kind.keyword().to_ascii_lowercase();
    let Some(keyword_at) = find(&lower, format!(" {keyword} ").as_bytes())
        .or_else(|| find(&lower, format!(" {keyword}`").as_bytes()))
    else {
        return statement.to_vec();
    };
    let Some(start) = find(&lower[..keyword_at], b"definer") else {
        return statement.to_vec();
    };
    let mut i = start + "definer".len();
    let skip_spaces = |i: &mut usize| {
        while *i < statement.len() && statement[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_spaces(&mut i);
    if statement.get(i) != Some(&b'=') {
        return statement.to_vec();
    }
    i += 1;
    skip_spaces(&mut i);
    i = skip_account_part(statement, i);
    if statement.get(i) == Some(&b'@') {
        i = skip_account_part(statement, i + 1);
    } else if statement[i..].starts_with(b"()") {
        // CURRENT_USER()
        i += 2;
    }
    skip_spaces(&mut i);
    let mut out = statement[..start].to_vec();
    out.extend_from_slice(&statement[i..]);
    out
}

/// The end of a user or host name at `i`: quoted with backticks or single
/// or double quotes (the quote doubled inside), or bare up to `@`, a space
/// or `(`.
fn skip_account_part(s: &[u8], mut i: usize) -> usize {
    match s.get(i) {
        Some(&q @ (b'`' | b'\'' | b'"')) => {
            i += 1;
            while i < s.len() {
                if s[i] == b'\\' && q != b'`' {
                    i += 2;
                } else if s[i] == q {
                    if s.get(i + 1) == Some(&q) {
                        i += 2;
                    } else {
                        return i + 1;
                    }
                } else {
                    i += 1;
                }
            }
            i.min(s.len())
        }
        _ => {
            while i < s.len() && !matches!(s[i], b'@' | b'(') && !s[i].is_ascii_whitespace() {
                i += 1;
            }
            i
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Orders views so that each comes after the views its text names
/// (`SHOW CREATE VIEW` quotes every name with backticks); a cycle, which
/// only a coincidence of names can produce, keeps the remaining views in
/// name order. The clone still retries views until none fails, so the
/// order is an optimisation, not a promise.
fn dependency_order(views: Vec<Program>) -> Vec<Program> {
    let quoted: Vec<Vec<u8>> = views
        .iter()
        .map(|v| quote_ident(Dialect::Mysql, &v.name).into_bytes())
        .collect();
    let depends = |a: usize, b: usize| -> bool {
        // Skip the view's own name in `CREATE … VIEW `name` AS`.
        let body = match find(&views[a].create, b" AS ") {
            Some(at) => &views[a].create[at..],
            None => &views[a].create[..],
        };
        a != b && find(body, &quoted[b]).is_some()
    };
    let mut placed = vec![false; views.len()];
    let mut order = Vec::with_capacity(views.len());
    while order.len() < views.len() {
        let ready = (0..views.len())
            .find(|&a| !placed[a] && (0..views.len()).all(|b| placed[b] || !depends(a, b)));
        let next = ready.unwrap_or_else(|| (0..views.len()).find(|&a| !placed[a]).expect("left"));
        placed[next] = true;
        order.push(next);
    }
    let mut slots: Vec<Option<Program>> = views.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each view once"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str, kind: Kind) -> String {
        String::from_utf8(strip_definer(s.as_bytes(), kind)).unwrap()
    }

    #[test]
    fn definers_are_stripped_in_every_form() {
        assert_eq!(
            strip(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1",
                Kind::View
            ),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"
        );
        assert_eq!(
            strip(
                "CREATE DEFINER=`a``b`@`%` TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 'DEFINER=`x`@`y`'",
                Kind::Trigger
            ),
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 'DEFINER=`x`@`y`'"
        );
        assert_eq!(
            strip(
                "CREATE DEFINER='app'@'10.0.0.%' PROCEDURE `p`() DO 1",
                Kind::Procedure
            ),
            "CREATE PROCEDURE `p`() DO 1"
        );
        assert_eq!(
            strip(
                "CREATE DEFINER=CURRENT_USER() FUNCTION f() RETURNS INT RETURN 1",
                Kind::Function
            ),
            "CREATE FUNCTION f() RETURNS INT RETURN 1"
        );
        assert_eq!(
            strip(
                "CREATE DEFINER=root@localhost EVENT e ON SCHEDULE EVERY 1 DAY DO DO 0",
                Kind::Event
            ),
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DO 0"
        );
        // Nothing to strip.
        assert_eq!(
            strip(
                "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET @definer=1",
                Kind::Trigger
            ),
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET @definer=1"
        );
    }

    #[test]
    fn definers_in_other_character_sets_keep_the_body_bytes() {
        let statement =
            b"CREATE DEFINER=`root`@`%` TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a='\xe9'";
        assert_eq!(
            strip_definer(statement, Kind::Trigger),
            b"CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a='\xe9'".to_vec()
        );
    }

    fn view(name: &str, body: &str) -> Program {
        Program {
            kind: Kind::View,
            name: name.to_owned(),
            create: format!("CREATE VIEW `{name}` AS {body}").into_bytes(),
            sql_mode: None,
            charset_client: "utf8mb4".to_owned(),
            collation_connection: "utf8mb4_general_ci".to_owned(),
            time_zone: None,
        }
    }

    #[test]
    fn views_come_after_the_views_they_read() {
        let views = vec![
            view("a_top", "select * from `m_middle`"),
            view("b_alone", "select 2 AS `y`"),
            view("m_middle", "select * from `z_base` join `t`"),
            view("z_base", "select 1 AS `x`"),
        ];
        let order: Vec<String> = dependency_order(views)
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(order, ["b_alone", "z_base", "m_middle", "a_top"]);
        let cycle = vec![
            view("a", "select * from `b`"),
            view("b", "select * from `a`"),
        ];
        assert_eq!(dependency_order(cycle).len(), 2);
    }

    #[test]
    fn settings_replay_the_creation_session() {
        let mut p = view("v", "select 1");
        p.kind = Kind::Event;
        p.sql_mode = Some("STRICT_TRANS_TABLES".to_owned());
        p.time_zone = Some("+05:30".to_owned());
        assert_eq!(
            p.session_settings(),
            "SET SESSION sql_mode = 'STRICT_TRANS_TABLES', character_set_client = 'utf8mb4', \
             collation_connection = 'utf8mb4_general_ci', time_zone = '+05:30'"
        );
        assert_eq!(p.describe(), "event `v`");
    }
}
