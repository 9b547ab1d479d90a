//! The IDX file format of MNIST and its kin, parsed and checked.
//!
//! An IDX file is a big-endian header — two zero bytes, a type code (`0x08` for
//! unsigned bytes), the number of dimensions — followed by one `u32` per dimension
//! and the data. Image files have three dimensions (count, rows, columns; magic
//! `0x00000803` = 2051), label files one (count; magic `0x00000801` = 2049). Files
//! may be gzip-compressed; the gzip layer is recognised by its own magic bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::DataError;

/// Magic number of an IDX file of unsigned-byte images (three dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (one dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Largest decompressed IDX payload accepted (1 GiB): a guard against a corrupt or
/// hostile header or gzip bomb, far above any MNIST-format data set.
const MAX_DECOMPRESSED: u64 = 1 << 30;

/// Images of one split as a single contiguous buffer of `u8` values: image after
/// image, each one colour plane after another (`[channels, rows, cols]`, the layout of
/// a convolution's input), each plane row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Colour planes of each image: 1 (grey) or 3 (red, green, blue).
    pub channels: usize,
    /// Rows of each image.
    pub rows: usize,
    /// Columns of each image.
    pub cols: usize,
    /// `count * channels * rows * cols` values, image after image.
    pub pixels: Vec<u8>,
}

impl Images {
    /// Grey images of `rows × cols` pixels, `pixels` holding `count` of them.
    pub fn grey(count: usize, rows: usize, cols: usize, pixels: Vec<u8>) -> Self {
        Self {
            count,
            channels: 1,
            rows,
            cols,
            pixels,
        }
    }

    /// Values per image: `channels * rows * cols`.
    pub fn pixels_per_image(&self) -> usize {
        self.channels * self.rows * self.cols
    }

    /// `[channels, rows, cols]` of each image.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.rows, self.cols]
    }

    /// Images of `count` times `shape`, with no pixels yet.
    pub fn empty(shape: [usize; 3]) -> Self {
        let [channels, rows, cols] = shape;
        Self {
            count: 0,
            channels,
            rows,
            cols,
            pixels: Vec::new(),
        }
    }

    /// Image `index` as image files hold it: grey values as they are, three planes
    /// as RGB triples.
    pub fn interleaved(&self, index: usize) -> Vec<u8> {
        let image = self.image(index);
        if self.channels != 3 {
            return image.to_vec();
        }
        let plane = self.rows * self.cols;
        (0..plane)
            .flat_map(|p| [image[p], image[plane + p], image[2 * plane + p]])
            .collect()
    }

    /// Interleaved pixels of `channels` values (RGB triples for 3) as planes, one
    /// after another: the inverse of [`interleaved`](Self::interleaved).
    pub fn planes_of(pixels: &[u8], channels: usize) -> Vec<u8> {
        if channels <= 1 {
            return pixels.to_vec();
        }
        (0..channels)
            .flat_map(|c| pixels.iter().skip(c).step_by(channels).copied())
            .collect()
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut out = Self::empty(self.shape());
        out.pixels.reserve(indices.len() * self.pixels_per_image());
        for &i in indices {
            out.pixels.extend_from_slice(self.image(i));
        }
        out.count = indices.len();
        out
    }

    /// The pixels of image `index`.
    ///
    /// # Panics
    /// When `index >= self.count`.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.pixels_per_image();
        &self.pixels[index * size..(index + 1) * size]
    }

    /// The first `n` images (all of them when `n >= count`).
    pub fn truncate(&mut self, n: usize) {
        self.count = self.count.min(n);
        self.pixels.truncate(self.count * self.pixels_per_image());
    }
}

/// Reads and checks an IDX image file (raw or gzip).
pub fn read_images(path: &Path) -> Result<Images, DataError> {
    let bytes = read_file(path)?;
    parse_images(&bytes, path)
}

/// Reads and checks an IDX label file (raw or gzip).
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_file(path)?;
    parse_labels(&bytes, path)
}

/// Parses IDX image bytes (raw or gzip); `origin` names the source in errors.
pub fn parse_images(bytes: &[u8], origin: &Path) -> Result<Images, DataError> {
    let data = decompress(bytes, origin)?;
    let (dims, body) = parse_header(&data, origin, IMAGES_MAGIC, 3)?;
    let [count, rows, cols] = [dims[0], dims[1], dims[2]];
    if rows == 0 || cols == 0 {
        return Err(DataError::BadDimensions {
            path: origin.to_path_buf(),
            dims: dims.clone(),
        });
    }
    check_size(origin, &dims, body.len())?;
    Ok(Images::grey(count, rows, cols, body.to_vec()))
}

