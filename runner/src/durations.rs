//! Remembered test durations: what the scheduler orders by.
//!
//! Every run writes how long each test that ran took to
//! `<state_dir>/durations/<suite>.json`, one small file per suite (the
//! suite is named by its adapter and where it runs, so two suites of one
//! project keep their own). The format, stable:
//!
//! ```json
//! {"format":"paraclone-durations","version":1,"runs":12,
//!  "tests":{"shop::it orders::places_an_order":{"seconds":0.012,"run":12}}}
//! ```
//!
//! `run` is the run that last measured the test. The latest measurement
//! wins; tests not seen for [`FORGET_AFTER`] runs are dropped, and at most
//! [`MAX_TESTS`] are kept (the most recently measured), so the file stays
//! small. It is written to a temporary file and renamed over the old one:
//! a crash mid-write leaves the old file whole. A file that cannot be read
//! is ignored with a warning naming it (and replaced by the next write).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::events::TestId;

/// The format's name and version, written in every file.
const FORMAT: &str = "paraclone-durations";
const VERSION: u32 = 1;

/// Tests not measured for this many runs are forgotten.
pub(crate) const FORGET_AFTER: u64 = 100;

/// At most this many tests are remembered per suite.
pub(crate) const MAX_TESTS: usize = 50_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    runs: u64,
    tests: BTreeMap<String, Entry>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Entry {
    seconds: f64,
    run: u64,
}

/// The remembered durations of one suite.
#[derive(Debug)]
pub(crate) struct Durations {
    path: PathBuf,
    file: File,
}

impl Durations {
    /// Where the durations of the suite named `suite` live.
    pub(crate) fn path(state_dir: &Path, suite: &str) -> PathBuf {
        state_dir.join("durations").join(format!("{suite}.json"))
    }

    /// Reads the suite's file. A missing file is an empty history; one that
    /// cannot be read or parsed is too, and the warning says why.
    pub(crate) fn load(path: PathBuf) -> (Durations, Option<String>) {
        let empty = |path: PathBuf| Durations {
            path,
            file: File::default(),
        };
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (empty(path), None),
            Err(e) => {
                let warning = format!(
                    "could not read the remembered durations {}: {e}; scheduling without them",
                    path.display()
                );
                return (empty(path), Some(warning));
            }
        };
        match serde_json::from_slice::<File>(&text) {
            Ok(file) if file.format == FORMAT && file.version == VERSION => {
                (Durations { path, file }, None)
            }
            Ok(file) => {
                let warning = format!(
                    "the remembered durations {} are in an unknown format ({:?} version {}); scheduling without them",
                    path.display(),
                    file.format,
                    file.version
                );
                (empty(path), Some(warning))
            }
            Err(e) => {
                let warning = format!(
                    "the remembered durations {} are damaged ({e}); scheduling without them, the file is written anew",
                    path.display()
                );
                (empty(path), Some(warning))
            }
        }
    }

    /// The remembered duration of `test`.
    #[cfg(test)]
    pub(crate) fn get(&self, test: &TestId) -> Option<Duration> {
        self.file
            .tests
            .get(&test.to_string())
            .map(|e| Duration::from_secs_f64(e.seconds.max(0.0)))
    }

    /// Every remembered test and its duration. A key is `binary name`, as
    /// [`TestId`] shows itself; a binary's id has no space in it.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (TestId, Duration)> + '_ {
        self.file.tests.iter().filter_map(|(key, e)| {
            let (binary, name) = key.split_once(' ')?;
            let test = TestId {
                binary: binary.to_owned(),
                name: name.to_owned(),
            };
            Some((test, Duration::from_secs_f64(e.seconds.max(0.0))))
        })
    }

    /// The mean of every remembered duration, if there is one.
    pub(crate) fn mean(&self) -> Option<Duration> {
        let n = self.file.tests.len();
        (n > 0).then(|| {
            let total: f64 = self.file.tests.values().map(|e| e.seconds.max(0.0)).sum();
            Duration::from_secs_f64(total / n as f64)
        })
    }

    /// Records this run's measurements and writes the file (atomically).
    pub(crate) fn record(
        mut self,
        measured: impl IntoIterator<Item = (TestId, Duration)>,
    ) -> std::io::Result<()> {
        self.file.format = FORMAT.to_owned();
        self.file.version = VERSION;
        self.file.runs += 1;
        let run = self.file.runs;
        for (test, duration) in measured {
            self.file.tests.insert(
                test.to_string(),
                Entry {
                    seconds: duration.as_secs_f64(),
                    run,
                },
            );
        }
        self.file
            .tests
            .retain(|_, e| run.saturating_sub(e.run) < FORGET_AFTER);
        if self.file.tests.len() > MAX_TESTS {
            // The most recently measured stay.
            let mut by_age: Vec<(u64, String)> = self
                .file
                .tests
                .iter()
                .map(|(k, e)| (e.run, k.clone()))
                .collect();
            by_age.sort_by_key(|(run, _)| std::cmp::Reverse(*run));
            for (_, key) in by_age.drain(MAX_TESTS..) {
                self.file.tests.remove(&key);
            }
        }
        let text = serde_json::to_vec(&self.file).map_err(std::io::Error::other)?;
        crate::files::write_atomically(&self.path, &text)
    }
}

