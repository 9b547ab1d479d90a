//! A loaded model applied to rows of raw values, batch by batch.

use ae_data::Standardizer;
use ae_models::{AnyAutoencoder, Autoencoder, ModelConfig};
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::{InferError, Score, Threshold};

/// The anomaly scores of samples, with what explains them.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// The score the values are: the threshold's, or the reconstruction error.
    pub kind: Score,
    /// One score per sample; higher is more anomalous.
    pub scores: Vec<f64>,
    /// The squared reconstruction error of every feature, `features` per sample, in
    /// the model's units (standardised values for a table, pixels for images).
    pub errors: Vec<f32>,
    /// Whether each sample's score is above the saved threshold (none saved: `None`).
    pub anomalous: Option<Vec<bool>>,
}

/// A trained model on a device, with what it needs to take raw samples.
#[derive(Debug)]
pub struct Predictor {
    model: AnyAutoencoder,
    standardizer: Option<Standardizer>,
    threshold: Option<Threshold>,
    device: Device,
    features: usize,
    latent: usize,
    batch_size: usize,
}

impl Predictor {
    /// The largest number of samples sent to the device at once, by default.
    pub const DEFAULT_BATCH_SIZE: usize = 256;

    /// `model`, built from `config`, on `device`; rows are standardised with
    /// `standardizer` (a table model's) and judged by `threshold` when given.
    pub fn new(
        config: &ModelConfig,
        model: AnyAutoencoder,
        standardizer: Option<Standardizer>,
        threshold: Option<Threshold>,
        device: Device,
    ) -> Self {
        Self {
            model,
            standardizer,
            threshold,
            device,
            features: config.input_size(),
            latent: config.latent(),
            batch_size: Self::DEFAULT_BATCH_SIZE,
        }
    }

    /// Sends at most `n` samples to the device at once (bounding its memory).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Features per sample.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The size of a code.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// The saved anomaly threshold, if any.
    pub fn threshold(&self) -> Option<&Threshold> {
        self.threshold.as_ref()
    }

    /// The model.
    pub fn model(&self) -> &AnyAutoencoder {
        &self.model
    }

    /// The device it runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The codes of `rows` (`features` values per sample), `latent` per sample.
    pub fn encode(&self, rows: &[f32]) -> Result<Vec<f32>, InferError> {
        self.map(rows, |x| vec![self.model.encode(x)])
            .map(|mut v| v.remove(0))
    }

    /// The reconstructions of `rows`, in the rows' own units (a table's values
    /// un-standardised).
    pub fn reconstruct(&self, rows: &[f32]) -> Result<Vec<f32>, InferError> {
        let mut out = self
            .map(rows, |x| vec![self.model.decode(self.model.encode(x))])?
            .remove(0);
        if let Some(s) = &self.standardizer {
            s.unstandardize_rows(&mut out);
        }
        Ok(out)
    }

    /// The anomaly scores of `rows`: the saved threshold's score (the reconstruction
    /// error when none is saved), each feature's squared error, and the threshold's
    /// decision.
    pub fn score(&self, rows: &[f32]) -> Result<Scores, InferError> {
        let kind = self.threshold.as_ref().map(|t| t.score).unwrap_or_default();
        let vae = self.model.as_vae();
        if kind == Score::Elbo && vae.is_none() {
            return Err(InferError::Input(
                "the threshold is of the negative ELBO, and this model is not a VAE".into(),
            ));
        }
        let mut parts = self.map(rows, |x| {
            let errors =
                (self.model.decode(self.model.encode(x.clone())) - x.clone()).powi_scalar(2);
            let score = match (kind, vae) {
                (Score::Elbo, Some(vae)) => vae.negative_elbo(x).unsqueeze_dim(1),
                _ => errors.clone().sum_dim(1),
            };
            vec![errors, score]
        })?;
        let scores: Vec<f64> = parts.remove(1).into_iter().map(f64::from).collect();
        let anomalous = self
            .threshold
            .as_ref()
            .map(|t| scores.iter().map(|&s| s > t.value).collect());
        Ok(Scores {
            kind,
            scores,
            errors: parts.remove(0),
            anomalous,
        })
    }

    /// Checks and standardises `rows`, runs `f` on batches of them, and gathers each
    /// of its outputs' values.
    fn map(
        &self,
        rows: &[f32],
        f: impl Fn(Tensor<2>) -> Vec<Tensor<2>>,
    ) -> Result<Vec<Vec<f32>>, InferError> {
        let features = self.features;
        if rows.is_empty() || !rows.len().is_multiple_of(features) {
            return Err(InferError::Input(format!(
                "{} values: expected one or more samples of {features} features",
                rows.len()
            )));
        }
        if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
            return Err(InferError::Input(format!(
                "row {}, column {}: {} is not a finite number",
                i / features,
                i % features,
                rows[i]
            )));
        }
        let mut outputs: Vec<Vec<f32>> = Vec::new();
        for (b, chunk) in rows.chunks(self.batch_size * features).enumerate() {
            let mut values = chunk.to_vec();
            if let Some(s) = &self.standardizer {
                s.standardize_rows(&mut values).map_err(|m| {
                    InferError::Input(format!("{m} (row {} of the input)", b * self.batch_size))
                })?;
            }
            let n = values.len() / features;
            let x = Tensor::<2>::from_data(TensorData::new(values, [n, features]), &self.device);
            for (k, y) in f(x).into_iter().enumerate() {
                let data = y
                    .into_data()
                    .try_into_vec_as::<f32>()
                    .map_err(|e| InferError::Input(format!("reading the model's output: {e:?}")))?;
                if outputs.len() <= k {
                    outputs.push(Vec::with_capacity(data.len() / n * (rows.len() / features)));
                }
                outputs[k].extend(data);
            }
        }
        Ok(outputs)
    }
}
