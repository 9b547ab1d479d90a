//! Barnes–Hut t-SNE (van der Maaten, 2014): input similarities kept for each point's
//! `3 · perplexity` nearest neighbours only (sparse, found exactly), and the repulsion
//! of far groups of points taken at their centre of mass from a quadtree of the layout.
//! `O(n log n)` per iteration instead of `O(n²)`.

use crate::neighbours::nearest_rows;
use crate::parallel::in_parallel;
use crate::perplexity::conditional;

/// The symmetric input similarities as sparse rows: `rows[i]` holds `(j, pᵢⱼ)`,
/// sorted by `j`.
pub(crate) struct SparseP {
    pub(crate) rows: Vec<Vec<(usize, f64)>>,
}

impl SparseP {
    /// `pᵢⱼ = (p_{j|i} + p_{i|j}) / 2n` over each point's `3 · perplexity` nearest
    /// neighbours (euclidean; the rows shared among the cores).
    pub(crate) fn new(data: &[f32], dim: usize, perplexity: f64) -> Self {
        let n = data.len() / dim;
        let k = ((3.0 * perplexity) as usize).clamp(1, n - 1);
        let conditional_rows: Vec<Vec<(usize, f64)>> = nearest_rows(data, dim, k)
            .into_iter()
            .enumerate()
            .map(|(i, near)| {
                let query = &data[i * dim..(i + 1) * dim];
                // In f64 from here, as the exact path computes them.
                let distances: Vec<f64> = near
                    .iter()
                    .map(|&(j, _)| {
                        let other = &data[j * dim..(j + 1) * dim];
                        query
                            .iter()
                            .zip(other)
                            .map(|(a, b)| f64::from(a - b).powi(2))
                            .sum()
                    })
                    .collect();
                let p = conditional(&distances, usize::MAX, perplexity);
                near.iter().map(|&(j, _)| j).zip(p).collect()
            })
            .collect();
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for (i, row) in conditional_rows.iter().enumerate() {
            for &(j, p) in row {
                rows[i].push((j, p));
                rows[j].push((i, p));
            }
        }
        let scale = 1.0 / (2.0 * n as f64);
        for row in &mut rows {
            row.sort_by_key(|&(j, _)| j);
            let mut merged: Vec<(usize, f64)> = Vec::with_capacity(row.len());
            for &(j, p) in row.iter() {
                match merged.last_mut() {
                    Some(last) if last.0 == j => last.1 += p,
                    _ => merged.push((j, p)),
                }
            }
            merged.iter_mut().for_each(|e| e.1 *= scale);
            *row = merged;
        }
        Self { rows }
    }
}

/// A quadtree cell: its square, how many points it holds and their summed position
/// (their centre of mass once the tree is built);
/// children at `first_child..first_child + 4` (none: a leaf, holding `point` when
/// `mass` is 1, or several points at one place at the deepest level).
struct Cell {
    centre: [f64; 2],
    half: f64,
    mass: f64,
    sum: [f64; 2],
    first_child: usize,
    point: usize,
}

impl Cell {
    fn empty(centre: [f64; 2], half: f64) -> Self {
        Self {
            centre,
            half,
            mass: 0.0,
            sum: [0.0; 2],
            first_child: 0,
            point: usize::MAX,
        }
    }

    fn add(&mut self, p: [f64; 2]) {
        self.mass += 1.0;
        self.sum[0] += p[0];
        self.sum[1] += p[1];
    }
}

/// Deeper than this, points that still share a cell stay together in a leaf (points
/// at one place would otherwise split cells forever).
const MAX_DEPTH: usize = 48;

/// The quadtree of a 2-D layout.
struct QuadTree {
    cells: Vec<Cell>,
}

