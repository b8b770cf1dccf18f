//! Template reuse between runs (`--reuse`): the fingerprint of what makes a
//! template what it is, the registry of kept templates, and their locks.
//!
//! A kept template is a database named `<base>_pct<fingerprint prefix>`
//! (`cloner::naming::kept_template_name`). It may be reused only if it was
//! *sealed*: its record, `<state_dir>/templates/<alias>-<fingerprint>.json`,
//! is written (to a temporary file, then renamed) only after the template
//! was built to the end, and a run reuses it only when both the record and
//! the database on the server are there. A name on the server without a
//! record is a build that was stopped: it is dropped and built again.
//!
//! Two lock files per fingerprint, next to the record, hold it together:
//!
//! - `<alias>-<fingerprint>.build`: exclusive while a run looks for the
//!   template and, on a miss, builds it, so two runs with one fingerprint
//!   never build twice: the second waits, then finds the record;
//! - `<alias>-<fingerprint>.use`: shared for as long as a run uses the
//!   template; dropping a stale one needs it exclusively (and the build
//!   lock), without waiting, so no live run loses its template.
//!
//! Locks are the kernel's (`flock`, as the ledger's): a killed run lets go.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloner::Migration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{AliasConfig, BackendSettings, CommandLine, Config, Preset, TestsKind};

/// A template's fingerprint: the hash of every input, and each input's own
/// hash (so that a later miss can say what changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    /// 64 hex digits.
    pub(crate) hex: String,
    /// Each input (`migration migrations/0001.sql`, `server version`, …)
    /// and the hash of its value.
    pub(crate) inputs: BTreeMap<String, String>,
}

/// What goes into an alias's fingerprint besides its config.
pub(crate) struct Parts<'a> {
    pub(crate) config: &'a Config,
    pub(crate) alias: &'a AliasConfig,
    pub(crate) backend: &'a str,
    pub(crate) server: &'a str,
    pub(crate) server_version: &'a str,
    pub(crate) migrations: &'a [Migration],
    /// The fingerprints of the aliases this one depends on.
    pub(crate) dependencies: Vec<(String, String)>,
}

/// Computes the fingerprint of `parts`. `Err` names a declared input that
/// could not be read.
pub(crate) fn fingerprint(parts: &Parts<'_>) -> Result<Fingerprint, (PathBuf, std::io::Error)> {
    let mut inputs = BTreeMap::new();
    let mut put = |key: String, value: &[u8]| {
        inputs.insert(key, hex(&Sha256::digest(value)));
    };
    put(
        "paraclone version".into(),
        env!("CARGO_PKG_VERSION").as_bytes(),
    );
    put("backend".into(), parts.backend.as_bytes());
    put("server".into(), parts.server.as_bytes());
    put("server version".into(), parts.server_version.as_bytes());
    // The registry is per state directory: two checkouts sharing a server
    // must not share a name, or one would take the other's template for a
    // build that was never sealed.
    put(
        "state_dir".into(),
        parts.config.state_dir.to_string_lossy().as_bytes(),
    );
    for (key, value) in backend_settings(&parts.config.backends, parts.backend) {
        put(
            format!("setting [backends.{}] {key}", parts.backend),
            value.as_bytes(),
        );
    }
    put("name".into(), parts.alias.base_name.as_bytes());
    // Which tool's layout and history table the migrations are read with.
    put(
        "migrator".into(),
        format!("{:?}", parts.alias.migrator).as_bytes(),
    );
    for m in parts.migrations {
        put(
            format!(
                "migration {}",
                relative(&parts.config.dir, Path::new(&m.name))
            ),
            m.sql.as_bytes(),
        );
    }
    if let Some(setup) = &parts.alias.setup {
        let text = match setup {
            CommandLine::Shell(s) => s.clone(),
            CommandLine::Argv(v) => v.join("\0"),
        };
        put("setup command".into(), text.as_bytes());
    }
    for var in &parts.alias.env {
        let key = match &var.backend {
            Some(b) => format!("env.{b}.{}", var.key),
            None => format!("env.{}", var.key),
        };
        put(key, var.value.as_bytes());
    }
    for (alias, fingerprint) in &parts.dependencies {
        put(format!("depends {alias}"), fingerprint.as_bytes());
    }
    let (patterns, files) = declared_inputs(parts.config, parts.alias);
    put("inputs".into(), patterns.join("\n").as_bytes());
    for path in files {
        let bytes = std::fs::read(&path).map_err(|e| (path.clone(), e))?;
        put(
            format!("input {}", relative(&parts.config.dir, &path)),
            &bytes,
        );
    }
    let mut hasher = Sha256::new();
    for (key, value) in &inputs {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([b'\n']);
    }
    Ok(Fingerprint {
        hex: hex(&hasher.finalize()),
        inputs,
    })
}

