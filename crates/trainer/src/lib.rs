//! The library half of the `trainer` binary: what its commands do, reusable from
//! examples and tests.
//!
//! - [`device::select`] is the one function that picks a backend and device.
//! - [`fit::train`] trains any [`ae_models::ModelConfig`] through burn's `Learner`
//!   and writes an [`artifact`]; [`artifact::Artifact`] reads one back.
//! - [`evaluate::evaluate`] measures reconstruction quality on a split.
//! - The applications of a trained model: [`anomaly::detect`] (one-class anomaly
//!   detection), [`embed`] (codes as `.npy`/CSV, similarity search), [`generate`]
//!   (denoising, interpolation, samples), [`maps`] (latent maps, manifolds, filters,
//!   loss curves, drawn by [`plot`]), [`compare`] (the PCA baseline), [`compress`] (rate–distortion), [`finetune`] (transfer learning
//!   with few labels).
#![warn(missing_docs)]

pub mod anomaly;
pub mod artifact;
pub mod compare;
pub mod compress;
pub mod config;
pub mod device;
pub mod embed;
pub mod evaluate;
pub mod export;
pub mod finetune;
pub mod fit;
pub mod generate;
pub mod guard;
pub mod image;
pub mod maps;
pub mod plot;
pub mod progress;
#[cfg(feature = "remote")]
pub mod remote;

use ae_data::{DataError, DataSpec, Dataset, DatasetName, Images, Locator, Split};
use anyhow::{Result, bail};

/// The images of `split`, or an error saying that what was asked draws or encodes
/// images and a table has none.
pub fn images_of(split: &Split) -> Result<&Images> {
    match split.as_images() {
        Some(images) => Ok(images),
        None => bail!(
            "this works on images, and the data set is a table ({} columns per row)",
            split.features()
        ),
    }
}

/// The label of `class`: a label number, or a class name of `data`.
pub fn class_label(class: &str, data: &Dataset) -> Result<u8> {
    if let Some(i) = data.classes.iter().position(|c| c == class) {
        return Ok(i as u8);
    }
    match class.parse::<u8>() {
        Ok(label) if usize::from(label) < data.classes.len() => Ok(label),
        _ => bail!(
            "class {class}: {} has the labels 0 to {} ({})",
            data.spec.short_name(),
            data.classes.len().saturating_sub(1),
            data.classes.join(", ")
        ),
    }
}

/// Loads the data set a command asked for.
///
/// With a name, that data set or an error — never a substitute. Without one, MNIST
/// if it is on disk or can be downloaded, else the embedded Fashion-MNIST sample;
/// the returned note says which was used when it was not MNIST.
pub fn load_dataset(
    requested: Option<&DataSpec>,
    locator: &Locator,
) -> Result<(Dataset, Option<String>)> {
    if let Some(spec) = requested {
        return Ok((spec.load(locator, None)?, None));
    }
    match locator.load(DatasetName::Mnist) {
        Ok(data) => Ok((data, None)),
        Err(DataError::NotFound { tried, .. }) => {
            let data = locator.load(DatasetName::FashionMnistSample)?;
            let note = format!(
                "MNIST is not on disk and could not be downloaded ({} places tried); using the \
                 embedded Fashion-MNIST sample ({} train / {} test images). Pass --dataset to choose.",
                tried.len(),
                data.train.len(),
                data.test.len()
            );
            Ok((data, Some(note)))
        }
        Err(other) => Err(other.into()),
    }
}
