//! New image files for a trained model, streamed: one PNG or JPEG file, or every image
//! in a folder and its subfolders (in byte order of their paths), decoded a chunk at a
//! time on every core as a model's training images were — colour, size, patches.

use std::path::{Path, PathBuf};

use super::pipeline::prepare_all;
use super::{FolderSpec, folder_error, images_under, is_image};
use crate::DataError;

/// Samples from image files, a batch at a time.
pub struct ImageStream {
    spec: FolderSpec,
    files: Vec<PathBuf>,
    /// The next file to decode.
    next: usize,
    /// Samples decoded and not yet handed out, with the file of each.
    pending: Vec<u8>,
    pending_files: Vec<usize>,
    /// The file of each sample of the last batch.
    last: Vec<usize>,
    threads: usize,
}

impl ImageStream {
    /// The images of `path` (an image file, or a folder searched at every depth),
    /// made into samples as `spec` says; `features` is what the model takes, checked
    /// against the spec's size.
    pub fn open(path: &Path, spec: &FolderSpec, features: usize) -> Result<Self, DataError> {
        let shape = spec
            .sample_shape()
            .ok_or_else(|| folder_error(path, "the model's image size is not known"))?;
        if shape.iter().product::<usize>() != features {
            return Err(folder_error(
                path,
                format!(
                    "images of {shape:?} ([channels, height, width]), but the model takes {features} values"
                ),
            ));
        }
        let files = if path.is_dir() {
            images_under(path)?
        } else if is_image(path) {
            std::fs::metadata(path).map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            vec![path.to_path_buf()]
        } else {
            return Err(folder_error(path, "not a .png, .jpg or .jpeg file"));
        };
        if files.is_empty() {
            return Err(folder_error(
                path,
                "no images (.png, .jpg or .jpeg files) in it or in its subfolders",
            ));
        }
        Ok(Self {
            spec: FolderSpec {
                skip_bad: false,
                ..spec.clone()
            },
            files,
            next: 0,
            pending: Vec::new(),
            pending_files: Vec::new(),
            last: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(16)),
        })
    }

    /// The number of samples, when known up front (one a file, without patches).
    pub fn total(&self) -> Option<usize> {
        self.spec.patches.is_none().then_some(self.files.len())
    }

    /// The file of each sample handed out by the last [`next_batch`](Self::next_batch).
    pub fn last_files(&self) -> impl Iterator<Item = &Path> {
        self.last.iter().map(|&i| self.files[i].as_path())
    }

    /// Writes up to `max` samples into `out` (cleared first), values in `[0, 1]`;
    /// returns how many (0 at the end). A file that does not decode is an error
    /// naming it.
    pub fn next_batch(&mut self, max: usize, out: &mut Vec<f32>) -> Result<usize, DataError> {
        out.clear();
        self.last.clear();
        let size: usize = self.spec.sample_shape().map_or(0, |s| s.iter().product());
        while self.pending_files.len() < max && self.next < self.files.len() {
            let end = (self.next + self.threads * 4).min(self.files.len());
            let chunk = &self.files[self.next..end];
            for (j, ready) in prepare_all(&self.spec, chunk, self.threads)
                .into_iter()
                .enumerate()
            {
                let ready = ready.map_err(|e| e.into_error())?;
                self.pending_files
                    .extend(std::iter::repeat_n(self.next + j, ready.samples));
                self.pending.extend_from_slice(&ready.pixels);
            }
            self.next = end;
        }
        let n = max.min(self.pending_files.len());
        out.extend(
            self.pending
                .drain(..n * size)
                .map(|p| f32::from(p) * (1.0 / 255.0)),
        );
        self.last.extend(self.pending_files.drain(..n));
        Ok(n)
    }
}
