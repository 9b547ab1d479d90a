//! Autoencoders against an exact PCA baseline at the same code size, in the style of
//! Hinton & Salakhutdinov (2006): squared reconstruction error per test image.

use ae_analysis::Pca;
use ae_data::{Dataset, Split};
use anyhow::{Result, bail};
use serde::Serialize;

/// One line of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// `PCA`, or the autoencoder's family and artifact folder.
    pub method: String,
    /// Size of the code.
    pub code_size: usize,
    /// Squared error summed over an image's pixels (in `[0, 1]`), averaged over the test images.
    pub sq_error_per_image: f64,
    /// The same per pixel.
    pub mse_per_pixel: f64,
    /// For a linear (single-layer) autoencoder: the largest principal angle, in
    /// degrees, between its decoder's span and PCA's subspace of the same size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_angle_to_pca_deg: Option<f64>,
}

/// The samples of a split as `f32` rows, as the models see them (pixels in `[0, 1]`).
pub fn pixels(split: &Split) -> Vec<f32> {
    let all: Vec<usize> = (0..split.len()).collect();
    let mut out = Vec::new();
    split.gather(&all, &mut out);
    out
}

/// PCA fitted on every training image of `data` with `components` components.
pub fn fit_pca(data: &Dataset, components: usize) -> Result<Pca> {
    let dim = data.features();
    if components == 0 || components > dim {
        bail!(
            "code size {components}: expected a size between 1 and {dim}, the features per sample"
        );
    }
    Ok(Pca::fit(&pixels(&data.train), dim, components)?)
}

/// The test error of `pca`'s leading components, for each of `sizes`.
pub fn pca_rows(pca: &Pca, data: &Dataset, sizes: &[usize]) -> Result<Vec<Row>> {
    let test = pixels(&data.test);
    sizes
        .iter()
        .map(|&k| {
            if k > pca.k() {
                bail!("code size {k}: the PCA has {} components", pca.k());
            }
            let err = pca.leading(k).sq_error_per_row(&test)?;
            Ok(Row {
                method: "PCA".into(),
                code_size: k,
                sq_error_per_image: err,
                mse_per_pixel: err / pca.dim as f64,
                max_angle_to_pca_deg: None,
            })
        })
        .collect()
}

/// The largest principal angle (degrees) between the span of `basis` (rows of
/// `pca.dim` values, e.g. a linear decoder's weights) and `pca`'s leading subspace of
/// the same size.
pub fn max_angle_to_pca(pca: &Pca, basis: &[f32]) -> Result<f64> {
    let k = basis.len() / pca.dim.max(1);
    if k == 0 || k > pca.k() {
        bail!(
            "a basis of {k} vectors against a PCA of {} components",
            pca.k()
        );
    }
    let angles = ae_analysis::principal_angles(&pca.leading(k).components, basis, pca.dim)?;
    Ok(angles.iter().copied().fold(0.0, f64::max).to_degrees())
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| method | code size | squared error per test image | MSE per pixel | largest angle to PCA |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let angle = r
            .max_angle_to_pca_deg
            .map_or(String::new(), |a| format!("{a:.2}°"));
        out.push_str(&format!(
            "| {} | {} | {:.2} | {:.5} | {angle} |\n",
            r.method, r.code_size, r.sq_error_per_image, r.mse_per_pixel
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_has_a_line_per_row() {
        let rows = [Row {
            method: "PCA".into(),
            code_size: 30,
            sq_error_per_image: 12.2449,
            mse_per_pixel: 0.0156,
            max_angle_to_pca_deg: None,
        }];
        let table = markdown(&rows);
        assert!(
            table.contains("| PCA | 30 | 12.24 | 0.01560 |  |"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 3);
    }
}
