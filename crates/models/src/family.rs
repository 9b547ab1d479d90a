//! The model families as data: their names, what each is, and each one's default
//! architecture for an input shape.
//!
//! Everything outside this crate asks these questions here instead of matching on
//! [`ModelConfig`]'s variants or comparing names, so that a new family is added in
//! this crate and nowhere else is a list of families to keep in step.

use std::fmt;
use std::str::FromStr;

use crate::{
    AaeConfig, Activation, CapsuleAutoencoderConfig, Cell, ConfigError, ConvAutoencoderConfig,
    ConvStackConfig, MaskedAutoencoderConfig, MlpAutoencoderConfig, ModelConfig, Reconstruction,
    RecurrentAutoencoderConfig, TopKSaeConfig, TransformerAutoencoderConfig, VaeConfig,
    VqVaeConfig,
};

/// The shape of one input sample as a model sees it (a plain shape, not a data set:
/// this crate knows no data types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputShape {
    /// An image of `channels` planes of `height` × `width` values.
    Image {
        /// Colour planes (1 for grey).
        channels: usize,
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
    },
    /// A vector of `features` values, such as a row of a table.
    Vector {
        /// Values per sample.
        features: usize,
    },
    /// A sequence of `steps` steps of `channels` values each, stored step after step:
    /// a window of a time series.
    Sequence {
        /// Steps per sequence.
        steps: usize,
        /// Values per step.
        channels: usize,
    },
}

impl InputShape {
    /// A grey image of `height` × `width`.
    pub fn grey(height: usize, width: usize) -> Self {
        Self::Image {
            channels: 1,
            height,
            width,
        }
    }

    /// Values per sample: the model's input size.
    pub fn features(&self) -> usize {
        match *self {
            Self::Image {
                channels,
                height,
                width,
            } => channels * height * width,
            Self::Vector { features } => features,
            Self::Sequence { steps, channels } => steps * channels,
        }
    }
}

impl fmt::Display for InputShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Image {
                channels,
                height,
                width,
            } => write!(f, "{channels}×{height}×{width} images"),
            Self::Vector { features } => write!(f, "vectors of {features} values"),
            Self::Sequence { steps, channels } => {
                write!(f, "sequences of {steps} steps of {channels} values")
            }
        }
    }
}

/// A model family, as `--model` names it and as a [`ModelConfig`] reports it. The
/// default is the MLP autoencoder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Family {
    /// Multi-layer perceptron autoencoder.
    #[default]
    Mlp,
    /// Convolutional autoencoder.
    Conv,
    /// Variational autoencoder with MLP encoder and decoder.
    Vae,
    /// Variational autoencoder with a convolutional encoder and decoder.
    ConvVae,
    /// Adversarial autoencoder.
    Aae,
    /// One-dimensional convolutional autoencoder along the steps of sequences.
    Conv1d,
    /// LSTM sequence-to-sequence autoencoder.
    Lstm,
    /// GRU sequence-to-sequence autoencoder.
    Gru,
    /// Transformer autoencoder over the steps of sequences.
    Transformer,
    /// Masked autoencoder over image patches.
    Mae,
    /// TopK sparse autoencoder.
    TopKSae,
    /// Vector-quantised autoencoder.
    VqVae,
    /// Capsule autoencoder.
    Capsule,
}

impl Family {
    /// Every family, in the order they are listed to users.
    pub const ALL: [Family; 13] = [
        Self::Mlp,
        Self::Conv,
        Self::Vae,
        Self::ConvVae,
        Self::Aae,
        Self::Conv1d,
        Self::Lstm,
        Self::Gru,
        Self::Transformer,
        Self::Mae,
        Self::TopKSae,
        Self::VqVae,
        Self::Capsule,
    ];

    /// The names of the families for which `keep` holds, comma-separated, for messages
    /// such as "one of mlp, vae, aae".
    pub fn listed(keep: impl Fn(Family) -> bool) -> String {
        Self::ALL
            .into_iter()
            .filter(|&f| keep(f))
            .map(Self::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The family's name on the command line and in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::Conv => "conv",
            Self::Vae => "vae",
            Self::ConvVae => "conv-vae",
            Self::Aae => "aae",
            Self::Conv1d => "conv1d",
            Self::Lstm => "lstm",
            Self::Gru => "gru",
            Self::Transformer => "transformer",
            Self::Mae => "mae",
            Self::TopKSae => "topk-sae",
            Self::VqVae => "vq-vae",
            Self::Capsule => "capsule",
        }
    }

