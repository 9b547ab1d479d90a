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
    const MAGIC: &[u8] = b"\x93NUMPY";
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (it does not start with \\x93NUMPY)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (
            usize::from(u16::from_le_bytes([bytes[8], bytes[9]])),
            10usize,
        ),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!(".npy format version {v}: expected 1, 2 or 3")),
    };
    let header = bytes
        .get(start..start.saturating_add(header_len))
        .ok_or("the header is cut short")?;
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
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} is too large"))?;
    let (endian, kind) = descr.split_at(descr.len().min(1));
    let big = match endian {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return Err(format!("dtype '{descr}': expected an explicit byte order")),
    };
    let size: usize = kind.get(1..).and_then(|s| s.parse().ok()).unwrap_or(0);
    let data = &bytes[start + header_len..];
    let needed = count.checked_mul(size).ok_or("the array is too large")?;
    if !matches!(
        (kind.as_bytes().first(), size),
        (Some(b'f'), 4 | 8) | (Some(b'i' | b'u'), 1 | 2 | 4 | 8) | (Some(b'b'), 1)
    ) {
        return Err(format!(
            "dtype '{descr}': expected float32/64, (unsigned) integers or booleans"
        ));
    }
    if data.len() != needed {
        return Err(format!(
            "{} bytes of data where shape {shape:?} of '{descr}' needs {needed}",
            data.len()
        ));
    }
    let word = |chunk: &[u8]| -> [u8; 8] {
        let mut w = [0u8; 8];
        if big {
            for (i, &b) in chunk.iter().rev().enumerate() {
                w[i] = b;
            }
        } else {
            w[..chunk.len()].copy_from_slice(chunk);
        }
        w
    };
    let value = |chunk: &[u8]| -> f64 {
        let w = word(chunk);
        match (kind.as_bytes()[0], size) {
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
    };
    let mut values: Vec<f64> = data.chunks_exact(size).map(value).collect();
    if fortran && shape.len() > 1 {
        values = fortran_to_c(&values, &shape);
    }
    Ok(NpyArray { shape, values })
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
pub(super) fn fortran_to_c(values: &[f64], shape: &[usize]) -> Vec<f64> {
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
