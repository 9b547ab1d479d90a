//! The masked autoencoder through the trainer: it learns to fill in the hidden patches
//! of real images, its codes go through the probes like every family's, and
//! configurations that cannot cut the images are refused by name.

use std::path::PathBuf;

use super::*;

/// A small masked autoencoder on the embedded sample: patches of 7×7 (16 per image),
/// encoder width 32.
const ARGS: [&str; 14] = [
    "--dataset",
    "fashion-mnist-sample",
    "--model",
    "mae",
    "--patch",
    "7",
    "--hidden",
    "32",
    "--latent",
    "16",
    "--epochs",
    "20",
    "--lr",
    "2e-3",
];

/// Bounds between the untrained control and the trained model (seed 42, 20 epochs):
/// validation loss on the hidden patches, untrained 0.195, trained 0.043; linear probe
/// of the codes (trained to convergence), untrained 0.596 (a random encoder's codes
/// already tell classes apart), trained 0.711.
const VALID_BOUND: f64 = 0.1;
const PROBE_BOUND: f64 = 0.62;

fn trained(home: &Path, name: &str, args: &[&str]) -> (PathBuf, f64) {
    let dir = home.join(name);
    let out = train_cli_on(home, &dir, "flex", args);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = metrics(&dir);
    let epochs = m["epochs"].as_array().map_or(0, Vec::len);
    (dir, epoch_value(&m, epochs - 1, "valid", "Loss"))
}

fn probe(home: &Path, dir: &Path) -> f64 {
    let out = run(trainer(home)
        .args([
            "eval",
            "--json",
            "--probe",
            "--backend",
            "flex",
            "--artifact",
        ])
        .arg(dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    report["linear_probe"].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn a_masked_autoencoder_fills_in_hidden_patches_and_its_codes_are_probed() {
    let home = tempfile::tempdir().expect("temp dir");
    let (dir, loss) = trained(home.path(), "mae", &ARGS);
    let (control, initial) = trained(home.path(), "untrained", &untrained(&ARGS));
    learned("masked-patch validation loss", loss, initial, |l| {
        l < VALID_BOUND
    });
    learned(
        "linear probe of the codes",
        probe(home.path(), &dir),
        probe(home.path(), &control),
        |p| p > PROBE_BOUND,
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("config written"),
    )
    .expect("JSON");
    assert_eq!(config["model"]["kind"], "masked");
    assert_eq!(config["model"]["patch"], 7);
    assert_eq!(config["model"]["mask_ratio"], 0.75);
}

#[test]
fn patches_that_do_not_tile_the_image_and_ratios_outside_zero_one_are_refused() {
    let home = tempfile::tempdir().expect("temp dir");
    let table = breast_cancer();
    let sample = ["--dataset", "fashion-mnist-sample"];
    let cases: [(Vec<&str>, &[&str]); 4] = [
        (
            [&sample[..], &["--patch", "5"]].concat(),
            &["patch = 5", "divides the 28x28 image"],
        ),
        (
            [&sample[..], &["--mask-ratio", "1"]].concat(),
            &["mask_ratio = 1", "(0, 1)"],
        ),
        (
            [&sample[..], &["--mask-ratio", "0.01"]].concat(),
            &["mask_ratio = 0.01", "49 patches"],
        ),
        (
            vec![
                "--dataset",
                table.to_str().expect("utf-8 path"),
                "--label-column",
                "diagnosis",
            ],
            &["mae reads images in patches", "breast-cancer.csv"],
        ),
    ];
    for (args, expected) in cases {
        let dir = home.path().join("refused");
        let out = train_cli_on(
            home.path(),
            &dir,
            "flex",
            &[&["--model", "mae"][..], &args].concat(),
        );
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        for text in expected {
            assert!(err.contains(text), "{args:?}: {err}");
        }
        assert!(
            !dir.join("model.bpk").exists(),
            "{args:?}: no model written"
        );
    }
}
