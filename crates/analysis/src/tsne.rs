//! t-SNE (van der Maaten & Hinton, 2008). Exact up to [`EXACT_MAX`] points: every pair
//! of points contributes to every gradient, as in the reference implementation, `O(n²)`
//! time and memory per iteration. Above, Barnes–Hut (`crate::barnes_hut`): sparse
//! input similarities and a quadtree for the repulsion, `O(n log n)`, so that all
//! 10,000 test codes of a data set map in seconds.

use crate::barnes_hut::{self, SparseP};
use crate::perplexity::conditional;
use crate::{AnalysisError, rows};

/// Settings of [`tsne`]; the defaults are scikit-learn's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TsneOptions {
    /// Effective number of neighbours each point's similarity distribution spans.
    pub perplexity: f64,
    /// Gradient steps.
    pub iterations: usize,
    /// Step size; `None` takes `max(n / early_exaggeration / 4, 50)`, scikit-learn's
    /// `auto` (200 is the original paper's, too large for a few hundred points).
    pub learning_rate: Option<f64>,
    /// Factor on the input similarities during the first `exaggeration_iterations` steps.
    pub early_exaggeration: f64,
    /// Steps with exaggerated similarities (and momentum 0.5; 0.8 after).
    pub exaggeration_iterations: usize,
    /// Seed of the initial layout.
    pub seed: u64,
    /// Barnes–Hut's accuracy above [`EXACT_MAX`] points: a quadtree cell seen from
    /// farther than its width over `theta` repels as one point (scikit-learn's `angle`);
    /// 0 computes every pair at any size.
    pub theta: f64,
}

/// Up to this many points t-SNE is exact (unless `theta` is 0, when it always is).
pub const EXACT_MAX: usize = 1000;

impl Default for TsneOptions {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            learning_rate: None,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            seed: 0,
            theta: 0.5,
        }
    }
}

impl TsneOptions {
    /// Whether [`tsne`] of `n` points computes every pair (else Barnes–Hut).
    pub fn is_exact(&self, n: usize) -> bool {
        self.theta == 0.0 || n <= EXACT_MAX
    }
}

/// The input similarities: every pair's, or each point's nearest neighbours'.
enum Similarities {
    Dense(Vec<f64>),
    Sparse(SparseP),
}

/// A 2-D embedding of the rows of `data` (`dim` wide): `[n, 2]`, row-major.
pub fn tsne(data: &[f32], dim: usize, options: TsneOptions) -> Result<Vec<f32>, AnalysisError> {
    tsne_with_progress(data, dim, options, |_| {})
}

/// [`tsne`], calling `progress` with the number of iterations done after each one.
pub fn tsne_with_progress(
    data: &[f32],
    dim: usize,
    options: TsneOptions,
    mut progress: impl FnMut(usize),
) -> Result<Vec<f32>, AnalysisError> {
    let n = rows("t-SNE: rows", data, dim)?;
    if !(options.perplexity >= 1.0 && 3.0 * options.perplexity < n as f64) {
        return Err(AnalysisError::Parameter {
            what: "perplexity",
            value: format!("{} for {n} points", options.perplexity),
            expected: "1 ≤ perplexity < n / 3",
        });
    }
    let learning_rate = options
        .learning_rate
        .unwrap_or((n as f64 / options.early_exaggeration / 4.0).max(50.0));
    if !(options.theta >= 0.0 && options.theta.is_finite()) {
        return Err(AnalysisError::Parameter {
            what: "theta",
            value: options.theta.to_string(),
            expected: "0 (exact) or a positive Barnes–Hut accuracy such as 0.5",
        });
    }
    let exact = options.is_exact(n);
    let p = if exact {
        Similarities::Dense(joint_probabilities(data, dim, n, options.perplexity))
    } else {
        Similarities::Sparse(SparseP::new(data, dim, options.perplexity))
    };
    let mut y = initial_layout(n, options.seed);
    let mut update = vec![0.0f64; 2 * n];
    let mut gains = vec![1.0f64; 2 * n];
    let mut num = if exact {
        vec![0.0f64; n * n]
    } else {
        Vec::new()
    };
    let mut grad = vec![0.0f64; 2 * n];
    for it in 0..options.iterations {
        let early = it < options.exaggeration_iterations;
        let exaggeration = if early {
            options.early_exaggeration
        } else {
            1.0
        };
        let momentum = if early { 0.5 } else { 0.8 };
        match &p {
            Similarities::Dense(p) => exact_gradient(p, &y, exaggeration, &mut num, &mut grad),
            Similarities::Sparse(p) => {
                barnes_hut::gradient(p, &y, options.theta, exaggeration, &mut grad)
            }
        }
        for k in 0..2 * n {
            // Delta-bar-delta gains: grow where the gradient keeps its direction.
            gains[k] = if (grad[k] > 0.0) != (update[k] > 0.0) {
                gains[k] + 0.2
            } else {
                (gains[k] * 0.8).max(0.01)
            };
            update[k] = momentum * update[k] - learning_rate * gains[k] * grad[k];
            y[k] += update[k];
        }
        let (mx, my) = (0..n).fold((0.0, 0.0), |(a, b), i| (a + y[2 * i], b + y[2 * i + 1]));
        for i in 0..n {
            y[2 * i] -= mx / n as f64;
            y[2 * i + 1] -= my / n as f64;
        }
        progress(it + 1);
    }
    Ok(y.into_iter().map(|v| v as f32).collect())
}

