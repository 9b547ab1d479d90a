//! Work shared among the machine's cores, with the standard library's scoped threads.

use std::ops::Range;
use std::sync::OnceLock;

/// The cores to use, asked once (the question reads cgroup files on Linux: too slow
/// to ask on every iteration of t-SNE).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` over `0..n` split into one contiguous range per core, the results in order.
/// A panic in `f` is raised again here.
pub(crate) fn in_parallel<T: Send>(n: usize, f: impl Fn(Range<usize>) -> Vec<T> + Sync) -> Vec<T> {
    in_parallel_at_most(n, usize::MAX, f)
}

/// [`in_parallel`] on at most `workers` threads (each may hold a large buffer).
pub(crate) fn in_parallel_at_most<T: Send>(
    n: usize,
    workers: usize,
    f: impl Fn(Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    let per = n.div_ceil(cores().min(workers).min(n).max(1)).max(1);
    if per >= n {
        return f(0..n);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n)
            .step_by(per)
            .map(|start| {
                let f = &f;
                scope.spawn(move || f(start..(start + per).min(n)))
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
