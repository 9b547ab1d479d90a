//! The embedded Fashion-MNIST sample (see `sample/README.md` for its origin and licence).

use std::path::Path;

use crate::catalogue::{DatasetName, FILE_NAMES};
use crate::dataset::{Dataset, check_shapes};
use crate::places::Source;
use crate::split::Split;
use crate::{DataError, idx};

const FILES: [&[u8]; 4] = [
    include_bytes!("../sample/train-images-idx3-ubyte.gz"),
    include_bytes!("../sample/train-labels-idx1-ubyte.gz"),
    include_bytes!("../sample/t10k-images-idx3-ubyte.gz"),
    include_bytes!("../sample/t10k-labels-idx1-ubyte.gz"),
];

/// Training images in the sample.
pub const SAMPLE_TRAIN: usize = 4_000;
/// Test images in the sample.
pub const SAMPLE_TEST: usize = 1_000;

/// Decodes the embedded sample: 4,000 training and 1,000 test images of 28×28.
pub fn load() -> Result<Dataset, DataError> {
    let split = |i: usize| -> Result<Split, DataError> {
        let (img_name, lbl_name) = (Path::new(FILE_NAMES[i]), Path::new(FILE_NAMES[i + 1]));
        let images = idx::parse_images(FILES[i], img_name)?;
        let labels = idx::parse_labels(FILES[i + 1], lbl_name)?;
        idx::check_pair(&images, &labels, img_name.into(), lbl_name.into())?;
        Ok(Split::images(images, labels))
    };
    let (train, test) = (split(0)?, split(2)?);
    check_shapes(&train, &test, Path::new(FILE_NAMES[2]))?;
    Ok(Dataset::of_images(
        DatasetName::FashionMnistSample,
        Source::Embedded,
        train,
        test,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_is_real_fashion_mnist() {
        let ds = super::load().expect("embedded sample decodes");
        assert_eq!(
            (ds.train.len(), ds.test.len()),
            (super::SAMPLE_TRAIN, super::SAMPLE_TEST)
        );
        assert_eq!(ds.image_shape(), Some([1, 28, 28]));
        // Every class is present, roughly balanced.
        let mut counts = [0usize; 10];
        for &l in &ds.train.labels {
            counts[l as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (300..500).contains(&c)),
            "{counts:?}"
        );
        // Real images: dark background, mean intensity of Fashion-MNIST is ≈ 0.286.
        let pixels = &ds.train.as_images().expect("images").pixels;
        let mean = pixels.iter().map(|&p| p as f64).sum::<f64>() / pixels.len() as f64 / 255.0;
        assert!((0.25..0.32).contains(&mean), "mean {mean}");
    }
}