/// The exact gradient at layout `y`, into `grad` (`num`: `n × n` scratch).
fn exact_gradient(p: &[f64], y: &[f64], exaggeration: f64, num: &mut [f64], grad: &mut [f64]) {
    let n = y.len() / 2;
    // Student-t similarities of the layout, and their sum.
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            let v = if i == j {
                0.0
            } else {
                let (dx, dy) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
                1.0 / (1.0 + dx * dx + dy * dy)
            };
            num[i * n + j] = v;
            z += v;
        }
    }
    // ∂C/∂yᵢ = 4 Σⱼ (pᵢⱼ − qᵢⱼ) (1 + ‖yᵢ − yⱼ‖²)⁻¹ (yᵢ − yⱼ).
    for i in 0..n {
        let (mut gx, mut gy) = (0.0, 0.0);
        for j in 0..n {
            let w = num[i * n + j];
            let f = (exaggeration * p[i * n + j] - w / z) * w;
            gx += f * (y[2 * i] - y[2 * j]);
            gy += f * (y[2 * i + 1] - y[2 * j + 1]);
        }
        grad[2 * i] = 4.0 * gx;
        grad[2 * i + 1] = 4.0 * gy;
    }
}

/// Symmetric input similarities `pᵢⱼ = (p_{j|i} + p_{i|j}) / 2n`, each conditional
/// distribution's Gaussian width set by binary search to the target perplexity.
fn joint_probabilities(data: &[f32], dim: usize, n: usize, perplexity: f64) -> Vec<f64> {
    let mut d = vec![0.0f64; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let a = &data[i * dim..(i + 1) * dim];
            let b = &data[j * dim..(j + 1) * dim];
            let s: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
            d[i * n + j] = s;
            d[j * n + i] = s;
        }
    }
    let mut p = vec![0.0f64; n * n];
    for i in 0..n {
        let row = conditional(&d[i * n..(i + 1) * n], i, perplexity);
        p[i * n..(i + 1) * n].copy_from_slice(&row);
    }
    let mut joint = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            joint[i * n + j] = ((p[i * n + j] + p[j * n + i]) / (2.0 * n as f64)).max(1e-12);
        }
    }
    joint
}

