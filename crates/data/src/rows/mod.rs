//! New samples streamed from a file in batches, for applying a trained model to data
//! it has never seen: IDX image files (raw or gzip), PNG and JPEG files and folders of
//! them (made into samples as the model's training images were, [`ImageStream`]), CSV
//! tables and `.npy` arrays.
//!
//! A [`RowReader`] checks the file against the columns the model was trained on
//! ([`Columns`]) before it reads any row, then hands out batches of raw values —
//! pixels scaled to `[0, 1]`, table values as written (standardisation is the
//! model's business) — holding only one batch in memory (a Fortran-order `.npy` is
//! the exception: it is read whole, as its rows are not contiguous).
//!
//! CSV columns are matched by header name when the training file had a header: a
//! training column the file lacks, or a column it has that training did not (other
//! than the label column), is an error naming it; any order is accepted. Without
//! names on either side, columns are taken by position and their number must match.
//!
//! ```
//! use ae_data::rows::{Columns, RowReader};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("new.csv");
//! std::fs::write(&path, "b,a,label\n2,1,x\n4,3,y\n6,5,z\n")?;
//! // A model trained on columns a and b of a file whose labels were in "label".
//! let names = ["a".to_string(), "b".to_string()];
//! let want = Columns { features: 2, names: &names, label: Some("label"), time: None, images: None };
//! let mut reader = RowReader::open(&path, &want)?;
//! let mut batch = Vec::new();
//! assert_eq!(reader.next_batch(2, &mut batch)?, 2);
//! assert_eq!(batch, [1.0, 2.0, 3.0, 4.0]); // in the model's column order
//! assert_eq!(reader.next_batch(2, &mut batch)?, 1);
//! assert_eq!(batch, [5.0, 6.0]);
//! assert_eq!(reader.next_batch(2, &mut batch)?, 0); // the end
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

mod csv_file;

use crate::DataError;
use crate::folder::{FolderSpec, ImageStream};
use crate::idx::IMAGES_MAGIC;
use crate::npy::{NpyHeader, fortran_to_c};
use crate::table::parse_number;

/// The columns a model takes: their number, their names when it was trained on
/// a CSV file with a header, and how image files become its samples.
#[derive(Clone, Debug)]
pub struct Columns<'a> {
    /// Features per sample.
    pub features: usize,
    /// The training columns' names, in the model's order (empty when unnamed).
    pub names: &'a [String],
    /// The training file's label column (a header name or a 0-based index), which
    /// new files may hold and is left out.
    pub label: Option<&'a str>,
    /// The training file's time column (a series' time stamps), left out likewise.
    pub time: Option<&'a str>,
    /// For a model of images: how an image file becomes samples (colour, size,
    /// patches); `None` for a table model.
    pub images: Option<FolderSpec>,
}

impl<'a> Columns<'a> {
    /// `features` unnamed columns, no label.
    pub fn unnamed(features: usize) -> Self {
        Self {
            features,
            names: &[],
            label: None,
            time: None,
            images: None,
        }
    }
}

/// The kinds of file a [`RowReader`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// An IDX file of `u8` images.
    Idx,
    /// A CSV table.
    Csv,
    /// A `.npy` array.
    Npy,
    /// A PNG or JPEG file, or a folder of them.
    Images,
}

impl InputKind {
    /// The kind of `path`, by its name: `.csv`, `.npy`, `.png`, `.jpg` or `.jpeg`
    /// (images, as is a folder), anything else IDX.
    pub fn of(path: &Path) -> Self {
        if path.is_dir() {
            return Self::Images;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv") {
            Self::Csv
        } else if name.ends_with(".npy") {
            Self::Npy
        } else if [".png", ".jpg", ".jpeg"].iter().any(|e| name.ends_with(e)) {
            Self::Images
        } else {
            Self::Idx
        }
    }
}

enum Source {
    Idx(Box<dyn Read + Send>),
    Npy {
        reader: BufReader<File>,
        header: NpyHeader,
    },
    /// A Fortran-order array, read whole, with the next row to hand out.
    NpyWhole {
        values: Vec<f64>,
        next: usize,
    },
    Csv {
        records: csv::StringRecordsIntoIter<crate::BoundedLines<File>>,
        /// For each column of the file, the feature it fills (`None`: left out).
        map: Vec<Option<usize>>,
        /// The 1-based line of the next record.
        line: usize,
        /// A first record that was data, not a header.
        pending: Option<csv::StringRecord>,
    },
    Images(ImageStream),
}

