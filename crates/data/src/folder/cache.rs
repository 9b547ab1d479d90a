//! The decoded images of a folder, kept in one file that later runs read.
//!
//! A folder is decoded once (in parallel, see [`super::pipeline`]) into a cache file
//! of `u8` planes; a later run with the same folder and options finds it and decodes
//! nothing, and a split too large for memory is read from it image by image
//! ([`StoredImages`]). The file is named by the folder's path and the decoding
//! options, and records a fingerprint of every listed file (path, class, size and
//! modification time): when a file is added, removed, replaced or touched, the
//! fingerprint differs and the folder is decoded again into the same name. A cache
//! file is written under a temporary name and renamed when whole.
//!
//! Layout: `MAGIC`, the pixels (image after image), the source file of each image
//! (`u32` little-endian), the files left out (index and message, each), then a
//! trailer of eight `u64` little-endian values — fingerprint, format version,
//! channels, rows, columns, images, files left out, bytes of that list — and `MAGIC`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::FolderSpec;
use crate::places::{IMAGE_CACHE_ENV, IMAGE_MEMORY_ENV};
use crate::stored::StoredImages;
use crate::{AtomicFile, DataError};

const MAGIC: &[u8; 8] = b"AEIMAGES";
/// Bumped whenever decoding, resizing or the layout changes, so old files are redone.
const VERSION: u64 = 1;
const TRAILER: usize = 8 * 8 + MAGIC.len();

/// Where decoded folders are cached, and how much of them stays in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageCache {
    /// The folder of cache files; `None` decodes into memory every time.
    pub dir: Option<PathBuf>,
    /// A split of more bytes than this stays on disk and is read batch by batch; at
    /// most this many are read into memory.
    pub resident_limit: u64,
    /// Whether to draw a progress bar while decoding.
    pub progress: bool,
}

impl ImageCache {
    /// Splits up to this size are held in memory by default (2 GiB).
    pub const DEFAULT_RESIDENT_LIMIT: u64 = 2 << 30;

    /// The cache folder `images` below `cache_root` (the user cache), unless
    /// [`IMAGE_CACHE_ENV`] names another or `off`; the limit of [`IMAGE_MEMORY_ENV`]
    /// when it is set to a number of MiB (another value is reported and ignored).
    pub fn standard(cache_root: Option<&Path>) -> Self {
        let dir = match std::env::var_os(IMAGE_CACHE_ENV).filter(|v| !v.is_empty()) {
            Some(v) if v == "off" => None,
            Some(v) => Some(PathBuf::from(v)),
            None => cache_root.map(|root| root.join("images")),
        };
        let resident_limit = match std::env::var(IMAGE_MEMORY_ENV) {
            Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
                Ok(mib) => mib.saturating_mul(1 << 20),
                Err(_) => {
                    eprintln!(
                        "${IMAGE_MEMORY_ENV}='{v}': expected a whole number of MiB; using {} MiB",
                        Self::DEFAULT_RESIDENT_LIMIT >> 20
                    );
                    Self::DEFAULT_RESIDENT_LIMIT
                }
            },
            _ => Self::DEFAULT_RESIDENT_LIMIT,
        };
        Self {
            dir,
            resident_limit,
            progress: true,
        }
    }

    /// No cache: every load decodes into memory.
    pub fn none() -> Self {
        Self {
            dir: None,
            resident_limit: u64::MAX,
            progress: false,
        }
    }
}

/// FNV-1a, 64 bits: a hash that is the same on every machine and every build.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn u64(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// What changes the decoded pixels, beside the files themselves.
fn options(spec: &FolderSpec) -> String {
    format!(
        "v{VERSION} {:?} {:?} {:?} skip_bad={}",
        spec.colour, spec.image_size, spec.patches, spec.skip_bad
    )
}

/// The cache file of the images listed in `dir` with `spec`'s options.
pub(super) fn file_name(cache_dir: &Path, spec: &FolderSpec, dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut hash = Fnv::new();
    hash.bytes(absolute.to_string_lossy().as_bytes());
    hash.bytes(options(spec).as_bytes());
    cache_dir.join(format!("{:016x}.images", hash.0))
}

/// The fingerprint of `files` (with their class names) decoded with `spec`'s options.
pub(super) fn fingerprint(
    spec: &FolderSpec,
    files: &[PathBuf],
    labels: &[String],
) -> Result<u64, DataError> {
    let mut hash = Fnv::new();
    hash.bytes(options(spec).as_bytes());
    for (file, label) in files.iter().zip(labels) {
        let meta = std::fs::metadata(file).map_err(|source| DataError::Io {
            path: file.clone(),
            source,
        })?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        hash.bytes(file.to_string_lossy().as_bytes());
        hash.bytes(label.as_bytes());
        hash.u64(meta.len());
        hash.u64(modified);
    }
    Ok(hash.0)
}

