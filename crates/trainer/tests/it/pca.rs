//! The PCA baseline, and the linear autoencoder that finds its subspace.

use super::*;

/// The `pca` command's JSON rows.
fn pca_rows(home: &Path, args: &[&str], artifact: Option<&Path>) -> Vec<serde_json::Value> {
    let mut cmd = trainer(home);
    cmd.args(["pca", "--json", "--backend", "flex"]).args(args);
    if let Some(dir) = artifact {
        cmd.arg("--artifact").arg(dir);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("pca prints JSON rows")
}

/// An undercomplete linear autoencoder (identity activations, MSE) trained to
/// convergence spans the PCA subspace: same error, principal angles near zero.
#[test]
fn a_linear_autoencoder_finds_the_pca_subspace() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("linear");
    let out = train_cli_on(
        home.path(),
        &dir,
        "flex",
        &[
            "--dataset",
            "fashion-mnist-sample",
            "--hidden",
            "none",
            "--latent",
            "4",
            "--activation",
            "identity",
            "--output-activation",
            "identity",
            "--epochs",
            "300",
            "--lr",
            "3e-3",
            "--schedule",
            "cosine",
            "--valid-fraction",
            "0",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = pca_rows(home.path(), &[], Some(&dir));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let err = |r: &serde_json::Value| r["sq_error_per_image"].as_f64().expect("error");
    let (pca, ae) = (&rows[0], &rows[1]);
    assert_eq!(pca["method"], "PCA");
    assert_eq!(
        (pca["code_size"].as_u64(), ae["code_size"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(
        err(ae) < err(pca) * 1.005,
        "linear AE {} vs PCA {}",
        err(ae),
        err(pca)
    );
    let angle = ae["max_angle_to_pca_deg"]
        .as_f64()
        .expect("angle for a linear AE");
    assert!(angle < 1.0, "largest principal angle {angle}°");
}

/// The PCA baseline on the full Fashion-MNIST matches an independent computation
/// (NumPy SVD of the centred training images: 12.2429 and 11.8716).
#[test]
fn pca_baseline_matches_an_independent_computation() {
    if !full_fashion_mnist("PCA baseline on the full Fashion-MNIST") {
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let rows = pca_rows(
        home.path(),
        &["--dataset", "fashion-mnist", "--components", "30,32"],
        None,
    );
    let err: Vec<f64> = rows
        .iter()
        .filter_map(|r| r["sq_error_per_image"].as_f64())
        .collect();
    assert!((err[0] - 12.2429).abs() < 1e-3, "{err:?}");
    assert!((err[1] - 11.8716).abs() < 1e-3, "{err:?}");
}

#[test]
fn pca_needs_something_to_compare() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = run(trainer(home.path()).args(["pca"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--dataset"), "{}", stderr(&out));
    let out = run(trainer(home.path()).args([
        "pca",
        "--dataset",
        "fashion-mnist-sample",
        "--components",
        "0",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("code size"), "{}", stderr(&out));
}
