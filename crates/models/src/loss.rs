//! Reconstruction losses, written once for every model family.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Activation;

/// How a reconstruction is compared with its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reconstruction {
    /// Squared error: a Gaussian likelihood with fixed variance.
    Mse,
    /// Binary cross-entropy: a Bernoulli likelihood per pixel (targets in `[0, 1]`).
    Bce,
    /// Poisson negative log-likelihood `λ - t·ln λ` (the constant `ln t!` left out), for
    /// count data; the output is the rate `λ`, so the output activation must be positive
    /// (`exp`, `softplus` or `sigmoid`).
    Poisson,
}

impl std::str::FromStr for Reconstruction {
    type Err = String;

    /// Parses `mse`, `bce` or `poisson`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mse" => Ok(Self::Mse),
            "bce" => Ok(Self::Bce),
            "poisson" => Ok(Self::Poisson),
            _ => Err(format!(
                "unknown reconstruction loss '{s}': expected mse, bce or poisson"
            )),
        }
    }
}

impl Reconstruction {
    /// The loss's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mse => "mse",
            Self::Bce => "bce",
            Self::Poisson => "poisson",
        }
    }

    /// Checks that `output_activation` yields values this likelihood accepts.
    pub fn validate(self, output_activation: Activation) -> Result<(), crate::ConfigError> {
        let positive = matches!(
            output_activation,
            Activation::Exp | Activation::Softplus | Activation::Sigmoid
        );
        if self == Self::Poisson && !positive {
            return Err(crate::ConfigError::new(
                "output_activation",
                output_activation.name(),
                "a positive output (exp, softplus or sigmoid) for the Poisson loss",
            ));
        }
        Ok(())
    }

    /// The loss of every element, `[batch, features]`.
    ///
    /// `pre` is the decoder output before `output_activation`, `output` after it.
    /// With BCE and a sigmoid output the loss is computed from `pre` (the logits) in
    /// the numerically stable form `max(z, 0) - z·t + log(1 + exp(-|z|))`; with any
    /// other output activation, from `output` clamped into `(0, 1)`. Poisson with an
    /// `exp` output is computed from `pre` (the log-rate) as `exp(z) - t·z`.
    ///
    /// # Shapes
    /// `pre`, `output`, `target`: `[batch, features]`; returns `[batch, features]`.
    pub fn elementwise(
        self,
        pre: Tensor<2>,
        output: Tensor<2>,
        target: Tensor<2>,
        output_activation: Activation,
    ) -> Tensor<2> {
        match self {
            Self::Mse => (output - target).powi_scalar(2),
            Self::Bce if output_activation == Activation::Sigmoid => {
                let relu = pre.clone().clamp_min(0.0);
                // softplus(-|z|) = ln(1 + e^{-|z|}): its argument is never positive, so
                // it needs neither the overflow guard nor the scaling of burn's
                // `softplus` (five more passes over the batch, each with its backward).
                let softplus = pre.clone().abs().neg().exp().log1p();
                relu - pre * target + softplus
            }
            Self::Bce => {
                let eps = 1e-7;
                let p = output.clamp(eps, 1.0 - eps);
                let one_minus_t = target.clone().neg() + 1.0;
                let one_minus_p = p.clone().neg() + 1.0;
                (target * p.log() + one_minus_t * one_minus_p.log()).neg()
            }
            Self::Poisson if output_activation == Activation::Exp => {
                pre.clone().exp() - pre * target
            }
            Self::Poisson => output.clone() - output.clamp_min(1e-7).log() * target,
        }
    }

    /// The mean loss over every element: the per-pixel loss, `[1]`.
    pub fn mean(
        self,
        pre: Tensor<2>,
        output: Tensor<2>,
        target: Tensor<2>,
        output_activation: Activation,
    ) -> Tensor<1> {
        self.elementwise(pre, output, target, output_activation)
            .mean()
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;

    #[test]
    fn bce_from_logits_matches_bce_from_probabilities() {
        let device = Device::ndarray();
        let pre = Tensor::<2>::from_floats([[-3.0, 0.5], [2.0, 0.0]], &device);
        let target = Tensor::<2>::from_floats([[0.0, 1.0], [0.3, 1.0]], &device);
        let out = Activation::Sigmoid.forward(pre.clone());
        let stable = Reconstruction::Bce.elementwise(
            pre.clone(),
            out.clone(),
            target.clone(),
            Activation::Sigmoid,
        );
        let naive = Reconstruction::Bce.elementwise(pre, out, target, Activation::Identity);
        stable
            .into_data()
            .assert_approx_eq::<f32>(&naive.into_data(), Default::default());
    }

    #[test]
    fn poisson_from_log_rate_matches_poisson_from_rate() {
        let device = Device::ndarray();
        let pre = Tensor::<2>::from_floats([[-1.0, 0.5], [2.0, 0.0]], &device);
        let target = Tensor::<2>::from_floats([[0.0, 3.0], [7.0, 1.0]], &device);
        let rate = Activation::Exp.forward(pre.clone());
        let stable = Reconstruction::Poisson.elementwise(
            pre.clone(),
            rate.clone(),
            target.clone(),
            Activation::Exp,
        );
        let direct = Reconstruction::Poisson.elementwise(pre, rate, target, Activation::Softplus);
        // By hand, first element: λ = e^-1, t = 0 → 0.36788.
        let expected = TensorData::from([[0.367879f32, 1.648721 - 1.5], [7.389056 - 14.0, 1.0]]);
        stable
            .clone()
            .into_data()
            .assert_approx_eq::<f32>(&expected, Default::default());
        stable
            .into_data()
            .assert_approx_eq::<f32>(&direct.into_data(), Default::default());
        assert!(
            Reconstruction::Poisson
                .validate(Activation::Identity)
                .is_err()
        );
        assert!(Reconstruction::Poisson.validate(Activation::Exp).is_ok());
    }

    #[test]
    fn mse_by_hand() {
        let device = Device::ndarray();
        let out = Tensor::<2>::from_floats([[0.0, 1.0]], &device);
        let target = Tensor::<2>::from_floats([[0.5, 0.0]], &device);
        let mse: f32 = Reconstruction::Mse
            .mean(out.clone(), out, target, Activation::Identity)
            .into_scalar();
        assert!((mse - 0.625).abs() < 1e-6, "{mse}");
    }
}
