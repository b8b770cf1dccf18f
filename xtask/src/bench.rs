//! `cargo xtask bench`: builds the release `paraclone` and its bench
//! harness (`runner/examples/bench`) with the chosen backends, runs the
//! harness, and puts its Markdown into BENCHMARKS.md between the markers:
//! sections 1–4 (`section.md`) between `bench:begin`/`bench:end`, the
//! Python suites (`python.md`) between `bench:python:begin`/`…:end`, the
//! scheduling case (`schedule.md`) between `bench:schedule:begin`/`…:end`,
//! template reuse (`reuse.md`) between `bench:reuse:begin`/`…:end`,
//! throwaway servers (`ephemeral.md`) between `bench:ephemeral:begin`/
//! `…:end`. Only what the harness ran is replaced (`--only python`,
//! `--only schedule`, `--only reuse` or `--only ephemeral` keeps the other
//! sections' numbers, and the other way round).
//!
//! The measuring lives in the harness, which may use the runner's backend
//! crates; xtask itself stays a small program over `cargo` (anyhow only).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::{Backend, workspace_root};

/// Where the generated section starts and ends in BENCHMARKS.md.
pub(crate) const BEGIN: &str = "<!-- bench:begin -->";
pub(crate) const END: &str = "<!-- bench:end -->";
/// The same for the Python suites (section 5 of the harness).
pub(crate) const PYTHON_BEGIN: &str = "<!-- bench:python:begin -->";
pub(crate) const PYTHON_END: &str = "<!-- bench:python:end -->";
/// The same for the scheduling case against cargo-nextest (section 6).
pub(crate) const SCHEDULE_BEGIN: &str = "<!-- bench:schedule:begin -->";
pub(crate) const SCHEDULE_END: &str = "<!-- bench:schedule:end -->";
/// The same for template reuse, with `--reuse` against without (section 7).
pub(crate) const REUSE_BEGIN: &str = "<!-- bench:reuse:begin -->";
pub(crate) const REUSE_END: &str = "<!-- bench:reuse:end -->";
/// The same for throwaway servers against the stock ones (section 8).
pub(crate) const EPHEMERAL_BEGIN: &str = "<!-- bench:ephemeral:begin -->";
pub(crate) const EPHEMERAL_END: &str = "<!-- bench:ephemeral:end -->";

