//! CIFAR-10 and CIFAR-100 binary files, read and checked.
//!
//! A file is a run of fixed-size records: the label bytes (one for CIFAR-10; two for
//! CIFAR-100, coarse then fine), then 3,072 pixel bytes — the 1,024 red values of the
//! 32×32 image row by row, then the green ones, then the blue ones. That is the
//! `[channels, rows, cols]` layout of [`Images`], so the pixels are kept as they are.

use std::path::{Path, PathBuf};

use crate::split::Split;
use crate::{DataError, Images};

/// Pixel bytes of a record: three 32×32 planes.
pub const PIXELS: usize = 3 * 32 * 32;

fn bad(path: &Path, message: String) -> DataError {
    DataError::Table {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads the records of `paths`, one after another, into one split; the label of a
/// record is its last label byte, which must be below `classes`.
pub fn read_files(
    paths: &[PathBuf],
    label_bytes: usize,
    classes: usize,
) -> Result<Split, DataError> {
    let mut images = Images::empty([3, 32, 32]);
    let mut labels = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).map_err(|source| DataError::Io {
            path: path.clone(),
            source,
        })?;
        parse_into(&bytes, path, label_bytes, classes, &mut images, &mut labels)?;
    }
    Ok(Split::images(images, labels))
}

/// Appends the records of `bytes` (from `path`) to `images` and `labels`.
pub fn parse_into(
    bytes: &[u8],
    path: &Path,
    label_bytes: usize,
    classes: usize,
    images: &mut Images,
    labels: &mut Vec<u8>,
) -> Result<(), DataError> {
    let record = label_bytes + PIXELS;
    if bytes.is_empty() || !bytes.len().is_multiple_of(record) {
        return Err(bad(
            path,
            format!(
                "{} bytes: expected a whole number of {record}-byte records ({label_bytes} \
                 label byte(s) and {PIXELS} pixels each); the file is cut short or not a \
                 CIFAR binary file",
                bytes.len()
            ),
        ));
    }
    images.pixels.reserve(bytes.len() / record * PIXELS);
    for (i, r) in bytes.chunks_exact(record).enumerate() {
        let label = r[label_bytes - 1];
        if usize::from(label) >= classes {
            return Err(bad(
                path,
                format!("record {i}: label {label}, expected one of the {classes} classes"),
            ));
        }
        labels.push(label);
        images.pixels.extend_from_slice(&r[label_bytes..]);
        images.count += 1;
    }
    Ok(())
}

/// The bytes of a CIFAR binary file holding `images` with `labels` (each record's
/// label bytes all set to its label): the inverse of [`parse_into`].
pub fn encode(images: &Images, labels: &[u8], label_bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(images.count * (label_bytes + PIXELS));
    for (i, &label) in labels.iter().enumerate().take(images.count) {
        out.extend(std::iter::repeat_n(label, label_bytes));
        out.extend_from_slice(images.image(i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(count: usize) -> Images {
        let mut images = Images::empty([3, 32, 32]);
        images.pixels = (0..count * PIXELS).map(|i| (i * 7 % 251) as u8).collect();
        images.count = count;
        images
    }

    #[test]
    fn records_read_back_exactly_in_planes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (images(3), images(2));
        let (pa, pb) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        std::fs::write(&pa, encode(&a, &[1, 0, 9], 1)).expect("write");
        std::fs::write(&pb, encode(&b, &[4, 2], 1)).expect("write");
        let split = read_files(&[pa.clone(), pb], 1, 10).expect("reads");
        assert_eq!(split.labels, [1, 0, 9, 4, 2]);
        let got = split.as_images().expect("images");
        assert_eq!(got.shape(), [3, 32, 32]);
        assert_eq!(got.image(0), a.image(0));
        assert_eq!(got.image(4), b.image(1));
        // A hand-made record: label, then red, green and blue planes.
        let mut record = vec![7u8];
        record.extend([10u8; 1024]);
        record.extend([20u8; 1024]);
        record.extend([30u8; 1024]);
        let mut one = Images::empty([3, 32, 32]);
        let mut labels = Vec::new();
        parse_into(&record, &pa, 1, 10, &mut one, &mut labels).expect("one record");
        assert_eq!(
            (
                labels[0],
                one.image(0)[0],
                one.image(0)[1024],
                one.image(0)[3071]
            ),
            (7, 10, 20, 30)
        );
    }

    #[test]
    fn cifar100_uses_the_fine_label_and_bad_files_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("train.bin");
        let mut bytes = encode(&images(2), &[3, 5], 2);
        bytes[0] = 19; // the coarse label of the first record
        bytes[1] = 87; // its fine label
        std::fs::write(&path, &bytes).expect("write");
        let split = read_files(std::slice::from_ref(&path), 2, 100).expect("reads");
        assert_eq!(split.labels, [87, 5]);

        std::fs::write(&path, &bytes[..bytes.len() - 1]).expect("write");
        let err = read_files(std::slice::from_ref(&path), 2, 100)
            .expect_err("cut short")
            .to_string();
        assert!(
            err.contains("train.bin") && err.contains("3074-byte records"),
            "{err}"
        );
        let err = read_files(std::slice::from_ref(&path), 1, 10)
            .expect_err("as CIFAR-10")
            .to_string();
        assert!(err.contains("train.bin"), "{err}");
        std::fs::write(&path, encode(&images(1), &[12], 1)).expect("write");
        let err = read_files(&[path], 1, 10)
            .expect_err("label 12")
            .to_string();
        assert!(err.contains("record 0: label 12"), "{err}");
    }
}
