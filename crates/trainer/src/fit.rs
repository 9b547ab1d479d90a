//! Training through burn's `Learner`, and everything written after it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ae_data::{Dataset, DeviceBatcher, HostBatcher, IndexDataset, Split};
use ae_models::train::{LayerwiseStage, LossTermMetric, PixelMseMetric};
use ae_models::{AnyAutoencoder, Autoencoder};
use anyhow::{Context, Result, bail};
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::Dataset as _;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::step::StepLrSchedulerConfig;
use burn::optim::AdamConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::prelude::*;
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::train::metric::store::{Aggregate, Direction, Split as MetricSplit};
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::{
    ExecutionStrategy, Learner, LearnerModel, LearnerSummary, MetricEarlyStoppingStrategy,
    MultiDeviceOptim, StoppingCondition, SupervisedTraining, TrainingStrategy,
};
use serde::Serialize;

use crate::artifact::{
    self, CONFIG_FILE, LOSS_FILE, METRICS_FILE, MODEL_FILE, RECONSTRUCTIONS_FILE, SAMPLES_FILE,
};
use crate::config::{Pretrain, Schedule, TrainConfig};
use crate::evaluate::{EvalReport, evaluate};
use crate::guard::DivergenceGuard;
use crate::image::Grid;
use crate::progress::PlainRenderer;

/// Names of the metrics every run records, as burn logs them (the learning rate in
/// training only).
const METRICS: [&str; 3] = ["Loss", PixelMseMetric::NAME, "Learning Rate"];

/// How several devices share a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Parallelism {
    /// burn's multi-device strategy: each device computes the gradients of its share
    /// of the batches; they are summed on the first device, which holds the optimiser.
    #[default]
    Multi,
    /// burn's distributed data parallel: a replica of the model per device, gradients
    /// averaged by an all-reduce after every step. Each node of a multi-machine run
    /// is launched by the user.
    Ddp,
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
}

/// Metrics of one epoch, averaged over it.
#[derive(Clone, Debug, Serialize)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training split: metric name → value.
    pub train: std::collections::BTreeMap<String, f64>,
    /// Validation split: metric name → value.
    pub valid: std::collections::BTreeMap<String, f64>,
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
    train_from(config, data, device, dir, data_path, None)
}

/// Like [`train`], but with `resume = Some(n)` it continues the run in `dir` after
/// its checkpoint of epoch `n` (model, optimiser and schedule state), keeping the
/// metric logs of epochs `1..=n` and dropping those of later, unfinished epochs. The
/// remaining epochs see the data in an order seeded by the run's seed and `n`.
pub fn train_from(
    config: &TrainConfig,
    data: &Dataset,
    device: &Device,
    dir: &Path,
    data_path: DataPath,
    resume: Option<usize>,
) -> Result<Outcome> {
    let devices = std::slice::from_ref(device);
    train_on(
        config,
        data,
        devices,
        Parallelism::Multi,
        dir,
        data_path,
        resume,
    )
}

