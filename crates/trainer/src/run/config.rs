//! The configuration of a training run, saved as `config.json` in its artifact.

use ae_data::DataSpec;
use ae_models::{Family, InputShape, ModelConfig};
use anyhow::{Context, Result, bail};
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

/// Everything that defines a training run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model and its architecture.
    pub model: ModelConfig,
    /// The data set.
    pub dataset: DataSpec,
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
    /// Test on the first N test samples only: the evaluation at the end of the run,
    /// and validation where it runs on the test split (all of them when `None`).
    #[serde(default)]
    pub test_limit: Option<usize>,
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
    /// Adam's β₁ (momentum): the family's default ([`Family::default_beta1`]: PyTorch's
    /// 0.9, or 0.5 for adversarial training).
    ///
    /// [`Family::default_beta1`]: ae_models::Family::default_beta1
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    /// Pretraining before the end-to-end run.
    #[serde(default)]
    pub pretrain: Pretrain,
    /// Train (and validate) on the images of these labels only: the normal classes of
    /// one-class anomaly detection. `None`: every image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<u8>>,
    /// The artifact whose weights the run starts from (`None`: random weights, from
    /// the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<std::path::PathBuf>,
    /// The optimiser.
    #[serde(default)]
    pub optimizer: Optimizer,
    /// Gradient clipping before each update (`None`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_clip: Option<GradClip>,
    /// The gradients of this many batches are summed into each update (`None`: every
    /// batch updates the weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_accumulation: Option<usize>,
    /// Updates over which the learning rate rises linearly to its value before the
    /// schedule starts (`None`: no warm-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<usize>,
}

/// Pretraining before the end-to-end run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pretrain {
    /// None: train end to end from the initial weights.
    #[default]
    None,
    /// Greedy layer-wise pretraining of a deep MLP autoencoder: each layer pair, from
    /// the outside in, trained as a shallow autoencoder on the codes of the pairs
    /// before it, for `epochs` epochs each; then the end-to-end run fine-tunes.
    Layerwise {
        /// Epochs per layer pair.
        epochs: usize,
    },
}

impl std::str::FromStr for Pretrain {
    type Err = String;

    /// Parses `none`, `layerwise` (one epoch per layer pair) or `layerwise:EPOCHS`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "none" => Ok(Self::None),
            None if s == "layerwise" => Ok(Self::Layerwise { epochs: 1 }),
            Some(("layerwise", n)) => n
                .parse()
                .map(|epochs| Self::Layerwise { epochs })
                .map_err(|_| format!("pretrain '{s}': '{n}' is not a number of epochs")),
            _ => Err(format!(
                "unknown pretraining '{s}': expected none, layerwise or layerwise:EPOCHS"
            )),
        }
    }
}

/// β₁ of a config written before the field existed: PyTorch's.
fn default_beta1() -> f64 {
    0.9
}

pub use crate::run::optimizer::{GradClip, Optimizer, pytorch_adam};

/// A learning-rate schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Cosine annealing from `lr` to 0 over the whole run.
    Cosine,
    /// The rate times `gamma` every `every` epochs (PyTorch's `StepLR`).
    Step {
        /// Epochs between two decays.
        every: usize,
        /// Factor applied at each decay.
        gamma: f64,
    },
}

impl std::str::FromStr for Schedule {
    type Err = String;

    /// Parses `constant`, `cosine` or `step:EPOCHS[:GAMMA]` (γ defaults to 0.1).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let schedule = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("constant"), None, ..) => Self::Constant,
            (Some("cosine"), None, ..) => Self::Cosine,
            (Some("step"), Some(every), gamma, None) => Self::Step {
                every: every
                    .parse()
                    .map_err(|_| format!("step schedule: '{every}' is not a number of epochs"))?,
                gamma: gamma.map_or(Ok(0.1), |g| {
                    g.parse()
                        .map_err(|_| format!("step schedule: γ '{g}' is not a number"))
                })?,
            },
            _ => {
                return Err(format!(
                    "unknown schedule '{s}': expected constant, cosine or step:EPOCHS[:GAMMA]"
                ));
            }
        };
        Ok(schedule)
    }
}

impl TrainConfig {
    /// The defaults, for `model` on `dataset`.
    pub fn new(model: ModelConfig, dataset: DataSpec) -> Self {
        let beta1 = model.family().default_beta1();
        Self {
            model,
            dataset,
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            seed: 42,
            limit: None,
            test_limit: None,
            valid_fraction: 0.1,
            num_workers: 1,
            weight_decay: 0.0,
            early_stopping: None,
            schedule: Schedule::Constant,
            beta1,
            pretrain: Pretrain::None,
            classes: None,
            init_from: None,
            optimizer: Optimizer::Adam,
            grad_clip: None,
            grad_accumulation: None,
            warmup: None,
        }
    }

