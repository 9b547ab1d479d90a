//! The learned prior of a model whose code is discrete (a VQ-VAE): a PixelCNN fitted
//! to the codes of the training images, kept in the artifact (`prior.json`, `prior-report.json`,
//! `prior.bpk`) and sampled by `sample`.

use std::path::Path;

use ae_data::Split;
use ae_models::{AnyAutoencoder, Autoencoder, PixelCnnPrior, PixelCnnPriorConfig, VqVae};
use anyhow::{Context, Result, bail};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::artifact::write_atomic;

/// The prior's configuration in the artifact.
pub const PRIOR_CONFIG: &str = "prior.json";
/// The prior's weights in the artifact.
pub const PRIOR_WEIGHTS: &str = "prior.bpk";
/// How well the prior predicted held-out codes when it was fitted ([`PriorReport`]).
pub const PRIOR_REPORT: &str = "prior-report.json";

/// Code grids per training step.
const BATCH: usize = 128;

/// How well a fitted prior predicts held-out codes, in bits per image, beside the
/// two priors it must beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorReport {
    /// Training codes it was fitted to.
    pub codes: usize,
    /// Passes over them.
    pub epochs: usize,
    /// Held-out codes it was measured on (0: no test images, measured on the
    /// training codes).
    pub test_codes: usize,
    /// Negative log-likelihood of the held-out codes under the prior, bits per image.
    pub bits: f64,
    /// Under a uniform choice of entry at each position: the exact bits of the code.
    pub uniform_bits: f64,
    /// Under the entries' training frequencies, each position alone.
    pub frequency_bits: f64,
}

impl std::fmt::Display for PriorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = match self.test_codes {
            0 => "training image (no test images)".to_string(),
            n => format!("held-out image ({n} images)"),
        };
        write!(
            f,
            "PixelCNN prior fitted to {} training codes ({} epochs): {:.1} bits per {on}, \
             against {:.1} for the entries' frequencies and {:.1} for a uniform choice",
            self.codes, self.epochs, self.bits, self.frequency_bits, self.uniform_bits
        )
    }
}

/// The model's VQ-VAE, or an error naming what `sample` needs.
pub fn vq(model: &AnyAutoencoder) -> Result<&VqVae> {
    model
        .as_vq()
        .context("a learned prior over codes needs a model with a discrete code (vq-vae)")
}

/// The discrete codes of `split`'s first `limit` samples, `[n, positions]`; `None`
/// for an empty split.
pub fn codes(vq: &VqVae, split: &Split, limit: usize, device: &Device) -> Option<Tensor<2, Int>> {
    let n = split.len().min(limit);
    let parts: Vec<Tensor<2, Int>> = (0..n)
        .collect::<Vec<_>>()
        .chunks(256)
        .map(|chunk| vq.indices(split.tensor(chunk, device)))
        .collect();
    (!parts.is_empty()).then(|| Tensor::cat(parts, 0))
}

/// Fits a prior of the default size to the codes of `train` for `epochs`, measures
/// it on those of `test`; `progress` hears each finished step out of all of them.
pub fn fit(
    vq: &VqVae,
    train: &Split,
    test: &Split,
    epochs: usize,
    device: &Device,
    mut progress: impl FnMut(usize, usize),
) -> Result<(PixelCnnPriorConfig, PixelCnnPrior, PriorReport)> {
    let code = vq.discrete_code();
    let entries = code.alphabet;
    let Some(train_codes) = codes(vq, train, usize::MAX, device) else {
        bail!("no training images to fit a prior to");
    };
    // Measured on held-out codes, or on the training ones when there are none.
    let test_codes = codes(vq, test, 10_000, device);
    let held_out = test_codes.is_some();
    let test_codes = test_codes.unwrap_or_else(|| train_codes.clone());
    let n = train_codes.dims()[0];
    let config = PixelCnnPriorConfig::new(entries, vq.grid());
    let autodiff = device.clone().autodiff();
    let mut prior = config.init(&autodiff)?;
    let mut optim = AdamConfig::new().init();
    let steps_per_epoch = n.div_ceil(BATCH);
    let total = epochs * steps_per_epoch;
    for epoch in 0..epochs {
        let order =
            Tensor::<1>::random([n], burn::tensor::Distribution::Default, device).argsort(0);
        for step in 0..steps_per_epoch {
            let start = step * BATCH;
            let rows = order.clone().narrow(0, start, BATCH.min(n - start));
            let batch = train_codes.clone().select(0, rows).to_device(&autodiff);
            let loss = prior.nll(batch);
            let grads = GradientsParams::from_grads(loss.backward(), &prior);
            prior = optim.step(1e-3, prior, grads);
            progress(epoch * steps_per_epoch + step + 1, total);
        }
    }
    let prior = prior.valid();
    let frequency_bits = frequency_bits(&train_codes, &test_codes, entries);
    let report = PriorReport {
        codes: n,
        epochs,
        test_codes: if held_out { test_codes.dims()[0] } else { 0 },
        bits: bits_per_image(&prior, &test_codes),
        uniform_bits: code.bits(),
        frequency_bits,
    };
    Ok((config, prior, report))
}

