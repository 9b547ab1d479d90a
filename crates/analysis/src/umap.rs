//! UMAP (McInnes, Healy & Melville, 2018), as umap-learn computes it: a fuzzy graph of
//! each point's nearest neighbours (found exactly, the rows shared among the cores),
//! each point's distances scaled so that its neighbours' memberships sum to
//! log₂ `neighbours`, the graph made symmetric by the fuzzy union, then a 2-D layout
//! from the leading principal components moved by stochastic gradient descent on the
//! cross-entropy between the graph and the layout's similarities `1 / (1 + a d²ᵇ)`,
//! edges sampled in proportion to their weight and `negative_samples` random points
//! pushed away for each.

use crate::neighbours::nearest_rows;
use crate::random::Rng;
use crate::{AnalysisError, Pca, rows};

/// Settings of [`umap`]; the defaults are umap-learn's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UmapOptions {
    /// Size of the neighbourhood each point's memberships span, itself included.
    pub neighbours: usize,
    /// How close points may sit in the layout (in units of `spread`).
    pub min_dist: f64,
    /// The scale of the layout's similarities.
    pub spread: f64,
    /// Passes of gradient descent; `None` takes 500 up to 10,000 points, 200 above.
    pub epochs: Option<usize>,
    /// Initial step size (decays linearly to 0).
    pub learning_rate: f64,
    /// Random points pushed away for each sampled edge.
    pub negative_samples: usize,
    /// Seed of the initial noise and of the negative samples.
    pub seed: u64,
}

impl Default for UmapOptions {
    fn default() -> Self {
        Self {
            neighbours: 15,
            min_dist: 0.1,
            spread: 1.0,
            epochs: None,
            learning_rate: 1.0,
            negative_samples: 5,
            seed: 0,
        }
    }
}

impl UmapOptions {
    /// The passes of gradient descent for `n` points.
    pub fn epochs_for(&self, n: usize) -> usize {
        self.epochs.unwrap_or(if n <= 10_000 { 500 } else { 200 })
    }

    fn check(&self, n: usize) -> Result<(), AnalysisError> {
        let bad = |what, value: String, expected| {
            Err(AnalysisError::Parameter {
                what,
                value,
                expected,
            })
        };
        if !(2..=n).contains(&self.neighbours) {
            return bad(
                "neighbours",
                format!("{} for {n} points", self.neighbours),
                "2 ≤ neighbours ≤ n",
            );
        }
        if !(self.spread > 0.0 && self.spread.is_finite()) {
            return bad("spread", self.spread.to_string(), "a positive number");
        }
        if !(self.min_dist >= 0.0 && self.min_dist <= self.spread) {
            return bad(
                "min_dist",
                format!("{} with spread {}", self.min_dist, self.spread),
                "0 ≤ min_dist ≤ spread",
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(
                "learning_rate",
                self.learning_rate.to_string(),
                "a positive number",
            );
        }
        Ok(())
    }
}

/// A 2-D embedding of the rows of `data` (`dim` wide): `[n, 2]`, row-major.
pub fn umap(data: &[f32], dim: usize, options: UmapOptions) -> Result<Vec<f32>, AnalysisError> {
    umap_with_progress(data, dim, options, |_| {})
}

/// [`umap`], calling `progress` with the number of epochs done after each one.
pub fn umap_with_progress(
    data: &[f32],
    dim: usize,
    options: UmapOptions,
    mut progress: impl FnMut(usize),
) -> Result<Vec<f32>, AnalysisError> {
    let n = rows("UMAP: rows", data, dim)?;
    options.check(n)?;
    let epochs = options.epochs_for(n);
    let edges = fuzzy_graph(data, dim, options.neighbours);
    let (a, b) = curve(options.min_dist, options.spread);
    let mut y = initial_layout(data, dim, options.seed)?;
    let max = edges.iter().map(|e| e.2).fold(0.0f64, f64::max);
    // Edges too weak to be sampled once in `epochs` are dropped (as umap-learn does).
    let edges: Vec<(usize, usize, f64)> = edges
        .into_iter()
        .filter(|e| e.2 >= max / epochs as f64)
        .map(|(i, j, w)| (i, j, max / w))
        .collect();
    let negative_every: Vec<f64> = edges
        .iter()
        .map(|e| e.2 / options.negative_samples.max(1) as f64)
        .collect();
    let mut next: Vec<f64> = edges.iter().map(|e| e.2).collect();
    let mut next_negative = negative_every.clone();
    let mut rng = Rng::new(options.seed.wrapping_add(1));
    let clip = |g: f64| g.clamp(-4.0, 4.0);
    for epoch in 0..epochs {
        let alpha = options.learning_rate * (1.0 - epoch as f64 / epochs as f64);
        let e = epoch as f64;
        for (k, &(i, j, every)) in edges.iter().enumerate() {
            if next[k] > e {
                continue;
            }
            let (dx, dy) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
            let d2 = dx * dx + dy * dy;
            if d2 > 0.0 {
                let c = -2.0 * a * b * d2.powf(b - 1.0) / (a * d2.powf(b) + 1.0);
                let (gx, gy) = (clip(c * dx) * alpha, clip(c * dy) * alpha);
                y[2 * i] += gx;
                y[2 * i + 1] += gy;
                y[2 * j] -= gx;
                y[2 * j + 1] -= gy;
            }
            next[k] += every;
            let negatives = if options.negative_samples == 0 {
                0
            } else {
                ((e - next_negative[k]) / negative_every[k]).max(0.0) as usize
            };
            for _ in 0..negatives {
                let other = ((rng.uniform() * n as f64) as usize).min(n - 1);
                if other == i {
                    continue;
                }
                let (dx, dy) = (y[2 * i] - y[2 * other], y[2 * i + 1] - y[2 * other + 1]);
                let d2 = dx * dx + dy * dy;
                if d2 > 0.0 {
                    let c = 2.0 * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0));
                    y[2 * i] += clip(c * dx) * alpha;
                    y[2 * i + 1] += clip(c * dy) * alpha;
                }
            }
            next_negative[k] += negatives as f64 * negative_every[k];
        }
        progress(epoch + 1);
    }
    Ok(y.into_iter().map(|v| v as f32).collect())
}

