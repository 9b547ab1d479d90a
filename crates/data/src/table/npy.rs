//! NumPy `.npy` arrays: the reader of any real or integer type, C or Fortran order.

use std::path::Path;

use super::{Label, Parsed, Table, table_error};
use crate::DataError;

/// Reads a 2-D `.npy` array of features and, optionally, a 1-D array of labels.
pub(super) fn read_npy_table(path: &Path, labels: Option<&Path>) -> Result<Parsed, DataError> {
    let features = read_npy(path)?;
    let [count, columns] = features.shape[..] else {
        return Err(table_error(
            path,
            format!(
                "an array of shape {:?}: expected 2 dimensions, [samples, features]",
                features.shape
            ),
        ));
    };
    if count == 0 || columns == 0 {
        return Err(table_error(
            path,
            format!("shape [{count}, {columns}]: expected at least one sample and one feature"),
        ));
    }
    if let Some((i, v)) = features
        .values
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
    {
        return Err(table_error(
            path,
            format!(
                "value {v} at row {}, column {}: expected finite numbers",
                i / columns,
                i % columns
            ),
        ));
    }
    let labels = match labels {
        None => None,
        Some(lpath) => {
            let l = read_npy(lpath)?;
            if l.shape[..] != [count] {
                return Err(table_error(
                    lpath,
                    format!(
                        "labels of shape {:?}: expected [{count}], one per row of {}",
                        l.shape,
                        path.display()
                    ),
                ));
            }
            let labels = l
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| match v {
                    v if v.fract() == 0.0 && (0.0..=255.0).contains(&v) => {
                        Ok(Label::Number(v as u8))
                    }
                    v => Err(table_error(
                        lpath,
                        format!("label {v} at index {i}: expected integers from 0 to 255"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(labels)
        }
    };
    Ok(Parsed {
        table: Table {
            count,
            columns,
            values: features.values.iter().map(|&v| v as f32).collect(),
        },
        labels,
        names: Vec::new(),
    })
}

/// A `.npy` array: its shape and its values in C (row-major) order.
#[derive(Debug)]
pub struct NpyArray {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The values, row-major, converted to `f64`.
    pub values: Vec<f64>,
}

/// Reads a `.npy` file (format versions 1–3) of a real, integer or boolean type.
pub fn read_npy(path: &Path) -> Result<NpyArray, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(&bytes).map_err(|message| table_error(path, message))
}

/// Parses the bytes of a `.npy` file.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    let header = NpyHeader::parse(bytes)?;
    let data = &bytes[header.data_start..];
    let needed = header.data_bytes()?;
    if data.len() != needed {
        return Err(format!(
            "{} bytes of data where shape {:?} of '{}' needs {needed}",
            data.len(),
            header.shape,
            header.descr
        ));
    }
    let mut values: Vec<f64> = data
        .chunks_exact(header.size)
        .map(|c| header.value(c))
        .collect();
    if header.fortran && header.shape.len() > 1 {
        values = fortran_to_c(&values, &header.shape);
    }
    Ok(NpyArray {
        shape: header.shape,
        values,
    })
}

/// The header of a `.npy` file: the array's shape, order and element type.
#[derive(Clone, Debug)]
pub(crate) struct NpyHeader {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// Column-major data.
    pub fortran: bool,
    /// Offset of the first data byte.
    pub data_start: usize,
    /// Bytes per element.
    pub size: usize,
    descr: String,
    kind: u8,
    big: bool,
}

impl NpyHeader {
    /// Reads the header at the start of `bytes` (which may hold more, or only the
    /// header: see [`prefix_len`](Self::prefix_len)).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let start = Self::prefix_len(bytes)?;
        let header_len = start - Self::magic_len(bytes)?;
        let header = &bytes[start - header_len..start];
        let header = std::str::from_utf8(header).map_err(|_| "the header is not text")?;
        let descr = dict_value(header, "descr").ok_or("the header has no 'descr'")?;
        let descr = descr.trim_matches(|c| c == '\'' || c == '"');
        let fortran = match dict_value(header, "fortran_order") {
            Some("True") => true,
            Some("False") => false,
            _ => return Err("the header has no fortran_order True/False".into()),
        };
        let shape_text = dict_value(header, "shape").ok_or("the header has no 'shape'")?;
        let shape = shape_text
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| format!("shape {shape_text}: '{s}' is not a size"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (endian, kind) = descr.split_at(descr.len().min(1));
        let big = match endian {
            "<" | "|" | "=" => false,
            ">" => true,
            _ => return Err(format!("dtype '{descr}': expected an explicit byte order")),
        };
        let size: usize = kind.get(1..).and_then(|s| s.parse().ok()).unwrap_or(0);
        let kind = kind.as_bytes().first().copied().unwrap_or(0);
        if !matches!(
            (kind, size),
            (b'f', 4 | 8) | (b'i' | b'u', 1 | 2 | 4 | 8) | (b'b', 1)
        ) {
            return Err(format!(
                "dtype '{descr}': expected float32/64, (unsigned) integers or booleans"
            ));
        }
        Ok(Self {
            shape,
            fortran,
            data_start: start,
            size,
            descr: descr.to_string(),
            kind,
            big,
        })
    }

    /// The length of the magic string, version and header-length field.
    fn magic_len(bytes: &[u8]) -> Result<usize, String> {
        const MAGIC: &[u8] = b"\x93NUMPY";
        if bytes.len() < 10 || &bytes[..6] != MAGIC {
            return Err("not a .npy file (it does not start with \\x93NUMPY)".into());
        }
        match bytes[6] {
            1 => Ok(10),
            2 | 3 if bytes.len() >= 12 => Ok(12),
            v => Err(format!(".npy format version {v}: expected 1, 2 or 3")),
        }
    }

    /// The offset of the first data byte, from the first 12 bytes of the file.
    pub fn prefix_len(bytes: &[u8]) -> Result<usize, String> {
        let start = Self::magic_len(bytes)?;
        let header_len = if start == 10 {
            usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))
        } else {
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
        };
        let end = start.saturating_add(header_len);
        if bytes.len() < end {
            return Err("the header is cut short".into());
        }
        Ok(end)
    }

    /// The number of data bytes the shape and type need.
    pub fn data_bytes(&self) -> Result<usize, String> {
        self.shape
            .iter()
            .try_fold(self.size, |a, &d| a.checked_mul(d))
            .ok_or_else(|| format!("shape {:?} is too large", self.shape))
    }

    /// The element in `chunk` (`size` bytes) as an `f64`.
    pub fn value(&self, chunk: &[u8]) -> f64 {
        let mut w = [0u8; 8];
        if self.big {
            for (i, &b) in chunk.iter().rev().enumerate() {
                w[i] = b;
            }
        } else {
            w[..chunk.len()].copy_from_slice(chunk);
        }
        match (self.kind, self.size) {
            (b'f', 4) => f64::from(f32::from_le_bytes([w[0], w[1], w[2], w[3]])),
            (b'f', _) => f64::from_le_bytes(w),
            (b'u' | b'b', _) => u64::from_le_bytes(w) as f64,
            (_, 8) => i64::from_le_bytes(w) as f64,
            // Sign-extend a narrower signed integer.
            (_, n) => {
                let shift = 64 - 8 * n as u32;
                ((u64::from_le_bytes(w) << shift) as i64 >> shift) as f64
            }
        }
    }
}