/// The backend settings that change what a template or its clones are
/// (not how many are made at once, nor how a session waits).
fn backend_settings(settings: &BackendSettings, backend: &str) -> Vec<(&'static str, String)> {
    let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_owned());
    match backend {
        "sqlite" => vec![
            ("method", or(&settings.sqlite.method, "auto")),
            ("target", or(&settings.sqlite.target, "disk")),
        ],
        "postgres" => vec![("strategy", or(&settings.postgres.strategy, "file_copy"))],
        "mysql" => vec![("strategy", or(&settings.mysql.strategy, "auto"))],
        "oracle" => vec![
            ("strategy", or(&settings.oracle.strategy, "ddl")),
            ("tablespace", or(&settings.oracle.tablespace, "USERS")),
        ],
        _ => Vec::new(),
    }
}

/// The alias's `inputs` globs (relative to the config), and for a Django
/// suite also `**/migrations/*.py` and the settings module (from
/// `DJANGO_SETTINGS_MODULE` in `manage.py`), relative to the suite's
/// directory; with the files they match, sorted.
fn declared_inputs(config: &Config, alias: &AliasConfig) -> (Vec<String>, BTreeSet<PathBuf>) {
    let mut patterns = Vec::new();
    let mut files = BTreeSet::new();
    for pattern in &alias.inputs {
        patterns.push(pattern.clone());
        files.extend(glob(&config.dir, pattern));
    }
    if let TestsKind::Command(tests) = &config.tests.kind
        && tests.preset == Preset::Django
    {
        let mut defaults = vec!["**/migrations/*.py".to_owned()];
        if let Some(module) = settings_module(&tests.cwd.join("manage.py")) {
            let path = module.replace('.', "/");
            defaults.push(format!("{path}.py"));
            defaults.push(format!("{path}/*.py"));
        }
        for pattern in defaults {
            files.extend(glob(&tests.cwd, &pattern));
            patterns.push(format!("django: {pattern}"));
        }
    }
    (patterns, files)
}

/// `x.settings` from `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")`.
fn settings_module(manage: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manage).ok()?;
    let at = text.find("DJANGO_SETTINGS_MODULE")?;
    let rest = &text[at + "DJANGO_SETTINGS_MODULE".len()..];
    let rest = rest.trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix(',')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let end = value.find(quote)?;
    let module = &value[..end];
    module
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        .then(|| module.to_owned())
}

/// The files under `base` matching `pattern`: `/`-separated segments,
/// `**` any number of directories, `*` and `?` within a segment. Hidden
/// directories, `target`, `node_modules`, `__pycache__` and virtualenvs
/// (a directory holding `pyvenv.cfg`) are not searched by wildcards.
pub(crate) fn glob(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let (base, pattern) = match pattern.strip_prefix('/') {
        Some(rest) => (Path::new("/"), rest),
        None => (base, pattern),
    };
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = Vec::new();
    walk(base, &segments, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(dir: &Path, segments: &[&str], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    if *first == "**" {
        walk(dir, rest, out);
        for sub in subdirectories(dir) {
            walk(&sub, segments, out);
        }
        return;
    }
    if !first.contains(['*', '?']) {
        let path = dir.join(first);
        if rest.is_empty() {
            if path.is_file() {
                out.push(path);
            }
        } else if path.is_dir() {
            walk(&path, rest, out);
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !wildcard(first, name) {
            continue;
        }
        let path = entry.path();
        if rest.is_empty() {
            if path.is_file() {
                out.push(path);
            }
        } else if path.is_dir() && searched(&path) {
            walk(&path, rest, out);
        }
    }
}

fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && searched(p))
        .collect()
}

fn searched(dir: &Path) -> bool {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !(name.starts_with('.')
        || matches!(name, "target" | "node_modules" | "__pycache__")
        || dir.join("pyvenv.cfg").exists())
}

/// `*` (any run of characters) and `?` (one) against `name`.
fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What changed between an earlier record's inputs and `now`'s, for the
/// summary: `migrations/0007_x.sql changed`, `server version changed`.
pub(crate) fn what_changed(before: &BTreeMap<String, String>, now: &Fingerprint) -> String {
    let name = |key: &str| {
        key.strip_prefix("migration ")
            .or_else(|| key.strip_prefix("input "))
            .unwrap_or(key)
            .to_owned()
    };
    let mut changes = Vec::new();
    for (key, hash) in &now.inputs {
        match before.get(key) {
            Some(old) if old == hash => {}
            Some(_) => changes.push(format!("{} changed", name(key))),
            None => changes.push(format!("{} added", name(key))),
        }
    }
    for key in before.keys().filter(|k| !now.inputs.contains_key(*k)) {
        changes.push(format!("{} removed", name(key)));
    }
    match changes.len() {
        0 => "its inputs are the same, its fingerprint is not".to_owned(),
        1..=3 => changes.join(", "),
        n => format!("{} and {} more", changes[..3].join(", "), n - 3),
    }
}

/// A kept template, as its record file says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) format: String,
    pub(crate) version: u32,
    pub(crate) alias: String,
    pub(crate) backend: String,
    /// The server's label, as the ledger has it.
    pub(crate) server: String,
    pub(crate) name: String,
    pub(crate) fingerprint: String,
    /// Seconds since the Unix epoch when it was sealed.
    pub(crate) built: u64,
    /// The run that built it (whose ledger lists it, marked kept).
    pub(crate) run_id: String,
    pub(crate) inputs: BTreeMap<String, String>,
}