/// Parses IDX label bytes (raw or gzip); `origin` names the source in errors.
pub fn parse_labels(bytes: &[u8], origin: &Path) -> Result<Vec<u8>, DataError> {
    let data = decompress(bytes, origin)?;
    let (dims, body) = parse_header(&data, origin, LABELS_MAGIC, 1)?;
    check_size(origin, &dims, body.len())?;
    Ok(body.to_vec())
}

fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Returns the IDX bytes, inflating them when they carry the gzip magic. A file
/// named `*.gz` that is not gzip is an error rather than a guess.
fn decompress<'a>(bytes: &'a [u8], origin: &Path) -> Result<std::borrow::Cow<'a, [u8]>, DataError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(bytes)
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out)
            .map_err(|source| DataError::Gzip {
                path: origin.to_path_buf(),
                source,
            })?;
        if out.len() as u64 > MAX_DECOMPRESSED {
            return Err(DataError::TooLarge {
                path: origin.to_path_buf(),
                limit: MAX_DECOMPRESSED,
            });
        }
        Ok(out.into())
    } else if origin.extension().is_some_and(|ext| ext == "gz") {
        Err(DataError::NotGzip {
            path: origin.to_path_buf(),
            first_bytes: bytes.iter().take(4).copied().collect(),
        })
    } else {
        Ok(bytes.into())
    }
}

/// Checks the magic number and reads the dimensions; returns them and the body.
fn parse_header<'a>(
    data: &'a [u8],
    origin: &Path,
    magic: u32,
    rank: usize,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let header_len = 4 + 4 * rank;
    let truncated = || DataError::Truncated {
        path: origin.to_path_buf(),
        expected: header_len as u64,
        actual: data.len() as u64,
    };
    // The magic number first: a file of the wrong kind is reported as such, even
    // when it is also too short for this kind's header.
    if data.len() < 4 {
        return Err(truncated());
    }
    let found = be_u32(&data[0..4]);
    if found != magic {
        return Err(DataError::BadMagic {
            path: origin.to_path_buf(),
            expected: magic,
            found,
            kind: magic_kind(magic),
        });
    }
    if data.len() < header_len {
        return Err(truncated());
    }
    let dims = (0..rank)
        .map(|i| be_u32(&data[4 + 4 * i..8 + 4 * i]) as usize)
        .collect();
    Ok((dims, &data[header_len..]))
}

/// What a magic number stands for, for error messages.
fn magic_kind(magic: u32) -> &'static str {
    match magic {
        IMAGES_MAGIC => "unsigned-byte images, 3 dimensions",
        LABELS_MAGIC => "unsigned-byte labels, 1 dimension",
        _ => "IDX",
    }
}

/// The body must hold exactly the product of the dimensions.
fn check_size(origin: &Path, dims: &[usize], actual: usize) -> Result<(), DataError> {
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    let actual = actual as u64;
    if actual < expected {
        Err(DataError::Truncated {
            path: origin.to_path_buf(),
            expected,
            actual,
        })
    } else if actual > expected {
        Err(DataError::TrailingBytes {
            path: origin.to_path_buf(),
            expected,
            actual,
        })
    } else {
        Ok(())
    }
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Encodes images as raw IDX bytes: the inverse of [`parse_images`].
pub fn encode_images(images: &Images) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + images.pixels.len());
    out.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
    for dim in [images.count, images.rows, images.cols] {
        out.extend_from_slice(&(dim as u32).to_be_bytes());
    }
    out.extend_from_slice(&images.pixels);
    out
}

