//! Image and detection metrics.

use crate::AnalysisError;

/// Peak signal-to-noise ratio in dB of a mean squared error, for values whose peak
/// is `peak` (1 for images in `[0, 1]`).
pub fn psnr(mse: f64, peak: f64) -> f64 {
    10.0 * (peak * peak / mse).log10()
}

/// Structural similarity of two images of `[channels, height, width]` values in
/// `[0, 1]`, held plane after plane: the mean of each plane's [`ssim`], as
/// scikit-image's `structural_similarity(..., channel_axis=...)` computes it for
/// colour images (one plane: plain [`ssim`]).
pub fn ssim_planes(a: &[f32], b: &[f32], shape: [usize; 3]) -> Result<f64, AnalysisError> {
    let [channels, height, width] = shape;
    let n = channels * height * width;
    if n == 0 || a.len() != n || b.len() != n {
        return Err(AnalysisError::Mismatch {
            what: "ssim: image sizes",
            left: a.len().max(b.len()),
            right: n,
        });
    }
    let plane = height * width;
    let mut total = 0.0;
    for (pa, pb) in a.chunks(plane).zip(b.chunks(plane)) {
        total += ssim(pa, pb, height, width)?;
    }
    Ok(total / channels as f64)
}

/// Structural similarity (Wang et al., 2004) of two grayscale images of
/// `height × width` values in `[0, 1]`: the mean over every position where an 11×11
/// Gaussian window (σ = 1.5) fits inside the image, with `K1 = 0.01`, `K2 = 0.03` and
/// data range 1 — the reference implementation's choices. Images smaller than the
/// window use a window of their own size.
pub fn ssim(a: &[f32], b: &[f32], height: usize, width: usize) -> Result<f64, AnalysisError> {
    let n = height * width;
    if n == 0 || a.len() != n || b.len() != n {
        return Err(AnalysisError::Mismatch {
            what: "ssim: image sizes",
            left: a.len().max(b.len()),
            right: n,
        });
    }
    let size = 11.min(height).min(width);
    let sigma = 1.5f64;
    let centre = (size as f64 - 1.0) / 2.0;
    let g: Vec<f64> = (0..size)
        .map(|i| (-((i as f64 - centre).powi(2)) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = g.iter().sum::<f64>().powi(2);
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let px = |img: &[f32], y: usize, x: usize| img[y * width + x] as f64;
    let mut sum = 0.0;
    let mut count = 0usize;
    for y0 in 0..=height - size {
        for x0 in 0..=width - size {
            let (mut ma, mut mb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (dy, gy) in g.iter().enumerate() {
                for (dx, gx) in g.iter().enumerate() {
                    let w = gy * gx / total;
                    let (va, vb) = (px(a, y0 + dy, x0 + dx), px(b, y0 + dy, x0 + dx));
                    ma += w * va;
                    mb += w * vb;
                    saa += w * va * va;
                    sbb += w * vb * vb;
                    sab += w * va * vb;
                }
            }
            let (var_a, var_b, cov) = (saa - ma * ma, sbb - mb * mb, sab - ma * mb);
            sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (var_a + var_b + c2));
            count += 1;
        }
    }
    Ok(sum / count as f64)
}

/// Area under the ROC curve of `scores` (higher = more likely positive) against
/// `positive`: the probability that a random positive scores above a random
/// negative, ties counting one half (the Mann–Whitney statistic).
///
/// ```
/// // Anomaly scores of four samples, the last two anomalous.
/// let scores = [0.1, 0.4, 0.35, 0.8];
/// let anomalous = [false, false, true, true];
/// // Of the 4 (anomalous, normal) pairs, 3 rank the anomaly higher.
/// assert_eq!(ae_analysis::auroc(&scores, &anomalous)?, 0.75);
/// // A threshold that flags at most 50 % of the normal scores flags the 0.4 one.
/// let t = ae_analysis::threshold_at_fpr(&[0.1, 0.4], 0.5)?;
/// assert!(0.1 <= t && t < 0.4);
/// # Ok::<(), ae_analysis::AnalysisError>(())
/// ```
pub fn auroc(scores: &[f64], positive: &[bool]) -> Result<f64, AnalysisError> {
    let ranked = ranked(scores, positive)?;
    let (pos, neg) = counts(positive);
    // Sum of the (tie-averaged, 1-based) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < ranked.len() {
        let mut j = i;
        while j < ranked.len() && ranked[j].0 == ranked[i].0 {
            j += 1;
        }
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * ranked[i..j].iter().filter(|r| r.1).count() as f64;
        i = j;
    }
    Ok((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64)
}

/// Average precision of `scores` against `positive`: `Σ (Rₙ − Rₙ₋₁) Pₙ` over the
/// distinct score thresholds from the highest down (scikit-learn's definition).
pub fn average_precision(scores: &[f64], positive: &[bool]) -> Result<f64, AnalysisError> {
    let mut ranked = ranked(scores, positive)?;
    ranked.reverse();
    let (pos, _) = counts(positive);
    let (mut tp, mut seen, mut recall, mut ap) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < ranked.len() {
        let mut j = i;
        while j < ranked.len() && ranked[j].0 == ranked[i].0 {
            tp += usize::from(ranked[j].1);
            j += 1;
        }
        seen = seen.max(j);
        let r = tp as f64 / pos as f64;
        ap += (r - recall) * tp as f64 / seen as f64;
        recall = r;
        i = j;
    }
    Ok(ap)
}

/// The score threshold that flags at most a fraction `fpr` of `normal` scores: their
/// `1 − fpr` quantile (scores above it are flagged).
pub fn threshold_at_fpr(normal: &[f64], fpr: f64) -> Result<f64, AnalysisError> {
    if !(0.0..=1.0).contains(&fpr) {
        return Err(AnalysisError::Parameter {
            what: "fpr",
            value: fpr.to_string(),
            expected: "a rate in [0, 1]",
        });
    }
    if normal.is_empty() {
        return Err(AnalysisError::Mismatch {
            what: "threshold: normal scores",
            left: 0,
            right: 1,
        });
    }
    let mut sorted = normal.to_vec();
    sorted.sort_by(f64::total_cmp);
    let allowed = (fpr * sorted.len() as f64).floor() as usize;
    Ok(sorted[sorted.len() - 1 - allowed.min(sorted.len() - 1)])
}

/// `(score, positive)` pairs in ascending order of score; checks the inputs.
fn ranked(scores: &[f64], positive: &[bool]) -> Result<Vec<(f64, bool)>, AnalysisError> {
    if scores.len() != positive.len() {
        return Err(AnalysisError::Mismatch {
            what: "scores against labels",
            left: scores.len(),
            right: positive.len(),
        });
    }
    let (pos, neg) = counts(positive);
    if pos == 0 || neg == 0 {
        return Err(AnalysisError::Parameter {
            what: "labels",
            value: format!("{pos} positive, {neg} negative"),
            expected: "at least one of each",
        });
    }
    if let Some(bad) = scores.iter().find(|s| s.is_nan()) {
        return Err(AnalysisError::Parameter {
            what: "score",
            value: bad.to_string(),
            expected: "numbers (no NaN)",
        });
    }
    let mut pairs: Vec<(f64, bool)> = scores
        .iter()
        .copied()
        .zip(positive.iter().copied())
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(pairs)
}

fn counts(positive: &[bool]) -> (usize, usize) {
    let pos = positive.iter().filter(|p| **p).count();
    (pos, positive.len() - pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_ssim_is_the_mean_over_planes() {
        let grey: Vec<f32> = (0..64).map(|i| (i % 8) as f32 / 8.0).collect();
        let noisy: Vec<f32> = grey
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.1 * ((i * 7 % 5) as f32 - 2.0) / 2.0)
            .collect();
        let one = ssim(&grey, &noisy, 8, 8).expect("same size");
        assert!(one < 0.99, "{one}");
        // Plane 0 distorted, planes 1 and 2 exact: (one + 1 + 1) / 3.
        let a = [grey.clone(), grey.clone(), grey.clone()].concat();
        let b = [noisy.clone(), grey.clone(), grey.clone()].concat();
        let three = ssim_planes(&a, &b, [3, 8, 8]).expect("same size");
        assert!((three - (one + 2.0) / 3.0).abs() < 1e-12, "{three} {one}");
        assert_eq!(ssim_planes(&grey, &noisy, [1, 8, 8]).ok(), Some(one));
        assert!(ssim_planes(&a, &b, [3, 8, 7]).is_err());
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn psnr_of_a_known_error() {
        // MSE 0.01 on [0, 1] images: 10·log10(1/0.01) = 20 dB.
        assert!(close(psnr(0.01, 1.0), 20.0));
        assert!(close(
            psnr(4.0, 255.0),
            10.0 * (255.0f64 * 255.0 / 4.0).log10()
        ));
    }

    #[test]
    fn ssim_of_identical_and_of_flat_images() {
        let img: Vec<f32> = (0..28 * 28).map(|i| (i % 29) as f32 / 28.0).collect();
        assert!(close(ssim(&img, &img, 28, 28).expect("sizes match"), 1.0));
        // Two flat images, 0.2 and 0.6: no variance, so SSIM is the luminance term
        // (2·0.2·0.6 + C1) / (0.2² + 0.6² + C1).
        let (a, b) = (vec![0.2f32; 16 * 16], vec![0.6f32; 16 * 16]);
        let c1 = 1e-4;
        let expected = (2.0 * 0.2 * 0.6 + c1) / (0.04 + 0.36 + c1);
        let got = ssim(&a, &b, 16, 16).expect("sizes match");
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        // Noise lowers it.
        let noisy: Vec<f32> = img
            .iter()
            .enumerate()
            .map(|(i, v)| (v + if i % 2 == 0 { 0.3 } else { -0.3 }).clamp(0.0, 1.0))
            .collect();
        assert!(ssim(&img, &noisy, 28, 28).expect("sizes match") < 0.8);
        assert!(ssim(&img, &noisy, 27, 28).is_err());
    }

    #[test]
    fn auroc_of_known_rankings() {
        let labels = [false, false, true, true];
        assert!(close(
            auroc(&[0.1, 0.2, 0.3, 0.4], &labels).expect("valid"),
            1.0
        ));
        assert!(close(
            auroc(&[0.4, 0.3, 0.2, 0.1], &labels).expect("valid"),
            0.0
        ));
        // Positives at 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs won.
        assert!(close(
            auroc(&[0.1, 0.4, 0.35, 0.8], &labels).expect("valid"),
            0.75
        ));
        // All tied: one half.
        assert!(close(auroc(&[1.0; 4], &labels).expect("valid"), 0.5));
        assert!(auroc(&[0.1, 0.2], &[true, true]).is_err());
        assert!(auroc(&[0.1], &[true, false]).is_err());
    }

    #[test]
    fn average_precision_of_known_rankings() {
        // Ranked: 0.8 (+), 0.4 (−), 0.35 (+), 0.1 (−): AP = 0.5·1 + 0.5·(2/3).
        let ap =
            average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).expect("valid");
        assert!(close(ap, 0.5 + 1.0 / 3.0), "{ap}");
        let perfect = average_precision(&[0.1, 0.2, 0.9], &[false, true, true]).expect("valid");
        assert!(close(perfect, 1.0));
    }

    #[test]
    fn threshold_flags_the_requested_share() {
        let normal: Vec<f64> = (1..=100).map(f64::from).collect();
        let t = threshold_at_fpr(&normal, 0.05).expect("valid");
        assert_eq!(normal.iter().filter(|s| **s > t).count(), 5);
        assert!(threshold_at_fpr(&normal, 1.5).is_err());
    }
}
