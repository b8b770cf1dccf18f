//! Which backends this build has, and opening a cloner for an alias.
//!
//! This is the only module that names backend crates, each behind its Cargo
//! feature. Everything else in the runner sees `dyn Cloner`.

use std::path::Path;
use std::sync::Arc;

use cloner::Cloner;

use crate::config::{BackendSettings, Located};
use crate::error::RunError;

/// The backends compiled into this build, in the order they are listed.
pub fn compiled() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "sqlite") {
        names.push("sqlite");
    }
    names
}

/// Opens the cloner for `backend`, configured from `settings` (relative
/// paths against `config_dir`) and the alias's own `url`.
pub(crate) fn open(
    backend: &Located<String>,
    url: Option<&str>,
    settings: &BackendSettings,
    config_dir: &Path,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    let _ = (url, settings, config_dir);
    match backend.value.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => sqlite(&settings.sqlite, config_dir, config_path),
        other => Err(RunError::BackendNotCompiled {
            backend: other.to_owned(),
            config: config_path.to_owned(),
            at: backend.at,
            compiled: compiled().join(", "),
        }),
    }
}

#[cfg(feature = "sqlite")]
fn sqlite(
    settings: &crate::config::SqliteSettings,
    config_dir: &Path,
    config_path: &Path,
) -> Result<Arc<dyn Cloner>, RunError> {
    use cloner_sqlite::{Method, SqliteCloner, SqliteOptions, Target};

    let bad = |key: &str, value: &str, allowed: &str| RunError::BadSetting {
        config: config_path.to_owned(),
        key: format!("backends.sqlite.{key}"),
        message: format!("{value:?} is not one of {allowed}"),
    };
    let target = match settings.target.as_deref().unwrap_or("disk") {
        "disk" => Target::Disk,
        "ram" => Target::Ram,
        other => return Err(bad("target", other, "\"disk\", \"ram\"")),
    };
    let method = match settings.method.as_deref().unwrap_or("auto") {
        "auto" => Method::Auto,
        "backup" => Method::Backup,
        "vacuum" => Method::Vacuum,
        "copy" => Method::Copy,
        other => {
            return Err(bad(
                "method",
                other,
                "\"auto\", \"backup\", \"vacuum\", \"copy\"",
            ));
        }
    };
    let dir = settings.dir.as_ref().map_or_else(
        || config_dir.join("target/paraclone/sqlite"),
        |d| config_dir.join(d),
    );
    let options = SqliteOptions {
        dir: normalize(&dir),
        target,
        method,
        in_memory_workers: settings.in_memory.unwrap_or(false),
    };
    let cloner = SqliteCloner::new(options).map_err(|source| RunError::Backend {
        alias: None,
        op: "open the sqlite backend",
        source,
    })?;
    Ok(Arc::new(cloner))
}

/// `a/b/../c` → `a/c`, without touching the file system (the directory may
/// not exist yet), so paths in messages and the ledger read cleanly.
fn normalize(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_lexically() {
        assert_eq!(
            normalize(Path::new("/w/examples/shop/../../target/./x")),
            Path::new("/w/target/x")
        );
        assert_eq!(normalize(Path::new("../a/../b")), Path::new("../b"));
    }
}
