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
//! or off). Losses are in one place, [`Reconstruction`].
//!
//! This crate does no file or network I/O, has no CLI and no dataset types; models
//! take `[batch, features]` tensors. It selects no backend: callers pass a `Device`.
#![warn(missing_docs)]

mod activation;
mod any;
mod loss;
mod mlp;
mod output;
#[cfg(feature = "train")]
pub mod train;

pub use activation::Activation;
pub use any::{AnyAutoencoder, ModelConfig};
pub use loss::Reconstruction;
pub use mlp::{MlpAutoencoder, MlpAutoencoderConfig};
pub use output::{Autoencoder, AutoencoderOutput, LossTerm};

/// A configuration value that cannot build a model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid model configuration: {field} = {value}, expected {expected}")]
pub struct ConfigError {
    /// The configuration field.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// What would be valid.
    pub expected: String,
}

impl ConfigError {
    /// An error for `field`, which holds `value` where `expected` was required.
    pub fn new(field: &'static str, value: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            field,
            value: value.into(),
            expected: expected.into(),
        }
    }
}
