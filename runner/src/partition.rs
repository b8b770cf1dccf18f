//! Partitions: one run of a suite split across machines (CI shards), each
//! running a disjoint part, the parts together the whole selection.
//!
//! Applied to the tests the filters selected, before they are grouped:
//!
//! - `hash:K/N`: a test is in shard K when a hash of its id (`binary
//!   name`, FNV-1a, fixed for ever) falls there, so a test stays in its
//!   shard whatever the filters, and adding a test moves no other;
//! - `slice:K/N`: round-robin in listed order over all binaries (even
//!   shards, but a new test can move others);
//! - `duration:K/N`: balanced by remembered durations (see `durations`);
//!   the scheduler's work, wired in by [`select`]'s `costs`.
//!
//! Under Bazel (`TEST_TOTAL_SHARDS`, `TEST_SHARD_INDEX`) the partition is
//! `hash` with Bazel's shard (see [`Partition::from_bazel`]).

use std::time::Duration;

use crate::events::TestId;

/// Which part of the suite this run takes. `shard` counts from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    /// By a stable hash of each test's id.
    Hash {
        /// This shard, `1..=total`.
        shard: u64,
        /// How many shards.
        total: u64,
    },
    /// Round-robin in listed order.
    Slice {
        /// This shard, `1..=total`.
        shard: u64,
        /// How many shards.
        total: u64,
    },
    /// Balanced by remembered test durations.
    Duration {
        /// This shard, `1..=total`.
        shard: u64,
        /// How many shards.
        total: u64,
    },
}

impl Partition {
    /// Parses `hash:K/N`, `slice:K/N` or `duration:K/N` (1 ≤ K ≤ N).
    pub fn parse(s: &str) -> Result<Partition, String> {
        let (kind, shards) = s.split_once(':').ok_or_else(|| {
            format!("{s:?}: write hash:K/N, slice:K/N or duration:K/N (e.g. hash:1/3)")
        })?;
        let (shard, total) = shards
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
            .ok_or_else(|| format!("{s:?}: the shard is K/N, two numbers (e.g. {kind}:1/3)"))?;
        if total == 0 || shard == 0 || shard > total {
            return Err(format!(
                "{s:?}: the shard K of K/N counts from 1 to N (N at least 1)"
            ));
        }
        match kind {
            "hash" => Ok(Partition::Hash { shard, total }),
            "slice" => Ok(Partition::Slice { shard, total }),
            "duration" => Ok(Partition::Duration { shard, total }),
            other => Err(format!(
                "{other:?} is no kind of partition (hash, slice or duration)"
            )),
        }
    }

    /// The partition Bazel asks for, from `TEST_TOTAL_SHARDS` and
    /// `TEST_SHARD_INDEX` (0-based) as `lookup` gives them: `hash` with
    /// that shard. `None` when they are not both set; `Err` when they are
    /// not a valid shard.
    pub fn from_bazel(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Option<Result<Partition, String>> {
        let total = lookup("TEST_TOTAL_SHARDS")?;
        let index = lookup("TEST_SHARD_INDEX")?;
        let parsed = total
            .trim()
            .parse::<u64>()
            .ok()
            .zip(index.trim().parse::<u64>().ok())
            .filter(|(total, index)| *total > 0 && index < total);
        Some(match parsed {
            Some((total, index)) => Ok(Partition::Hash {
                shard: index + 1,
                total,
            }),
            None => Err(format!(
                "TEST_TOTAL_SHARDS={total:?} and TEST_SHARD_INDEX={index:?} are not a shard \
                 (an index from 0 below a total of at least 1)"
            )),
        })
    }
}

impl Partition {
    /// The `hash` partition with this one's shard and total.
    pub(crate) fn as_hash(&self) -> Partition {
        match *self {
            Partition::Hash { shard, total }
            | Partition::Slice { shard, total }
            | Partition::Duration { shard, total } => Partition::Hash { shard, total },
        }
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Partition::Hash { shard, total } => write!(f, "hash:{shard}/{total}"),
            Partition::Slice { shard, total } => write!(f, "slice:{shard}/{total}"),
            Partition::Duration { shard, total } => write!(f, "duration:{shard}/{total}"),
        }
    }
}

/// Keeps the tests of `tests` (in listed order, over all binaries) that
/// are in `partition`'s shard, in their order; returns them and how many
/// went to other shards. `costs` is what a test is expected to take, for
/// `duration`; without it a `duration` partition is an error.
pub(crate) fn select(
    tests: Vec<TestId>,
    partition: &Partition,
    costs: Option<&dyn Fn(&TestId) -> Duration>,
) -> Result<(Vec<TestId>, usize), String> {
    let before = tests.len();
    let kept: Vec<TestId> = match *partition {
        Partition::Hash { shard, total } => tests
            .into_iter()
            .filter(|t| fnv1a(t.to_string().as_bytes()) % total == shard - 1)
            .collect(),
        Partition::Slice { shard, total } => tests
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u64 % total == shard - 1)
            .map(|(_, t)| t)
            .collect(),
        Partition::Duration { shard, total } => {
            let Some(cost) = costs else {
                return Err(format!(
                    "{partition}: a duration partition needs the tests' durations \
                     (use hash:{shard}/{total} or slice:{shard}/{total})"
                ));
            };
            by_duration(tests, shard, total, cost)
        }
    };
    let out = before - kept.len();
    Ok((kept, out))
}

