//! A Gaussian mixture with diagonal covariances, fitted by expectation–maximisation:
//! the ex-post density of an autoencoder's codes (Ghosh et al., 2020, "From
//! variational to deterministic autoencoders"), which lets any autoencoder sample —
//! draw codes from the mixture, decode them.

use serde::{Deserialize, Serialize};

use crate::random::Rng;
use crate::{AnalysisError, rows};

/// Each component's variance is kept at least this (the data's scale is that of
/// codes: no component collapses onto one point).
const VARIANCE_FLOOR: f64 = 1e-6;

/// A mixture of Gaussians with diagonal covariances over `dim`-dimensional points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianMixture {
    /// Values per point.
    pub dim: usize,
    /// Each component's weight (they sum to 1).
    pub weights: Vec<f64>,
    /// Each component's mean, `dim` values.
    pub means: Vec<Vec<f64>>,
    /// Each component's variance per coordinate, `dim` values.
    pub variances: Vec<Vec<f64>>,
}

/// Refuses a mixture of no components, or of more than the `n` points fitted.
pub(crate) fn check_components(components: usize, n: usize) -> Result<(), AnalysisError> {
    if components == 0 || components > n {
        return Err(AnalysisError::Parameter {
            what: "components",
            value: components.to_string(),
            expected: "between 1 and the number of points",
        });
    }
    Ok(())
}

/// The mean and the (biased) variance of each column of the rows of `data`.
pub(crate) fn moments(data: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (data.len() / dim).max(1) as f64;
    let mut mean = vec![0.0; dim];
    for row in data.chunks(dim) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, &v)| *m += f64::from(v) / n);
    }
    let mut variance = vec![0.0; dim];
    for row in data.chunks(dim) {
        for ((s, &v), m) in variance.iter_mut().zip(row).zip(&mean) {
            *s += (f64::from(v) - m).powi(2) / n;
        }
    }
    (mean, variance)
}

