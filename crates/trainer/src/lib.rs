//! The library half of the `trainer` binary: everything its commands do, reusable from
//! examples and tests. The binary only parses flags and prints.
//!
//! - The run: a `train` command's flags are plain data ([`overrides`], gathered in a
//!   [`request::Request`]) applied to a [`config::TrainConfig`] that starts from a
//!   family's defaults ([`ae_models::Family`]); [`memory`] refuses what cannot fit;
//!   [`fit::Run`] trains through burn's `Learner` in phases (prepare, learner,
//!   launch, finish) and writes an [`artifact`], which [`artifact::Artifact`] reads
//!   back; [`history`] holds its per-epoch metrics.
//! - [`device::select`] is the one function that picks a backend and device
//!   ([`remote`] lends and borrows devices across machines).
//! - [`dataset`]: the data a command works on — loading with the MNIST-or-sample
//!   default, a sample's shape as the models see it, the samples a run trains on.
//! - [`evaluate::evaluate`] measures reconstruction quality on a split.
//! - The applications of a trained model: [`anomaly::detect`] (one-class anomaly
//!   detection), [`embed`] (codes as `.npy`/CSV, similarity search), [`generate`]
//!   (denoising, interpolation, samples; [`code_prior`] for discrete codes), [`maps`] (latent maps, manifolds, filters,
//!   loss curves, drawn by [`plot`]), [`compare`] (the PCA baseline), [`compress`]
//!   (rate–distortion), [`finetune`] (transfer learning with few labels).
//! - [`apply`]: a trained model on new files (codes, reconstructions, anomaly scores),
//!   through the inference library [`ae_infer`], which users' crates take alone.
#![warn(missing_docs)]

pub mod anomaly;
pub mod apply;
pub mod artifact;
pub mod code_prior;
pub mod compare;
pub mod compress;
pub mod config;
pub mod dataset;
pub mod device;
pub mod embed;
pub mod evaluate;
pub mod export;
pub mod exposure;
pub mod finetune;
pub mod fit;
pub mod generate;
pub mod guard;
pub mod history;
pub mod image;
pub mod live_log;
pub mod maps;
pub mod memory;
pub mod neighbours;
pub mod optimizer;
pub mod overrides;
pub mod plot;
pub mod pretrain;
pub mod progress;
#[cfg(feature = "remote")]
pub mod remote;
pub mod request;
pub mod safetensors;
pub mod series_plot;
pub mod serving;
pub mod tensorboard;
