//! The configuration of a training run, saved as `config.json` in its artifact.

use ae_data::DatasetName;
use ae_models::ModelConfig;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Everything that defines a training run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model and its architecture.
    pub model: ModelConfig,
    /// The data set.
    pub dataset: DatasetName,
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the weights' initialisation and of the data order.
    pub seed: u64,
    /// Train on the first N training images only.
    pub limit: Option<usize>,
    /// Fraction of the training images held out for validation.
    pub valid_fraction: f64,
    /// Threads that prepare batches.
    pub num_workers: usize,
    /// Adam's decoupled-from-nothing L2 weight decay (PyTorch's `weight_decay`).
    #[serde(default)]
    pub weight_decay: f64,
    /// Stop when the validation loss has not improved for this many epochs.
    #[serde(default)]
    pub early_stopping: Option<usize>,
    /// How the learning rate changes over the run.
    #[serde(default)]
    pub schedule: Schedule,
}

/// A learning-rate schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Cosine annealing from `lr` to 0 over the whole run.
    Cosine,
}

impl TrainConfig {
    /// The defaults, for `model` on `dataset`.
    pub fn new(model: ModelConfig, dataset: DatasetName) -> Self {
        Self {
            model,
            dataset,
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            seed: 42,
            limit: None,
            valid_fraction: 0.1,
            num_workers: 1,
            weight_decay: 0.0,
            early_stopping: None,
            schedule: Schedule::Constant,
        }
    }

    /// Checks every value before any work starts.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        if self.epochs == 0 {
            bail!("epochs = 0: expected at least one epoch");
        }
        if self.batch_size == 0 {
            bail!("batch_size = 0: expected a positive batch size");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!(
                "lr = {}: expected a positive, finite learning rate",
                self.lr
            );
        }
        if !(0.0..1.0).contains(&self.valid_fraction) {
            bail!(
                "valid_fraction = {}: expected a fraction in [0, 1)",
                self.valid_fraction
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!(
                "weight_decay = {}: expected a finite value ≥ 0",
                self.weight_decay
            );
        }
        if self.early_stopping == Some(0) {
            bail!("early_stopping = 0: expected a patience of at least one epoch");
        }
        if self.schedule == Schedule::Cosine && self.lr > 1.0 {
            bail!(
                "lr = {}: a cosine schedule needs a learning rate ≤ 1",
                self.lr
            );
        }
        if self.limit == Some(0) {
            bail!("limit = 0: expected a positive number of training images");
        }
        Ok(())
    }

    /// Reads a config file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid training config", path.display()))
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a training config always serialises")
    }
}