/// Like [`train_from`], on one device or several: with more than one, each device
/// gets its share of every epoch's batches and their gradients are combined as
/// `parallelism` says; the first device runs validation (data parallelism).
pub fn train_on(
    config: &TrainConfig,
    data: &Dataset,
    devices: &[Device],
    parallelism: Parallelism,
    dir: &Path,
    data_path: DataPath,
    resume: Option<usize>,
) -> Result<Outcome> {
    let Some(device) = devices.first() else {
        bail!("no device to train on");
    };
    if devices.len() > 1 && data_path == DataPath::Device {
        bail!("--data-on-device keeps the data on one device: drop it to train on several devices");
    }
    config.validate()?;
    if let Some(done) = resume {
        for split in ["train", "valid"] {
            let Ok(entries) = std::fs::read_dir(dir.join(split)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let epoch = name.to_str().and_then(|n| n.strip_prefix("epoch-"));
                if epoch
                    .and_then(|e| e.parse::<usize>().ok())
                    .is_some_and(|e| e > done)
                {
                    std::fs::remove_dir_all(entry.path())
                        .with_context(|| format!("removing {}", entry.path().display()))?;
                }
            }
        }
    }
    let features = data.features();
    if config.model.input_size() != features {
        bail!(
            "model input_size = {} but {} has {features} features per sample",
            config.model.input_size(),
            data.spec,
        );
    }
    let (train_split, train_idx, valid_idx) = training_images(config, data)?;
    artifact::write_atomic(&dir.join(CONFIG_FILE), config.to_json().as_bytes())?;
    if let Some(standardizer) = &data.standardizer {
        let json = serde_json::to_string_pretty(standardizer).context("statistics serialise")?;
        artifact::write_atomic(&dir.join(artifact::STANDARDIZER_FILE), json.as_bytes())?;
    }
    let train_len = train_idx.len();
    let train_split = Arc::new(train_split);
    // With no held-out part, validation runs on the test split.
    let (valid_split, valid_idx) = if valid_idx.is_empty() {
        (data.test.clone(), IndexDataset::new(0, data.test.len()))
    } else {
        (train_split.clone(), valid_idx)
    };

    device.seed(config.seed);
    let ad = device.clone().autodiff();
    let model = config.model.init(&ad)?;

    let loader = |split: &Arc<Split>,
                  idx: IndexDataset,
                  shuffle: bool|
     -> Arc<dyn DataLoader<Tensor<2>>> {
        let build = |b: DataLoaderBuilder<usize, Tensor<2>>| {
            let b = b
                .batch_size(config.batch_size)
                .num_workers(config.num_workers);
            let seed = config.seed.wrapping_add(resume.unwrap_or(0) as u64);
            let b = if shuffle { b.shuffle(seed) } else { b };
            b.set_device(ad.clone()).build(idx)
        };
        match data_path {
            DataPath::Host => build(DataLoaderBuilder::new(HostBatcher::new(split.clone()))),
            DataPath::Device => build(DataLoaderBuilder::new(DeviceBatcher::new(split, device))),
        }
    };
    let train_loader = loader(&train_split, train_idx, true);
    let valid_loader = loader(&valid_split, valid_idx, false);

    let (model, pretrained) = pretrain(config, model, &train_loader, &valid_loader, dir)?;
    let pretrain_report = pretrained.map(|stages| {
        let test = evaluate(
            &model.valid(),
            &data.test,
            "test",
            config.batch_size,
            device,
        );
        serde_json::json!({ "stages": stages, "test": test })
    });

    let terms = config.model.loss_terms();
    let mut training = SupervisedTraining::new(dir, train_loader, valid_loader)
        .metrics((LossMetric::new(), PixelMseMetric::new()));
    // Each term separately, when the loss has more than one.
    if terms.len() > 1 {
        for term in &terms {
            let metric = LossTermMetric::new(term);
            training = training
                .metric_train_numeric(metric.clone())
                .metric_valid_numeric(metric);
        }
    }
    let mut training = training
        .metric_train_numeric(LearningRateMetric::new())
        .with_default_checkpointers()
        .num_epochs(config.epochs)
        .summary();
    training = with_renderer(training);
    if devices.len() > 1 {
        let devices: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
        let strategy = match parallelism {
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
    let guard = DivergenceGuard::new(training.interrupter(), resume.unwrap_or(0) + 1);
    training = training.metric_train(guard);
    if let Some(done) = resume {
        training = training.checkpoint(done);
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
    let mut optim = adam().with_beta_1(config.beta1 as f32);
    if config.weight_decay > 0.0 {
        optim = optim.with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay as f32)));
    }
    let learner = match config.schedule {
        Schedule::Constant => Learner::new(model, optim.init(), config.lr),
        Schedule::Cosine => {
            let steps = config.epochs * train_len.div_ceil(config.batch_size);
            let scheduler = CosineAnnealingLrSchedulerConfig::new(config.lr, steps.max(1))
                .init()
                .map_err(|e| anyhow::anyhow!("cosine schedule: {e}"))?;
            Learner::new(model, optim.init(), scheduler)
        }
        Schedule::Step { every, gamma } => {
            let steps = every * train_len.div_ceil(config.batch_size);
            let scheduler = StepLrSchedulerConfig::new(config.lr, steps.max(1))
                .with_gamma(gamma)
                .init()
                .map_err(|e| anyhow::anyhow!("step schedule: {e}"))?;
            Learner::new(model, optim.init(), scheduler)
        }
    };
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
    let model: AnyAutoencoder = result.model;

    model
        .clone()
        .into_record()
        .save(dir.join(MODEL_FILE))
        .map_err(|e| anyhow::anyhow!("saving {}: {e:?}", dir.join(MODEL_FILE).display()))?;
    let test = evaluate(&model, &data.test, "test", config.batch_size, device);
    let mut names: Vec<&str> = METRICS.to_vec();
    if terms.len() > 1 {
        names.extend(&terms);
    }
    let history = read_history(dir, &names)?;
    let mut metrics = serde_json::json!({ "epochs": history, "test": test });
    if let Some(report) = pretrain_report {
        metrics["pretrain"] = report;
    }
    let json = serde_json::to_string_pretty(&metrics).context("metrics serialise")?;
    artifact::write_atomic(&dir.join(METRICS_FILE), json.as_bytes())?;
    if let Some(shape) = data.image_shape() {
        reconstruction_grid(&model, &data.test, shape, device)
            .save_png(&dir.join(RECONSTRUCTIONS_FILE))?;
        if let Some(grid) = sample_grid(&model, shape, device) {
            grid.save_png(&dir.join(SAMPLES_FILE))?;
        }
    }
    let title = format!("{} on {}", config.model.kind(), data.spec.short_name());
    crate::maps::loss_curves(&history, &title).save_png(&dir.join(LOSS_FILE), 640, 400)?;
    Ok(Outcome {
        dir: dir.to_path_buf(),
        test,
        history,
    })
}

