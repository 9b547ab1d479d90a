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
/// convergence spans the PCA subspace: PCA's error, principal angles near zero. These
/// are the README's linear walk-through and its figures (28.79 for both, 0.14°); the
/// untrained linear autoencoder, a random subspace, is their control.
#[test]
fn a_linear_autoencoder_finds_the_pca_subspace() {
    let home = tempfile::tempdir().expect("temp dir");
    let args = [
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
    ];
    let rows = |name: &str, args: &[&str]| {
        let dir = home.path().join(name);
        let out = train_cli_on(home.path(), &dir, "flex", args);
        assert!(out.status.success(), "{}", stderr(&out));
        let rows = pca_rows(home.path(), &[], Some(&dir));
        assert_eq!(rows.len(), 2, "{rows:?}");
        rows
    };
    let (trained, control) = (rows("linear", &args), rows("untrained", &untrained(&args)));
    let err = |r: &serde_json::Value| r["sq_error_per_image"].as_f64().unwrap_or(f64::NAN);
    let angle =
        |rows: &[serde_json::Value]| rows[1]["max_angle_to_pca_deg"].as_f64().unwrap_or(f64::NAN);
    let (pca, ae) = (&trained[0], &trained[1]);
    assert_eq!(pca["method"], "PCA");
    assert_eq!(
        (pca["code_size"].as_u64(), ae["code_size"].as_u64()),
        (Some(4), Some(4))
    );
    println!(
        "linear autoencoder: PCA {:.4}, autoencoder {:.4}, largest angle {:.3}°",
        err(pca),
        err(ae),
        angle(&trained)
    );
    assert!((err(pca) - 28.79).abs() < 0.005, "PCA's error {}", err(pca));
    learned(
        "the linear autoencoder's squared error per test image",
        err(ae),
        err(&control[1]),
        |e| (e - 28.79).abs() < 0.005,
    );
    learned(
        "largest principal angle to PCA's subspace (degrees)",
        angle(&trained),
        angle(&control),
        |a| (a - 0.14).abs() < 0.05,
    );
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
