//! NumPy's `.npy` format, the one reader and writer of the workspace: arrays of any
//! real, integer or boolean type in C or Fortran order read ([`read`], [`parse`]),
//! arrays written whole ([`to_bytes`], [`write`]) or row batch by row batch
//! ([`NpyWriter`]).

use std::path::Path;

use crate::DataError;

/// An element type `.npy` files are written with.
pub trait Element: Copy {
    /// NumPy's `descr` of the type (little-endian).
    const DESCR: &'static str;
    /// Appends the value's little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

impl Element for f32 {
    const DESCR: &'static str = "<f4";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Element for u8 {
    const DESCR: &'static str = "|u1";
    fn put(self, out: &mut Vec<u8>) {
        out.push(self);
    }
}

/// The header of a version 1.0, C-order array of `shape` and type `descr`: the magic,
/// the version, the length and the dictionary, padded with spaces and a final newline
/// to `len` bytes, or with `len` 0 to the next multiple of 64.
fn header_bytes(descr: &str, shape: &[usize], len: usize) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + length (2) + the dictionary + the newline.
    let unpadded = 10 + dict.len() + 1;
    let len = if len == 0 {
        unpadded.next_multiple_of(64)
    } else {
        len.max(unpadded)
    };
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&((len - 10) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(len - 1, b' ');
    out.push(b'\n');
    out
}

/// An array of `shape` holding `values` (row-major) in the `.npy` format.
pub fn to_bytes<T: Element>(values: &[T], shape: &[usize]) -> Result<Vec<u8>, String> {
    let count: usize = shape.iter().product();
    if count != values.len() {
        return Err(format!(
            "{} values do not fill an array of shape {shape:?}",
            values.len()
        ));
    }
    let mut out = header_bytes(T::DESCR, shape, 0);
    out.reserve(std::mem::size_of_val(values));
    for &v in values {
        v.put(&mut out);
    }
    Ok(out)
}

/// Writes `values` as the `.npy` file `path` of shape `shape`, whole or not at all.
pub fn write<T: Element>(path: &Path, values: &[T], shape: &[usize]) -> Result<(), DataError> {
    let bytes = to_bytes(values, shape).map_err(|message| DataError::Table {
        path: path.to_path_buf(),
        message,
    })?;
    crate::write_atomic(path, &bytes)
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
pub fn read(path: &Path) -> Result<NpyArray, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes).map_err(|message| DataError::Table {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses the bytes of a `.npy` file.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, String> {
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

    /// The offset of the first data byte, as the first 12 bytes of the file declare
    /// it (a header of at most 1 MiB).
    pub fn declared_len(bytes: &[u8]) -> Result<usize, String> {
        let start = Self::magic_len(bytes)?;
        let header_len = if start == 10 {
            usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))
        } else {
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
        };
        if header_len > 1 << 20 {
            return Err(format!("a header of {header_len} bytes: not a .npy file"));
        }
        Ok(start + header_len)
    }

    /// The offset of the first data byte, the whole header being in `bytes`.
    pub fn prefix_len(bytes: &[u8]) -> Result<usize, String> {
        let end = Self::declared_len(bytes)?;
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
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
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
        header_bytes(f32::DESCR, &[rows, columns], WRITER_HEADER)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_data_follows() {
        let bytes = to_bytes(&[1.0f32, -2.5, 3.0, 0.0, 5.0, 6.0], &[2, 3]).expect("fits");
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ascii");
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
        assert!(header.ends_with('\n'));
        let data = &bytes[10 + header_len..];
        assert_eq!(data.len(), 24);
        assert_eq!(
            f32::from_le_bytes([data[4], data[5], data[6], data[7]]),
            -2.5
        );

        let labels = to_bytes(&[7u8, 1, 2], &[3]).expect("fits");
        let header_len = u16::from_le_bytes([labels[8], labels[9]]) as usize;
        let header = std::str::from_utf8(&labels[10..10 + header_len]).expect("ascii");
        assert!(header.contains("'descr': '|u1'") && header.contains("'shape': (3,)"));
        assert_eq!(&labels[10 + header_len..], &[7, 1, 2]);
        assert!(to_bytes(&[1.0f32], &[2, 3]).is_err());
    }
}
