//! Reading a migration tool's layout (diesel, sqlx, refinery) into
//! [`ToolMigration`]s, in the order the tool itself applies them.
//!
//! Each reader follows the tool's own directory scan (diesel_migrations
//! 2.3 `FileBasedMigrations`, sqlx-core 0.8 `resolve_blocking`,
//! refinery_core 0.8 `find_migration_files`): what the tool skips is
//! skipped, what it refuses is refused, so the template holds exactly
//! what the tool would have applied. The history table is not written
//! here: `cloner::migrator` turns these into statements.

use std::path::{Path, PathBuf};

use cloner::migrator::{PlanError, Tool, ToolMigration};

/// Why a directory is not a tool's migrations.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// A directory or file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// What was read.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// One entry breaks the tool's rules.
    #[error("{}: {problem}", path.display())]
    Entry {
        /// The entry.
        path: PathBuf,
        /// What is wrong, as the tool would say.
        problem: String,
    },
    /// Nothing in the directory is a migration of the tool.
    #[error("it holds no {tool} migration ({expected})")]
    Empty {
        /// The tool.
        tool: &'static str,
        /// The layout it looks for.
        expected: &'static str,
    },
    /// The migrations cannot be recorded in the tool's table.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The migrations of `dir` in `tool`'s layout and order.
pub(crate) fn read(tool: Tool, dir: &Path) -> Result<Vec<ToolMigration>, LayoutError> {
    let migrations = match tool {
        Tool::Diesel => diesel(dir)?,
        Tool::Sqlx => sqlx(dir)?,
        Tool::Refinery => refinery(dir)?,
    };
    if migrations.is_empty() {
        return Err(LayoutError::Empty {
            tool: tool.name(),
            expected: match tool {
                Tool::Diesel => "<version>_<name>/up.sql",
                Tool::Sqlx => "<version>_<description>.sql",
                Tool::Refinery => "V<version>__<name>.sql",
            },
        });
    }
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(LayoutError::Entry {
                path: PathBuf::from(&pair[1].file),
                problem: format!(
                    "has the version {} of {} too: {} records each version once",
                    pair[1].version,
                    pair[0].file,
                    tool.name()
                ),
            });
        }
    }
    Ok(migrations)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_owned(),
        source,
    }
}

fn entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, LayoutError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        out.push(entry.map_err(io(dir))?);
    }
    Ok(out)
}

fn read_sql(path: &Path) -> Result<String, LayoutError> {
    std::fs::read_to_string(path).map_err(io(path))
}

/// diesel: every directory not starting with `.` is a migration and must
/// hold `up.sql`; files beside them are ignored. The version is the name
/// up to the first `_` with every `-` removed, and diesel applies in the
/// order of those versions as strings (`2017-09-27-135928_x` is
/// `20170927135928`, after `20170721184144_y`, though its name sorts first).
fn diesel(dir: &Path) -> Result<Vec<ToolMigration>, LayoutError> {
    let mut out = Vec::new();
    for entry in entries(dir)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        // diesel asks the entry (a symbolic link is not followed).
        let metadata = entry.metadata().map_err(io(&entry.path()))?;
        if metadata.is_file() || name.starts_with('.') {
            continue;
        }
        let up = entry.path().join("up.sql");
        if !up.is_file() {
            return Err(LayoutError::Entry {
                path: entry.path(),
                problem: "has no up.sql: diesel's layout is <version>_<name>/up.sql".to_owned(),
            });
        }
        let sql = read_sql(&up)?;
        if sql.is_empty() {
            return Err(LayoutError::Entry {
                path: up,
                problem: "is empty, and diesel refuses to run an empty migration".to_owned(),
            });
        }
        let version = name.split('_').next().unwrap_or_default().replace('-', "");
        out.push(ToolMigration {
            file: up.display().to_string(),
            version,
            name,
            sql,
        });
    }
    out.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(out)
}

/// sqlx: every file `<version>_<rest>.sql` (an integer version); `.up.sql`
/// and plain `.sql` are applied, `.down.sql` is not; the description is the
/// rest without its suffix, `_` as spaces; applied in version order.
fn sqlx(dir: &Path) -> Result<Vec<ToolMigration>, LayoutError> {
    let mut out = Vec::new();
    for entry in entries(dir)? {
        let path = entry.path();
        // sqlx asks the path (a symbolic link is followed).
        if !std::fs::metadata(&path).map_err(io(&path))?.is_file() {
            continue;
        }
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((version, rest)) = file_name.split_once('_') else {
            continue;
        };
        if !rest.ends_with(".sql") {
            continue;
        }
        if rest.ends_with(".down.sql") {
            continue;
        }
        if version.parse::<i64>().is_err() {
            return Err(LayoutError::Entry {
                path,
                problem: "sqlx expects an integer version prefix (e.g. `01_foo.sql`)".to_owned(),
            });
        }
        let suffix = if rest.ends_with(".up.sql") {
            ".up.sql"
        } else {
            ".sql"
        };
        let description = rest.trim_end_matches(suffix).replace('_', " ");
        out.push(ToolMigration {
            file: path.display().to_string(),
            version: version.parse::<i64>().expect("checked").to_string(),
            name: description,
            sql: read_sql(&path)?,
        });
    }
    // Numerically: `3_…` before `20240102030405_…`.
    out.sort_by_key(|m| m.version.parse::<i64>().expect("parsed above"));
    Ok(out)
}

