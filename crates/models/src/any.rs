//! One type for every family, chosen by configuration at run time.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Autoencoder, AutoencoderOutput, ConfigError, MlpAutoencoder, MlpAutoencoderConfig};

/// The configuration of any model family, tagged by `kind` in JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// A multi-layer perceptron autoencoder.
    Mlp(MlpAutoencoderConfig),
}

impl ModelConfig {
    /// The family's name (`mlp`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Mlp(_) => "mlp",
        }
    }

    /// The number of input features the model expects.
    pub fn input_size(&self) -> usize {
        match self {
            Self::Mlp(c) => c.input_size,
        }
    }

    /// Checks the configuration without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Mlp(c) => c.validate(),
        }
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<AnyAutoencoder, ConfigError> {
        Ok(match self {
            Self::Mlp(c) => AnyAutoencoder::Mlp(c.init(device)?),
        })
    }
}

/// Any autoencoder, as built from a [`ModelConfig`].
#[derive(Module, Debug)]
pub enum AnyAutoencoder {
    /// A multi-layer perceptron autoencoder.
    Mlp(MlpAutoencoder),
}

impl Autoencoder for AnyAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.encode(input),
        }
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.decode(code),
        }
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        match self {
            Self::Mlp(m) => Autoencoder::forward(m, input),
        }
    }
}
