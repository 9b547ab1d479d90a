//! Nearest neighbours by brute force, and the k-nearest-neighbour accuracy that
//! measures how well codes separate classes.

use std::borrow::Cow;

use crate::parallel::in_parallel;
use crate::{AnalysisError, rows};

/// How two vectors are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// `‖a − b‖₂`.
    Euclidean,
    /// `1 − cos(a, b)` (1 when either vector is zero).
    Cosine,
    /// `‖a − b‖₁`.
    Manhattan,
}

impl Distance {
    /// The distance between `a` and `b` (same length).
    pub fn between(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Self::Euclidean => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt(),
            Self::Manhattan => a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum(),
            Self::Cosine => {
                let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
                let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
                if na == 0.0 || nb == 0.0 {
                    1.0
                } else {
                    1.0 - dot / (na * nb)
                }
            }
        }
    }
}

impl std::str::FromStr for Distance {
    type Err = String;

    /// Parses `euclidean`, `cosine` or `manhattan`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "euclidean" => Ok(Self::Euclidean),
            "cosine" => Ok(Self::Cosine),
            "manhattan" => Ok(Self::Manhattan),
            _ => Err(format!(
                "unknown distance '{s}': expected euclidean, cosine or manhattan"
            )),
        }
    }
}

/// The `k` rows of `points` (`dim` wide) nearest to `query`, nearest first, as
/// `(row, distance)`; ties keep the lower row first. Partial selection: `O(n + k log k)`
/// after the distances, not a sort of every row.
pub fn nearest(
    query: &[f32],
    points: &[f32],
    dim: usize,
    k: usize,
    distance: Distance,
) -> Result<Vec<(usize, f32)>, AnalysisError> {
    rows("points", points, dim)?;
    if query.len() != dim {
        return Err(AnalysisError::Mismatch {
            what: "query length against dim",
            left: query.len(),
            right: dim,
        });
    }
    let mut scratch = Vec::with_capacity(points.len() / dim.max(1));
    Ok(k_nearest(
        query,
        points,
        dim,
        k,
        |a, b| distance.between(a, b),
        &mut scratch,
    ))
}

/// Each row's `k` nearest other rows (euclidean), nearest first, as `(row,
/// distance)`: every row a query, the queries shared among the cores.
pub(crate) fn nearest_rows(data: &[f32], dim: usize, k: usize) -> Vec<Vec<(usize, f32)>> {
    let n = data.len() / dim;
    let k = k.min(n.saturating_sub(1));
    in_parallel(n, |range| {
        let mut scratch = Vec::with_capacity(n);
        range
            .map(|i| {
                let query = &data[i * dim..(i + 1) * dim];
                // k + 1: the point itself is among its own nearest (at distance 0),
                // unless duplicates came first; drop it by index.
                let euclidean = |a: &[f32], b: &[f32]| Distance::Euclidean.between(a, b);
                let near = k_nearest(query, data, dim, k + 1, euclidean, &mut scratch);
                near.into_iter().filter(|&(j, _)| j != i).take(k).collect()
            })
            .collect()
    })
}

/// [`nearest`] without the checks, reusing `scratch` for the distances.
pub(crate) fn k_nearest(
    query: &[f32],
    points: &[f32],
    dim: usize,
    k: usize,
    distance: impl Fn(&[f32], &[f32]) -> f32,
    scratch: &mut Vec<(usize, f32)>,
) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    scratch.clear();
    scratch.extend(
        points
            .chunks(dim)
            .enumerate()
            .map(|(i, p)| (i, distance(query, p))),
    );
    let order = |a: &(usize, f32), b: &(usize, f32)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
    if k < scratch.len() {
        // A total order (distance, then row): the first k are exactly the k smallest.
        scratch.select_nth_unstable_by(k - 1, order);
        scratch.truncate(k);
    }
    scratch.sort_by(order);
    scratch.clone()
}

/// Accuracy of a `k`-nearest-neighbour majority vote (ties to the nearest
/// neighbour's label): each test row is labelled from its `k` nearest training rows.
/// Every training row is a candidate (no approximation); the test rows are shared
/// among the machine's cores, and each query's neighbours found by partial selection.
pub fn knn_accuracy(
    train: &[f32],
    train_labels: &[u8],
    test: &[f32],
    test_labels: &[u8],
    dim: usize,
    k: usize,
    distance: Distance,
) -> Result<f64, AnalysisError> {
    let (train, test) = ((train, train_labels), (test, test_labels));
    knn_accuracy_with_progress(train, test, dim, k, distance, |_| {})
}

