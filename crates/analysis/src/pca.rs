//! Exact principal component analysis, the baseline every autoencoder is compared
//! with, and principal angles between subspaces.

use crate::linalg::{orthonormal_rows, symmetric_eigen, top_eigen};
use crate::parallel::in_parallel_at_most;
use crate::{AnalysisError, rows};

/// From this width on, the leading eigenvectors of a covariance matrix are found by
/// subspace iteration ([`top_eigen`]) rather than the full eigensolver: for colour
/// images of 32×32 (3,072 values) the full one takes minutes.
const SUBSPACE_DIM: usize = 1024;

/// A fitted PCA: the mean and the leading principal directions of a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Width of a row.
    pub dim: usize,
    /// Mean of the training rows, `[dim]`.
    pub mean: Vec<f32>,
    /// Principal directions, orthonormal, largest variance first: `[k, dim]` row-major.
    pub components: Vec<f32>,
    /// Variance along each direction (an eigenvalue of the covariance), `[k]`.
    pub variance: Vec<f64>,
}

impl Pca {
    /// Fits `k` components to `data` (`dim`-wide rows) exactly: the eigenvectors of the
    /// covariance matrix (accumulated in `f64`, in blocks), largest eigenvalue first.
    /// With fewer rows than columns the same components come from the rows' Gram
    /// matrix instead (`n × n`, not `dim × dim`: for 1,500 colour patches of 3,072
    /// values, a tenth of the work): an eigenvector `u` of `X Xᵀ` gives the direction
    /// `Xᵀ u / ‖Xᵀ u‖`, with the same eigenvalue. With more rows than columns and
    /// rows of 1,024 values or more, the leading eigenvectors of the covariance come
    /// from subspace iteration, to a residual `‖C v − λ v‖` below `1e-10 λ₁`.
    ///
    /// ```
    /// use ae_analysis::Pca;
    ///
    /// // Points on the line y = 2x (plus an offset) in 2-D: one component holds them all.
    /// let data: Vec<f32> = (0..10).flat_map(|i| [i as f32, 2.0 * i as f32 + 1.0]).collect();
    /// let pca = Pca::fit(&data, 2, 1)?;
    /// let codes = pca.transform(&data)?;
    /// assert_eq!(codes.len(), 10);
    /// assert!(pca.sq_error_per_row(&data)? < 1e-6); // reconstructed exactly
    /// let dir = &pca.components[..2]; // along (1, 2), up to sign
    /// assert!((dir[1] / dir[0] - 2.0).abs() < 1e-4);
    /// # Ok::<(), ae_analysis::AnalysisError>(())
    /// ```
    pub fn fit(data: &[f32], dim: usize, k: usize) -> Result<Self, AnalysisError> {
        let n = rows("data", data, dim)?;
        if k == 0 || k > dim || n < 2 {
            return Err(AnalysisError::Parameter {
                what: "components",
                value: format!("{k} of {dim}-wide rows, {n} rows"),
                expected: "1 ≤ components ≤ dim, and at least 2 rows",
            });
        }
        let mut mean = vec![0.0f64; dim];
        for row in data.chunks(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        if n < dim
            && k < n
            && let Some(pca) = Self::fit_dual(data, dim, k, &mean)
        {
            return Ok(pca);
        }
        Ok(Self::fit_primal(data, dim, k, mean))
    }

    /// [`fit`](Self::fit) through the covariance matrix.
    fn fit_primal(data: &[f32], dim: usize, k: usize, mean: Vec<f64>) -> Self {
        let n = data.len() / dim;
        // Covariance = Σ (x − μ)(x − μ)ᵀ / (n − 1): the rows shared among the cores, each
        // summing its part of the upper triangle; in each, blocks of rows are
        // transposed so that each entry is a contiguous dot product over the block.
        // Each worker's matrix is dim² values: at most 512 MB of them in all.
        const BLOCK: usize = 64;
        let workers = ((512 << 20) / (dim * dim * 8)).max(1);
        let parts = in_parallel_at_most(n.div_ceil(BLOCK), workers, |blocks| {
            let mut cov = vec![0.0f64; dim * dim];
            let mut t = vec![0.0f64; dim * BLOCK];
            let rows =
                &data[blocks.start * BLOCK * dim..(blocks.end * BLOCK * dim).min(data.len())];
            for block in rows.chunks(dim * BLOCK) {
                let r = block.len() / dim;
                for (s, row) in block.chunks(dim).enumerate() {
                    for (j, (&x, m)) in row.iter().zip(&mean).enumerate() {
                        t[j * BLOCK + s] = x as f64 - m;
                    }
                }
                for i in 0..dim {
                    let ti = &t[i * BLOCK..i * BLOCK + r];
                    for j in i..dim {
                        let tj = &t[j * BLOCK..j * BLOCK + r];
                        cov[i * dim + j] += ti.iter().zip(tj).map(|(a, b)| a * b).sum::<f64>();
                    }
                }
            }
            vec![cov]
        });
        let mut cov = vec![0.0f64; dim * dim];
        for part in parts {
            cov.iter_mut().zip(part).for_each(|(c, p)| *c += p);
        }
        for i in 0..dim {
            for j in i..dim {
                let c = cov[i * dim + j] / (n - 1) as f64;
                cov[i * dim + j] = c;
                cov[j * dim + i] = c;
            }
        }
        if dim >= SUBSPACE_DIM
            && 2 * k <= dim
            && let Some((values, vectors)) = top_eigen(&cov, dim, k, 5000)
        {
            return Self {
                dim,
                mean: mean.into_iter().map(|m| m as f32).collect(),
                components: vectors.into_iter().map(|v| v as f32).collect(),
                variance: values.into_iter().map(|v| v.max(0.0)).collect(),
            };
        }
        let (values, vectors) = symmetric_eigen(&cov, dim);
        let mut components = Vec::with_capacity(k * dim);
        let mut variance = Vec::with_capacity(k);
        for c in (dim - k..dim).rev() {
            components.extend((0..dim).map(|r| vectors[r * dim + c] as f32));
            variance.push(values[c].max(0.0));
        }
        Self {
            dim,
            mean: mean.into_iter().map(|m| m as f32).collect(),
            components,
            variance,
        }
    }

    /// [`fit`](Self::fit) through the Gram matrix of the centred rows; `None` when a
    /// wanted eigenvalue is (numerically) zero, whose direction the rows do not give.
    fn fit_dual(data: &[f32], dim: usize, k: usize, mean: &[f64]) -> Option<Self> {
        let centred: Vec<Vec<f64>> = data
            .chunks(dim)
            .map(|row| row.iter().zip(mean).map(|(&x, m)| x as f64 - m).collect())
            .collect();
        let n = centred.len();
        let mut gram = vec![0.0f64; n * n];
        for i in 0..n {
            for j in i..n {
                let g: f64 = centred[i].iter().zip(&centred[j]).map(|(a, b)| a * b).sum();
                gram[i * n + j] = g;
                gram[j * n + i] = g;
            }
        }
        let (values, vectors) = symmetric_eigen(&gram, n);
        if values[n - k] <= 1e-9 * values[n - 1].max(f64::MIN_POSITIVE) {
            return None;
        }
        let mut components = Vec::with_capacity(k * dim);
        let mut variance = Vec::with_capacity(k);
        for c in (n - k..n).rev() {
            let mut direction = vec![0.0f64; dim];
            for (r, row) in centred.iter().enumerate() {
                let u = vectors[r * n + c];
                direction.iter_mut().zip(row).for_each(|(d, x)| *d += u * x);
            }
            let norm = direction
                .iter()
                .map(|d| d * d)
                .sum::<f64>()
                .sqrt()
                .max(1e-300);
            components.extend(direction.iter().map(|d| (d / norm) as f32));
            variance.push(values[c] / (n - 1) as f64);
        }
        Some(Self {
            dim,
            mean: mean.iter().map(|&m| m as f32).collect(),
            components,
            variance,
        })
    }

    /// The same PCA with only its `k` leading components (`k` ≤ [`k`](Self::k)).
    pub fn leading(&self, k: usize) -> Self {
        let k = k.min(self.k());
        Self {
            dim: self.dim,
            mean: self.mean.clone(),
            components: self.components[..k * self.dim].to_vec(),
            variance: self.variance[..k].to_vec(),
        }
    }

    /// Number of components.
    pub fn k(&self) -> usize {
        self.variance.len()
    }

    /// The coordinates of each row on the components: `[n, dim]` → `[n, k]`.
    pub fn transform(&self, data: &[f32]) -> Result<Vec<f32>, AnalysisError> {
        rows("data", data, self.dim)?;
        let mut out = Vec::with_capacity(data.len() / self.dim * self.k());
        for row in data.chunks(self.dim) {
            for c in self.components.chunks(self.dim) {
                let dot: f64 = row
                    .iter()
                    .zip(&self.mean)
                    .zip(c)
                    .map(|((x, m), w)| ((x - m) * w) as f64)
                    .sum();
                out.push(dot as f32);
            }
        }
        Ok(out)
    }

    /// Rows rebuilt from their coordinates: `[n, k]` → `[n, dim]`.
    pub fn reconstruct(&self, codes: &[f32]) -> Result<Vec<f32>, AnalysisError> {
        rows("codes", codes, self.k())?;
        let mut out = Vec::with_capacity(codes.len() / self.k() * self.dim);
        for code in codes.chunks(self.k()) {
            let mut row: Vec<f32> = self.mean.clone();
            for (z, c) in code.iter().zip(self.components.chunks(self.dim)) {
                for (r, w) in row.iter_mut().zip(c) {
                    *r += z * w;
                }
            }
            out.extend(row);
        }
        Ok(out)
    }

    /// Squared reconstruction error summed over a row, averaged over the rows.
    pub fn sq_error_per_row(&self, data: &[f32]) -> Result<f64, AnalysisError> {
        let errors = self.sq_errors(data)?;
        Ok(errors.iter().sum::<f64>() / errors.len().max(1) as f64)
    }

    /// Squared reconstruction error summed over each row: `[n, dim]` → `[n]`.
    pub fn sq_errors(&self, data: &[f32]) -> Result<Vec<f64>, AnalysisError> {
        rows("data", data, self.dim)?;
        let rebuilt = self.reconstruct(&self.transform(data)?)?;
        Ok(data
            .chunks(self.dim)
            .zip(rebuilt.chunks(self.dim))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum())
            .collect())
    }
}

