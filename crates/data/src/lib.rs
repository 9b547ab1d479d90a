//! MNIST-format image data sets for training autoencoders.
//!
//! - [`idx`] reads IDX files (raw or gzip) and checks everything a header claims:
//!   magic number, dimensions, sizes, and that images and labels agree. Every
//!   failure is a [`DataError`] naming the file and the values.
//! - [`DatasetName`] lists the data sets known by name with their files, checksums
//!   and classes; [`Locator`] finds one: in the folder the caller names
//!   (`--data-dir`, and there only), else `$AE_DATA_DIR`, the user cache, the
//!   system folder of Debian's packages, then a SHA-256-checked download (feature
//!   `download`). [`sample`] is a real Fashion-MNIST sample compiled into the crate,
//!   for offline first runs and tests.
//! - A [`Dataset`] holds its train and test [`Split`]s shared, so handing one to a
//!   data loader copies no sample.
//! - [`batch`] turns sample indices into `[batch, pixels]` tensors without
//!   per-item work, from host memory or from a copy resident on the device.
//!
//! - [`folder`] reads your own images — a folder of PNG and JPEG files, labels from
//!   class subfolders — as a [`DataSpec::Folder`], grey or RGB, resized or cut into
//!   patches on request, decoded once into a cache ([`ImageCache`]) that later runs
//!   read, a split larger than memory read from it batch by batch ([`StoredImages`]).
//! - [`table`] reads your own data — numeric CSV files and `.npy` arrays — as a
//!   [`DataSpec::Table`], standardised with the training rows' statistics.
//!
//! - [`rows::RowReader`] streams new samples — IDX images, CSV and `.npy` rows, CSV
//!   columns matched to the training columns by name — in batches, for applying a
//!   trained model to files larger than memory; [`NpyWriter`] writes results the
//!   same way.
//!
//! This crate knows nothing of models: it hands out `[batch, features]` tensors,
//! pixels in `[0, 1]` or standardised table values.
#![warn(missing_docs)]

mod atomic;
pub mod batch;
mod catalogue;
pub mod cifar;
mod dataset;
mod download;
mod error;
pub mod folder;
pub mod idx;
mod locator;
pub mod npy;
mod order;
mod places;
pub mod rows;
pub mod sample;
mod split;
mod stored;
pub mod table;
#[cfg(feature = "download")]
mod tar;
#[cfg(test)]
mod testing;
mod text;

pub use atomic::{
    AtomicFile, Prepared, commit_all, remove_stale_temps_of, write_atomic, writer_gone,
};
pub use batch::{DeviceBatcher, HostBatcher, IndexDataset};
pub use catalogue::{ArchiveSpec, DatasetName, FILE_NAMES, FileSpec, Layout};
pub use dataset::{DataSpec, Dataset};
pub use download::fetch;
pub use error::DataError;
pub use folder::{Colour, FolderSpec, ImageCache, Patches};
pub use idx::Images;
pub use locator::{Locator, read_dir};
pub use npy::NpyWriter;
pub use places::{DATA_DIR_ENV, IMAGE_CACHE_ENV, IMAGE_MEMORY_ENV, MIRROR_ENV, SYSTEM_DIR, Source};
pub use split::{Samples, Split};
pub use stored::StoredImages;
pub use table::{Standardizer, Table, TableSpec, WindowStream, Windows};
pub use text::{BoundedLines, MAX_LINE, MAX_NAME, clip};