/// The fuzzy union of each point's neighbourhood memberships: `(i, j, w)` for both
/// directions of every pair either point counts among its neighbours.
fn fuzzy_graph(data: &[f32], dim: usize, neighbours: usize) -> Vec<(usize, usize, f64)> {
    let near = nearest_rows(data, dim, neighbours - 1);
    let target = (neighbours as f64).log2();
    let mean_all = {
        let (sum, count) = near
            .iter()
            .flatten()
            .fold((0.0, 0usize), |(s, c), &(_, d)| (s + f64::from(d), c + 1));
        sum / count.max(1) as f64
    };
    // Each point's memberships, sorted by neighbour.
    let memberships: Vec<Vec<(usize, f64)>> = near
        .iter()
        .map(|row| {
            let d: Vec<f64> = row.iter().map(|&(_, d)| f64::from(d)).collect();
            let (rho, sigma) = smooth_distances(&d, target, mean_all);
            let mut m: Vec<(usize, f64)> = row
                .iter()
                .zip(&d)
                .map(|(&(j, _), &dj)| {
                    let w = if dj - rho <= 0.0 || sigma == 0.0 {
                        1.0
                    } else {
                        (-(dj - rho) / sigma).exp()
                    };
                    (j, w)
                })
                .collect();
            m.sort_by_key(|&(j, _)| j);
            m
        })
        .collect();
    let weight = |i: usize, j: usize| {
        memberships[i]
            .binary_search_by_key(&j, |&(k, _)| k)
            .map_or(0.0, |at| memberships[i][at].1)
    };
    let mut edges = Vec::new();
    for (i, row) in memberships.iter().enumerate() {
        for &(j, w) in row {
            let back = weight(j, i);
            let union = w + back - w * back;
            edges.push((i, j, union));
            if back == 0.0 {
                edges.push((j, i, union));
            }
        }
    }
    edges
}

