//! Greedy layer-wise pretraining of a stacked (deep MLP) autoencoder before its
//! end-to-end run (Bengio et al., 2007).

use std::path::Path;
use std::sync::Arc;

use ae_models::AnyAutoencoder;
use ae_models::train::{Batch, LayerwiseStage, PixelMseMetric};
use anyhow::{Result, bail};
use burn::data::dataloader::DataLoader;
use burn::prelude::*;
use burn::train::metric::LossMetric;
use burn::train::{Learner, SupervisedTraining};

use crate::run::config::{Pretrain, TrainConfig};
use crate::run::history::read_history;
use crate::run::progress::with_renderer;

/// Pretrains `model` when `config` asks for it: each layer pair of the MLP, from the
/// outside in, trained through burn's `Learner` as a shallow autoencoder, logged under
/// `dir/pretrain/layer-<i>/`. Returns the pretrained model and each stage's per-epoch
/// metrics; the model untouched and `None` when there is no pretraining.
pub fn layerwise(
    config: &TrainConfig,
    model: AnyAutoencoder,
    train_loader: &Arc<dyn DataLoader<Batch>>,
    valid_loader: &Arc<dyn DataLoader<Batch>>,
    dir: &Path,
) -> Result<(AnyAutoencoder, Option<Vec<serde_json::Value>>)> {
    let Pretrain::Layerwise { epochs } = config.pretrain else {
        return Ok((model, None));
    };
    let Some(mut mlp) = model.into_mlp() else {
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
        let optim = config.optimizer();
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
    Ok((mlp.into(), Some(stages)))
}
