//! Scheduling: the order groups are handed out in, and how much a free
//! slot takes.
//!
//! By default groups go longest first (LPT) by their remembered cost (the
//! durations of their tests from earlier runs; a test never measured costs
//! the mean of those that were, or one unit when nothing is known, which
//! orders by test count), so the long ones start early and the short ones
//! fill in at the end. A free slot takes the next group; a group that may
//! be split (a pytest module: its tests share nothing a new worker cannot
//! set up again, as under pytest-xdist's `load`) is taken only up to an
//! even share of what is left, the rest staying at the front of the queue
//! for the next free slot, so no slot idles at the tail while another
//! still has queued tests of a long group. `--reverse` and `--shuffle`
//! keep their meaning and ignore costs.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::adapter::Group;
use crate::durations::Durations;
use crate::events::TestId;
use crate::run::Order;

/// What each test is expected to cost.
#[derive(Debug)]
pub(crate) struct Costs {
    durations: Option<Durations>,
    /// Every known cost: the remembered durations, overridden by those of
    /// an earlier run's JUnit report (`--durations-from`). Looked up once
    /// per test per scheduling decision, so a map by id.
    known: HashMap<TestId, Duration>,
    /// What a test never measured costs.
    unknown: Duration,
}

impl Costs {
    /// Costs from remembered durations and those `given` (none: every test
    /// costs the same); a test never measured costs their mean.
    pub(crate) fn new(durations: Option<Durations>, given: HashMap<TestId, Duration>) -> Costs {
        let unknown = if given.is_empty() {
            durations.as_ref().and_then(Durations::mean)
        } else {
            Some(given.values().sum::<Duration>() / given.len() as u32)
        }
        .unwrap_or(Duration::from_secs(1));
        let mut known: HashMap<TestId, Duration> =
            durations.iter().flat_map(Durations::entries).collect();
        known.extend(given);
        Costs {
            durations,
            known,
            unknown,
        }
    }

    pub(crate) fn of(&self, test: &TestId) -> Duration {
        self.known.get(test).copied().unwrap_or(self.unknown)
    }

    fn of_group(&self, group: &Group) -> Duration {
        group.tests.iter().map(|t| self.of(t)).sum()
    }

    /// Hands the remembered durations back (to record this run's).
    pub(crate) fn into_durations(self) -> Option<Durations> {
        self.durations
    }
}

/// Puts groups, and the tests within each, in `order`.
pub(crate) fn arrange(groups: &mut [Group], order: Order, costs: &Costs) {
    match order {
        Order::Listed => {
            // Longest first; a stable sort keeps the listed order of equals.
            groups.sort_by_cached_key(|g| std::cmp::Reverse(costs.of_group(g)));
        }
        Order::Reverse => {
            groups.reverse();
            for g in groups.iter_mut() {
                g.tests.reverse();
            }
        }
        Order::Shuffle(seed) => {
            let mut rng = SplitMix64(seed);
            shuffle(groups, &mut rng);
            for g in groups.iter_mut() {
                shuffle(&mut g.tests, &mut rng);
            }
        }
    }
}

/// The next work for a free slot: the next group (or, if it may be split,
/// its first tests up to an even share per worker of what is left); and,
/// where processes are dear to start and batched (`pack` is the most tests
/// one process may run), more whole groups after it, up to an even share
/// per worker of what is left (guided self-scheduling: early takes are
/// large, so few processes start; later ones shrink, so the slots finish
/// together).
pub(crate) fn take_work(
    queue: &mut VecDeque<Group>,
    pack: Option<usize>,
    workers: usize,
    costs: &Costs,
) -> Option<Group> {
    let mut work = queue.pop_front()?;
    if let Some(limit) = pack {
        let remaining: usize =
            queue.iter().map(|g| g.tests.len()).sum::<usize>() + work.tests.len();
        let target = remaining.div_ceil(workers).min(limit);
        while let Some(next) = queue.front() {
            if next.binary != work.binary || work.tests.len() + next.tests.len() > target {
                break;
            }
            work.tests.extend(next.tests.iter().cloned());
            queue.pop_front();
        }
        return Some(work);
    }
    if work.splittable && work.tests.len() > 1 && workers > 1 {
        let remaining: Duration =
            queue.iter().map(|g| costs.of_group(g)).sum::<Duration>() + costs.of_group(&work);
        let share = remaining / workers as u32;
        let mut taken = Duration::ZERO;
        let mut split = 0;
        while split < work.tests.len() && (split == 0 || taken < share) {
            taken += costs.of(&work.tests[split]);
            split += 1;
        }
        if split < work.tests.len() {
            let rest = work.tests.split_off(split);
            queue.push_front(Group {
                binary: work.binary,
                tests: rest,
                splittable: true,
            });
        }
    }
    Some(work)
}