/// `cargo xtask bench [--db sqlite|postgres|mysql|all|LIST] [--quick] [--rounds N] [--sizes tiny|quick|full]
/// [--out DIR] [--markdown PATH] [--only clone,whole,overhead,memory,python,schedule,reuse,ephemeral]
/// [--debug]`.
pub(crate) fn bench(args: &[String]) -> Result<()> {
    let root = workspace_root();
    let mut backends = vec![Backend::Sqlite];
    let mut all = false;
    let mut quick = false;
    let mut out = PathBuf::from("target/bench");
    let mut markdown = None;
    // `--debug` builds the harness without optimisation: its figures mean
    // nothing, but the smoke test then reuses the debug build CI has made
    // already instead of compiling everything again in release.
    let mut profile = "release";
    let mut passed: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "--db" => {
                // One backend, `all`, or a comma-separated list.
                let db = value("--db")?;
                all = db == "all";
                backends.clear();
                for one in db.split(',') {
                    for b in Backend::parse(one.trim())? {
                        if !backends.contains(&b) {
                            backends.push(b);
                        }
                    }
                }
            }
            "--quick" => quick = true,
            "--debug" => profile = "debug",
            "--out" => out = value("--out")?.into(),
            "--markdown" => markdown = Some(PathBuf::from(value("--markdown")?)),
            flag @ ("--rounds" | "--sizes" | "--only") => {
                let v = value(flag)?;
                passed.extend([flag.to_owned(), v]);
            }
            other => bail!("unknown argument {other:?} for bench\n\n{}", super::USAGE),
        }
    }
    if all {
        // `all` means every backend that can be benched here.
        backends.retain(|b| check_built(&root, *b).is_ok());
    }
    for backend in &backends {
        check_built(&root, *backend)?;
    }
    let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    let features = names.join(",");
    super::step(
        "bench build",
        &root,
        "cargo",
        &[
            "build",
            if profile == "release" {
                "--release"
            } else {
                "--quiet"
            },
            "--package",
            "runner",
            "--bins",
            "--example",
            "bench",
            "--features",
            &features,
        ],
    )?;

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));
    let harness = target.join(profile).join("examples/bench");
    let out = root.join(out);
    let mut command_line = format!("cargo xtask bench --db {}", names.join(","));
    if quick {
        command_line.push_str(" --quick");
    }
    for p in &passed {
        command_line.push(' ');
        command_line.push_str(p);
    }
    let mut harness_args: Vec<String> = vec![
        "--db".into(),
        features.clone(),
        "--root".into(),
        root.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--paraclone".into(),
        target.join(profile).join("paraclone").display().to_string(),
        "--command".into(),
        command_line,
    ];
    if quick {
        harness_args.push("--quick".into());
    }
    harness_args.extend(passed);
    println!("xtask: bench: {}", harness.display());
    let status = Command::new(&harness)
        .args(&harness_args)
        .current_dir(&root)
        .status()
        .with_context(|| format!("could not start {}", harness.display()))?;
    let partial = match status.code() {
        Some(0) => false,
        // Some measurement failed: the others are still worth writing.
        Some(1) => true,
        Some(130) => bail!("bench interrupted; every database it made was dropped"),
        _ => bail!("the bench harness failed ({status})"),
    };

    // A quick run's numbers never replace a full run's in the committed
    // BENCHMARKS.md unless asked to.
    let markdown = markdown.map(|m| root.join(m)).unwrap_or_else(|| {
        if quick {
            out.join("BENCHMARKS.md")
        } else {
            root.join("BENCHMARKS.md")
        }
    });
    // The harness writes each file only for sections it ran.
    let mut spliced = 0;
    for (file, begin, end) in [
        ("section.md", BEGIN, END),
        ("python.md", PYTHON_BEGIN, PYTHON_END),
        ("schedule.md", SCHEDULE_BEGIN, SCHEDULE_END),
        ("reuse.md", REUSE_BEGIN, REUSE_END),
        ("ephemeral.md", EPHEMERAL_BEGIN, EPHEMERAL_END),
    ] {
        let path = out.join(file);
        match std::fs::read_to_string(&path) {
            Ok(section) => {
                splice(&markdown, &section, begin, end)?;
                spliced += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
        }
    }
    if spliced == 0 {
        bail!(
            "the harness wrote none of section.md, python.md, schedule.md, reuse.md, \
             ephemeral.md in {}",
            out.display()
        );
    }
    println!(
        "xtask: bench: results in {} and {}",
        out.join("results.json").display(),
        markdown.display()
    );
    if partial {
        bail!("some measurements failed (see ERROR above); the rest were written");
    }
    Ok(())
}

/// Fails clearly for a backend whose cloner or bench support is not there.
fn check_built(root: &Path, backend: Backend) -> Result<()> {
    let name = backend.name();
    let crate_name = backend.crate_name().unwrap_or("?");
    if !root.join(crate_name).join("src/lib.rs").is_file() {
        bail!(
            "the {name} backend is not built yet ({crate_name}/src/lib.rs does not exist); \
             bench the others with --db sqlite or --db postgres"
        );
    }
    if backend == Backend::Oracle {
        bail!("the bench does not cover oracle yet (no Oracle server runs on these machines)");
    }
    Ok(())
}

/// Puts `section` between the markers `begin` and `end` of the Markdown
/// file at `path`, creating the file, or the markers at its end, if
/// missing.
fn splice(path: &Path, section: &str, begin: &str, end: &str) -> Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "# Benchmarks\n\nMeasured by `cargo xtask bench`.\n\n".to_owned()
        }
        Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
    };
    let text = splice_text(&old, section, begin, end);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
}