/// The value of `key` in a `.npy` header (a Python dict literal).
pub(super) fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

/// Column-major values of `shape` in row-major order.
pub(crate) fn fortran_to_c(values: &[f64], shape: &[usize]) -> Vec<f64> {
    let n = values.len();
    let mut out = vec![0.0; n];
    let mut index = vec![0usize; shape.len()];
    for (c, slot) in out.iter_mut().enumerate() {
        // Row-major index c → its multi-index → the column-major offset.
        let mut rem = c;
        for d in (0..shape.len()).rev() {
            index[d] = rem % shape[d];
            rem /= shape[d];
        }
        let mut offset = 0;
        for d in (0..shape.len()).rev() {
            offset = offset * shape[d] + index[d];
        }
        *slot = values[offset];
    }
    out
}

/// Writes a 2-D `float32` `.npy` array row batch by row batch, without knowing the
/// number of rows in advance, through an [`AtomicFile`](crate::AtomicFile):
/// [`finish`](Self::finish) writes the final header and puts the file in place, so a
/// file under its final name is always whole.
pub struct NpyWriter {
    file: crate::AtomicFile,
    columns: usize,
    rows: usize,
}

/// The header's fixed length: room for any row count (version 1.0, 16-byte aligned).
const WRITER_HEADER: usize = 128;

impl NpyWriter {
    /// Starts `path`, an array of `columns` columns.
    pub fn create(path: &Path, columns: usize) -> Result<Self, DataError> {
        use std::io::Write;
        let mut file = crate::AtomicFile::create(path)?;
        file.write_all(&Self::header(0, columns))
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            file,
            columns,
            rows: 0,
        })
    }

    fn header(rows: usize, columns: usize) -> Vec<u8> {
        let dict =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&((WRITER_HEADER - 10) as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.resize(WRITER_HEADER - 1, b' ');
        out.push(b'\n');
        out
    }

    fn io(&self, source: std::io::Error) -> DataError {
        DataError::Io {
            path: self.file.path().to_path_buf(),
            source,
        }
    }

    /// Appends rows (`values.len()` a multiple of the columns).
    pub fn push(&mut self, values: &[f32]) -> Result<(), DataError> {
        use std::io::Write;
        debug_assert_eq!(values.len() % self.columns.max(1), 0);
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        if let Err(e) = self.file.write_all(&bytes) {
            return Err(self.io(e));
        }
        self.rows += values.len() / self.columns.max(1);
        Ok(())
    }

    /// Writes the header with the number of rows and puts the file in place.
    pub fn finish(self) -> Result<std::path::PathBuf, DataError> {
        self.prepare()?.commit()
    }

    /// Writes the header with the number of rows; the file is put in place by
    /// [`crate::Prepared::commit`].
    pub fn prepare(mut self) -> Result<crate::Prepared, DataError> {
        use std::io::{Seek, SeekFrom, Write};
        let header = Self::header(self.rows, self.columns);
        let rewritten = self
            .file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&header));
        if let Err(e) = rewritten {
            return Err(self.io(e));
        }
        self.file.prepare()
    }
}
