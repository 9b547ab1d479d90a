//! The TopK sparse autoencoder through the trainer: it reconstructs real images with k
//! latents a sample, it reports its L0, unexplained variance and dead latents each
//! epoch, far fewer of its latents die than a plain k-sparse autoencoder's at the
//! same k, and its own flags are checked and refused by name.

use std::path::PathBuf;

use super::*;

/// A dictionary of 512 latents, 16 active per image, on the embedded sample.
const ARGS: [&str; 14] = [
    "--dataset",
    "fashion-mnist-sample",
    "--model",
    "topk-sae",
    "--latent",
    "512",
    "--k-sparse",
    "16",
    "--dead-after",
    "2000",
    "--epochs",
    "10",
    "--lr",
    "1e-3",
];

/// The plain k-sparse autoencoder at the same size and k: a linear encoder to 512
/// units, the 16 largest kept, a sigmoid decoder.
const PLAIN: [&str; 12] = [
    "--dataset",
    "fashion-mnist-sample",
    "--hidden",
    "none",
    "--latent",
    "512",
    "--k-sparse",
    "16",
    "--epochs",
    "10",
    "--lr",
    "1e-3",
];

/// The fraction of the validation variance the model leaves unexplained, at the
/// last epoch (seed 42): untrained 0.92 (the input bias at the mean), trained 0.18.
const FVU_BOUND: f64 = 0.4;

fn trained(home: &Path, name: &str, args: &[&str]) -> PathBuf {
    trained_on(home, name, "flex", args)
}

#[test]
fn a_topk_sae_reconstructs_with_k_latents_and_keeps_its_latents_alive() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let dir = trained(home, "sae", &ARGS);
    let control = trained(home, "untrained", &untrained(&ARGS));
    learned(
        "fraction of variance unexplained",
        last_valid(&dir, "fvu"),
        last_valid(&control, "fvu"),
        |fvu| fvu < FVU_BOUND,
    );
    let l0 = last_valid(&dir, "l0");
    assert!(l0 > 0.0 && l0 <= 16.0, "L0 {l0}");
    assert!(last_valid(&dir, "auxiliary").is_finite());
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("config written"),
    )
    .expect("JSON");
    assert_eq!(config["model"]["kind"], "topk-sae");
    assert_eq!(
        (
            config["model"]["latent"].as_u64(),
            config["model"]["k"].as_u64()
        ),
        (Some(512), Some(16))
    );

    // Dead latents on the test split: units zero for every image.
    let sae = eval_json(home, &dir);
    let plain = eval_json(home, &trained(home, "k-sparse", &PLAIN));
    let dead = |r: &serde_json::Value| r["dead_units"].as_u64().unwrap_or(u64::MAX);
    println!(
        "dead units: topk-sae {}, plain k-sparse {}",
        dead(&sae),
        dead(&plain)
    );
    assert!(
        sae["code_l0"].as_f64().is_some_and(|l0| l0 <= 16.0),
        "{sae}"
    );
    assert!(
        2 * dead(&sae) < dead(&plain),
        "topk-sae {} dead units against the plain k-sparse model's {}",
        dead(&sae),
        dead(&plain)
    );
}

#[test]
fn topk_sae_flags_are_checked_and_refused_by_name() {
    let home = tempfile::tempdir().expect("temp dir");
    let home = home.path();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--model", "topk-sae", "--hidden", "64"],
            "--hidden does not apply to --model topk-sae",
        ),
        (
            &["--k-anneal", "64:1000"],
            "--k-anneal does not apply to --model mlp",
        ),
        (
            &[
                "--model",
                "topk-sae",
                "--latent",
                "64",
                "--k-sparse",
                "8",
                "--k-anneal",
                "4:1000",
            ],
            "k_anneal.start = 4, expected k (8) ≤ start ≤ latent (64)",
        ),
        (
            &["--model", "topk-sae", "--k-anneal", "64"],
            "expected START:SAMPLES",
        ),
    ];
    assert_refused(home, &cases);
}
