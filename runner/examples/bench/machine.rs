//! Facts about the machine the numbers come from: cores, memory, CPU,
//! kernel, and the disk under a directory.

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cores: usize,
    pub(crate) cpu: String,
    pub(crate) memory_gib: f64,
    pub(crate) os: String,
    pub(crate) kernel: String,
    /// Where the harness's SQLite files and generated suites live.
    pub(crate) work_disk: String,
}

pub(crate) fn facts(work: &Path) -> Machine {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once([':', '='])?;
                (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned())
    };
    let mem_kib: f64 = field(&read("/proc/meminfo"), "MemTotal")
        .split_whitespace()
        .next()
        .and_then(|k| k.parse().ok())
        .unwrap_or(0.0);
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu: field(&cpuinfo, "model name"),
        memory_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        os: field(&read("/etc/os-release"), "PRETTY_NAME"),
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        work_disk: disk(work),
    }
}

/// The device and file system `path` is on, and whether the device is a
/// spinning disk, from /proc/self/mounts and /sys (Linux; "unknown"
/// elsewhere).
pub(crate) fn disk(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let Some((device, mount, fs)) = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?, f.next()?, f.next()?))
        })
        .filter(|(_, mount, _)| path.starts_with(mount))
        .max_by_key(|(_, mount, _)| mount.len())
    else {
        return "unknown".to_owned();
    };
    let name = device.rsplit('/').next().unwrap_or(device);
    let rotational = std::fs::read_to_string(format!("/sys/class/block/{name}/queue/rotational"))
        .or_else(|_| {
            // A partition's queue is its disk's.
            std::fs::read_to_string(format!("/sys/class/block/{name}/../queue/rotational"))
        })
        .ok()
        .map(|r| {
            if r.trim() == "1" {
                ", reports rotational"
            } else {
                ", reports non-rotational"
            }
        })
        .unwrap_or_default();
    format!("{device} ({fs}{rotational}) mounted at {mount}")
}
