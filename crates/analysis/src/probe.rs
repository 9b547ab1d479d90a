//! The linear probe: multinomial logistic regression on frozen codes, the usual
//! measure of how linearly separable an embedding makes the classes.

use crate::{AnalysisError, rows};

/// A softmax classifier on standardised features.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearProbe {
    dim: usize,
    classes: usize,
    /// Per-feature mean and standard deviation of the training rows.
    mean: Vec<f64>,
    std: Vec<f64>,
    /// `[classes, dim + 1]`: weights, then the bias.
    weights: Vec<f64>,
}

/// How the probe is trained: mini-batch Adam on the cross-entropy plus `l2 · ‖W‖²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbeOptions {
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Weight of the L2 penalty on the weights (not the biases).
    pub l2: f64,
    /// Seed of the row order.
    pub seed: u64,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 256,
            lr: 0.01,
            l2: 1e-4,
            seed: 0,
        }
    }
}

impl LinearProbe {
    /// Fits the probe to `x` (`dim` wide rows) and their `labels`.
    pub fn fit(
        x: &[f32],
        labels: &[u8],
        dim: usize,
        options: ProbeOptions,
    ) -> Result<Self, AnalysisError> {
        Self::fit_with_progress(x, labels, dim, options, |_| {})
    }

    /// [`fit`](Self::fit), calling `progress` with the number of epochs done after each.
    pub fn fit_with_progress(
        x: &[f32],
        labels: &[u8],
        dim: usize,
        options: ProbeOptions,
        progress: impl FnMut(usize),
    ) -> Result<Self, AnalysisError> {
        let (mut probe, z) = Self::untrained(x, labels, dim)?;
        probe.train(&z, labels, options, progress);
        Ok(probe)
    }

    /// A probe with zero weights whose standardisation is fitted to `x` (`dim` wide
    /// rows, one label each), and `x` standardised.
    fn untrained(x: &[f32], labels: &[u8], dim: usize) -> Result<(Self, Vec<f64>), AnalysisError> {
        let n = rows("probe: training rows", x, dim)?;
        if n != labels.len() || n == 0 {
            return Err(AnalysisError::Mismatch {
                what: "probe: training rows against labels",
                left: n,
                right: labels.len(),
            });
        }
        let classes = labels.iter().copied().max().map_or(0, usize::from) + 1;
        let mut mean = vec![0.0; dim];
        let mut sq = vec![0.0; dim];
        for row in x.chunks(dim) {
            for (j, &v) in row.iter().enumerate() {
                mean[j] += f64::from(v);
                sq[j] += f64::from(v) * f64::from(v);
            }
        }
        let std: Vec<f64> = (0..dim)
            .map(|j| {
                mean[j] /= n as f64;
                let var = sq[j] / n as f64 - mean[j] * mean[j];
                if var > 1e-12 { var.sqrt() } else { 1.0 }
            })
            .collect();
        let probe = Self {
            dim,
            classes,
            mean,
            std,
            weights: vec![0.0; classes * (dim + 1)],
        };
        let z = x
            .chunks(dim)
            .flat_map(|row| probe.standardize(row))
            .collect();
        Ok((probe, z))
    }

    /// Fits the probe to convergence, as scikit-learn's `LogisticRegression` does:
    /// full-batch L-BFGS (10 corrections, backtracking line search) on
    /// `mean cross-entropy + ‖W‖² / (2 · c · n)` (the biases unpenalised; scikit-learn
    /// minimises `n` times this), until the gradient's largest component is below
    /// `tolerance` or after `max_iter` iterations.
    pub fn fit_converged(
        x: &[f32],
        labels: &[u8],
        dim: usize,
        c: f64,
        max_iter: usize,
        tolerance: f64,
    ) -> Result<Self, AnalysisError> {
        Self::fit_converged_with_progress(x, labels, dim, c, max_iter, tolerance, |_| {})
    }

    /// [`fit_converged`](Self::fit_converged), calling `progress` with the number of
    /// L-BFGS iterations done as each starts.
    pub fn fit_converged_with_progress(
        x: &[f32],
        labels: &[u8],
        dim: usize,
        c: f64,
        max_iter: usize,
        tolerance: f64,
        progress: impl FnMut(usize),
    ) -> Result<Self, AnalysisError> {
        if !(c.is_finite() && c > 0.0) {
            return Err(AnalysisError::Parameter {
                what: "c",
                value: c.to_string(),
                expected: "a positive, finite inverse regularisation strength",
            });
        }
        let (mut probe, z) = Self::untrained(x, labels, dim)?;
        let l2 = 1.0 / (c * labels.len() as f64);
        let weights = crate::lbfgs::minimise(
            probe.weights.clone(),
            |w, grad| probe.objective(w, &z, labels, l2, grad),
            max_iter,
            tolerance,
            progress,
        );
        probe.weights = weights;
        Ok(probe)
    }

