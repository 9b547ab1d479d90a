//! The density of normal samples' features, for one-class anomaly scores: a Gaussian
//! mixture with full covariances over the standardised features, started from
//! k-means and fitted by expectation–maximisation (as scikit-learn's
//! `GaussianMixture(covariance_type="full")`). A sample's score is its negative
//! log-density: how unlike the normal samples it is, in nats.
//!
//! With an autoencoder's code and two measures of its reconstruction as the features,
//! this is the density estimate of Zong et al. (2018), "Deep autoencoding Gaussian
//! mixture model for unsupervised anomaly detection", fitted after training.

use serde::{Deserialize, Serialize};

use crate::mixture::{check_components, moments};
use crate::parallel::in_parallel;
use crate::random::Rng;
use crate::{AnalysisError, rows};

/// Added to each covariance's diagonal (scikit-learn's `reg_covar`): no component
/// collapses onto a subspace of the standardised features.
const REGULARISATION: f64 = 1e-6;
/// EM stops when the mean log-likelihood gains less than this (scikit-learn's `tol`).
const TOLERANCE: f64 = 1e-3;
/// Rounds of k-means before EM.
const KMEANS_ROUNDS: usize = 20;

/// A Gaussian mixture with full covariances over standardised `dim`-dimensional
/// features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Density {
    /// Values per sample.
    pub dim: usize,
    /// The training features' mean, subtracted first.
    pub mean: Vec<f64>,
    /// Their standard deviation, divided by next (1 where it was 0).
    pub scale: Vec<f64>,
    /// Each component's weight (they sum to 1).
    pub weights: Vec<f64>,
    /// Each component's mean in standardised units, `dim` values.
    pub means: Vec<Vec<f64>>,
    /// Each component's covariance as its lower Cholesky factor, `dim × dim`
    /// row-major.
    pub cholesky: Vec<Vec<f64>>,
}

