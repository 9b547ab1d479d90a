//! [`DataError`]: everything that can go wrong while finding, fetching or reading a
//! data set, each variant with the file and the values a user needs to fix it.

use std::path::PathBuf;

/// Everything that can go wrong while finding, fetching or reading a data set.
///
/// Every variant names the file (or address) and the values involved, so that a
/// message alone tells the user what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Images a run keeps on disk (a folder's decoded cache) can no longer be read:
    /// the file was cut short or replaced while the run used it.
    #[error(
        "{}: the decoded images of this run can no longer be read ({source}): the file was \
         removed or cut short while the run used it; run the command again, which decodes \
         the folder anew",
        path.display()
    )]
    ImagesGone {
        /// The cache file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The gzip layer is corrupt or cut short.
    #[error("{}: not a valid gzip stream ({source})", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// The file is named `*.gz` but does not start with the gzip magic bytes.
    #[error("{}: named .gz but is not gzip (first bytes {first_bytes:02x?}, expected [1f, 8b])", path.display())]
    NotGzip {
        /// The file.
        path: PathBuf,
        /// Up to four leading bytes.
        first_bytes: Vec<u8>,
    },
    /// Decompressing would exceed the size limit.
    #[error("{}: decompresses to more than {limit} bytes, not an MNIST-format file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The magic number is not the one this kind of IDX file has.
    #[error("{}: IDX magic number is {found:#010x}, expected {expected:#010x} ({kind})", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number required.
        expected: u32,
        /// The magic number found.
        found: u32,
        /// What the required number stands for.
        kind: &'static str,
    },
    /// The file holds fewer bytes than its header announces.
    #[error("{}: truncated: header announces {expected} bytes of data, file has {actual}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes announced.
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// The file holds more bytes than its header announces.
    #[error("{}: {actual} bytes of data where the header announces {expected}: trailing bytes", path.display())]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes announced.
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// An image dimension is zero.
    #[error("{}: image dimensions {dims:?} (count, rows, columns): rows and columns must be positive", path.display())]
    BadDimensions {
        /// The file.
        path: PathBuf,
        /// The dimensions read.
        dims: Vec<usize>,
    },
    /// Images and labels disagree on the number of samples.
    #[error("{} holds {images} images but {} holds {labels} labels", images_path.display(), labels_path.display())]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// Its number of images.
        images: usize,
        /// The label file.
        labels_path: PathBuf,
        /// Its number of labels.
        labels: usize,
    },
    /// The train and test splits have images of different sizes.
    #[error("{}: images are {} but the training images are {}", path.display(), shape_text(*test), shape_text(*train))]
    ShapeMismatch {
        /// The test image file.
        path: PathBuf,
        /// Training image shape, `[channels, rows, columns]`.
        train: [usize; 3],
        /// Test image shape.
        test: [usize; 3],
    },
    /// A data set name that is not known.
    #[error(
        "unknown dataset '{name}': expected one of {known}, a table file (.csv or .npy) or a folder of images"
    )]
    UnknownDataset {
        /// The name given.
        name: String,
        /// The names known, comma-separated.
        known: String,
    },
    /// No place held the files and they could not be downloaded.
    #[error("{dataset} not found. Looked in:\n{}\n{hint}", tried.iter().map(|t| format!("  - {t}")).collect::<Vec<_>>().join("\n"))]
    NotFound {
        /// The data set's name.
        dataset: String,
        /// Each place tried, with what was missing there.
        tried: Vec<String>,
        /// What the user can do.
        hint: String,
    },
    /// The folder the caller named lacks some of the data set's files.
    #[error("{}: missing {} of the {dataset} files (the folder named by --data-dir must hold all four)", dir.display(), missing.join(", "))]
    Incomplete {
        /// The folder.
        dir: PathBuf,
        /// The data set's name.
        dataset: String,
        /// The standard names of the files missing.
        missing: Vec<String>,
    },
    /// A label that is not one of the data set's classes.
    #[error("{}: label {label} at index {index} is not one of the {classes} classes of {dataset} (0 to {})", path.display(), classes - 1)]
    LabelOutOfRange {
        /// The label file.
        path: PathBuf,
        /// The sample's index in the file.
        index: usize,
        /// The label found.
        label: u8,
        /// The data set's name.
        dataset: String,
        /// How many classes it has.
        classes: usize,
    },
    /// A table file (CSV or `.npy`) that cannot be used as a data set.
    #[error("{}: {message}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line, column and value where there is one.
        message: String,
    },
    /// A download failed at every mirror.
    #[error("could not download {file}: {reason}")]
    Download {
        /// The file name.
        file: String,
        /// What happened at each address tried.
        reason: String,
    },
}

/// An image shape as `HxW`, with its planes when there are more than one.
pub(crate) fn shape_text([channels, rows, cols]: [usize; 3]) -> String {
    match channels {
        1 => format!("{rows}x{cols}"),
        3 => format!("{rows}x{cols} RGB"),
        c => format!("{rows}x{cols}x{c}"),
    }
}
