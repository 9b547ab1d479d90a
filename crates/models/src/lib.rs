//! Autoencoders on [Burn](https://burn.dev), as a library.
//!
//! Every model is built from a `…Config` (sizes as constructor arguments, choices as
//! enums, tunables with defaults) whose `init` checks the configuration and returns
//! a [`ConfigError`] naming the wrong value. Every model implements [`Autoencoder`]:
//! `encode`, `decode`, and a `forward` that returns an [`AutoencoderOutput`] with the
//! reconstruction, the code and each loss term. With the `train` feature the models
//! also implement burn's `TrainStep`/`InferenceStep`, so burn's `Learner` trains them.
//!
//! Families: [`MlpAutoencoder`] (vanilla, undercomplete, overcomplete, deep; bias on
//! or off), [`ConvAutoencoder`] (over images, or along sequences), the variational
//! [`Vae`], the adversarial [`Aae`], and for sequences the recurrent
//! [`RecurrentAutoencoder`] (LSTM or GRU) and the [`TransformerAutoencoder`], and the
//! [`MaskedAutoencoder`] over image patches, and the [`TopKSae`], a TopK sparse
//! autoencoder for decomposing network activations.
//! [`Family`] describes them as data — names, each one's default architecture for an
//! [`InputShape`] — and [`ModelConfig`] / [`AnyAutoencoder`] answer what a model can
//! do (sample, its first dense layer, a linear decoder's basis, its [`ModelSize`]),
//! so no caller needs to match on the families.
//! Objectives are apart from architectures: [`Regularization`] (L1 and KL sparsity,
//! k-sparse, contractive, weight penalties) and [`Noise`] (denoising) apply to the MLP
//! and convolutional models alike (and to the autoencoder inside an [`Aae`]). Losses
//! are written once, in [`Reconstruction`] and [`regularize`]. A [`Classifier`] puts
//! a linear head on any trained encoder, frozen or fine-tuned.
//!
//! This crate does no file or network I/O, has no CLI and no dataset types; models
//! take `[batch, features]` tensors. It selects no backend: callers pass a `Device`.
#![warn(missing_docs)]

mod activation;
mod adversarial;
mod any;
mod capsule;
mod classifier;
mod code_prior;
mod conv;
mod error;
mod family;
mod finite;
mod loss;
mod masked;
mod mlp;
mod output;
mod recurrent;
pub mod regularize;
mod size;
#[cfg(test)]
mod testing;
mod topk;
#[cfg(feature = "train")]
pub mod train;
mod transformer;
mod vae;
mod vq;

pub use activation::Activation;
pub use adversarial::{Aae, AaeConfig, Prior};
pub use any::{AnyAutoencoder, ModelConfig};
pub use capsule::{CapsuleAutoencoder, CapsuleAutoencoderConfig, CapsuleMask};
pub use classifier::Classifier;
pub use code_prior::{MaskedConv, PixelCnnPrior, PixelCnnPriorConfig};
pub use conv::{
    ConvAutoencoder, ConvAutoencoderConfig, ConvDecoder, ConvEncoder, ConvStackConfig, Norm,
};
pub use error::ConfigError;
pub use family::{Family, InputShape, UnknownFamily};
pub use finite::first_non_finite;
pub use loss::Reconstruction;
pub use masked::{MaskedAutoencoder, MaskedAutoencoderConfig};
pub use mlp::{MlpAutoencoder, MlpAutoencoderConfig};
pub use output::{Autoencoder, AutoencoderOutput, LossTerm};
pub use recurrent::{Cell, Recurrent, RecurrentAutoencoder, RecurrentAutoencoderConfig};
pub use regularize::{KlSparsity, Noise, Regularization};
pub use size::ModelSize;
pub use topk::{KAnneal, TopKSae, TopKSaeConfig};
pub use transformer::{TransformerAutoencoder, TransformerAutoencoderConfig};
pub use vae::{Gaussian, Vae, VaeConfig};
pub use vq::{DiscreteCode, VqVae, VqVaeConfig};