    /// Checks every value before any work starts.
    pub fn validate(&self) -> Result<()> {
        if let DataSpec::Table(table) = &self.dataset {
            table.validate()?;
            takes_rows(self.model.family(), table)?;
        }
        if let DataSpec::Folder(folder) = &self.dataset {
            folder.validate()?;
        }
        self.model.validate()?;
        if self.epochs == 0 {
            bail!("epochs = 0: expected at least one epoch");
        }
        if let Some(dir) = &self.init_from
            && self.pretrain != Pretrain::None
        {
            bail!(
                "--init-from {}: starts from trained weights, which layer-wise pretraining \
                 would replace; drop --pretrain",
                dir.display()
            );
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
        if !(0.0..1.0).contains(&self.beta1) {
            bail!("beta1 = {}: expected Adam's β₁ in [0, 1)", self.beta1);
        }
        if let Pretrain::Layerwise { epochs } = self.pretrain {
            if !self.model.is_stacked() {
                bail!(
                    "pretrain = layerwise needs a stacked autoencoder, a deep MLP autoencoder \
                     with --hidden layers; this {} model is not one",
                    self.model.family()
                );
            }
            if epochs == 0 {
                bail!("pretrain = layerwise:0: expected at least one epoch per layer");
            }
        }
        self.validate_gradients()?;
        if self.early_stopping == Some(0) {
            bail!("early_stopping = 0: expected a patience of at least one epoch");
        }
        if let Schedule::Step { every, gamma } = self.schedule
            && (every == 0 || !(gamma > 0.0 && gamma <= 1.0))
        {
            bail!(
                "schedule = step:{every}:{gamma}: expected at least one epoch between decays \
                 and a factor γ in (0, 1]"
            );
        }
        if self.schedule == Schedule::Cosine && self.lr > 1.0 {
            bail!(
                "lr = {}: a cosine schedule needs a learning rate ≤ 1",
                self.lr
            );
        }
        if self.classes.as_ref().is_some_and(Vec::is_empty) {
            bail!("classes = []: expected at least one label to train on");
        }
        if self.limit == Some(0) {
            bail!("limit = 0: expected a positive number of training images");
        }
        if self.test_limit == Some(0) {
            bail!("test_limit = 0: expected a positive number of test samples");
        }
        Ok(())
    }

    /// Checks the optimiser, the clipping bound and the accumulation.
    fn validate_gradients(&self) -> Result<()> {
        self.optimizer.validate().map_err(anyhow::Error::msg)?;
        if let Some(clip) = self.grad_clip
            && !(clip.bound().is_finite() && clip.bound() > 0.0)
        {
            bail!(
                "grad_clip = {}: expected a positive, finite bound",
                clip.bound()
            );
        }
        if self.grad_accumulation == Some(0) {
            bail!("grad_accumulation = 0: expected at least one batch per update");
        }
        if self.warmup == Some(0) {
            bail!("warmup = 0: expected at least one update of warm-up (or no --warmup)");
        }
        if self.warmup.is_some() && self.lr > 1.0 {
            bail!("lr = {}: a warm-up needs a learning rate ≤ 1", self.lr);
        }
        Ok(())
    }

    /// Optimiser steps per epoch of `batches` batches: one per batch, or one per
    /// `grad_accumulation` batches (the last may take fewer).
    pub fn updates_per_epoch(&self, batches: usize) -> usize {
        batches.div_ceil(self.grad_accumulation.unwrap_or(1))
    }

    /// Reads a config file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid training config", path.display()))
    }

    /// The run's optimiser with its β₁, weight decay and gradient clipping, and
    /// PyTorch's defaults otherwise (β₂ = 0.999, ε = 1e-8, so that runs compare one to
    /// one with PyTorch references; burn's own ε is 1e-5).
    pub fn optimizer(&self) -> ModuleOptimizer {
        self.optimizer.build(crate::run::optimizer::Settings {
            beta1: self.beta1,
            weight_decay: self.weight_decay,
            clip: self.grad_clip,
        })
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a training config always serialises")
    }
}
/// Refuses a family that cannot take the samples `table` makes: windows of a series,
/// or plain rows.
fn takes_rows(family: Family, table: &ae_data::TableSpec) -> Result<()> {
    let samples = match table.window {
        Some(w) => InputShape::Sequence {
            steps: w.size,
            channels: 1,
        },
        None => InputShape::Vector { features: 1 },
    };
    if !family.accepts(samples) {
        let hint = if family.is_sequential() {
            " (--window SIZE cuts a series' rows into them)"
        } else {
            ""
        };
        let takes = family.reads();
        bail!(
            "--model {family} {takes}; {table} is a table{hint}: use {}",
            Family::listed(|f| f.accepts(samples))
        );
    }
    Ok(())
}