impl QuadTree {
    fn new(y: &[f64]) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in y.chunks(2) {
            for d in 0..2 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0).max(1e-12) * (1.0 + 1e-9);
        let root = Cell::empty([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0], half);
        let mut tree = Self {
            cells: Vec::with_capacity(2 * y.len()),
        };
        tree.cells.push(root);
        for i in 0..y.len() / 2 {
            tree.insert(i, y);
        }
        // The sums become centres of mass.
        for c in tree.cells.iter_mut().filter(|c| c.mass > 0.0) {
            c.sum = [c.sum[0] / c.mass, c.sum[1] / c.mass];
        }
        tree
    }

    fn insert(&mut self, i: usize, y: &[f64]) {
        let p = [y[2 * i], y[2 * i + 1]];
        let mut cell = 0;
        for depth in 0.. {
            if self.cells[cell].first_child == 0 {
                if self.cells[cell].mass == 0.0 {
                    self.cells[cell].point = i;
                    self.cells[cell].add(p);
                    return;
                }
                if depth >= MAX_DEPTH {
                    self.cells[cell].add(p);
                    return;
                }
                // A leaf with one point: four children, and the point moved into one.
                let (centre, half, q) = {
                    let c = &self.cells[cell];
                    (c.centre, c.half / 2.0, c.point)
                };
                self.cells[cell].first_child = self.cells.len();
                for quadrant in 0..4 {
                    let dx = if quadrant & 1 == 0 { -half } else { half };
                    let dy = if quadrant & 2 == 0 { -half } else { half };
                    self.cells
                        .push(Cell::empty([centre[0] + dx, centre[1] + dy], half));
                }
                let qp = [y[2 * q], y[2 * q + 1]];
                let child = self.child_for(cell, qp);
                self.cells[child].add(qp);
                self.cells[child].point = q;
            }
            self.cells[cell].add(p);
            cell = self.child_for(cell, p);
        }
    }

    fn child_for(&self, cell: usize, p: [f64; 2]) -> usize {
        let c = &self.cells[cell];
        c.first_child + usize::from(p[0] > c.centre[0]) + 2 * usize::from(p[1] > c.centre[1])
    }

    /// The repulsion on point `i` at `p`, `Σⱼ qᵢⱼ² (yᵢ − yⱼ)` with `qᵢⱼ = (1 + ‖yᵢ − yⱼ‖²)⁻¹`
    /// unnormalised, and its share `Σⱼ qᵢⱼ` of the normaliser; a cell seen from
    /// farther than its width over `theta` counts as its mass at its centre of mass.
    fn repulsion(&self, i: usize, p: [f64; 2], theta: f64, stack: &mut Vec<usize>) -> [f64; 3] {
        let mut out = [0.0; 3];
        stack.clear();
        stack.push(0);
        while let Some(cell) = stack.pop() {
            let c = &self.cells[cell];
            if c.mass == 0.0 {
                continue;
            }
            let leaf = c.first_child == 0;
            // A leaf holding only this point.
            if leaf && c.point == i && c.mass == 1.0 {
                continue;
            }
            let (dx, dy) = (p[0] - c.sum[0], p[1] - c.sum[1]);
            let d2 = dx * dx + dy * dy;
            let width = 2.0 * c.half;
            if leaf || width * width < theta * theta * d2 {
                // Points at one place with this one: itself is not its own neighbour.
                let mass = if leaf && c.point == i {
                    c.mass - 1.0
                } else {
                    c.mass
                };
                let q = 1.0 / (1.0 + d2);
                out[0] += mass * q * q * dx;
                out[1] += mass * q * q * dy;
                out[2] += mass * q;
            } else {
                stack.extend(c.first_child..c.first_child + 4);
            }
        }
        out
    }
}

/// The t-SNE gradient at layout `y` (`[n, 2]`), into `grad`:
/// `4 (exaggeration · Σⱼ pᵢⱼ qᵢⱼ (yᵢ − yⱼ) − Σⱼ qᵢⱼ² (yᵢ − yⱼ) / Z)`.
pub(crate) fn gradient(p: &SparseP, y: &[f64], theta: f64, exaggeration: f64, grad: &mut [f64]) {
    let n = y.len() / 2;
    let tree = QuadTree::new(y);
    let forces = in_parallel(n, |range| {
        let mut stack = Vec::with_capacity(256);
        range
            .map(|i| {
                let yi = [y[2 * i], y[2 * i + 1]];
                let (mut ax, mut ay) = (0.0, 0.0);
                for &(j, pij) in &p.rows[i] {
                    let (dx, dy) = (yi[0] - y[2 * j], yi[1] - y[2 * j + 1]);
                    let q = 1.0 / (1.0 + dx * dx + dy * dy);
                    ax += pij * q * dx;
                    ay += pij * q * dy;
                }
                let r = tree.repulsion(i, yi, theta, &mut stack);
                [ax, ay, r[0], r[1], r[2]]
            })
            .collect()
    });
    let z: f64 = forces
        .iter()
        .map(|f| f[4])
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    for (i, f) in forces.iter().enumerate() {
        grad[2 * i] = 4.0 * (exaggeration * f[0] - f[2] / z);
        grad[2 * i + 1] = 4.0 * (exaggeration * f[1] - f[3] / z);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_one_place_end_in_one_leaf() {
        let y = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -2.0, 3.0];
        let tree = QuadTree::new(&y);
        assert_eq!(tree.cells[0].mass, 4.0);
        let mut stack = Vec::new();
        // Point 3 sees the three others at (1, 1): repulsion and normaliser as by hand.
        let r = tree.repulsion(3, [-2.0, 3.0], 0.0, &mut stack);
        let q = 1.0 / (1.0 + 9.0 + 4.0);
        assert!((r[2] - 3.0 * q).abs() < 1e-12);
        assert!((r[0] - 3.0 * q * q * -3.0).abs() < 1e-12);
        assert!((r[1] - 3.0 * q * q * 2.0).abs() < 1e-12);
    }
}
