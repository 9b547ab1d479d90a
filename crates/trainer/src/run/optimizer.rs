//! The optimiser of a run: Adam, AdamW or SGD with momentum, with the run's gradient
//! clipping.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// The optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// Adam, with weight decay as an L2 term of the gradient (PyTorch's `Adam`).
    #[default]
    Adam,
    /// AdamW: Adam with decoupled weight decay (PyTorch's `AdamW`).
    #[serde(rename = "adamw")]
    AdamW,
    /// Stochastic gradient descent with momentum (no dampening, as PyTorch's `SGD`).
    Sgd {
        /// Momentum factor, in [0, 1).
        momentum: f64,
    },
}

impl std::str::FromStr for Optimizer {
    type Err = String;

    /// Parses `adam`, `adamw`, `sgd` (no momentum) or `sgd:MOMENTUM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "adam" => Ok(Self::Adam),
            None if s == "adamw" => Ok(Self::AdamW),
            None if s == "sgd" => Ok(Self::Sgd { momentum: 0.0 }),
            Some(("sgd", m)) => m
                .parse()
                .map(|momentum| Self::Sgd { momentum })
                .map_err(|_| format!("optimizer '{s}': '{m}' is not a momentum")),
            _ => Err(format!(
                "unknown optimizer '{s}': expected adam, adamw, sgd or sgd:MOMENTUM"
            )),
        }
    }
}

impl std::fmt::Display for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Adam => write!(f, "adam"),
            Self::AdamW => write!(f, "adamw"),
            Self::Sgd { momentum } => write!(f, "sgd:{momentum}"),
        }
    }
}

/// The run's settings the optimiser is built from.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Adam's and AdamW's β₁.
    pub beta1: f64,
    /// Weight decay: an L2 term for Adam and SGD, decoupled for AdamW.
    pub weight_decay: f64,
    /// Gradient clipping.
    pub clip: Option<GradClip>,
}

/// Adam with PyTorch's defaults (β = 0.9, 0.999; ε = 1e-8).
pub fn pytorch_adam() -> AdamConfig {
    AdamConfig::new().with_epsilon(1e-8)
}

impl Optimizer {
    /// Checks the momentum.
    pub fn validate(self) -> Result<(), String> {
        match self {
            Self::Sgd { momentum } if !(0.0..1.0).contains(&momentum) => Err(format!(
                "optimizer = sgd:{momentum}: expected a momentum in [0, 1)"
            )),
            _ => Ok(()),
        }
    }

    /// The optimiser with `settings`, with PyTorch's defaults for the rest (ε = 1e-8).
    pub fn build(self, settings: Settings) -> ModuleOptimizer {
        let clip = settings.clip.map(GradClip::burn);
        let decay = (settings.weight_decay > 0.0)
            .then(|| WeightDecayConfig::new(settings.weight_decay as f32));
        match self {
            Self::Adam => pytorch_adam()
                .with_beta_1(settings.beta1 as f32)
                .with_weight_decay(decay)
                .with_grad_clipping(clip)
                .init(),
            Self::AdamW => AdamWConfig::new()
                .with_beta_1(settings.beta1 as f32)
                .with_epsilon(1e-8)
                .with_weight_decay(settings.weight_decay as f32)
                .with_grad_clipping(clip)
                .init(),
            Self::Sgd { momentum } => SgdConfig::new()
                .with_weight_decay(decay)
                .with_momentum((momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                }))
                .with_gradient_clipping(clip)
                .init(),
        }
    }
}

/// Gradient clipping, applied to each parameter tensor's gradient before the update.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradClip {
    /// A gradient whose L2 norm exceeds this is scaled down to it.
    Norm(f64),
    /// Every component is clamped into `[-value, value]`.
    Value(f64),
}

impl std::str::FromStr for GradClip {
    type Err = String;

    /// Parses `norm:MAX` or `value:MAX`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = s.split_once(':').and_then(|(kind, max)| {
            let max = max.parse::<f64>().ok()?;
            match kind {
                "norm" => Some(Self::Norm(max)),
                "value" => Some(Self::Value(max)),
                _ => None,
            }
        });
        parsed.ok_or_else(|| {
            format!("gradient clipping '{s}': expected norm:MAX or value:MAX, e.g. norm:1.0")
        })
    }
}

impl GradClip {
    /// The bound, which must be positive and finite.
    pub fn bound(self) -> f64 {
        match self {
            Self::Norm(max) | Self::Value(max) => max,
        }
    }

    /// burn's configuration of the same clipping.
    pub fn burn(self) -> GradientClippingConfig {
        match self {
            Self::Norm(max) => GradientClippingConfig::Norm(max as f32),
            Self::Value(max) => GradientClippingConfig::Value(max as f32),
        }
    }
}
