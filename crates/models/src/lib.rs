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
//! [`InputShape`], declared in each family's own file and listed in one table (the
//! `families!` invocation in this file's source) — and [`ModelConfig`] /
//! [`AnyAutoencoder`] answer what a model can do (sample, its first dense layer, a
//! linear decoder's basis, its [`ModelSize`]), so no caller needs to match on the
//! families.
//! Objectives are apart from architectures: [`Regularization`] (L1 and KL sparsity,
//! k-sparse, contractive, weight penalties) and [`Noise`] (denoising) apply to the MLP
//! and convolutional models alike (and to the autoencoder inside an [`Aae`]). Losses
//! are written once, in [`Reconstruction`] and [`regularize`]. A [`Classifier`] puts
//! a linear head on any trained encoder, frozen or fine-tuned.
//!
//! This crate does no file or network I/O, has no CLI and no dataset types; models
//! take `[batch, features]` tensors. It selects no backend: callers pass a `Device`.
#![warn(missing_docs)]

#[macro_use]
mod any;
mod activation;
mod classifier;
mod code_prior;
mod conv_stack;
mod error;
mod family;
mod finite;
mod loss;
mod output;
pub mod regularize;
mod size;
#[cfg(test)]
mod testing;
#[cfg(feature = "train")]
pub mod train;

// The families, one line each: the variant of `ModelConfig` and `AnyAutoencoder` (and
// the `kind` tag of `config.json`), the family's file, its configuration and model,
// and the names it answers to on the command line (its `Family` constants). A family
// declares everything else in its file.
families! {
    /// A multi-layer perceptron autoencoder.
    Mlp("mlp") => mlp: MlpAutoencoderConfig, MlpAutoencoder, [MLP];
    /// A convolutional autoencoder, over images or along sequences.
    Conv("conv") => conv: ConvAutoencoderConfig, ConvAutoencoder, [CONV, CONV1D];
    /// A variational autoencoder.
    Vae("vae") => vae: VaeConfig, Vae, [VAE, CONV_VAE];
    /// An adversarial autoencoder.
    Aae("aae") => adversarial: AaeConfig, Aae, [AAE];
    /// A recurrent (LSTM or GRU) sequence-to-sequence autoencoder.
    Recurrent("recurrent") => recurrent: RecurrentAutoencoderConfig, RecurrentAutoencoder, [LSTM, GRU];
    /// A transformer autoencoder over the steps of sequences.
    Transformer("transformer") => transformer: TransformerAutoencoderConfig, TransformerAutoencoder, [TRANSFORMER];
    /// A masked autoencoder over image patches.
    Masked("masked") => masked: MaskedAutoencoderConfig, MaskedAutoencoder, [MAE];
    /// A TopK sparse autoencoder.
    TopK("topk-sae") => topk: TopKSaeConfig, TopKSae, [TOPK_SAE];
    /// A vector-quantised autoencoder.
    VqVae("vq-vae") => vq: VqVaeConfig, VqVae, [VQ_VAE];
    /// A capsule autoencoder.
    Capsule("capsule") => capsule: CapsuleAutoencoderConfig, CapsuleAutoencoder, [CAPSULE];
}

pub use activation::Activation;
pub use adversarial::Prior;
pub use capsule::CapsuleMask;
pub use classifier::Classifier;
pub use code_prior::{MaskedConv, PixelCnnPrior, PixelCnnPriorConfig};
pub use conv_stack::{ConvDecoder, ConvEncoder, ConvStackConfig, Norm};
pub use error::ConfigError;
pub use family::{Family, InputShape, UnknownFamily};
pub use finite::first_non_finite;
pub use loss::Reconstruction;
pub use output::{Autoencoder, AutoencoderOutput, DiscreteCode, LossTerm};
pub use recurrent::{Cell, Recurrent};
pub use regularize::{KlSparsity, Noise, Regularization};
pub use size::ModelSize;
pub use topk::KAnneal;
pub use vae::Gaussian;
