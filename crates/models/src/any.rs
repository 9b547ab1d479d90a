//! One type for every family, chosen by configuration at run time.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use burn::nn::Linear;

use crate::{
    Aae, AaeConfig, Activation, Autoencoder, AutoencoderOutput, CapsuleAutoencoder,
    CapsuleAutoencoderConfig, ConfigError, ConvAutoencoder, ConvAutoencoderConfig, DiscreteCode,
    MaskedAutoencoder, MaskedAutoencoderConfig, MlpAutoencoder, MlpAutoencoderConfig,
    RecurrentAutoencoder, RecurrentAutoencoderConfig, Regularization, TopKSae, TopKSaeConfig,
    TransformerAutoencoder, TransformerAutoencoderConfig, Vae, VaeConfig, VqVae, VqVaeConfig,
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
    /// A recurrent (LSTM or GRU) sequence-to-sequence autoencoder.
    Recurrent(RecurrentAutoencoderConfig),
    /// A transformer autoencoder over the steps of sequences.
    Transformer(TransformerAutoencoderConfig),
    /// A masked autoencoder over image patches.
    Masked(MaskedAutoencoderConfig),
    /// A TopK sparse autoencoder.
    #[serde(rename = "topk-sae")]
    TopK(TopKSaeConfig),
    /// A vector-quantised autoencoder.
    VqVae(VqVaeConfig),
    /// A capsule autoencoder.
    Capsule(CapsuleAutoencoderConfig),
}

impl ModelConfig {
    /// Whether greedy layer-wise pretraining applies: an MLP autoencoder with hidden
    /// layers (a stacked autoencoder).
    pub fn is_stacked(&self) -> bool {
        match self {
            Self::Mlp(m) => !m.hidden.is_empty(),
            Self::Conv(_)
            | Self::Vae(_)
            | Self::Aae(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::TopK(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => false,
        }
    }

    /// Whether the first fully connected layer produces the code itself (an MLP or
    /// adversarial autoencoder without hidden layers, a TopK sparse autoencoder), so its
    /// units are the code's.
    pub fn first_layer_is_code(&self) -> bool {
        match self {
            Self::TopK(_) => true,
            Self::Mlp(m) => m.hidden.is_empty(),
            Self::Aae(a) => a.autoencoder.hidden.is_empty(),
            Self::Conv(_)
            | Self::Vae(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => false,
        }
    }

    /// The number of input features the model expects.
    pub fn input_size(&self) -> usize {
        match self {
            Self::Mlp(c) => c.input_size,
            Self::Conv(c) => c.conv.image.iter().product(),
            Self::Vae(c) => c.input_size,
            Self::Aae(c) => c.autoencoder.input_size,
            Self::Recurrent(c) => c.input_size(),
            Self::Transformer(c) => c.input_size(),
            Self::Masked(c) => c.input_size(),
            Self::TopK(c) => c.input_size,
            Self::VqVae(c) => c.conv.image.iter().product(),
            Self::Capsule(c) => c.image.iter().product(),
        }
    }

    /// The image shape `[channels, height, width]` a convolutional model was built
    /// for; `None` for the fully connected families, which see flat vectors, and for
    /// convolutions along sequences.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        match self {
            Self::Masked(c) => return Some(c.image),
            Self::Capsule(c) => return Some(c.image),
            _ => {}
        }
        let conv = match self {
            Self::Conv(c) => Some(&c.conv),
            Self::Vae(c) => c.conv.as_ref(),
            Self::VqVae(c) => Some(&c.conv),
            Self::Mlp(_)
            | Self::Aae(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::TopK(_)
            | Self::Capsule(_) => None,
        };
        conv.filter(|c| !c.is_sequence()).map(|c| c.image)
    }

    /// The size of the code.
    pub fn latent(&self) -> usize {
        match self {
            Self::Mlp(c) => c.latent,
            Self::Conv(c) => c.latent,
            Self::Vae(c) => c.latent,
            Self::Aae(c) => c.autoencoder.latent,
            Self::Recurrent(c) => c.latent,
            Self::Transformer(c) => c.latent,
            Self::Masked(c) => c.latent,
            Self::TopK(c) => c.latent,
            Self::VqVae(c) => c.latent(),
            Self::Capsule(c) => c.classes * c.capsule_dim,
        }
    }

    /// Checks the configuration without building anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Mlp(c) => c.validate(),
            Self::Conv(c) => c.validate(),
            Self::Vae(c) => c.validate(),
            Self::Aae(c) => c.validate(),
            Self::Recurrent(c) => c.validate(),
            Self::Transformer(c) => c.validate(),
            Self::Masked(c) => c.validate(),
            Self::TopK(c) => c.validate(),
            Self::VqVae(c) => c.validate(),
            Self::Capsule(c) => c.validate(),
        }
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<AnyAutoencoder, ConfigError> {
        Ok(match self {
            Self::Mlp(c) => AnyAutoencoder::Mlp(c.init(device)?),
            Self::Conv(c) => AnyAutoencoder::Conv(c.init(device)?),
            Self::Vae(c) => AnyAutoencoder::Vae(c.init(device)?),
            Self::Aae(c) => AnyAutoencoder::Aae(c.init(device)?),
            Self::Recurrent(c) => AnyAutoencoder::Recurrent(c.init(device)?),
            Self::Transformer(c) => AnyAutoencoder::Transformer(c.init(device)?),
            Self::Masked(c) => AnyAutoencoder::Masked(c.init(device)?),
            Self::TopK(c) => AnyAutoencoder::TopK(c.init(device)?),
            Self::VqVae(c) => AnyAutoencoder::VqVae(c.init(device)?),
            Self::Capsule(c) => AnyAutoencoder::Capsule(c.init(device)?),
        })
    }
}

/// Any autoencoder, as built from a [`ModelConfig`].
// A model is built once and moved rarely: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
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
    /// A recurrent sequence-to-sequence autoencoder.
    Recurrent(RecurrentAutoencoder),
    /// A transformer autoencoder over sequences.
    Transformer(TransformerAutoencoder),
    /// A masked autoencoder over image patches.
    Masked(MaskedAutoencoder),
    /// A TopK sparse autoencoder.
    TopK(TopKSae),
    /// A vector-quantised autoencoder.
    VqVae(VqVae),
    /// A capsule autoencoder.
    Capsule(CapsuleAutoencoder),
}

