//! [`SqliteCloner`]: the [`Cloner`] for SQLite database files.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cloner::naming;
use cloner::{Cloner, ClonerError, Connection, Migration};

use crate::files::{self, MAX_NAME_LEN};
use crate::options::{Method, SqliteOptions, Target};
use crate::url::url_from_path;
use crate::worker::IN_MEMORY_ENV;

/// Builds SQLite templates and clones them, one file per database
/// (`<dir>/<name>.sqlite3`).
#[derive(Debug, Clone)]
pub struct SqliteCloner {
    options: SqliteOptions,
    dir: PathBuf,
    method: Method,
}

impl SqliteCloner {
    /// A cloner for `options`. Resolves the directory (absolute; for
    /// [`Target::Ram`] the RAM directory, created here because that is how
    /// its writability is tested) and [`Method::Auto`].
    pub fn new(options: SqliteOptions) -> Result<SqliteCloner, ClonerError> {
        let home = std::path::absolute(&options.dir).map_err(|source| ClonerError::Io {
            op: "resolve directory",
            path: options.dir.clone(),
            source,
        })?;
        let dir = match options.target {
            Target::Disk => home,
            Target::Ram => ram_dir(&home)?,
        };
        Ok(SqliteCloner {
            method: options.method.resolve(),
            dir,
            options,
        })
    }

    /// The directory the database files live in, as chosen (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The clone method in use (never [`Method::Auto`]).
    pub fn method(&self) -> Method {
        self.method
    }

    /// The options this cloner was made with.
    pub fn options(&self) -> &SqliteOptions {
        &self.options
    }

    /// The file of database `name` (which need not exist).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}{}", files::EXTENSION))
    }

    /// Runs `work` with the database file of `name` on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        name: &str,
        work: impl FnOnce(PathBuf) -> Result<T, ClonerError> + Send + 'static,
    ) -> Result<T, ClonerError> {
        let path = files::database_path(&self.dir, name)?;
        tokio::task::spawn_blocking(move || work(path))
            .await
            .map_err(|join| ClonerError::Database {
                op: "run a file operation on",
                name: name.to_owned(),
                source: join.to_string().into(),
            })?
    }
}

/// Where database files go with [`Target::Ram`]: a directory named after
/// `home` inside `/dev/shm` when that is writable, else inside the
/// temporary directory.
fn ram_dir(home: &Path) -> Result<PathBuf, ClonerError> {
    let leaf = format!(
        "paraclone-{:016x}",
        fnv1a(home.as_os_str().as_encoded_bytes())
    );
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let dir = shm.join(&leaf);
        if std::fs::create_dir_all(&dir).is_ok() && writable(&dir) {
            return Ok(dir);
        }
    }
    let dir = std::env::temp_dir().join(leaf);
    std::fs::create_dir_all(&dir).map_err(|source| ClonerError::Io {
        op: "create directory",
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// Whether a file can be created in `dir` (a directory can exist and still
/// be read-only, for example one another user made).
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".paraclone-probe-{}", std::process::id()));
    let ok = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// FNV-1a: a hash that stays the same across Rust versions and platforms,
/// so every run of a project finds the same RAM directory.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[async_trait]
impl Cloner for SqliteCloner {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn server_version(&self) -> Result<String, ClonerError> {
        Ok(format!("SQLite {}", rusqlite::version()))
    }

    /// The number of CPUs: cloning is file I/O and page copying, which
    /// scales with cores until the storage saturates.
    fn concurrency_hint(&self) -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    fn max_name_len(&self) -> usize {
        MAX_NAME_LEN
    }

    /// Creates `<dir>/<name>.sqlite3` (and `dir`), applies `migrations` in
    /// order, and removes the file again if one fails. The returned
    /// connection never asks for in-memory workers: whoever sets the
    /// template up must write to its file.
    async fn create_template(
        &self,
        name: &str,
        migrations: &[Migration],
    ) -> Result<Connection, ClonerError> {
        let (owned, migrations) = (name.to_owned(), migrations.to_vec());
        self.blocking(name, move |path| {
            files::create_template(&path, &owned, &migrations)
        })
        .await?;
        Ok(self.connection(name))
    }

    /// Checkpoints a WAL into the main file, switches the template back to
    /// rollback journal mode, closes it and syncs it, so that a plain file
    /// copy is a faithful clone.
    async fn seal_template(&self, name: &str) -> Result<(), ClonerError> {
        let owned = name.to_owned();
        self.blocking(name, move |path| files::seal(&path, &owned))
            .await
    }

    async fn clone_database(&self, template: &str, name: &str) -> Result<Connection, ClonerError> {
        let template_path = files::database_path(&self.dir, template)?;
        let (method, template, owned) = (self.method, template.to_owned(), name.to_owned());
        self.blocking(name, move |path| {
            files::clone(method, &template_path, &template, &path, &owned)
        })
        .await?;
        Ok(self.connection(name))
    }

    async fn drop_database(&self, name: &str) -> Result<(), ClonerError> {
        self.blocking(name, |path| files::remove(&path)).await
    }

    async fn list_databases(&self, prefix: &str) -> Result<Vec<String>, ClonerError> {
        let dir = self.dir.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || files::list(&dir, &prefix))
            .await
            .map_err(|join| ClonerError::Database {
                op: "list databases in",
                name: self.dir.display().to_string(),
                source: join.to_string().into(),
            })?
    }

    /// `sqlite:///abs/dir/<name>.sqlite3`, the form sqlx and diesel accept
    /// (`%`, `?` and `#` percent-encoded). With in-memory workers, every
    /// database but a template also gets `PARACLONE_SQLITE_IN_MEMORY=1`.
    fn connection(&self, name: &str) -> Connection {
        let path = self.path(name);
        let is_template = naming::is_template(name);
        let extra_env = if self.options.in_memory_workers && !is_template {
            vec![(IN_MEMORY_ENV.to_owned(), "1".to_owned())]
        } else {
            Vec::new()
        };
        Connection {
            url: url_from_path(&path),
            name: name.to_owned(),
            host: None,
            port: None,
            user: None,
            password: None,
            path: Some(path),
            extra_env,
        }
    }

    fn server_label(&self) -> String {
        let target = match self.options.target {
            Target::Disk => "disk",
            Target::Ram => "RAM",
        };
        format!("files in {} ({target})", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ram_directory_depends_on_the_project_only() {
        let a = fnv1a(b"/home/me/project/target/paraclone");
        assert_eq!(a, fnv1a(b"/home/me/project/target/paraclone"));
        assert_ne!(a, fnv1a(b"/home/me/other/target/paraclone"));
        // The reference value of FNV-1a 64 for "a".
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn disk_directories_are_made_absolute() {
        let cloner = SqliteCloner::new(SqliteOptions::new("some/relative/dir")).unwrap();
        assert!(cloner.dir().is_absolute());
        assert!(cloner.dir().ends_with("some/relative/dir"));
        assert_eq!(cloner.method(), Method::Copy);
        assert_eq!(cloner.path("x"), cloner.dir().join("x.sqlite3"));
    }
}