/// A small random layout: `N(0, 10⁻⁴)` per coordinate, from a seeded generator.
fn initial_layout(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = crate::random::Rng::new(seed);
    (0..2 * n).map(|_| 1e-4 * rng.normal()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Distance, knn_accuracy, trustworthiness};

    #[test]
    fn with_every_neighbour_and_theta_zero_the_gradient_is_exact() {
        // 40 points with 3 · perplexity ≥ 39 neighbours each: the sparse similarities
        // are the dense ones, and theta 0 opens every cell.
        let mut rng = crate::random::Rng::new(11);
        let (n, dim) = (40, 6);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.normal() as f32).collect();
        let perplexity = 13.5;
        let dense = joint_probabilities(&x, dim, n, perplexity);
        let sparse = SparseP::new(&x, dim, perplexity);
        for (i, row) in sparse.rows.iter().enumerate() {
            assert_eq!(row.len(), n - 1);
            for &(j, p) in row {
                assert!((p - dense[i * n + j]).abs() < 1e-10, "p[{i},{j}]");
            }
        }
        // A spread-out layout (the start's scale would hide the repulsion).
        let y: Vec<f64> = initial_layout(n, 5).iter().map(|v| v * 1e4).collect();
        let (mut exact, mut bh) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
        let mut num = vec![0.0; n * n];
        exact_gradient(&dense, &y, 4.0, &mut num, &mut exact);
        barnes_hut::gradient(&sparse, &y, 0.0, 4.0, &mut bh);
        let scale = exact.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (e, b) in exact.iter().zip(&bh) {
            assert!((e - b).abs() < 1e-6 * scale, "{e} against {b}");
        }
        // theta 0.5 approximates it (the repulsion of far cells at their centre).
        barnes_hut::gradient(&sparse, &y, 0.5, 4.0, &mut bh);
        let error = exact
            .iter()
            .zip(&bh)
            .map(|(e, b)| (e - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm = exact.iter().map(|e| e * e).sum::<f64>().sqrt();
        assert!(error < 0.1 * norm, "relative error {}", error / norm);
    }

    /// Three clusters in 10 dimensions, 40 points each.
    fn clusters() -> (Vec<f32>, Vec<u8>) {
        let mut state = 7u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for i in 0..120 {
            let c = i % 3;
            for k in 0..10 {
                let centre = if k == c { 8.0 } else { 0.0 };
                x.push(centre + noise());
            }
            labels.push(c as u8);
        }
        (x, labels)
    }

    #[test]
    fn barnes_hut_keeps_clusters_of_more_points_than_the_exact_limit_apart() {
        // Four clusters in 10 dimensions, 1,200 points: Barnes–Hut.
        let mut rng = crate::random::Rng::new(3);
        let n = EXACT_MAX + 200;
        let labels: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
        let x: Vec<f32> = labels
            .iter()
            .flat_map(|&c| {
                let centre = |k: usize| if k == usize::from(c) { 6.0 } else { 0.0 };
                (0..10)
                    .map(|k| (centre(k) + rng.normal()) as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        let options = TsneOptions {
            iterations: 500,
            ..TsneOptions::default()
        };
        let y = tsne(&x, 10, options).expect("valid input");
        assert!(y.iter().all(|v| v.is_finite()));
        // Each point of the second half labelled by its neighbours in the first.
        let half = n / 2;
        let held_out = |y: &[f32]| {
            let (a, b) = y.split_at(2 * half);
            let (la, lb) = labels.split_at(half);
            knn_accuracy(a, la, b, lb, 2, 5, Distance::Euclidean).expect("valid")
        };
        let acc = held_out(&y);
        assert!(acc > 0.99, "kNN accuracy of the layout {acc}");
        let (some_x, some_y) = (&x[..300 * 10], &y[..300 * 2]);
        let t = trustworthiness(some_x, 10, some_y, 2, 5).expect("valid");
        assert!(t > 0.85, "trustworthiness {t}");
        let mut calls = Vec::new();
        let again = tsne_with_progress(&x, 10, options, |done| calls.push(done)).expect("valid");
        assert_eq!(again, y);
        assert_eq!(calls, (1..=500).collect::<Vec<_>>());
        // Negative control: the starting layout (no iteration) is at chance.
        let start = tsne(
            &x,
            10,
            TsneOptions {
                iterations: 0,
                ..options
            },
        )
        .expect("valid");
        let acc = held_out(&start);
        assert!(acc < 0.4, "kNN accuracy of the random start {acc}");
        assert!(
            tsne(
                &x,
                10,
                TsneOptions {
                    theta: -1.0,
                    ..options
                }
            )
            .is_err()
        );
    }

    #[test]
    fn clusters_stay_apart_and_neighbourhoods_are_kept() {
        let (x, labels) = clusters();
        let options = TsneOptions {
            perplexity: 10.0,
            iterations: 400,
            ..TsneOptions::default()
        };
        let y = tsne(&x, 10, options).expect("valid input");
        assert_eq!(y.len(), 240);
        assert!(y.iter().all(|v| v.is_finite()));
        // Every point's nearest embedded neighbours are of its cluster.
        let acc = knn_accuracy(&y, &labels, &y, &labels, 2, 6, Distance::Euclidean).expect("valid");
        assert_eq!(acc, 1.0);
        let t = trustworthiness(&x, 10, &y, 2, 5).expect("valid");
        assert!(t > 0.85, "trustworthiness {t}");
        // The same seed gives the same layout.
        assert_eq!(tsne(&x, 10, options).expect("valid"), y);
        assert!(
            tsne(
                &x,
                10,
                TsneOptions {
                    perplexity: 50.0,
                    ..options
                }
            )
            .is_err()
        );
    }
}
