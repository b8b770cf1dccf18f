//! Samples and their summary: median, minimum and maximum of several rounds.

use std::time::Duration;

use serde::Serialize;

/// What several rounds of one measurement gave: every sample (in rounds
/// order) and their median, minimum and maximum.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Stats {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) samples: Vec<f64>,
}

impl Stats {
    /// The summary of `samples` (at least one).
    pub(crate) fn of(samples: &[f64]) -> Stats {
        assert!(!samples.is_empty(), "a measurement has at least one round");
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        // The median of an even count is the mean of the middle two, so
        // that two rounds give their mean rather than the larger one.
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            samples: samples.to_vec(),
        }
    }

    /// The summary of durations, in seconds.
    pub(crate) fn of_durations(samples: &[Duration]) -> Stats {
        Stats::of(
            &samples
                .iter()
                .map(Duration::as_secs_f64)
                .collect::<Vec<_>>(),
        )
    }

    /// `median (min–max)` in a unit chosen for the magnitude of seconds.
    pub(crate) fn seconds(&self) -> String {
        if self.samples.len() == 1 {
            return secs(self.median);
        }
        format!(
            "{} ({}–{})",
            secs(self.median),
            secs(self.min),
            secs(self.max)
        )
    }
}

/// Seconds for people: `840 ms`, `1.24 s`, `73.1 s`.
pub(crate) fn secs(s: f64) -> String {
    if s < 0.001 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A ratio for people: `2.4×`.
pub(crate) fn times(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.2}×")
    }
}

/// Kibibytes for people: `5.1 MiB`.
pub(crate) fn kib(k: f64) -> String {
    format!("{:.1} MiB", k / 1024.0)
}

/// A speed-up for people: `2.40× faster` when above 1, `1.25× slower`
/// (the inverse) when below.
pub(crate) fn faster(ratio: f64) -> String {
    if ratio >= 1.0 {
        format!("{} faster", times(ratio))
    } else {
        format!("{} slower", times(1.0 / ratio))
    }
}
