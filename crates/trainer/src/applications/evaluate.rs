//! Reconstruction quality of a model on a split.

use ae_data::Split;
use ae_models::Autoencoder;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Reconstruction quality on one split. Pixels are in `[0, 1]`; for a table, "pixel"
/// reads "feature" (standardised values) and PSNR and SSIM are left out.
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
    /// `10 log10(1 / mse_per_pixel)`: the PSNR of the whole split, peak value 1, the
    /// mean over every value of every plane for colour images (images only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psnr_db: Option<f64>,
    /// The model's training loss on the split, averaged over images.
    pub loss: f64,
    /// Mean of each code unit over the split.
    #[serde(default)]
    pub code_mean: Vec<f64>,
    /// Standard deviation of each code unit over the split.
    #[serde(default)]
    pub code_std: Vec<f64>,
    /// Code units not zero, per sample, averaged: a sparse code's L0 (the code size
    /// for a dense one).
    #[serde(default)]
    pub code_l0: f64,
    /// Code units that are zero for every sample of the split: a sparse code's dead
    /// units.
    #[serde(default)]
    pub dead_units: usize,
    /// Structural similarity of each reconstruction to its image, averaged (11×11
    /// Gaussian window, σ = 1.5, the reference constants; a colour image's is the mean
    /// over its three planes); `None` for a table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim: Option<f64>,
    /// k-nearest-neighbour accuracy of the codes, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knn: Option<KnnReport>,
    /// Test accuracy of a linear probe (logistic regression) trained on the training
    /// codes, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_probe: Option<f64>,
    /// How the probe was trained, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_probe_fit: Option<String>,
    /// Trustworthiness of the codes against the pixels, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trustworthiness: Option<TrustReport>,
    /// A capsule autoencoder's longest capsule taken as the class: its accuracy (for
    /// one trained without labels, each capsule read as its most frequent label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_accuracy: Option<f64>,
    /// A VAE's negative log-likelihood by importance sampling, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nll: Option<NllReport>,
}

/// Neighbourhood preservation of the codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrustReport {
    /// Test images compared (the first ones of the split).
    pub images: usize,
    /// Neighbours per point.
    pub k: usize,
    /// [`ae_analysis::trustworthiness`] of the codes against the pixels.
    pub value: f64,
}

/// `-log p(x)` of a VAE on the test split, estimated by importance sampling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NllReport {
    /// Posterior samples per image.
    pub samples: usize,
    /// Mean negative log-likelihood per image, nats (for the MSE likelihood, without
    /// the Gaussian's constant).
    pub nats: f64,
    /// Mean negative ELBO per image (one sample), nats: the bound the estimate tightens.
    pub negative_elbo: f64,
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
    /// Whether the neighbours were found on the device (a GPU) rather than the host.
    #[serde(default)]
    pub on_device: bool,
}

/// `f` applied to the images of `split` at `indices`, `batch_size` at a time, its
/// outputs concatenated on the host: `(values, values per image)`.
pub fn map_images<const D: usize>(
    split: &Split,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
    mut f: impl FnMut(Tensor<2>) -> Tensor<D>,
) -> (Vec<f32>, usize) {
    let mut out = Vec::new();
    let mut width = 0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let y = f(split.tensor(chunk, device));
        width = y.dims().iter().skip(1).product();
        out.extend(y.into_data().try_into_vec_as::<f32>().unwrap_or_default());
    }
    (out, width)
}

/// The codes of every image of `split`, `[n, latent]` row-major, and the code size.
pub fn codes<M: Autoencoder>(
    model: &M,
    split: &Split,
    batch_size: usize,
    device: &Device,
) -> (Vec<f32>, usize) {
    let all: Vec<usize> = (0..split.len()).collect();
    map_images(split, &all, batch_size, device, |x| model.encode(x))
}

/// k-nearest-neighbour accuracy of `test`'s codes against `train`'s: the neighbours
/// found `on_device` by matrix products (for a GPU), else on the host.
pub fn knn<M: Autoencoder>(
    model: &M,
    train: &Split,
    test: &Split,
    k: usize,
    device: &Device,
    on_device: bool,
) -> anyhow::Result<KnnReport> {
    let (train_codes, dim) = codes(model, train, 256, device);
    let (test_codes, _) = codes(model, test, 256, device);
    let accuracy = |d| -> anyhow::Result<f64> {
        if on_device {
            let near = crate::applications::neighbours::nearest_on_device(
                &train_codes,
                &test_codes,
                dim,
                k,
                d,
                device,
            )?;
            Ok(ae_analysis::vote_accuracy(
                &near,
                k,
                &train.labels,
                &test.labels,
            )?)
        } else {
            let bar = crate::run::progress::bar(test.len(), &format!("{k}-NN ({d:?}), queries"));
            let accuracy = ae_analysis::knn_accuracy_with_progress(
                (&train_codes, &train.labels),
                (&test_codes, &test.labels),
                dim,
                k,
                d,
                |done| bar.set_position(done as u64),
            );
            bar.finish_and_clear();
            Ok(accuracy?)
        }
    };
    Ok(KnnReport {
        k,
        train_samples: train.len(),
        euclidean: accuracy(ae_analysis::Distance::Euclidean)?,
        cosine: accuracy(ae_analysis::Distance::Cosine)?,
        on_device,
    })
}