    /// One line saying what the family is.
    pub fn description(self) -> &'static str {
        match self {
            Self::Mlp => {
                "Multi-layer perceptron autoencoder (vanilla, undercomplete, overcomplete, deep)"
            }
            Self::Conv => {
                "Convolutional autoencoder: strided convolutions, transposed convolutions"
            }
            Self::Vae => "Variational autoencoder (MLP encoder and decoder)",
            Self::ConvVae => "Variational autoencoder with a convolutional encoder and decoder",
            Self::Aae => {
                "Adversarial autoencoder: an MLP autoencoder whose codes a discriminator matches to a prior"
            }
            Self::Conv1d => {
                "One-dimensional convolutional autoencoder along the steps of sequences (windows of a series)"
            }
            Self::Lstm => {
                "LSTM sequence-to-sequence autoencoder: the code is the encoder's last state, the decoder unrolls it"
            }
            Self::Gru => "GRU sequence-to-sequence autoencoder, as lstm with gated recurrent units",
            Self::Transformer => {
                "Transformer autoencoder: self-attention over the steps of sequences, each way"
            }
            Self::Mae => {
                "Masked autoencoder: self-attention over the visible patches of images, the hidden ones predicted"
            }
            Self::TopKSae => {
                "TopK sparse autoencoder (Gao et al. 2024): an overcomplete dictionary, k latents active per sample"
            }
            Self::VqVae => {
                "Vector-quantised autoencoder (VQ-VAE): convolutions to a grid of vectors, each the nearest entry of a learned codebook"
            }
            Self::Capsule => {
                "Capsule autoencoder (Sabour et al. 2017): primary capsules, dynamic routing to one capsule per class, a decoder from the longest"
            }
        }
    }

    /// Whether the family convolves images (and so takes no other input).
    pub fn is_convolutional(self) -> bool {
        match self {
            Self::Conv | Self::ConvVae | Self::VqVae | Self::Capsule => true,
            Self::Mae
            | Self::Mlp
            | Self::Vae
            | Self::Aae
            | Self::Conv1d
            | Self::Lstm
            | Self::Gru
            | Self::Transformer
            | Self::TopKSae => false,
        }
    }

    /// Whether the family reads sequences step by step — one-dimensional convolutions,
    /// a recurrent cell or attention over the steps — and so takes no other input.
    pub fn is_sequential(self) -> bool {
        match self {
            Self::Conv1d | Self::Lstm | Self::Gru | Self::Transformer => true,
            Self::Mlp
            | Self::Conv
            | Self::Vae
            | Self::ConvVae
            | Self::Aae
            | Self::Mae
            | Self::TopKSae
            | Self::VqVae
            | Self::Capsule => false,
        }
    }

    /// Whether the family reads images as such — convolutions or patches — and so
    /// takes no other input.
    pub fn takes_images_only(self) -> bool {
        self.is_convolutional() || self == Self::Mae
    }

    /// What the family reads, for messages that refuse an input: "convolves images",
    /// "reads sequences", …
    pub fn reads(self) -> &'static str {
        if self.is_sequential() {
            "reads sequences"
        } else if self == Self::Mae {
            "reads images in patches"
        } else if self.is_convolutional() {
            "convolves images"
        } else {
            "flattens its input"
        }
    }

    /// Whether the family takes any sample as a flat vector (tables, and images or
    /// sequences flattened).
    pub fn takes_vectors(self) -> bool {
        !self.takes_images_only() && !self.is_sequential()
    }

    /// Whether the family has a continuous prior over its codes (a standard normal, or
    /// the AAE's), whose quantiles `sample --manifold` decodes. A VQ-VAE samples (its
    /// prior is learned over discrete codes) but has no quantiles to decode.
    pub fn has_continuous_prior(self) -> bool {
        matches!(self, Self::Vae | Self::ConvVae | Self::Aae)
    }

    /// Whether the family has a prior over its codes to sample images from.
    pub fn is_generative(self) -> bool {
        match self {
            // A VQ-VAE's prior is learned over its codes after training.
            Self::Vae | Self::ConvVae | Self::Aae | Self::VqVae => true,
            Self::Mlp
            | Self::Conv
            | Self::Conv1d
            | Self::Lstm
            | Self::Gru
            | Self::Transformer
            | Self::Mae
            | Self::TopKSae
            | Self::Capsule => false,
        }
    }

    /// Adam's β₁ the family trains with by default: 0.5 for adversarial training, as
    /// is usual for GANs (Radford et al., 2016); PyTorch's 0.9 otherwise.
    pub fn default_beta1(self) -> f64 {
        match self {
            Self::Aae => 0.5,
            Self::Mlp
            | Self::Conv
            | Self::Vae
            | Self::ConvVae
            | Self::Conv1d
            | Self::Lstm
            | Self::Gru
            | Self::Transformer
            | Self::Mae
            | Self::TopKSae
            | Self::VqVae
            | Self::Capsule => 0.9,
        }
    }

    /// The family's default architecture for inputs of `shape`.
    ///
    /// For images, the architectures of the literature: a 784-512-256-32 MLP, two
    /// strided convolutions of 32 and 64 channels and a code of 32, a VAE with one
    /// hidden layer of 400 and a code of 20 (a conv VAE: the convolutions, then the
    /// code), an AAE on the MLP with a code of 8, a masked autoencoder on patches of
    /// 4×4 with a code of 32 (see [`MaskedAutoencoderConfig`]). For a vector of `d` values (a
    /// table), one hidden layer of 64 units, a code of `d / 4` (2 to 16), a linear
    /// output trained with MSE on the standardised values; the convolutional families
    /// are refused. For sequences (windows of a series), the vector default on the
    /// flattened window, or for `conv1d` one-dimensional convolutions of 32 and 64
    /// channels (kernel 5, stride 2) and the same code size, for `lstm` and `gru` one
    /// recurrent layer of 64 units each way and the same code size; the image
    /// convolutions are refused. A sequence family takes sequences only. A TopK sparse
    /// autoencoder takes any input as a vector of `d` values: a dictionary of `4d`
    /// latents (16 to 1024), `1/32` of them active per sample.
    pub fn default_config(self, shape: InputShape) -> Result<ModelConfig, ConfigError> {
        let config = self.defaults(shape);
        debug_assert_eq!(config.is_some(), self.accepts(shape), "{self} on {shape}");
        config.ok_or_else(|| {
            let takes = if self.is_sequential() {
                "reads sequences, such as the windows of a series (--window)"
            } else {
                self.reads()
            };
            ConfigError::new(
                "model",
                self.name(),
                format!(
                    "a family that takes {shape} ({self} {takes}): one of {}",
                    Self::listed(|f| f.accepts(shape))
                ),
            )
        })
    }

    /// [`Self::default_config`], `None` for the shapes the family does not take.
    fn defaults(self, shape: InputShape) -> Option<ModelConfig> {
        let features = shape.features();
        let code = code_size(features);
        let recurrent = |steps, channels, cell| {
            ModelConfig::Recurrent(RecurrentAutoencoderConfig::new(
                steps, channels, cell, 64, code,
            ))
        };
        Some(match (self, shape) {
            (Self::TopKSae, _) => {
                // An overcomplete dictionary, four latents a value up to 1024.
                let latent = (4 * features).clamp(16, 1024);
                let k = TopKSaeConfig::default_k(latent);
                ModelConfig::TopK(TopKSaeConfig::new(features, latent, k))
            }
            (
                Self::Mlp | Self::Aae | Self::Vae,
                InputShape::Vector { .. } | InputShape::Sequence { .. },
            ) => vector_default(self, features),
            (Self::Lstm, InputShape::Sequence { steps, channels }) => {
                recurrent(steps, channels, Cell::Lstm)
            }
            (Self::Gru, InputShape::Sequence { steps, channels }) => {
                recurrent(steps, channels, Cell::Gru)
            }
            (Self::Transformer, InputShape::Sequence { steps, channels }) => {
                ModelConfig::Transformer(TransformerAutoencoderConfig::new(steps, channels, code))
            }
            (Self::Conv1d, InputShape::Sequence { steps, channels }) => {
                let stack = ConvStackConfig::for_sequences(steps, channels, vec![32, 64])
                    .with_kernel(5)
                    .with_padding(2);
                ModelConfig::Conv(
                    ConvAutoencoderConfig::new(stack, code)
                        .with_output_activation(Activation::Identity),
                )
            }
            (
                Self::Mlp
                | Self::Conv
                | Self::Vae
                | Self::ConvVae
                | Self::Aae
                | Self::Mae
                | Self::VqVae
                | Self::Capsule,
                InputShape::Image {
                    channels,
                    height,
                    width,
                },
            ) => {
                let conv = || ConvStackConfig::new([channels, height, width], vec![32, 64]);
                let mlp = |latent| MlpAutoencoderConfig::new(features, vec![512, 256], latent);
                match self {
                    Self::Conv => ModelConfig::Conv(ConvAutoencoderConfig::new(conv(), 32)),
                    Self::VqVae => ModelConfig::VqVae(VqVaeConfig::new(conv())),
                    Self::Capsule => ModelConfig::Capsule(CapsuleAutoencoderConfig::new([
                        channels, height, width,
                    ])),
                    Self::Vae => ModelConfig::Vae(VaeConfig::new(features, vec![400], 20)),
                    Self::ConvVae => ModelConfig::Vae(
                        VaeConfig::new(features, vec![], 20).with_conv(Some(conv())),
                    ),
                    Self::Aae => ModelConfig::Aae(AaeConfig::new(mlp(8))),
                    Self::Mae => ModelConfig::Masked(MaskedAutoencoderConfig::new(
                        [channels, height, width],
                        32,
                    )),
                    _ => ModelConfig::Mlp(mlp(32)),
                }
            }
            _ => return None,
        })
    }

    /// Whether the family takes samples of `shape`: images all but the sequence
    /// families, sequences all but the image convolutions, vectors the families that
    /// flatten their input.
    pub fn accepts(self, shape: InputShape) -> bool {
        match shape {
            InputShape::Image { .. } => !self.is_sequential(),
            InputShape::Vector { .. } => self.takes_vectors(),
            InputShape::Sequence { .. } => !self.takes_images_only(),
        }
    }
}