impl ModelConfig {
    /// Names of the loss terms this model reports besides the total.
    pub fn loss_terms(&self) -> Vec<&'static str> {
        match self {
            Self::Mlp(c) => regularization_terms(&c.regularization),
            Self::Conv(c) => regularization_terms(&c.regularization),
            Self::Vae(_) => vec!["reconstruction", "kl"],
            Self::Capsule(c) if c.mask == crate::CapsuleMask::Label => {
                vec!["margin", "reconstruction"]
            }
            Self::Recurrent(_) | Self::Transformer(_) | Self::Masked(_) | Self::Capsule(_) => {
                vec!["reconstruction"]
            }
            Self::TopK(_) => vec!["reconstruction", "auxiliary"],
            Self::VqVae(_) => vec!["reconstruction", "codebook", "commitment"],
            Self::Aae(c) => {
                let mut names = regularization_terms(&c.autoencoder.regularization);
                names.extend(["discriminator", "generator"]);
                names
            }
        }
    }
}

impl ModelConfig {
    /// Names of the values this model measures beside its loss, not part of it (see
    /// [`AutoencoderOutput::measures`]).
    pub fn measures(&self) -> Vec<&'static str> {
        match self {
            Self::TopK(_) => vec!["l0", "fvu", "dead"],
            Self::VqVae(_) => vec!["perplexity", "used"],
            Self::Mlp(_)
            | Self::Conv(_)
            | Self::Vae(_)
            | Self::Aae(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::Capsule(_) => Vec::new(),
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
            Self::Mlp(_)
            | Self::Conv(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::TopK(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => None,
        }
    }

    /// Whether the model has a prior over its codes to sample from (see [`sample`](Self::sample)).
    pub fn can_sample(&self) -> bool {
        match self {
            Self::Vae(_) | Self::Aae(_) => true,
            Self::Mlp(_)
            | Self::Conv(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::TopK(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => false,
        }
    }

    /// The variational autoencoder, when the model is one: its posterior, ELBO and
    /// likelihood estimate.
    pub fn as_vae(&self) -> Option<&Vae> {
        match self {
            Self::Vae(m) => Some(m),
            Self::Mlp(_)
            | Self::Conv(_)
            | Self::Aae(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::TopK(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => None,
        }
    }

    /// The MLP autoencoder, when the model is one (layer-wise pretraining works on it).
    pub fn into_mlp(self) -> Option<MlpAutoencoder> {
        match self {
            Self::Mlp(m) => Some(m),
            Self::Conv(_)
            | Self::Vae(_)
            | Self::Aae(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::TopK(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => None,
        }
    }

    /// The first fully connected layer the input meets, when the model starts with one
    /// (not a convolution): its weights, `[inputs, units]`, are the filters the units
    /// apply to the input.
    pub fn first_dense_layer(&self) -> Option<&Linear> {
        match self {
            Self::Mlp(m) => m.encoder.first(),
            Self::Aae(m) => m.autoencoder.encoder.first(),
            Self::Vae(m) if m.conv_encoder.is_none() => m.encoder.first().or(Some(&m.mean)),
            Self::TopK(m) => Some(&m.encoder),
            Self::Vae(_)
            | Self::Conv(_)
            | Self::Recurrent(_)
            | Self::Transformer(_)
            | Self::Masked(_)
            | Self::VqVae(_)
            | Self::Capsule(_) => None,
        }
    }

    /// The basis a linear decoder's reconstructions lie in (up to its bias), one row
    /// per code unit, `[latent, features]`: the weights of a single-layer MLP decoder
    /// without an output activation; `None` for any other decoder.
    pub fn linear_decoder_basis(&self) -> Option<Tensor<2>> {
        match self {
            Self::Mlp(m)
                if m.decoder.len() == 1 && m.output_activation() == Activation::Identity =>
            {
                // burn's Linear weight is [d_input, d_output] = [latent, features].
                Some(m.decoder[0].weight.val())
            }
            Self::TopK(m) => Some(m.atoms()),
            _ => None,
        }
    }
}

impl AnyAutoencoder {
    /// The model with what its family initialises from data set: a TopK sparse
    /// autoencoder's `b_pre` at the mean of `samples` (`[n, features]`, training
    /// samples); any other model unchanged.
    pub fn initialised_from(self, samples: Tensor<2>) -> Self {
        match self {
            Self::TopK(m) => Self::TopK(m.centred_on(samples)),
            other => other,
        }
    }

    /// The code as symbols when it is discrete (a VQ-VAE's codebook entries, one per
    /// grid position; [`Autoencoder::encode`] gives their vectors); `None` for a
    /// continuous code.
    pub fn discrete_code(&self) -> Option<DiscreteCode> {
        match self {
            Self::VqVae(m) => Some(m.discrete_code()),
            _ => None,
        }
    }

    /// The forward pass of a training batch: with `labels`, a model that trains on
    /// them (a capsule autoencoder masked by the label) takes them; any other model,
    /// or no labels, the plain [`Autoencoder::forward`].
    pub fn forward_batch(
        &self,
        input: Tensor<2>,
        labels: Option<Tensor<1, Int>>,
    ) -> AutoencoderOutput {
        match (self, labels) {
            (Self::Capsule(m), Some(labels)) if m.masks_by_label() => {
                m.forward_labelled(input, labels)
            }
            _ => Autoencoder::forward(self, input),
        }
    }

    /// The capsule autoencoder, when the model is one: its capsules' lengths classify.
    pub fn as_capsule(&self) -> Option<&CapsuleAutoencoder> {
        match self {
            Self::Capsule(m) => Some(m),
            _ => None,
        }
    }

    /// The VQ-VAE, when the model is one: its discrete codes and their entries.
    pub fn as_vq(&self) -> Option<&VqVae> {
        match self {
            Self::VqVae(m) => Some(m),
            _ => None,
        }
    }

    /// Whether [`initialised_from`](Self::initialised_from) uses data.
    pub fn initialises_from_data(&self) -> bool {
        matches!(self, Self::TopK(_))
    }
}

impl From<MlpAutoencoder> for AnyAutoencoder {
    fn from(model: MlpAutoencoder) -> Self {
        Self::Mlp(model)
    }
}

impl Autoencoder for AnyAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.encode(input),
            Self::Conv(m) => m.encode(input),
            Self::Vae(m) => m.encode(input),
            Self::Aae(m) => m.encode(input),
            Self::Recurrent(m) => m.encode(input),
            Self::Transformer(m) => m.encode(input),
            Self::Masked(m) => m.encode(input),
            Self::TopK(m) => m.encode(input),
            Self::VqVae(m) => m.encode(input),
            Self::Capsule(m) => m.encode(input),
        }
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.decode(code),
            Self::Conv(m) => m.decode(code),
            Self::Vae(m) => m.decode(code),
            Self::Aae(m) => m.decode(code),
            Self::Recurrent(m) => m.decode(code),
            Self::Transformer(m) => m.decode(code),
            Self::Masked(m) => m.decode(code),
            Self::TopK(m) => m.decode(code),
            Self::VqVae(m) => m.decode(code),
            Self::Capsule(m) => m.decode(code),
        }
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        match self {
            Self::Mlp(m) => Autoencoder::forward(m, input),
            Self::Conv(m) => Autoencoder::forward(m, input),
            Self::Vae(m) => Autoencoder::forward(m, input),
            Self::Aae(m) => Autoencoder::forward(m, input),
            Self::Recurrent(m) => Autoencoder::forward(m, input),
            Self::Transformer(m) => Autoencoder::forward(m, input),
            Self::Masked(m) => Autoencoder::forward(m, input),
            Self::TopK(m) => Autoencoder::forward(m, input),
            Self::VqVae(m) => Autoencoder::forward(m, input),
            Self::Capsule(m) => Autoencoder::forward(m, input),
        }
    }
}
