//! The data a run works on: the data set a command asked for, its shape as the
//! models see it, the labels a user names, and the samples a run trains and
//! validates on.

use std::borrow::Cow;
use std::sync::Arc;

use ae_data::{DataError, DataSpec, Dataset, DatasetName, Images, IndexDataset, Locator, Split};
use ae_models::InputShape;
use ae_models::train::Batch;
use anyhow::{Result, anyhow, bail};
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset as _;
use burn::prelude::{Device, Int, Tensor, TensorData};

use crate::run::config::TrainConfig;

/// The images of `split` (read into memory when they are on disk), or an error saying
/// that what was asked draws or encodes images and a table has none.
pub fn images_of(split: &Split) -> Result<Cow<'_, Images>> {
    match split.read_images() {
        Some(images) => Ok(images?),
        None => Err(not_images(split)),
    }
}

/// `[channels, rows, cols]` of the images of `split`, or the error of [`images_of`].
pub fn image_shape_of(split: &Split) -> Result<[usize; 3]> {
    split.image_shape().ok_or_else(|| not_images(split))
}

fn not_images(split: &Split) -> anyhow::Error {
    anyhow!(
        "this works on images, and the data set is a table ({} columns per row)",
        split.features()
    )
}

/// The shape of one sample of `data`, as the models see it.
pub fn input_shape(data: &Dataset) -> InputShape {
    if let ae_data::DataSpec::Table(table) = &data.spec
        && let Some(w) = table.window
    {
        return InputShape::Sequence {
            steps: w.size,
            channels: table.columns_of(data.features()),
        };
    }
    match data.image_shape() {
        Some([channels, height, width]) => InputShape::Image {
            channels,
            height,
            width,
        },
        None => InputShape::Vector {
            features: data.features(),
        },
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

/// One line saying what `data` is and where it came from.
pub fn describe(data: &Dataset) -> String {
    let what = if data.is_images() {
        "images".to_string()
    } else {
        format!("rows of {} columns, standardised", data.features())
    };
    format!(
        "{} from {} ({} train / {} test {what})",
        data.spec.short_name(),
        data.source,
        data.train.len(),
        data.test.len()
    )
}

/// The samples a run trains on — the training split, kept to `config.classes` — and
/// the indices of its training and held-out validation parts, the two cut to the
/// first `config.limit` samples. The split is shared with `data` unless classes
/// select a part of it.
pub fn training_samples(
    config: &TrainConfig,
    data: &Dataset,
) -> Result<(Arc<Split>, IndexDataset, IndexDataset)> {
    let samples = match &config.classes {
        Some(labels) => Arc::new(data.train.with_labels(labels)),
        None => data.train.clone(),
    };
    if samples.is_empty() {
        bail!(
            "classes = {:?}: no {} training sample has one of these labels",
            config.classes.as_deref().unwrap_or_default(),
            data.spec
        );
    }
    let n = config.limit.map_or(samples.len(), |l| l.min(samples.len()));
    let (train, valid) = IndexDataset::split(n, config.valid_fraction);
    if train.is_empty() {
        bail!("no training samples left after --limit and --valid-fraction");
    }
    Ok((samples, train, valid))
}

/// A batcher of `B`'s inputs with the split's labels beside them (none when the split
/// has fewer labels than samples, as a table without a label column).
#[derive(Clone, Debug)]
pub struct Labelled<B> {
    inner: B,
    labels: Arc<Vec<u8>>,
}

impl<B> Labelled<B> {
    /// `inner`'s batches with the labels of `split`.
    pub fn new(inner: B, split: &Split) -> Self {
        let labels = if split.labels.len() == split.len() {
            split.labels.clone()
        } else {
            Vec::new()
        };
        Self {
            inner,
            labels: Arc::new(labels),
        }
    }
}

impl<B: Batcher<usize, Tensor<2>>> Batcher<usize, Batch> for Labelled<B> {
    fn batch(&self, items: Vec<usize>, device: &Device) -> Batch {
        let labels = (!self.labels.is_empty()).then(|| {
            let values: Vec<i64> = items.iter().map(|&i| i64::from(self.labels[i])).collect();
            Tensor::<1, Int>::from_data(TensorData::new(values, [items.len()]), device)
        });
        Batch {
            input: self.inner.batch(items, device),
            labels,
        }
    }
}