    /// The objective [`fit_converged`](Self::fit_converged) minimises, at this probe's
    /// weights, on the rows `x` (standardised as the probe's training rows were).
    pub fn mean_objective(&self, x: &[f32], labels: &[u8], c: f64) -> Result<f64, AnalysisError> {
        let n = rows("probe: rows", x, self.dim)?;
        if n != labels.len() || n == 0 {
            return Err(AnalysisError::Mismatch {
                what: "probe: rows against labels",
                left: n,
                right: labels.len(),
            });
        }
        let z: Vec<f64> = x
            .chunks(self.dim)
            .flat_map(|row| self.standardize(row))
            .collect();
        let mut grad = vec![0.0; self.weights.len()];
        Ok(self.objective(&self.weights, &z, labels, 1.0 / (c * n as f64), &mut grad))
    }

    /// The mean cross-entropy plus `l2 / 2 · ‖W‖²` at weights `w`, its gradient into
    /// `grad`.
    fn objective(&self, w: &[f64], z: &[f64], labels: &[u8], l2: f64, grad: &mut [f64]) -> f64 {
        let (n, width) = (labels.len(), self.dim + 1);
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut p = vec![0.0; self.classes];
        let mut loss = 0.0;
        for (i, &label) in labels.iter().enumerate() {
            let zi = &z[i * self.dim..(i + 1) * self.dim];
            softmax(w, zi, &mut p);
            loss -= p[usize::from(label)].max(1e-300).ln();
            p[usize::from(label)] -= 1.0;
            for (c, &err) in p.iter().enumerate() {
                let g = &mut grad[c * width..(c + 1) * width];
                for (gj, &zj) in g.iter_mut().zip(zi) {
                    *gj += err * zj;
                }
                g[self.dim] += err;
            }
        }
        let mut penalty = 0.0;
        for (k, (g, wk)) in grad.iter_mut().zip(w).enumerate() {
            *g /= n as f64;
            if k % width != self.dim {
                *g += l2 * wk;
                penalty += wk * wk;
            }
        }
        loss / n as f64 + 0.5 * l2 * penalty
    }

    fn standardize(&self, row: &[f32]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(j, &v)| (f64::from(v) - self.mean[j]) / self.std[j])
            .collect()
    }

    fn train(
        &mut self,
        z: &[f64],
        labels: &[u8],
        o: ProbeOptions,
        mut progress: impl FnMut(usize),
    ) {
        let (n, w) = (labels.len(), self.dim + 1);
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = o
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let (mut m, mut v) = (vec![0.0; self.weights.len()], vec![0.0; self.weights.len()]);
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let mut step = 0i32;
        let mut p = vec![0.0; self.classes];
        let mut grad = vec![0.0; self.weights.len()];
        for epoch in 0..o.epochs {
            // Fisher–Yates with a 64-bit LCG: a fixed order per seed.
            for i in (1..n).rev() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, ((state >> 33) as usize) % (i + 1));
            }
            for batch in order.chunks(o.batch_size.max(1)) {
                grad.iter_mut().for_each(|g| *g = 0.0);
                for &i in batch {
                    let zi = &z[i * self.dim..(i + 1) * self.dim];
                    softmax(&self.weights, zi, &mut p);
                    p[usize::from(labels[i])] -= 1.0;
                    for (c, &err) in p.iter().enumerate() {
                        let g = &mut grad[c * w..(c + 1) * w];
                        for (gj, &zj) in g.iter_mut().zip(zi) {
                            *gj += err * zj;
                        }
                        g[self.dim] += err;
                    }
                }
                step += 1;
                let scale = 1.0 / batch.len() as f64;
                for (k, g) in grad.iter().enumerate() {
                    let is_bias = k % w == self.dim;
                    let g = g * scale
                        + if is_bias {
                            0.0
                        } else {
                            2.0 * o.l2 * self.weights[k]
                        };
                    m[k] = b1 * m[k] + (1.0 - b1) * g;
                    v[k] = b2 * v[k] + (1.0 - b2) * g * g;
                    let m_hat = m[k] / (1.0 - b1.powi(step));
                    let v_hat = v[k] / (1.0 - b2.powi(step));
                    self.weights[k] -= o.lr * m_hat / (v_hat.sqrt() + eps);
                }
            }
            progress(epoch + 1);
        }
    }

    /// The most probable class of each row.
    pub fn predict(&self, x: &[f32]) -> Result<Vec<u8>, AnalysisError> {
        rows("probe: rows to classify", x, self.dim)?;
        let mut p = vec![0.0; self.classes];
        Ok(x.chunks(self.dim)
            .map(|row| {
                softmax(&self.weights, &self.standardize(row), &mut p);
                let best = (0..self.classes)
                    .max_by(|&a, &b| p[a].total_cmp(&p[b]))
                    .unwrap_or(0);
                best as u8
            })
            .collect())
    }

    /// Fraction of `x`'s rows classified as `labels` says.
    pub fn accuracy(&self, x: &[f32], labels: &[u8]) -> Result<f64, AnalysisError> {
        let predicted = self.predict(x)?;
        if predicted.len() != labels.len() || predicted.is_empty() {
            return Err(AnalysisError::Mismatch {
                what: "probe: rows against labels",
                left: predicted.len(),
                right: labels.len(),
            });
        }
        let right = predicted.iter().zip(labels).filter(|(a, b)| a == b).count();
        Ok(right as f64 / labels.len() as f64)
    }
}

