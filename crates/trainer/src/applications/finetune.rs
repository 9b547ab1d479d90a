//! Transfer learning with few labels: a classifier head on a trained encoder, frozen
//! or fine-tuned, against the same network trained from scratch on the same labels.

use ae_data::Split;
use ae_models::{AnyAutoencoder, Classifier, ModelConfig};
use anyhow::{Result, bail};
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::Serialize;

/// Where the encoder's weights come from and whether they train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// The trained encoder, frozen: only the head learns (a linear probe by SGD).
    Frozen,
    /// The trained encoder, trained further with the head.
    FineTuned,
    /// A freshly initialised encoder of the same architecture, trained with the head.
    Scratch,
}

impl std::fmt::Display for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Frozen => "pretrained encoder, frozen",
            Self::FineTuned => "pretrained encoder, fine-tuned",
            Self::Scratch => "same network from scratch",
        })
    }
}

/// How the classifier trains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinetuneOptions {
    /// Adam steps.
    pub steps: usize,
    /// Labelled images per step (at most the labelled set).
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the head's weights, the scratch encoder and the batch order.
    pub seed: u64,
}

impl Default for FinetuneOptions {
    fn default() -> Self {
        Self {
            steps: 1000,
            batch_size: 64,
            lr: 1e-3,
            seed: 0,
        }
    }
}

/// One result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FinetuneRow {
    /// Labelled training images.
    pub labels: usize,
    /// How the encoder started.
    pub start: Start,
    /// Accuracy on the whole test split.
    pub test_accuracy: f64,
}

/// The first `n / classes` training images of each class, in file order: a balanced
/// labelled set that does not depend on a seed.
pub fn labelled_subset(train: &Split, n: usize) -> Result<Vec<usize>> {
    let classes = usize::from(train.labels.iter().copied().max().unwrap_or(0)) + 1;
    if n < classes {
        bail!("--labels {n}: expected at least one image per class ({classes} classes)");
    }
    let per_class = n / classes;
    let mut taken = vec![0usize; classes];
    let mut out = Vec::with_capacity(n);
    for (i, &l) in train.labels.iter().enumerate() {
        let l = usize::from(l);
        if taken[l] < per_class {
            taken[l] += 1;
            out.push(i);
        }
    }
    if let Some(c) = taken.iter().position(|&t| t < per_class) {
        bail!(
            "--labels {n}: class {c} has only {} training images, {per_class} wanted",
            taken[c]
        );
    }
    Ok(out)
}

/// Trains a classifier on the images of `train` at `subset`; returns its test accuracy
/// and the trained classifier (inference mode, on `device`). `pretrained` is the
/// trained autoencoder loaded on `device.autodiff()` (used by [`Start::Frozen`] and
/// [`Start::FineTuned`]); `config` builds the scratch encoder.
#[allow(clippy::too_many_arguments)]
pub fn train_classifier(
    pretrained: &AnyAutoencoder,
    config: &ModelConfig,
    train: &Split,
    subset: &[usize],
    test: &Split,
    start: Start,
    options: FinetuneOptions,
    device: &Device,
) -> Result<(f64, Classifier)> {
    let ad = device.clone().autodiff();
    ad.seed(options.seed);
    let encoder = match start {
        Start::Frozen | Start::FineTuned => pretrained.clone(),
        Start::Scratch => config.init(&ad)?,
    };
    let classes = usize::from(train.labels.iter().copied().max().unwrap_or(0)) + 1;
    let mut model = Classifier::new(encoder, config.latent(), classes, &ad);
    let frozen = start == Start::Frozen;
    let mut optim = crate::run::config::pytorch_adam().init();
    let batch = options.batch_size.clamp(1, subset.len().max(1));
    let mut order = subset.to_vec();
    let mut state = options.seed ^ 0x2545_F491_4F6C_DD1D;
    let mut cursor = order.len();
    for _ in 0..options.steps {
        if cursor + batch > order.len() {
            // A new pass in a new seeded order.
            for i in (1..order.len()).rev() {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                order.swap(i, ((state >> 33) as usize) % (i + 1));
            }
            cursor = 0;
        }
        let idx = &order[cursor..cursor + batch];
        cursor += batch;
        let x = train.tensor(idx, &ad);
        let y: Vec<i64> = idx.iter().map(|&i| i64::from(train.labels[i])).collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(y, [idx.len()]), &ad);
        let loss = model.loss(x, y, frozen);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(options.lr, model, grads);
    }
    let model = model.valid();
    let all: Vec<usize> = (0..test.len()).collect();
    let mut right = 0usize;
    for chunk in all.chunks(512) {
        let predicted = model
            .logits(test.tensor(chunk, device), true)
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap_or_default();
        right += predicted
            .iter()
            .zip(chunk)
            .filter(|&(&p, &i)| p == i64::from(test.labels[i]))
            .count();
    }
    Ok((right as f64 / test.len().max(1) as f64, model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::idx::Images;

    #[test]
    fn labelled_subsets_are_balanced_and_checked() {
        let split = Split::images(Images::grey(7, 1, 1, vec![0; 7]), vec![0, 0, 1, 0, 1, 1, 0]);
        assert_eq!(
            labelled_subset(&split, 4).expect("2 per class"),
            vec![0, 1, 2, 4]
        );
        assert!(
            labelled_subset(&split, 1).is_err(),
            "fewer labels than classes"
        );
        let err = labelled_subset(&split, 10).expect_err("5 per class");
        assert!(err.to_string().contains("class 0 has only 4"), "{err}");
    }
}
