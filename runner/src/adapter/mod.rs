//! Test adapters: how a suite is built, listed, grouped and run.

mod rust;

pub(crate) use rust::{RustSuite, discover, ran_one_test};
