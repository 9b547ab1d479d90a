//! Codes out of the toolkit as CSV, beside the `.npy` files of [`ae_data::npy`], for
//! what `embed` writes.

use anyhow::{Result, bail};

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
    fn csv_has_a_header_and_a_row_per_code() {
        let csv = codes_csv(&[0.5, -1.0, 2.0, 0.25], 2, &[3, 9]).expect("fits");
        assert_eq!(csv, "label,z0,z1\n3,0.5,-1\n9,2,0.25\n");
        assert!(codes_csv(&[1.0; 3], 2, &[0, 1]).is_err());
    }
}
