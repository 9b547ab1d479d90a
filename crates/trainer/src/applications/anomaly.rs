//! One-class anomaly detection: a model trained on normal images only scores every
//! test image; images of the other classes should score higher.

use ae_analysis::Density;
use ae_data::{Dataset, Split};
use ae_models::{AnyAutoencoder, Autoencoder};
use anyhow::{Result, bail};
use burn::data::dataset::Dataset as _;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::applications::evaluate::map_images;
use crate::artifact::{THRESHOLD_FILE, write_atomic};
use crate::dataset::training_samples;
use crate::run::config::TrainConfig;

pub use ae_infer::Score;

/// The score of each image of `split` at `indices`; higher is more anomalous. The
/// density score needs the mixture fitted to the normal training images
/// ([`fit_density`]).
pub fn scores(
    model: &AnyAutoencoder,
    score: Score,
    density: Option<&Density>,
    split: &Split,
    indices: &[usize],
    device: &Device,
) -> Result<Vec<f64>> {
    let wide = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
    let values = match (score, model.as_vae()) {
        (Score::Reconstruction, _) => wide(
            map_images(split, indices, 256, device, |x| {
                (model.decode(model.encode(x.clone())) - x)
                    .powi_scalar(2)
                    .sum_dim(1)
            })
            .0,
        ),
        (Score::Elbo, Some(vae)) => {
            wide(map_images(split, indices, 256, device, |x| vae.negative_elbo(x)).0)
        }
        (Score::Elbo, None) => {
            bail!("--score elbo needs a variational autoencoder, and this model is not one")
        }
        (Score::Density, _) => {
            let Some(density) = density else {
                bail!("the density score needs the density of the normal training images")
            };
            let (features, _) = density_features(model, split, indices, device);
            density.negative_log_density(&features)?
        }
    };
    // A score that is not a number would sort anywhere and set the threshold at
    // random: refused, with the sample that has it.
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        bail!(
            "the {} of sample {} is {}: a threshold and rates need finite scores",
            score,
            indices[i],
            values[i]
        );
    }
    Ok(values)
}

/// What the density score measures of `split`'s images at `indices`
/// ([`ae_infer::density_features`]), row after row, and its width.
fn density_features(
    model: &AnyAutoencoder,
    split: &Split,
    indices: &[usize],
    device: &Device,
) -> (Vec<f32>, usize) {
    map_images(split, indices, 256, device, |x| {
        ae_infer::density_features(model, x)
    })
}

/// EM rounds at most for the density of the normal training images.
const DENSITY_ITERATIONS: usize = 100;

/// The density of the features ([`ae_infer::density_features`]) of `split`'s images
/// at `indices`: a mixture of `components` full-covariance Gaussians drawn with `seed`.
pub fn fit_density(
    model: &AnyAutoencoder,
    split: &Split,
    indices: &[usize],
    components: usize,
    seed: u64,
    device: &Device,
) -> Result<Density> {
    let (features, dim) = density_features(model, split, indices, device);
    Density::fit(&features, dim, components, DENSITY_ITERATIONS, seed).map_err(|e| {
        anyhow::anyhow!(
            "fitting the density of {} normal training samples: {e}",
            indices.len()
        )
    })
}

/// The name of `label` in `data`, or the number when it has none.
fn class_name(data: &Dataset, label: u8) -> String {
    data.classes
        .get(usize::from(label))
        .cloned()
        .unwrap_or_else(|| label.to_string())
}

/// How well one anomalous class is told from the normal test images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassDetection {
    /// The anomalous class.
    pub label: u8,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its test images.
    pub images: usize,
    /// AUROC of normal test images against this class's.
    pub auroc: f64,
}

