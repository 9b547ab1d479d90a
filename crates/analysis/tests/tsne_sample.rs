//! Barnes–Hut t-SNE on real images: 2,000 Fashion-MNIST pictures of the embedded
//! sample (more than the exact method's limit) keep their classes together in 2-D.

use ae_analysis::{Distance, EXACT_MAX, TsneOptions, knn_accuracy, trustworthiness, tsne};

#[test]
fn barnes_hut_tsne_of_real_images_keeps_their_classes_together() {
    let data = ae_data::sample::load().expect("the embedded sample");
    let n = 2000;
    assert!(n > EXACT_MAX);
    let first: Vec<usize> = (0..n).collect();
    let mut pixels = Vec::new();
    data.train.gather(&first, &mut pixels);
    let labels = &data.train.labels[..n];
    let options = TsneOptions {
        iterations: 500,
        ..TsneOptions::default()
    };
    let y = tsne(&pixels, 784, options).expect("valid input");
    // The second half's images labelled by 5-NN among the first half's.
    let held_out = |rows: &[f32], dim: usize| {
        let (a, b) = rows.split_at(n / 2 * dim);
        let (la, lb) = labels.split_at(n / 2);
        knn_accuracy(a, la, b, lb, dim, 5, Distance::Euclidean).expect("valid")
    };
    let (in_pixels, in_map) = (held_out(&pixels, 784), held_out(&y, 2));
    let start = tsne(
        &pixels,
        784,
        TsneOptions {
            iterations: 0,
            ..options
        },
    )
    .expect("valid");
    let at_start = held_out(&start, 2);
    let trust = |map: &[f32]| {
        trustworthiness(&pixels[..500 * 784], 784, &map[..1000], 2, 5).expect("valid")
    };
    let (trust, trust_at_start) = (trust(&y), trust(&start));
    println!(
        "5-NN accuracy: pixels {in_pixels:.3}, t-SNE map {in_map:.3}, random start \
         {at_start:.3}; trustworthiness of 500 points {trust:.3} (random start \
         {trust_at_start:.3})"
    );
    // The map keeps most of what the pixels' neighbourhoods know; the start does not.
    assert!(in_map > in_pixels - 0.08, "{in_map} against {in_pixels}");
    assert!(at_start < 0.3, "{at_start}");
    assert!(
        trust > 0.9 && trust_at_start < 0.9,
        "{trust}, {trust_at_start}"
    );
}
