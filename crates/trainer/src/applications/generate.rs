//! Images out of trained models: denoised test images, interpolations between two
//! images' codes, samples of the prior.

use ae_data::Split;
use ae_models::{AnyAutoencoder, Autoencoder, Noise};
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::drawing::image::Grid;

/// Corrupted and denoised test samples measured against the clean ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenoiseReport {
    /// The corruption applied.
    pub noise: Noise,
    /// Samples: images, table rows or windows of a series.
    pub samples: usize,
    /// Mean squared error of the corrupted samples, in the model's units (pixels in
    /// [0, 1], or standardised values).
    pub mse_noisy: f64,
    /// Mean squared error of the model's reconstructions of the corrupted samples.
    pub mse_denoised: f64,
    /// PSNR of the corrupted images (peak 1), dB; images only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psnr_noisy_db: Option<f64>,
    /// PSNR of the reconstructions of the corrupted images, dB; images only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psnr_denoised_db: Option<f64>,
}

impl std::fmt::Display for DenoiseReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, noise) = (self.samples, &self.noise);
        match (self.psnr_noisy_db, self.psnr_denoised_db) {
            (Some(noisy), Some(denoised)) => write!(
                f,
                "{n} images, noise {noise}: PSNR noisy {noisy:.2} dB, denoised {denoised:.2} dB (gain {:+.2} dB)",
                denoised - noisy
            ),
            _ => write!(
                f,
                "{n} samples, noise {noise} (on the standardised values): MSE noisy {:.4}, denoised {:.4} ({:+.1} %)",
                self.mse_noisy,
                self.mse_denoised,
                100.0 * (self.mse_denoised / self.mse_noisy - 1.0)
            ),
        }
    }
}

/// Corrupts every sample of `split` with `noise` (drawn from the device's generator,
/// seed it for repeatable noise), reconstructs it, and measures both against the
/// clean sample. Images are corrupted within [0, 1] and measured by PSNR too, and a
/// grid of the first `show` is returned (clean, noisy and denoised rows); tables and
/// series are corrupted as they are, standardised, and return no grid.
pub fn denoise(
    model: &AnyAutoencoder,
    split: &Split,
    noise: Noise,
    show: usize,
    device: &Device,
) -> Result<(DenoiseReport, Option<Grid>)> {
    if noise == Noise::None {
        bail!("--noise none: choose a corruption, e.g. gaussian:0.3");
    }
    noise.validate()?;
    let shape = split.image_shape();
    let bounds = shape.map(|_| [0.0, 1.0]);
    let features = split.features();
    let (mut sq_noisy, mut sq_denoised) = (0.0f64, 0.0f64);
    let mut rows: [Vec<Vec<f32>>; 3] = Default::default();
    let all: Vec<usize> = (0..split.len()).collect();
    for chunk in all.chunks(256) {
        let clean = split.tensor(chunk, device);
        let noisy = noise.corrupt(clean.clone(), bounds);
        let denoised = model.decode(model.encode(noisy.clone()));
        let sq = |a: Tensor<2>| {
            (a - clean.clone())
                .powi_scalar(2)
                .sum()
                .into_scalar::<f32>() as f64
        };
        sq_noisy += sq(noisy.clone());
        sq_denoised += sq(denoised.clone());
        let need = show.saturating_sub(rows[0].len()).min(chunk.len());
        for (row, t) in rows.iter_mut().zip([clean, noisy, denoised]) {
            let values = t
                .slice(0..need)
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap_or_default();
            row.extend(values.chunks(features).map(<[f32]>::to_vec));
        }
    }
    let count = (split.len() * features).max(1) as f64;
    let (mse_noisy, mse_denoised) = (sq_noisy / count, sq_denoised / count);
    let psnr = |mse: f64| shape.map(|_| ae_analysis::psnr(mse, 1.0));
    let grid = shape.map(|shape| Grid {
        shape,
        rows: rows.to_vec(),
    });
    Ok((
        DenoiseReport {
            noise,
            samples: split.len(),
            mse_noisy,
            mse_denoised,
            psnr_noisy_db: psnr(mse_noisy),
            psnr_denoised_db: psnr(mse_denoised),
        },
        grid,
    ))
}

/// Decodings of `points` codes evenly spaced on the segment between the codes of
/// `from` and `to` (both ends included), one row per pair, with the two input images
/// at the ends of each row.
pub fn interpolate(
    model: &AnyAutoencoder,
    split: &Split,
    pairs: &[(usize, usize)],
    points: usize,
    device: &Device,
) -> Result<Grid> {
    if points < 2 {
        bail!("--points {points}: expected at least 2 (the two ends)");
    }
    let ends: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    check_indices(split, &ends)?;
    let shape = crate::dataset::image_shape_of(split)?;
    let pixels: usize = shape.iter().product();
    let mut rows = Vec::new();
    for &(a, b) in pairs {
        let x = split.tensor(&[a, b], device);
        let code = model.encode(x.clone());
        let (za, zb) = (code.clone().slice(0..1), code.slice(1..2));
        let t: Vec<f32> = (0..points)
            .map(|i| i as f32 / (points - 1) as f32)
            .collect();
        let t = Tensor::<1>::from_floats(t.as_slice(), device).unsqueeze_dim::<2>(1);
        let codes = za.clone() + (zb - za) * t;
        let decoded = model
            .decode(codes)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap_or_default();
        let ends = x.into_data().try_into_vec_as::<f32>().unwrap_or_default();
        let mut row = vec![ends[..pixels].to_vec()];
        row.extend(decoded.chunks(pixels).map(<[f32]>::to_vec));
        row.push(ends[pixels..].to_vec());
        rows.push(row);
    }
    Ok(Grid { shape, rows })
}