/// burn's dashboard in a terminal, else a line per quarter epoch.
fn with_renderer<M: LearnerModel>(training: SupervisedTraining<M>) -> SupervisedTraining<M> {
    if cfg!(feature = "tui") && std::io::stdout().is_terminal() {
        training
    } else {
        training.renderer(Box::new(PlainRenderer::new()))
    }
}

/// Greedy layer-wise pretraining, when configured: each layer pair of the MLP, from
/// the outside in, trained through burn's `Learner` as a shallow autoencoder, logged
/// under `dir/pretrain/layer-<i>/`. Returns the pretrained model and each stage's
/// per-epoch metrics.
fn pretrain(
    config: &TrainConfig,
    model: AnyAutoencoder,
    train_loader: &Arc<dyn DataLoader<Tensor<2>>>,
    valid_loader: &Arc<dyn DataLoader<Tensor<2>>>,
    dir: &Path,
) -> Result<(AnyAutoencoder, Option<Vec<serde_json::Value>>)> {
    let Pretrain::Layerwise { epochs } = config.pretrain else {
        return Ok((model, None));
    };
    let AnyAutoencoder::Mlp(mut mlp) = model else {
        bail!("layer-wise pretraining needs an MLP autoencoder");
    };
    let mut stages = Vec::new();
    for layer in 0..mlp.depth() {
        println!("pretraining layer pair {}/{}", layer + 1, mlp.depth());
        let stage_dir = dir.join("pretrain").join(format!("layer-{layer}"));
        let training =
            SupervisedTraining::new(&stage_dir, train_loader.clone(), valid_loader.clone())
                .metrics((LossMetric::new(), PixelMseMetric::new()))
                .num_epochs(epochs);
        let stage = LayerwiseStage {
            autoencoder: mlp,
            layer,
        };
        let optim = adam().with_beta_1(config.beta1 as f32).init();
        let result = with_renderer(training).launch(Learner::new(stage, optim, config.lr));
        if let Some(error) = result.error {
            bail!("pretraining layer pair {layer} stopped: {error}");
        }
        if let Some(stop) = result.interrupted {
            bail!("pretraining was interrupted: {stop:?}");
        }
        mlp = result.model.train().autoencoder;
        let history = read_history(&stage_dir, &["Loss", PixelMseMetric::NAME])?;
        stages.push(serde_json::json!({ "layer": layer, "epochs": history }));
    }
    Ok((AnyAutoencoder::Mlp(mlp), Some(stages)))
}

