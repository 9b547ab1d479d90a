//! Time series as tables: the rows of a CSV or `.npy` file are time steps, its
//! columns the channels, and [`Windows`] cuts them into sliding windows, each one a
//! sample of `size × channels` values, step after step (`[t₀c₀, t₀c₁, …, t₁c₀, …]`).
//!
//! A windowed [`TableSpec`](super::TableSpec) splits by time — the test part is the
//! last share of the steps, after every training step — standardises every channel
//! with the training steps' statistics, keeps the training windows in time order
//! (so the trainer's validation share is the latest of them), and labels each window
//! with the largest label of its steps (with per-step anomaly labels 0/1: whether the
//! window holds an anomalous step). [`Windows::point_scores`] turns the scores of the
//! windows back into scores of the steps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Table;

/// Sliding windows over a series: `size` consecutive steps, one window every
/// `stride` steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Windows {
    /// Steps per window.
    pub size: usize,
    /// Steps from one window's start to the next's.
    pub stride: usize,
}

impl Windows {
    /// Windows of `size` steps, one every `stride` steps; the error says which is 0.
    pub fn new(size: usize, stride: usize) -> Result<Self, String> {
        if size == 0 || stride == 0 {
            return Err(format!(
                "window {size}, stride {stride}: expected both at least 1 step"
            ));
        }
        Ok(Self { size, stride })
    }

    /// How many whole windows fit in `steps` steps.
    pub fn count(&self, steps: usize) -> usize {
        if steps < self.size {
            0
        } else {
            (steps - self.size) / self.stride.max(1) + 1
        }
    }

    /// The steps of window `i`.
    fn span(&self, i: usize) -> std::ops::Range<usize> {
        i * self.stride..i * self.stride + self.size
    }

    /// The windows of `series` (rows are steps), one row of `size × columns` values
    /// each, in time order.
    pub fn cut(&self, series: &Table) -> Table {
        let n = self.count(series.count);
        let width = self.size * series.columns;
        let mut values = Vec::with_capacity(n * width);
        for i in 0..n {
            let steps = self.span(i);
            values.extend_from_slice(
                &series.values[steps.start * series.columns..steps.end * series.columns],
            );
        }
        Table {
            count: n,
            columns: width,
            values,
        }
    }

    /// Each window's label: the largest label among its steps.
    pub fn labels(&self, steps: &[u8]) -> Vec<u8> {
        (0..self.count(steps.len()))
            .map(|i| steps[self.span(i)].iter().copied().max().unwrap_or(0))
            .collect()
    }

    /// Scores of the `steps` steps from the scores of their windows (as [`cut`]
    /// makes them): a step's score is the mean of the scores of the windows that
    /// hold it; `None` for the last steps no whole window reaches.
    ///
    /// [`cut`]: Self::cut
    pub fn point_scores(&self, window_scores: &[f32], steps: usize) -> Vec<Option<f32>> {
        let mut sum = vec![0.0f64; steps];
        let mut covered = vec![0u32; steps];
        for (i, &score) in window_scores.iter().enumerate() {
            for t in self.span(i).filter(|&t| t < steps) {
                sum[t] += f64::from(score);
                covered[t] += 1;
            }
        }
        sum.iter()
            .zip(&covered)
            .map(|(&s, &n)| (n > 0).then(|| (s / f64::from(n)) as f32))
            .collect()
    }
}

/// [`Windows::cut`] over a series read piece by piece (a file of new steps streamed in
/// batches): each [`push`](Self::push) hands out the windows its steps complete and
/// keeps only the steps a later window still needs.
#[derive(Clone, Debug)]
pub struct WindowStream {
    windows: Windows,
    channels: usize,
    /// Steps from `start` on, `channels` values each.
    buffer: Vec<f32>,
    start: usize,
    /// The first step of the next window.
    next: usize,
    emitted: usize,
}

impl WindowStream {
    /// A stream of `windows` over steps of `channels` values.
    pub fn new(windows: Windows, channels: usize) -> Self {
        Self {
            windows,
            channels: channels.max(1),
            buffer: Vec::new(),
            start: 0,
            next: 0,
            emitted: 0,
        }
    }

    /// Takes the next `steps` (whole steps of `channels` values), appends the windows
    /// they complete to `out`, and returns how many.
    pub fn push(&mut self, steps: &[f32], out: &mut Vec<f32>) -> usize {
        let c = self.channels;
        self.buffer.extend_from_slice(steps);
        let held = self.buffer.len() / c;
        let mut made = 0;
        while self.next + self.windows.size <= self.start + held {
            let from = (self.next - self.start) * c;
            out.extend_from_slice(&self.buffer[from..from + self.windows.size * c]);
            self.next += self.windows.stride;
            made += 1;
        }
        let drop = (self.next - self.start).min(held);
        self.buffer.drain(..drop * c);
        self.start += drop;
        self.emitted += made;
        made
    }

    /// Windows handed out so far.
    pub fn emitted(&self) -> usize {
        self.emitted
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.start + self.buffer.len() / self.channels
    }
}

impl fmt::Display for Windows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "windows of {} steps every {}", self.size, self.stride)
    }
}

impl FromStr for Windows {
    type Err = String;

