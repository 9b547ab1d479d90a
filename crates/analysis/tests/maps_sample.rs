//! t-SNE (Barnes–Hut) and UMAP on real images: 2,000 Fashion-MNIST pictures of the
//! embedded sample (more than exact t-SNE's limit) keep their classes together in 2-D.

use ae_analysis::{
    Distance, EXACT_MAX, TsneOptions, UmapOptions, knn_accuracy, trustworthiness, tsne, umap,
};

const N: usize = 2000;

/// What a map keeps of the images' neighbourhoods, beside its starting layout's.
struct Kept {
    /// 5-NN accuracy of the second half's images among the first half's: in pixels,
    /// in the map, in the start.
    pixels: f64,
    map: f64,
    start: f64,
    /// Trustworthiness of the first 500 points (5 neighbours): the map's, the start's.
    trust: f64,
    trust_at_start: f64,
}

/// Maps the first `N` training images of the sample with `map(pixels, iterate)`, once
/// with its iterations and once without (the start), and scores both.
fn kept(what: &str, map: impl Fn(&[f32], bool) -> Vec<f32>) -> Kept {
    let data = ae_data::sample::load().expect("the embedded sample");
    let first: Vec<usize> = (0..N).collect();
    let mut pixels = Vec::new();
    data.train.gather(&first, &mut pixels);
    let labels = &data.train.labels[..N];
    let held_out = |rows: &[f32], dim: usize| {
        let (a, b) = rows.split_at(N / 2 * dim);
        let (la, lb) = labels.split_at(N / 2);
        knn_accuracy(a, la, b, lb, dim, 5, Distance::Euclidean).expect("valid")
    };
    let trust = |map: &[f32]| {
        trustworthiness(&pixels[..500 * 784], 784, &map[..1000], 2, 5).expect("valid")
    };
    let (y, start) = (map(&pixels, true), map(&pixels, false));
    let kept = Kept {
        pixels: held_out(&pixels, 784),
        map: held_out(&y, 2),
        start: held_out(&start, 2),
        trust: trust(&y),
        trust_at_start: trust(&start),
    };
    println!(
        "{what}: 5-NN accuracy: pixels {:.3}, map {:.3}, start {:.3}; trustworthiness \
         of 500 points {:.3} (start {:.3})",
        kept.pixels, kept.map, kept.start, kept.trust, kept.trust_at_start
    );
    kept
}

#[test]
fn barnes_hut_tsne_of_real_images_keeps_their_classes_together() {
    const { assert!(N > EXACT_MAX) };
    let kept = kept("t-SNE", |pixels, iterate| {
        let iterations = if iterate { 500 } else { 0 };
        let options = TsneOptions {
            iterations,
            ..TsneOptions::default()
        };
        tsne(pixels, 784, options).expect("valid input")
    });
    // As good for 5-NN as the pixels (0.760 against 0.764), where the random start
    // knows nothing (0.103).
    assert!(
        (kept.map - kept.pixels).abs() < 0.01,
        "{} against {}",
        kept.map,
        kept.pixels
    );
    assert!(kept.start < 0.3, "{}", kept.start);
    assert!(kept.trust > 0.9 && kept.trust_at_start < 0.9);
}

#[test]
fn umap_of_real_images_keeps_their_classes_together() {
    let kept = kept("UMAP", |pixels, iterate| {
        // Without epochs: the start, the two leading principal components.
        let epochs = Some(if iterate { 200 } else { 0 });
        let options = UmapOptions {
            epochs,
            ..UmapOptions::default()
        };
        umap(pixels, 784, options).expect("valid input")
    });
    // Close to the pixels (0.727 against 0.764) from a start of two principal
    // components that mixes the classes (0.542).
    assert!(
        kept.map > kept.pixels - 0.05 && kept.start < kept.pixels - 0.15,
        "map {}, start {}, pixels {}",
        kept.map,
        kept.start,
        kept.pixels
    );
    assert!(kept.trust > 0.95 && kept.trust_at_start < 0.95);
}
