//! The Gaussian similarities of one point to its neighbours at a target perplexity:
//! what exact and Barnes–Hut t-SNE both start from.

/// `p_{j|i}` for one row of squared distances, with the precision β whose
/// distribution has entropy `ln(perplexity)`.
pub(crate) fn conditional(distances: &[f64], i: usize, perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let (mut beta, mut lo, mut hi) = (1.0f64, 0.0f64, f64::INFINITY);
    let mut p = vec![0.0; distances.len()];
    // Distances relative to the nearest neighbour keep exp() away from underflow.
    let nearest = distances
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, &d)| d)
        .fold(f64::INFINITY, f64::min);
    for _ in 0..100 {
        let mut sum = 0.0;
        let mut weighted = 0.0;
        for (j, (pj, &d)) in p.iter_mut().zip(distances).enumerate() {
            *pj = if j == i {
                0.0
            } else {
                (-(d - nearest) * beta).exp()
            };
            sum += *pj;
            weighted += *pj * (d - nearest);
        }
        // H = ln Σ + β · E[d] (in nats), with the shifted distances.
        let entropy = sum.ln() + beta * weighted / sum;
        for pj in p.iter_mut() {
            *pj /= sum;
        }
        let diff = entropy - target;
        if diff.abs() < 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_finite() {
                (beta + hi) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = (beta + lo) / 2.0;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_distribution_has_the_target_perplexity() {
        let distances: Vec<f64> = (0..50).map(|j| (j as f64).powf(1.3)).collect();
        let p = conditional(&distances, 0, 10.0);
        assert_eq!(p[0], 0.0);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let entropy: f64 = -p
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|x| x * x.ln())
            .sum::<f64>();
        assert!(
            (entropy.exp() - 10.0).abs() < 1e-3,
            "perplexity {}",
            entropy.exp()
        );
    }
}