/// A cache file's images: all of them in file order, the source file of each and the
/// files left out.
pub(super) struct Cached {
    pub stored: StoredImages,
    pub sources: Vec<u32>,
    pub skipped: Vec<(usize, String)>,
}

fn u64_at(bytes: &[u8], i: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
    u64::from_le_bytes(word)
}

/// The cache file at `path` when it is whole and of `fingerprint`; `None` when it is
/// missing, stale or damaged (then it is rewritten).
pub(super) fn open(path: &Path, fingerprint: u64) -> Option<Cached> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut head = [0; MAGIC.len()];
    file.read_exact(&mut head).ok()?;
    let mut trailer = [0; TRAILER];
    file.seek(SeekFrom::End(-(TRAILER as i64))).ok()?;
    file.read_exact(&mut trailer).ok()?;
    let word = |i| u64_at(&trailer, i);
    if &head != MAGIC || &trailer[64..] != MAGIC || word(0) != fingerprint || word(1) != VERSION {
        return None;
    }
    let shape = [word(2), word(3), word(4)].map(|v| v as usize);
    let (count, skipped_n, skipped_bytes) = (word(5), word(6), word(7));
    let pixels = count.checked_mul(shape.iter().product::<usize>() as u64)?;
    let sources_at = (MAGIC.len() as u64).checked_add(pixels)?;
    let expected = sources_at + 4 * count + skipped_bytes + TRAILER as u64;
    if len != expected {
        return None;
    }
    file.seek(SeekFrom::Start(sources_at)).ok()?;
    let mut tail = vec![0; usize::try_from(4 * count + skipped_bytes).ok()?];
    file.read_exact(&mut tail).ok()?;
    let (sources, mut rest) = tail.split_at(4 * count as usize);
    let sources = sources
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut skipped = Vec::new();
    for _ in 0..skipped_n {
        let index = u64_at(rest.get(..16)?, 0) as usize;
        let n = u64_at(rest.get(..16)?, 1) as usize;
        let message = String::from_utf8_lossy(rest.get(16..16 + n)?).into_owned();
        skipped.push((index, message));
        rest = &rest[16 + n..];
    }
    let stored = StoredImages::new(
        file,
        path.to_path_buf(),
        MAGIC.len() as u64,
        shape,
        (0..count as u32).collect(),
    );
    Some(Cached {
        stored,
        sources,
        skipped,
    })
}

/// A cache file being written: pixels as they are decoded, the rest at the end.
pub(super) struct Writer {
    file: AtomicFile,
}

impl Writer {
    pub fn create(path: &Path) -> Result<Self, DataError> {
        let mut file = AtomicFile::create(path)?;
        file.write_all(MAGIC).map_err(|e| io(path, e))?;
        Ok(Self { file })
    }

    /// Appends the pixels of one or more images.
    pub fn push(&mut self, pixels: &[u8]) -> Result<(), DataError> {
        self.file
            .write_all(pixels)
            .map_err(|e| io(self.file.path(), e))
    }

    /// Writes the sources, the files left out and the trailer, and renames the file
    /// into place.
    pub fn finish(
        mut self,
        fingerprint: u64,
        shape: [usize; 3],
        sources: &[u32],
        skipped: &[(usize, String)],
    ) -> Result<PathBuf, DataError> {
        let mut tail: Vec<u8> = sources.iter().flat_map(|s| s.to_le_bytes()).collect();
        let before = tail.len();
        for (index, message) in skipped {
            tail.extend((*index as u64).to_le_bytes());
            tail.extend((message.len() as u64).to_le_bytes());
            tail.extend(message.as_bytes());
        }
        let skipped_bytes = (tail.len() - before) as u64;
        for word in [
            fingerprint,
            VERSION,
            shape[0] as u64,
            shape[1] as u64,
            shape[2] as u64,
            sources.len() as u64,
            skipped.len() as u64,
            skipped_bytes,
        ] {
            tail.extend(word.to_le_bytes());
        }
        tail.extend(MAGIC);
        let path = self.file.path().to_path_buf();
        self.file.write_all(&tail).map_err(|e| io(&path, e))?;
        self.file.finish()
    }
}

fn io(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}
