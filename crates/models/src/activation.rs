//! Element-wise activations, chosen by configuration.

use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `x`: no non-linearity (a linear layer stays linear).
    Identity,
    /// `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, `negative_slope * x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs.
        negative_slope: f64,
    },
    /// `1 / (1 + exp(-x))`, in `(0, 1)`.
    Sigmoid,
    /// Hyperbolic tangent, in `(-1, 1)`.
    Tanh,
    /// Gaussian error linear unit.
    Gelu,
    /// `exp(x)`, in `(0, ∞)`: the rate of a Poisson likelihood.
    Exp,
    /// `ln(1 + exp(x))`, in `(0, ∞)`.
    Softplus,
}

impl Activation {
    /// The range the activation's outputs lie in when it is bounded on both sides:
    /// `[0, 1]` for the sigmoid, `[-1, 1]` for tanh; `None` otherwise.
    pub fn bounds(self) -> Option<[f32; 2]> {
        match self {
            Self::Sigmoid => Some([0.0, 1.0]),
            Self::Tanh => Some([-1.0, 1.0]),
            Self::Identity
            | Self::Relu
            | Self::LeakyRelu { .. }
            | Self::Gelu
            | Self::Exp
            | Self::Softplus => None,
        }
    }

    /// Applies the activation.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Identity => x,
            Self::Relu => activation::relu(x),
            Self::LeakyRelu { negative_slope } => activation::leaky_relu(x, negative_slope),
            Self::Sigmoid => activation::sigmoid(x),
            Self::Tanh => activation::tanh(x),
            Self::Gelu => activation::gelu(x),
            Self::Exp => x.exp(),
            Self::Softplus => activation::softplus(x, 1.0),
        }
    }

    /// The derivative `f'(z)` as a function of the output `h = f(z)`, for the
    /// activations where that is possible (sigmoid, tanh, relu, identity).
    pub fn derivative_from_output(self) -> Option<fn(Tensor<2>) -> Tensor<2>> {
        match self {
            Self::Identity => Some(|h| h.ones_like()),
            Self::Relu => Some(|h| h.greater_elem(0.0).float()),
            Self::Sigmoid => Some(|h| h.clone() * (h.neg() + 1.0)),
            Self::Tanh => Some(|h| h.powi_scalar(2).neg() + 1.0),
            Self::Exp => Some(|h| h),
            // f'(z) = sigmoid(z) = 1 - exp(-h) for h = ln(1 + exp(z)).
            Self::Softplus => Some(|h| h.neg().exp().neg() + 1.0),
            Self::LeakyRelu { .. } | Self::Gelu => None,
        }
    }

    /// The name used on the command line (`relu`, `leaky-relu:0.01`, …).
    pub fn name(self) -> String {
        match self {
            Self::Identity => "identity".into(),
            Self::Relu => "relu".into(),
            Self::LeakyRelu { negative_slope } => format!("leaky-relu:{negative_slope}"),
            Self::Sigmoid => "sigmoid".into(),
            Self::Tanh => "tanh".into(),
            Self::Gelu => "gelu".into(),
            Self::Exp => "exp".into(),
            Self::Softplus => "softplus".into(),
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = String;

    /// Parses `identity`, `relu`, `leaky-relu[:slope]`, `sigmoid`, `tanh`, `gelu`, `exp`
    /// or `softplus`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = s.split_once(':').unwrap_or((s, ""));
        let parsed = match (name, arg) {
            ("identity" | "linear", "") => Self::Identity,
            ("relu", "") => Self::Relu,
            ("leaky-relu", "") => Self::LeakyRelu {
                negative_slope: 0.01,
            },
            ("leaky-relu", slope) => Self::LeakyRelu {
                negative_slope: slope
                    .parse()
                    .map_err(|_| format!("leaky-relu slope '{slope}' is not a number"))?,
            },
            ("sigmoid", "") => Self::Sigmoid,
            ("tanh", "") => Self::Tanh,
            ("gelu", "") => Self::Gelu,
            ("exp", "") => Self::Exp,
            ("softplus", "") => Self::Softplus,
            _ => {
                return Err(format!(
                    "unknown activation '{s}': expected identity, relu, leaky-relu[:slope], \
                     sigmoid, tanh, gelu, exp or softplus"
                ));
            }
        };
        Ok(parsed)
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;

    #[test]
    fn parse_and_name_round_trip() {
        for a in [
            Activation::Identity,
            Activation::Relu,
            Activation::LeakyRelu {
                negative_slope: 0.2,
            },
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Gelu,
            Activation::Exp,
            Activation::Softplus,
        ] {
            assert_eq!(a.name().parse::<Activation>(), Ok(a));
        }
        assert!("swish".parse::<Activation>().is_err());
    }

    #[test]
    fn values() {
        let device = Device::ndarray();
        let x = Tensor::<1>::from_floats([-2.0, 0.0, 3.0], &device);
        let relu = Activation::Relu.forward(x.clone()).into_data();
        relu.assert_eq(&TensorData::from([0.0f32, 0.0, 3.0]), false);
        let leaky = Activation::LeakyRelu {
            negative_slope: 0.5,
        }
        .forward(x.clone())
        .into_data();
        leaky.assert_eq(&TensorData::from([-1.0f32, 0.0, 3.0]), false);
        let softplus = Activation::Softplus.forward(x.clone()).into_data();
        softplus.assert_approx_eq::<f32>(
            &TensorData::from([0.126928f32, std::f32::consts::LN_2, 3.048587]),
            Default::default(),
        );
        let sig = Activation::Sigmoid.forward(x).into_data();
        sig.assert_approx_eq::<f32>(
            &TensorData::from([0.11920292f32, 0.5, 0.95257413]),
            Default::default(),
        );
    }
}
