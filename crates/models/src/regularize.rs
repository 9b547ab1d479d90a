//! Regularisers and input corruptions, written once and shared by every family.
//!
//! The sparse, denoising, contractive and weight-penalised autoencoders are the
//! plain ones with a [`Regularization`] and a [`Noise`]: the objective is added to
//! whatever architecture computes the code.

use burn::prelude::*;
use burn::tensor::Distribution;
use serde::{Deserialize, Serialize};

use crate::{Activation, ConfigError, LossTerm};

/// KL-divergence sparsity: the mean activation of each code unit is pulled toward
/// `target` (ρ) with weight `weight` (β). The code must lie in `(0, 1)`: use a
/// sigmoid code activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KlSparsity {
    /// Target mean activation ρ, in `(0, 1)`.
    pub target: f64,
    /// Weight β of the penalty.
    pub weight: f64,
}

/// Penalties and constraints on the code and the weights. All off by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Regularization {
    /// λ of the L1 penalty on code activations, `λ · mean_batch Σ_j |h_j|`.
    pub code_l1: f64,
    /// KL divergence of each unit's mean activation to a target rate.
    pub kl_sparsity: Option<KlSparsity>,
    /// Keep only the k largest code units of each sample (k-sparse autoencoder).
    pub k_sparse: Option<usize>,
    /// λ of the contractive penalty `λ · mean_batch ‖∂h/∂x‖²_F`, in closed form for
    /// the code layer (see [`contractive_penalty`]).
    pub contractive: f64,
    /// λ of the L1 penalty on every weight matrix, `λ Σ |W|`.
    pub weight_l1: f64,
    /// λ of the L2 penalty on every weight matrix, `λ Σ W²`.
    pub weight_l2: f64,
}

impl Regularization {
    /// The names of the loss terms a model with these penalties reports: the
    /// reconstruction, then each penalty that is on.
    pub(crate) fn loss_terms(&self) -> Vec<&'static str> {
        let mut names = vec!["reconstruction"];
        for (on, name) in [
            (self.code_l1 > 0.0, "sparsity"),
            (self.kl_sparsity.is_some(), "sparsity-kl"),
            (self.contractive > 0.0, "contractive"),
            (self.weight_l1 > 0.0, "weight-l1"),
            (self.weight_l2 > 0.0, "weight-l2"),
        ] {
            if on {
                names.push(name);
            }
        }
        names
    }

    /// Checks the values against the code size and the code activation.
    pub fn validate(&self, latent: usize, code_activation: Activation) -> Result<(), ConfigError> {
        for (field, v) in [
            ("code_l1", self.code_l1),
            ("contractive", self.contractive),
            ("weight_l1", self.weight_l1),
            ("weight_l2", self.weight_l2),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ConfigError::new(
                    field,
                    v.to_string(),
                    "a finite weight ≥ 0",
                ));
            }
        }
        if let Some(k) = self.k_sparse
            && (k == 0 || k > latent)
        {
            return Err(ConfigError::new(
                "k_sparse",
                k.to_string(),
                format!("1 ≤ k ≤ latent ({latent})"),
            ));
        }
        if let Some(kl) = self.kl_sparsity {
            if !(kl.target > 0.0 && kl.target < 1.0) {
                return Err(ConfigError::new(
                    "kl_sparsity.target",
                    kl.target.to_string(),
                    "a rate in (0, 1)",
                ));
            }
            if !(kl.weight.is_finite() && kl.weight >= 0.0) {
                return Err(ConfigError::new(
                    "kl_sparsity.weight",
                    kl.weight.to_string(),
                    "a finite weight ≥ 0",
                ));
            }
            if code_activation != Activation::Sigmoid {
                return Err(ConfigError::new(
                    "code_activation",
                    code_activation.name(),
                    "sigmoid when kl_sparsity is set (activations must be rates in (0, 1))",
                ));
            }
        }
        if self.contractive > 0.0 && code_activation.derivative_from_output().is_none() {
            return Err(ConfigError::new(
                "code_activation",
                code_activation.name(),
                "sigmoid, tanh, relu or identity when contractive > 0 (closed-form Jacobian)",
            ));
        }
        Ok(())
    }

    /// The code as the constraints leave it: the k largest units of each sample when
    /// `k_sparse` is set, unchanged otherwise.
    pub fn constrain_code(&self, code: Tensor<2>) -> Tensor<2> {
        match self.k_sparse {
            Some(k) => k_sparse(code, k),
            None => code,
        }
    }

    /// The whole objective of a (non-variational) autoencoder: the reconstruction
    /// term, then the code penalties, then the weight penalties on `weights`.
    pub fn objective(
        &self,
        reconstruction: Tensor<1>,
        code: &Tensor<2>,
        weights: &[Tensor<2>],
    ) -> Vec<LossTerm> {
        let mut terms = vec![LossTerm {
            name: "reconstruction",
            value: reconstruction,
        }];
        terms.extend(self.code_terms(code));
        terms.extend(self.weight_terms(weights));
        terms
    }

    /// The penalties on a code `[batch, latent]`, each as a named loss term.
    pub fn code_terms(&self, code: &Tensor<2>) -> Vec<LossTerm> {
        let mut terms = Vec::new();
        if self.code_l1 > 0.0 {
            let l1 = code.clone().abs().sum_dim(1).mean() * self.code_l1;
            terms.push(LossTerm {
                name: "sparsity",
                value: l1,
            });
        }
        if let Some(kl) = self.kl_sparsity {
            terms.push(LossTerm {
                name: "sparsity-kl",
                value: kl_sparsity(code.clone(), kl.target) * kl.weight,
            });
        }
        terms
    }

    /// L1/L2 penalties on `weights` (one tensor per layer), as named loss terms.
    pub fn weight_terms(&self, weights: &[Tensor<2>]) -> Vec<LossTerm> {
        let mut terms = Vec::new();
        let sum = |f: &dyn Fn(Tensor<2>) -> Tensor<1>| {
            weights.iter().map(|w| f(w.clone())).reduce(|a, b| a + b)
        };
        if self.weight_l1 > 0.0
            && let Some(total) = sum(&|w| w.abs().sum())
        {
            terms.push(LossTerm {
                name: "weight-l1",
                value: total * self.weight_l1,
            });
        }
        if self.weight_l2 > 0.0
            && let Some(total) = sum(&|w| w.powi_scalar(2).sum())
        {
            terms.push(LossTerm {
                name: "weight-l2",
                value: total * self.weight_l2,
            });
        }
        terms
    }
}

