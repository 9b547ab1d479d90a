//! The capsule autoencoder through the trainer, trained as in the paper with the
//! labels of the sample: its capsules' lengths classify held-out images and its
//! decoder reconstructs them from the longest capsule; its flags are checked.

use std::path::PathBuf;

use super::*;

/// A small capsule network (32 channels, 8 maps of primary capsules, a decoder of
/// 256 and 512) on the embedded sample.
const ARGS: [&str; 20] = [
    "--dataset",
    "fashion-mnist-sample",
    "--model",
    "capsule",
    "--channels",
    "32",
    "--primary-maps",
    "8",
    "--hidden",
    "256,512",
    "--epochs",
    "3",
    "--lr",
    "1e-3",
    "--seed",
    "3",
    "--batch-size",
    "64",
    "--mask-by",
    "label",
];

fn trained(home: &Path, name: &str, args: &[&str]) -> PathBuf {
    trained_on(home, name, "flex", args)
}

#[test]
fn capsule_lengths_classify_and_the_longest_capsule_reconstructs() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let dir = trained(home, "capsule", &ARGS);
    let control = trained(home, "untrained", &untrained(&ARGS));
    let (report, before) = (eval_json(home, &dir), eval_json(home, &control));
    let value = |r: &serde_json::Value, key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    // Ten classes: chance is 0.1.
    learned(
        "accuracy of the longest capsule as the class",
        value(&report, "class_accuracy"),
        value(&before, "class_accuracy"),
        |accuracy| accuracy > 0.5,
    );
    // The mean training image scores ≈ 0.087 on these test images.
    learned(
        "test MSE per pixel from the longest capsule",
        value(&report, "mse_per_pixel"),
        value(&before, "mse_per_pixel"),
        |mse| mse < 0.075,
    );
    for term in ["margin", "reconstruction"] {
        assert!(last_valid(&dir, term).is_finite(), "{term}");
    }
    // Per-capsule perturbations: two images × 16 dimensions, each row the image and
    // 5 decodings, 28-pixel images with 2-pixel gaps.
    let dir_arg = dir.to_str().expect("utf-8 path");
    let out = run(trainer(home).args([
        "capsules",
        "--artifact",
        dir_arg,
        "--images",
        "0,5",
        "--steps",
        "5",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        png_size(&dir.join("capsules.png")),
        (6 * 30 + 2, 32 * 30 + 2)
    );
    for (args, expected) in [
        (["--steps", "1"], "--steps 1: expected at least 2"),
        (["--images", "100000"], "image 100000: the test split has"),
    ] {
        let out = run(trainer(home)
            .args(["capsules", "--artifact", dir_arg])
            .args(args));
        assert!(
            !out.status.success() && stderr(&out).contains(expected),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn capsule_flags_are_checked_and_refused_by_name() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--model", "capsule", "--latent", "32"],
            "--latent does not apply to --model capsule: its code is the class capsules",
        ),
        (
            &["--routing", "2"],
            "--routing does not apply to --model mlp",
        ),
        (
            &["--model", "capsule", "--channels", "16,32"],
            "has one convolution before its capsules",
        ),
        (
            &["--model", "capsule", "--mask-by", "first"],
            "expected label or longest",
        ),
    ];
    assert_refused(home, &cases);
}