/// Longest-processing-time first: each test, longest first (ties by id),
/// goes to the shard with the least so far (ties to the lowest). The same
/// costs give the same shards on every machine.
fn by_duration(
    tests: Vec<TestId>,
    shard: u64,
    total: u64,
    cost: &dyn Fn(&TestId) -> Duration,
) -> Vec<TestId> {
    let mut order: Vec<(Duration, usize)> = tests
        .iter()
        .enumerate()
        .map(|(i, t)| (cost(t), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| tests[a.1].cmp(&tests[b.1])));
    let mut load = vec![Duration::ZERO; total as usize];
    let mut mine = vec![false; tests.len()];
    for (d, i) in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(n, l)| (**l, *n))
            .expect("at least one shard");
        load[least] += d;
        mine[i] = least as u64 == shard - 1;
    }
    tests
        .into_iter()
        .zip(mine)
        .filter_map(|(t, m)| m.then_some(t))
        .collect()
}

/// FNV-1a, 64 bits: tiny, and fixed, so a test's shard never changes with
/// the Rust version or the platform (std's hashers promise neither).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<TestId> {
        (0..n)
            .map(|i| TestId {
                binary: "b".to_owned(),
                name: format!("m{}::t{i}", i % 7),
            })
            .collect()
    }

    #[test]
    fn parses_and_refuses_what_is_no_shard() {
        assert_eq!(
            Partition::parse("hash:2/3"),
            Ok(Partition::Hash { shard: 2, total: 3 })
        );
        assert_eq!(
            Partition::parse("slice:1/1"),
            Ok(Partition::Slice { shard: 1, total: 1 })
        );
        assert_eq!(
            Partition::parse("duration:3/4").map(|p| p.to_string()),
            Ok("duration:3/4".to_owned())
        );
        for bad in [
            "hash:0/3",
            "hash:4/3",
            "hash:1/0",
            "hash",
            "hash:x/3",
            "count:1/2",
        ] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        for make in [
            |s, t| Partition::Hash { shard: s, total: t },
            |s, t| Partition::Slice { shard: s, total: t },
        ] {
            let all = ids(100);
            let mut seen = Vec::new();
            for shard in 1..=3 {
                let (kept, out) = select(all.clone(), &make(shard, 3), None).unwrap();
                assert_eq!(kept.len() + out, 100);
                assert!(!kept.is_empty());
                seen.extend(kept);
            }
            seen.sort();
            let mut expected = all.clone();
            expected.sort();
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn a_hashed_test_keeps_its_shard_whatever_else_is_selected() {
        let all = ids(60);
        let p = Partition::Hash { shard: 2, total: 3 };
        let (whole, _) = select(all.clone(), &p, None).unwrap();
        let some: Vec<TestId> = all.iter().step_by(2).cloned().collect();
        let (part, _) = select(some.clone(), &p, None).unwrap();
        let expected: Vec<TestId> = whole.into_iter().filter(|t| some.contains(t)).collect();
        assert_eq!(part, expected);
    }

    #[test]
    fn duration_needs_costs_and_balances_with_them() {
        let p = Partition::Duration { shard: 1, total: 2 };
        let err = select(ids(4), &p, None).unwrap_err();
        assert!(err.contains("needs the tests' durations"), "{err}");
        let cost = |t: &TestId| {
            let n: u64 = t.name.rsplit('t').next().unwrap().parse().unwrap();
            Duration::from_millis(n * 10 + 1)
        };
        let mut loads = Vec::new();
        for shard in 1..=2 {
            let p = Partition::Duration { shard, total: 2 };
            let (kept, _) = select(ids(20), &p, Some(&cost)).unwrap();
            loads.push(kept.iter().map(cost).sum::<Duration>());
        }
        let (a, b) = (loads[0].as_secs_f64(), loads[1].as_secs_f64());
        assert!((a - b).abs() / a.max(b) < 0.2, "{loads:?}");
    }

    #[test]
    fn bazel_shards_count_from_zero() {
        let env = |total: &'static str, index: &'static str| {
            move |k: &str| match k {
                "TEST_TOTAL_SHARDS" => Some(total.to_owned()),
                "TEST_SHARD_INDEX" => Some(index.to_owned()),
                _ => None,
            }
        };
        assert_eq!(
            Partition::from_bazel(env("3", "0")),
            Some(Ok(Partition::Hash { shard: 1, total: 3 }))
        );
        assert!(matches!(Partition::from_bazel(env("3", "3")), Some(Err(_))));
        assert_eq!(Partition::from_bazel(|_| None), None);
    }
}
