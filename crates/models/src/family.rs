//! The model families as data: their names, what each is, and each one's default
//! architecture for an input shape.
//!
//! Each family declares itself in its own file as a [`Family`] constant; the table in
//! `lib.rs` lists them. Everything outside this crate asks these questions here instead
//! of matching on [`ModelConfig`]'s variants or comparing names, so that a new family
//! is its file and a line of the table, and nowhere else is a list of families to keep
//! in step.

use std::fmt;
use std::str::FromStr;

use crate::{ConfigError, ModelConfig};

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

/// What a family is, declared in its own file as a [`Family`] constant: everything the
/// rest of the workspace asks about a family before a model exists.
#[derive(Debug)]
pub(crate) struct FamilySpec {
    /// The name on the command line and in messages.
    pub name: &'static str,
    /// One line saying what the family is.
    pub description: &'static str,
    /// How it reads a sample.
    pub reads: Reads,
    /// Whether and how it samples.
    pub sampling: Sampling,
    /// Adam's β₁ it trains with by default.
    pub beta1: f64,
    /// Its default architecture for inputs of a shape; `None` for the shapes it does
    /// not take.
    pub defaults: fn(InputShape) -> Option<ModelConfig>,
}

impl FamilySpec {
    /// What a family is unless it says otherwise (`..FamilySpec::ORDINARY`): it reads
    /// flat vectors, does not sample, and trains with PyTorch's β₁ of 0.9; no name and
    /// no default architecture, which each family gives.
    pub const ORDINARY: FamilySpec = FamilySpec {
        name: "",
        description: "",
        reads: Reads::Vectors,
        sampling: Sampling::None,
        beta1: 0.9,
        defaults: |_| None,
    };
}

/// How a family reads a sample, which decides the inputs it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// As a flat vector: tables, and images or sequences flattened.
    Vectors,
    /// By convolutions over images.
    Images,
    /// In patches of images.
    Patches,
    /// Step by step along sequences.
    Sequences,
}

/// Whether a family samples new data, and from what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sampling {
    /// It has no prior over its codes.
    None,
    /// A continuous prior of its own (a standard normal, the AAE's), whose quantiles
    /// `sample --manifold` decodes.
    ContinuousPrior,
    /// A prior learned over its discrete codes after training (the VQ-VAE's).
    LearnedPrior,
}

