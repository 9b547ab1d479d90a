//! One type for every family, chosen by configuration at run time.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    Aae, AaeConfig, Autoencoder, AutoencoderOutput, ConfigError, ConvAutoencoder,
    ConvAutoencoderConfig, MlpAutoencoder, MlpAutoencoderConfig, Regularization, Vae, VaeConfig,
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
    /// An adversarial autoencoder.
    Aae(AaeConfig),
}

impl ModelConfig {
    /// The family's name (`mlp`, `conv`, `vae`, `conv-vae`, `aae`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Mlp(_) => "mlp",
            Self::Conv(_) => "conv",
            Self::Vae(c) if c.conv.is_some() => "conv-vae",
            Self::Vae(_) => "vae",
            Self::Aae(_) => "aae",
        }
    }

    /// The number of input features the model expects.
    pub fn input_size(&self) -> usize {
        match self {
            Self::Mlp(c) => c.input_size,
            Self::Conv(c) => c.conv.image.iter().product(),
            Self::Vae(c) => c.input_size,
            Self::Aae(c) => c.autoencoder.input_size,
        }
    }

    /// The size of the code.
    pub fn latent(&self) -> usize {
        match self {
            Self::Mlp(c) => c.latent,
            Self::Conv(c) => c.latent,
            Self::Vae(c) => c.latent,
            Self::Aae(c) => c.autoencoder.latent,
        }
    }

    /// Checks the configuration without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Mlp(c) => c.validate(),
            Self::Conv(c) => c.validate(),
            Self::Vae(c) => c.validate(),
            Self::Aae(c) => c.validate(),
        }
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<AnyAutoencoder, ConfigError> {
        Ok(match self {
            Self::Mlp(c) => AnyAutoencoder::Mlp(c.init(device)?),
            Self::Conv(c) => AnyAutoencoder::Conv(c.init(device)?),
            Self::Vae(c) => AnyAutoencoder::Vae(c.init(device)?),
            Self::Aae(c) => AnyAutoencoder::Aae(c.init(device)?),
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
    /// An adversarial autoencoder.
    Aae(Aae),
}

impl ModelConfig {
    /// Names of the loss terms this model reports besides the total.
    pub fn loss_terms(&self) -> Vec<&'static str> {
        match self {
            Self::Mlp(c) => regularization_terms(&c.regularization),
            Self::Conv(c) => regularization_terms(&c.regularization),
            Self::Vae(_) => vec!["reconstruction", "kl"],
            Self::Aae(c) => {
                let mut names = regularization_terms(&c.autoencoder.regularization);
                names.extend(["discriminator", "generator"]);
                names
            }
        }
    }
}

/// The reconstruction term and those `reg` adds.
fn regularization_terms(reg: &Regularization) -> Vec<&'static str> {
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

impl AnyAutoencoder {
    /// `n` images decoded from samples of the model's prior, for the generative
    /// families (VAE, AAE); `None` for the others.
    pub fn sample(&self, n: usize, device: &Device) -> Option<Tensor<2>> {
        match self {
            Self::Vae(m) => Some(m.sample(n, device)),
            Self::Aae(m) => Some(m.sample(n, device)),
            Self::Mlp(_) | Self::Conv(_) => None,
        }
    }
}

impl Autoencoder for AnyAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.encode(input),
            Self::Conv(m) => m.encode(input),
            Self::Vae(m) => m.encode(input),
            Self::Aae(m) => m.encode(input),
        }
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.decode(code),
            Self::Conv(m) => m.decode(code),
            Self::Vae(m) => m.decode(code),
            Self::Aae(m) => m.decode(code),
        }
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        match self {
            Self::Mlp(m) => Autoencoder::forward(m, input),
            Self::Conv(m) => Autoencoder::forward(m, input),
            Self::Vae(m) => Autoencoder::forward(m, input),
            Self::Aae(m) => Autoencoder::forward(m, input),
        }
    }
}
