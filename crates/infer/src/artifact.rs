//! Reading an artifact folder: what a trained model needs to meet new data.

use std::path::{Path, PathBuf};

use ae_data::rows::Columns;
use ae_data::{Colour, DataSpec, FolderSpec, Standardizer};
use ae_models::{AnyAutoencoder, ModelConfig};
use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use serde::Deserialize;

use crate::{
    CONFIG_FILE, InferError, MODEL_FILE, Predictor, STANDARDIZER_FILE, Score, THRESHOLD_FILE,
    Threshold,
};

/// The parts of the training configuration inference needs (the file holds more).
#[derive(Deserialize)]
struct Saved {
    model: ModelConfig,
    dataset: DataSpec,
}

/// A trained model's folder, opened: its configuration, standardisation and
/// threshold, checked; the weights are read by [`load`](Self::load).
#[derive(Clone, Debug)]
pub struct Artifact {
    /// The folder.
    pub dir: PathBuf,
    /// The model's configuration.
    pub model: ModelConfig,
    /// The data set it was trained on.
    pub dataset: DataSpec,
    /// A table's standardisation (with its column names when the file had a header).
    pub standardizer: Option<Standardizer>,
    /// The anomaly threshold, once `trainer anomaly` has chosen one.
    pub threshold: Option<Threshold>,
}