/// Per-epoch means of the recorded metrics, from the Learner's logs.
fn read_history(dir: &Path, names: &[&str]) -> Result<Vec<EpochMetrics>> {
    let summary =
        LearnerSummary::new(dir, names).map_err(|e| anyhow::anyhow!("reading metrics: {e}"))?;
    let mut epochs: Vec<EpochMetrics> = (1..=summary.epochs)
        .map(|epoch| EpochMetrics {
            epoch,
            train: Default::default(),
            valid: Default::default(),
        })
        .collect();
    let splits = [
        (&summary.metrics.train, true),
        (&summary.metrics.valid, false),
    ];
    for (metrics, is_train) in splits {
        for metric in metrics {
            for entry in &metric.entries {
                if let Some(e) = epochs.get_mut(entry.step.wrapping_sub(1)) {
                    let map = if is_train { &mut e.train } else { &mut e.valid };
                    map.insert(metric.name.clone(), entry.value);
                }
            }
        }
    }
    Ok(epochs)
}

/// The first 16 images of `split` above their reconstructions.
pub fn reconstruction_grid<M: Autoencoder>(
    model: &M,
    split: &Split,
    shape: [usize; 2],
    device: &Device,
) -> Grid {
    let indices: Vec<usize> = (0..split.len().min(16)).collect();
    let x = HostBatcher::new(Arc::new(split.clone())).images(&indices, device);
    let recon = model.forward(x.clone()).reconstruction;
    let rows = [x, recon]
        .into_iter()
        .map(|t| {
            let size = shape[0] * shape[1];
            let values = t.into_data().try_into_vec::<f32>().unwrap_or_default();
            values.chunks(size).map(<[f32]>::to_vec).collect()
        })
        .collect();
    Grid {
        height: shape[0],
        width: shape[1],
        rows,
    }
}

/// An 8 × 8 grid of images decoded from the prior, for the generative families.
pub fn sample_grid(model: &AnyAutoencoder, shape: [usize; 2], device: &Device) -> Option<Grid> {
    let size = shape[0] * shape[1];
    let values = model
        .sample(64, device)?
        .into_data()
        .try_into_vec::<f32>()
        .ok()?;
    let images: Vec<Vec<f32>> = values.chunks(size).map(<[f32]>::to_vec).collect();
    Some(Grid {
        height: shape[0],
        width: shape[1],
        rows: images.chunks(8).map(<[Vec<f32>]>::to_vec).collect(),
    })
}

/// Adam with PyTorch's defaults (β = 0.9, 0.999; ε = 1e-8), so that runs compare
/// one to one with PyTorch references (burn's own default ε is 1e-5).
pub fn adam() -> AdamConfig {
    AdamConfig::new().with_epsilon(1e-8)
}
/// The images a run trains on — the training split, kept to `config.classes` and cut to
/// `config.limit` — and the indices of its training and held-out validation parts.
pub fn training_images(
    config: &TrainConfig,
    data: &Dataset,
) -> Result<(Split, IndexDataset, IndexDataset)> {
    let mut images = match &config.classes {
        Some(labels) => data.train.with_labels(labels),
        None => Split::clone(&data.train),
    };
    if images.is_empty() {
        bail!(
            "classes = {:?}: no {} training image has one of these labels",
            config.classes.as_deref().unwrap_or_default(),
            data.spec
        );
    }
    if let Some(limit) = config.limit {
        images.truncate(limit);
    }
    let (train, valid) = IndexDataset::split(images.len(), config.valid_fraction);
    if train.is_empty() {
        bail!("no training images left after --limit and --valid-fraction");
    }
    Ok((images, train, valid))
}