/// The default for a table row or a flattened window of `features` values: one
/// hidden layer of 64, a linear output trained with MSE (`family` is one of the
/// families that flatten their input).
fn vector_default(family: Family, features: usize) -> ModelConfig {
    let latent = code_size(features);
    let mlp = MlpAutoencoderConfig::new(features, vec![64], latent)
        .with_output_activation(Activation::Identity);
    match family {
        Family::Aae => ModelConfig::Aae(AaeConfig::new(mlp)),
        Family::Vae => ModelConfig::Vae(
            VaeConfig::new(features, vec![64], latent).with_reconstruction(Reconstruction::Mse),
        ),
        _ => ModelConfig::Mlp(mlp),
    }
}

/// The default code of a table row or a series window of `features` values: a
/// quarter of them, 2 to 16.
fn code_size(features: usize) -> usize {
    (features / 4).clamp(2, 16)
}

impl ModelConfig {
    /// The family this configuration builds.
    pub fn family(&self) -> Family {
        match self {
            Self::Mlp(_) => Family::Mlp,
            Self::Conv(c) if c.conv.is_sequence() => Family::Conv1d,
            Self::Conv(_) => Family::Conv,
            Self::Vae(c) if c.conv.is_some() => Family::ConvVae,
            Self::Vae(_) => Family::Vae,
            Self::Aae(_) => Family::Aae,
            Self::Recurrent(c) => match c.cell {
                Cell::Lstm => Family::Lstm,
                Cell::Gru => Family::Gru,
            },
            Self::Transformer(_) => Family::Transformer,
            Self::Masked(_) => Family::Mae,
            Self::TopK(_) => Family::TopKSae,
            Self::VqVae(_) => Family::VqVae,
            Self::Capsule(_) => Family::Capsule,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no family.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown model family '{name}': expected one of {}", Family::listed(|_| true))]
pub struct UnknownFamily {
    /// The name given.
    pub name: String,
}

impl FromStr for Family {
    type Err = UnknownFamily;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFamily {
                name: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_families() {
        for family in Family::ALL {
            assert_eq!(family.name().parse::<Family>(), Ok(family));
            assert_eq!(family.to_string(), family.name());
        }
        let err = "capsnet".parse::<Family>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown model family 'capsnet': expected one of mlp, conv, vae, conv-vae, aae, conv1d, lstm, gru, transformer, mae, topk-sae, vq-vae, capsule"
        );
    }

    #[test]
    fn a_continuous_prior_is_one_kind_of_generative_model() {
        for family in Family::ALL {
            assert!(
                !family.has_continuous_prior() || family.is_generative(),
                "{family}"
            );
        }
        // The VQ-VAE samples through a prior learned over its discrete codes.
        assert!(Family::VqVae.is_generative() && !Family::VqVae.has_continuous_prior());
        assert_eq!(
            Family::listed(Family::has_continuous_prior),
            "vae, conv-vae, aae"
        );
    }

    #[test]
    fn every_default_config_reports_its_family_and_validates() {
        let image = InputShape::grey(28, 28);
        let table = InputShape::Vector { features: 30 };
        let window = InputShape::Sequence {
            steps: 24,
            channels: 2,
        };
        for family in Family::ALL {
            for shape in [image, table, window] {
                let Ok(config) = family.default_config(shape) else {
                    assert!(!family.accepts(shape), "{family} on {shape}");
                    continue;
                };
                assert!(family.accepts(shape), "{family} on {shape}");
                assert_eq!(config.family(), family);
                assert_eq!(config.input_size(), shape.features());
                config.validate().expect("the defaults are valid");
            }
            let colour = InputShape::Image {
                channels: 3,
                height: 32,
                width: 32,
            };
            if let Ok(in_colour) = family.default_config(colour) {
                assert_eq!(in_colour.input_size(), 3 * 32 * 32);
                let shape = in_colour.image_shape();
                assert_eq!(
                    shape.is_some(),
                    family.takes_images_only(),
                    "{family}: {shape:?}"
                );
                assert!(shape.is_none_or(|s| s == [3, 32, 32]), "{shape:?}");
            }
            match family.default_config(table) {
                Ok(config) => {
                    assert!(family.takes_vectors());
                    let latent = if family == Family::TopKSae { 120 } else { 7 };
                    assert_eq!(config.latent(), latent, "30 / 4 values, or 4 × 30 latents");
                }
                Err(err) => {
                    assert!(!family.takes_vectors(), "{family}: {err}");
                    assert!(
                        err.to_string().contains("one of mlp, vae, aae, topk-sae"),
                        "{err}"
                    );
                }
            }
        }
        // Images: every family but the sequence ones; windows: all but the image
        // convolutions, the error naming those that would do.
        let on = |shape| Family::listed(|f| f.accepts(shape));
        assert_eq!(
            on(image),
            "mlp, conv, vae, conv-vae, aae, mae, topk-sae, vq-vae, capsule"
        );
        assert_eq!(
            on(window),
            "mlp, vae, aae, conv1d, lstm, gru, transformer, topk-sae"
        );
        let err = Family::Conv1d.default_config(image).expect_err("images");
        assert!(err.to_string().contains("conv1d reads sequences"), "{err}");
        let err = Family::Conv.default_config(window).expect_err("windows");
        assert!(
            err.to_string()
                .contains("one of mlp, vae, aae, conv1d, lstm, gru, transformer, topk-sae"),
            "{err}"
        );
        // A window's conv1d: one row of 24 steps, two channels, no image shape.
        let ModelConfig::Conv(c) = Family::Conv1d.default_config(window).expect("windows") else {
            panic!("a convolutional config")
        };
        assert_eq!((c.conv.image, c.latent), ([2, 1, 24], 12));
        assert_eq!(ModelConfig::Conv(c).image_shape(), None);
    }

    #[test]
    fn image_defaults_are_the_literature_architectures() {
        let latent = |f: Family| {
            f.default_config(InputShape::grey(28, 28))
                .map(|c| c.latent())
                .ok()
        };
        assert_eq!(
            Family::ALL.map(latent),
            [
                Some(32),
                Some(32),
                Some(20),
                Some(20),
                Some(8),
                None,
                None,
                None,
                None,
                Some(32),
                Some(1024),
                Some(7 * 7 * 16),
                Some(10 * 16)
            ]
        );
        assert_eq!(Family::Aae.default_beta1(), 0.5);
        assert_eq!(Family::Vae.default_beta1(), 0.9);
        assert_eq!(
            InputShape::Vector { features: 3 }.to_string(),
            "vectors of 3 values"
        );
        // A tiny table still gets a code of at least 2 and a large one at most 16.
        let code = |d| {
            Family::Mlp
                .default_config(InputShape::Vector { features: d })
                .map(|c| c.latent())
                .ok()
        };
        assert_eq!((code(3), code(1000)), (Some(2), Some(16)));
    }
}
