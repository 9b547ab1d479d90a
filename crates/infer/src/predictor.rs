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
    /// Whether each sample's score is above the saved threshold, or not finite
    /// ([`Threshold::flags`]; none saved: `None`).
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
        let density = self.threshold.as_ref().and_then(|t| t.density.as_ref());
        if kind == Score::Density && density.is_none() {
            return Err(InferError::Input(
                "the threshold is of the code's density, and holds no fitted density".into(),
            ));
        }
        let mut parts = self.map(rows, |x| {
            let errors =
                (self.model.decode(self.model.encode(x.clone())) - x.clone()).powi_scalar(2);
            let score = match (kind, vae) {
                (Score::Elbo, Some(vae)) => vae.negative_elbo(x).unsqueeze_dim(1),
                (Score::Density, _) => crate::density_features(&self.model, x),
                _ => errors.clone().sum_dim(1),
            };
            vec![errors, score]
        })?;
        let values = parts.remove(1);
        let scores: Vec<f64> = match density {
            Some(d) if kind == Score::Density => d
                .negative_log_density(&values)
                .map_err(|e| InferError::Input(format!("the fitted density: {e}")))?,
            _ => values.into_iter().map(f64::from).collect(),
        };
        let anomalous = self
            .threshold
            .as_ref()
            .map(|t| scores.iter().map(|&s| t.flags(s)).collect());
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

#[cfg(test)]
mod tests {
    use ae_models::{Autoencoder, MlpAutoencoderConfig, ModelConfig, VaeConfig};
    use burn::prelude::*;

    use super::*;

    fn threshold(score: Score, value: f64) -> Threshold {
        Threshold {
            score,
            value,
            target_fpr: 0.05,
            normal: vec![0],
            samples: 10,
            density: None,
        }
    }

    #[test]
    fn a_score_that_is_not_a_number_is_anomalous() {
        let t = threshold(Score::Reconstruction, 2.0);
        assert!(!t.flags(1.0) && !t.flags(2.0));
        assert!(t.flags(2.5));
        // Not numbers: flagged, never passed as normal.
        assert!(t.flags(f64::NAN) && t.flags(f64::INFINITY));
        assert!(!t.flags(f64::NEG_INFINITY), "below every threshold");
    }

