//! Batching that keeps the data off the hot path.
//!
//! Items are sample indices ([`IndexDataset`]), so shuffling and splitting move
//! integers, never images. Two batchers turn a list of indices into a tensor of
//! shape `[batch, pixels]` with values in `[0, 1]`:
//! - [`HostBatcher`] reads the split's contiguous buffer and converts the batch to
//!   `f32` into one buffer, then makes one tensor (no per-item allocation);
//! - [`DeviceBatcher`] uploads the whole split once and gathers each batch on the
//!   device with `select`, so nothing crosses the bus but the indices.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::*;

use crate::Split;

/// The indices `start..start + len` of a split, as a burn [`Dataset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexDataset {
    start: usize,
    len: usize,
}

impl IndexDataset {
    /// Indices `start..start + len`.
    pub fn new(start: usize, len: usize) -> Self {
        Self { start, len }
    }

    /// Splits `0..n` into a training part and a validation part holding the last
    /// `round(n * fraction)` indices (at least one when `fraction > 0` and `n > 1`).
    pub fn split(n: usize, fraction: f64) -> (Self, Self) {
        let mut valid = ((n as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
        if fraction > 0.0 && valid == 0 && n > 1 {
            valid = 1;
        }
        let valid = valid.min(n);
        (Self::new(0, n - valid), Self::new(n - valid, valid))
    }
}

impl Dataset<usize> for IndexDataset {
    fn get(&self, index: usize) -> Result<usize, DatasetError> {
        if index < self.len {
            Ok(self.start + index)
        } else {
            Err(DatasetError::new(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("index {index} out of a dataset of {}", self.len),
            )))
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Batches from the host copy of a split: one conversion pass, one upload per batch.
#[derive(Clone, Debug)]
pub struct HostBatcher {
    split: Arc<Split>,
}

impl HostBatcher {
    /// A batcher reading from `split` (shared, not copied).
    pub fn new(split: Arc<Split>) -> Self {
        Self { split }
    }

    /// The images at `indices` as a `[batch, pixels]` tensor.
    pub fn images(&self, indices: &[usize], device: &Device) -> Tensor<2> {
        self.split.tensor(indices, device)
    }
}

impl Split {
    /// The samples at `indices` as a `[batch, features]` tensor on `device`: pixels
    /// scaled to `[0, 1]`, table values as they are.
    pub fn tensor(&self, indices: &[usize], device: &Device) -> Tensor<2> {
        let mut buf = Vec::new();
        self.gather(indices, &mut buf);
        let shape = [indices.len(), self.features()];
        Tensor::from_data(TensorData::new(buf, shape), device)
    }
}

impl Batcher<usize, Tensor<2>> for HostBatcher {
    fn batch(&self, items: Vec<usize>, device: &Device) -> Tensor<2> {
        self.images(&items, device)
    }
}

/// Batches gathered on the device from a split uploaded once.
#[derive(Clone, Debug)]
pub struct DeviceBatcher {
    images: Tensor<2>,
}

impl DeviceBatcher {
    /// Uploads `split` to `device` as one `[samples, pixels]` tensor in `[0, 1]`.
    pub fn new(split: &Split, device: &Device) -> Self {
        let all: Vec<usize> = (0..split.len()).collect();
        Self {
            images: split.tensor(&all, device),
        }
    }

    /// The images at `indices` as a `[batch, pixels]` tensor on `device`.
    pub fn images(&self, indices: &[usize], device: &Device) -> Tensor<2> {
        let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(idx, [indices.len()]),
            &self.images.device(),
        );
        let batch = self.images.clone().select(0, idx);
        if batch.device() == *device && batch.device().is_autodiff() == device.is_autodiff() {
            batch
        } else {
            batch.to_device(device)
        }
    }
}

impl Batcher<usize, Tensor<2>> for DeviceBatcher {
    fn batch(&self, items: Vec<usize>, device: &Device) -> Tensor<2> {
        self.images(&items, device)
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::idx::Images;

    fn split() -> Split {
        Split::images(
            Images::grey(4, 1, 3, vec![0, 255, 51, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            vec![0, 1, 2, 3],
        )
    }

    #[test]
    fn index_split_covers_everything_once() {
        let (train, valid) = IndexDataset::split(10, 0.2);
        assert_eq!((train.len(), valid.len()), (8, 2));
        assert_eq!(valid.get(0).ok(), Some(8));
        assert!(valid.get(2).is_err());
        assert_eq!(IndexDataset::split(3, 0.01).1.len(), 1);
        assert_eq!(IndexDataset::split(3, 0.0).1.len(), 0);
    }

    #[test]
    fn host_and_device_batches_agree() {
        let device = Device::ndarray();
        let split = split();
        let host = HostBatcher::new(Arc::new(split.clone())).batch(vec![2, 0], &device);
        let on_device = DeviceBatcher::new(&split, &device).batch(vec![2, 0], &device);
        let expected = [4.0, 5.0, 6.0, 0.0, 255.0, 51.0].map(|v: f32| v / 255.0);
        host.to_data().assert_approx_eq::<f32>(
            &TensorData::new(expected.to_vec(), [2, 3]),
            Default::default(),
        );
        on_device
            .to_data()
            .assert_approx_eq::<f32>(&host.to_data(), Default::default());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Training and validation parts are disjoint, cover `0..n` in order, and the
        /// validation part has the requested share (at least one when asked for).
        #[test]
        fn index_split_partitions(n in 0usize..5000, fraction in 0.0f64..1.0) {
            let (train, valid) = IndexDataset::split(n, fraction);
            proptest::prop_assert_eq!(train.len() + valid.len(), n);
            let all: Vec<usize> = (0..train.len())
                .filter_map(|i| train.get(i).ok())
                .chain((0..valid.len()).filter_map(|i| valid.get(i).ok()))
                .collect();
            proptest::prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
            let share = (n as f64 * fraction).round() as usize;
            proptest::prop_assert!(valid.len() == share || (share == 0 && valid.len() == 1));
            proptest::prop_assert!(train.get(train.len()).is_err());
        }

        /// Any batch of valid indices (repeats allowed) has shape `[batch, pixels]`,
        /// values `pixel / 255`, and the same values on both paths.
        #[test]
        fn batches_have_shape_range_and_agree(
            rows in 1usize..6,
            cols in 1usize..6,
            count in 1usize..12,
            picks in proptest::collection::vec(0usize..1000, 1..20),
            seed in 0u8..255,
        ) {
            let pixels: Vec<u8> = (0..count * rows * cols)
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                .collect();
            let split = Split::images(Images::grey(count, rows, cols, pixels.clone()), vec![0; count]);
            let indices: Vec<usize> = picks.iter().map(|p| p % count).collect();
            let device = Device::ndarray();
            let host = HostBatcher::new(Arc::new(split.clone())).images(&indices, &device);
            proptest::prop_assert_eq!(host.dims(), [indices.len(), rows * cols]);
            let values = host.to_data().to_vec::<f32>().expect("f32 batch");
            for (row, &i) in indices.iter().enumerate() {
                for p in 0..rows * cols {
                    let expected = pixels[i * rows * cols + p] as f32 / 255.0;
                    let got = values[row * rows * cols + p];
                    proptest::prop_assert!((got - expected).abs() < 1e-6);
                }
            }
            let on_device = DeviceBatcher::new(&split, &device).images(&indices, &device);
            on_device.to_data().assert_approx_eq::<f32>(&host.to_data(), Default::default());
        }
    }
}