impl GaussianMixture {
    /// Fits `components` Gaussians to the rows of `data` (`n` × `dim`) by `iterations`
    /// rounds of EM, started from distinct rows drawn with `seed` as means, the data's
    /// variance per coordinate, equal weights.
    pub fn fit(
        data: &[f32],
        dim: usize,
        components: usize,
        iterations: usize,
        seed: u64,
    ) -> Result<Self, AnalysisError> {
        let n = rows("data", data, dim)?;
        check_components(components, n)?;
        let row = |i: usize| &data[i * dim..(i + 1) * dim];
        let (_, spread) = moments(data, dim);
        let spread: Vec<f64> = spread.iter().map(|s| s.max(VARIANCE_FLOOR)).collect();
        let mut rng = Rng::new(seed);
        let mut picked: Vec<usize> = Vec::with_capacity(components);
        while picked.len() < components {
            let i = ((rng.uniform() * n as f64) as usize).min(n - 1);
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        let mut model = Self {
            dim,
            weights: vec![1.0 / components as f64; components],
            means: picked
                .iter()
                .map(|&i| row(i).iter().map(|&v| f64::from(v)).collect())
                .collect(),
            variances: vec![spread; components],
        };
        let mut resp = vec![0.0; n * components];
        for _ in 0..iterations {
            for i in 0..n {
                model.responsibilities(row(i), &mut resp[i * components..(i + 1) * components]);
            }
            model.maximise(data, &resp);
        }
        Ok(model)
    }

    /// Each component's log weight plus log density at `x`.
    fn joint(&self, x: &[f32]) -> Vec<f64> {
        let log_2pi = (std::f64::consts::TAU).ln();
        self.weights
            .iter()
            .zip(&self.means)
            .zip(&self.variances)
            .map(|((w, mu), var)| {
                let quad: f64 = x
                    .iter()
                    .zip(mu)
                    .zip(var)
                    .map(|((&v, m), s)| (f64::from(v) - m).powi(2) / s + s.ln() + log_2pi)
                    .sum();
                w.max(f64::MIN_POSITIVE).ln() - 0.5 * quad
            })
            .collect()
    }

    /// The posterior of each component given `x`, into `out`; returns `log p(x)`.
    fn responsibilities(&self, x: &[f32], out: &mut [f64]) -> f64 {
        let joint = self.joint(x);
        let top = joint.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = joint.iter().map(|j| (j - top).exp()).sum();
        for (o, j) in out.iter_mut().zip(&joint) {
            *o = (j - top).exp() / total;
        }
        top + total.ln()
    }

    /// The M step: weights, means and variances from the responsibilities.
    fn maximise(&mut self, data: &[f32], resp: &[f64]) {
        let (k, dim) = (self.weights.len(), self.dim);
        let n = data.len() / dim;
        for c in 0..k {
            let mass: f64 = (0..n).map(|i| resp[i * k + c]).sum();
            if mass < 1e-9 {
                // An empty component keeps its place and takes no weight.
                self.weights[c] = 0.0;
                continue;
            }
            let mut mean = vec![0.0; dim];
            for i in 0..n {
                let r = resp[i * k + c] / mass;
                for (m, &v) in mean.iter_mut().zip(&data[i * dim..(i + 1) * dim]) {
                    *m += r * f64::from(v);
                }
            }
            let mut var = vec![0.0; dim];
            for i in 0..n {
                let r = resp[i * k + c] / mass;
                for ((s, &v), m) in var.iter_mut().zip(&data[i * dim..(i + 1) * dim]).zip(&mean) {
                    *s += r * (f64::from(v) - m).powi(2);
                }
            }
            self.weights[c] = mass / n as f64;
            self.means[c] = mean;
            self.variances[c] = var.into_iter().map(|s| s.max(VARIANCE_FLOOR)).collect();
        }
    }

    /// The mean log-density of the rows of `data` under the mixture, nats per point.
    pub fn mean_log_likelihood(&self, data: &[f32]) -> Result<f64, AnalysisError> {
        let n = rows("data", data, self.dim)?;
        let mut resp = vec![0.0; self.weights.len()];
        let total: f64 = data
            .chunks(self.dim)
            .map(|x| self.responsibilities(x, &mut resp))
            .sum();
        Ok(total / n.max(1) as f64)
    }

    /// `n` points drawn from the mixture with `seed`, row after row.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::with_capacity(n * self.dim);
        for _ in 0..n {
            let u = rng.uniform();
            let mut acc = 0.0;
            let mut c = self.weights.len() - 1;
            for (j, w) in self.weights.iter().enumerate() {
                acc += w;
                if u < acc {
                    c = j;
                    break;
                }
            }
            for (m, s) in self.means[c].iter().zip(&self.variances[c]) {
                out.push((m + s.sqrt() * rng.normal()) as f32);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 600 points of three well-apart clusters in 2-d, unequal in size.
    fn clusters() -> Vec<f32> {
        let mut rng = Rng::new(5);
        let centres = [(-5.0, 0.0, 100), (5.0, 0.0, 200), (0.0, 8.0, 300)];
        let mut data = Vec::new();
        for (cx, cy, count) in centres {
            for _ in 0..count {
                data.push((cx + 0.5 * rng.normal()) as f32);
                data.push((cy + 0.5 * rng.normal()) as f32);
            }
        }
        data
    }

    #[test]
    fn em_finds_the_clusters_and_their_weights() {
        let data = clusters();
        let gmm = GaussianMixture::fit(&data, 2, 3, 50, 1).expect("fits");
        let mut found: Vec<(f64, f64, f64)> = gmm
            .means
            .iter()
            .zip(&gmm.weights)
            .map(|(m, w)| (m[0], m[1], *w))
            .collect();
        found.sort_by(|a, b| a.2.total_cmp(&b.2));
        for ((x, y, w), (cx, cy, cw)) in found.iter().zip([
            (-5.0, 0.0, 1.0 / 6.0),
            (5.0, 0.0, 2.0 / 6.0),
            (0.0, 8.0, 0.5),
        ]) {
            assert!((x - cx).abs() < 0.2 && (y - cy).abs() < 0.2, "{found:?}");
            assert!((w - cw).abs() < 0.02, "{found:?}");
        }
        assert!(
            gmm.variances
                .iter()
                .flatten()
                .all(|&v| (v - 0.25).abs() < 0.08)
        );
        // The fit beats one Gaussian over everything (the trivial density).
        let one = GaussianMixture::fit(&data, 2, 1, 5, 1).expect("fits");
        let (three, single) = (
            gmm.mean_log_likelihood(&data).expect("rows"),
            one.mean_log_likelihood(&data).expect("rows"),
        );
        assert!(three > single + 1.0, "{three} vs {single}");
    }

    #[test]
    fn samples_follow_the_mixture_and_repeat_by_seed() {
        let gmm = GaussianMixture::fit(&clusters(), 2, 3, 50, 1).expect("fits");
        let s = gmm.sample(3000, 9);
        assert_eq!(s, gmm.sample(3000, 9));
        let upper = s.chunks(2).filter(|p| p[1] > 4.0).count() as f64 / 3000.0;
        assert!((upper - 0.5).abs() < 0.04, "{upper}");
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(GaussianMixture::fit(&[1.0, 2.0, 3.0], 2, 1, 1, 0).is_err());
        let err = GaussianMixture::fit(&[1.0, 2.0], 2, 2, 1, 0).expect_err("2 of 1");
        assert!(err.to_string().contains("components = 2"), "{err}");
    }
}
