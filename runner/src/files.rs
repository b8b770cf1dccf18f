//! Files written whole or not at all (the JUnit report, remembered
//! durations, kept templates' records).

use std::path::{Path, PathBuf};

/// Writes `bytes` to a temporary file next to `path`, then renames it over
/// `path`: readers see the old file or the new one, never a part. Makes
/// the directory if it is missing.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    match &result {
        Ok(()) => {
            // The rename itself is durable once the directory is.
            if let Ok(dir) = std::fs::File::open(&dir) {
                let _ = dir.sync_all();
            }
        }
        Err(_) => {
            let _ = std::fs::remove_file(&temporary);
        }
    }
    result
}
