//! Other systems: no way to find a process that left its group, so
//! leftovers are reported (the output pipe stays open) but not killed.

/// Finds nothing: see the module doc.
pub(crate) fn kill_tagged(_var: &str, _value: &str, _prefix: bool) -> usize {
    0
}