const FORMAT: &str = "paraclone-template";

impl Record {
    pub(crate) fn new(
        alias: &str,
        backend: &str,
        server: &str,
        name: &str,
        fingerprint: &Fingerprint,
        run_id: &str,
    ) -> Record {
        Record {
            format: FORMAT.to_owned(),
            version: 1,
            alias: alias.to_owned(),
            backend: backend.to_owned(),
            server: server.to_owned(),
            name: name.to_owned(),
            fingerprint: fingerprint.hex.clone(),
            built: now(),
            run_id: run_id.to_owned(),
            inputs: fingerprint.inputs.clone(),
        }
    }

    /// How long ago it was sealed.
    pub(crate) fn age(&self) -> Duration {
        Duration::from_secs(now().saturating_sub(self.built))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// `2h`, `5m`, `30s`, `3d`: how long ago, roughly.
pub(crate) fn ago(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// The records and lock files of kept templates: `<state_dir>/templates`.
#[derive(Clone, Debug)]
pub(crate) struct Registry {
    pub(crate) dir: PathBuf,
}

impl Registry {
    pub(crate) fn new(state_dir: &Path) -> Registry {
        Registry {
            dir: state_dir.join("templates"),
        }
    }

    fn file(&self, alias: &str, fingerprint: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{alias}-{fingerprint}.{ext}"))
    }

    /// The record of `alias`'s template with `fingerprint`, if one was
    /// written whole (a file that does not parse counts as none).
    pub(crate) fn record(&self, alias: &str, fingerprint: &str) -> Option<Record> {
        let text = std::fs::read_to_string(self.file(alias, fingerprint, "json")).ok()?;
        serde_json::from_str::<Record>(&text)
            .ok()
            .filter(|r| r.format == FORMAT && r.alias == alias && r.fingerprint == fingerprint)
    }

    /// Every readable record.
    pub(crate) fn records(&self) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<Record> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_owned();
                let stem = name.strip_suffix(".json")?;
                let (alias, fingerprint) = stem.rsplit_once('-')?;
                self.record(alias, fingerprint)
            })
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.built));
        out
    }

    /// Writes `record` whole or not at all: a temporary file, synced, then
    /// renamed into place.
    pub(crate) fn write(&self, record: &Record) -> std::io::Result<()> {
        let path = self.file(&record.alias, &record.fingerprint, "json");
        let text = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
        crate::files::write_atomically(&path, text.as_bytes())
    }

    /// Removes the record of `alias`'s template with `fingerprint`.
    pub(crate) fn remove(&self, alias: &str, fingerprint: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.file(alias, fingerprint, "json")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn lock_file(&self, alias: &str, fingerprint: &str, ext: &str) -> std::io::Result<File> {
        std::fs::create_dir_all(&self.dir)?;
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.file(alias, fingerprint, ext))
    }

    /// The build lock, if no other run holds it now.
    pub(crate) fn try_build(
        &self,
        alias: &str,
        fingerprint: &str,
    ) -> std::io::Result<Option<File>> {
        let file = self.lock_file(alias, fingerprint, "build")?;
        let locked = file.try_lock();
        held(file, locked)
    }

    /// The use lock, shared, unless a run is dropping the template now.
    pub(crate) fn try_use(&self, alias: &str, fingerprint: &str) -> std::io::Result<Option<File>> {
        let file = self.lock_file(alias, fingerprint, "use")?;
        let locked = file.try_lock_shared();
        held(file, locked)
    }

    /// Both locks, exclusively, without waiting: `None` while any run
    /// builds or uses the template.
    pub(crate) fn try_drop(
        &self,
        alias: &str,
        fingerprint: &str,
    ) -> std::io::Result<Option<(File, File)>> {
        let Some(build) = self.try_build(alias, fingerprint)? else {
            return Ok(None);
        };
        let file = self.lock_file(alias, fingerprint, "use")?;
        let locked = file.try_lock();
        Ok(held(file, locked)?.map(|file| (build, file)))
    }
}