/// `Σ_j KL(ρ ‖ ρ̂_j)` for the mean activations `ρ̂` of the code units over the batch.
///
/// # Shapes
/// `code`: `[batch, latent]` with values in `(0, 1)`; returns `[1]`.
pub fn kl_sparsity(code: Tensor<2>, target: f64) -> Tensor<1> {
    let eps = 1e-6;
    let rho_hat = code.mean_dim(0).clamp(eps, 1.0 - eps); // [1, latent]
    let rho = target;
    let a = (rho_hat.clone().recip() * rho).log() * rho;
    let b = ((rho_hat.neg() + 1.0).recip() * (1.0 - rho)).log() * (1.0 - rho);
    (a + b).sum()
}

/// Keeps the `k` largest entries of each row and sets the others to zero.
///
/// Gradients flow through the kept entries only, as in the k-sparse autoencoder.
///
/// # Shapes
/// `code`: `[batch, latent]`; returns `[batch, latent]` with exactly `k` entries of
/// each row kept.
pub fn k_sparse(code: Tensor<2>, k: usize) -> Tensor<2> {
    let (_, indices) = code.clone().topk_with_indices(k, 1); // [batch, k]
    let mask = code.zeros_like().scatter(
        1,
        indices,
        code.ones_like().slice([0..code.dims()[0], 0..k]),
        burn::tensor::IndexingUpdateOp::Assign,
    );
    code * mask
}

/// The contractive penalty of a code layer `h = f(x W + b)`, in closed form:
/// `mean_batch Σ_j f'(z_j)² Σ_i W_ij²`.
///
/// For a deeper encoder this is the Jacobian of the code with respect to the code
/// layer's input (the last hidden layer), not the image: the penalty that the
/// closed form gives without a backward pass per sample.
///
/// # Shapes
/// `code`: `[batch, latent]` (after `f`); `weight`: `[inputs, latent]`; returns `[1]`.
pub fn contractive_penalty(
    code: Tensor<2>,
    weight: Tensor<2>,
    activation: Activation,
) -> Tensor<1> {
    let col_norms = weight.powi_scalar(2).sum_dim(0); // [1, latent]
    let derivative = activation
        .derivative_from_output()
        .map(|d| d(code.clone()))
        .unwrap_or_else(|| code.ones_like());
    (derivative.powi_scalar(2) * col_norms).sum_dim(1).mean()
}

