//! One type for every family, chosen by configuration at run time.
//!
//! The families are a table in `lib.rs`, one line each: the `families!` macro below
//! turns it into [`ModelConfig`] and [`AnyAutoencoder`] (with their serde tags), the
//! list [`Family::ALL`] and the training steps. Everything a family answers — its
//! code size, size formula, loss terms, what it can do — it answers in its own file,
//! through [`FamilyConfig`] and [`FamilyModel`]; the methods here forward to them.

use burn::nn::Linear;
use burn::prelude::*;

use crate::{
    AnyAutoencoder, Autoencoder, AutoencoderOutput, ConfigError, DiscreteCode, Family, ModelConfig,
    ModelSize,
};

/// What every family's configuration answers. One implementation per configuration
/// type, in the family's own file; [`ModelConfig`] forwards to it.
pub(crate) trait FamilyConfig {
    /// The family this configuration builds (one configuration type may build several,
    /// as the VAE's builds `vae` and `conv-vae`).
    fn family(&self) -> Family;
    /// The number of input features the model expects.
    fn input_size(&self) -> usize;
    /// The size of the code.
    fn latent(&self) -> usize;
    /// The image shape a model that reads images as such was built for.
    fn image_shape(&self) -> Option<[usize; 3]> {
        None
    }
    /// Parameters, per-sample activations and multiply-adds, the input left out.
    fn size(&self) -> Result<ModelSize, ConfigError>;
    /// Names of the loss terms the model reports besides the total.
    fn loss_terms(&self) -> Vec<&'static str>;
    /// Names of the values the model measures beside its loss.
    fn measures(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// Whether greedy layer-wise pretraining applies.
    fn is_stacked(&self) -> bool {
        false
    }
    /// Whether the first fully connected layer produces the code itself.
    fn first_layer_is_code(&self) -> bool {
        false
    }
}

/// What every family's model answers besides [`Autoencoder`]. One implementation per
/// model type, in the family's own file; [`AnyAutoencoder`] forwards to it.
pub(crate) trait FamilyModel: Autoencoder {
    /// `n` samples decoded from the model's prior, when it has one of its own.
    fn sample(&self, _n: usize, _device: &Device) -> Option<Tensor<2>> {
        None
    }
    /// The first fully connected layer the input meets, when it starts with one.
    fn first_dense_layer(&self) -> Option<&Linear> {
        None
    }
    /// The basis a linear decoder's reconstructions lie in, `[latent, features]`.
    fn linear_decoder_basis(&self) -> Option<Tensor<2>> {
        None
    }
    /// The model with what it initialises from training `samples` set, when it does.
    fn initialised_from(&self, _samples: Tensor<2>) -> Option<AnyAutoencoder> {
        None
    }
    /// Whether [`initialised_from`](Self::initialised_from) uses data.
    fn initialises_from_data(&self) -> bool {
        false
    }
    /// The code as symbols, when it is discrete.
    fn discrete_code(&self) -> Option<DiscreteCode> {
        None
    }
    /// The forward pass of a training batch with its labels.
    fn forward_labelled(&self, input: Tensor<2>, _labels: Tensor<1, Int>) -> AutoencoderOutput {
        self.forward(input)
    }
}

/// Declares the families from the table in `lib.rs`: the modules, [`ModelConfig`] and
/// [`AnyAutoencoder`] with one variant per line, their conversions, the checks and the
/// building (every configuration's `validate` and `init`), [`Family::ALL`] and the
/// training steps.
macro_rules! families {
    ($($(#[$doc:meta])* $variant:ident($tag:literal) => $module:ident:
        $config:ident, $model:ident, [$($family:ident),+];)*) => {
        $(mod $module;)*
        $(pub use $module::{$config, $model};)*

        /// The configuration of any model family, tagged by `kind` in JSON.
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind")]
        pub enum ModelConfig {
            $($(#[$doc])* #[serde(rename = $tag)] $variant($config),)*
        }

        /// Any autoencoder, as built from a [`ModelConfig`].
        // A model is built once and moved rarely: the variants' sizes do not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(burn::module::Module, Debug)]
        pub enum AnyAutoencoder {
            $($(#[$doc])* $variant($model),)*
        }

        impl ModelConfig {
            fn spec(&self) -> &dyn $crate::any::FamilyConfig {
                match self {
                    $(Self::$variant(c) => c,)*
                }
            }

            /// Checks the configuration without building anything.
            pub fn validate(&self) -> Result<(), $crate::ConfigError> {
                match self {
                    $(Self::$variant(c) => c.validate(),)*
                }
            }

            /// Builds the model on `device`.
            pub fn init(
                &self,
                device: &burn::prelude::Device,
            ) -> Result<AnyAutoencoder, $crate::ConfigError> {
                Ok(match self {
                    $(Self::$variant(c) => AnyAutoencoder::$variant(c.init(device)?),)*
                })
            }
        }

        impl AnyAutoencoder {
            fn spec(&self) -> &dyn $crate::any::FamilyModel {
                match self {
                    $(Self::$variant(m) => m,)*
                }
            }
        }

        $(
            impl From<$config> for ModelConfig {
                fn from(config: $config) -> Self {
                    Self::$variant(config)
                }
            }

            impl From<$model> for AnyAutoencoder {
                fn from(model: $model) -> Self {
                    Self::$variant(model)
                }
            }
        )*

        impl Family {
            /// Every family, in the order they are listed to users (the table's).
            pub const ALL: &'static [Family] = &[$($(Family::$family,)+)*];
        }

        #[cfg(feature = "train")]
        $crate::train::reconstruction_steps!($($model),*);
    };
}

impl ModelConfig {
    /// The family this configuration builds.
    pub fn family(&self) -> Family {
        self.spec().family()
    }

    /// Whether greedy layer-wise pretraining applies: an MLP autoencoder with hidden
    /// layers (a stacked autoencoder).
    pub fn is_stacked(&self) -> bool {
        self.spec().is_stacked()
    }

    /// Whether the first fully connected layer produces the code itself (an MLP or
    /// adversarial autoencoder without hidden layers, a TopK sparse autoencoder), so its
    /// units are the code's.
    pub fn first_layer_is_code(&self) -> bool {
        self.spec().first_layer_is_code()
    }

    /// The number of input features the model expects.
    pub fn input_size(&self) -> usize {
        self.spec().input_size()
    }

    /// The image shape `[channels, height, width]` a model that reads images as such
    /// (convolutions, patches) was built for; `None` for the fully connected families,
    /// which see flat vectors, and for convolutions along sequences.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        self.spec().image_shape()
    }

    /// The size of the code.
    pub fn latent(&self) -> usize {
        self.spec().latent()
    }

    /// The configuration's parameters, per-sample activations and multiply-adds,
    /// without building it.
    pub fn size(&self) -> Result<ModelSize, ConfigError> {
        let input = ModelSize {
            activations: self.input_size() as u64,
            ..ModelSize::default()
        };
        Ok(input.add(self.spec().size()?))
    }

    /// Names of the loss terms this model reports besides the total.
    pub fn loss_terms(&self) -> Vec<&'static str> {
        self.spec().loss_terms()
    }

    /// Names of the values this model measures beside its loss, not part of it (see
    /// [`AutoencoderOutput::measures`]).
    pub fn measures(&self) -> Vec<&'static str> {
        self.spec().measures()
    }
}

impl AnyAutoencoder {
    /// `n` images decoded from samples of the model's prior, for the families with a
    /// continuous prior of their own (see [`Family::has_continuous_prior`]); `None`
    /// for the others.
    pub fn sample(&self, n: usize, device: &Device) -> Option<Tensor<2>> {
        self.spec().sample(n, device)
    }

    /// The first fully connected layer the input meets, when the model starts with one
    /// (not a convolution): its weights, `[inputs, units]`, are the filters the units
    /// apply to the input.
    pub fn first_dense_layer(&self) -> Option<&Linear> {
        self.spec().first_dense_layer()
    }

    /// The basis a linear decoder's reconstructions lie in (up to its bias), one row
    /// per code unit, `[latent, features]`: the weights of a single-layer MLP decoder
    /// without an output activation, a TopK autoencoder's atoms; `None` for any other
    /// decoder.
    pub fn linear_decoder_basis(&self) -> Option<Tensor<2>> {
        self.spec().linear_decoder_basis()
    }

    /// The model with what its family initialises from data set (a TopK sparse
    /// autoencoder's `b_pre` at the mean of `samples`, `[n, features]` training
    /// samples); any other model unchanged.
    pub fn initialised_from(self, samples: Tensor<2>) -> Self {
        self.spec().initialised_from(samples).unwrap_or(self)
    }

    /// Whether [`initialised_from`](Self::initialised_from) uses data.
    pub fn initialises_from_data(&self) -> bool {
        self.spec().initialises_from_data()
    }

    /// The code as symbols when it is discrete (a VQ-VAE's codebook entries, one per
    /// grid position; [`Autoencoder::encode`] gives their vectors); `None` for a
    /// continuous code.
    pub fn discrete_code(&self) -> Option<DiscreteCode> {
        self.spec().discrete_code()
    }

    /// The forward pass of a training batch: with `labels`, a model that trains on
    /// them (a capsule autoencoder masked by the label) takes them; any other model,
    /// or no labels, the plain [`Autoencoder::forward`].
    pub fn forward_batch(
        &self,
        input: Tensor<2>,
        labels: Option<Tensor<1, Int>>,
    ) -> AutoencoderOutput {
        match labels {
            Some(labels) => self.spec().forward_labelled(input, labels),
            None => self.spec().forward(input),
        }
    }
}

impl Autoencoder for AnyAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        self.spec().encode(input)
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.spec().decode(code)
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        self.spec().forward(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InputShape;

    /// The configurations the trainer wrote before the families became a table (one
    /// per family, `train --print-config` on Fashion-MNIST or on windows of 16 steps
    /// of 2 values) still load, as the same family, and are written back unchanged.
    #[test]
    fn every_familys_config_json_written_before_still_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
        for &family in Family::ALL {
            let path = dir.join(format!("{family}.json"));
            let text = std::fs::read_to_string(&path).expect("one config per family");
            let config: ModelConfig = serde_json::from_str(&text).expect("it loads");
            assert_eq!(config.family(), family, "{}", path.display());
            config.validate().expect("valid");
            let written: serde_json::Value = serde_json::to_value(&config).expect("writes");
            let read: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(written, read, "{family}: written back unchanged");
            let shape = if family.is_sequential() {
                InputShape::Sequence {
                    steps: 16,
                    channels: 2,
                }
            } else {
                InputShape::grey(28, 28)
            };
            let default = family.default_config(shape).expect("the family's default");
            let default = serde_json::to_value(&default).expect("writes");
            assert_eq!(
                default, read,
                "{family}: today's default is the one written"
            );
        }
        let files = std::fs::read_dir(&dir).expect("folder").count();
        assert_eq!(files, Family::ALL.len(), "one file per family, no other");
    }
}
