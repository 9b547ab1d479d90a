//! Your own images: a folder of PNG and JPEG files as a data set.
//!
//! Layouts, in this order of precedence:
//! - `DIR/train/` and `DIR/test/`: the two splits;
//! - a separate test folder ([`FolderSpec::test_folder`]);
//! - `DIR` alone: a share of its images ([`FolderSpec::test_fraction`]) held out for
//!   testing, chosen by a permutation seeded with [`FolderSpec::split_seed`].
//!
//! The test images are in the order of their files; the training images in a seeded
//! random order (the same on every machine), so that a run's first images and its
//! validation share mix the classes.
//!
//! In each, images in class subfolders (at any depth below them) take the subfolder's
//! name as their label (the ImageFolder convention: classes numbered in sorted name
//! order), images directly in
//! the folder are unlabelled (label 0); both at once is an error. Files are listed in
//! byte order of their paths, so a seed gives the same split on every machine; files
//! whose names do not end in `.png`, `.jpg` or `.jpeg` (any case) are not images and
//! are left out, as are hidden files.
//!
//! Every image becomes grey or RGB, as [`FolderSpec::colour`] says: for grey, colour
//! is converted by ITU-R BT.601 luma (`0.299 R + 0.587 G + 0.114 B`, as Pillow's
//! `convert("L")`); for RGB, a grey image has its value in all three planes (as
//! Pillow's `convert("RGB")`), so a folder may mix the two; CMYK JPEGs are converted
//! to RGB. Alpha is dropped, 16-bit samples keep their high byte. An image is held as
//! its planes one after another (`[channels, height, width]`). Without [`FolderSpec::image_size`] every image must
//! have the first one's size; with it each is scaled by the factor that makes it cover
//! the size (area averaging when shrinking, as OpenCV's `INTER_AREA`, so that every
//! source pixel counts; bilinear when enlarging) and centre-cropped to it, as
//! torchvision's `Resize(min side)` followed by `CenterCrop`. An image whose header declares more than [`MAX_PIXELS`] pixels is
//! refused before it is decoded; a file that does not decode is an error naming it, or
//! with [`FolderSpec::skip_bad`] left out and listed.
//!
//! With [`FolderSpec::patches`], every image (after any resize) is cut into square
//! patches, each a sample with its image's label: photographs of any sizes become a
//! data set of small images. The held-out share is then drawn among the patches.
//!
//! Through an [`ImageCache`] ([`FolderSpec::load_with`]), files are decoded on every
//! core into a cache file of `u8` planes, once: later loads read it back, until a file
//! of the folder is added, removed or changed. A split larger than the cache's memory
//! limit stays in that file and is read batch by batch ([`crate::StoredImages`]), so
//! a folder larger than memory trains with bounded resident memory.

mod cache;
mod decode;
mod options;
mod pipeline;
mod stream;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::order::{TRAIN_ORDER_SEED, permutation};
use crate::{DataError, Images, Samples, Split};
pub use cache::ImageCache;
pub use decode::{Decoded, MAX_PIXELS, decode, resize_cover, resize_planes};
pub use options::{Colour, Patches, parse_image_size};
use pipeline::{Outcome, decode_files};
pub use stream::ImageStream;

/// A folder of images as a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderSpec {
    /// The folder (with `train/` and `test/`, or the training images).
    pub folder: PathBuf,
    /// A separate folder of test images, laid out like the training folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_folder: Option<PathBuf>,
    /// Every image resized and centre-cropped to `[height, width]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<[usize; 2]>,
    /// Grey (one plane) or RGB (three).
    #[serde(default)]
    pub colour: Colour,
    /// Every image (after any resize) cut into square patches, each one sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
    /// Without a test folder or `test/`, the share of the images held out for testing.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the held-out images.
    #[serde(default)]
    pub split_seed: u64,
    /// Leave out files that do not decode (listed when loading) instead of failing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_bad: bool,
}

fn default_test_fraction() -> f64 {
    0.2
}