impl Density {
    /// Fits `components` Gaussians to the rows of `data` (`n` × `dim`): the features
    /// standardised, k-means++ seeds drawn with `seed`, k-means, then at most
    /// `iterations` rounds of EM.
    pub fn fit(
        data: &[f32],
        dim: usize,
        components: usize,
        iterations: usize,
        seed: u64,
    ) -> Result<Self, AnalysisError> {
        let n = rows("data", data, dim)?;
        check_components(components, n)?;
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(AnalysisError::Parameter {
                what: "feature",
                value: format!("{} (sample {}, feature {})", data[i], i / dim, i % dim),
                expected: "finite values",
            });
        }
        let (mean, variance) = moments(data, dim);
        let scale: Vec<f64> = variance
            .into_iter()
            .map(|s| if s > 0.0 { s.sqrt() } else { 1.0 })
            .collect();
        let x: Vec<f64> = data
            .chunks(dim)
            .flat_map(|row| {
                row.iter()
                    .zip(&mean)
                    .zip(&scale)
                    .map(|((&v, m), s)| (f64::from(v) - m) / s)
            })
            .collect();
        let mut model = Self {
            dim,
            mean,
            scale,
            weights: vec![],
            means: vec![],
            cholesky: vec![],
        };
        let mut resp = kmeans(&x, dim, components, seed);
        let mut last = f64::NEG_INFINITY;
        for _ in 0..iterations.max(1) {
            model.maximise(&x, &resp);
            let ll = model.expect(&x, &mut resp);
            if ll - last < TOLERANCE {
                break;
            }
            last = ll;
        }
        Ok(model)
    }

    /// Checks a mixture read from a file: every vector of its size, weights that are
    /// probabilities, factors with positive diagonals.
    pub fn validate(&self) -> Result<(), AnalysisError> {
        let dim = self.dim;
        let k = self.weights.len();
        let bad = |what: &'static str, value: String, expected: &'static str| {
            Err(AnalysisError::Parameter {
                what,
                value,
                expected,
            })
        };
        if dim == 0 || k == 0 {
            return bad(
                "density",
                format!("{k} components of {dim} features"),
                "at least one component of one feature",
            );
        }
        if self.mean.len() != dim
            || self.scale.len() != dim
            || self.means.len() != k
            || self.cholesky.len() != k
            || self.means.iter().any(|m| m.len() != dim)
            || self.cholesky.iter().any(|l| l.len() != dim * dim)
        {
            return bad(
                "density",
                format!("{k} components of {dim} features"),
                "a mean and scale of dim values, and per component a mean of dim values \
                 and a dim × dim factor",
            );
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !self.weights.iter().all(|w| (0.0..=1.0).contains(w))
            || !finite(&self.mean)
            || !self.scale.iter().all(|s| s.is_finite() && *s > 0.0)
            || !self.means.iter().all(|m| finite(m))
            || !self
                .cholesky
                .iter()
                .all(|l| finite(l) && (0..dim).all(|i| l[i * dim + i] > 0.0))
        {
            return bad(
                "density",
                "a weight, scale or factor out of range".into(),
                "weights in [0, 1], positive scales and factor diagonals, finite values",
            );
        }
        Ok(())
    }

    /// The negative log-density of each row of `data` (raw features, as fitted), in
    /// nats; higher is less like the fitted samples.
    pub fn negative_log_density(&self, data: &[f32]) -> Result<Vec<f64>, AnalysisError> {
        rows("data", data, self.dim)?;
        let mut z = vec![0.0; self.dim];
        let mut post = vec![0.0; self.weights.len()];
        let mut y = vec![0.0; self.dim];
        let constants = self.constants();
        Ok(data
            .chunks(self.dim)
            .map(|row| {
                for (((z, &v), m), s) in z.iter_mut().zip(row).zip(&self.mean).zip(&self.scale) {
                    *z = (f64::from(v) - m) / s;
                }
                -self.log_density(&z, &constants, &mut y, &mut post)
            })
            .collect())
    }

    /// Each component's log weight less its covariance's half log-determinant and the
    /// normalising constant: what [`Self::log_density`] adds to each row's distance.
    fn constants(&self) -> Vec<f64> {
        let dim = self.dim;
        let half_log_2pi = 0.5 * std::f64::consts::TAU.ln();
        self.weights
            .iter()
            .zip(&self.cholesky)
            .map(|(w, l)| {
                let log_det: f64 = (0..dim).map(|i| l[i * dim + i].ln()).sum();
                w.max(f64::MIN_POSITIVE).ln() - log_det - dim as f64 * half_log_2pi
            })
            .collect()
    }

    /// `log p(z)` of a standardised row, given [`Self::constants`]; each component's
    /// posterior into `post`, `y` a row of scratch space.
    fn log_density(&self, z: &[f64], constants: &[f64], y: &mut [f64], post: &mut [f64]) -> f64 {
        let dim = self.dim;
        for (c, p) in post.iter_mut().enumerate() {
            let l = &self.cholesky[c];
            // Solve L y = z − μ: the squared norm of y is the Mahalanobis distance.
            let mut quad = 0.0;
            for i in 0..dim {
                let row = &l[i * dim..i * dim + i];
                let s: f64 = row.iter().zip(&y[..i]).map(|(a, b)| a * b).sum();
                y[i] = (z[i] - self.means[c][i] - s) / l[i * dim + i];
                quad += y[i] * y[i];
            }
            *p = constants[c] - 0.5 * quad;
        }
        let top = post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = post.iter().map(|j| (j - top).exp()).sum();
        post.iter_mut().for_each(|p| *p = (*p - top).exp() / total);
        top + total.ln()
    }

    /// The E step: each row's posterior over the components into `resp`; returns the
    /// mean log-likelihood.
    fn expect(&self, x: &[f64], resp: &mut [f64]) -> f64 {
        let (k, dim) = (self.weights.len(), self.dim);
        let n = x.len() / dim;
        let constants = self.constants();
        let parts = in_parallel(n, |range| {
            let mut out = Vec::with_capacity(range.len() * k + 1);
            let mut post = vec![0.0; k];
            let mut y = vec![0.0; dim];
            let mut ll = 0.0;
            for i in range {
                ll += self.log_density(&x[i * dim..(i + 1) * dim], &constants, &mut y, &mut post);
                out.extend_from_slice(&post);
            }
            out.push(ll);
            vec![out]
        });
        let mut at = 0;
        let mut total = 0.0;
        for mut part in parts {
            total += part.pop().unwrap_or(0.0);
            resp[at..at + part.len()].copy_from_slice(&part);
            at += part.len();
        }
        total / n as f64
    }

    /// The M step: weights, means and covariances (their Cholesky factors) from the
    /// responsibilities `resp` (`n × k`).
    fn maximise(&mut self, x: &[f64], resp: &[f64]) {
        let dim = self.dim;
        let n = x.len() / dim;
        let k = resp.len() / n;
        self.weights = vec![0.0; k];
        self.means = vec![vec![0.0; dim]; k];
        self.cholesky = vec![vec![0.0; dim * dim]; k];
        for c in 0..k {
            let total: f64 = (0..n).map(|i| resp[i * k + c]).sum();
            let mass = total + 10.0 * f64::EPSILON;
            let mean = &mut self.means[c];
            for i in 0..n {
                let r = resp[i * k + c] / mass;
                for (m, v) in mean.iter_mut().zip(&x[i * dim..(i + 1) * dim]) {
                    *m += r * v;
                }
            }
            let mut cov = vec![0.0; dim * dim];
            let mut d = vec![0.0; dim];
            for i in 0..n {
                let r = resp[i * k + c] / mass;
                if r == 0.0 {
                    continue;
                }
                for ((d, v), m) in d.iter_mut().zip(&x[i * dim..(i + 1) * dim]).zip(&*mean) {
                    *d = v - m;
                }
                for a in 0..dim {
                    let ra = r * d[a];
                    for b in 0..=a {
                        cov[a * dim + b] += ra * d[b];
                    }
                }
            }
            self.weights[c] = total / n as f64;
            self.cholesky[c] = regularised_cholesky(&mut cov, dim);
        }
    }
}