fn splice_text(old: &str, section: &str, begin: &str, end: &str) -> String {
    let block = format!("{begin}\n{}\n{end}", section.trim_end());
    match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{block}{}", &old[..b], &old[e + end.len()..])
        }
        _ => format!("{}\n\n{block}\n", old.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_what_is_between_the_markers() {
        let old = format!("# B\n\nintro\n\n{BEGIN}\nold numbers\n{END}\n\n## Notes\nkept\n");
        let new = splice_text(&old, "new numbers\n", BEGIN, END);
        assert_eq!(
            new,
            format!("# B\n\nintro\n\n{BEGIN}\nnew numbers\n{END}\n\n## Notes\nkept\n")
        );
        assert_eq!(splice_text(&new, "new numbers\n", BEGIN, END), new);
    }

    #[test]
    fn splice_of_one_section_keeps_the_other() {
        let old =
            format!("# B\n\n{BEGIN}\nclones\n{END}\n\n{PYTHON_BEGIN}\nold python\n{PYTHON_END}\n");
        let new = splice_text(&old, "new python", PYTHON_BEGIN, PYTHON_END);
        assert_eq!(
            new,
            format!("# B\n\n{BEGIN}\nclones\n{END}\n\n{PYTHON_BEGIN}\nnew python\n{PYTHON_END}\n")
        );
        let new = splice_text(&new, "new clones", BEGIN, END);
        assert!(new.contains("new clones") && new.contains("new python"));
        // Markers of the Python section do not match the plain ones.
        assert_eq!(
            splice_text(
                &format!("{BEGIN}\nx\n{END}\n"),
                "p",
                PYTHON_BEGIN,
                PYTHON_END
            ),
            format!("{BEGIN}\nx\n{END}\n\n{PYTHON_BEGIN}\np\n{PYTHON_END}\n")
        );
    }

    #[test]
    fn splice_of_the_schedule_section_keeps_the_others() {
        let old = format!(
            "{BEGIN}\nclones\n{END}\n\n{PYTHON_BEGIN}\npython\n{PYTHON_END}\n\n\
             {SCHEDULE_BEGIN}\nold schedule\n{SCHEDULE_END}\n\nnotes\n"
        );
        let new = splice_text(&old, "new schedule", SCHEDULE_BEGIN, SCHEDULE_END);
        assert_eq!(new, old.replace("old schedule", "new schedule"));
        let new = splice_text(&new, "new python", PYTHON_BEGIN, PYTHON_END);
        assert!(new.contains("clones") && new.contains("new schedule") && new.contains("notes"));
    }

    #[test]
    fn splice_of_the_reuse_section_keeps_the_others() {
        let old = format!(
            "{BEGIN}\nclones\n{END}\n\n{SCHEDULE_BEGIN}\nschedule\n{SCHEDULE_END}\n\n\
             {REUSE_BEGIN}\nold reuse\n{REUSE_END}\n\nnotes\n"
        );
        let new = splice_text(&old, "new reuse", REUSE_BEGIN, REUSE_END);
        assert_eq!(new, old.replace("old reuse", "new reuse"));
        let new = splice_text(&new, "new schedule", SCHEDULE_BEGIN, SCHEDULE_END);
        assert!(new.contains("clones") && new.contains("new reuse") && new.contains("notes"));
    }

    #[test]
    fn splice_of_the_ephemeral_section_keeps_the_others() {
        let old = format!(
            "{BEGIN}\nclones\n{END}\n\n{REUSE_BEGIN}\nreuse\n{REUSE_END}\n\n\
             {EPHEMERAL_BEGIN}\nold servers\n{EPHEMERAL_END}\n\nnotes\n"
        );
        let new = splice_text(&old, "new servers", EPHEMERAL_BEGIN, EPHEMERAL_END);
        assert_eq!(new, old.replace("old servers", "new servers"));
        let new = splice_text(&new, "new reuse", REUSE_BEGIN, REUSE_END);
        assert!(new.contains("clones") && new.contains("new servers") && new.contains("notes"));
    }

    #[test]
    fn splice_appends_markers_where_there_are_none() {
        assert_eq!(
            splice_text("# B\n\nintro\n", "numbers", BEGIN, END),
            format!("# B\n\nintro\n\n{BEGIN}\nnumbers\n{END}\n")
        );
    }
}
