//! Seeded orders of samples, the same on every machine: which rows a data set holds
//! out for testing, and the order its training samples are taken in.

/// Mixed into a data set's split seed for the order of its training samples, so that
/// it differs from the held-out draw.
pub(crate) const TRAIN_ORDER_SEED: u64 = 0x7261_696e;

/// A permutation of `0..n` by Fisher–Yates, drawn from Sebastiano Vigna's SplitMix64
/// seeded with `seed`.
pub(crate) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    #[test]
    fn permutations_are_seeded_and_complete() {
        let a = super::permutation(100, 7);
        assert_eq!(a, super::permutation(100, 7));
        assert_ne!(a, super::permutation(100, 8));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        // The first values of seed 0, so that a change of generator is seen.
        assert_eq!(super::permutation(5, 0), [2, 3, 1, 4, 0]);
    }
}