/// The lower Cholesky factor of the symmetric matrix whose lower triangle `cov`
/// holds, after adding [`REGULARISATION`] to its diagonal — ten times more each time
/// the factorisation finds it not positive definite.
fn regularised_cholesky(cov: &mut [f64], dim: usize) -> Vec<f64> {
    let mut reg = REGULARISATION;
    loop {
        let mut l = vec![0.0; dim * dim];
        let mut ok = true;
        'rows: for i in 0..dim {
            for j in 0..=i {
                let mut s = cov[i * dim + j] + if i == j { reg } else { 0.0 };
                for p in 0..j {
                    s -= l[i * dim + p] * l[j * dim + p];
                }
                if i == j {
                    if s <= 0.0 || !s.is_finite() {
                        ok = false;
                        break 'rows;
                    }
                    l[i * dim + i] = s.sqrt();
                } else {
                    l[i * dim + j] = s / l[j * dim + j];
                }
            }
        }
        if ok {
            return l;
        }
        reg *= 10.0;
    }
}

/// Hard assignments of the rows of `x` to `k` clusters, as responsibilities (`n × k`,
/// one 1 per row): k-means++ seeds drawn with `seed`, then Lloyd's rounds.
fn kmeans(x: &[f64], dim: usize, k: usize, seed: u64) -> Vec<f64> {
    let n = x.len() / dim;
    let row = |i: usize| &x[i * dim..(i + 1) * dim];
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>();
    let mut rng = Rng::new(seed);
    let first = ((rng.uniform() * n as f64) as usize).min(n - 1);
    let mut centres: Vec<Vec<f64>> = vec![row(first).to_vec()];
    let mut nearest: Vec<f64> = (0..n).map(|i| dist(row(i), &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let mut target = rng.uniform() * total;
        let mut pick = n - 1;
        for (i, d) in nearest.iter().enumerate() {
            if target < *d {
                pick = i;
                break;
            }
            target -= d;
        }
        centres.push(row(pick).to_vec());
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(dist(row(i), &centres[centres.len() - 1]));
        }
    }
    let mut assign = vec![0usize; n];
    for _ in 0..KMEANS_ROUNDS {
        for (i, a) in assign.iter_mut().enumerate() {
            *a = (0..k)
                .min_by(|&p, &q| dist(row(i), &centres[p]).total_cmp(&dist(row(i), &centres[q])))
                .unwrap_or(0);
        }
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| assign[i] == c).collect();
            if members.is_empty() {
                continue;
            }
            centre.iter_mut().for_each(|v| *v = 0.0);
            for &i in &members {
                for (v, x) in centre.iter_mut().zip(row(i)) {
                    *v += x / members.len() as f64;
                }
            }
        }
    }
    let mut resp = vec![0.0; n * k];
    for (i, &a) in assign.iter().enumerate() {
        resp[i * k + a] = 1.0;
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` points of a 2-d Gaussian stretched along the diagonal (correlation 0.95),
    /// centred on `(cx, cy)`, with variances 4 (`x`) and 1 (`y`) before mixing.
    fn correlated(rng: &mut Rng, n: usize, cx: f64, cy: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let (a, b) = (rng.normal(), rng.normal());
            let x = 2.0 * a;
            let y = 0.95 * a + (1.0f64 - 0.95 * 0.95).sqrt() * b;
            out.push((cx + x) as f32);
            out.push((cy + y) as f32);
        }
        out
    }

    #[test]
    fn one_component_is_the_sample_gaussian_and_its_density_by_hand() {
        let mut rng = Rng::new(3);
        let data = correlated(&mut rng, 4000, 10.0, -3.0);
        let d = Density::fit(&data, 2, 1, 50, 0).expect("fits");
        // Standardised, the covariance is the correlation matrix [[1, ρ], [ρ, 1]]:
        // its Cholesky factor is [[1, 0], [ρ, √(1 − ρ²)]].
        let l = &d.cholesky[0];
        assert!((l[0] - 1.0).abs() < 1e-3, "{l:?}");
        assert!((l[2] - 0.95).abs() < 0.01, "{l:?}");
        assert!((l[3] - (1.0f64 - 0.95 * 0.95).sqrt()).abs() < 0.01, "{l:?}");
        assert_eq!(l[1], 0.0);
        // At the mean, −log p = log(2π) + ½ log det Σ (in standardised units: the
        // scale's log is not part of it).
        let centre = [d.mean[0] as f32, d.mean[1] as f32];
        let got = d.negative_log_density(&centre).expect("one row")[0];
        let det = 1.0 - 0.95f64 * 0.95;
        let want = std::f64::consts::TAU.ln() + 0.5 * det.ln();
        assert!((got - want).abs() < 0.05, "{got} against {want}");
        // A point off the correlation is far less likely than one along it at the
        // same distance: the full covariance sees what a diagonal one cannot.
        let (sx, sy) = (d.scale[0] as f32, d.scale[1] as f32);
        let along = [centre[0] + sx, centre[1] + sy];
        let across = [centre[0] + sx, centre[1] - sy];
        let s = d
            .negative_log_density(&[along, across].concat())
            .expect("rows");
        assert!(s[1] > s[0] + 10.0, "{s:?}");
    }

    #[test]
    fn two_clusters_are_found_and_points_between_them_score_high() {
        let mut rng = Rng::new(7);
        let mut data = correlated(&mut rng, 1500, -8.0, 0.0);
        data.extend(correlated(&mut rng, 500, 8.0, 5.0));
        let d = Density::fit(&data, 2, 2, 100, 1).expect("fits");
        let mut w = d.weights.clone();
        w.sort_by(f64::total_cmp);
        assert!(
            (w[0] - 0.25).abs() < 0.01 && (w[1] - 0.75).abs() < 0.01,
            "{w:?}"
        );
        let s = d
            .negative_log_density(&[-8.0, 0.0, 8.0, 5.0, 0.0, 2.5])
            .expect("rows");
        assert!(s[2] > s[0] + 5.0 && s[2] > s[1] + 5.0, "{s:?}");
        // Better than one Gaussian over everything, the trivial density.
        let one = Density::fit(&data, 2, 1, 100, 1).expect("fits");
        let mean = |d: &Density| {
            let s = d.negative_log_density(&data).expect("rows");
            s.iter().sum::<f64>() / s.len() as f64
        };
        assert!(
            mean(&d) + 0.5 < mean(&one),
            "{} vs {}",
            mean(&d),
            mean(&one)
        );
        // The same seed gives the same mixture.
        assert_eq!(Density::fit(&data, 2, 2, 100, 1).expect("fits"), d);
    }

    #[test]
    fn degenerate_features_still_factor() {
        // A constant feature and a duplicated one: the covariance is singular until
        // regularised.
        let data: Vec<f32> = (0..100).flat_map(|i| [1.0, i as f32, i as f32]).collect();
        let d = Density::fit(&data, 3, 2, 20, 0).expect("fits");
        let s = d.negative_log_density(&data).expect("rows");
        assert!(s.iter().all(|v| v.is_finite()), "{s:?}");
    }

    #[test]
    fn bad_inputs_are_named() {
        let err = Density::fit(&[1.0, 2.0, 3.0], 2, 1, 1, 0).expect_err("rows");
        assert!(err.to_string().contains("rows of 2"), "{err}");
        let err = Density::fit(&[1.0, 2.0], 2, 2, 1, 0).expect_err("2 of 1");
        assert!(err.to_string().contains("components = 2"), "{err}");
        let err = Density::fit(&[1.0, f32::NAN], 2, 1, 1, 0).expect_err("NaN");
        assert!(err.to_string().contains("sample 0, feature 1"), "{err}");
        let d = Density::fit(&[1.0, 2.0, 2.0, 1.0], 2, 1, 1, 0).expect("fits");
        assert!(d.negative_log_density(&[1.0]).is_err());
        assert_eq!(d.validate(), Ok(()));
        let mut short = d.clone();
        short.means[0].pop();
        assert!(short.validate().is_err());
        let mut flat = d.clone();
        flat.cholesky[0][3] = 0.0;
        assert!(flat.validate().is_err());
    }
}