/// A model family, as `--model` names it and as a [`ModelConfig`] reports it: one of
/// [`Family::ALL`], each declared in its family's file. The default is the first of
/// the table, the MLP autoencoder.
#[derive(Clone, Copy)]
pub struct Family(&'static FamilySpec);

impl Family {
    pub(crate) const fn new(spec: &'static FamilySpec) -> Self {
        Self(spec)
    }

    /// The names of the families for which `keep` holds, comma-separated, for messages
    /// such as "one of mlp, vae, aae".
    pub fn listed(keep: impl Fn(Family) -> bool) -> String {
        Self::ALL
            .iter()
            .copied()
            .filter(|&f| keep(f))
            .map(Self::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The family's name on the command line and in messages.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// One line saying what the family is.
    pub fn description(self) -> &'static str {
        self.0.description
    }

    /// Whether the family convolves images (and so takes no other input).
    pub fn is_convolutional(self) -> bool {
        self.0.reads == Reads::Images
    }

    /// Whether the family reads sequences step by step — one-dimensional convolutions,
    /// a recurrent cell or attention over the steps — and so takes no other input.
    pub fn is_sequential(self) -> bool {
        self.0.reads == Reads::Sequences
    }

    /// Whether the family reads images as such — convolutions or patches — and so
    /// takes no other input.
    pub fn takes_images_only(self) -> bool {
        matches!(self.0.reads, Reads::Images | Reads::Patches)
    }

    /// What the family reads, for messages that refuse an input: "convolves images",
    /// "reads sequences", …
    pub fn reads(self) -> &'static str {
        match self.0.reads {
            Reads::Sequences => "reads sequences",
            Reads::Patches => "reads images in patches",
            Reads::Images => "convolves images",
            Reads::Vectors => "flattens its input",
        }
    }

    /// Whether the family takes any sample as a flat vector (tables, and images or
    /// sequences flattened).
    pub fn takes_vectors(self) -> bool {
        self.0.reads == Reads::Vectors
    }

    /// Whether the family has a continuous prior over its codes (a standard normal, or
    /// the AAE's), whose quantiles `sample --manifold` decodes and from which the model
    /// samples itself ([`AnyAutoencoder::sample`](crate::AnyAutoencoder::sample)).
    pub fn has_continuous_prior(self) -> bool {
        self.0.sampling == Sampling::ContinuousPrior
    }

    /// Whether the family samples images: from a continuous prior of its own, or (a
    /// VQ-VAE) from a prior learned over its discrete codes after training.
    pub fn is_generative(self) -> bool {
        self.0.sampling != Sampling::None
    }

    /// Adam's β₁ the family trains with by default: 0.5 for adversarial training, as
    /// is usual for GANs (Radford et al., 2016); PyTorch's 0.9 otherwise.
    pub fn default_beta1(self) -> f64 {
        self.0.beta1
    }

    /// The family's default architecture for inputs of `shape`: each family's file
    /// says its own (the architectures of the literature for images; for a vector of
    /// `d` values, a table row, one hidden layer of 64 units and a code of `d / 4`, 2 to
    /// 16, with a linear output trained with MSE on the standardised values; for
    /// sequences, the same code size). A family refuses the shapes it does not take,
    /// naming those that would do.
    pub fn default_config(self, shape: InputShape) -> Result<ModelConfig, ConfigError> {
        let config = (self.0.defaults)(shape);
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

    /// Whether the family takes samples of `shape`: images all but the sequence
    /// families, sequences all but those that read images as such, vectors the
    /// families that flatten their input.
    pub fn accepts(self, shape: InputShape) -> bool {
        match shape {
            InputShape::Image { .. } => !self.is_sequential(),
            InputShape::Vector { .. } => self.takes_vectors(),
            InputShape::Sequence { .. } => !self.takes_images_only(),
        }
    }
}

impl InputShape {
    /// `[channels, height, width]` of an image; `None` for other samples.
    pub(crate) fn image(&self) -> Option<[usize; 3]> {
        match *self {
            Self::Image {
                channels,
                height,
                width,
            } => Some([channels, height, width]),
            Self::Vector { .. } | Self::Sequence { .. } => None,
        }
    }

    /// `(steps, channels)` of a sequence; `None` for other samples.
    pub(crate) fn sequence(&self) -> Option<(usize, usize)> {
        match *self {
            Self::Sequence { steps, channels } => Some((steps, channels)),
            Self::Image { .. } | Self::Vector { .. } => None,
        }
    }

    /// The default code of a table row or a series window: a quarter of its values,
    /// 2 to 16.
    pub(crate) fn code_size(&self) -> usize {
        (self.features() / 4).clamp(2, 16)
    }
}

impl Default for Family {
    fn default() -> Self {
        Self::ALL[0]
    }
}

impl PartialEq for Family {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Family {}

impl std::hash::Hash for Family {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
            .iter()
            .copied()
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
        for &family in Family::ALL {
            assert_eq!(family.name().parse::<Family>(), Ok(family));
            assert_eq!(family.to_string(), family.name());
        }
        let err = "capsnet".parse::<Family>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown model family 'capsnet': expected one of mlp, conv, conv1d, vae, conv-vae, aae, lstm, gru, transformer, mae, topk-sae, vq-vae, capsule"
        );
    }

    #[test]
    fn a_continuous_prior_is_one_kind_of_generative_model() {
        for &family in Family::ALL {
            assert!(
                !family.has_continuous_prior() || family.is_generative(),
                "{family}"
            );
        }
        // The VQ-VAE samples through a prior learned over its discrete codes.
        assert!(Family::VQ_VAE.is_generative() && !Family::VQ_VAE.has_continuous_prior());
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
        for &family in Family::ALL {
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
                    let latent = if family == Family::TOPK_SAE { 120 } else { 7 };
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
            "mlp, conv1d, vae, aae, lstm, gru, transformer, topk-sae"
        );
        let err = Family::CONV1D.default_config(image).expect_err("images");
        assert!(err.to_string().contains("conv1d reads sequences"), "{err}");
        let err = Family::CONV.default_config(window).expect_err("windows");
        assert!(
            err.to_string()
                .contains("one of mlp, conv1d, vae, aae, lstm, gru, transformer, topk-sae"),
            "{err}"
        );
        // A window's conv1d: one row of 24 steps, two channels, no image shape.
        let ModelConfig::Conv(c) = Family::CONV1D.default_config(window).expect("windows") else {
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
            Family::ALL.iter().map(|&f| latent(f)).collect::<Vec<_>>(),
            [
                Some(32),
                Some(32),
                None,
                Some(20),
                Some(20),
                Some(8),
                None,
                None,
                None,
                Some(32),
                Some(1024),
                Some(7 * 7 * 16),
                Some(10 * 16)
            ]
        );
        assert_eq!(Family::AAE.default_beta1(), 0.5);
        assert_eq!(Family::VAE.default_beta1(), 0.9);
        assert_eq!(
            InputShape::Vector { features: 3 }.to_string(),
            "vectors of 3 values"
        );
        // A tiny table still gets a code of at least 2 and a large one at most 16.
        let code = |d| {
            Family::MLP
                .default_config(InputShape::Vector { features: d })
                .map(|c| c.latent())
                .ok()
        };
        assert_eq!((code(3), code(1000)), (Some(2), Some(16)));
    }
}
