//! Linux: finding the processes a test left behind by the tag every child
//! of paraclone carries in its environment (inherited by whatever it
//! starts, `setsid` or not), through `/proc`.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Kills every process whose `var` is `value` (or, with `prefix`, starts
/// with it); returns how many there were. Processes it may not read are
/// not its to kill and are passed over.
pub(crate) fn kill_tagged(var: &str, value: &str, prefix: bool) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let own = std::process::id();
    let wanted = format!("{var}={value}");
    let mut killed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let tagged = environ.split(|b| *b == 0).any(|item| {
            if prefix {
                item.starts_with(wanted.as_bytes())
            } else {
                item == wanted.as_bytes()
            }
        });
        if tagged && kill(Pid::from_raw(pid as i32), Signal::SIGKILL).is_ok() {
            killed += 1;
        }
    }
    killed
}

/// Whether process `pid`'s command line names `path` (as an argument, or
/// inside one, like `--datadir=<path>/data`). A process that cannot be
/// read does not.
pub(crate) fn mentions(pid: u32, path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let wanted = path.as_os_str().as_bytes();
    !wanted.is_empty()
        && cmdline
            .split(|b| *b == 0)
            .any(|arg| arg.windows(wanted.len()).any(|w| w == wanted))
}
