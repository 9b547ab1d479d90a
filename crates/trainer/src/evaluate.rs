//! Reconstruction quality of a model on a split.

use std::sync::Arc;

use ae_data::{HostBatcher, Split};
use ae_models::Autoencoder;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Reconstruction quality on one split. Pixels are in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Which split (`test`, …).
    pub split: String,
    /// Number of images.
    pub samples: usize,
    /// Mean squared error per pixel.
    pub mse_per_pixel: f64,
    /// Sum of squared errors over an image's pixels, averaged over images.
    pub sq_error_per_image: f64,
    /// `10 log10(1 / mse_per_pixel)`: the PSNR of the whole split, peak value 1.
    pub psnr_db: f64,
    /// The model's training loss on the split, averaged over images.
    pub loss: f64,
    /// Mean of each code unit over the split.
    #[serde(default)]
    pub code_mean: Vec<f64>,
    /// Standard deviation of each code unit over the split.
    #[serde(default)]
    pub code_std: Vec<f64>,
    /// Structural similarity of each reconstruction to its image, averaged (11×11
    /// Gaussian window, σ = 1.5, the reference constants).
    #[serde(default)]
    pub ssim: f64,
    /// k-nearest-neighbour accuracy of the codes, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knn: Option<KnnReport>,
}

/// How well codes separate classes: accuracy of a k-nearest-neighbour vote, test
/// codes against training codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnnReport {
    /// Neighbours per vote.
    pub k: usize,
    /// Training codes searched.
    pub train_samples: usize,
    /// Accuracy under euclidean distance.
    pub euclidean: f64,
    /// Accuracy under cosine distance.
    pub cosine: f64,
}

/// The codes of every image of `split`, `[n, latent]` row-major, and the code size.
pub fn codes<M: Autoencoder>(
    model: &M,
    split: &Split,
    batch_size: usize,
    device: &Device,
) -> (Vec<f32>, usize) {
    let batcher = HostBatcher::new(Arc::new(split.clone()));
    let indices: Vec<usize> = (0..split.len()).collect();
    let mut out = Vec::new();
    let mut latent = 0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let code = model.encode(batcher.images(chunk, device));
        latent = code.dims()[1];
        out.extend(code.into_data().try_into_vec::<f32>().unwrap_or_default());
    }
    (out, latent)
}

/// k-nearest-neighbour accuracy of `test`'s codes against `train`'s.
pub fn knn<M: Autoencoder>(
    model: &M,
    train: &Split,
    test: &Split,
    k: usize,
    device: &Device,
) -> anyhow::Result<KnnReport> {
    let (train_codes, dim) = codes(model, train, 256, device);
    let (test_codes, _) = codes(model, test, 256, device);
    let accuracy = |d| {
        ae_analysis::knn_accuracy(
            &train_codes,
            &train.labels,
            &test_codes,
            &test.labels,
            dim,
            k,
            d,
        )
    };
    Ok(KnnReport {
        k,
        train_samples: train.len(),
        euclidean: accuracy(ae_analysis::Distance::Euclidean)?,
        cosine: accuracy(ae_analysis::Distance::Cosine)?,
    })
}

/// Reconstructs every image of `split` in batches and measures the error.
pub fn evaluate<M: Autoencoder>(
    model: &M,
    split: &Split,
    name: &str,
    batch_size: usize,
    device: &Device,
) -> EvalReport {
    let batcher = HostBatcher::new(Arc::new(split.clone()));
    let n = split.len();
    let pixels = split.images.pixels_per_image();
    let (mut sq_sum, mut loss_sum, mut ssim_sum) = (0.0f64, 0.0f64, 0.0f64);
    let (rows, cols) = (split.images.rows, split.images.cols);
    let (mut code_sum, mut code_sq) = (Vec::new(), Vec::new());
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let x = batcher.images(chunk, device);
        let out = model.forward(x.clone());
        let recon = out
            .reconstruction
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        let clean = x.into_data().try_into_vec::<f32>().unwrap_or_default();
        sq_sum += recon
            .iter()
            .zip(&clean)
            .map(|(r, c)| f64::from(r - c).powi(2))
            .sum::<f64>();
        for (r, c) in recon.chunks(pixels.max(1)).zip(clean.chunks(pixels.max(1))) {
            ssim_sum += ae_analysis::ssim(c, r, rows, cols).unwrap_or(f64::NAN);
        }
        loss_sum += out.loss.into_scalar::<f32>() as f64 * chunk.len() as f64;
        let [_, latent] = out.code.dims();
        code_sum.resize(latent, 0.0);
        code_sq.resize(latent, 0.0);
        let codes = out
            .code
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for row in codes.chunks(latent.max(1)) {
            for (j, &v) in row.iter().enumerate() {
                code_sum[j] += v as f64;
                code_sq[j] += (v as f64) * (v as f64);
            }
        }
    }
    let count = n.max(1) as f64;
    let code_mean: Vec<f64> = code_sum.iter().map(|s| s / count).collect();
    let code_std = code_sq
        .iter()
        .zip(&code_mean)
        .map(|(sq, m)| (sq / count - m * m).max(0.0).sqrt())
        .collect();
    let mse = sq_sum / (n * pixels).max(1) as f64;
    EvalReport {
        split: name.to_string(),
        samples: n,
        mse_per_pixel: mse,
        sq_error_per_image: sq_sum / n.max(1) as f64,
        psnr_db: 10.0 * (1.0 / mse).log10(),
        loss: loss_sum / n.max(1) as f64,
        code_mean,
        code_std,
        ssim: ssim_sum / count,
        knn: None,
    }
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} images): MSE per pixel {:.5}, squared error per image {:.3}, PSNR {:.2} dB, SSIM {:.4}, loss {:.5}",
            self.split,
            self.samples,
            self.mse_per_pixel,
            self.sq_error_per_image,
            self.psnr_db,
            self.ssim,
            self.loss
        )?;
        if let Some(knn) = &self.knn {
            write!(
                f,
                "; {}-NN accuracy of the codes (against {} training codes): euclidean {:.4}, cosine {:.4}",
                knn.k, knn.train_samples, knn.euclidean, knn.cosine
            )?;
        }
        Ok(())
    }
}
