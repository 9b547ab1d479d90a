//! The picture of a series scored by a model of its windows: the series and its
//! reconstruction step by step (in the file's units), above the step scores.

use std::path::PathBuf;

use ae_data::Windows;
use anyhow::Result;

use crate::drawing::plot::{Canvas, Chart, Series, Style};

/// Pixels of each of the two panels.
const WIDTH: usize = 1000;
const HEIGHT: usize = 320;

/// The steps of a series and their reconstructions, gathered window by window as a
/// file streams through a model; the first channel only.
pub struct SeriesPicture {
    path: PathBuf,
    windows: Windows,
    channels: usize,
    /// Each step's value.
    values: Vec<f32>,
    /// Each step's reconstructions, summed over the windows that hold it, and their
    /// count.
    sums: Vec<f64>,
    counts: Vec<u32>,
    scores: Vec<f32>,
}

impl SeriesPicture {
    /// A picture of windows cut as `windows` cuts them from steps of `channels` values.
    pub fn new(path: PathBuf, windows: Windows, channels: usize) -> Self {
        Self {
            path,
            windows,
            channels,
            values: Vec::new(),
            sums: Vec::new(),
            counts: Vec::new(),
            scores: Vec::new(),
        }
    }

    /// Windows `first`… of the series: their values and reconstructions (step after
    /// step, `channels` values each) and their scores.
    pub fn take(&mut self, first: usize, inputs: &[f32], outputs: &[f32], scores: &[f64]) {
        let size = self.windows.size * self.channels;
        let windows = inputs.chunks(size).zip(outputs.chunks(size));
        for (k, (x, y)) in windows.enumerate() {
            let start = (first + k) * self.windows.stride;
            let end = start + self.windows.size;
            if self.values.len() < end {
                self.values.resize(end, f32::NAN);
                self.sums.resize(end, 0.0);
                self.counts.resize(end, 0);
            }
            for (j, t) in (start..end).enumerate() {
                self.values[t] = x[j * self.channels];
                self.sums[t] += f64::from(y[j * self.channels]);
                self.counts[t] += 1;
            }
        }
        self.scores.extend(scores.iter().map(|&s| s as f32));
    }

    /// Draws the two panels into the picture's file; returns its path.
    pub fn save(self) -> Result<PathBuf> {
        let steps = self.values.len();
        let line = |name: &str, points: Vec<(f64, f64)>| Series {
            name: name.into(),
            points,
            style: Style::Path,
        };
        let value = |t: usize| f64::from(self.values[t]);
        let reconstructed = |t: usize| self.sums[t] / f64::from(self.counts[t].max(1));
        let top = Chart {
            title: "the series (first column) and its reconstruction".into(),
            x_label: "step".into(),
            y_label: "value".into(),
            series: vec![
                line("series", (0..steps).map(|t| (t as f64, value(t))).collect()),
                line(
                    "reconstruction",
                    (0..steps).map(|t| (t as f64, reconstructed(t))).collect(),
                ),
            ],
            axes: true,
            log_x: false,
        };
        let step_scores = self.windows.point_scores(&self.scores, steps);
        let bottom = Chart {
            title: "step scores: the mean score of the windows that hold each step".into(),
            x_label: "step".into(),
            y_label: "score".into(),
            series: vec![line(
                "step score",
                step_scores
                    .iter()
                    .enumerate()
                    .filter_map(|(t, s)| s.map(|s| (t as f64, f64::from(s))))
                    .collect(),
            )],
            axes: true,
            log_x: false,
        };
        Canvas::stacked(top.render(WIDTH, HEIGHT), bottom.render(WIDTH, HEIGHT))
            .save_png(&self.path)?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_average_the_reconstructions_of_the_windows_that_hold_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let windows = Windows::new(3, 1).expect("valid");
        let mut picture = SeriesPicture::new(dir.path().join("s.png"), windows, 2);
        // Steps 0..5 of two channels, the first channel t, the second 100 + t; windows
        // 0, 1 and 2, each reconstructed as its values plus its index.
        let window = |i: usize| -> Vec<f32> {
            (i..i + 3)
                .flat_map(|t| [t as f32, 100.0 + t as f32])
                .collect()
        };
        let inputs: Vec<f32> = (0..3).flat_map(window).collect();
        let outputs: Vec<f32> = (0..3)
            .flat_map(|i| window(i).into_iter().map(move |v| v + i as f32))
            .collect();
        picture.take(0, &inputs[..12], &outputs[..12], &[1.0, 2.0]);
        picture.take(2, &inputs[12..], &outputs[12..], &[3.0]);
        assert_eq!(picture.values, [0.0, 1.0, 2.0, 3.0, 4.0]);
        // Step 2 is in windows 0, 1 and 2: reconstructed as 2, 3 and 4.
        assert_eq!(picture.sums[2] / f64::from(picture.counts[2]), 3.0);
        assert_eq!(picture.counts, [1, 2, 3, 2, 1]);
        let path = picture.save().expect("drawn");
        let png = std::fs::read(&path).expect("written");
        assert_eq!(&png[1..4], b"PNG");
    }
}
