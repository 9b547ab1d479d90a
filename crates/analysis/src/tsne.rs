//! t-SNE (van der Maaten & Hinton, 2008), exact: every pair of points contributes to
//! every gradient, as in the reference implementation. `O(n²)` time and memory per
//! iteration, so it suits the few thousand points a latent map shows.

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
}

impl Default for TsneOptions {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            learning_rate: None,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            seed: 0,
        }
    }
}

/// A 2-D embedding of the rows of `data` (`dim` wide): `[n, 2]`, row-major.
pub fn tsne(data: &[f32], dim: usize, options: TsneOptions) -> Result<Vec<f32>, AnalysisError> {
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
    let p = joint_probabilities(data, dim, n, options.perplexity);
    let mut y = initial_layout(n, options.seed);
    let mut update = vec![0.0f64; 2 * n];
    let mut gains = vec![1.0f64; 2 * n];
    let mut num = vec![0.0f64; n * n];
    let mut grad = vec![0.0f64; 2 * n];
    for it in 0..options.iterations {
        let early = it < options.exaggeration_iterations;
        let exaggeration = if early {
            options.early_exaggeration
        } else {
            1.0
        };
        let momentum = if early { 0.5 } else { 0.8 };
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
    }
    Ok(y.into_iter().map(|v| v as f32).collect())
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

/// `p_{j|i}` for one row of squared distances, with the precision β whose
/// distribution has entropy `ln(perplexity)`.
fn conditional(distances: &[f64], i: usize, perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let (mut beta, mut lo, mut hi) = (1.0f64, 0.0f64, f64::INFINITY);
    let mut p = vec![0.0; distances.len()];
    // Distances relative to the nearest neighbour keep exp() away from underflow.
    let nearest = distances
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, &d)| d)
        .fold(f64::INFINITY, f64::min);
    for _ in 0..100 {
        let mut sum = 0.0;
        let mut weighted = 0.0;
        for (j, (pj, &d)) in p.iter_mut().zip(distances).enumerate() {
            *pj = if j == i {
                0.0
            } else {
                (-(d - nearest) * beta).exp()
            };
            sum += *pj;
            weighted += *pj * (d - nearest);
        }
        // H = ln Σ + β · E[d] (in nats), with the shifted distances.
        let entropy = sum.ln() + beta * weighted / sum;
        for pj in p.iter_mut() {
            *pj /= sum;
        }
        let diff = entropy - target;
        if diff.abs() < 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_finite() {
                (beta + hi) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = (beta + lo) / 2.0;
        }
    }
    p
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
    fn conditional_distribution_has_the_target_perplexity() {
        let distances: Vec<f64> = (0..50).map(|j| (j as f64).powf(1.3)).collect();
        let p = conditional(&distances, 0, 10.0);
        assert_eq!(p[0], 0.0);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let entropy: f64 = -p
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|x| x * x.ln())
            .sum::<f64>();
        assert!(
            (entropy.exp() - 10.0).abs() < 1e-3,
            "perplexity {}",
            entropy.exp()
        );
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