/// How inputs are corrupted during training (denoising autoencoders). The loss is
/// taken against the clean input; nothing is corrupted outside training.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Noise {
    /// No corruption.
    #[default]
    None,
    /// Additive Gaussian noise of standard deviation `std`, clamped into `[0, 1]`.
    Gaussian {
        /// Standard deviation.
        std: f64,
    },
    /// Each pixel set to 0 or 1 (even odds) with probability `rate`.
    SaltPepper {
        /// Fraction of pixels replaced.
        rate: f64,
    },
    /// Each pixel set to 0 with probability `rate`.
    Masking {
        /// Fraction of pixels zeroed.
        rate: f64,
    },
    /// Multiplicative noise `x · (1 + n)`, `n ~ N(0, std²)`, clamped into `[0, 1]`.
    Speckle {
        /// Standard deviation.
        std: f64,
    },
}

impl std::str::FromStr for Noise {
    type Err = String;

    /// Parses `none`, `gaussian:STD`, `salt-pepper:RATE`, `masking:RATE` or `speckle:STD`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, level) = s.split_once(':').unwrap_or((s, ""));
        let value = || -> Result<f64, String> {
            level
                .parse()
                .map_err(|_| format!("noise '{s}': '{level}' is not a number (e.g. gaussian:0.3)"))
        };
        let noise = match kind {
            "none" if level.is_empty() => Self::None,
            "gaussian" => Self::Gaussian { std: value()? },
            "salt-pepper" => Self::SaltPepper { rate: value()? },
            "masking" => Self::Masking { rate: value()? },
            "speckle" => Self::Speckle { std: value()? },
            _ => {
                return Err(format!(
                    "unknown noise '{s}': expected none, gaussian:STD, salt-pepper:RATE, masking:RATE or speckle:STD"
                ));
            }
        };
        noise.validate().map_err(|e| e.to_string())?;
        Ok(noise)
    }
}

impl std::fmt::Display for Noise {
    /// The form [`FromStr`](std::str::FromStr) parses, e.g. `gaussian:0.3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::Gaussian { std } => write!(f, "gaussian:{std}"),
            Self::SaltPepper { rate } => write!(f, "salt-pepper:{rate}"),
            Self::Masking { rate } => write!(f, "masking:{rate}"),
            Self::Speckle { std } => write!(f, "speckle:{std}"),
        }
    }
}

