//! Training through burn's `Learner`, in four phases: [`prepare`] the artifact folder
//! and the data loaders, build the [`learner`], [`launch`] it and read what it ended
//! with, [`finish`] by writing the model, its pictures and, last, its metrics.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ae_data::{Dataset, DeviceBatcher, HostBatcher, IndexDataset, Split};
use ae_models::train::{Batch, LossTermMetric, PixelMseMetric};
use ae_models::{AnyAutoencoder, Autoencoder};
use anyhow::{Context, Result, bail};
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::Dataset as _;
use burn::lr_scheduler::LrSchedulerConfig;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use burn::lr_scheduler::step::StepLrSchedulerConfig;
use burn::prelude::*;
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::train::logger::FileMetricLogger;
use burn::train::metric::store::{Aggregate, Direction, Split as MetricSplit};
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::{
    ExecutionStrategy, Learner, MetricEarlyStoppingStrategy, MultiDeviceOptim, StoppingCondition,
    SupervisedTraining, TrainingStrategy,
};

use crate::applications::evaluate::{EvalReport, evaluate};
use crate::artifact::{
    self, CONFIG_FILE, LOSS_FILE, METRICS_FILE, MODEL_FILE, PRETRAIN_FILE, RECONSTRUCTIONS_FILE,
    SAMPLES_FILE,
};
use crate::dataset::{Labelled, training_samples};
use crate::device::Parallelism;
use crate::drawing::image::Grid;
use crate::run::config::{Schedule, TrainConfig};
use crate::run::guard::DivergenceGuard;
use crate::run::history::{EpochMetrics, read_history};
use crate::run::live_log::LiveLogger;
use crate::run::pretrain;
use crate::run::progress::with_renderer;

/// Names of the metrics every run records, as burn logs them (the learning rate in
/// training only).
const METRICS: [&str; 3] = ["Loss", PixelMseMetric::NAME, "Learning Rate"];

/// Training samples a family that starts from the data sees (see [`prepare`]).
const INIT_SAMPLES: usize = 10_000;

/// The loss terms logged each on its own (when the loss has more than one), then the
/// values the model measures beside its loss.
fn logged_terms(config: &TrainConfig) -> Vec<&'static str> {
    let mut names = config.model.loss_terms();
    if names.len() < 2 {
        names.clear();
    }
    names.extend(config.model.measures());
    names
}

/// Where the batches come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataPath {
    /// Converted on the host per batch.
    Host,
    /// Uploaded once, gathered on the device.
    Device,
}

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    /// The artifact folder.
    pub dir: PathBuf,
    /// Quality on the test split at the end of training.
    pub test: EvalReport,
    /// Metrics of every epoch.
    pub history: Vec<EpochMetrics>,
    /// With early stopping, the epoch whose weights the artifact keeps: the one of the
    /// lowest validation loss.
    pub best_epoch: Option<usize>,
}

/// A training run: what to train, on what, where, and from which epoch.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    /// The configuration (validated again before any work).
    pub config: &'a TrainConfig,
    /// The data set.
    pub data: &'a Dataset,
    /// The devices: with more than one, each gets its share of every epoch's batches
    /// and their gradients combine as `parallelism` says; the first runs validation.
    pub devices: &'a [Device],
    /// How several devices combine their gradients.
    pub parallelism: Parallelism,
    /// Where batches are made.
    pub data_path: DataPath,
    /// The artifact folder, prepared empty by the caller (or the run's own, to resume).
    pub dir: &'a Path,
    /// `Some(n)`: continue after the checkpoint of epoch `n` (model, optimiser and
    /// schedule state), keeping the metric logs of epochs `1..=n` and dropping those
    /// of later, unfinished epochs; the remaining epochs see the data in an order
    /// seeded by the run's seed and `n`.
    pub resume: Option<usize>,
}

/// Trains `config` on `data` on `device`, writing the artifact into `dir` (which the
/// caller has prepared empty).
pub fn train(
    config: &TrainConfig,
    data: &Dataset,
    device: &Device,
    dir: &Path,
    data_path: DataPath,
) -> Result<Outcome> {
    Run {
        config,
        data,
        devices: std::slice::from_ref(device),
        parallelism: Parallelism::Multi,
        data_path,
        dir,
        resume: None,
    }
    .train()
}

/// A data loader of tensors.
type Loader = Arc<dyn DataLoader<Batch>>;

/// What [`prepare`] hands the next phases.
struct Prepared {
    model: AnyAutoencoder,
    train: Loader,
    valid: Loader,
    /// Training samples per epoch.
    train_len: usize,
}

