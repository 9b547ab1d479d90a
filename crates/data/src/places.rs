//! The places a data set can come from, and the names of the environment variables
//! and folders that define them.

use std::fmt;
use std::path::PathBuf;

/// Environment variable naming a folder that holds data sets (checked after `--data-dir`).
pub const DATA_DIR_ENV: &str = "AE_DATA_DIR";
/// Environment variable replacing the download mirrors with one or more base addresses
/// (comma-separated), for a local mirror or proxy.
pub const MIRROR_ENV: &str = "AE_DATA_MIRROR";
/// Environment variable naming the folder that decoded image folders are cached in
/// (by default `images` in the user cache), or `off` to decode into memory every time.
pub const IMAGE_CACHE_ENV: &str = "AE_IMAGE_CACHE";
/// Environment variable giving, in MiB, the largest split of decoded images held in
/// memory; a larger one stays in its cache file and is read batch by batch.
pub const IMAGE_MEMORY_ENV: &str = "AE_IMAGE_MEMORY_MIB";
/// Where Debian's `dataset-*` packages install data sets.
pub const SYSTEM_DIR: &str = "/usr/share/datasets";

/// Where a data set was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A folder given by the caller (`--data-dir`).
    DataDir(PathBuf),
    /// The folder named by [`DATA_DIR_ENV`].
    EnvDir(PathBuf),
    /// The user cache.
    Cache(PathBuf),
    /// The system-wide folder of Debian's packages.
    System(PathBuf),
    /// Downloaded just now into this folder.
    Downloaded(PathBuf),
    /// The sample embedded in this crate.
    Embedded,
    /// A table file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DataDir(p) => write!(f, "{} (--data-dir)", p.display()),
            Self::EnvDir(p) => write!(f, "{} (${DATA_DIR_ENV})", p.display()),
            Self::Cache(p) => write!(f, "{} (cache)", p.display()),
            Self::System(p) => write!(f, "{} (system)", p.display()),
            Self::Downloaded(p) => write!(f, "{} (downloaded)", p.display()),
            Self::Embedded => f.write_str("embedded sample"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}