/// SplitMix64: a tiny, well-mixed generator; the order for a seed is
/// stable across runs and versions, which a seed printed for reproducing a
/// failure needs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Fisher–Yates.
fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> TestId {
        TestId {
            binary: "b".to_owned(),
            name: name.to_owned(),
        }
    }

    fn groups() -> Vec<Group> {
        (0..4)
            .map(|g| Group {
                binary: 0,
                tests: (0..5).map(|t| id(&format!("g{g}::t{t}"))).collect(),
                splittable: false,
            })
            .collect()
    }

    fn names(groups: &[Group]) -> Vec<String> {
        groups
            .iter()
            .flat_map(|g| g.tests.iter().map(|t| t.name.clone()))
            .collect()
    }

    fn no_history() -> Costs {
        Costs::new(None, HashMap::new())
    }

    fn remembered(durations: &[(&str, u64)]) -> Costs {
        let dir = tempfile::tempdir().unwrap();
        let path = Durations::path(dir.path(), "t");
        let (d, _) = Durations::load(path.clone());
        d.record(
            durations
                .iter()
                .map(|(n, ms)| (id(n), Duration::from_millis(*ms))),
        )
        .unwrap();
        let (d, _) = Durations::load(path);
        Costs::new(Some(d), HashMap::new())
    }

    #[test]
    fn a_seed_gives_the_same_shuffle_every_time_and_keeps_groups_together() {
        let (mut a, mut b, mut c) = (groups(), groups(), groups());
        arrange(&mut a, Order::Shuffle(42), &no_history());
        arrange(&mut b, Order::Shuffle(42), &no_history());
        arrange(&mut c, Order::Shuffle(43), &no_history());
        assert_eq!(names(&a), names(&b));
        assert_ne!(names(&a), names(&c));
        assert_ne!(names(&a), names(&groups()));
        for g in &a {
            let prefix = g.tests[0].name.split("::").next().unwrap().to_owned();
            assert!(g.tests.iter().all(|t| t.name.starts_with(&prefix)));
        }
        let mut sorted = names(&a);
        sorted.sort();
        let mut all = names(&groups());
        all.sort();
        assert_eq!(sorted, all);
    }

    #[test]
    fn remembered_durations_put_the_longest_group_first_and_new_tests_cost_the_mean() {
        let mut g = groups();
        // g2 is slow, g0 has one test never measured (it costs the mean).
        let costs = remembered(&[
            ("g2::t0", 5000),
            ("g1::t0", 10),
            ("g3::t0", 20),
            ("g0::t1", 10),
        ]);
        arrange(&mut g, Order::Listed, &costs);
        assert_eq!(g[0].tests[0].name, "g2::t0");
        assert_eq!(costs.of(&id("never::seen")), costs.unknown);
        assert_eq!(
            costs.unknown,
            Duration::from_millis((5000 + 10 + 20 + 10) / 4)
        );
        // Without history: by test count, listed order among equals.
        let mut g = groups();
        g[3].tests.push(id("g3::t9"));
        arrange(&mut g, Order::Listed, &no_history());
        assert_eq!(g[0].tests[0].name, "g3::t0");
        assert_eq!(g[1].tests[0].name, "g0::t0");
    }

    #[test]
    fn packing_takes_whole_groups_up_to_a_share_of_what_is_left() {
        let groups: Vec<Group> = (0..16)
            .map(|g| Group {
                binary: 0,
                tests: (0..3).map(|t| id(&format!("g{g}.t{t}"))).collect(),
                splittable: false,
            })
            .collect();
        let c = no_history();
        let mut queue: VecDeque<Group> = groups.iter().cloned().collect();
        // 48 tests, 2 workers: an even share is 24 tests, then 12 of the
        // 24 left, and so on.
        let first = take_work(&mut queue, Some(100), 2, &c).unwrap();
        assert_eq!(first.tests.len(), 24);
        assert_eq!(
            take_work(&mut queue, Some(100), 2, &c).unwrap().tests.len(),
            12
        );
        assert_eq!(first.tests[3].name, "g1.t0", "whole groups, in order");
        let mut unpacked: VecDeque<Group> = groups.iter().cloned().collect();
        assert_eq!(
            take_work(&mut unpacked, None, 2, &c).unwrap().tests.len(),
            3
        );
        let mut capped: VecDeque<Group> = groups.iter().cloned().collect();
        assert_eq!(
            take_work(&mut capped, Some(4), 1, &c).unwrap().tests.len(),
            3,
            "a group is never split to fit"
        );
        let mut taken = 0;
        let mut rest: VecDeque<Group> = groups.iter().cloned().collect();
        while let Some(w) = take_work(&mut rest, Some(100), 2, &c) {
            taken += w.tests.len();
        }
        assert_eq!(taken, 48);
    }

    #[test]
    fn a_splittable_group_is_taken_a_share_at_a_time_and_nothing_is_lost() {
        let long = Group {
            binary: 0,
            tests: (0..8).map(|t| id(&format!("m::t{t}"))).collect(),
            splittable: true,
        };
        let short = Group {
            binary: 0,
            tests: vec![id("n::t0"), id("n::t1")],
            splittable: true,
        };
        let c = no_history();
        let mut queue: VecDeque<Group> = [long.clone(), short].into_iter().collect();
        // 10 tests of equal cost, 2 workers: the first take is 5 of the 8.
        let first = take_work(&mut queue, None, 2, &c).unwrap();
        assert_eq!(first.tests.len(), 5);
        assert_eq!(
            queue.front().unwrap().tests[0].name,
            "m::t5",
            "the rest first"
        );
        let mut all: Vec<String> = first.tests.iter().map(|t| t.name.clone()).collect();
        while let Some(w) = take_work(&mut queue, None, 2, &c) {
            all.extend(w.tests.iter().map(|t| t.name.clone()));
        }
        assert_eq!(all.len(), 10);
        // Not splittable: whole.
        let mut whole: VecDeque<Group> = [Group {
            splittable: false,
            ..long
        }]
        .into_iter()
        .collect();
        assert_eq!(take_work(&mut whole, None, 2, &c).unwrap().tests.len(), 8);
    }

    #[test]
    fn reverse_reverses_groups_and_tests() {
        let mut g = groups();
        arrange(&mut g, Order::Reverse, &no_history());
        let mut expected = names(&groups());
        expected.reverse();
        assert_eq!(names(&g), expected);
    }
}