/// The images of one folder (a split), with their labels.
struct Listed {
    files: Vec<PathBuf>,
    labels: Vec<String>,
}

fn folder_error(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Table {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `path` names an image this module reads.
fn is_image(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    !name.starts_with('.')
        && [".png", ".jpg", ".jpeg"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// The entries of `dir`, sorted by name.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error(dir))?
        .map(|e| e.map(|e| e.path()).map_err(io_error(dir)))
        .collect::<Result<_, _>>()?;
    out.sort();
    Ok(out)
}

/// The images in `dir` and its subfolders (hidden ones left out), sorted by path.
fn images_under(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for entry in entries(dir)? {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if entry.is_dir() && !hidden {
            out.extend(images_under(&entry)?);
        } else if entry.is_file() && is_image(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// The images of `dir`: in class subfolders (and their subfolders), or directly in it.
fn list(dir: &Path) -> Result<Listed, DataError> {
    let all = entries(dir)?;
    let direct: Vec<PathBuf> = all
        .iter()
        .filter(|p| p.is_file() && is_image(p))
        .cloned()
        .collect();
    let mut listed = Listed {
        files: Vec::new(),
        labels: Vec::new(),
    };
    for sub in all.iter().filter(|p| p.is_dir()) {
        let name = sub
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        for file in images_under(sub)? {
            listed.files.push(file);
            listed.labels.push(name.clone());
        }
    }
    match (direct.is_empty(), listed.files.is_empty()) {
        (true, true) => Err(folder_error(
            dir,
            "no images (.png, .jpg or .jpeg files) in it or in its subfolders",
        )),
        (false, false) => Err(folder_error(
            dir,
            format!(
                "images both directly in it ({}) and in class subfolders ({}): put every \
                 image in a class subfolder, or none",
                direct[0].display(),
                listed.files[0].display()
            ),
        )),
        (false, true) => Ok(Listed {
            labels: vec![String::new(); direct.len()],
            files: direct,
        }),
        (true, false) => Ok(listed),
    }
}

/// The first file of `listed`, for messages.
fn listed_first(listed: &Listed) -> Option<&Path> {
    listed.files.first().map(PathBuf::as_path)
}

/// A folder of images, read: both splits, the class names and the files left out.
pub struct LoadedFolder {
    /// The training images (in memory, or on disk when larger than the limit) and
    /// labels.
    pub train: Split,
    /// The test images and labels.
    pub test: Split,
    /// What each label means, label `i` at index `i`.
    pub classes: Vec<String>,
    /// Files that did not decode, left out with `skip_bad`, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

impl FolderSpec {
    /// A spec for `folder` with the defaults: no resizing, 20 % held out when the
    /// folder has no `test/`.
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        Self {
            folder: folder.into(),
            test_folder: None,
            image_size: None,
            colour: Colour::Grey,
            patches: None,
            test_fraction: default_test_fraction(),
            split_seed: 0,
            skip_bad: false,
        }
    }

    /// `[channels, height, width]` of the samples the options make, when they fix it:
    /// the patch size, else the image size; `None` when each image keeps its own.
    pub fn sample_shape(&self) -> Option<[usize; 3]> {
        let channels = self.colour.channels();
        match (self.patches, self.image_size) {
            (Some(p), _) => Some([channels, p.size, p.size]),
            (None, Some([h, w])) => Some([channels, h, w]),
            (None, None) => None,
        }
    }

    /// Checks the options.
    pub fn validate(&self) -> Result<(), DataError> {
        if !self.folder.is_dir() {
            return Err(folder_error(&self.folder, "no such folder"));
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(folder_error(
                &self.folder,
                format!(
                    "test fraction {}: expected a share in [0, 1)",
                    self.test_fraction
                ),
            ));
        }
        if let Some([h, w]) = self.image_size
            && (h == 0 || w == 0 || h.saturating_mul(w) > MAX_PIXELS)
        {
            return Err(folder_error(
                &self.folder,
                format!(
                    "--image-size {h}x{w}: expected positive sizes of at most {MAX_PIXELS} pixels"
                ),
            ));
        }
        Ok(())
    }

    /// Reads and decodes every image into memory.
    pub fn load(&self) -> Result<LoadedFolder, DataError> {
        self.load_with(&ImageCache::none())
    }

    /// Reads every image through `cache`: decoded once into its folder and read back
    /// from there by later loads, a split larger than its limit left on disk.
    pub fn load_with(&self, cache: &ImageCache) -> Result<LoadedFolder, DataError> {
        self.validate()?;
        let (train_dir, test_dir) = match &self.test_folder {
            Some(test) => (self.folder.clone(), Some(test.clone())),
            None if self.folder.join("train").is_dir() && self.folder.join("test").is_dir() => {
                (self.folder.join("train"), Some(self.folder.join("test")))
            }
            None => (self.folder.clone(), None),
        };
        let train = list(&train_dir)?;
        let test = test_dir.as_deref().map(list).transpose()?;
        let classes = class_names(&train, test.as_ref(), &train_dir, test_dir.as_deref())?;
        let mut skipped = Vec::new();
        let train_split = self.read(&train, &train_dir, None, &classes, cache, &mut skipped)?;
        if train_split.is_empty() {
            return Err(folder_error(&train_dir, "no image decoded"));
        }
        let (train_split, test_split) = match (&test, &test_dir) {
            (Some(test), Some(test_dir)) => {
                let size = train_split.image_shape().map(|[_, h, w]| [h, w]);
                let expect = size.zip(listed_first(&train));
                let t = self.read(test, test_dir, expect, &classes, cache, &mut skipped)?;
                same_size(&train_split, &t, test_dir)?;
                (train_split, t)
            }
            _ => self.hold_out(&train_split, &train_dir)?,
        };
        // Files are listed class by class; in training order they are mixed, so that
        // the first samples (`--limit`) and the last (the validation share) are not
        // one class. The order is a permutation seeded like the held-out share.
        let order = permutation(train_split.len(), self.split_seed ^ TRAIN_ORDER_SEED);
        let train_split = train_split.select(&order);
        let classes = if classes.iter().all(String::is_empty) {
            vec!["unlabelled".to_string()]
        } else {
            classes
        };
        Ok(LoadedFolder {
            train: train_split,
            test: test_split,
            classes,
            skipped,
        })
    }

    /// The images of `listed` (from `dir`), decoded or read from the cache, with their
    /// labels; the files left out go to `skipped`.
    fn read(
        &self,
        listed: &Listed,
        dir: &Path,
        expect: Option<([usize; 2], &Path)>,
        classes: &[String],
        cache: &ImageCache,
        skipped: &mut Vec<(PathBuf, String)>,
    ) -> Result<Split, DataError> {
        let (samples, outcome) = match &cache.dir {
            Some(cache_dir) => self.read_cached(listed, dir, expect, cache, cache_dir)?,
            None => {
                let mut pixels = Vec::new();
                let outcome = decode_files(self, &listed.files, expect, None, &mut |p| {
                    pixels.extend_from_slice(p);
                    Ok(())
                })?;
                let mut images = Images::empty(outcome.shape);
                images.count = outcome.sources.len();
                images.pixels = pixels;
                (Samples::Images(images), outcome)
            }
        };
        let number = |l: &String| classes.iter().position(|c| c == l).unwrap_or(0) as u8;
        let labels = outcome
            .sources
            .iter()
            .map(|&i| number(&listed.labels[i as usize]))
            .collect();
        skipped.extend(
            outcome
                .skipped
                .into_iter()
                .map(|(i, why)| (listed.files[i].clone(), why)),
        );
        Ok(Split { samples, labels })
    }

    /// The images of `listed` from their cache file in `cache_dir`, decoded into it
    /// first when it is missing or stale; read into memory when they fit the limit.
    fn read_cached(
        &self,
        listed: &Listed,
        dir: &Path,
        expect: Option<([usize; 2], &Path)>,
        cache: &ImageCache,
        cache_dir: &Path,
    ) -> Result<(Samples, Outcome), DataError> {
        let path = cache::file_name(cache_dir, self, dir);
        let fingerprint = cache::fingerprint(self, &listed.files, &listed.labels)?;
        let cached = match cache::open(&path, fingerprint) {
            Some(c) => c,
            None => {
                std::fs::create_dir_all(cache_dir).map_err(io_error(cache_dir))?;
                let mut writer = cache::Writer::create(&path)?;
                let progress = cache.progress.then_some(dir);
                let outcome = decode_files(self, &listed.files, expect, progress, &mut |p| {
                    writer.push(p)
                })?;
                writer.finish(
                    fingerprint,
                    outcome.shape,
                    &outcome.sources,
                    &outcome.skipped,
                )?;
                cache::open(&path, fingerprint).ok_or_else(|| {
                    folder_error(&path, "the cache file just written does not read back")
                })?
            }
        };
        let stored = cached.stored;
        let outcome = Outcome {
            shape: stored.shape(),
            sources: cached.sources,
            skipped: cached.skipped,
        };
        let bytes = (stored.count() * stored.pixels_per_image()) as u64;
        let samples = if bytes <= cache.resident_limit {
            Samples::Images(stored.load()?)
        } else {
            Samples::Stored(stored)
        };
        Ok((samples, outcome))
    }

    /// The training and test parts of one folder's images.
    fn hold_out(&self, all: &Split, dir: &Path) -> Result<(Split, Split), DataError> {
        let n = all.len();
        let test_n = ((n as f64) * self.test_fraction).round() as usize;
        if n < 2 || test_n == 0 || test_n >= n {
            return Err(folder_error(
                dir,
                format!(
                    "{n} images cannot be split into a training and a test part at a test \
                     fraction of {}; add images, change --test-fraction, or give test/",
                    self.test_fraction
                ),
            ));
        }
        let order = permutation(n, self.split_seed);
        let mut test: Vec<usize> = order[..test_n].to_vec();
        let mut train: Vec<usize> = order[test_n..].to_vec();
        test.sort_unstable();
        train.sort_unstable();
        Ok((all.select(&train), all.select(&test)))
    }
}

/// The class names of a folder's training images, sorted (label `i` is class `i`),
/// after checking that there are at most 256 and that the test images have no other.
fn class_names(
    train: &Listed,
    test: Option<&Listed>,
    train_dir: &Path,
    test_dir: Option<&Path>,
) -> Result<Vec<String>, DataError> {
    let mut classes: Vec<String> = train.labels.clone();
    classes.sort();
    classes.dedup();
    if classes.len() > 256 {
        return Err(folder_error(
            train_dir,
            format!("{} classes; at most 256 are supported", classes.len()),
        ));
    }
    if let Some(test) = test
        && let Some(unknown) = test.labels.iter().find(|l| !classes.contains(l))
    {
        return Err(folder_error(
            test_dir.unwrap_or(train_dir),
            format!(
                "class '{unknown}' has no training images (the training classes: {})",
                classes.join(", ")
            ),
        ));
    }
    Ok(classes)
}

/// Checks that the test images have the training images' shape (a cache read back
/// skips the check made while decoding).
fn same_size(train: &Split, test: &Split, test_dir: &Path) -> Result<(), DataError> {
    match (train.image_shape(), test.image_shape()) {
        (Some([_, h, w]), Some([_, th, tw])) if !test.is_empty() && [h, w] != [th, tw] => {
            Err(folder_error(
                test_dir,
                format!(
                    "test images of {th}×{tw} pixels (height×width), training images of \
                     {h}×{w}: give --image-size HxW to resize every image to one size"
                ),
            ))
        }
        _ => Ok(()),
    }
}

impl std::fmt::Display for FolderSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.folder.display())
    }
}

#[cfg(test)]
mod tests;
