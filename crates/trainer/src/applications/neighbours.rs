//! Nearest neighbours on the device: the distances of a block of queries to every
//! point as one matrix product, the nearest by the device's top-k. The host search
//! (`ae_analysis::nearest`, partial selection across the cores) is the reference; on a
//! GPU this one is much faster.

use ae_analysis::Distance;
use anyhow::{Result, anyhow, bail};
use burn::prelude::*;

/// Distances held at once: a block of queries against every point.
const BLOCK_VALUES: usize = 1 << 25;

/// Each row of `queries`' `k` nearest rows of `points` (both `dim` wide), nearest
/// first: `[queries × k]` row indices. Euclidean or cosine (a zero row at distance 1
/// from every other, as on the host); manhattan distances have no matrix-product form.
pub fn nearest_on_device(
    points: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    distance: Distance,
    device: &Device,
) -> Result<Vec<usize>> {
    if dim == 0 || !points.len().is_multiple_of(dim) || !queries.len().is_multiple_of(dim) {
        bail!("nearest neighbours: rows of {dim} values expected");
    }
    let n = points.len() / dim;
    if k == 0 || k > n {
        bail!("k = {k}: expected 1 ≤ k ≤ {n}, the number of points");
    }
    let cosine = match distance {
        Distance::Euclidean => false,
        Distance::Cosine => true,
        Distance::Manhattan => {
            bail!("manhattan distances are searched on the host only (no matrix-product form)")
        }
    };
    let upload = |rows: &[f32]| {
        let t = Tensor::<2>::from_data(
            TensorData::new(rows.to_vec(), [rows.len() / dim, dim]),
            device,
        );
        if cosine {
            // Unit rows; a zero row stays zero (its dot products 0: distance 1).
            let norm = t.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-30);
            t / norm
        } else {
            t
        }
    };
    let p = upload(points);
    let p_norms = p.clone().powi_scalar(2).sum_dim(1).reshape([1, n]);
    let pt = p.transpose();
    let block = (BLOCK_VALUES / n).max(1);
    let mut out = Vec::with_capacity(queries.len() / dim * k);
    for chunk in queries.chunks(block * dim) {
        let q = upload(chunk);
        let dots = q.clone().matmul(pt.clone());
        // Larger is nearer: the dot product of unit rows (1 − cosine distance), or
        // −‖q − p‖² without the query's own norm (the same for every point).
        let score = if cosine {
            dots
        } else {
            dots * 2.0 - p_norms.clone()
        };
        let (_, indices) = score.topk_with_indices(k, 1);
        let indices = indices
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .map_err(|e| anyhow!("the device's neighbour indices: {e:?}"))?;
        out.extend(indices.into_iter().map(|i| i as usize));
    }
    Ok(out)
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    fn rows(n: usize, dim: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..n * dim)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn finds_the_hosts_neighbours_in_the_same_order() {
        let device = Device::flex();
        let (dim, k) = (8, 5);
        let points = rows(700, dim, 1);
        let mut queries = rows(60, dim, 2);
        queries[..dim].fill(0.0); // a zero query: every cosine distance 1
        for distance in [Distance::Euclidean, Distance::Cosine] {
            let found = nearest_on_device(&points, &queries, dim, k, distance, &device)
                .expect("valid input");
            assert_eq!(found.len(), 60 * k);
            for (q, query) in queries.chunks(dim).enumerate().skip(1) {
                let host: Vec<usize> = ae_analysis::nearest(query, &points, dim, k, distance)
                    .expect("valid")
                    .into_iter()
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(
                    found[q * k..(q + 1) * k],
                    host[..],
                    "{distance:?}, query {q}"
                );
            }
        }
        let labels: Vec<u8> = (0..700).map(|i| (i % 3) as u8).collect();
        let test_labels: Vec<u8> = (0..60).map(|i| (i % 3) as u8).collect();
        let found = nearest_on_device(&points, &queries, dim, k, Distance::Euclidean, &device)
            .expect("valid input");
        let host = ae_analysis::knn_accuracy(
            &points,
            &labels,
            &queries,
            &test_labels,
            dim,
            k,
            Distance::Euclidean,
        )
        .expect("valid");
        let voted = ae_analysis::vote_accuracy(&found, k, &labels, &test_labels).expect("valid");
        assert_eq!(voted, host);
    }

    #[test]
    fn bad_requests_are_refused_by_name() {
        let device = Device::flex();
        let points = rows(10, 4, 3);
        let cases = [
            (0, Distance::Euclidean, "k = 0"),
            (11, Distance::Euclidean, "k = 11"),
            (3, Distance::Manhattan, "manhattan"),
        ];
        for (k, distance, expected) in cases {
            let err =
                nearest_on_device(&points, &points, 4, k, distance, &device).expect_err("refused");
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