fn artifact_error(path: &Path, message: impl Into<String>) -> InferError {
    InferError::Artifact {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads and parses the JSON file `path`.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, InferError> {
    parse_json(path, &read_text(path, what)?, what)
}

/// Reads the text file `path`, `what` naming it in the error.
fn read_text(path: &Path, what: &str) -> Result<String, InferError> {
    std::fs::read_to_string(path)
        .map_err(|e| artifact_error(path, format!("cannot read {what}: {e}")))
}

/// Parses `text`, the JSON of the file `path`.
fn parse_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    what: &str,
) -> Result<T, InferError> {
    serde_json::from_str(text)
        .map_err(|e| artifact_error(path, format!("not valid JSON for {what}: {e}")))
}

/// The anomaly threshold saved in `dir`, when there is one, checked: a finite value
/// (of 0 or more for a squared error), a rate in (0, 1), and for the density score a
/// valid density of the code's `latent` values and two of the reconstruction.
fn read_threshold(dir: &Path, latent: usize) -> Result<Option<Threshold>, InferError> {
    let path = dir.join(THRESHOLD_FILE);
    let threshold: Option<Threshold> = if path.is_file() {
        Some(read_json(&path, "an anomaly threshold")?)
    } else {
        None
    };
    if let Some(t) = &threshold {
        // A squared error is never negative: a negative threshold flags everything.
        let floor = match t.score {
            Score::Reconstruction => 0.0,
            _ => f64::NEG_INFINITY,
        };
        if !t.value.is_finite() || t.value < floor {
            return Err(artifact_error(
                &path,
                format!(
                    "a threshold of {} for the {}: expected a finite number{}",
                    t.value,
                    t.score,
                    if floor == 0.0 { " of 0 or more" } else { "" }
                ),
            ));
        }
        if !(t.target_fpr > 0.0 && t.target_fpr < 1.0) {
            return Err(artifact_error(
                &path,
                format!(
                    "a false-positive rate of {}: expected one in (0, 1)",
                    t.target_fpr
                ),
            ));
        }
    }
    if let Some(t) = threshold.as_ref().filter(|t| t.score == Score::Density) {
        let want = latent + 2;
        match &t.density {
            None => {
                return Err(artifact_error(
                    &path,
                    "the score is the code's density, but no fitted density is saved \
                     (run `trainer anomaly --score density` again)",
                ));
            }
            Some(d) if d.validate().is_err() || d.dim != want => {
                return Err(artifact_error(
                    &path,
                    format!(
                        "a density of {} features in {} components ({}): expected a \
                         valid one of {want} features (the code and two of the \
                         reconstruction)",
                        d.dim,
                        d.weights.len(),
                        d.validate().err().map_or("valid".into(), |e| e.to_string())
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(threshold)
}

impl Artifact {
    /// Opens the artifact in `dir`.
    pub fn open(dir: &Path) -> Result<Self, InferError> {
        Self::open_with::<serde::de::IgnoredAny>(dir).map(|(artifact, _)| artifact)
    }

    /// Opens the artifact in `dir` and reads its whole configuration as `T` besides:
    /// an application's own settings beside the model's and the data's (the trainer's
    /// run). The folder is read and checked once, here.
    pub fn open_with<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<(Self, T), InferError> {
        if !dir.is_dir() {
            return Err(artifact_error(
                dir,
                "no such artifact folder (train one with `trainer train --out DIR`)",
            ));
        }
        let config = dir.join(CONFIG_FILE);
        if !config.is_file() {
            return Err(artifact_error(
                dir,
                format!("not an artifact folder ({CONFIG_FILE} is missing)"),
            ));
        }
        let what = "a training configuration";
        let text = read_text(&config, what)?;
        let saved: Saved = parse_json(&config, &text, what)?;
        let whole: T = parse_json(&config, &text, what)?;
        saved.model.validate()?;
        let standardizer = match &saved.dataset {
            DataSpec::Named(_) | DataSpec::Folder(_) => None,
            DataSpec::Table(spec) => {
                let path = dir.join(STANDARDIZER_FILE);
                let s: Standardizer = read_json(&path, "standardisation statistics")?;
                let features = saved.model.input_size();
                let columns = spec.columns_of(features);
                if s.mean.len() != columns || s.std.len() != columns {
                    return Err(artifact_error(
                        &path,
                        format!(
                            "statistics of {} columns, but the model takes {columns}{}",
                            s.mean.len(),
                            match spec.window {
                                Some(w) => format!(" (in windows of {} steps)", w.size),
                                None => String::new(),
                            }
                        ),
                    ));
                }
                Some(s)
            }
        };
        let threshold = read_threshold(dir, saved.model.latent())?;
        let artifact = Self {
            dir: dir.to_path_buf(),
            model: saved.model,
            dataset: saved.dataset,
            standardizer,
            threshold,
        };
        Ok((artifact, whole))
    }

    /// Features per sample.
    pub fn features(&self) -> usize {
        self.model.input_size()
    }

    /// The windows a series model takes its samples in: a new series' steps are cut
    /// into them ([`ae_data::WindowStream`]); `None` for any other model.
    pub fn windows(&self) -> Option<ae_data::Windows> {
        match &self.dataset {
            DataSpec::Table(spec) => spec.window,
            _ => None,
        }
    }

    /// The columns new samples must have: their number (for a series model, a step's
    /// values), a table's names and its label column, or how image files become
    /// samples ([`Self::image_input`]).
    pub fn columns(&self) -> Columns<'_> {
        let (names, label, time) = match (&self.dataset, &self.standardizer) {
            (DataSpec::Table(spec), Some(s)) => (
                &s.names[..],
                spec.label_column.as_deref(),
                spec.time_column.as_deref(),
            ),
            _ => (&[][..], None, None),
        };
        Columns {
            features: match &self.dataset {
                DataSpec::Table(spec) => spec.columns_of(self.features()),
                _ => self.features(),
            },
            names,
            label,
            time,
            images: self.image_input(),
        }
    }

    /// `[channels, rows, columns]` of the model's images; `None` for a table model.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        image_shape(&self.model, &self.dataset)
    }

    /// How a new image file becomes this model's samples: made grey or RGB as its
    /// training images were, then resized and centre-cropped to the model's size —
    /// or, for a model of patches, resized as the training images were and cut into
    /// patches. `None` for a table model.
    pub fn image_input(&self) -> Option<FolderSpec> {
        let [channels, rows, cols] = self.image_shape()?;
        let colour = match channels {
            1 => Colour::Grey,
            3 => Colour::Rgb,
            _ => return None,
        };
        let spec = FolderSpec {
            colour,
            image_size: Some([rows, cols]),
            ..FolderSpec::new("")
        };
        Some(match &self.dataset {
            DataSpec::Folder(f) if f.patches.is_some() => FolderSpec {
                image_size: f.image_size,
                patches: f.patches,
                ..spec
            },
            _ => spec,
        })
    }

    /// The model with its trained weights on `device`, ready for new samples.
    pub fn load(&self, device: &Device) -> Result<Predictor, InferError> {
        let path = self.dir.join(MODEL_FILE);
        if !path.is_file() {
            return Err(artifact_error(
                &path,
                "the weights are missing (did training finish?)",
            ));
        }
        let model = load_weights(&self.model, &path, device)?;
        Ok(Predictor::new(
            &self.model,
            model,
            self.standardizer.clone(),
            self.threshold.clone(),
            device.clone(),
        ))
    }
}

/// The model of `config` with the weights of `path` (a final model or a checkpoint)
/// on `device`, checked as [`load_module`] checks.
pub fn load_weights(
    config: &ModelConfig,
    path: &Path,
    device: &Device,
) -> Result<AnyAutoencoder, InferError> {
    load_module(config.init(device)?, path)
}

/// `module` with the weights of `path`: the file is checked against its checksum
/// ([`crate::verify_checksum`]) when one is kept, and weights that are not all finite
/// are refused, naming the tensor.
pub fn load_module<M: Module>(module: M, path: &Path) -> Result<M, InferError> {
    crate::verify_checksum(path)?;
    let record = ModuleRecord::load(path)
        .map_err(|e| artifact_error(path, format!("cannot read weights: {e}")))?;
    let module = module.try_load_record(record).map_err(|e| {
        artifact_error(
            path,
            format!("the weights do not fit the model of the configuration: {e}"),
        )
    })?;
    match ae_models::first_non_finite(&module) {
        None => Ok(module),
        Some(what) => Err(artifact_error(
            path,
            format!("the weights are not all finite numbers: {what}"),
        )),
    }
}

/// Writes the weights of `module` to `path` (burnpack, whole or not at all) with their
/// checksum beside them ([`crate::write_checksum`]); weights that are not all finite
/// are refused, naming the tensor, and nothing is written.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<(), InferError> {
    if let Some(what) = ae_models::first_non_finite(module) {
        return Err(artifact_error(
            path,
            format!("not written: the weights are not all finite numbers: {what}"),
        ));
    }
    module
        .clone()
        .into_record()
        .save(path)
        .map_err(|e| artifact_error(path, format!("cannot write weights: {e}")))?;
    crate::write_checksum(path)?;
    Ok(())
}

/// The image shape `[channels, rows, columns]` of `model` trained on `data`: a
/// convolutional model's own, else the data set's (see [`DataSpec::image_shape`]);
/// `None` for a model of table rows.
pub fn image_shape(model: &ModelConfig, data: &DataSpec) -> Option<[usize; 3]> {
    let from_data = data.image_shape(model.input_size());
    from_data.and(model.image_shape()).or(from_data)
}

#[cfg(test)]
mod tests {
    use ae_models::{MlpAutoencoderConfig, ModelConfig};
    use burn::module::{Module, ModuleMapper, Param};
    use burn::prelude::*;

    /// Every weight NaN.
    struct Spoil;

    impl ModuleMapper for Spoil {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| t.ones_like().mul_scalar(f32::NAN))
        }
    }

    #[test]
    fn weights_that_are_not_finite_are_neither_written_nor_loaded() {
        let dir = tempfile::tempdir().expect("a folder");
        let device = Device::flex();
        let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(4, vec![], 2));
        let good = config.init(&device).expect("an MLP");
        let path = dir.path().join("model.bpk");
        super::save_module(&good, &path).expect("finite weights are written");
        assert!(crate::checksum_path(&path).is_file(), "with their checksum");
        super::load_weights(&config, &path, &device).expect("and load back");

        let spoilt = good.map(&mut Spoil);
        let other = dir.path().join("nan.bpk");
        let err = super::save_module(&spoilt, &other)
            .expect_err("NaN weights")
            .to_string();
        assert!(err.contains("not written") && err.contains("NaN"), "{err}");
        assert!(!other.exists());
        // Written past the check (by another tool), they are refused on loading.
        spoilt.into_record().save(&other).expect("saved raw");
        let err = super::load_weights(&config, &other, &device)
            .expect_err("NaN weights")
            .to_string();
        assert!(
            err.contains("nan.bpk: the weights are not all finite numbers") && err.contains("NaN"),
            "{err}"
        );
    }
}
