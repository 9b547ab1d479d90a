//! The run's flags, the same for every family, and what a resumed run may change.

use ae_data::Dataset;
use ae_models::Family;
use anyhow::{Result, bail};
use clap::Args;

use super::{Given, ModelOverrides, flag, set};
use crate::dataset::class_label;
use crate::run::config::{GradClip, Optimizer, Pretrain, Schedule, TrainConfig};

/// Flags of the training run itself, the same for every family.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Training")]
pub struct RunOverrides {
    /// Passes over the training data [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per step [default: 128].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate [default: 0.001].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of the initial weights and the data order [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Train on the first N training samples only.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Test on the first N test samples only (the evaluation at the end of the run,
    /// and validation when --valid-fraction is 0).
    #[arg(long, value_name = "N")]
    pub test_limit: Option<usize>,
    /// Train on the samples of these classes only (labels or class names,
    /// comma-separated): the normal classes for `anomaly` (one-class training).
    #[arg(long, value_delimiter = ',', value_name = "CLASSES")]
    pub classes: Option<Vec<String>>,
    /// Fraction of the training samples held out for validation; 0 validates on the
    /// test split [default: 0.1].
    #[arg(long)]
    pub valid_fraction: Option<f64>,
    /// Greedy layer-wise pretraining of a deep MLP before the end-to-end run: none,
    /// layerwise (1 epoch per layer pair) or layerwise:EPOCHS [default: none].
    #[arg(long)]
    pub pretrain: Option<Pretrain>,
    /// Adam's and AdamW's β₁ [default: the family's; --print-config shows it].
    #[arg(long)]
    pub beta1: Option<f64>,
    /// Weight decay: an L2 term of the gradient for adam and sgd (PyTorch's
    /// `weight_decay`), decoupled for adamw [default: 0].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Stop when the validation loss has not improved for N epochs; the artifact then
    /// keeps the weights of the epoch with the lowest validation loss.
    #[arg(long, value_name = "N")]
    pub early_stopping: Option<usize>,
    /// Learning-rate schedule: constant, cosine (to 0 over the run) or
    /// step:EPOCHS[:GAMMA] (× γ, default 0.1, every EPOCHS epochs) [default: constant].
    #[arg(long)]
    pub schedule: Option<Schedule>,
    /// Optimiser: adam, adamw (weight decay decoupled) or sgd[:MOMENTUM] (no
    /// dampening, as PyTorch's) [default: adam].
    #[arg(long, value_name = "adam|adamw|sgd[:MOMENTUM]")]
    pub optimizer: Option<Optimizer>,
    /// Gradient clipping before each update: norm:MAX (each parameter tensor's
    /// gradient scaled down to an L2 norm of MAX) or value:MAX (each component clamped
    /// into [-MAX, MAX]); none without the flag.
    #[arg(long, value_name = "norm:MAX|value:MAX")]
    pub grad_clip: Option<GradClip>,
    /// Sum the gradients of N batches into each update (as a batch N times larger,
    /// with the learning rate N times larger); the schedules count updates. Without
    /// the flag, every batch updates the weights.
    #[arg(long, value_name = "N")]
    pub grad_accumulation: Option<usize>,
    /// Raise the learning rate linearly over the first N updates (lr/N, 2·lr/N, …,
    /// lr), then follow the schedule; none without the flag.
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Threads preparing batches [default: 1].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Start from the weights of the artifact in DIR — an import of weights trained
    /// elsewhere, or an earlier run — instead of random ones, continuing its training;
    /// its config.json is the base of this run's (as with --config) unless --config is
    /// given, and its architecture must be the model's.
    #[arg(long, value_name = "DIR")]
    pub init_from: Option<std::path::PathBuf>,
}

impl RunOverrides {
    /// Applies the flags to `config`; class names are read against `data`.
    pub fn apply(&self, config: &mut TrainConfig, data: &Dataset) -> Result<()> {
        let Self {
            epochs,
            batch_size,
            lr,
            seed,
            limit,
            test_limit,
            classes,
            valid_fraction,
            pretrain,
            beta1,
            weight_decay,
            early_stopping,
            schedule,
            workers,
            init_from,
            optimizer,
            grad_clip,
            grad_accumulation,
            warmup,
        } = self;
        set(&mut config.epochs, epochs);
        set(&mut config.batch_size, batch_size);
        set(&mut config.lr, lr);
        set(&mut config.seed, seed);
        if limit.is_some() {
            config.limit = *limit;
        }
        if test_limit.is_some() {
            config.test_limit = *test_limit;
        }
        if let Some(classes) = classes {
            let labels = classes
                .iter()
                .map(|c| class_label(c, data))
                .collect::<Result<Vec<u8>>>()?;
            config.classes = Some(labels);
        }
        set(&mut config.valid_fraction, valid_fraction);
        set(&mut config.pretrain, pretrain);
        set(&mut config.beta1, beta1);
        set(&mut config.weight_decay, weight_decay);
        if early_stopping.is_some() {
            config.early_stopping = *early_stopping;
        }
        set(&mut config.schedule, schedule);
        set(&mut config.num_workers, workers);
        if init_from.is_some() {
            config.init_from.clone_from(init_from);
        }
        set(&mut config.optimizer, optimizer);
        if grad_clip.is_some() {
            config.grad_clip = *grad_clip;
        }
        if grad_accumulation.is_some() {
            config.grad_accumulation = *grad_accumulation;
        }
        if warmup.is_some() {
            config.warmup = *warmup;
        }
        Ok(())
    }
}

/// The configuration a resumed run continues with: `saved` with only `--epochs` and
/// `--workers` applied. Any other flag is refused by name: it would make the rest of
/// the run differ from its start.
pub fn resume(
    mut saved: TrainConfig,
    family: Option<Family>,
    model: &ModelOverrides,
    run: &RunOverrides,
) -> Result<TrainConfig> {
    let RunOverrides {
        epochs,
        workers,
        batch_size,
        lr,
        seed,
        limit,
        test_limit,
        classes,
        valid_fraction,
        pretrain,
        beta1,
        weight_decay,
        early_stopping,
        schedule,
        init_from,
        optimizer,
        grad_clip,
        grad_accumulation,
        warmup,
    } = run;
    let mut fixed = Vec::new();
    if family.is_some_and(|f| f != saved.model.family()) {
        fixed.push("--model".to_string());
    }
    fixed.extend(model.given());
    fixed.extend(given!(
        batch_size,
        lr,
        seed,
        limit,
        test_limit,
        classes,
        valid_fraction,
        pretrain,
        beta1,
        weight_decay,
        early_stopping,
        schedule,
        init_from,
        optimizer,
        grad_clip,
        grad_accumulation,
        warmup,
    ));
    if !fixed.is_empty() {
        bail!(
            "--resume continues the run as its config.json says: only --epochs and --workers \
             may change it; drop {}",
            fixed.join(", ")
        );
    }
    set(&mut saved.epochs, epochs);
    set(&mut saved.num_workers, workers);
    Ok(saved)
}