impl Run<'_> {
    /// Runs the four phases and returns the outcome.
    pub fn train(&self) -> Result<Outcome> {
        let prepared = prepare(self)?;
        let (model, stages) = pretrain::layerwise(
            self.config,
            prepared.model,
            &prepared.train,
            &prepared.valid,
            self.dir,
        )?;
        if let Some(stages) = stages {
            let device = &self.devices[0];
            let test = evaluate(
                &model.valid(),
                &self.data.test,
                "test",
                self.config.batch_size,
                device,
            );
            let report = serde_json::json!({ "stages": stages, "test": test });
            let json = serde_json::to_string_pretty(&report).context("metrics serialise")?;
            artifact::write_atomic(&self.dir.join(PRETRAIN_FILE), json.as_bytes())?;
        }
        let prepared = Prepared { model, ..prepared };
        let (training, learner) = learner(self, prepared)?;
        let model = launch(training, learner, self.dir)?;
        finish(self, model)
    }

    /// Completes a run whose training ended but whose files were not all written (it
    /// was killed in the end phase): `model` is its final model, read back from
    /// `model.bpk` or from the checkpoint of its last epoch. Nothing is trained.
    pub fn complete(&self, model: AnyAutoencoder) -> Result<Outcome> {
        finish(self, model)
    }
}

/// Checks the run, clears what an interrupted attempt left after the resumed epoch,
/// writes the config (and a table's standardisation), builds the model and the data
/// loaders.
fn prepare(run: &Run<'_>) -> Result<Prepared> {
    let (config, data, dir) = (run.config, run.data, run.dir);
    let Some(device) = run.devices.first() else {
        bail!("no device to train on");
    };
    if run.devices.len() > 1 && run.data_path == DataPath::Device {
        bail!("--data-on-device keeps the data on one device: drop it to train on several devices");
    }
    if run.data_path == DataPath::Device && data.train.is_stored() {
        bail!(
            "--data-on-device: the training images ({} MiB) are larger than ${} allows in \
             memory and stay on disk; drop the flag, or raise the limit",
            (data.train.len() * data.features()) >> 20,
            ae_data::IMAGE_MEMORY_ENV
        );
    }
    config.validate()?;
    if let Some(done) = run.resume {
        artifact::drop_epochs_after(dir, done)?;
    }
    if config.model.input_size() != data.features() {
        bail!(
            "model input_size = {} but {} has {} features per sample",
            config.model.input_size(),
            data.spec,
            data.features()
        );
    }
    // The model first: weights that do not fit (--init-from) stop the run before it
    // writes anything.
    device.seed(config.seed);
    let ad = device.clone().autodiff();
    let model = match &config.init_from {
        Some(from) => ae_infer::load_weights(&config.model, &from.join(MODEL_FILE), &ad)
            .with_context(|| format!("--init-from {}", from.display()))?,
        None => config.model.init(&ad)?,
    };
    let (samples, train_idx, valid_idx) = training_samples(config, data)?;
    // A family that starts from the data (a TopK SAE's input bias at the data's mean)
    // sees the first training samples; weights given by --init-from are kept.
    let model = if config.init_from.is_none() && model.initialises_from_data() {
        let idx: Vec<usize> = (0..train_idx.len().min(INIT_SAMPLES))
            .filter_map(|i| train_idx.get(i).ok())
            .collect();
        model.initialised_from(samples.tensor(&idx, &ad))
    } else {
        model
    };
    artifact::write_atomic(&dir.join(CONFIG_FILE), config.to_json().as_bytes())?;
    if let Some(standardizer) = &data.standardizer {
        let json = serde_json::to_string_pretty(standardizer).context("statistics serialise")?;
        artifact::write_atomic(&dir.join(artifact::STANDARDIZER_FILE), json.as_bytes())?;
    }
    let train_len = train_idx.len();
    // With no held-out part, validation runs on the test split.
    let (valid_split, valid_idx) = if valid_idx.is_empty() {
        (data.test.clone(), IndexDataset::new(0, data.test.len()))
    } else {
        (samples.clone(), valid_idx)
    };
    let loader = |split: Arc<Split>, idx: IndexDataset, shuffle: bool| -> Loader {
        let build = |b: DataLoaderBuilder<usize, Batch>| {
            let b = b
                .batch_size(config.batch_size)
                .num_workers(config.num_workers);
            let seed = config.seed.wrapping_add(run.resume.unwrap_or(0) as u64);
            let b = if shuffle { b.shuffle(seed) } else { b };
            b.set_device(ad.clone()).build(idx)
        };
        match run.data_path {
            DataPath::Host => build(DataLoaderBuilder::new(Labelled::new(
                HostBatcher::new(split.clone()),
                &split,
            ))),
            DataPath::Device => build(DataLoaderBuilder::new(Labelled::new(
                DeviceBatcher::new(&split, device),
                &split,
            ))),
        }
    };
    Ok(Prepared {
        model,
        train: loader(samples, train_idx, true),
        valid: loader(valid_split, valid_idx, false),
        train_len,
    })
}

