//! The little dense linear algebra PCA needs, in `f64`: a symmetric eigensolver
//! (Householder tridiagonalisation, then the implicit QL algorithm, as in EISPACK's
//! `tred2`/`tql2`) and Gram–Schmidt orthonormalisation. Matrices are row-major
//! `n × n` slices.

// Index loops keep the code line by line comparable with the published algorithm.
#![allow(clippy::needless_range_loop)]

/// Eigenvalues and eigenvectors of the symmetric `n × n` matrix `a`: returns the
/// eigenvalues in ascending order and the eigenvectors as the *columns* of a
/// row-major `n × n` matrix (column `j` belongs to eigenvalue `j`).
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v: Vec<f64> = a.to_vec();
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    if n == 0 {
        return (d, v);
    }
    tred2(&mut v, &mut d, &mut e, n);
    tql2(&mut v, &mut d, &mut e, n);
    (d, v)
}

/// Householder reduction of the symmetric matrix in `v` to tridiagonal form; `v`
/// becomes the accumulated orthogonal transformation, `d` the diagonal and `e` the
/// sub-diagonal.
fn tred2(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize) {
    let at = |i: usize, j: usize| i * n + j;
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
    }
    for i in (1..n).rev() {
        let mut scale = 0.0;
        let mut h = 0.0;
        for k in 0..i {
            scale += d[k].abs();
        }
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
                v[at(j, i)] = 0.0;
            }
        } else {
            for k in 0..i {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            let mut f = d[i - 1];
            let mut g = h.sqrt();
            if f > 0.0 {
                g = -g;
            }
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for j in 0..i {
                e[j] = 0.0;
            }
            for j in 0..i {
                f = d[j];
                v[at(j, i)] = f;
                g = e[j] + v[at(j, j)] * f;
                for k in j + 1..i {
                    g += v[at(k, j)] * d[k];
                    e[k] += v[at(k, j)] * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                f = d[j];
                g = e[j];
                for k in j..i {
                    v[at(k, j)] -= f * e[k] + g * d[k];
                }
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
            }
        }
        d[i] = h;
    }
    for i in 0..n - 1 {
        v[at(n - 1, i)] = v[at(i, i)];
        v[at(i, i)] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[at(k, i + 1)] / h;
            }
            for j in 0..=i {
                let mut g = 0.0;
                for k in 0..=i {
                    g += v[at(k, i + 1)] * v[at(k, j)];
                }
                for k in 0..=i {
                    v[at(k, j)] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[at(k, i + 1)] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
        v[at(n - 1, j)] = 0.0;
    }
    v[at(n - 1, n - 1)] = 1.0;
    e[0] = 0.0;
}

/// Implicit QL iterations on the tridiagonal matrix (`d`, `e`), accumulating the
/// rotations into `v`; sorts the eigenvalues ascending with their vectors.
fn tql2(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize) {
    let at = |i: usize, j: usize| i * n + j;
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0;
    let mut tst1: f64 = 0.0;
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * tst1 {
            m += 1;
        }
        if m > l {
            loop {
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for di in d.iter_mut().take(n).skip(l + 2) {
                    *di -= h;
                }
                f += h;
                p = d[m];
                let mut c = 1.0;
                let mut c2 = c;
                let mut c3 = c;
                let el1 = e[l + 1];
                let mut s = 0.0;
                let mut s2 = 0.0;
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for k in 0..n {
                        h = v[at(k, i + 1)];
                        v[at(k, i + 1)] = s * v[at(k, i)] + c * h;
                        v[at(k, i)] = c * v[at(k, i)] - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    // Selection sort, ascending, moving the vectors along.
    for i in 0..n.saturating_sub(1) {
        let mut k = i;
        let mut p = d[i];
        for (j, &dj) in d.iter().enumerate().skip(i + 1) {
            if dj < p {
                k = j;
                p = dj;
            }
        }
        if k != i {
            d[k] = d[i];
            d[i] = p;
            for r in 0..n {
                v.swap(at(r, i), at(r, k));
            }
        }
    }
}

/// The `k` largest eigenvalues (descending) of the symmetric positive semi-definite
/// `n × n` matrix `a`, and their eigenvectors as rows of a `k × n` matrix, by block
/// subspace iteration with Rayleigh–Ritz: `m = k + max(k / 2, 16)` vectors are
/// multiplied by `a` and orthonormalised until every wanted Ritz pair's residual
/// `‖a v − λ v‖` is below `1e-10 · λ₁` (each iteration costs `n² m`, instead of the
/// `~10 n³` of [`symmetric_eigen`]). `None` when that takes more than `max_iter`
/// iterations.
pub fn top_eigen(a: &[f64], n: usize, k: usize, max_iter: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let m = (k + (k / 2).max(16)).min(n);
    // A fixed start: the same result on every run.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let start: Vec<f64> = (0..m * n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    let mut q = orthonormal_rows(&start, n);
    let times_a = |v: &[f64]| -> Vec<f64> {
        a.chunks(n)
            .map(|row| row.iter().zip(v).map(|(x, y)| x * y).sum())
            .collect()
    };
    for _ in 0..max_iter {
        let w: Vec<Vec<f64>> = q.iter().map(|v| times_a(v)).collect();
        let r = q.len();
        // Rayleigh–Ritz: h = Qᵀ A Q, its eigenpairs rotate the basis.
        let h: Vec<f64> = (0..r * r)
            .map(|ij| q[ij / r].iter().zip(&w[ij % r]).map(|(x, y)| x * y).sum())
            .collect();
        let (values, vectors) = symmetric_eigen(&h, r);
        let rotate = |basis: &[Vec<f64>], c: usize| -> Vec<f64> {
            let mut out = vec![0.0; n];
            for (j, b) in basis.iter().enumerate() {
                let coef = vectors[j * r + c];
                out.iter_mut().zip(b).for_each(|(o, x)| *o += coef * x);
            }
            out
        };
        // Ritz pairs, largest first.
        let order: Vec<usize> = (0..r).rev().collect();
        let ritz: Vec<Vec<f64>> = order.iter().map(|&c| rotate(&q, c)).collect();
        let images: Vec<Vec<f64>> = order.iter().map(|&c| rotate(&w, c)).collect();
        let top = values[r - 1].max(f64::MIN_POSITIVE);
        let converged = (0..k.min(r)).all(|i| {
            let lambda = values[order[i]];
            let residual: f64 = images[i]
                .iter()
                .zip(&ritz[i])
                .map(|(av, v)| (av - lambda * v).powi(2))
                .sum::<f64>()
                .sqrt();
            residual <= 1e-10 * top
        });
        if converged {
            let eigenvalues = order[..k].iter().map(|&c| values[c]).collect();
            return Some((eigenvalues, ritz[..k].concat()));
        }
        q = orthonormal_rows(&images.concat(), n);
        if q.len() < k {
            return None;
        }
    }
    None
}

/// An orthonormal basis of the span of `rows` (`r` rows of `dim`), by modified
/// Gram–Schmidt applied twice; directions that vanish (dependent rows) are dropped.
pub fn orthonormal_rows(rows: &[f64], dim: usize) -> Vec<Vec<f64>> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for row in rows.chunks(dim) {
        let norm0 = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        let mut v = row.to_vec();
        for _ in 0..2 {
            for b in &basis {
                let dot: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= dot * y);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-10 * norm0.max(1e-300) && norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
            basis.push(v);
        }
    }
    basis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_eigenpairs_by_subspace_iteration_are_the_full_solvers() {
        // A covariance of 400 random rows of 120 values with decaying scales.
        let (n, rows) = (120, 400);
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let x: Vec<f64> = (0..rows * n)
            .map(|i| next() / (1.0 + (i % n) as f64).sqrt())
            .collect();
        let mut a = vec![0.0; n * n];
        for r in x.chunks(n) {
            for i in 0..n {
                for j in 0..n {
                    a[i * n + j] += r[i] * r[j];
                }
            }
        }
        let k = 6;
        let (values, vectors) = top_eigen(&a, n, k, 2000).expect("converges");
        let (all, columns) = symmetric_eigen(&a, n);
        for i in 0..k {
            let c = n - 1 - i;
            assert!(
                (values[i] - all[c]).abs() <= 1e-9 * all[n - 1],
                "eigenvalue {i}"
            );
            let dot: f64 = (0..n)
                .map(|r| vectors[i * n + r] * columns[r * n + c])
                .sum();
            assert!((dot.abs() - 1.0).abs() < 1e-8, "eigenvector {i}: {dot}");
        }
        assert!(
            top_eigen(&a, n, k, 1).is_none(),
            "one iteration is not enough"
        );
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1)/√2 and (1, 1)/√2.
        let (d, v) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!(
            (d[0] - 1.0).abs() < 1e-12 && (d[1] - 3.0).abs() < 1e-12,
            "{d:?}"
        );
        let col1 = [v[1], v[3]];
        assert!((col1[0].abs() - 0.5f64.sqrt()).abs() < 1e-12);
        assert!((col1[0] - col1[1]).abs() < 1e-12);
    }

    #[test]
    fn eigen_rebuilds_a_random_symmetric_matrix() {
        let n = 9;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let x = ((i * 7 + j * 13) % 11) as f64 - 5.0;
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        let (d, v) = symmetric_eigen(&a, n);
        // A = V diag(d) Vᵀ, and V is orthogonal.
        for i in 0..n {
            for j in 0..n {
                let rebuilt: f64 = (0..n).map(|k| v[i * n + k] * d[k] * v[j * n + k]).sum();
                assert!((rebuilt - a[i * n + j]).abs() < 1e-9);
                let gram: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                assert!((gram - f64::from(u8::from(i == j))).abs() < 1e-9);
            }
        }
        assert!(d.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn gram_schmidt_drops_dependent_rows() {
        let basis = orthonormal_rows(&[1.0, 1.0, 0.0, 2.0, 2.0, 0.0, 0.0, 1.0, 0.0], 3);
        assert_eq!(basis.len(), 2);
        let dot: f64 = basis[0].iter().zip(&basis[1]).map(|(a, b)| a * b).sum();
        assert!(dot.abs() < 1e-12);
    }
}
