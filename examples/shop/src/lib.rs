//! Shop example (being written).