/// The principal angles (radians, smallest first) between the subspaces spanned by
/// the rows of `a` and the rows of `b` (each `dim` wide, any basis): `acos` of the
/// singular values of `Q_aᵀ Q_b` for orthonormal bases `Q_a`, `Q_b`.
pub fn principal_angles(a: &[f32], b: &[f32], dim: usize) -> Result<Vec<f64>, AnalysisError> {
    rows("a", a, dim)?;
    rows("b", b, dim)?;
    let widen = |m: &[f32]| m.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let (qa, qb) = (
        orthonormal_rows(&widen(a), dim),
        orthonormal_rows(&widen(b), dim),
    );
    let (small, large) = if qa.len() <= qb.len() {
        (&qa, &qb)
    } else {
        (&qb, &qa)
    };
    // M = Q_small Q_largeᵀ; the singular values of M are the square roots of the
    // eigenvalues of M Mᵀ.
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    let m: Vec<Vec<f64>> = small
        .iter()
        .map(|s| large.iter().map(|l| dot(s, l)).collect())
        .collect();
    let k = small.len();
    let gram: Vec<f64> = (0..k * k).map(|ij| dot(&m[ij / k], &m[ij % k])).collect();
    let (values, _) = symmetric_eigen(&gram, k);
    let mut angles: Vec<f64> = values
        .iter()
        .map(|v| v.max(0.0).sqrt().clamp(0.0, 1.0).acos())
        .collect();
    angles.sort_by(f64::total_cmp);
    Ok(angles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rank_two_matrix_is_rebuilt_exactly_by_two_components() {
        // Rows = mean + s·u + t·v, with u and v fixed directions in 5 dimensions.
        let (u, v) = ([1.0, 2.0, 0.0, -1.0, 0.5], [0.0, 1.0, 1.0, 1.0, -2.0]);
        let mean = [0.5, 0.5, 0.5, 0.5, 0.5];
        let data: Vec<f32> = (0..40)
            .flat_map(|i| {
                let (s, t) = ((i as f32 * 0.37).sin(), (i as f32 * 0.11).cos());
                (0..5).map(move |j| mean[j] + s * u[j] + t * v[j])
            })
            .collect();
        let pca = Pca::fit(&data, 5, 2).expect("valid");
        let err = pca.sq_error_per_row(&data).expect("valid");
        assert!(err < 1e-9, "rank-2 error {err}");
        // One component is not enough; the components are orthonormal.
        assert!(
            Pca::fit(&data, 5, 1)
                .expect("valid")
                .sq_error_per_row(&data)
                .expect("valid")
                > 1e-3
        );
        let c = &pca.components;
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!((dot(&c[..5], &c[..5]) - 1.0).abs() < 1e-5);
        assert!(dot(&c[..5], &c[5..]).abs() < 1e-5);
        assert!(pca.variance[0] >= pca.variance[1]);
        // The span is that of u and v.
        let uv: Vec<f32> = u.iter().chain(&v).copied().collect();
        let angles = principal_angles(&pca.components, &uv, 5).expect("valid");
        assert!(angles.iter().all(|a| *a < 1e-3), "{angles:?}");
    }

    #[test]
    fn fewer_rows_than_columns_give_the_same_components_through_the_gram_matrix() {
        let (n, dim, k) = (30, 80, 6);
        let data: Vec<f32> = (0..n * dim)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * (1.0 + (i % dim) as f32 / 20.0))
            .collect();
        let mean: Vec<f64> = (0..dim)
            .map(|j| {
                data.iter()
                    .skip(j)
                    .step_by(dim)
                    .map(|&v| v as f64)
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        let dual = Pca::fit_dual(&data, dim, k, &mean).expect("full rank");
        let primal = Pca::fit_primal(&data, dim, k, mean.clone());
        for (a, b) in dual.variance.iter().zip(&primal.variance) {
            assert!((a - b).abs() <= 1e-9 * b, "{a} against {b}");
        }
        let angles = principal_angles(&dual.components, &primal.components, dim).expect("valid");
        assert!(angles.iter().all(|a| *a < 1e-3), "{angles:?}");
        assert_eq!(Pca::fit(&data, dim, k).expect("valid"), dual);
        // Rank-deficient rows (all equal): the dual route declines.
        let flat = vec![1.0f32; n * dim];
        assert!(Pca::fit_dual(&flat, dim, 2, &vec![1.0; dim]).is_none());
        assert!(Pca::fit(&flat, dim, 2).is_ok());
    }

    #[test]
    fn principal_angles_by_hand() {
        // The x-axis against the line y = x in the plane: 45 degrees.
        let angles = principal_angles(&[1.0, 0.0], &[1.0, 1.0], 2).expect("valid");
        assert!((angles[0] - std::f64::consts::FRAC_PI_4).abs() < 1e-6);
        // A plane against itself, in another basis: all zero.
        let a = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let b = [1.0, 1.0, 0.0, 1.0, -1.0, 0.0];
        assert!(
            principal_angles(&a, &b, 3)
                .expect("valid")
                .iter()
                .all(|t| t.abs() < 1e-6)
        );
        assert!(Pca::fit(&[1.0, 2.0, 3.0], 3, 1).is_err());
    }
}
