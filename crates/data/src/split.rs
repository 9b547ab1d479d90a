//! One split of a data set: its samples (images in memory or on disk, or table rows)
//! and their labels.

use std::borrow::Cow;

use crate::DataError;
use crate::idx::Images;
use crate::stored::StoredImages;
use crate::table::Table;

/// The samples of a split: images of `u8` pixels, or rows of `f32` features.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// Images, pixels `0..=255` (handed out as `[0, 1]`).
    Images(Images),
    /// Rows of a table, standardised.
    Table(Table),
    /// Images left on disk, read as batches ask for them (a split larger than memory).
    Stored(StoredImages),
}

/// One split: its samples in one contiguous buffer, and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// The samples.
    pub samples: Samples,
    /// One label per sample.
    pub labels: Vec<u8>,
}

impl Split {
    /// A split of images.
    pub fn images(images: Images, labels: Vec<u8>) -> Self {
        Self {
            samples: Samples::Images(images),
            labels,
        }
    }

    /// A split of table rows.
    pub fn table(table: Table, labels: Vec<u8>) -> Self {
        Self {
            samples: Samples::Table(table),
            labels,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        match &self.samples {
            Samples::Images(i) => i.count,
            Samples::Table(t) => t.count,
            Samples::Stored(s) => s.count(),
        }
    }

    /// Whether the split has no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample: pixels per image, or columns per row.
    pub fn features(&self) -> usize {
        match &self.samples {
            Samples::Images(i) => i.pixels_per_image(),
            Samples::Table(t) => t.columns,
            Samples::Stored(s) => s.pixels_per_image(),
        }
    }

    /// The images, when the split holds images in memory.
    pub fn as_images(&self) -> Option<&Images> {
        match &self.samples {
            Samples::Images(i) => Some(i),
            Samples::Table(_) | Samples::Stored(_) => None,
        }
    }

    /// The images, read into memory when they are on disk; `None` for a table.
    pub fn read_images(&self) -> Option<Result<Cow<'_, Images>, DataError>> {
        match &self.samples {
            Samples::Images(i) => Some(Ok(Cow::Borrowed(i))),
            Samples::Stored(s) => Some(s.load().map(Cow::Owned)),
            Samples::Table(_) => None,
        }
    }

    /// Whether the images stay on disk, read as batches ask for them.
    pub fn is_stored(&self) -> bool {
        matches!(self.samples, Samples::Stored(_))
    }

    /// `[channels, rows, columns]` of the images, when the split holds images.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        match &self.samples {
            Samples::Images(i) => Some(i.shape()),
            Samples::Stored(s) => Some(s.shape()),
            Samples::Table(_) => None,
        }
    }

    /// Writes the samples at `indices` as `f32` into `out` (cleared first), one after
    /// another: pixels scaled to `[0, 1]`, table values as they are.
    ///
    /// # Panics
    /// When images on disk can no longer be read (their file was cut short or removed
    /// under the run), with the [`DataError::ImagesGone`] as the panic's payload: a
    /// batch has no way to report an error, and a binary's panic hook can print it as
    /// one. Where an error can be returned, [`try_gather`](Self::try_gather) does.
    pub fn gather(&self, indices: &[usize], out: &mut Vec<f32>) {
        if let Err(e) = self.try_gather(indices, out) {
            std::panic::panic_any(e);
        }
    }

    /// [`gather`](Self::gather), with the error of images on disk that can no longer
    /// be read returned.
    pub fn try_gather(&self, indices: &[usize], out: &mut Vec<f32>) -> Result<(), DataError> {
        out.clear();
        out.reserve(indices.len() * self.features());
        match &self.samples {
            Samples::Images(images) => {
                for &i in indices {
                    out.extend(
                        images
                            .image(i)
                            .iter()
                            .map(|&p| f32::from(p) * (1.0 / 255.0)),
                    );
                }
            }
            Samples::Table(table) => {
                for &i in indices {
                    out.extend_from_slice(table.row(i));
                }
            }
            Samples::Stored(stored) => {
                let mut image = vec![0; stored.pixels_per_image()];
                for &i in indices {
                    stored.read(i, &mut image)?;
                    out.extend(image.iter().map(|&p| f32::from(p) * (1.0 / 255.0)));
                }
            }
        }
        Ok(())
    }

    /// Keeps the first `n` samples.
    pub fn truncate(&mut self, n: usize) {
        match &mut self.samples {
            Samples::Images(i) => i.truncate(n),
            Samples::Table(t) => t.truncate(n),
            Samples::Stored(s) => s.truncate(n),
        }
        self.labels.truncate(self.len());
    }

    /// The first `n` samples (all of them when it holds fewer), leaving `self` as it is.
    pub fn head(&self, n: usize) -> Split {
        self.select(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Split {
        let samples = match &self.samples {
            Samples::Images(images) => Samples::Images(images.select(indices)),
            Samples::Table(table) => Samples::Table(table.rows(indices)),
            Samples::Stored(stored) => Samples::Stored(stored.select(indices)),
        };
        Split {
            samples,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The samples whose label is in `labels`, in their order.
    pub fn with_labels(&self, labels: &[u8]) -> Split {
        let keep: Vec<usize> = (0..self.len())
            .filter(|&i| labels.contains(&self.labels[i]))
            .collect();
        self.select(&keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_labels_keeps_the_images_of_those_labels_in_order() {
        let split = Split::images(
            Images::grey(5, 1, 2, (0..10).collect()),
            vec![3, 1, 3, 0, 1],
        );
        let kept = split.with_labels(&[1, 0]);
        assert_eq!(kept.labels, vec![1, 0, 1]);
        let pixels = kept.as_images().map(|i| i.pixels.clone());
        assert_eq!(pixels, Some(vec![2, 3, 6, 7, 8, 9]));
        assert_eq!(kept.len(), 3);
        assert!(split.with_labels(&[7]).is_empty());
    }

    #[test]
    fn head_keeps_the_first_samples_and_all_of_a_shorter_split() {
        let split = Split::images(
            Images::grey(5, 1, 2, (0..10).collect()),
            vec![3, 1, 3, 0, 1],
        );
        let head = split.head(2);
        assert_eq!(head.labels, vec![3, 1]);
        let pixels = head.as_images().map(|i| i.pixels.clone());
        assert_eq!(pixels, Some(vec![0, 1, 2, 3]));
        assert_eq!(split.head(9).labels, split.labels);
    }
}