/// `file`, if the lock just tried on it was taken; `None` if another
/// holds it.
fn held(file: File, locked: Result<(), std::fs::TryLockError>) -> std::io::Result<Option<File>> {
    match locked {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// After a kept template was dropped: its record goes, and the ledger of
/// the run that built it (if that run is gone) no longer lists it.
pub(crate) fn forget_dropped(registry: &Registry, ledger_dir: &Path, record: &Record) {
    if let Ok(mut orphan) = crate::ledger::dead_run(ledger_dir, &record.run_id)
        && orphan.dropped(&record.name).is_ok()
    {
        let _ = orphan.finish();
    }
    let _ = registry.remove(&record.alias, &record.fingerprint);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_within_a_segment() {
        assert!(wildcard("*.py", "models.py"));
        assert!(wildcard("0?_*.sql", "01_init.sql"));
        assert!(!wildcard("*.py", "models.pyc"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*b", "ac"));
    }

    #[test]
    fn globs_find_files_across_directories_and_skip_virtualenvs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "app/models.py",
            "app/migrations/0001_initial.py",
            "app/sub/migrations/0002_x.py",
            "venv/lib/migrations/0001_django.py",
            ".git/migrations/x.py",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), f).unwrap();
        }
        std::fs::write(root.join("venv/pyvenv.cfg"), "").unwrap();
        let found: Vec<String> = glob(root, "**/migrations/*.py")
            .iter()
            .map(|p| relative(root, p))
            .collect();
        assert_eq!(
            found,
            [
                "app/migrations/0001_initial.py",
                "app/sub/migrations/0002_x.py"
            ]
        );
        assert_eq!(glob(root, "app/models.py").len(), 1);
        assert_eq!(glob(root, "app/*.py").len(), 1);
    }

    #[test]
    fn the_settings_module_is_read_from_manage_py() {
        let dir = tempfile::tempdir().unwrap();
        let manage = dir.path().join("manage.py");
        std::fs::write(
            &manage,
            "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"library.settings\")\n",
        )
        .unwrap();
        assert_eq!(
            settings_module(&manage).as_deref(),
            Some("library.settings")
        );
    }

    #[test]
    fn what_changed_names_files_and_settings() {
        let now = Fingerprint {
            hex: String::new(),
            inputs: BTreeMap::from([
                ("migration m/0001.sql".to_owned(), "a".to_owned()),
                ("migration m/0002.sql".to_owned(), "b".to_owned()),
                ("server version".to_owned(), "v".to_owned()),
            ]),
        };
        let mut before = now.inputs.clone();
        before.insert("migration m/0002.sql".to_owned(), "old".to_owned());
        assert_eq!(what_changed(&before, &now), "m/0002.sql changed");
        before.remove("server version");
        before.insert("migration m/0003.sql".to_owned(), "c".to_owned());
        assert_eq!(
            what_changed(&before, &now),
            "m/0002.sql changed, server version added, m/0003.sql removed"
        );
    }

    #[test]
    fn records_are_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new(dir.path());
        let fp = Fingerprint {
            hex: "ab".repeat(32),
            inputs: BTreeMap::new(),
        };
        let record = Record::new(
            "default",
            "sqlite",
            "files",
            "shop_pctabababababab",
            &fp,
            "r",
        );
        registry.write(&record).unwrap();
        assert_eq!(
            registry.record("default", &fp.hex).unwrap().name,
            record.name
        );
        assert_eq!(registry.records().len(), 1);
        registry.remove("default", &fp.hex).unwrap();
        assert!(registry.record("default", &fp.hex).is_none());
    }

    #[test]
    fn a_template_in_use_cannot_be_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new(dir.path());
        let using = registry.try_use("default", "f").unwrap().unwrap();
        assert!(registry.try_drop("default", "f").unwrap().is_none());
        drop(using);
        assert!(registry.try_drop("default", "f").unwrap().is_some());
    }
}