/// Batches of samples from a file, checked against the model's [`Columns`].
pub struct RowReader {
    path: PathBuf,
    kind: InputKind,
    features: usize,
    total: Option<usize>,
    done: usize,
    image: Option<[usize; 3]>,
    source: Source,
}

fn error(path: &Path, message: String) -> DataError {
    DataError::Table {
        path: path.to_path_buf(),
        message,
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl RowReader {
    /// Opens `path` (its kind from its name, [`InputKind::of`]) for a model taking
    /// `want`'s columns.
    pub fn open(path: &Path, want: &Columns<'_>) -> Result<Self, DataError> {
        let kind = InputKind::of(path);
        let open = || File::open(path).map_err(io(path));
        let mut reader = Self {
            path: path.to_path_buf(),
            kind,
            features: want.features,
            total: None,
            done: 0,
            image: None,
            source: Source::NpyWhole {
                values: Vec::new(),
                next: 0,
            },
        };
        reader.source = match kind {
            InputKind::Idx => reader.open_idx(open()?)?,
            InputKind::Npy => reader.open_npy(open()?)?,
            InputKind::Csv => reader.open_csv(open()?, want)?,
            InputKind::Images => return Self::open_images(path, want),
        };
        Ok(reader)
    }

    fn open_images(path: &Path, want: &Columns<'_>) -> Result<Self, DataError> {
        let Some(spec) = &want.images else {
            return Err(error(
                path,
                format!(
                    "image files, but the model takes table rows of {} columns",
                    want.features
                ),
            ));
        };
        let stream = ImageStream::open(path, spec, want.features)?;
        Ok(Self {
            path: path.to_path_buf(),
            kind: InputKind::Images,
            features: want.features,
            total: stream.total(),
            done: 0,
            image: spec.sample_shape(),
            source: Source::Images(stream),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its kind.
    pub fn kind(&self) -> InputKind {
        self.kind
    }

    /// The number of samples, when the file says it up front (IDX and `.npy`).
    pub fn total(&self) -> Option<usize> {
        self.total
    }

    /// The image shape `[channels, rows, columns]` of images.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        self.image
    }

    /// For image files, the file of each sample of the last batch.
    pub fn last_files(&self) -> Option<Vec<&Path>> {
        match &self.source {
            Source::Images(stream) => Some(stream.last_files().collect()),
            _ => None,
        }
    }

    /// Samples handed out so far.
    pub fn done(&self) -> usize {
        self.done
    }

    fn open_idx(&mut self, file: File) -> Result<Source, DataError> {
        let path = self.path.clone();
        let mut buffered = BufReader::new(file);
        let mut magic = [0u8; 2];
        let peek = buffered.fill_buf_peek(&mut magic).map_err(io(&path))?;
        let mut reader: Box<dyn Read + Send> = if *peek == [0x1f, 0x8b] {
            Box::new(GzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut header = [0u8; 16];
        reader.read_exact(&mut header).map_err(|_| {
            error(
                &path,
                "shorter than an IDX image header (16 bytes); a table needs a name \
                 ending in .csv or .npy"
                    .into(),
            )
        })?;
        let word = |i: usize| {
            u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]) as usize
        };
        if word(0) != IMAGES_MAGIC as usize {
            return Err(DataError::BadMagic {
                path,
                expected: IMAGES_MAGIC,
                found: word(0) as u32,
                kind: "unsigned-byte images, 3 dimensions (a table needs a name ending in .csv or .npy)",
            });
        }
        let (count, rows, cols) = (word(4), word(8), word(12));
        if rows * cols != self.features {
            return Err(error(
                &path,
                format!(
                    "images of {rows}×{cols} = {} pixels, but the model takes {} values per sample",
                    rows * cols,
                    self.features
                ),
            ));
        }
        self.total = Some(count);
        self.image = Some([1, rows, cols]);
        Ok(Source::Idx(reader))
    }

    fn open_npy(&mut self, file: File) -> Result<Source, DataError> {
        let path = self.path.clone();
        let mut reader = BufReader::new(file);
        let mut prefix = vec![0u8; 12];
        reader
            .read_exact(&mut prefix)
            .map_err(|_| error(&path, "not a .npy file (shorter than its header)".into()))?;
        let start = NpyHeader::declared_len(&prefix).map_err(|m| error(&path, m))?;
        prefix.resize(start.max(12), 0);
        if start > 12 {
            reader
                .read_exact(&mut prefix[12..])
                .map_err(|_| error(&path, "the header is cut short".into()))?;
        }
        prefix.truncate(start);
        let header = NpyHeader::parse(&prefix).map_err(|m| error(&path, m))?;
        let [count, columns] = header.shape[..] else {
            return Err(error(
                &path,
                format!(
                    "an array of shape {:?}: expected 2 dimensions, [samples, features]",
                    header.shape
                ),
            ));
        };
        if columns != self.features {
            return Err(error(
                &path,
                format!(
                    "{columns} columns, but the model takes {} features",
                    self.features
                ),
            ));
        }
        // The file's length must be the header's promise (a cut file fails now, not
        // after hours of work).
        let len = std::fs::metadata(&path).map_err(io(&path))?.len();
        let data = header.data_bytes().map_err(|m| error(&path, m))? as u64;
        if len != start as u64 + data {
            return Err(error(
                &path,
                format!(
                    "{} bytes of data where shape {:?} needs {data}",
                    len.saturating_sub(start as u64),
                    header.shape
                ),
            ));
        }
        self.total = Some(count);
        if header.fortran {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map_err(io(&path))?;
            let column_major: Vec<f64> = bytes
                .chunks_exact(header.size)
                .map(|c| header.value(c))
                .collect();
            let values = fortran_to_c(&column_major, &header.shape);
            return Ok(Source::NpyWhole { values, next: 0 });
        }
        Ok(Source::Npy { reader, header })
    }

    /// Reads up to `max` samples into `out` (cleared first), `features` values each;
    /// returns how many (0 at the end of the file).
    pub fn next_batch(&mut self, max: usize, out: &mut Vec<f32>) -> Result<usize, DataError> {
        out.clear();
        let features = self.features;
        let path = self.path.clone();
        let limit = match self.total {
            Some(total) => max.min(total - self.done),
            None => max,
        };
        let n = match &mut self.source {
            Source::Idx(reader) => {
                let at = (self.done * features, self.total.unwrap_or(0) * features);
                read_idx(reader, limit * features, at, &path, out)?;
                limit
            }
            Source::Npy { reader, header } => {
                let mut bytes = vec![0u8; limit * features * header.size];
                reader.read_exact(&mut bytes).map_err(io(&path))?;
                for (i, chunk) in bytes.chunks_exact(header.size).enumerate() {
                    let v = header.value(chunk);
                    if !v.is_finite() {
                        return Err(error(
                            &path,
                            format!(
                                "value {v} at row {}, column {}: expected finite numbers",
                                self.done + i / features,
                                i % features
                            ),
                        ));
                    }
                    out.push(v as f32);
                }
                limit
            }
            Source::NpyWhole { values, next } => {
                let rows = &values[*next * features..(*next + limit) * features];
                if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
                    return Err(error(
                        &path,
                        format!(
                            "value {} at row {}, column {}: expected finite numbers",
                            rows[i],
                            *next + i / features,
                            i % features
                        ),
                    ));
                }
                out.extend(rows.iter().map(|&v| v as f32));
                *next += limit;
                limit
            }
            Source::Csv {
                records,
                map,
                line,
                pending,
            } => {
                let mut rows = CsvRows {
                    records,
                    map,
                    line,
                    pending,
                };
                rows.read(limit, features, &path, out)?
            }
            Source::Images(stream) => stream.next_batch(limit, out)?,
        };
        self.done += n;
        Ok(n)
    }
}

/// `values` pixels of an IDX file's images into `out`, scaled to [0, 1]; `at`: the
/// values read before and the file's whole count, to name a file cut short with the
/// bytes it has (after the 16 of the header).
fn read_idx(
    reader: &mut Box<dyn Read + Send>,
    values: usize,
    (before, total): (usize, usize),
    path: &Path,
    out: &mut Vec<f32>,
) -> Result<(), DataError> {
    let mut bytes = vec![0u8; values];
    // Read to the end of what is there.
    let mut got = 0;
    while got < bytes.len() {
        match reader.read(&mut bytes[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(path)(e)),
        }
    }
    if got < bytes.len() {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: total as u64,
            actual: (before + got) as u64,
        });
    }
    out.extend(bytes.iter().map(|&b| f32::from(b) / 255.0));
    Ok(())
}

/// The state of a CSV file's records as [`RowReader::next_batch`] reads them.
struct CsvRows<'a> {
    records: &'a mut csv::StringRecordsIntoIter<crate::BoundedLines<File>>,
    map: &'a [Option<usize>],
    line: &'a mut usize,
    pending: &'a mut Option<csv::StringRecord>,
}

