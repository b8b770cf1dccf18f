//! The conformance kit, for every clone method on disk and in RAM.

use cloner_sqlite::{Method, Target};

use crate::support::setup;

cloner::conformance_tests!(disk_backup, setup(Target::Disk, Method::Backup));
cloner::conformance_tests!(disk_vacuum, setup(Target::Disk, Method::Vacuum));
cloner::conformance_tests!(disk_copy, setup(Target::Disk, Method::Copy));
cloner::conformance_tests!(ram_backup, setup(Target::Ram, Method::Backup));
cloner::conformance_tests!(ram_vacuum, setup(Target::Ram, Method::Vacuum));
cloner::conformance_tests!(ram_copy, setup(Target::Ram, Method::Copy));