/// Class probabilities of one standardised row `z` under `weights` (`[classes, dim + 1]`:
/// weights, then the bias), written into `p` (one per class).
fn softmax(weights: &[f64], z: &[f64], p: &mut [f64]) {
    let dim = z.len();
    for (pc, row) in p.iter_mut().zip(weights.chunks(dim + 1)) {
        *pc = row[dim] + row[..dim].iter().zip(z).map(|(a, b)| a * b).sum::<f64>();
    }
    let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for pc in p.iter_mut() {
        *pc = (*pc - max).exp();
        total += *pc;
    }
    for pc in p.iter_mut() {
        *pc /= total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points of class c scattered around (3c, −c), and a constant third feature.
    fn blobs(n: usize, seed: u32) -> (Vec<f32>, Vec<u8>) {
        let mut x = Vec::new();
        let mut labels = Vec::new();
        let mut s = seed;
        let mut noise = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for i in 0..n {
            let c = (i % 3) as f32;
            x.extend([3.0 * c + noise(), -c + noise(), 5.0]);
            labels.push((i % 3) as u8);
        }
        (x, labels)
    }

    #[test]
    fn separable_classes_are_learned() {
        let (train, train_labels) = blobs(300, 1);
        let (test, test_labels) = blobs(90, 2);
        // Two steps an epoch on 300 rows: more epochs than the 60,000-row default needs.
        let options = ProbeOptions {
            epochs: 300,
            ..ProbeOptions::default()
        };
        let mut epochs = Vec::new();
        let probe =
            LinearProbe::fit_with_progress(&train, &train_labels, 3, options, |e| epochs.push(e))
                .expect("valid input");
        assert_eq!(epochs, (1..=300).collect::<Vec<_>>());
        assert_eq!(probe.accuracy(&test, &test_labels).expect("valid"), 1.0);
        let mut iterations = Vec::new();
        let converged = LinearProbe::fit_converged_with_progress(
            &train,
            &train_labels,
            3,
            1.0,
            100,
            1e-6,
            |i| iterations.push(i),
        )
        .expect("valid input");
        assert_eq!(converged.accuracy(&test, &test_labels).expect("valid"), 1.0);
        assert!(!iterations.is_empty() && iterations.windows(2).all(|w| w[1] == w[0] + 1));
        // A constant feature (the third) does not break the standardisation.
        assert_eq!(probe.std[2], 1.0);
    }

    #[test]
    fn labels_carrying_no_information_give_chance() {
        let (train, _) = blobs(300, 3);
        let shuffled: Vec<u8> = (0..300).map(|i| ((i * 7 / 3) % 2) as u8).collect();
        let probe =
            LinearProbe::fit(&train, &shuffled, 3, ProbeOptions::default()).expect("valid input");
        let acc = probe.accuracy(&train, &shuffled).expect("valid");
        assert!(acc < 0.7, "{acc}");
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(LinearProbe::fit(&[1.0, 2.0, 3.0], &[0], 2, ProbeOptions::default()).is_err());
        assert!(LinearProbe::fit(&[1.0, 2.0], &[0, 1], 2, ProbeOptions::default()).is_err());
        let probe =
            LinearProbe::fit(&[1.0, 2.0], &[0, 1], 1, ProbeOptions::default()).expect("valid");
        assert!(probe.accuracy(&[1.0], &[0, 1]).is_err());
    }
}
