//! Finding the server programs installed on the machine, and their
//! versions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Kind;
use crate::error::RunError;
use crate::spawn::{self, ChildSpec, Exit, Limits};

/// Which program family a MySQL-protocol server is: they initialise a
/// data directory differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Postgres,
    /// `mariadb-install-db` (or `mysql_install_db`) makes the directory.
    Mariadb,
    /// `mysqld --initialize-insecure` makes it.
    Mysql,
}

/// A server's programs.
#[derive(Clone, Debug)]
pub(crate) struct Programs {
    pub(crate) flavor: Flavor,
    /// For messages: "PostgreSQL 15.20", "MariaDB 10.11.19".
    pub(crate) name: String,
    /// What the server program says of its version (one line).
    pub(crate) version: String,
    /// What makes a data directory (`initdb`, `mariadb-install-db`; for
    /// MySQL the server itself).
    pub(crate) init: PathBuf,
    /// The server (`postgres`, `mariadbd`, `mysqld`).
    pub(crate) server: PathBuf,
}

impl Programs {
    /// Finds the programs of a `kind` server: on `PATH` first, then where
    /// `pg_config --bindir` says (PostgreSQL), then where the usual
    /// packages put them (Debian's `/usr/lib/postgresql/<major>/bin` and
    /// `/usr/sbin`, Homebrew's `opt/<formula>/bin`). None found is an error
    /// naming the package to install.
    /// With `only` (`bin_dir`), there only.
    pub(crate) async fn find(kind: Kind, only: Option<&Path>) -> Result<Programs, RunError> {
        match kind {
            Kind::Postgres => postgres(only).await,
            Kind::Mysql => mysql(only).await,
        }
    }
}

async fn postgres(only: Option<&Path>) -> Result<Programs, RunError> {
    let has_both = |d: &PathBuf| executable(&d.join("initdb")) && executable(&d.join("postgres"));
    let mut dirs = Vec::new();
    if let Some(dir) = only {
        dirs.push(dir.to_owned());
    } else {
        dirs.extend(path_dirs());
        // A program to run: asked only when PATH has none.
        if !dirs.iter().any(has_both)
            && let Some(dir) = pg_config_bindir().await
        {
            dirs.push(dir);
        }
        dirs.extend(versioned_dirs(Path::new("/usr/lib/postgresql"), "", "bin"));
        for prefix in ["/opt/homebrew/opt", "/usr/local/opt"] {
            dirs.extend(versioned_dirs(Path::new(prefix), "postgresql@", "bin"));
            dirs.push(Path::new(prefix).join("postgresql/bin"));
        }
        dirs.push("/usr/local/pgsql/bin".into());
    }
    let Some(dir) = dirs.iter().find(|d| has_both(d)) else {
        return Err(missing(
            Kind::Postgres,
            "the PostgreSQL server programs (initdb, postgres)",
            "Debian/Ubuntu: `apt install postgresql`; Fedora: `dnf install \
             postgresql-server`; macOS: `brew install postgresql@17`; or put the directory \
             that has initdb and postgres on PATH",
        ));
    };
    let server = dir.join("postgres");
    let version = version_of(Kind::Postgres, &server).await?;
    // "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    let number = version
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_owned();
    Ok(Programs {
        flavor: Flavor::Postgres,
        name: format!("PostgreSQL {number}").trim().to_owned(),
        version,
        init: dir.join("initdb"),
        server,
    })
}