/// burn's `SupervisedTraining` with the run's metrics, checkpoints, devices, guard
/// and early stopping, and the `Learner` with its optimiser and schedule.
fn learner(
    run: &Run<'_>,
    prepared: Prepared,
) -> Result<(SupervisedTraining<AnyAutoencoder>, Learner<AnyAutoencoder>)> {
    let config = run.config;
    // burn's own logs first (resume and the history read them), then the live lines.
    let mut training = SupervisedTraining::new(run.dir, prepared.train, prepared.valid)
        .with_metric_logger(FileMetricLogger::new(run.dir))
        .with_metric_logger(LiveLogger::new(run.dir))
        .metrics((LossMetric::new(), PixelMseMetric::new()));
    for term in logged_terms(config) {
        let metric = LossTermMetric::new(term);
        training = training
            .metric_train_numeric(metric.clone())
            .metric_valid_numeric(metric);
    }
    let mut training = with_renderer(
        training
            .metric_train_numeric(LearningRateMetric::new())
            .with_default_checkpointers()
            .num_epochs(config.epochs)
            .summary(),
    );
    if run.devices.len() > 1 {
        let devices: Vec<Device> = run.devices.iter().map(|d| d.clone().autodiff()).collect();
        let strategy = match run.parallelism {
            Parallelism::Multi => {
                ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice)
            }
            Parallelism::Ddp => ExecutionStrategy::ddp(
                devices,
                DistributedConfig {
                    all_reduce_op: ReduceOperation::Mean,
                },
            ),
        };
        training = training.with_training_strategy(TrainingStrategy::Default(strategy));
    }
    let guard = DivergenceGuard::new(training.interrupter(), run.resume.unwrap_or(0) + 1);
    training = training.metric_train(guard);
    if let Some(done) = run.resume {
        training = training.checkpoint(done);
    }
    if let Some(batches) = config.grad_accumulation {
        training = training.grads_accumulation(batches);
    }
    if let Some(patience) = config.early_stopping {
        training = training.early_stopping(MetricEarlyStoppingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Lowest,
            MetricSplit::Valid,
            StoppingCondition::NoImprovementSince { n_epochs: patience },
        ));
    }
    let (model, optim) = (prepared.model, config.optimizer());
    let steps_per_epoch = config.updates_per_epoch(prepared.train_len.div_ceil(config.batch_size));
    let scheduler = schedule(config, steps_per_epoch)
        .map_err(|e| anyhow::anyhow!("learning-rate schedule: {e}"))?;
    let learner = Learner::new(model, optim, scheduler);
    Ok((training, learner))
}

/// The learning rate of each update of a run of `per_epoch` updates an epoch: the
/// schedule, after a linear warm-up when there is one (the schedule then counts the
/// updates after it).
fn schedule(config: &TrainConfig, per_epoch: usize) -> Result<ModuleLrScheduler, String> {
    let (lr, updates) = (config.lr, config.epochs * per_epoch);
    let warmup = config.warmup.unwrap_or(0).min(updates);
    let main = match config.schedule {
        Schedule::Constant => LrSchedulerConfig::Constant(lr),
        Schedule::Cosine => LrSchedulerConfig::Cosine(CosineAnnealingLrSchedulerConfig::new(
            lr,
            (updates - warmup).max(1),
        )),
        Schedule::Step { every, gamma } => LrSchedulerConfig::Step(
            StepLrSchedulerConfig::new(lr, (every * per_epoch).max(1)).with_gamma(gamma),
        ),
    };
    if warmup < 2 {
        return SequentialLrSchedulerConfig::new(vec![main], Vec::new()).init();
    }
    let rise = LinearLrSchedulerConfig::new(lr / warmup as f64, lr, warmup - 1);
    SequentialLrSchedulerConfig::new(vec![LrSchedulerConfig::Linear(rise), main], vec![warmup])
        .init()
}

/// Trains, and turns an error, a divergence or an interruption into an error that
/// says what is left on disk.
fn launch(
    training: SupervisedTraining<AnyAutoencoder>,
    learner: Learner<AnyAutoencoder>,
    dir: &Path,
) -> Result<AnyAutoencoder> {
    let result = training.launch(learner);
    if let Some(error) = result.error {
        bail!("training stopped: {error}");
    }
    if let Some(stop) = result.interrupted {
        let reason = stop.reason.unwrap_or_default();
        if reason.starts_with(DivergenceGuard::REASON) {
            let kept = match artifact::last_complete_checkpoint(dir) {
                Some(n) => format!(
                    "the checkpoint of epoch {n} in {} is intact",
                    dir.join(artifact::CHECKPOINT_DIR).display()
                ),
                None => "no epoch had completed, so there is no checkpoint".to_string(),
            };
            bail!(
                "{reason}; training stopped and no final model was written ({kept}); try a lower --lr"
            );
        }
        bail!("training was interrupted: {reason}");
    }
    Ok(result.model)
}