    /// `SIZE` (stride 1) or `SIZE:STRIDE`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (size, stride) = s.split_once(':').unwrap_or((s, "1"));
        let number = |v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{s}': expected SIZE or SIZE:STRIDE, whole numbers of steps"))
        };
        Self::new(number(size)?, number(stride)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TableSpec;

    /// The monthly El Niño sea temperatures shipped in the crate (732 months).
    fn elnino() -> TableSpec {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/series/elnino.csv");
        TableSpec {
            time_column: Some("month".into()),
            window: Some(Windows::new(24, 1).expect("valid")),
            ..TableSpec::new(path)
        }
    }

    #[test]
    fn a_real_series_splits_in_time_and_standardises_with_the_training_steps() {
        let t = elnino().load(None).expect("loads");
        // 732 months: the last 146 (20 %) are the test part; 586 training months make
        // 563 windows of 24, the test months 123.
        assert_eq!((t.train.0.count, t.train.0.columns), (563, 24));
        assert_eq!((t.test.0.count, t.test.0.columns), (123, 24));
        assert_eq!(t.standardizer.names, ["sst"]);
        // The training months standardised: the windows in time order overlap by all
        // but one step, and their first steps are the months 0..563.
        assert_eq!(t.train.0.row(1)[..23], t.train.0.row(0)[1..]);
        let (mean, std) = (t.standardizer.mean[0], t.standardizer.std[0]);
        assert!(
            (22.0..24.0).contains(&mean) && (1.5..3.0).contains(&std),
            "{mean} {std}"
        );
        // The first test window starts at month 586, 1998-11: 21.60 °C.
        let first = t.test.0.row(0)[0] * std + mean;
        assert!((first - 21.6).abs() < 1e-3, "{first}");
        assert!(t.train.1.iter().chain(&t.test.1).all(|&l| l == 0));
    }

    #[test]
    fn series_errors_name_the_file_the_value_and_what_would_do() {
        let long = TableSpec {
            window: Some(Windows::new(200, 1).expect("valid")),
            ..elnino()
        };
        let err = long
            .load(None)
            .expect_err("longer than the test part")
            .to_string();
        assert!(err.contains("elnino.csv"), "{err}");
        assert!(
            err.contains("200 steps is longer than the test part of the series (146"),
            "{err}"
        );
        let no_time = TableSpec {
            time_column: Some("date".into()),
            ..elnino()
        };
        let err = no_time.load(None).expect_err("no such column").to_string();
        assert!(
            err.contains("no time column 'date': the header has month, sst"),
            "{err}"
        );
        let unnamed = TableSpec {
            time_column: None,
            ..elnino()
        };
        let err = unnamed.load(None).expect_err("a text column").to_string();
        assert!(err.contains("'1950-01' is not a finite number"), "{err}");
        let zero = TableSpec {
            window: Some(Windows { size: 0, stride: 1 }),
            ..elnino()
        };
        assert!(zero.load(None).is_err());
    }

    fn series(steps: usize, channels: usize) -> Table {
        Table {
            count: steps,
            columns: channels,
            values: (0..steps * channels).map(|v| v as f32).collect(),
        }
    }

    #[test]
    fn windows_hold_consecutive_steps_of_every_channel() {
        let w = Windows::new(3, 2).expect("valid");
        // Steps 0..7: windows start at 0, 2, 4; step 6 is left over.
        let t = w.cut(&series(7, 2));
        assert_eq!((t.count, t.columns), (3, 6));
        assert_eq!(t.row(0), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(t.row(2), [8.0, 9.0, 10.0, 11.0, 12.0, 13.0]);
        assert_eq!(w.count(2), 0);
        assert_eq!(w.labels(&[0, 0, 0, 1, 0, 0, 0]), [0, 1, 0]);
    }

    #[test]
    fn a_stream_cut_in_any_pieces_makes_the_windows_of_the_whole() {
        let whole = series(23, 2);
        for (size, stride) in [(3, 1), (3, 2), (4, 5), (1, 1)] {
            let w = Windows::new(size, stride).expect("valid");
            for piece in [1, 2, 7, 23] {
                let mut stream = WindowStream::new(w, 2);
                let mut out = Vec::new();
                for steps in whole.values.chunks(piece * 2) {
                    stream.push(steps, &mut out);
                }
                assert_eq!(out, w.cut(&whole).values, "{w}, pieces of {piece}");
                assert_eq!(stream.emitted(), w.count(23));
                assert_eq!(stream.steps(), 23);
            }
        }
    }

    #[test]
    fn a_step_scores_the_mean_of_the_windows_that_hold_it() {
        let w = Windows::new(2, 1).expect("valid");
        let points = w.point_scores(&[1.0, 3.0, 5.0], 4);
        assert_eq!(points, [Some(1.0), Some(2.0), Some(4.0), Some(5.0)]);
        // Stride 2 over 5 steps: the fifth step is in no window.
        let w = Windows::new(2, 2).expect("valid");
        assert_eq!(w.point_scores(&[1.0, 3.0], 5)[4], None);
    }

    #[test]
    fn windows_parse_and_zero_is_refused() {
        assert_eq!(
            "24".parse(),
            Ok(Windows {
                size: 24,
                stride: 1
            })
        );
        assert_eq!(
            "24:6".parse(),
            Ok(Windows {
                size: 24,
                stride: 6
            })
        );
        for bad in ["0", "24:0", "x", "24:"] {
            let err = bad.parse::<Windows>().expect_err(bad);
            assert!(err.contains("expected"), "{bad}: {err}");
        }
    }
}