impl CsvRows<'_> {
    /// Up to `limit` rows of `features` values into `out`; the rows read.
    fn read(
        &mut self,
        limit: usize,
        features: usize,
        path: &Path,
        out: &mut Vec<f32>,
    ) -> Result<usize, DataError> {
        let mut n = 0;
        let mut row = vec![0f32; features];
        while n < limit {
            let record = match self.pending.take() {
                Some(r) => r,
                None => match self.records.next() {
                    None => break,
                    Some(r) => r.map_err(|e| error(path, e.to_string()))?,
                },
            };
            let line = *self.line;
            if record.len() != self.map.len() {
                return Err(error(
                    path,
                    format!(
                        "line {line}: {} fields, where the first line has {}",
                        record.len(),
                        self.map.len()
                    ),
                ));
            }
            for (j, (field, slot)) in record.iter().zip(self.map.iter()).enumerate() {
                let Some(k) = slot else { continue };
                row[*k] = parse_number(field)
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        error(
                            path,
                            format!(
                                "line {line}, column {j}: '{}' is not a finite number",
                                crate::clip(field)
                            ),
                        )
                    })?;
            }
            out.extend_from_slice(&row);
            *self.line += 1;
            n += 1;
        }
        Ok(n)
    }
}

/// Peeks at the first bytes of a buffered reader without consuming them.
trait Peek {
    fn fill_buf_peek<'a>(&mut self, into: &'a mut [u8; 2]) -> std::io::Result<&'a [u8; 2]>;
}

