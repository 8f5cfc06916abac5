//! Percentiles of one run, and the median with its min–max over several runs. Every measurement
//! of the bench uses these: the echo's round trips (nanoseconds as `u32`) and the transport
//! comparison's delivery latencies (`Duration`s) take their percentiles from one function.

use serde::{Deserialize, Serialize};

/// The `p`-th percentile (0–100) of `sorted` by the nearest-rank method: the smallest sample
/// such that at least `p` % of the samples are at or below it. `None` for no samples.
///
/// Nearest rank never invents a value between two samples, so a p99 is always a round trip (or a
/// delivery) that really happened; and it needs nothing of the samples but their order, so it
/// works on nanosecond counts and `Duration`s alike. The rank is `ceil(p / 100 × n)`, kept
/// between 1 and `n`: of 100 samples, p50 is the 50th and p99 the 99th.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The middle of several runs and how far they spread.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The median (for an even count, the mean of the two middle values).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`, or `None` if there are none (or one is not a number).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Spread { median, min: values[0], max: values[n - 1] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_are_real_samples() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(50));
        assert_eq!(percentile(&sorted, 99.0), Some(99));
        assert_eq!(percentile(&sorted, 100.0), Some(100));
        assert_eq!(percentile(&sorted, 0.0), Some(1), "p0 is the smallest sample");
        assert_eq!(percentile(&[7, 9], 50.0), Some(7), "not 8: nearest rank does not interpolate");
    }

    #[test]
    fn no_samples_have_no_percentile() {
        assert_eq!(percentile::<u32>(&[], 50.0), None);
    }

    #[test]
    fn durations_take_the_same_ranks_as_numbers() {
        use std::time::Duration;
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&sorted, 99.0), Some(Duration::from_millis(99)));
        let three = [Duration::from_micros(300), Duration::from_micros(400), Duration::from_micros(2800)];
        assert_eq!(percentile(&three, 99.0), Some(Duration::from_micros(2800)), "rank ceil(2.97) = 3");
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let spread = Spread::of([4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(spread, Spread { median: 2.5, min: 1.0, max: 4.0 });
        assert_eq!(Spread::of([5.0, 1.0, 3.0]).unwrap().median, 3.0);
    }

    #[test]
    fn nothing_to_summarise_is_none() {
        assert_eq!(Spread::of([]), None);
        assert_eq!(Spread::of([1.0, f64::NAN]), None);
    }
}