/// [`knn_accuracy`] of `(codes, labels)` pairs, calling `progress` (from the worker
/// threads) with the number of test rows done, every 64 rows and at the end.
pub fn knn_accuracy_with_progress(
    (train, train_labels): (&[f32], &[u8]),
    (test, test_labels): (&[f32], &[u8]),
    dim: usize,
    k: usize,
    distance: Distance,
    progress: impl Fn(usize) + Sync,
) -> Result<f64, AnalysisError> {
    let n_train = rows("train codes", train, dim)?;
    let n_test = rows("test codes", test, dim)?;
    if n_train != train_labels.len() {
        return Err(AnalysisError::Mismatch {
            what: "train codes against labels",
            left: n_train,
            right: train_labels.len(),
        });
    }
    if n_test != test_labels.len() {
        return Err(AnalysisError::Mismatch {
            what: "test codes against labels",
            left: n_test,
            right: test_labels.len(),
        });
    }
    if k == 0 || k > n_train {
        return Err(AnalysisError::Parameter {
            what: "k",
            value: k.to_string(),
            expected: "1 ≤ k ≤ the number of training rows",
        });
    }
    // Cosine distances from unit rows: `1 − a·b`, a zero row staying zero (distance 1).
    let unit = |rows: &[f32]| -> Vec<f32> {
        rows.chunks(dim)
            .flat_map(|r| {
                let norm = r.iter().map(|x| x * x).sum::<f32>().sqrt();
                let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
                r.iter().map(move |x| x * scale)
            })
            .collect()
    };
    let cosine = distance == Distance::Cosine;
    let (train, test) = if cosine {
        (Cow::Owned(unit(train)), Cow::Owned(unit(test)))
    } else {
        (Cow::Borrowed(train), Cow::Borrowed(test))
    };
    let measure = move |a: &[f32], b: &[f32]| {
        if cosine {
            1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()
        } else {
            distance.between(a, b)
        }
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let correct: usize = in_parallel(n_test, |range| {
        let mut scratch = Vec::with_capacity(n_train);
        let correct = range
            .filter(|&q| {
                let query = &test[q * dim..(q + 1) * dim];
                let near = k_nearest(query, &train, dim, k, measure, &mut scratch);
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if finished.is_multiple_of(64) {
                    progress(finished);
                }
                vote(near.iter().map(|&(i, _)| i), train_labels) == Some(test_labels[q])
            })
            .count();
        vec![correct]
    })
    .into_iter()
    .sum();
    progress(n_test);
    Ok(correct as f64 / n_test.max(1) as f64)
}

/// The majority label of the rows `near` (nearest first), ties to the label met first.
fn vote(near: impl Iterator<Item = usize> + Clone, labels: &[u8]) -> Option<u8> {
    let mut votes = [0usize; 256];
    for i in near.clone() {
        votes[labels[i] as usize] += 1;
    }
    let best = votes.iter().copied().max().unwrap_or(0);
    near.map(|i| labels[i]).find(|&l| votes[l as usize] == best)
}

/// Accuracy of [`knn_accuracy`]'s vote over neighbours found elsewhere (on a device,
/// say): `neighbours` holds each test row's `k` training rows, nearest first.
pub fn vote_accuracy(
    neighbours: &[usize],
    k: usize,
    train_labels: &[u8],
    test_labels: &[u8],
) -> Result<f64, AnalysisError> {
    if k == 0 || neighbours.len() != k * test_labels.len() {
        return Err(AnalysisError::Mismatch {
            what: "neighbours against k × test rows",
            left: neighbours.len(),
            right: k * test_labels.len(),
        });
    }
    if let Some(&i) = neighbours.iter().find(|&&i| i >= train_labels.len()) {
        return Err(AnalysisError::Mismatch {
            what: "a neighbour's row against the training rows",
            left: i,
            right: train_labels.len(),
        });
    }
    let correct = neighbours
        .chunks(k)
        .zip(test_labels)
        .filter(|(near, label)| vote(near.iter().copied(), train_labels) == Some(**label))
        .count();
    Ok(correct as f64 / test_labels.len().max(1) as f64)
}

/// Trustworthiness of an embedding (Venna & Kaski, 2001; as scikit-learn computes it):
/// 1 when every point's `k` nearest neighbours in `embedded` are also among its
/// nearest in `input`, lower as the embedding brings in points that are far in the
/// input space. Euclidean distances; `O(n²)`, so pass a subset of a large split.
///
/// `T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ Uₖ(i)} (r(i, j) − k)`, where `Uₖ(i)`
/// are `i`'s embedded neighbours that are not among its `k` input neighbours and
/// `r(i, j)` is `j`'s rank among `i`'s input neighbours.
pub fn trustworthiness(
    input: &[f32],
    input_dim: usize,
    embedded: &[f32],
    embedded_dim: usize,
    k: usize,
) -> Result<f64, AnalysisError> {
    let n = rows("trustworthiness: input rows", input, input_dim)?;
    let m = rows("trustworthiness: embedded rows", embedded, embedded_dim)?;
    if n != m {
        return Err(AnalysisError::Mismatch {
            what: "trustworthiness: input rows against embedded rows",
            left: n,
            right: m,
        });
    }
    if k == 0 || 2 * n < 3 * k + 2 {
        return Err(AnalysisError::Parameter {
            what: "k",
            value: k.to_string(),
            expected: "1 ≤ k < (2n − 1) / 3 for n rows",
        });
    }
    let mut rank = vec![0usize; n];
    let mut penalty = 0.0f64;
    for i in 0..n {
        // Ranks of every point among i's input neighbours (i itself excluded; 1 = nearest).
        let query = &input[i * input_dim..(i + 1) * input_dim];
        let by_input = nearest(query, input, input_dim, n, Distance::Euclidean)?;
        let mut r = 0;
        for &(j, _) in &by_input {
            if j != i {
                r += 1;
                rank[j] = r;
            }
        }
        let query = &embedded[i * embedded_dim..(i + 1) * embedded_dim];
        let by_embedding = nearest(query, embedded, embedded_dim, k + 1, Distance::Euclidean)?;
        for &(j, _) in by_embedding.iter().filter(|&&(j, _)| j != i).take(k) {
            penalty += rank[j].saturating_sub(k) as f64;
        }
    }
    let (n, k) = (n as f64, k as f64);
    Ok(1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_by_hand() {
        let (a, b) = ([0.0, 3.0], [4.0, 0.0]);
        assert_eq!(Distance::Euclidean.between(&a, &b), 5.0);
        assert_eq!(Distance::Manhattan.between(&a, &b), 7.0);
        assert_eq!(Distance::Cosine.between(&a, &b), 1.0);
        assert!(Distance::Cosine.between(&[1.0, 1.0], &[2.0, 2.0]).abs() < 1e-6);
        assert_eq!("cosine".parse::<Distance>(), Ok(Distance::Cosine));
        assert!("hamming".parse::<Distance>().is_err());
    }

    #[test]
    fn knn_on_separable_points_is_perfect() {
        // Class 0 around (0, 0), class 1 around (10, 10).
        let train = [
            0.0, 0.0, 0.5, 0.0, 0.0, 0.5, 10.0, 10.0, 9.5, 10.0, 10.0, 9.5,
        ];
        let labels = [0, 0, 0, 1, 1, 1];
        let test = [0.2, 0.1, 9.8, 9.9, 1.0, 1.0];
        for d in [Distance::Euclidean, Distance::Manhattan] {
            let acc = knn_accuracy(&train, &labels, &test, &[0, 1, 0], 2, 3, d).expect("valid");
            assert_eq!(acc, 1.0);
        }
        // A wrong label is counted wrong.
        let acc = knn_accuracy(
            &train,
            &labels,
            &test,
            &[1, 1, 0],
            2,
            3,
            Distance::Euclidean,
        )
        .expect("valid");
        assert!((acc - 2.0 / 3.0).abs() < 1e-12);
        let near = nearest(&[9.9, 9.9], &train, 2, 2, Distance::Euclidean).expect("valid");
        assert_eq!(near[0].0, 3);
        assert!(knn_accuracy(&train, &labels, &test, &[0, 1, 0], 2, 7, Distance::Cosine).is_err());
        assert!(nearest(&[1.0], &train, 2, 1, Distance::Cosine).is_err());
    }

    /// The k nearest by a full sort of every exact distance: what partial selection and
    /// the unit rows of the cosine path must reproduce.
    fn by_full_sort(query: &[f32], points: &[f32], k: usize, d: Distance) -> Vec<usize> {
        let mut all: Vec<(usize, f32)> = points
            .chunks(query.len())
            .enumerate()
            .map(|(i, p)| (i, d.between(query, p)))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.into_iter().take(k).map(|(i, _)| i).collect()
    }

    #[test]
    fn partial_selection_and_threads_agree_with_a_full_sort() {
        let mut rng = crate::random::Rng::new(7);
        let dim = 5;
        // Values on a coarse grid, so that many distances tie; one zero row for cosine.
        let mut train: Vec<f32> = (0..300 * dim)
            .map(|_| (rng.normal() * 2.0).round() as f32)
            .collect();
        train[..dim].iter_mut().for_each(|x| *x = 0.0);
        let labels: Vec<u8> = (0..300).map(|i| (i % 7) as u8).collect();
        let test: Vec<f32> = (0..40 * dim)
            .map(|_| (rng.normal() * 2.0).round() as f32)
            .collect();
        for d in [Distance::Euclidean, Distance::Cosine, Distance::Manhattan] {
            let mut expected = 0usize;
            let mut all_reference = Vec::new();
            for (q, query) in test.chunks(dim).enumerate() {
                let near = nearest(query, &train, dim, 9, d).expect("valid");
                let rows: Vec<usize> = near.iter().map(|&(i, _)| i).collect();
                let reference = by_full_sort(query, &train, 9, d);
                if d != Distance::Cosine {
                    assert_eq!(rows, reference, "{d:?}, query {q}");
                }
                // The vote from the reference neighbours, as knn_accuracy must count it.
                let truth = (q % 7) as u8;
                expected += usize::from(vote(reference.iter().copied(), &labels) == Some(truth));
                all_reference.extend(reference);
            }
            let truths: Vec<u8> = (0..40).map(|q| (q % 7) as u8).collect();
            let calls = std::sync::Mutex::new(Vec::new());
            let acc =
                knn_accuracy_with_progress((&train, &labels), (&test, &truths), dim, 9, d, |n| {
                    calls.lock().expect("not poisoned").push(n)
                })
                .expect("valid");
            assert_eq!(acc, expected as f64 / 40.0, "{d:?}");
            assert_eq!(calls.into_inner().expect("not poisoned").last(), Some(&40));
            // The same vote over neighbours found elsewhere.
            let voted = vote_accuracy(&all_reference, 9, &labels, &truths).expect("valid");
            assert_eq!(voted, acc, "{d:?}");
        }
        assert!(vote_accuracy(&[0; 8], 9, &labels, &[0]).is_err());
        assert!(vote_accuracy(&[300; 9], 9, &labels, &[0]).is_err());
        // More neighbours than rows, and none.
        assert_eq!(
            nearest(&test[..dim], &train, dim, 500, Distance::Euclidean)
                .expect("valid")
                .len(),
            300
        );
        assert!(
            nearest(&test[..dim], &train, dim, 0, Distance::Euclidean)
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn trustworthiness_of_known_embeddings() {
        // Points on a line: an embedding that keeps the order is perfectly trustworthy.
        let line: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let scaled: Vec<f32> = line.iter().map(|x| 3.0 * x - 1.0).collect();
        assert_eq!(
            trustworthiness(&line, 1, &scaled, 1, 3).expect("valid"),
            1.0
        );
        // Folding the line in two brings far points together.
        let folded: Vec<f32> = line.iter().map(|&x| (x - 9.5).abs()).collect();
        let t = trustworthiness(&line, 1, &folded, 1, 3).expect("valid");
        assert!(t < 0.9, "{t}");
        // By hand (scikit-learn's `trustworthiness` agrees): points at 0, 1, 3, 7 embedded
        // at 0, 1, 7, 3. With k = 1, point 2's embedded neighbour is point 3, its third
        // nearest in the input (penalty 2); point 3's is point 1, its second (penalty 1).
        // T = 1 − 2 / (4 · 1 · (8 − 3 − 1)) · 3 = 0.625.
        let t =
            trustworthiness(&[0.0, 1.0, 3.0, 7.0], 1, &[0.0, 1.0, 7.0, 3.0], 1, 1).expect("valid");
        assert!((t - 0.625).abs() < 1e-12, "{t}");
        assert!(trustworthiness(&line, 1, &scaled[..10], 1, 3).is_err());
        assert!(trustworthiness(&line, 1, &scaled, 1, 13).is_err());
    }
}