/// The outcome of the one-class protocol on the test split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyReport {
    /// The labels declared normal.
    pub normal: Vec<u8>,
    /// Their names.
    #[serde(default)]
    pub normal_names: Vec<String>,
    /// The score used.
    pub score: Score,
    /// The false-positive rate the threshold was chosen for, on validation images.
    pub target_fpr: f64,
    /// Scores above this are flagged.
    pub threshold: f64,
    /// Held-out normal training images the threshold was chosen on.
    pub valid_images: usize,
    /// Normal test images.
    pub test_normal: usize,
    /// Anomalous test images.
    pub test_anomalous: usize,
    /// Area under the ROC curve, anomalies as positives.
    pub auroc: f64,
    /// Average precision, anomalies as positives.
    pub average_precision: f64,
    /// Fraction of normal test images flagged.
    pub test_fpr: f64,
    /// Fraction of anomalous test images flagged.
    pub recall: f64,
    /// AUROC per anomalous class.
    pub per_class: Vec<ClassDetection>,
    /// The linear baseline, when asked for: AUROC of the squared error of an exact
    /// PCA with as many components as the model's code, fitted on the samples the
    /// model trained on, on the same test samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca_auroc: Option<f64>,
    /// For the density score: the mixture fitted to the normal training images,
    /// stored with the threshold (not printed).
    #[serde(skip)]
    pub density: Option<Density>,
}

impl AnomalyReport {
    /// The threshold as the artifact stores it, so that new data are judged the same
    /// way ([`save_threshold`]).
    pub fn threshold(&self) -> ae_infer::Threshold {
        ae_infer::Threshold {
            score: self.score,
            value: self.threshold,
            target_fpr: self.target_fpr,
            normal: self.normal.clone(),
            samples: self.valid_images,
            density: self.density.clone(),
        }
    }
}

/// Stores `threshold` in the artifact folder `dir` ([`THRESHOLD_FILE`]), replacing
/// any earlier one; returns the file.
pub fn save_threshold(
    dir: &std::path::Path,
    threshold: &ae_infer::Threshold,
) -> Result<std::path::PathBuf> {
    let path = dir.join(THRESHOLD_FILE);
    let text = serde_json::to_string_pretty(threshold)?;
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// How [`detect`] scores and thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Protocol {
    /// The score.
    pub score: Score,
    /// The false-positive rate the threshold is chosen for.
    pub target_fpr: f64,
    /// For the density score: the mixture's components.
    pub components: usize,
}

/// Runs the one-class protocol: for the density score, the density of the normal
/// images the run trained on; the threshold at the target false-positive rate on the
/// run's held-out normal images (the validation part of its training images), then
/// AUROC, average precision and the rates at that threshold on the test split,
/// `normal` labels being the negatives.
pub fn detect(
    model: &AnyAutoencoder,
    config: &TrainConfig,
    data: &Dataset,
    normal: &[u8],
    protocol: Protocol,
    device: &Device,
) -> Result<AnomalyReport> {
    let Protocol {
        score, target_fpr, ..
    } = protocol;
    if !(target_fpr > 0.0 && target_fpr < 1.0) {
        bail!("--fpr {target_fpr}: expected a false-positive rate in (0, 1)");
    }
    if normal.is_empty() {
        bail!("no normal class: train with --classes, or pass --normal");
    }
    let (train_images, train, valid) = training_samples(config, data)?;
    let of_normal = |part: &ae_data::IndexDataset| -> Vec<usize> {
        part.iter()
            .flatten()
            .filter(|&i| normal.contains(&train_images.labels[i]))
            .collect()
    };
    let valid = of_normal(&valid);
    if valid.is_empty() {
        bail!(
            "the run held out no normal training images (valid_fraction = {}): the threshold \
             needs normal images the model did not train on",
            config.valid_fraction
        );
    }
    let density = match score {
        Score::Density => Some(fit_density(
            model,
            &train_images,
            &of_normal(&train),
            protocol.components,
            config.seed,
            device,
        )?),
        _ => None,
    };
    let valid_scores = scores(
        model,
        score,
        density.as_ref(),
        &train_images,
        &valid,
        device,
    )?;
    let threshold = ae_analysis::threshold_at_fpr(&valid_scores, target_fpr)?;

    let test = &data.test;
    let all: Vec<usize> = (0..test.len()).collect();
    let test_scores = scores(model, score, density.as_ref(), test, &all, device)?;
    let anomalous: Vec<bool> = test.labels.iter().map(|l| !normal.contains(l)).collect();
    let (n_anomalous, n_normal) = (
        anomalous.iter().filter(|&&a| a).count(),
        anomalous.iter().filter(|&&a| !a).count(),
    );
    if n_anomalous == 0 || n_normal == 0 {
        bail!(
            "the test split has {n_normal} normal and {n_anomalous} anomalous images for \
             normal classes {normal:?}: both are needed"
        );
    }
    let flagged = |want: bool| {
        test_scores
            .iter()
            .zip(&anomalous)
            .filter(|&(&s, &a)| a == want && s > threshold)
            .count()
    };
    let per_class = per_class(data, normal, &test_scores)?;
    Ok(AnomalyReport {
        normal: normal.to_vec(),
        normal_names: normal.iter().map(|&l| class_name(data, l)).collect(),
        score,
        target_fpr,
        threshold,
        valid_images: valid_scores.len(),
        test_normal: n_normal,
        test_anomalous: n_anomalous,
        auroc: ae_analysis::auroc(&test_scores, &anomalous)?,
        average_precision: ae_analysis::average_precision(&test_scores, &anomalous)?,
        test_fpr: flagged(false) as f64 / n_normal as f64,
        recall: flagged(true) as f64 / n_anomalous as f64,
        per_class,
        pca_auroc: None,
        density,
    })
}