/// The distance `rho` to the nearest neighbour not at the same place, and the scale
/// `sigma` at which `Σ exp(−(d − rho) / sigma)` over the neighbours is `target`
/// (binary search), kept above a thousandth of the mean distance.
fn smooth_distances(d: &[f64], target: f64, mean_all: f64) -> (f64, f64) {
    let rho = d.iter().copied().find(|&x| x > 0.0).unwrap_or(0.0);
    let (mut lo, mut hi, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
    for _ in 0..64 {
        let sum: f64 = d
            .iter()
            .map(|&x| {
                if x - rho > 0.0 {
                    (-(x - rho) / mid).exp()
                } else {
                    1.0
                }
            })
            .sum();
        if (sum - target).abs() < 1e-5 {
            break;
        }
        if sum > target {
            hi = mid;
            mid = (lo + hi) / 2.0;
        } else {
            lo = mid;
            mid = if hi.is_infinite() {
                mid * 2.0
            } else {
                (lo + hi) / 2.0
            };
        }
    }
    let floor = if rho > 0.0 {
        d.iter().sum::<f64>() / d.len().max(1) as f64
    } else {
        mean_all
    };
    (rho, mid.max(1e-3 * floor))
}

/// `a` and `b` of the layout's similarity `1 / (1 + a d²ᵇ)` fitted by least squares
/// (Levenberg–Marquardt) to 1 up to `min_dist` and `exp(−(d − min_dist) / spread)`
/// beyond, on 300 distances from 0 to 3 · `spread`.
pub(crate) fn curve(min_dist: f64, spread: f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread * i as f64 / 299.0).collect();
    let target = |x: f64| {
        if x < min_dist {
            1.0
        } else {
            (-(x - min_dist) / spread).exp()
        }
    };
    let cost = |a: f64, b: f64| -> f64 {
        xs.iter()
            .map(|&x| (1.0 / (1.0 + a * x.powf(2.0 * b)) - target(x)).powi(2))
            .sum()
    };
    let (mut a, mut b, mut lambda) = (1.0f64, 1.0f64, 1e-3);
    let mut current = cost(a, b);
    for _ in 0..500 {
        // Normal equations of the residuals' Jacobian.
        let (mut jtj, mut jtr) = ([0.0f64; 3], [0.0f64; 2]);
        for &x in xs.iter().filter(|&&x| x > 0.0) {
            let p = x.powf(2.0 * b);
            let f = 1.0 / (1.0 + a * p);
            let r = f - target(x);
            let da = -p * f * f;
            let db = -a * p * 2.0 * x.ln() * f * f;
            jtj[0] += da * da;
            jtj[1] += da * db;
            jtj[2] += db * db;
            jtr[0] += da * r;
            jtr[1] += db * r;
        }
        let (m00, m01, m11) = (jtj[0] * (1.0 + lambda), jtj[1], jtj[2] * (1.0 + lambda));
        let det = m00 * m11 - m01 * m01;
        if det.abs() < 1e-300 {
            break;
        }
        let step_a = -(m11 * jtr[0] - m01 * jtr[1]) / det;
        let step_b = -(m00 * jtr[1] - m01 * jtr[0]) / det;
        let (na, nb) = (a + step_a, b + step_b);
        let trial = if na > 0.0 && nb > 0.0 {
            cost(na, nb)
        } else {
            f64::INFINITY
        };
        if trial < current {
            let done = current - trial < 1e-14 * current.max(1e-300);
            (a, b, current, lambda) = (na, nb, trial, lambda / 10.0);
            if done {
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
    }
    (a, b)
}

/// The two leading principal components of `data`, each scaled to `[0, 10]`, with a
/// little seeded noise so that no two points start at one place.
fn initial_layout(data: &[f32], dim: usize, seed: u64) -> Result<Vec<f64>, AnalysisError> {
    let n = data.len() / dim;
    let mut rng = Rng::new(seed);
    let mut y: Vec<f64> = if dim >= 2 && n >= 2 {
        Pca::fit(data, dim, 2)?
            .transform(data)?
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        (0..2 * n).map(|_| rng.normal()).collect()
    };
    for axis in 0..2 {
        let values = y.iter().skip(axis).step_by(2);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
        let width = if hi > lo { hi - lo } else { 1.0 };
        for v in y.iter_mut().skip(axis).step_by(2) {
            *v = 10.0 * (*v - lo) / width + 1e-4 * rng.normal();
        }
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Distance, knn_accuracy, trustworthiness};

    #[test]
    fn the_similarity_curve_is_umap_learns() {
        // umap-learn's find_ab_params(1.0, 0.1): a = 1.5769, b = 0.8951.
        let (a, b) = curve(0.1, 1.0);
        assert!(
            (a - 1.5769).abs() < 2e-3 && (b - 0.8951).abs() < 1e-3,
            "{a}, {b}"
        );
        // A larger min_dist: flatter near 0, steeper after.
        let (a5, b5) = curve(0.5, 1.0);
        assert!(a5 < a && b5 > b, "{a5}, {b5}");
    }

    #[test]
    fn memberships_sum_to_the_log_of_the_neighbourhood() {
        let d = [0.5, 0.7, 0.9, 1.4, 2.0, 2.2, 3.0];
        let target = 8f64.log2();
        let (rho, sigma) = smooth_distances(&d, target, 1.0);
        assert_eq!(rho, 0.5);
        let sum: f64 = d.iter().map(|x| (-(x - rho) / sigma).exp()).sum();
        assert!((sum - target).abs() < 1e-4, "{sum}");
    }

    /// Ten clusters in 10 dimensions, one per axis: any two principal components mix
    /// them, so the starting layout cannot tell many apart (5-NN accuracy 0.62).
    fn simplex(points: usize) -> (Vec<f32>, Vec<u8>) {
        let mut rng = Rng::new(5);
        let labels: Vec<u8> = (0..points).map(|i| (i % 10) as u8).collect();
        let x = labels
            .iter()
            .flat_map(|&c| {
                let centre = move |k: usize| if k == usize::from(c) { 4.0 } else { 0.0 };
                (0..10)
                    .map(|k| (centre(k) + 0.5 * rng.normal()) as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        (x, labels)
    }

    #[test]
    fn clusters_stay_apart_where_the_start_mixes_them() {
        let (x, labels) = simplex(1000);
        let options = UmapOptions {
            epochs: Some(200),
            ..UmapOptions::default()
        };
        let mut calls = 0;
        let y = umap_with_progress(&x, 10, options, |done| calls = done).expect("valid");
        assert_eq!(calls, 200);
        assert!(y.iter().all(|v| v.is_finite()));
        // Each point of the second half labelled by its neighbours in the first.
        let held_out = |y: &[f32]| {
            let (a, b) = y.split_at(1000);
            let (la, lb) = labels.split_at(500);
            knn_accuracy(a, la, b, lb, 2, 5, Distance::Euclidean).expect("valid")
        };
        let acc = held_out(&y);
        let start = umap(
            &x,
            10,
            UmapOptions {
                epochs: Some(0),
                ..options
            },
        )
        .expect("valid");
        let at_start = held_out(&start);
        assert!(acc > 0.98, "kNN accuracy of the layout {acc}");
        assert!(at_start < 0.8, "kNN accuracy of the start {at_start}");
        let t = trustworthiness(&x[..3000], 10, &y[..600], 2, 5).expect("valid");
        assert!(t > 0.85, "trustworthiness {t}");
        // The same seed gives the same layout.
        assert_eq!(umap(&x, 10, options).expect("valid"), y);
    }

    #[test]
    fn bad_settings_are_named() {
        let (x, _) = simplex(50);
        for (options, what) in [
            (
                UmapOptions {
                    neighbours: 1,
                    ..UmapOptions::default()
                },
                "neighbours",
            ),
            (
                UmapOptions {
                    neighbours: 51,
                    ..UmapOptions::default()
                },
                "neighbours",
            ),
            (
                UmapOptions {
                    min_dist: 2.0,
                    ..UmapOptions::default()
                },
                "min_dist",
            ),
            (
                UmapOptions {
                    spread: 0.0,
                    ..UmapOptions::default()
                },
                "spread",
            ),
        ] {
            let err = umap(&x, 10, options).expect_err("refused");
            assert!(err.to_string().starts_with(what), "{err}");
        }
        assert!(umap(&x[..5], 10, UmapOptions::default()).is_err());
    }
}
