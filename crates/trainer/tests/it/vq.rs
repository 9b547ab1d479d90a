//! The VQ-VAE through the trainer: it reconstructs real images from a grid of
//! codebook entries, keeps its codebook in use, counts its code's bits exactly in
//! `compress`, and samples through a PixelCNN prior learned over its codes.

use std::path::PathBuf;

use ae_data::{DatasetName, Locator};
use burn::prelude::*;

use super::*;

/// 64 entries of 8 values over the 7 × 7 grid of two strided convolutions, on the
/// embedded sample.
const ARGS: [&str; 18] = [
    "--dataset",
    "fashion-mnist-sample",
    "--model",
    "vq-vae",
    "--channels",
    "16,32",
    "--codebook-size",
    "64",
    "--code-dim",
    "8",
    "--restart-after",
    "500",
    "--epochs",
    "4",
    "--lr",
    "2e-3",
    "--seed",
    "3",
];

fn trained(home: &Path, name: &str, args: &[&str]) -> PathBuf {
    trained_on(home, name, "flex", args)
}

fn test_mse(home: &Path, dir: &Path) -> f64 {
    eval_json(home, dir)["mse_per_pixel"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

#[test]
fn a_vq_vae_reconstructs_from_its_codebook_and_samples_through_a_learned_prior() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let dir = trained(home, "vq", &ARGS);
    let control = trained(home, "untrained", &untrained(&ARGS));
    // The mean training image scores ≈ 0.087 on these test images.
    learned(
        "test MSE per pixel",
        test_mse(home, &dir),
        test_mse(home, &control),
        |mse| mse < 0.04,
    );
    // Restarts keep the codebook in use (in training, whatever the weights learned:
    // the untrained control's entries restart too; the models crate's tests compare
    // with and without restarts).
    let used = last_valid(&dir, "used");
    assert!(used >= 32.0, "{used} entries of 64 in a validation batch");
    for term in ["codebook", "commitment", "perplexity"] {
        assert!(last_valid(&dir, term).is_finite(), "{term}");
    }

    // compress: 49 positions of one of 64 entries are 49 × 6 bits, decoded exactly.
    let out = run(trainer(home)
        .args(["compress", "--json", "--backend", "flex", "--artifact"])
        .arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let points: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let vq = &points[0];
    assert_eq!(
        (vq["setting"].as_u64(), vq["bits_per_image"].as_f64()),
        (Some(49), Some(294.0)),
        "{vq}"
    );

    // The prior, fitted in the library: it predicts held-out codes better than the
    // entries' frequencies, which predict them better than a uniform choice.
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    let device = Device::flex();
    let model = trainer::artifact::Artifact::open(&dir)
        .expect("artifact")
        .load_model(&device)
        .expect("weights");
    let data = Locator::only("unused")
        .load(DatasetName::FashionMnistSample)
        .expect("embedded sample");
    let vq = trainer::applications::code_prior::vq(&model).expect("a VQ-VAE");
    device.seed(5);
    let (_, _, report) =
        trainer::applications::code_prior::fit(vq, &data.train, &data.test, 3, &device, |_, _| {})
            .expect("fits");
    println!("{report}");
    assert_eq!(report.uniform_bits, 294.0);
    learned(
        "bits per held-out image under the prior (control: the entries' frequencies)",
        report.bits,
        report.frequency_bits,
        |bits| bits < 0.9 * report.frequency_bits,
    );
    assert!(report.frequency_bits < report.uniform_bits, "{report}");

    // `sample` fits the prior once, keeps it in the artifact, and draws from it.
    let sample = |extra: &[&str]| {
        let out = run(trainer(home)
            .args(["sample", "--backend", "flex", "--n", "9", "--artifact"])
            .arg(&dir)
            .args(["--prior-epochs", "1"])
            .args(extra));
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = sample(&["--prior-limit", "100"]);
    assert!(
        first.contains("PixelCNN prior fitted to 100 training codes"),
        "{first}"
    );
    assert!(
        first.contains("from codes drawn from the learned prior"),
        "{first}"
    );
    for file in [
        "prior.json",
        "prior.bpk",
        "prior-report.json",
        "sample-0.png",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("prior-report.json")).expect("the prior's report"),
    )
    .expect("JSON");
    let bits = report["bits"].as_f64().expect("bits per image");
    assert!(bits.is_finite() && bits > 0.0, "{report}");
    assert_eq!(report["uniform_bits"].as_f64(), Some(294.0), "{report}");
    assert_eq!(report["codes"].as_u64(), Some(100), "{report}");
    let again = sample(&["--seed", "1"]);
    assert!(
        !again.contains("fitted"),
        "the saved prior is used: {again}"
    );
    assert!(dir.join("sample-1.png").is_file());
    // It samples, but has no quantiles to decode: --manifold is refused at once, by a
    // message that lists only the families it applies to.
    let out = run(trainer(home)
        .args([
            "sample",
            "--backend",
            "flex",
            "--manifold",
            "4",
            "--artifact",
        ])
        .arg(&dir));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("continuous prior (vae, conv-vae, aae);") && err.contains("has none"),
        "{err}"
    );
}

#[test]
fn vq_vae_flags_are_checked_and_refused_by_name() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--model", "vq-vae", "--latent", "32"],
            "--latent does not apply to --model vq-vae: its code is a grid of codebook entries",
        ),
        (
            &["--codebook-size", "64"],
            "--codebook-size does not apply to --model mlp",
        ),
        (
            &["--model", "vq-vae", "--ema-decay", "1.5"],
            "ema_decay = 1.5, expected a decay between 0 and 1",
        ),
        (
            &[
                "--model",
                "vq-vae",
                "--restart-after",
                "10",
                "--no-restarts",
            ],
            "cannot be used with",
        ),
    ];
    assert_refused(home, &cases);
}