/// Per-capsule perturbations of a capsule autoencoder: for each of `images` (test
/// indices), a row per dimension of its longest capsule — the image, then the
/// capsule decoded with that dimension moved by `steps` values evenly from `-span` to
/// `span` (Sabour et al., figure 4). An error for other models.
pub fn capsule_perturbations(
    model: &AnyAutoencoder,
    split: &Split,
    images: &[usize],
    span: f32,
    steps: usize,
    device: &Device,
) -> Result<Grid> {
    let Some(capsules) = model.as_capsule() else {
        bail!(
            "per-capsule perturbations need a capsule autoencoder (trained with --model \
             capsule); this artifact's model has no capsules"
        );
    };
    if steps < 2 {
        bail!("--steps {steps}: expected at least 2 (the two ends)");
    }
    if !(span.is_finite() && span > 0.0) {
        bail!("--span {span}: expected a positive number");
    }
    check_indices(split, images)?;
    let shape = crate::dataset::image_shape_of(split)?;
    let pixels: usize = shape.iter().product();
    let deltas: Vec<f32> = (0..steps)
        .map(|i| -span + 2.0 * span * i as f32 / (steps - 1) as f32)
        .collect();
    let mut rows = Vec::new();
    for &i in images {
        let x = split.tensor(&[i], device);
        let original = x
            .clone()
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap_or_default();
        let caps = capsules.capsules(x);
        let class = ae_models::CapsuleAutoencoder::longest(caps.clone())
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap_or_default()
            .first()
            .map_or(0, |c| *c as usize);
        let decoded = capsules
            .perturb(caps, class, &deltas)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap_or_default();
        for dimension in decoded.chunks(pixels * steps) {
            let mut row = vec![original.clone()];
            row.extend(dimension.chunks(pixels).map(<[f32]>::to_vec));
            rows.push(row);
        }
    }
    Ok(Grid { shape, rows })
}

/// An error naming the first of `indices` past the end of the test split.
fn check_indices(split: &Split, indices: &[usize]) -> Result<()> {
    if let Some(i) = indices.iter().find(|i| **i >= split.len()) {
        bail!(
            "image {i}: the test split has {} images (0 to {})",
            split.len(),
            split.len().saturating_sub(1)
        );
    }
    Ok(())
}

/// `n` images decoded from samples of the model's prior, `per_row` to a row; an error
/// for families without a prior.
pub fn sample(
    model: &AnyAutoencoder,
    n: usize,
    per_row: usize,
    shape: [usize; 3],
    device: &Device,
) -> Result<Grid> {
    let Some(images) = model.sample(n, device) else {
        bail!(
            "sampling needs a generative model (vae, conv-vae or aae); this artifact's \
             autoencoder has no prior over its codes"
        );
    };
    let values = images
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_default();
    Ok(Grid::of(shape, &values, per_row))
}

/// Training codes the mixture of [`mixture_samples`] is fitted to, at most.
pub const MIXTURE_CODES: usize = 10_000;

/// Images decoded from codes drawn from a Gaussian mixture fitted to training codes.
#[derive(Debug)]
pub struct MixtureSamples {
    /// The images, row after row.
    pub images: Vec<f32>,
    /// The mixture.
    pub mixture: ae_analysis::GaussianMixture,
    /// Training codes it was fitted to.
    pub codes: usize,
    /// Their mean log-likelihood under it, nats per code.
    pub log_likelihood: f64,
}

/// A Gaussian mixture of `components` fitted to the codes of the first
/// [`MIXTURE_CODES`] images of `train` (100 rounds of EM), and `n` images decoded from
/// codes drawn from it with `seed`: sampling for a model without a prior of its own
/// (Ghosh et al., 2020).
pub fn mixture_samples(
    model: &AnyAutoencoder,
    train: &Split,
    components: usize,
    n: usize,
    seed: u64,
    device: &Device,
) -> Result<MixtureSamples> {
    let first: Vec<usize> = (0..train.len().min(MIXTURE_CODES)).collect();
    let (codes, dim) =
        crate::applications::evaluate::map_images(train, &first, 256, device, |x| model.encode(x));
    let mixture = ae_analysis::GaussianMixture::fit(&codes, dim, components, 100, seed)
        .context("fitting the mixture to the training codes")?;
    let log_likelihood = mixture.mean_log_likelihood(&codes)?;
    let drawn = mixture.sample(n, seed);
    let images = model
        .decode(Tensor::<2>::from_data(
            TensorData::new(drawn, [n, dim]),
            device,
        ))
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_default();
    Ok(MixtureSamples {
        images,
        mixture,
        codes: first.len(),
        log_likelihood,
    })
}