/// Negative log-likelihood of `codes` under `prior`, bits per image.
pub fn bits_per_image(prior: &PixelCnnPrior, codes: &Tensor<2, Int>) -> f64 {
    let [n, positions] = codes.dims();
    let mut nats = 0.0;
    for start in (0..n).step_by(512) {
        let part = codes.clone().narrow(0, start, 512.min(n - start));
        let rows = part.dims()[0] as f64;
        nats += rows * prior.nll(part).into_scalar::<f64>();
    }
    nats / n.max(1) as f64 * positions as f64 / std::f64::consts::LN_2
}

/// Bits per image of `test` under the entries' frequencies in `train` (each position
/// alone, add-one smoothed).
fn frequency_bits(train: &Tensor<2, Int>, test: &Tensor<2, Int>, entries: usize) -> f64 {
    let counts = |t: &Tensor<2, Int>| -> Vec<f64> {
        let [n, p] = t.dims();
        let c = t
            .clone()
            .reshape([n * p])
            .one_hot::<2>(entries)
            .float()
            .sum_dim(0);
        c.into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default()
            .into_iter()
            .map(f64::from)
            .collect()
    };
    let (train_counts, test_counts) = (counts(train), counts(test));
    let total: f64 = train_counts.iter().sum::<f64>() + entries as f64;
    let bits: f64 = train_counts
        .iter()
        .zip(&test_counts)
        .map(|(c, t)| -t * ((c + 1.0) / total).log2())
        .sum();
    bits / test.dims()[0].max(1) as f64
}

/// Writes the prior, and the report of its fit, into the artifact folder `dir`.
pub fn save(
    dir: &Path,
    config: &PixelCnnPriorConfig,
    prior: &PixelCnnPrior,
    report: &PriorReport,
) -> Result<()> {
    let json = serde_json::to_vec_pretty(config)?;
    ae_infer::save_module(prior, &dir.join(PRIOR_WEIGHTS))?;
    write_atomic(&dir.join(PRIOR_REPORT), &serde_json::to_vec_pretty(report)?)?;
    write_atomic(&dir.join(PRIOR_CONFIG), &json)
}

/// The prior saved in the artifact folder `dir`, if there is one.
pub fn load(dir: &Path, device: &Device) -> Result<Option<PixelCnnPrior>> {
    let (json, weights) = (dir.join(PRIOR_CONFIG), dir.join(PRIOR_WEIGHTS));
    if !json.is_file() || !weights.is_file() {
        return Ok(None);
    }
    let text = std::fs::read(&json).with_context(|| format!("reading {}", json.display()))?;
    let config: PixelCnnPriorConfig = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a prior's configuration", json.display()))?;
    let prior = ae_infer::load_module(config.init(device)?, &weights)
        .with_context(|| format!("the prior of {}", json.display()))?;
    Ok(Some(prior))
}

/// `n` images decoded from codes the prior draws, `[n, features]`.
pub fn samples(vq: &VqVae, prior: &PixelCnnPrior, n: usize, device: &Device) -> Result<Tensor<2>> {
    if prior.discrete_code() != vq.discrete_code() {
        bail!(
            "the saved prior is over {:?}, the model's code is {:?}: refit it",
            prior.discrete_code(),
            vq.discrete_code()
        );
    }
    Ok(vq.decode(vq.lookup(prior.sample(n, device))))
}
