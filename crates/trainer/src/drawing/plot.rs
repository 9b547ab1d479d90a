//! Charts as PNG files, drawn pixel by pixel: scatter plots (latent maps) and line
//! charts (loss curves, rate–distortion), with axes, ticks and a legend.

use std::path::Path;

use anyhow::{Context, Result};

use crate::artifact::write_atomic;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Ten distinguishable colours (matplotlib's `tab10`), one per class or series.
pub const PALETTE: [Rgb; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

const BLACK: Rgb = [0, 0, 0];
const GREY: Rgb = [200, 200, 200];

/// An RGB image to draw on; white to start with.
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<Rgb>,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![[255; 3]; width * height],
        }
    }

    /// `top` above `bottom`, as wide as the wider.
    pub fn stacked(top: Canvas, bottom: Canvas) -> Canvas {
        let mut out = Canvas::new(top.width.max(bottom.width), top.height + bottom.height);
        for (dy, part) in [(0, &top), (top.height, &bottom)] {
            for y in 0..part.height {
                let row = &part.pixels[y * part.width..(y + 1) * part.width];
                let at = (dy + y) * out.width;
                out.pixels[at..at + part.width].copy_from_slice(row);
            }
        }
        out
    }

    /// The colour at `(x, y)`.
    pub fn get(&self, x: usize, y: usize) -> Option<Rgb> {
        (x < self.width && y < self.height).then(|| self.pixels[y * self.width + x])
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = c;
        }
    }

    /// A filled rectangle, corners included.
    pub fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb) {
        for y in y0.min(y1)..=y0.max(y1) {
            for x in x0.min(x1)..=x0.max(x1) {
                self.set(x, y, c);
            }
        }
    }

    /// A filled disc.
    pub fn dot(&mut self, x: i64, y: i64, radius: i64, c: Rgb) {
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                if dx * dx + dy * dy <= radius * radius {
                    self.set(x + dx, y + dy, c);
                }
            }
        }
    }

    /// A straight line two pixels wide (Bresenham).
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.rect(x, y, x + 1, y + 1, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// ASCII text in an 8×8 bitmap font, its top-left corner at `(x, y)`; other
    /// characters show as `?`. Returns the width drawn.
    pub fn text(&mut self, x: i64, y: i64, text: &str, c: Rgb) -> i64 {
        for (k, ch) in text.chars().enumerate() {
            let code = if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            };
            let glyph = font8x8::legacy::BASIC_LEGACY[code];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.set(x + 8 * k as i64 + col, y + row as i64, c);
                    }
                }
            }
        }
        text_width(text)
    }

    /// Writes the canvas as an RGB PNG.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, self.width as u32, self.height as u32);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().context("encoding PNG")?;
            let flat: Vec<u8> = self.pixels.iter().flatten().copied().collect();
            writer.write_image_data(&flat).context("encoding PNG")?;
        }
        write_atomic(path, &bytes)
    }
}

fn text_width(text: &str) -> i64 {
    8 * text.chars().count() as i64
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A dot per point.
    Points,
    /// Points joined by lines, with a marker on each.
    Line,
    /// Points joined by lines, no markers (long series).
    Path,
}

/// One named set of points.
pub struct Series {
    /// Name shown in the legend.
    pub name: String,
    /// `(x, y)` points.
    pub points: Vec<(f64, f64)>,
    /// How it is drawn.
    pub style: Style,
}

/// A chart: axes fitted to the data, with ticks, labels and a legend.
pub struct Chart {
    /// Above the plot.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// The data, coloured in order from [`PALETTE`].
    pub series: Vec<Series>,
    /// Whether to draw tick values and grid lines (a t-SNE map's axes mean nothing).
    pub axes: bool,
    /// A logarithmic x axis (positive x only).
    pub log_x: bool,
}

/// Margins around the plot area, in pixels.
const LEFT: i64 = 80;
const TOP: i64 = 36;
const BOTTOM: i64 = 48;

