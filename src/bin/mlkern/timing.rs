//! `--repeat R`: time the kernel alone, R runs, median and minimum.

use std::time::Instant;

use serde_json::{Value, json};

/// Wall-clock times of repeated kernel runs, in seconds.
#[derive(Debug, Clone)]
pub struct Timing {
    runs_s: Vec<f64>,
}

impl Timing {
    /// Runs `kernel` `repeat` times (at least once) and keeps the last result. With `repeat > 1`
    /// one untimed warm-up run goes first (first-touch page faults of fresh buffers, thread-pool
    /// start-up), as `benches/compare/` does for every anchor.
    pub fn measure<R, E>(
        repeat: u32,
        mut kernel: impl FnMut() -> Result<R, E>,
    ) -> Result<(R, Timing), E> {
        if repeat > 1 {
            kernel()?;
        }
        let mut runs_s = Vec::with_capacity(repeat as usize);
        let mut last = None;
        for _ in 0..repeat.max(1) {
            let t0 = Instant::now();
            let r = kernel()?;
            runs_s.push(t0.elapsed().as_secs_f64());
            last = Some(r);
        }
        match last {
            Some(r) => Ok((r, Timing { runs_s })),
            None => unreachable!("repeat.max(1) runs at least once"),
        }
    }

    /// Median of the runs (mean of the two middle ones for an even count).
    pub fn median_s(&self) -> f64 {
        let mut v = self.runs_s.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    }

    /// Fastest run.
    pub fn min_s(&self) -> f64 {
        self.runs_s.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// `{"median_s", "min_s", "runs"}` as in the CLI contract.
    pub fn to_json(&self) -> Value {
        json!({ "median_s": self.median_s(), "min_s": self.min_s(), "runs": self.runs_s.len() })
    }

    /// Human-readable median, e.g. `1.23 ms`.
    pub fn human(&self) -> String {
        human_seconds(self.median_s())
    }
}

/// Formats seconds with a unit that keeps three significant digits.
pub fn human_seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.3} µs", s * 1e6)
    } else {
        format!("{:.1} ns", s * 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_min() {
        let t = Timing {
            runs_s: vec![3.0, 1.0, 2.0, 10.0],
        };
        assert_eq!(t.median_s(), 2.5);
        assert_eq!(t.min_s(), 1.0);
        let t = Timing {
            runs_s: vec![3.0, 1.0, 2.0],
        };
        assert_eq!(t.median_s(), 2.0);
        assert_eq!(t.to_json()["runs"], 3);
    }

    #[test]
    fn repeat_counts_runs() {
        // R > 1: one untimed warm-up call, then R timed ones.
        let mut n = 0;
        let (r, t) = Timing::measure::<_, ()>(5, || {
            n += 1;
            Ok(n)
        })
        .unwrap();
        assert_eq!((r, t.runs_s.len()), (6, 5));
        // R = 1: a single timed call, no warm-up.
        let mut n = 0;
        let (r, t) = Timing::measure::<_, ()>(1, || {
            n += 1;
            Ok(n)
        })
        .unwrap();
        assert_eq!((r, t.runs_s.len()), (1, 1));
    }
}