/// refinery: files named `V<version>__<name>.sql` or `U<version>__<name>.sql`
/// anywhere under the directory (it walks subdirectories), `name` of word
/// characters; other files are ignored; applied in version order.
fn refinery(dir: &Path) -> Result<Vec<ToolMigration>, LayoutError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in entries(&dir)? {
            let path = entry.path();
            let file_type = entry.file_type().map_err(io(&path))?;
            if file_type.is_dir() {
                stack.push(path);
                continue;
            }
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some((version, name)) = refinery_name(&file_name) else {
                continue;
            };
            let Ok(parsed) = version.parse::<i32>() else {
                return Err(LayoutError::Entry {
                    path,
                    problem: format!(
                        "version {version} is not a 32-bit integer, which refinery's table holds"
                    ),
                });
            };
            out.push(ToolMigration {
                file: path.display().to_string(),
                version: parsed.to_string(),
                name: name.to_owned(),
                sql: read_sql(&path)?,
            });
        }
    }
    out.sort_by_key(|m| m.version.parse::<i32>().expect("parsed above"));
    Ok(out)
}

/// `(U|V)<digits>__<word characters>.sql` → (version, name).
fn refinery_name(file_name: &str) -> Option<(&str, &str)> {
    let rest = file_name
        .strip_prefix('V')
        .or_else(|| file_name.strip_prefix('U'))?;
    let stem = rest.strip_suffix(".sql")?;
    let (version, name) = stem.split_once("__")?;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    (!version.is_empty()
        && version.chars().all(|c| c.is_ascii_digit())
        && !name.is_empty()
        && name.chars().all(word))
    .then_some((version, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn versions(migrations: &[ToolMigration]) -> Vec<(&str, &str)> {
        migrations
            .iter()
            .map(|m| (m.version.as_str(), m.name.as_str()))
            .collect()
    }

    #[test]
    fn diesel_orders_by_version_without_dashes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "2017-09-27-135928_x/up.sql", "X");
        write(dir.path(), "20170721184144_y/up.sql", "Y");
        write(dir.path(), "20170721184144_y/down.sql", "no");
        write(dir.path(), "README.md", "ignored");
        write(dir.path(), ".git/up.sql", "ignored");
        let m = read(Tool::Diesel, dir.path()).unwrap();
        assert_eq!(
            versions(&m),
            [
                ("20170721184144", "20170721184144_y"),
                ("20170927135928", "2017-09-27-135928_x")
            ]
        );
        assert_eq!(m[0].sql, "Y");
        write(dir.path(), "2018_z/down.sql", "no up");
        let err = read(Tool::Diesel, dir.path()).unwrap_err().to_string();
        assert!(
            err.ends_with("2018_z: has no up.sql: diesel's layout is <version>_<name>/up.sql"),
            "{err}"
        );
    }

    #[test]
    fn sqlx_orders_numerically_and_skips_down_migrations() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "20240102030405_seed_rows.sql", "S");
        write(dir.path(), "3_add_colour.up.sql", "U");
        write(dir.path(), "3_add_colour.down.sql", "D");
        write(dir.path(), "1_create.sql", "C");
        write(dir.path(), "notes.txt", "");
        write(dir.path(), "nounderscore.sql", "");
        let m = read(Tool::Sqlx, dir.path()).unwrap();
        assert_eq!(
            versions(&m),
            [
                ("1", "create"),
                ("3", "add colour"),
                ("20240102030405", "seed rows")
            ]
        );
        write(dir.path(), "x1_bad.sql", "");
        let err = read(Tool::Sqlx, dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("x1_bad.sql: sqlx expects an integer version prefix"),
            "{err}"
        );
    }

    #[test]
    fn refinery_walks_subdirectories_and_refuses_duplicate_versions() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "V10__later.sql", "L");
        write(dir.path(), "sub/V2__first_one.sql", "F");
        write(dir.path(), "U5__unversioned.sql", "U");
        write(dir.path(), "V3_single_underscore.sql", "ignored");
        let m = read(Tool::Refinery, dir.path()).unwrap();
        assert_eq!(
            versions(&m),
            [("2", "first_one"), ("5", "unversioned"), ("10", "later")]
        );
        write(dir.path(), "V2__again.sql", "A");
        let err = read(Tool::Refinery, dir.path()).unwrap_err().to_string();
        assert!(err.contains("has the version 2 of"), "{err}");
    }

    #[test]
    fn an_empty_directory_names_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(Tool::Sqlx, dir.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            "it holds no sqlx migration (<version>_<description>.sql)"
        );
    }
}