/// Encodes labels as raw IDX bytes: the inverse of [`parse_labels`].
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// Checks that an image file and a label file describe the same samples.
pub(crate) fn check_pair(
    images: &Images,
    labels: &[u8],
    images_path: PathBuf,
    labels_path: PathBuf,
) -> Result<(), DataError> {
    if images.count != labels.len() {
        return Err(DataError::CountMismatch {
            images_path,
            images: images.count,
            labels_path,
            labels: labels.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn sample_images() -> Images {
        Images::grey(3, 2, 2, (0..12).collect())
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).expect("writing to a Vec cannot fail");
        enc.finish().expect("writing to a Vec cannot fail")
    }

    #[test]
    fn raw_and_gzip_round_trip() {
        let images = sample_images();
        let raw = encode_images(&images);
        assert_eq!(
            parse_images(&raw, Path::new("a.idx")).ok(),
            Some(images.clone())
        );
        let gz = gzip(&raw);
        assert_eq!(
            parse_images(&gz, Path::new("a.gz")).ok(),
            Some(images.clone())
        );
        assert_eq!(images.image(1), &[4, 5, 6, 7]);

        let labels = vec![1u8, 2, 9];
        let parsed = parse_labels(&gzip(&encode_labels(&labels)), Path::new("l.gz"));
        assert_eq!(parsed.ok(), Some(labels));
    }

    #[test]
    fn wrong_magic_names_both_values() {
        let raw = encode_labels(&[1, 2, 3]);
        let err = parse_images(&raw, Path::new("x.idx")).expect_err("labels are not images");
        assert!(matches!(
            err,
            DataError::BadMagic {
                expected: IMAGES_MAGIC,
                found: LABELS_MAGIC,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("x.idx") && msg.contains("0x00000803") && msg.contains("0x00000801"),
            "{msg}"
        );
    }

    #[test]
    fn truncated_body_and_header() {
        let mut raw = encode_images(&sample_images());
        raw.pop();
        let err = parse_images(&raw, Path::new("t.idx")).expect_err("one byte short");
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 12,
                    actual: 11,
                    ..
                }
            ),
            "{err}"
        );

        let err = parse_images(&raw[..6], Path::new("t.idx")).expect_err("header cut");
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 16,
                    actual: 6,
                    ..
                }
            ),
            "{err}"
        );

        // A gzip stream cut short is a gzip error, not a panic.
        let gz = gzip(&encode_images(&sample_images()));
        let err = parse_images(&gz[..gz.len() / 2], Path::new("t.gz")).expect_err("cut gzip");
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut raw = encode_labels(&[1, 2]);
        raw.push(7);
        let err = parse_labels(&raw, Path::new("l.idx")).expect_err("one byte too many");
        assert!(
            matches!(
                err,
                DataError::TrailingBytes {
                    expected: 2,
                    actual: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn gz_name_without_gzip_content() {
        let raw = encode_labels(&[1, 2]);
        let err = parse_labels(&raw, Path::new("labels.gz")).expect_err("not gzip");
        assert!(matches!(err, DataError::NotGzip { .. }), "{err}");
        assert!(err.to_string().contains("labels.gz"));
    }

    #[test]
    fn zero_sized_images_are_rejected() {
        let images = Images::grey(0, 0, 28, vec![]);
        let err = parse_images(&encode_images(&images), Path::new("z.idx")).expect_err("0 rows");
        assert!(matches!(err, DataError::BadDimensions { .. }), "{err}");
    }

    #[test]
    fn huge_header_is_truncation_not_allocation() {
        let mut raw = IMAGES_MAGIC.to_be_bytes().to_vec();
        for _ in 0..3 {
            raw.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        let err = parse_images(&raw, Path::new("h.idx")).expect_err("header lies");
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");
    }

    /// The fuzz target's property, on stable and in every test run: 20,000 mutants of
    /// valid raw and gzip files (bit flips, overwritten header words, truncation,
    /// appended bytes, spliced ranges) are each parsed or rejected with an error, and
    /// whatever parses re-encodes to the same data. (The long run is the `cargo fuzz`
    /// target in `crates/data/fuzz`.)
    #[test]
    fn mutated_files_are_parsed_or_rejected_never_a_panic() {
        let images = encode_images(&sample_images());
        let labels = encode_labels(&[1, 2, 3]);
        let seeds = [images.clone(), labels.clone(), gzip(&images), gzip(&labels)];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut parsed = 0;
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                let len = bytes.len().max(1);
                let at = (next() as usize) % len;
                match next() % 5 {
                    0 if !bytes.is_empty() => bytes[at] ^= 1 << (next() % 8),
                    1 if bytes.len() >= at + 4 => {
                        let word = [0, 1, 0xff, 0x7fff_ffff, u32::MAX][(next() % 5) as usize];
                        bytes[at..at + 4].copy_from_slice(&word.to_be_bytes());
                    }
                    2 => bytes.truncate(at),
                    3 => bytes.extend((0..next() % 16).map(|_| next() as u8)),
                    _ => {
                        let end = (at + (next() as usize) % 8).min(bytes.len());
                        let piece = bytes[at.min(end)..end].to_vec();
                        bytes.splice(at.min(end)..at.min(end), piece);
                    }
                }
            }
            for origin in ["fuzz", "fuzz.gz"] {
                if let Ok(found) = parse_images(&bytes, Path::new(origin)) {
                    parsed += 1;
                    assert_eq!(found.pixels.len(), found.count * found.rows * found.cols);
                    let again = parse_images(&encode_images(&found), Path::new("again"));
                    assert_eq!(again.ok().as_ref(), Some(&found));
                }
                if let Ok(found) = parse_labels(&bytes, Path::new(origin)) {
                    parsed += 1;
                    let again = parse_labels(&encode_labels(&found), Path::new("again"));
                    assert_eq!(again.ok(), Some(found));
                }
            }
        }
        // Some mutants stay valid (a flipped pixel), most do not.
        assert!(parsed > 100 && parsed < 30_000, "{parsed} parsed");
    }
}