    #[test]
    fn a_vae_is_scored_by_the_negative_elbo_its_threshold_names() {
        let device = Device::flex();
        device.seed(1);
        let config = ModelConfig::Vae(VaeConfig::new(6, vec![5], 2));
        let model = config.init(&device).expect("a VAE");
        let vae = model.as_vae().expect("a VAE").clone();
        let rows: Vec<f32> = (0..18).map(|i| (i % 7) as f32 / 7.0).collect();
        let x = Tensor::<2>::from_data(TensorData::new(rows.clone(), [3, 6]), &device);
        let elbo = Predictor::new(
            &config,
            model,
            None,
            Some(threshold(Score::Elbo, 0.0)),
            device.clone(),
        );
        let scores = elbo.score(&rows).expect("scores");
        assert_eq!(scores.kind, Score::Elbo);
        assert_eq!(
            scores.anomalous,
            Some(vec![true; 3]),
            "every ELBO is above 0"
        );
        // The ELBO samples the posterior: the score is one draw of the negative ELBO,
        // near its mean over many draws, and far from the squared reconstruction
        // error, the other score.
        let draws = 50;
        let mut mean = vec![0f64; 3];
        for _ in 0..draws {
            let v: Vec<f32> = vae
                .negative_elbo(x.clone())
                .into_data()
                .try_into_vec_as()
                .expect("f32");
            mean.iter_mut()
                .zip(&v)
                .for_each(|(m, v)| *m += f64::from(*v) / f64::from(draws));
        }
        for (i, (s, m)) in scores.scores.iter().zip(&mean).enumerate() {
            let squared: f32 = scores.errors[i * 6..(i + 1) * 6].iter().sum();
            assert!((s - m).abs() < 0.25 * m, "{s} against a mean of {m}");
            assert!(
                *s > 3.0 * f64::from(squared),
                "{s}: the squared error {squared}?"
            );
        }
        // The errors stay the reconstruction's.
        let recon = vae.decode(vae.encode(Tensor::from_data(
            TensorData::new(rows.clone(), [3, 6]),
            &device,
        )));
        let recon: Vec<f32> = recon.into_data().try_into_vec_as().expect("f32");
        let first: f32 = (0..6).map(|j| (recon[j] - rows[j]).powi(2)).sum();
        let got: f32 = scores.errors[..6].iter().sum();
        assert!((first - got).abs() < 1e-5);

        // A plain autoencoder cannot take an ELBO threshold.
        let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(6, vec![], 2));
        let mlp = config.init(&device).expect("an MLP");
        let p = Predictor::new(
            &config,
            mlp,
            None,
            Some(threshold(Score::Elbo, 1.0)),
            device,
        );
        let err = p.score(&rows).expect_err("not a VAE").to_string();
        assert!(err.contains("not a VAE"), "{err}");
    }

    #[test]
    fn the_density_score_is_the_fitted_mixture_of_code_and_reconstruction() {
        let device = Device::flex();
        device.seed(2);
        let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(6, vec![5], 2));
        let model = config.init(&device).expect("an MLP");
        let n = 60;
        let rows: Vec<f32> = (0..n * 6).map(|i| ((i * 7 % 11) as f32) / 11.0).collect();
        let x = Tensor::<2>::from_data(TensorData::new(rows.clone(), [n, 6]), &device);
        let features: Vec<f32> = crate::density_features(&model, x.clone())
            .into_data()
            .try_into_vec_as()
            .expect("f32");
        assert_eq!(features.len(), n * 4);
        // The first row by hand: its code, ‖x − x̂‖ / ‖x‖, and the cosine of x and x̂.
        let code: Vec<f32> = model
            .encode(x.clone())
            .into_data()
            .try_into_vec_as()
            .expect("f32");
        let recon: Vec<f32> = model
            .decode(model.encode(x))
            .into_data()
            .try_into_vec_as()
            .expect("f32");
        let (x0, r0) = (&rows[..6], &recon[..6]);
        let norm = |v: &[f32]| v.iter().map(|a| a * a).sum::<f32>().sqrt();
        let diff: Vec<f32> = x0.iter().zip(r0).map(|(a, b)| a - b).collect();
        let dot: f32 = x0.iter().zip(r0).map(|(a, b)| a * b).sum();
        let want = [
            code[0],
            code[1],
            norm(&diff) / norm(x0),
            dot / (norm(x0) * norm(r0)),
        ];
        for (g, w) in features[..4].iter().zip(want) {
            assert!(
                (g - w).abs() < 1e-5,
                "{:?} against {want:?}",
                &features[..4]
            );
        }

        let density = ae_analysis::Density::fit(&features, 4, 2, 50, 0).expect("fits");
        let mut t = threshold(Score::Density, 0.0);
        t.density = Some(density.clone());
        let p = Predictor::new(&config, model.clone(), None, Some(t), device.clone())
            .with_batch_size(7);
        let scores = p.score(&rows).expect("scores");
        assert_eq!(scores.kind, Score::Density);
        let want = density.negative_log_density(&features).expect("rows");
        for (g, w) in scores.scores.iter().zip(&want) {
            assert!((g - w).abs() < 1e-3 * w.abs().max(1.0), "{g} against {w}");
        }
        // Named without a fitted mixture, it is refused.
        let p = Predictor::new(
            &config,
            model,
            None,
            Some(threshold(Score::Density, 0.0)),
            device,
        );
        let err = p.score(&rows).expect_err("no density").to_string();
        assert!(err.contains("no fitted density"), "{err}");
    }

    #[test]
    fn tables_are_standardised_in_and_reconstructed_in_their_units() {
        let device = Device::flex();
        let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(2, vec![], 2));
        let model = config.init(&device).expect("an MLP");
        let standardizer = Standardizer {
            mean: vec![100.0, -5.0],
            std: vec![10.0, 0.5],
            names: vec!["a".into(), "b".into()],
        };
        let p = Predictor::new(
            &config,
            model.clone(),
            Some(standardizer),
            None,
            device.clone(),
        )
        .with_batch_size(1);
        let rows = [110.0, -5.5, 90.0, -4.0];
        // The model sees (x − mean) / std; its output comes back as x · std + mean.
        let z = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, -1.0, -1.0, 2.0], [2, 2]),
            &device,
        );
        let y: Vec<f32> = model
            .decode(model.encode(z))
            .into_data()
            .try_into_vec_as()
            .expect("f32");
        let expected = [
            y[0] * 10.0 + 100.0,
            y[1] * 0.5 - 5.0,
            y[2] * 10.0 + 100.0,
            y[3] * 0.5 - 5.0,
        ];
        let got = p.reconstruct(&rows).expect("reconstructions");
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-3, "{g} against {e}");
        }
        let err = p.encode(&rows[..3]).expect_err("3 values").to_string();
        assert!(
            err.contains("3 values: expected one or more samples of 2 features"),
            "{err}"
        );
        let err = p.encode(&[1e38, 0.0]).expect_err("overflow").to_string();
        assert!(err.contains("standard deviations"), "{err}");
    }
}
