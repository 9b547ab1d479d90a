//! Images that stay on disk: a split larger than memory, read image by image.
//!
//! A [`StoredImages`] is a view of a file that holds images of one shape one after
//! another (`u8` planes, as [`Images`] holds them): which of the file's images make up
//! the split, in which order. Choosing, reordering and truncating move these indices
//! only; pixels are read when a batch asks for them, each image with one positioned
//! read, so resident memory is the indices (4 bytes an image) and the operating
//! system's page cache, however large the file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{DataError, Images};

/// A split's images in a file, read on demand.
#[derive(Clone, Debug)]
pub struct StoredImages {
    file: Arc<File>,
    path: PathBuf,
    /// Where the first image starts.
    offset: u64,
    shape: [usize; 3],
    /// The file's image behind each of the split's images.
    records: Arc<[u32]>,
}

impl PartialEq for StoredImages {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.offset == other.offset
            && self.shape == other.shape
            && self.records == other.records
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.seek_read(&mut buf[done..], offset + done as u64)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => done += n,
        }
    }
    Ok(())
}

impl StoredImages {
    /// The images `records` of `path`, opened as `file`, whose images of `shape` start
    /// at `offset`. The caller has checked that the file holds every record.
    pub(crate) fn new(
        file: File,
        path: PathBuf,
        offset: u64,
        shape: [usize; 3],
        records: Vec<u32>,
    ) -> Self {
        Self {
            file: Arc::new(file),
            path,
            offset,
            shape,
            records: records.into(),
        }
    }

    /// Number of images.
    pub fn count(&self) -> usize {
        self.records.len()
    }

    /// `[channels, rows, cols]` of each image.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Values per image.
    pub fn pixels_per_image(&self) -> usize {
        self.shape.iter().product()
    }

    /// The file the images are in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads image `index` into `out` (of [`pixels_per_image`](Self::pixels_per_image)
    /// values).
    ///
    /// # Panics
    /// When `index >= self.count()` or `out` has another length.
    pub fn read(&self, index: usize, out: &mut [u8]) -> Result<(), DataError> {
        let size = self.pixels_per_image();
        assert_eq!(out.len(), size, "a buffer of one image");
        let at = self.offset + u64::from(self.records[index]) * size as u64;
        read_at(&self.file, out, at).map_err(|source| DataError::ImagesGone {
            path: self.path.clone(),
            source,
        })
    }

    /// The images at `indices`, in that order (no pixel read).
    pub fn select(&self, indices: &[usize]) -> Self {
        Self {
            records: indices.iter().map(|&i| self.records[i]).collect(),
            ..self.clone()
        }
    }

    /// The first `n` images (all of them when `n >= count`).
    pub fn truncate(&mut self, n: usize) {
        if n < self.records.len() {
            self.records = self.records[..n].into();
        }
    }

    /// Every image, read into memory.
    pub fn load(&self) -> Result<Images, DataError> {
        let size = self.pixels_per_image();
        let mut images = Images::empty(self.shape);
        images.pixels = vec![0; self.count() * size];
        for (i, out) in images.pixels.chunks_exact_mut(size.max(1)).enumerate() {
            self.read(i, out)?;
        }
        images.count = self.count();
        Ok(images)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_read_by_position_through_any_selection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("images.bin");
        // A 3-byte preamble, then four 1×1×2 images: [0,1], [10,11], [20,21], [30,31].
        let mut bytes = vec![9, 9, 9];
        bytes.extend((0..4u8).flat_map(|i| [i * 10, i * 10 + 1]));
        std::fs::write(&path, &bytes).expect("write");
        let file = File::open(&path).expect("open");
        let stored = StoredImages::new(file, path, 3, [1, 1, 2], (0..4).collect());
        let picked = stored.select(&[3, 1, 1]);
        assert_eq!(picked.count(), 3);
        assert_eq!(
            picked.load().expect("read").pixels,
            [30, 31, 10, 11, 10, 11]
        );
        let mut cut = picked.select(&[2, 0]);
        cut.truncate(1);
        assert_eq!(cut.load().expect("read").pixels, [10, 11]);
        assert_ne!(cut, picked);
        assert_eq!(stored.load().expect("read").pixels, bytes[3..]);
    }
}