impl<R: Read> Peek for BufReader<R> {
    fn fill_buf_peek<'a>(&mut self, into: &'a mut [u8; 2]) -> std::io::Result<&'a [u8; 2]> {
        use std::io::BufRead;
        let buf = self.fill_buf()?;
        *into = [
            buf.first().copied().unwrap_or(0),
            buf.get(1).copied().unwrap_or(0),
        ];
        Ok(into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NpyWriter;

    fn all(reader: &mut RowReader, batch: usize) -> Result<Vec<f32>, DataError> {
        let (mut values, mut out) = (Vec::new(), Vec::new());
        while reader.next_batch(batch, &mut out)? > 0 {
            values.extend_from_slice(&out);
        }
        Ok(values)
    }

    #[test]
    fn csv_columns_are_matched_by_name_in_any_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new.csv");
        // A label and a time column too, both left out.
        let text = "c,label,day,a,b\n3,x,2001-01-01,1,2\n6,y,2001-01-02,4,5\n9,z,2001-01-03,7,8\n";
        std::fs::write(&path, text).expect("write");
        let names = ["a", "b", "c"].map(String::from);
        let want = Columns {
            features: 3,
            names: &names,
            label: Some("label"),
            time: Some("day"),
            images: None,
        };
        let mut reader = RowReader::open(&path, &want).expect("open");
        assert_eq!(reader.total(), None);
        let values = all(&mut reader, 2).expect("rows");
        assert_eq!(values, [1., 2., 3., 4., 5., 6., 7., 8., 9.]);

        // A missing and an extra column are named.
        std::fs::write(&path, "a,b\n1,2\n").expect("write");
        let err = RowReader::open(&path, &want)
            .err()
            .expect("missing")
            .to_string();
        assert!(err.contains("'c' is missing"), "{err}");
        std::fs::write(&path, "a,b,c,d\n1,2,3,4\n").expect("write");
        let err = RowReader::open(&path, &want)
            .err()
            .expect("extra")
            .to_string();
        assert!(
            err.contains("'d' is not one of the model's columns"),
            "{err}"
        );
        // A bad value names its line and column.
        std::fs::write(&path, "a,b,c\n1,2,3\n1,nan,3\n").expect("write");
        let mut reader = RowReader::open(&path, &want).expect("open");
        let err = all(&mut reader, 10).expect_err("nan").to_string();
        assert!(err.contains("line 3, column 1: 'nan'"), "{err}");
        // Unnamed training columns: by position, their number checked.
        std::fs::write(&path, "1,2\n3,4\n").expect("write");
        let mut reader = RowReader::open(&path, &Columns::unnamed(2)).expect("open");
        assert_eq!(all(&mut reader, 1).expect("rows"), [1., 2., 3., 4.]);
        let err = RowReader::open(&path, &Columns::unnamed(3))
            .err()
            .expect("count");
        assert!(
            err.to_string()
                .contains("2 feature columns, but the model takes 3")
        );
    }

    #[test]
    fn npy_rows_stream_in_both_orders_and_written_arrays_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rows.npy");
        let mut writer = NpyWriter::create(&path, 3).expect("create");
        writer.push(&[1., 2., 3.]).expect("push");
        writer.push(&[4., 5., 6., 7., 8., 9.]).expect("push");
        assert!(!path.exists(), "an unfinished array is not under its name");
        writer.finish().expect("finish");
        let array = crate::npy::read(&path).expect("a .npy file");
        assert_eq!(array.shape, [3, 3]);
        let mut reader = RowReader::open(&path, &Columns::unnamed(3)).expect("open");
        assert_eq!(reader.total(), Some(3));
        let values = all(&mut reader, 2).expect("rows");
        let read: Vec<f32> = array.values.iter().map(|&v| v as f32).collect();
        assert_eq!(values, read);
        assert_eq!(values, [1., 2., 3., 4., 5., 6., 7., 8., 9.]);
        let err = RowReader::open(&path, &Columns::unnamed(4))
            .err()
            .expect("columns");
        assert!(err.to_string().contains("3 columns, but the model takes 4"));

        // A Fortran-order int16 array of the same rows.
        let dict = "{'descr': '<i2', 'fortran_order': True, 'shape': (3, 3), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let pad = 128 - 10 - dict.len() - 1;
        bytes.extend_from_slice(&((dict.len() + pad + 1) as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend(std::iter::repeat_n(b' ', pad));
        bytes.push(b'\n');
        for v in [1i16, 4, 7, 2, 5, 8, 3, 6, 9] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let fortran = dir.path().join("f.npy");
        std::fs::write(&fortran, &bytes).expect("write");
        let mut reader = RowReader::open(&fortran, &Columns::unnamed(3)).expect("open");
        assert_eq!(all(&mut reader, 2).expect("rows"), values);
        // Cut short: refused before any row.
        std::fs::write(&fortran, &bytes[..bytes.len() - 2]).expect("write");
        let err = RowReader::open(&fortran, &Columns::unnamed(3))
            .err()
            .expect("cut");
        assert!(err.to_string().contains("bytes of data"), "{err}");
    }

    #[test]
    fn idx_images_stream_raw_or_gzip_as_unit_pixels() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("temp dir");
        let images = crate::Images::grey(3, 2, 2, (0..12).map(|p| p * 20).collect());
        let raw = crate::idx::encode_images(&images);
        let plain = dir.path().join("images-idx3-ubyte");
        std::fs::write(&plain, &raw).expect("write");
        let gz = dir.path().join("images-idx3-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&raw).expect("gzip");
        std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
        let expected: Vec<f32> = images
            .pixels
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        for path in [&plain, &gz] {
            let mut reader = RowReader::open(path, &Columns::unnamed(4)).expect("open");
            assert_eq!(reader.image_shape(), Some([1, 2, 2]));
            assert_eq!(all(&mut reader, 2).expect("rows"), expected);
        }
        let err = RowReader::open(&plain, &Columns::unnamed(784))
            .err()
            .expect("size");
        assert!(err.to_string().contains("2×2 = 4 pixels"), "{err}");
        std::fs::write(&plain, &raw[..raw.len() - 3]).expect("write");
        let mut reader = RowReader::open(&plain, &Columns::unnamed(4)).expect("open");
        // The bytes the file has are named, not those read before the cut.
        match all(&mut reader, 2) {
            Err(DataError::Truncated {
                expected, actual, ..
            }) => assert_eq!(actual + 3, expected),
            other => panic!("{other:?}"),
        }
    }
}
