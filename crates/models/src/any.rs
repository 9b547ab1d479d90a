//! One type for every family, chosen by configuration at run time.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    Autoencoder, AutoencoderOutput, ConfigError, ConvAutoencoder, ConvAutoencoderConfig,
    MlpAutoencoder, MlpAutoencoderConfig, Vae, VaeConfig,
};

/// The configuration of any model family, tagged by `kind` in JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// A multi-layer perceptron autoencoder.
    Mlp(MlpAutoencoderConfig),
    /// A convolutional autoencoder.
    Conv(ConvAutoencoderConfig),
    /// A variational autoencoder.
    Vae(VaeConfig),
}

impl ModelConfig {
    /// The family's name (`mlp`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Mlp(_) => "mlp",
            Self::Conv(_) => "conv",
            Self::Vae(_) => "vae",
        }
    }

    /// The number of input features the model expects.
    pub fn input_size(&self) -> usize {
        match self {
            Self::Mlp(c) => c.input_size,
            Self::Conv(c) => c.image.iter().product(),
            Self::Vae(c) => c.input_size,
        }
    }

    /// Checks the configuration without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Mlp(c) => c.validate(),
            Self::Conv(c) => c.validate(),
            Self::Vae(c) => c.validate(),
        }
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<AnyAutoencoder, ConfigError> {
        Ok(match self {
            Self::Mlp(c) => AnyAutoencoder::Mlp(c.init(device)?),
            Self::Conv(c) => AnyAutoencoder::Conv(c.init(device)?),
            Self::Vae(c) => AnyAutoencoder::Vae(c.init(device)?),
        })
    }
}

/// Any autoencoder, as built from a [`ModelConfig`].
#[derive(Module, Debug)]
pub enum AnyAutoencoder {
    /// A multi-layer perceptron autoencoder.
    Mlp(MlpAutoencoder),
    /// A convolutional autoencoder.
    Conv(ConvAutoencoder),
    /// A variational autoencoder.
    Vae(Vae),
}

impl ModelConfig {
    /// Names of the loss terms this model reports besides the total.
    pub fn loss_terms(&self) -> Vec<&'static str> {
        let reg = match self {
            Self::Mlp(c) => &c.regularization,
            Self::Conv(c) => &c.regularization,
            Self::Vae(_) => return vec!["reconstruction", "kl"],
        };
        let mut names = vec!["reconstruction"];
        for (on, name) in [
            (reg.code_l1 > 0.0, "sparsity"),
            (reg.kl_sparsity.is_some(), "sparsity-kl"),
            (reg.contractive > 0.0, "contractive"),
            (reg.weight_l1 > 0.0, "weight-l1"),
            (reg.weight_l2 > 0.0, "weight-l2"),
        ] {
            if on {
                names.push(name);
            }
        }
        names
    }
}

impl Autoencoder for AnyAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.encode(input),
            Self::Conv(m) => m.encode(input),
            Self::Vae(m) => m.encode(input),
        }
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.decode(code),
            Self::Conv(m) => m.decode(code),
            Self::Vae(m) => m.decode(code),
        }
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        match self {
            Self::Mlp(m) => Autoencoder::forward(m, input),
            Self::Conv(m) => Autoencoder::forward(m, input),
            Self::Vae(m) => Autoencoder::forward(m, input),
        }
    }
}
