//! Other systems: no way to find a process that left its group, so
//! leftovers are reported (the output pipe stays open) but not killed.

/// Finds nothing: see the module doc.
pub(crate) fn kill_tagged(_var: &str, _value: &str, _prefix: bool) -> usize {
    0
}

/// Whether process `pid`'s command line names `path`: unknown here (no
/// `/proc`), so no; callers fall back on the pid file the process keeps
/// in `path`.
pub(crate) fn mentions(_pid: u32, _path: &std::path::Path) -> bool {
    false
}