async fn mysql(only: Option<&Path>) -> Result<Programs, RunError> {
    let mut dirs = Vec::new();
    if let Some(dir) = only {
        dirs.push(dir.to_owned());
    } else {
        dirs.extend(path_dirs());
    }
    dirs.extend(
        [
            "/usr/sbin",
            "/usr/local/sbin",
            "/usr/local/mysql/bin",
            "/opt/homebrew/opt/mariadb/bin",
            "/usr/local/opt/mariadb/bin",
            "/opt/homebrew/opt/mysql/bin",
            "/usr/local/opt/mysql/bin",
        ]
        .map(PathBuf::from)
        .into_iter()
        .filter(|_| only.is_none()),
    );
    let server = dirs
        .iter()
        .flat_map(|d| [d.join("mariadbd"), d.join("mysqld")])
        .find(|p| executable(p));
    let Some(server) = server else {
        return Err(missing(
            Kind::Mysql,
            "a MariaDB or MySQL server program (mariadbd, mysqld)",
            "Debian/Ubuntu: `apt install mariadb-server`; Fedora: `dnf install \
             mariadb-server`; macOS: `brew install mariadb`; or put the directory that has \
             mariadbd on PATH",
        ));
    };
    let version = version_of(Kind::Mysql, &server).await?;
    // "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu …",
    // "mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)"
    let number = version
        .split_whitespace()
        .skip_while(|w| *w != "Ver")
        .nth(1)
        .unwrap_or_default();
    let mariadb = version.contains("MariaDB");
    let number = number.split('-').next().unwrap_or_default();
    if !mariadb {
        return Ok(Programs {
            flavor: Flavor::Mysql,
            name: format!("MySQL {number}"),
            version,
            init: server.clone(),
            server,
        });
    }
    let beside = server.parent().map(Path::to_owned).into_iter();
    // Debian puts the server in /usr/sbin and mariadb-install-db in /usr/bin.
    let usual = ["/usr/bin", "/usr/local/bin"]
        .map(PathBuf::from)
        .into_iter()
        .filter(|_| only.is_none());
    let init = beside
        .chain(dirs.iter().cloned())
        .chain(usual)
        .flat_map(|d| [d.join("mariadb-install-db"), d.join("mysql_install_db")])
        .find(|p| executable(p));
    let Some(init) = init else {
        return Err(missing(
            Kind::Mysql,
            "mariadb-install-db (it makes a MariaDB data directory)",
            "Debian/Ubuntu: `apt install mariadb-server`; or put the directory that has it on \
             PATH",
        ));
    };
    Ok(Programs {
        flavor: Flavor::Mariadb,
        name: format!("MariaDB {number}"),
        version,
        init,
        server,
    })
}

fn missing(kind: Kind, what: &str, install: &str) -> RunError {
    super::failed(
        kind,
        format!("{what} not found on PATH or where packages install them. {install}"),
    )
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

/// `<root>/<prefix><version>/<sub>` for every version there, newest first.
fn versioned_dirs(root: &Path, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u64>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u64> = version
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, e.path().join(sub)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Limits for the quick programs asked here.
fn quick() -> Limits {
    Limits {
        timeout: Some(Duration::from_secs(20)),
        grace: Duration::from_millis(100),
        soft_stop: CancellationToken::new(),
        hard_stop: CancellationToken::new(),
    }
}

/// `pg_config --bindir`, where a `pg_config` is on `PATH` and answers.
async fn pg_config_bindir() -> Option<PathBuf> {
    let pg_config = path_dirs()
        .into_iter()
        .map(|d| d.join("pg_config"))
        .find(|p| executable(p))?;
    let spec = ChildSpec::new(pg_config, std::env::temp_dir()).arg("--bindir");
    let finished = spawn::run(&spec, &quick(), None).await.ok()?;
    (finished.exit == Exit::Code(0))
        .then(|| PathBuf::from(String::from_utf8_lossy(&finished.output).trim()))
}

/// The first line `program --version` prints.
async fn version_of(kind: Kind, program: &Path) -> Result<String, RunError> {
    let spec = ChildSpec::new(program, std::env::temp_dir()).arg("--version");
    let failed = |why: String| {
        super::failed(
            kind,
            format!("could not ask {} its version: {why}", program.display()),
        )
    };
    let finished = spawn::run(&spec, &quick(), None)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if finished.exit != Exit::Code(0) {
        return Err(failed(format!("{:?}", finished.exit)));
    }
    Ok(String::from_utf8_lossy(&finished.output)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_directories_come_newest_first() {
        let root = tempfile::tempdir().unwrap();
        for v in ["9.6", "15", "13", "16", "notes"] {
            std::fs::create_dir_all(root.path().join(v).join("bin")).unwrap();
        }
        let found = versioned_dirs(root.path(), "", "bin");
        let names: Vec<_> = found
            .iter()
            .map(|p| p.parent().unwrap().file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["16", "15", "13", "9.6"]);
    }
}
