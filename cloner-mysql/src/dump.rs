//! A `mysqldump`-compatible SQL file of a template.
//!
//! The file is what `mysqldump --routines --events --triggers --hex-blob
//! --complete-insert <template>` writes, near enough that the `mysql` and
//! `mariadb` clients load it into an existing database (`mariadb clone <
//! file`) and a reader recognises it: the same header of `/*!40101 SET …*/`
//! settings (UTF-8, `time_zone` `+00:00`, foreign key and unique checks
//! off, `sql_mode` `NO_AUTO_VALUE_ON_ZERO`), `DROP TABLE IF EXISTS` and
//! `CREATE TABLE` per table followed by its rows in multi-row `INSERT`s,
//! then routines and triggers in `DELIMITER ;;` blocks, views, events, and
//! a footer that restores the session. Unlike `mysqldump` it writes no
//! `DEFINER=` clauses (objects belong to whoever loads the file) and no
//! `LOCK TABLES`.

use cloner::quote::{Dialect, quote_ident};
use mysql_async::Conn;
use mysql_async::prelude::Queryable as _;
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::errors::{ObjectError, at};
use crate::restore::{BATCH_BYTES, push_row};
use crate::schema::{Kind, Program, Schema};

/// Why writing a dump failed.
#[derive(Debug)]
pub(crate) enum DumpFailure {
    /// Writing the file.
    Io(std::io::Error),
    /// Reading the template.
    Object(ObjectError),
}

impl From<std::io::Error> for DumpFailure {
    fn from(e: std::io::Error) -> DumpFailure {
        DumpFailure::Io(e)
    }
}

impl From<ObjectError> for DumpFailure {
    fn from(e: ObjectError) -> DumpFailure {
        DumpFailure::Object(e)
    }
}

const HEADER: &str = "\
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
";

const FOOTER: &str = "\
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;
";

/// Writes the dump of `template` (whose definition is `schema`) to `out`,
/// reading rows on `conn`, a session on the template set up by
/// [`crate::restore::session`].
pub(crate) async fn write<W: AsyncWrite + Unpin>(
    out: &mut W,
    conn: &mut Conn,
    schema: &Schema,
    template: &str,
    server_version: &str,
) -> Result<(), DumpFailure> {
    let name = ident(template);
    let mut head = format!(
        "-- paraclone dump of database {name} ({server_version}): load it into an existing \
         database\n-- with `mariadb <database> < <file>` or `mysql <database> < <file>`.\n--\n\
         -- Database defaults: CHARACTER SET {} COLLATE {}\n\n",
        schema.charset, schema.collation
    );
    head.push_str(HEADER);
    out.write_all(head.as_bytes()).await?;

    for table in &schema.tables {
        let t = ident(&table.name);
        out.write_all(
            format!(
                "\n--\n-- Table structure for table {t}\n--\n\nDROP TABLE IF EXISTS {t};\n{};\n",
                table.create
            )
            .as_bytes(),
        )
        .await?;
        if table.columns.is_empty() {
            continue;
        }
        let object = format!("dump the rows of table {t}");
        let prefix = format!("INSERT INTO {t} ({}) VALUES ", table.columns);
        let mut batch = Vec::new();
        let mut result = conn
            .query_iter(format!("SELECT {} FROM {t}", table.columns))
            .await
            .map_err(at(object.clone(), "SELECT"))?;
        let mut wrote_header = false;
        while let Some(row) = result.next().await.map_err(at(object.clone(), "SELECT"))? {
            if !wrote_header {
                out.write_all(format!("\n--\n-- Dumping data for table {t}\n--\n\n").as_bytes())
                    .await?;
                wrote_header = true;
            }
            batch.extend_from_slice(if batch.is_empty() {
                prefix.as_bytes()
            } else {
                b","
            });
            push_row(&mut batch, &row);
            if batch.len() >= BATCH_BYTES {
                batch.extend_from_slice(b";\n");
                out.write_all(&batch).await?;
                batch.clear();
            }
        }
        drop(result);
        if !batch.is_empty() {
            batch.extend_from_slice(b";\n");
            out.write_all(&batch).await?;
        }
    }

    if !schema.routines.is_empty() {
        out.write_all(b"\n--\n-- Dumping routines\n--\n").await?;
        for routine in &schema.routines {
            write_program(out, routine).await?;
        }
    }
    if !schema.views.is_empty() {
        out.write_all(b"\n--\n-- Views\n--\n").await?;
        for view in &schema.views {
            write_program(out, view).await?;
        }
    }
    if !schema.triggers.is_empty() {
        out.write_all(b"\n--\n-- Triggers\n--\n").await?;
        for trigger in &schema.triggers {
            write_program(out, trigger).await?;
        }
    }
    if !schema.events.is_empty() {
        out.write_all(b"\n--\n-- Dumping events\n--\n").await?;
        for event in &schema.events {
            write_program(out, event).await?;
        }
    }
    out.write_all(b"\n").await?;
    out.write_all(FOOTER.as_bytes()).await?;
    out.write_all(b"\n-- Dump completed\n").await?;
    out.flush().await?;
    Ok(())
}

/// One view, routine, trigger or event in a `DELIMITER ;;` block, under
/// the settings it was created with, and the dump's settings restored
/// after it.
async fn write_program<W: AsyncWrite + Unpin>(out: &mut W, p: &Program) -> std::io::Result<()> {
    let drop = match p.kind {
        Kind::View => format!("DROP VIEW IF EXISTS {}", ident(&p.name)),
        Kind::Procedure | Kind::Function | Kind::Event => {
            format!("DROP {} IF EXISTS {}", p.kind.keyword(), ident(&p.name))
        }
        Kind::Trigger => format!("DROP TRIGGER IF EXISTS {}", ident(&p.name)),
    };
    let mut text = format!(
        "\n-- {}\nDELIMITER ;;\n{drop};;\n{};;\n",
        p.describe(),
        p.session_settings()
    )
    .into_bytes();
    text.extend_from_slice(&p.create);
    text.extend_from_slice(
        b";;\nDELIMITER ;\n/*!40101 SET NAMES utf8mb4 */;\n\
          /*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n/*!40103 SET TIME_ZONE='+00:00' */;\n",
    );
    out.write_all(&text).await
}

fn ident(name: &str) -> String {
    quote_ident(Dialect::Mysql, name)
}
