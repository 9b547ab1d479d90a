//! Limited-memory BFGS (Nocedal & Wright, algorithm 7.4–7.5) with a backtracking
//! line search under Armijo's condition: the full-batch minimiser behind a converged
//! linear probe.

/// Corrections kept.
const MEMORY: usize = 10;

/// Minimises `f` from `x`, where `f(x, grad)` returns the value and writes the
/// gradient; stops when the gradient's largest component is below `tolerance`, the
/// value stops falling, or after `max_iter` iterations; `progress` hears the number
/// of iterations done after each.
pub(crate) fn minimise(
    mut x: Vec<f64>,
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    max_iter: usize,
    tolerance: f64,
    mut progress: impl FnMut(usize),
) -> Vec<f64> {
    let n = x.len();
    let mut grad = vec![0.0; n];
    let mut value = f(&x, &mut grad);
    let (mut s_hist, mut y_hist): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (Vec::new(), Vec::new());
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let mut next_grad = vec![0.0; n];
    for iteration in 0..max_iter {
        progress(iteration);
        if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < tolerance {
            break;
        }
        // The two-loop recursion: the direction -H·grad.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let a = dot(s, &q) / dot(y, s);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, y), a) in s_hist.iter().zip(&y_hist).zip(alphas.iter().rev()) {
            let b = dot(y, &q) / dot(y, s);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&grad, &direction);
        if slope >= 0.0 {
            // Not a descent direction: start the memory again from the gradient.
            s_hist.clear();
            y_hist.clear();
            continue;
        }
        let mut step = if s_hist.is_empty() {
            1.0 / grad.iter().map(|g| g * g).sum::<f64>().sqrt().max(1.0)
        } else {
            1.0
        };
        let mut candidate = vec![0.0; n];
        let mut accepted = None;
        for _ in 0..40 {
            candidate
                .iter_mut()
                .zip(&x)
                .zip(&direction)
                .for_each(|((c, xi), d)| *c = xi + step * d);
            let v = f(&candidate, &mut next_grad);
            if v <= value + 1e-4 * step * slope {
                accepted = Some(v);
                break;
            }
            step *= 0.5;
        }
        let Some(new_value) = accepted else {
            break;
        };
        let s: Vec<f64> = candidate.iter().zip(&x).map(|(c, xi)| c - xi).collect();
        let y: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        if dot(&s, &y) > 1e-12 {
            if s_hist.len() == MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
        }
        x.copy_from_slice(&candidate);
        std::mem::swap(&mut grad, &mut next_grad);
        let done = value - new_value < 1e-15 * value.abs().max(1.0);
        value = new_value;
        if done {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_finds_the_minimum_of_rosenbrocks_valley() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let x = minimise(vec![-1.2, 1.0], f, 500, 1e-10, |_| {});
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{x:?}"
        );
    }
}