/// The AUROC of the normal test images against each anomalous class's, by `scores`
/// (one per test image).
fn per_class(data: &Dataset, normal: &[u8], test_scores: &[f64]) -> Result<Vec<ClassDetection>> {
    let test = &data.test;
    let mut per_class = Vec::new();
    let mut labels: Vec<u8> = test.labels.clone();
    labels.sort_unstable();
    labels.dedup();
    for label in labels.into_iter().filter(|l| !normal.contains(l)) {
        let (s, positive): (Vec<f64>, Vec<bool>) = test_scores
            .iter()
            .zip(&test.labels)
            .filter(|&(_, l)| *l == label || normal.contains(l))
            .map(|(&s, &l)| (s, l == label))
            .unzip();
        per_class.push(ClassDetection {
            label,
            name: class_name(data, label),
            images: positive.iter().filter(|&&p| p).count(),
            auroc: ae_analysis::auroc(&s, &positive)?,
        });
    }
    Ok(per_class)
}

/// AUROC of the linear baseline under the same protocol: an exact PCA of
/// `components` components fitted on the samples `config` trains on (its normal
/// classes, less the validation share), each test sample scored by its squared
/// reconstruction error, the `normal` labels the negatives.
pub fn pca_auroc(
    config: &TrainConfig,
    data: &Dataset,
    normal: &[u8],
    components: usize,
) -> Result<f64> {
    let (samples, train, _) = training_samples(config, data)?;
    let indices: Vec<usize> = train.iter().flatten().collect();
    let mut rows = Vec::new();
    samples.try_gather(&indices, &mut rows)?;
    let pca = ae_analysis::Pca::fit(&rows, data.features(), components)?;
    let scores = pca.sq_errors(&crate::applications::compare::pixels(&data.test))?;
    let anomalous: Vec<bool> = data
        .test
        .labels
        .iter()
        .map(|l| !normal.contains(l))
        .collect();
    Ok(ae_analysis::auroc(&scores, &anomalous)?)
}

impl std::fmt::Display for AnomalyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "normal classes {}, score: {}; {} normal and {} anomalous test samples",
            self.normal_names.join(", "),
            self.score,
            self.test_normal,
            self.test_anomalous
        )?;
        writeln!(
            f,
            "AUROC {:.4}, average precision {:.4}",
            self.auroc, self.average_precision
        )?;
        writeln!(
            f,
            "threshold {:.4} (false-positive rate {} on {} held-out normal samples): test \
             false-positive rate {:.4}, recall {:.4}",
            self.threshold, self.target_fpr, self.valid_images, self.test_fpr, self.recall
        )?;
        writeln!(f, "\n| anomalous class | samples | AUROC |")?;
        writeln!(f, "|---|---|---|")?;
        for c in &self.per_class {
            writeln!(
                f,
                "| {} {} | {} | {:.4} |",
                c.label, c.name, c.images, c.auroc
            )?;
        }
        if let Some(auroc) = self.pca_auroc {
            writeln!(
                f,
                "\nPCA baseline (as many components as the code, fitted on the same training \
                 samples): AUROC {auroc:.4}"
            )?;
        }
        Ok(())
    }
}