/// Iterations of L-BFGS at most for the converged probe.
const PROBE_MAX_ITER: usize = 2000;

/// How the linear probe is trained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProbeFit {
    /// Full-batch L-BFGS to convergence on the objective of scikit-learn's
    /// `LogisticRegression(C = c)`.
    Converged(f64),
    /// Mini-batch Adam for [`ae_analysis::ProbeOptions`]' epochs (quicker, not
    /// converged).
    Adam,
}

impl std::fmt::Display for ProbeFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Converged(c) => write!(f, "L-BFGS to convergence, C = {c}"),
            Self::Adam => write!(
                f,
                "{} epochs of Adam",
                ae_analysis::ProbeOptions::default().epochs
            ),
        }
    }
}

/// Test accuracy of a linear probe trained on the codes of `train` as `fit` says.
pub fn linear_probe<M: Autoencoder>(
    model: &M,
    train: &Split,
    test: &Split,
    fit: ProbeFit,
    device: &Device,
) -> anyhow::Result<f64> {
    let (train_codes, dim) = codes(model, train, 256, device);
    let (test_codes, _) = codes(model, test, 256, device);
    let options = ae_analysis::ProbeOptions::default();
    let (steps, what) = match fit {
        ProbeFit::Converged(_) => (PROBE_MAX_ITER, "linear probe, L-BFGS iterations (at most)"),
        ProbeFit::Adam => (options.epochs, "linear probe, epochs"),
    };
    let bar = crate::run::progress::bar(steps, what);
    let progress = |done: usize| bar.set_position(done as u64);
    let (x, labels) = (&train_codes, &train.labels);
    let probe = match fit {
        ProbeFit::Converged(c) => ae_analysis::LinearProbe::fit_converged_with_progress(
            x,
            labels,
            dim,
            c,
            PROBE_MAX_ITER,
            1e-6,
            progress,
        ),
        ProbeFit::Adam => {
            ae_analysis::LinearProbe::fit_with_progress(x, labels, dim, options, progress)
        }
    };
    bar.finish_and_clear();
    let probe = probe?;
    Ok(probe.accuracy(&test_codes, &test.labels)?)
}

/// Trustworthiness (`k` neighbours) of the codes of the first `images` images of
/// `split` against their pixels.
pub fn trustworthiness<M: Autoencoder>(
    model: &M,
    split: &Split,
    images: usize,
    k: usize,
    device: &Device,
) -> anyhow::Result<TrustReport> {
    let first: Vec<usize> = (0..images.min(split.len())).collect();
    let (pixels, width) = map_images(split, &first, 256, device, |x| x);
    let (codes, dim) = map_images(split, &first, 256, device, |x| model.encode(x));
    Ok(TrustReport {
        images: first.len(),
        k,
        value: ae_analysis::trustworthiness(&pixels, width, &codes, dim, k)?,
    })
}

/// The accuracy of a capsule autoencoder's longest capsule as the class of each
/// sample of `split`: capsule `j` is class `j` for a model trained with labels; for
/// one trained without them (masked by the longest capsule) each capsule stands for
/// the most frequent label among the samples it takes (the clustering accuracy of
/// unsupervised models). `None` for any other model or a split without labels.
pub fn class_accuracy(
    model: &ae_models::AnyAutoencoder,
    split: &Split,
    device: &Device,
) -> Option<f64> {
    let capsules = model.as_capsule()?;
    if split.is_empty() || split.labels.len() != split.len() {
        return None;
    }
    let all: Vec<usize> = (0..split.len()).collect();
    let (predicted, _) = map_images(split, &all, 256, device, |x| {
        capsules.predict(x).float().unsqueeze_dim::<2>(1)
    });
    let predicted: Vec<u32> = predicted.iter().map(|&p| p as u32).collect();
    let right = if capsules.masks_by_label() {
        predicted
            .iter()
            .zip(&split.labels)
            .filter(|(p, l)| **p == u32::from(**l))
            .count()
    } else {
        majority_matches(&predicted, &split.labels)
    };
    Some(right as f64 / split.len() as f64)
}

/// The samples whose cluster's most frequent label is their own: each of
/// `clusters` read as the label most of its samples have.
fn majority_matches(clusters: &[u32], labels: &[u8]) -> usize {
    let mut counts = std::collections::HashMap::<(u32, u8), usize>::new();
    for (c, l) in clusters.iter().zip(labels) {
        *counts.entry((*c, *l)).or_default() += 1;
    }
    let mut best = std::collections::HashMap::<u32, usize>::new();
    for ((cluster, _), n) in counts {
        let top = best.entry(cluster).or_default();
        *top = (*top).max(n);
    }
    best.values().sum()
}

