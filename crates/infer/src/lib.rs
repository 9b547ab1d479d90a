//! Trained autoencoders at work on new data, from your own program.
//!
//! A training run (`trainer train --out DIR`) leaves an artifact folder; this crate
//! opens it — the model's configuration, its weights, a table's saved
//! standardisation and, once `trainer anomaly` has chosen one, the anomaly threshold
//! — and applies the model to new samples in batches on any burn backend:
//!
//! - [`Artifact::open`] reads the folder's small files and checks them;
//! - [`Artifact::load`] builds the model on a device, giving a [`Predictor`];
//! - [`Predictor::encode`], [`Predictor::reconstruct`] and [`Predictor::score`] take
//!   rows of raw values (pixels in `[0, 1]`, table values in the training file's
//!   units) and return codes, reconstructions, and anomaly [`Scores`] with the
//!   squared error of every feature and the saved threshold's decision.
//!
//! Rows are flat `&[f32]` slices, `features` values per sample, so samples from any
//! source fit; [`ae_data::rows::RowReader`] streams them from IDX, CSV and `.npy`
//! files. This crate selects no backend and has no CLI: a user's crate adds burn
//! with the backend it wants (`burn = { version = "0.22", features = ["flex"] }`).
//!
//! ```
//! use ae_infer::{Predictor, Score};
//! use ae_models::{MlpAutoencoderConfig, ModelConfig};
//! use burn::prelude::*;
//!
//! // A model as an artifact holds one (here untrained, built from its config).
//! let device = Device::flex();
//! let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(4, vec![], 2));
//! let model = config.init(&device)?;
//! let predictor = Predictor::new(&config, model, None, None, device);
//!
//! let rows = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]; // two samples of 4 features
//! let codes = predictor.encode(&rows)?;
//! assert_eq!(codes.len(), 2 * 2);
//! let again = predictor.reconstruct(&rows)?;
//! assert_eq!(again.len(), rows.len());
//! let scores = predictor.score(&rows)?;
//! // The score is the summed squared error of the features that explain it.
//! let first: f32 = scores.errors[..4].iter().sum();
//! assert!((scores.scores[0] - f64::from(first)).abs() < 1e-4);
//! assert_eq!(scores.kind, Score::Reconstruction);
//! assert!(scores.anomalous.is_none()); // no threshold was saved
//!
//! // Bad rows are refused with the reason.
//! let err = predictor.encode(&[0.1, f32::NAN, 0.3, 0.4]).unwrap_err();
//! assert!(err.to_string().contains("row 0, column 1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod artifact;
mod checksum;
mod predictor;

pub use artifact::{Artifact, image_shape, load_module, load_weights, save_module};
pub use checksum::{checksum_path, sha256_of, verify_checksum, write_checksum};
pub use predictor::{Predictor, Scores};

use ae_models::{AnyAutoencoder, Autoencoder};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The whole training configuration, reusable with `trainer train --config`.
pub const CONFIG_FILE: &str = "config.json";
/// Final weights (burn's burnpack format), with their SHA-256 beside them
/// ([`checksum_path`]).
pub const MODEL_FILE: &str = "model.bpk";
/// A table's standardisation statistics and column names, applied to every row the
/// model sees.
pub const STANDARDIZER_FILE: &str = "standardize.json";
/// The anomaly threshold `trainer anomaly` chose, with how it was chosen.
pub const THRESHOLD_FILE: &str = "threshold.json";

/// What a model computes of samples: the one list the command line's `encode`,
/// `reconstruct` and `score` and a server's routes share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// The codes.
    Encode,
    /// The reconstructions, in the input's units.
    Reconstruct,
    /// One score per sample, the threshold's decision, each feature's squared error.
    Score,
}

impl Task {
    /// Every task, in the order their answers are given.
    pub const ALL: [Self; 3] = [Self::Encode, Self::Reconstruct, Self::Score];

    /// Its name: the command's and the route's.
    pub fn name(self) -> &'static str {
        match self {
            Self::Encode => "encode",
            Self::Reconstruct => "reconstruct",
            Self::Score => "score",
        }
    }

    /// The task named `name`, if there is one.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// What makes a sample anomalous.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Score {
    /// Squared reconstruction error summed over the features (the code is the
    /// encoder's deterministic output: the posterior mean for a VAE).
    #[default]
    Reconstruction,
    /// The negative ELBO (VAE only): reconstruction likelihood plus KL, in nats.
    Elbo,
    /// The negative log-density, under a Gaussian mixture fitted to the normal
    /// training samples' ([`Threshold::density`]), of the code beside two measures of
    /// the reconstruction ([`density_features`]).
    Density,
}

impl std::str::FromStr for Score {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Reconstruction, Self::Elbo, Self::Density]
            .into_iter()
            .find(|score| score.flag() == s)
            .ok_or_else(|| format!("unknown score '{s}': expected reconstruction, elbo or density"))
    }
}

impl Score {
    /// The name `--score` and the artifact's files give it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Reconstruction => "reconstruction",
            Self::Elbo => "elbo",
            Self::Density => "density",
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Reconstruction => "reconstruction error",
            Self::Elbo => "negative ELBO",
            Self::Density => "negative log-density of code and reconstruction",
        })
    }
}

/// The anomaly threshold of an artifact: scores above it are anomalous, and so is a
/// score that is not a finite number ([`Threshold::flags`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The score it applies to.
    pub score: Score,
    /// Scores above this are flagged.
    pub value: f64,
    /// The false-positive rate it was chosen for, on held-out normal samples.
    pub target_fpr: f64,
    /// The labels that were declared normal.
    pub normal: Vec<u8>,
    /// The held-out normal samples it was chosen on.
    pub samples: usize,
    /// For [`Score::Density`]: the mixture fitted to the normal training samples'
    /// [`density_features`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<ae_analysis::Density>,
}

impl Threshold {
    /// Whether `score` is anomalous: above the threshold, or not a number at all (an
    /// input far outside anything the model saw can overflow its score to infinity or
    /// NaN; such a sample is flagged, never passed as normal).
    pub fn flags(&self, score: f64) -> bool {
        score.is_nan() || score > self.value
    }
}

/// What [`Score::Density`] measures of each sample: its code, then the relative
/// reconstruction error `‖x − x̂‖ / ‖x‖` and the cosine similarity of `x` and `x̂`
/// (Zong et al., 2018), `[n, latent + 2]`.
pub fn density_features(model: &AnyAutoencoder, x: Tensor<2>) -> Tensor<2> {
    const FLOOR: f64 = 1e-6;
    let code = model.encode(x.clone());
    let recon = model.decode(code.clone());
    let norm = |t: Tensor<2>| t.powi_scalar(2).sum_dim(1).sqrt();
    let (x_norm, recon_norm) = (norm(x.clone()), norm(recon.clone()));
    let relative = norm(x.clone() - recon.clone()) / x_norm.clone().clamp_min(FLOOR);
    let cosine = (x * recon).sum_dim(1) / (x_norm * recon_norm).clamp_min(FLOOR);
    Tensor::cat(vec![code, relative, cosine], 1)
}

/// Everything that can go wrong opening an artifact or applying its model.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// A file of the artifact is missing, unreadable or malformed.
    #[error("{}: {message}", path.display())]
    Artifact {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The saved configuration cannot build a model.
    #[error(transparent)]
    Config(#[from] ae_models::ConfigError),
    /// Samples the model cannot take.
    #[error("{0}")]
    Input(String),
}
