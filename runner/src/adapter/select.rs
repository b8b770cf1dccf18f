//! Which listed tests a run takes: the filters, then the partition (CI
//! shards, see `partition`), before the tests are grouped. Ignored tests
//! go through both too, so each is counted once: in the shard it is in.

use crate::adapter::Listing;
use crate::error::RunError;
use crate::events::TestId;
use crate::partition::{self, Partition};

/// The listings cut down to this run's tests.
#[derive(Debug)]
pub(crate) struct Selected {
    /// Each listing with only its selected runnable tests (and no ignored
    /// ones: they are in `ignored`).
    pub(crate) listings: Vec<Listing>,
    /// The selected ignored tests, in listed order.
    pub(crate) ignored: Vec<TestId>,
    /// Tests no filter matched.
    pub(crate) filtered_out: usize,
    /// Tests the filters took that are in other shards.
    pub(crate) other_shards: usize,
}

/// Keeps the tests whose `binary name` contains one of `filters` (all if
/// there are none), then those in `partition`'s shard.
pub(crate) fn select(
    listings: Vec<Listing>,
    filters: &[String],
    partition: Option<&Partition>,
    costs: &(dyn Fn(&TestId) -> std::time::Duration + Sync),
) -> Result<Selected, RunError> {
    let matches = |id: &TestId| {
        filters.is_empty() || {
            let shown = id.to_string();
            filters.iter().any(|f| shown.contains(f.as_str()))
        }
    };
    let mut filtered_out = 0;
    let mut runnable: Vec<(usize, TestId)> = Vec::new();
    let mut ignored: Vec<TestId> = Vec::new();
    let mut out = Vec::with_capacity(listings.len());
    for (index, listing) in listings.into_iter().enumerate() {
        let id = |name| TestId {
            binary: listing.binary_id.clone(),
            name,
        };
        for test in listing.tests.into_iter().map(id) {
            if matches(&test) {
                runnable.push((index, test));
            } else {
                filtered_out += 1;
            }
        }
        for test in listing.ignored.into_iter().map(id) {
            if matches(&test) {
                ignored.push(test);
            } else {
                filtered_out += 1;
            }
        }
        out.push(Listing {
            binary: listing.binary,
            binary_id: listing.binary_id,
            tests: Vec::new(),
            ignored: Vec::new(),
        });
    }
    let mut other_shards = 0;
    if let Some(partition) = partition {
        let bad = |message| RunError::BadSetting {
            config: "--partition".into(),
            key: partition.to_string(),
            message,
        };
        let index: std::collections::HashMap<TestId, usize> =
            runnable.iter().map(|(i, t)| (t.clone(), *i)).collect();
        let tests = runnable.into_iter().map(|(_, t)| t).collect();
        let (kept, moved) = partition::select(tests, partition, Some(costs)).map_err(bad)?;
        other_shards += moved;
        runnable = kept.into_iter().map(|t| (index[&t], t)).collect();
        // Ignored tests by their hash whatever the kind: a slice of them
        // would shift with the runnable ones.
        let (kept, moved) = partition::select(ignored, &partition.as_hash(), None).map_err(bad)?;
        other_shards += moved;
        ignored = kept;
    }
    for (index, test) in runnable {
        out[index].tests.push(test.name);
    }
    Ok(Selected {
        listings: out,
        ignored,
        filtered_out,
        other_shards,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listings() -> Vec<Listing> {
        (0..2)
            .map(|b| Listing {
                binary: b,
                binary_id: format!("pkg::bin{b}"),
                tests: (0..30).map(|t| format!("m{}::t{t}", t % 4)).collect(),
                ignored: vec!["slow::one".to_owned(), "m1::slow".to_owned()],
            })
            .collect()
    }

    #[test]
    fn filters_then_shards_ignored_tests_included() {
        let all = select(listings(), &[], None, &|_| std::time::Duration::ZERO).unwrap();
        assert_eq!(all.ignored.len(), 4);
        assert_eq!(all.filtered_out, 0);
        let filtered = select(listings(), &["bin1 m1::".to_owned()], None, &|_| {
            std::time::Duration::ZERO
        })
        .unwrap();
        assert_eq!(filtered.listings[0].tests.len(), 0);
        assert_eq!(filtered.listings[1].tests.len(), 8);
        assert_eq!(filtered.ignored.len(), 1);
        assert_eq!(filtered.filtered_out, 60 + 4 - 8 - 1);

        let mut runnable = 0;
        let mut ignored = 0;
        for shard in 1..=3 {
            let p = Partition::Hash { shard, total: 3 };
            let s = select(listings(), &[], Some(&p), &|_| {
                std::time::Duration::from_secs(1)
            })
            .unwrap();
            let here: usize = s.listings.iter().map(|l| l.tests.len()).sum();
            assert_eq!(here + s.ignored.len() + s.other_shards, 64);
            runnable += here;
            ignored += s.ignored.len();
        }
        assert_eq!((runnable, ignored), (60, 4));
    }
}