/// The importance-sampled negative log-likelihood of a VAE on `split`.
pub fn vae_nll(
    vae: &ae_models::Vae,
    split: &Split,
    samples: usize,
    device: &Device,
) -> anyhow::Result<NllReport> {
    if samples == 0 {
        anyhow::bail!("--nll 0: expected at least one posterior sample per image");
    }
    let all: Vec<usize> = (0..split.len()).collect();
    // Each batch holds `samples` decodings per image: keep the batch near 5,000 rows.
    let batch = (5000 / samples).max(1);
    let mean = |v: Vec<f32>| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len().max(1) as f64;
    let (log_p, _) = map_images(split, &all, batch, device, |x| {
        vae.log_likelihood(x, samples)
    });
    let (elbo, _) = map_images(split, &all, 256, device, |x| vae.negative_elbo(x));
    Ok(NllReport {
        samples,
        nats: -mean(log_p),
        negative_elbo: mean(elbo),
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
    let n = split.len();
    let pixels = split.features();
    let (mut sq_sum, mut loss_sum, mut ssim_sum) = (0.0f64, 0.0f64, 0.0f64);
    let shape = split.image_shape();
    let (mut code_sum, mut code_sq, mut code_active) = (Vec::new(), Vec::new(), Vec::new());
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let x = split.tensor(chunk, device);
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
        if let Some(shape) = shape {
            for (r, c) in recon.chunks(pixels.max(1)).zip(clean.chunks(pixels.max(1))) {
                ssim_sum += ae_analysis::ssim_planes(c, r, shape).unwrap_or(f64::NAN);
            }
        }
        loss_sum += out.loss.into_scalar::<f32>() as f64 * chunk.len() as f64;
        let [_, latent] = out.code.dims();
        code_sum.resize(latent, 0.0);
        code_sq.resize(latent, 0.0);
        code_active.resize(latent, 0usize);
        let codes = out
            .code
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for row in codes.chunks(latent.max(1)) {
            for (j, &v) in row.iter().enumerate() {
                code_sum[j] += v as f64;
                code_sq[j] += (v as f64) * (v as f64);
                code_active[j] += usize::from(v != 0.0);
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
        psnr_db: shape.map(|_| 10.0 * (1.0 / mse).log10()),
        loss: loss_sum / n.max(1) as f64,
        code_mean,
        code_std,
        code_l0: code_active.iter().sum::<usize>() as f64 / count,
        dead_units: code_active.iter().filter(|&&a| a == 0).count(),
        ssim: shape.map(|_| ssim_sum / count),
        knn: None,
        linear_probe: None,
        linear_probe_fit: None,
        trustworthiness: None,
        class_accuracy: None,
        nll: None,
    }
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.psnr_db, self.ssim) {
            (Some(psnr), Some(ssim)) => write!(
                f,
                "{} ({} images): MSE per pixel {:.5}, squared error per image {:.3}, PSNR {psnr:.2} dB, SSIM {ssim:.4}, loss {:.5}",
                self.split, self.samples, self.mse_per_pixel, self.sq_error_per_image, self.loss
            )?,
            _ => write!(
                f,
                "{} ({} rows): MSE per feature {:.5}, squared error per row {:.3}, loss {:.5}",
                self.split, self.samples, self.mse_per_pixel, self.sq_error_per_image, self.loss
            )?,
        }
        let latent = self.code_mean.len();
        if self.code_l0 < latent as f64 || self.dead_units > 0 {
            write!(
                f,
                "; code L0 {:.2} of {latent} units, {} dead (zero for every sample)",
                self.code_l0, self.dead_units
            )?;
        }
        if let Some(acc) = self.linear_probe {
            write!(f, "; linear-probe accuracy {acc:.4}")?;
            if let Some(fit) = &self.linear_probe_fit {
                write!(f, " ({fit})")?;
            }
        }
        if let Some(acc) = self.class_accuracy {
            write!(
                f,
                "; the longest capsule as the class (for a model trained without labels, \
                 its most frequent label): accuracy {acc:.4}"
            )?;
        }
        if let Some(t) = &self.trustworthiness {
            write!(
                f,
                "; trustworthiness {:.4} ({} images, k = {})",
                t.value, t.images, t.k
            )?;
        }
        if let Some(nll) = &self.nll {
            write!(
                f,
                "; NLL {:.2} nats ({} importance samples; negative ELBO {:.2})",
                nll.nats, nll.samples, nll.negative_elbo
            )?;
        }
        if let Some(knn) = &self.knn {
            write!(
                f,
                "; {}-NN accuracy of the codes (against {} training codes{}): euclidean {:.4}, cosine {:.4}",
                knn.k,
                knn.train_samples,
                if knn.on_device {
                    ", searched on the device"
                } else {
                    ""
                },
                knn.euclidean,
                knn.cosine
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::majority_matches;

    /// Each cluster counts the samples of its most frequent label: cluster 7 holds
    /// three of label 1 and one of label 2, cluster 3 two of label 2; one cluster for
    /// everything counts only the most frequent label.
    #[test]
    fn clusters_are_read_as_their_most_frequent_label() {
        let labels = [1, 1, 2, 1, 2, 2];
        assert_eq!(majority_matches(&[7, 7, 7, 7, 3, 3], &labels), 5);
        assert_eq!(majority_matches(&[0; 6], &labels), 3);
        assert_eq!(majority_matches(&[], &[]), 0);
    }
}
