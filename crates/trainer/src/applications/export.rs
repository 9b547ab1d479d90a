//! Arrays out of the toolkit: NumPy `.npy` files and CSV, for the codes that `embed`
//! writes. Files are written whole or not at all ([`write_atomic`]).

use std::path::Path;

use anyhow::{Result, bail};

use crate::artifact::write_atomic;

/// An element type `.npy` files can hold here.
pub trait NpyElement: Copy {
    /// NumPy's `descr` of the type (little-endian).
    const DESCR: &'static str;
    /// Appends the value's little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

impl NpyElement for f32 {
    const DESCR: &'static str = "<f4";
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl NpyElement for u8 {
    const DESCR: &'static str = "|u1";
    fn put(self, out: &mut Vec<u8>) {
        out.push(self);
    }
}

/// An array in NumPy's `.npy` format (version 1.0, C order) with shape `shape`.
pub fn npy_bytes<T: NpyElement>(values: &[T], shape: &[usize]) -> Result<Vec<u8>> {
    let count: usize = shape.iter().product();
    if count != values.len() {
        bail!(
            "{} values do not fill an array of shape {shape:?}",
            values.len()
        );
    }
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
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        T::DESCR
    );
    // Magic (6) + version (2) + length (2) + header, padded to a multiple of 64 with
    // spaces and a final newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for &v in values {
        v.put(&mut out);
    }
    Ok(out)
}

/// Writes `values` as a `.npy` file of shape `shape`.
pub fn write_npy<T: NpyElement>(path: &Path, values: &[T], shape: &[usize]) -> Result<()> {
    write_atomic(path, &npy_bytes(values, shape)?)
}

/// Rows of codes as CSV: a header `label,z0,z1,…`, then one line per row.
pub fn codes_csv(codes: &[f32], dim: usize, labels: &[u8]) -> Result<String> {
    if dim == 0 || codes.len() != labels.len() * dim {
        bail!(
            "{} code values do not make {} rows of {dim}",
            codes.len(),
            labels.len()
        );
    }
    let mut out = String::from("label");
    for j in 0..dim {
        out.push_str(&format!(",z{j}"));
    }
    out.push('\n');
    for (row, label) in codes.chunks(dim).zip(labels) {
        out.push_str(&label.to_string());
        for v in row {
            out.push(',');
            out.push_str(&v.to_string());
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_data_follows() {
        let bytes = npy_bytes(&[1.0f32, -2.5, 3.0, 0.0, 5.0, 6.0], &[2, 3]).expect("fits");
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

        let labels = npy_bytes(&[7u8, 1, 2], &[3]).expect("fits");
        let header_len = u16::from_le_bytes([labels[8], labels[9]]) as usize;
        let header = std::str::from_utf8(&labels[10..10 + header_len]).expect("ascii");
        assert!(header.contains("'descr': '|u1'") && header.contains("'shape': (3,)"));
        assert_eq!(&labels[10 + header_len..], &[7, 1, 2]);
        assert!(npy_bytes(&[1.0f32], &[2, 3]).is_err());
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_code() {
        let csv = codes_csv(&[0.5, -1.0, 2.0, 0.25], 2, &[3, 9]).expect("fits");
        assert_eq!(csv, "label,z0,z1\n3,0.5,-1\n9,2,0.25\n");
        assert!(codes_csv(&[1.0; 3], 2, &[0, 1]).is_err());
    }
}
