//! Reading an artifact folder: what a trained model needs to meet new data.

use std::path::{Path, PathBuf};

use ae_data::rows::Columns;
use ae_data::{Colour, DataSpec, FolderSpec, Standardizer};
use ae_models::{AnyAutoencoder, ModelConfig};
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
    let text = std::fs::read_to_string(path)
        .map_err(|e| artifact_error(path, format!("cannot read {what}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| artifact_error(path, format!("not valid {what}: {e}")))
}

impl Artifact {
    /// Opens the artifact in `dir`.
    pub fn open(dir: &Path) -> Result<Self, InferError> {
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
        let saved: Saved = read_json(&config, "a training configuration")?;
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
        let path = dir.join(THRESHOLD_FILE);
        let threshold: Option<Threshold> = if path.is_file() {
            Some(read_json(&path, "an anomaly threshold")?)
        } else {
            None
        };
        if let Some(t) = threshold.as_ref().filter(|t| t.score == Score::Density) {
            let want = saved.model.latent() + 2;
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
        Ok(Self {
            dir: dir.to_path_buf(),
            model: saved.model,
            dataset: saved.dataset,
            standardizer,
            threshold,
        })
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
/// on `device`.
pub fn load_weights(
    config: &ModelConfig,
    path: &Path,
    device: &Device,
) -> Result<AnyAutoencoder, InferError> {
    let model = config.init(device)?;
    let record = ModuleRecord::load(path)
        .map_err(|e| artifact_error(path, format!("cannot read weights: {e:?}")))?;
    model.try_load_record(record).map_err(|e| {
        artifact_error(
            path,
            format!("the weights do not fit the model of the configuration: {e:?}"),
        )
    })
}

/// The image shape `[channels, rows, columns]` of `model` trained on `data`: a
/// convolutional model's own, else the data set's (see [`DataSpec::image_shape`]);
/// `None` for a model of table rows.
pub fn image_shape(model: &ModelConfig, data: &DataSpec) -> Option<[usize; 3]> {
    let from_data = data.image_shape(model.input_size());
    from_data.and(model.image_shape()).or(from_data)
}