impl Noise {
    /// Checks the level.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match *self {
            Self::None => Ok(()),
            Self::Gaussian { std } | Self::Speckle { std } if std.is_finite() && std >= 0.0 => {
                Ok(())
            }
            Self::SaltPepper { rate } | Self::Masking { rate } if (0.0..=1.0).contains(&rate) => {
                Ok(())
            }
            Self::Gaussian { std } | Self::Speckle { std } => Err(ConfigError::new(
                "noise.std",
                std.to_string(),
                "a finite standard deviation ≥ 0",
            )),
            Self::SaltPepper { rate } | Self::Masking { rate } => Err(ConfigError::new(
                "noise.rate",
                rate.to_string(),
                "a fraction in [0, 1]",
            )),
        }
    }

    /// Corrupts `x`, whatever the mode. The additive noises (gaussian, speckle) are
    /// clamped into `bounds` when given — the range of the data, `[0, 1]` for pixels —
    /// and left as they are otherwise (standardised tables and series); salt and
    /// pepper are the values 1 and 0, masking 0.
    ///
    /// # Shapes
    /// `[batch, features]` → `[batch, features]`.
    pub fn corrupt(&self, x: Tensor<2>, bounds: Option<[f32; 2]>) -> Tensor<2> {
        let clamp = |y: Tensor<2>| match bounds {
            Some([low, high]) => y.clamp(low, high),
            None => y,
        };
        let device = x.device();
        let shape = x.shape();
        let uniform = || Tensor::<2>::random(shape.clone(), Distribution::Default, &device);
        match *self {
            Self::None => x,
            Self::Gaussian { std } => {
                clamp(x + Tensor::random(shape.clone(), Distribution::Normal(0.0, std), &device))
            }
            Self::Speckle { std } => {
                let n = Tensor::<2>::random(shape.clone(), Distribution::Normal(0.0, std), &device);
                clamp(x.clone() + x * n)
            }
            Self::Masking { rate } => x.mask_fill(uniform().lower_elem(rate), 0.0),
            Self::SaltPepper { rate } => {
                let hit = uniform().lower_elem(rate);
                let salt = uniform().lower_elem(0.5).float();
                x.mask_where(hit, salt)
            }
        }
    }

    /// Corrupts `x` only while training (on an autodiff device), as dropout does,
    /// within the bounds of a model whose output has them (see [`Activation::bounds`]:
    /// it reconstructs data in that range).
    pub fn corrupt_in_training(&self, x: Tensor<2>, output: Activation) -> Tensor<2> {
        if *self == Self::None || !x.device().is_autodiff() {
            x
        } else {
            self.corrupt(x, output.bounds()).detach()
        }
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;

    #[test]
    fn k_sparse_keeps_exactly_k_per_row() {
        let device = Device::ndarray();
        let code = Tensor::<2>::random([16, 50], Distribution::Normal(0.0, 1.0), &device);
        for k in [1, 10, 25, 50] {
            let sparse = k_sparse(code.clone(), k)
                .into_data()
                .into_vec::<f32>()
                .unwrap_or_default();
            for row in sparse.chunks(50) {
                assert_eq!(row.iter().filter(|v| **v != 0.0).count(), k);
            }
        }
        // The kept ones are the largest.
        let small = Tensor::<2>::from_floats([[0.1, -3.0, 2.0, 0.5]], &device);
        k_sparse(small, 2)
            .into_data()
            .assert_eq(&TensorData::from([[0.0f32, 0.0, 2.0, 0.5]]), false);
    }

    #[test]
    fn kl_sparsity_is_zero_at_target_and_positive_elsewhere() {
        let device = Device::ndarray();
        let at = Tensor::<2>::full([4, 3], 0.05, &device);
        assert!(kl_sparsity(at, 0.05).into_scalar::<f32>().abs() < 1e-5);
        let off = Tensor::<2>::full([4, 3], 0.5, &device);
        // 3 units · KL(0.05 ‖ 0.5) = 3 · (0.05 ln 0.1 + 0.95 ln 1.9) ≈ 1.4837
        let v = kl_sparsity(off, 0.05).into_scalar::<f32>();
        assert!((v - 1.4837).abs() < 1e-3, "{v}");
    }

    #[test]
    fn corruptions_stay_in_range_and_at_rate() {
        let device = Device::ndarray();
        let _seeded = crate::testing::seeded(&device, 3);
        let x = Tensor::<2>::full([64, 100], 0.5, &device);
        let count = |t: Tensor<2>, f: &dyn Fn(f32) -> bool| {
            t.into_data()
                .into_vec::<f32>()
                .unwrap_or_default()
                .into_iter()
                .filter(|v| f(*v))
                .count() as f64
                / 6400.0
        };
        let masked = Noise::Masking { rate: 0.3 }.corrupt(x.clone(), None);
        assert!((count(masked, &|v| v == 0.0) - 0.3).abs() < 0.03);
        let sp = Noise::SaltPepper { rate: 0.2 }.corrupt(x.clone(), None);
        assert!((count(sp.clone(), &|v| v == 1.0) - 0.1).abs() < 0.02);
        assert!((count(sp, &|v| v == 0.0) - 0.1).abs() < 0.02);
        for noise in [Noise::Gaussian { std: 0.8 }, Noise::Speckle { std: 2.0 }] {
            let y = noise.corrupt(x.clone(), Some([0.0, 1.0]));
            assert_eq!(
                count(y.clone(), &|v| (0.0..=1.0).contains(&v)),
                1.0,
                "{noise:?} left [0, 1]"
            );
            assert!(count(y, &|v| v != 0.5) > 0.9, "{noise:?} changed nothing");
            // Unbounded (standardised data), the noise is left as drawn.
            let free = noise.corrupt(x.clone(), None);
            assert!(
                count(free, &|v| !(0.0..=1.0).contains(&v)) > 0.2,
                "{noise:?}"
            );
        }
        // Not on a device without autodiff: evaluation sees clean inputs.
        let same = Noise::Masking { rate: 0.9 }.corrupt_in_training(x.clone(), Activation::Sigmoid);
        same.into_data().assert_eq(&x.into_data(), true);
    }

    #[test]
    fn contractive_closed_form_matches_autodiff() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 1);
        let w = Tensor::<2>::random([5, 3], Distribution::Normal(0.0, 1.0), &device);
        let x = Tensor::<2>::random([1, 5], Distribution::Default, &device).require_grad();
        let h = Activation::Sigmoid.forward(x.clone().matmul(w.clone()));
        let closed =
            contractive_penalty(h.clone(), w.clone(), Activation::Sigmoid).into_scalar::<f32>();
        // ‖J‖²_F by autodiff, one code unit at a time.
        let mut total = 0.0;
        for j in 0..3 {
            let hj = Activation::Sigmoid
                .forward(x.clone().matmul(w.clone()))
                .slice([0..1, j..j + 1])
                .sum();
            let grads = hj.backward();
            let g = x.grad(&grads).expect("x requires grad");
            total += g.powi_scalar(2).sum().into_scalar::<f32>();
        }
        assert!(
            (closed - total).abs() < 1e-4 * total.max(1.0),
            "{closed} vs {total}"
        );
    }

    #[test]
    fn noise_prints_as_it_parses() {
        for text in [
            "none",
            "gaussian:0.3",
            "salt-pepper:0.1",
            "masking:0.25",
            "speckle:0.5",
        ] {
            let noise: Noise = text.parse().expect("valid noise");
            assert_eq!(noise.to_string(), text);
        }
    }

    #[test]
    fn invalid_values_are_named() {
        let reg = Regularization {
            k_sparse: Some(40),
            ..Default::default()
        };
        assert!(
            reg.validate(30, Activation::Identity)
                .expect_err("k > latent")
                .to_string()
                .contains("k_sparse")
        );
        let reg = Regularization {
            kl_sparsity: Some(KlSparsity {
                target: 0.05,
                weight: 1.0,
            }),
            ..Default::default()
        };
        assert!(
            reg.validate(30, Activation::Identity)
                .expect_err("needs sigmoid")
                .to_string()
                .contains("sigmoid")
        );
        assert!(
            Noise::Gaussian { std: -0.1 }
                .validate()
                .expect_err("negative")
                .to_string()
                .contains("-0.1")
        );
        assert!(Noise::Masking { rate: 1.5 }.validate().is_err());
    }

    /// Data in `[0, 1]`, `rows × cols`, from a seed.
    fn data(rows: usize, cols: usize, seed: u64) -> Tensor<2> {
        let device = Device::ndarray();
        let _seeded = crate::testing::seeded(&device, seed);
        Tensor::random([rows, cols], Distribution::Default, &device)
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32 data")
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Every corruption keeps the shape and the `[0, 1]` range; masking only
        /// zeroes, salt-and-pepper only sets 0 or 1, and neither touches more than
        /// the rate allows (with a generous margin for chance).
        #[test]
        fn corruptions_keep_shape_and_range(
            rows in 1usize..16,
            cols in 1usize..64,
            level in 0.0f64..1.0,
            seed in 0u64..1000,
        ) {
            let x = data(rows, cols, seed);
            let clean = values(x.clone());
            for noise in [
                Noise::None,
                Noise::Gaussian { std: level },
                Noise::Speckle { std: level * 3.0 },
                Noise::Masking { rate: level },
                Noise::SaltPepper { rate: level },
            ] {
                let y = noise.corrupt(x.clone(), Some([0.0, 1.0]));
                proptest::prop_assert_eq!(y.dims(), [rows, cols]);
                let noisy = values(y);
                proptest::prop_assert!(noisy.iter().all(|v| (0.0..=1.0).contains(v)));
                let changed = clean.iter().zip(&noisy).filter(|(a, b)| a != b).count();
                let n = (rows * cols) as f64;
                match noise {
                    Noise::None => proptest::prop_assert_eq!(changed, 0),
                    Noise::Masking { rate } => {
                        proptest::prop_assert!(clean.iter().zip(&noisy).all(|(a, b)| a == b || *b == 0.0));
                        proptest::prop_assert!(changed as f64 <= rate * n + 4.0 * n.sqrt() + 1.0);
                    }
                    Noise::SaltPepper { rate } => {
                        proptest::prop_assert!(clean.iter().zip(&noisy).all(|(a, b)| a == b || *b == 0.0 || *b == 1.0));
                        proptest::prop_assert!(changed as f64 <= rate * n + 4.0 * n.sqrt() + 1.0);
                    }
                    _ => {}
                }
            }
        }

        /// k-sparse keeps exactly the k largest units of every row, unchanged.
        #[test]
        fn k_sparse_keeps_the_k_largest(
            rows in 1usize..8,
            latent in 1usize..40,
            k_seed in 0usize..1000,
            seed in 0u64..1000,
        ) {
            let k = 1 + k_seed % latent;
            let code = data(rows, latent, seed) * 2.0 - 1.0;
            let before = values(code.clone());
            let after = values(k_sparse(code, k));
            for (b, a) in before.chunks(latent).zip(after.chunks(latent)) {
                proptest::prop_assert_eq!(a.iter().filter(|v| **v != 0.0).count(), k);
                let mut sorted = b.to_vec();
                sorted.sort_by(|x, y| y.total_cmp(x));
                let threshold = sorted[k - 1];
                for (x, y) in b.iter().zip(a) {
                    let kept = if *x >= threshold { y == x } else { *y == 0.0 };
                    proptest::prop_assert!(kept, "{x} -> {y} (threshold {threshold})");
                }
            }
        }
    }
}