impl Chart {
    /// Draws the chart on a `width` × `height` canvas.
    pub fn render(&self, width: usize, height: usize) -> Canvas {
        let mut canvas = Canvas::new(width, height);
        let legend_width = self
            .series
            .iter()
            .map(|s| text_width(&s.name))
            .max()
            .unwrap_or(0)
            + 40;
        let (x0, y0) = (LEFT, TOP);
        let (x1, y1) = (width as i64 - legend_width - 16, height as i64 - BOTTOM);
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let finite = |v: &f64| v.is_finite();
        let fx = |x: f64| if self.log_x { x.log10() } else { x };
        let (xmin, xmax) = bounds(all().map(|p| fx(p.0)).filter(finite));
        let (ymin, ymax) = bounds(all().map(|p| p.1).filter(finite));
        // `px` takes axis units (log10 of x on a log axis).
        let px = |x: f64| x0 + ((x - xmin) / (xmax - xmin) * (x1 - x0) as f64).round() as i64;
        let py = |y: f64| y1 - ((y - ymin) / (ymax - ymin) * (y1 - y0) as f64).round() as i64;

        if self.axes {
            let x_ticks: Vec<(f64, String)> = if self.log_x {
                log_ticks(xmin, xmax)
            } else {
                let (xt, xstep) = ticks(xmin, xmax);
                xt.into_iter().map(|t| (t, format_tick(t, xstep))).collect()
            };
            for (t, label) in x_ticks {
                canvas.rect(px(t), y0, px(t), y1, GREY);
                canvas.text(px(t) - text_width(&label) / 2, y1 + 8, &label, BLACK);
            }
            let (yt, ystep) = ticks(ymin, ymax);
            for t in yt {
                canvas.rect(x0, py(t), x1, py(t), GREY);
                let label = format_tick(t, ystep);
                canvas.text(x0 - 6 - text_width(&label), py(t) - 4, &label, BLACK);
            }
        }
        canvas.rect(x0, y1, x1, y1, BLACK);
        canvas.rect(x0, y0, x0, y1, BLACK);
        let title_x = (x0 + x1) / 2 - text_width(&self.title) / 2;
        canvas.text(title_x, 12, &self.title, BLACK);
        let xl_x = (x0 + x1) / 2 - text_width(&self.x_label) / 2;
        canvas.text(xl_x, y1 + 28, &self.x_label, BLACK);
        canvas.text(8, y0 - 20, &self.y_label, BLACK);

        for (k, s) in self.series.iter().enumerate() {
            let c = PALETTE[k % PALETTE.len()];
            let pts: Vec<(i64, i64)> = s
                .points
                .iter()
                .map(|&(x, y)| (fx(x), y))
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|(x, y)| (px(x), py(y)))
                .collect();
            match s.style {
                Style::Points => pts.iter().for_each(|&(x, y)| canvas.dot(x, y, 2, c)),
                Style::Line => {
                    for w in pts.windows(2) {
                        canvas.line(w[0], w[1], c);
                    }
                    pts.iter().for_each(|&(x, y)| canvas.dot(x, y, 3, c));
                }
                Style::Path => {
                    for w in pts.windows(2) {
                        canvas.line(w[0], w[1], c);
                    }
                }
            }
            // Legend: a swatch and the name.
            let ly = y0 + 16 * k as i64;
            canvas.rect(x1 + 16, ly, x1 + 26, ly + 8, c);
            canvas.text(x1 + 32, ly, &s.name, BLACK);
        }
        canvas
    }

    /// Renders and writes the chart as a PNG.
    pub fn save_png(&self, path: &Path, width: usize, height: usize) -> Result<()> {
        self.render(width, height).save_png(path)
    }
}

/// The range of `values`, widened by 5 % (or to ±1 around a single value).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Round tick values (1, 2 or 5 × 10ᵏ apart), four to eight of them, inside `[lo, hi]`,
/// and the step between them.
fn ticks(lo: f64, hi: f64) -> (Vec<f64>, f64) {
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    ((first..=last).map(|k| k as f64 * step).collect(), step)
}

/// Ticks of a log axis spanning `[lo, hi]` in log10 units: every power of ten, and
/// 2× and 5× it when the axis spans less than three decades; `(position, label)`.
fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let multiples: &[f64] = if hi - lo < 3.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut out = Vec::new();
    for decade in (lo.floor() as i64)..=(hi.ceil() as i64) {
        for &m in multiples {
            let v = m * 10f64.powi(decade as i32);
            let at = v.log10();
            if (lo..=hi).contains(&at) {
                out.push((at, format_tick(v, 10f64.powi(decade as i32))));
            }
        }
    }
    out
}

/// A tick value with as many decimals as the step between ticks needs.
fn format_tick(t: f64, step: f64) -> String {
    if t == 0.0 {
        return "0".into();
    }
    if !(1e-4..1e6).contains(&step) {
        return format!("{t:.0e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{t:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 10.0), (vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 2.0));
        let (t, step) = ticks(0.013, 0.087);
        assert!(
            t.len() >= 4 && t.iter().all(|&v| (0.013..=0.087).contains(&v)),
            "{t:?}"
        );
        assert_eq!(format_tick(t[1], step), "0.04");
        assert_eq!(format_tick(0.08, 0.02), "0.08");
        assert_eq!(format_tick(250.0, 50.0), "250");
        assert_eq!(format_tick(1.5, 0.5), "1.5");
        assert_eq!(format_tick(0.0, 0.5), "0");
        let log: Vec<String> = log_ticks(1.0, 3.5).into_iter().map(|t| t.1).collect();
        assert_eq!(log, ["10", "20", "50", "100", "200", "500", "1000", "2000"]);
    }

    #[test]
    fn series_are_drawn_in_their_colours_with_a_legend() {
        let chart = Chart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![
                Series {
                    name: "a".into(),
                    points: vec![(0.0, 0.0), (1.0, 1.0)],
                    style: Style::Line,
                },
                Series {
                    name: "b".into(),
                    points: vec![(0.5, 0.2)],
                    style: Style::Points,
                },
            ],
            axes: true,
            log_x: false,
        };
        let canvas = chart.render(400, 300);
        let count = |c: Rgb| {
            (0..300)
                .flat_map(|y| (0..400).map(move |x| (x, y)))
                .filter(|&(x, y)| canvas.get(x, y) == Some(c))
                .count()
        };
        assert!(count(PALETTE[0]) > 100, "the line and its legend swatch");
        assert!(count(PALETTE[1]) > 20, "the point and its legend swatch");
        assert!(count(BLACK) > 300, "axes and text");
        let tmp = tempfile::tempdir().expect("temp dir");
        chart
            .save_png(&tmp.path().join("c.png"), 400, 300)
            .expect("written");
        assert!(tmp.path().join("c.png").is_file());
    }
}