/// Writes the final weights as soon as training ends, then the pictures, then the
/// metrics of every epoch with the test report, last: a folder with
/// [`METRICS_FILE`] is a finished run.
fn finish(run: &Run<'_>, model: AnyAutoencoder) -> Result<Outcome> {
    let (config, data, dir) = (run.config, run.data, run.dir);
    let device = &run.devices[0];
    let terms = config.model.loss_terms();
    let mut names: Vec<&str> = METRICS.to_vec();
    names.extend(logged_terms(config));
    let history = read_history(dir, &names)?;
    let best_epoch = config.early_stopping.and(best_epoch(&history));
    let weights = dir.join(MODEL_FILE);
    let model = if weights.is_file() {
        model
    } else {
        let model = match best_epoch {
            Some(best) if best < history.len() => {
                let checkpoint = dir
                    .join(artifact::CHECKPOINT_DIR)
                    .join(format!("model-{best}.bpk"));
                ae_infer::load_weights(&config.model, &checkpoint, device)
                    .with_context(|| format!("the weights of epoch {best}, the best"))?
            }
            _ => model,
        };
        crate::artifact::save_model(&model, &weights)?;
        model
    };
    let mut test = evaluate(&model, &data.test, "test", config.batch_size, device);
    test.class_accuracy = crate::applications::evaluate::class_accuracy(&model, &data.test, device);
    if let Some(shape) = data.image_shape() {
        reconstruction_grid(&model, &data.test, shape, device)
            .save_png(&dir.join(RECONSTRUCTIONS_FILE))?;
        if let Some(grid) = sample_grid(&model, shape, device) {
            grid.save_png(&dir.join(SAMPLES_FILE))?;
        }
    }
    let title = format!("{} on {}", config.model.family(), data.spec.short_name());
    crate::drawing::maps::loss_curves(&history, &title, &terms).save_png(
        &dir.join(LOSS_FILE),
        720,
        400,
    )?;
    let mut metrics = serde_json::json!({ "epochs": history, "test": test });
    if let Some(best) = best_epoch {
        metrics["best_epoch"] = best.into();
    }
    let pretrain = dir.join(PRETRAIN_FILE);
    if pretrain.is_file() {
        let text = std::fs::read_to_string(&pretrain)
            .with_context(|| format!("reading {}", pretrain.display()))?;
        metrics["pretrain"] = serde_json::from_str(&text)
            .with_context(|| format!("{}: not the pretraining report", pretrain.display()))?;
    }
    let json = serde_json::to_string_pretty(&metrics).context("metrics serialise")?;
    artifact::write_atomic(&dir.join(METRICS_FILE), json.as_bytes())?;
    Ok(Outcome {
        dir: dir.to_path_buf(),
        test,
        history,
        best_epoch,
    })
}

/// The epoch of the lowest validation loss (the first of equals), 1-based; `None`
/// without validation losses.
pub fn best_epoch(history: &[EpochMetrics]) -> Option<usize> {
    history
        .iter()
        .filter_map(|m| Some((m.epoch, *m.valid.get("Loss")?)))
        .filter(|(_, loss)| loss.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(epoch, _)| epoch)
}

/// The first 16 images of `split` above their reconstructions.
pub fn reconstruction_grid<M: Autoencoder>(
    model: &M,
    split: &Split,
    shape: [usize; 3],
    device: &Device,
) -> Grid {
    let indices: Vec<usize> = (0..split.len().min(16)).collect();
    let x = split.tensor(&indices, device);
    let recon = model.forward(x.clone()).reconstruction;
    let rows = [x, recon]
        .into_iter()
        .map(|t| {
            let size = shape.iter().product::<usize>().max(1);
            let values = t.into_data().try_into_vec::<f32>().unwrap_or_default();
            values.chunks(size).map(<[f32]>::to_vec).collect()
        })
        .collect();
    Grid { shape, rows }
}

/// An 8 × 8 grid of images decoded from the prior, for the generative families.
pub fn sample_grid(model: &AnyAutoencoder, shape: [usize; 3], device: &Device) -> Option<Grid> {
    let values = model
        .sample(64, device)?
        .into_data()
        .try_into_vec::<f32>()
        .ok()?;
    Some(Grid::of(shape, &values, 8))
}