/// A file-name-safe name for a suite: its adapter and a hash of where it
/// runs.
pub(crate) fn suite_name(kind: &str, place: &str) -> String {
    // A hash stable across versions (a std hasher is not).
    let hash = crate::partition::fnv1a(place.as_bytes());
    format!("{kind}-{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> TestId {
        TestId {
            binary: "b".to_owned(),
            name: name.to_owned(),
        }
    }

    #[test]
    fn durations_are_remembered_between_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = Durations::path(dir.path(), "rust-x");
        let (d, warning) = Durations::load(path.clone());
        assert!(warning.is_none() && d.file.tests.is_empty());
        d.record([
            (id("a"), Duration::from_millis(1500)),
            (id("b"), Duration::from_millis(20)),
        ])
        .unwrap();
        let (d, warning) = Durations::load(path.clone());
        assert!(warning.is_none());
        assert_eq!(d.get(&id("a")), Some(Duration::from_millis(1500)));
        assert_eq!(d.get(&id("c")), None);
        d.record([(id("a"), Duration::from_millis(500))]).unwrap();
        let (d, _) = Durations::load(path);
        assert_eq!(
            d.get(&id("a")),
            Some(Duration::from_millis(500)),
            "the latest wins"
        );
        assert_eq!(
            d.get(&id("b")),
            Some(Duration::from_millis(20)),
            "unmeasured ones stay"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("durations"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    }

    #[test]
    fn a_damaged_file_is_ignored_with_a_warning_naming_it_and_written_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = Durations::path(dir.path(), "rust-x");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // What a crash mid-write without the rename would leave.
        std::fs::write(
            &path,
            b"{\"format\":\"paraclone-durations\",\"version\":1,\"tests\":{\"b a\":{\"sec",
        )
        .unwrap();
        let (d, warning) = Durations::load(path.clone());
        let warning = warning.expect("a warning");
        assert!(warning.contains(&path.display().to_string()), "{warning}");
        assert!(d.file.tests.is_empty());
        d.record([(id("a"), Duration::from_secs(1))]).unwrap();
        let (d, warning) = Durations::load(path);
        assert!(warning.is_none());
        assert_eq!(d.get(&id("a")), Some(Duration::from_secs(1)));
    }

    #[test]
    fn old_and_excess_entries_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = Durations::path(dir.path(), "s");
        let (d, _) = Durations::load(path.clone());
        d.record([(id("old"), Duration::from_secs(1))]).unwrap();
        for _ in 0..FORGET_AFTER {
            let (d, _) = Durations::load(path.clone());
            d.record([(id("new"), Duration::from_secs(1))]).unwrap();
        }
        let (d, _) = Durations::load(path.clone());
        assert_eq!(d.get(&id("old")), None);
        assert!(d.get(&id("new")).is_some());
        let many = (0..MAX_TESTS + 10).map(|i| (id(&format!("t{i}")), Duration::from_millis(1)));
        d.record(many).unwrap();
        let (d, _) = Durations::load(path);
        assert!(d.file.tests.len() <= MAX_TESTS);
    }

    #[test]
    fn suite_names_are_stable_and_distinct() {
        assert_eq!(suite_name("rust", "/a"), suite_name("rust", "/a"));
        assert_ne!(suite_name("rust", "/a"), suite_name("rust", "/b"));
        assert!(suite_name("pytest", "/a").starts_with("pytest-"));
    }
}
