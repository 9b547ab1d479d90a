//! One-class anomaly detection by reconstruction error and by the density of codes.

use super::*;

/// Bounds of the one-class test, between the untrained control and the trained model
/// (AUROC 0.245 untrained, 0.982 trained; average precision 0.826 and 0.998).
const AUROC_BOUND: f64 = 0.85;
const AP_BOUND: f64 = 0.95;
/// The requested rate is 0.1; the test trousers give 0.076.
const FPR_TOLERANCE: f64 = 0.1;

/// Bound of the density score on pullovers, between the untrained control and the
/// trained model (AUROC 0.844 untrained, 0.885 trained; their reconstruction errors
/// give 0.747 and 0.863): an untrained network's code and reconstruction already tell
/// garments apart under a fitted density, and training adds to that.
const DENSITY_AUROC_BOUND: f64 = 0.865;

#[test]
fn the_density_of_code_and_reconstruction_finds_anomalies() {
    let home = tempfile::tempdir().expect("temp dir");
    let pullovers = ["--classes", "Pullover"];
    let density = |dir: &Path| {
        let report = json(&use_artifact(
            home.path(),
            "anomaly",
            dir,
            &["--score", "density", "--components", "1", "--json"],
        ));
        assert_eq!(report["score"], "density");
        report["auroc"].as_f64().unwrap_or(f64::NAN)
    };
    let trained = sample_mlp(home.path(), &pullovers);
    learned(
        "density AUROC",
        density(&trained),
        density(&untrained_mlp(home.path(), &pullovers)),
        |auroc| auroc > DENSITY_AUROC_BOUND,
    );
    // The mixture's size belongs to the density score alone.
    let out = use_artifact(home.path(), "anomaly", &trained, &["--components", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--components 3") && err.contains("not --score reconstruction"),
        "{err}"
    );
}

#[test]
fn one_class_anomaly_detection() {
    let home = tempfile::tempdir().expect("temp dir");
    // Trained on trousers only (label 1, given by its class name).
    let dir = sample_mlp(home.path(), &["--classes", "Trouser"]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).expect("config"))
            .expect("json");
    assert_eq!(config["classes"], serde_json::json!([1]));
    let anomaly = |dir: &Path| {
        json(&use_artifact(
            home.path(),
            "anomaly",
            dir,
            &["--fpr", "0.1", "--json"],
        ))
    };
    let report = anomaly(&dir);
    let control = anomaly(&untrained_mlp(home.path(), &["--classes", "Trouser"]));
    assert_eq!(report["normal"], serde_json::json!([1]));
    let value = |r: &serde_json::Value, key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    learned(
        "AUROC",
        value(&report, "auroc"),
        value(&control, "auroc"),
        |auroc| auroc > AUROC_BOUND,
    );
    // Nine in ten test images are anomalies: a random score's average precision is 0.9.
    learned(
        "average precision",
        value(&report, "average_precision"),
        value(&control, "average_precision"),
        |ap| ap > AP_BOUND,
    );
    let per_class = report["per_class"].as_array().expect("per class");
    assert_eq!(per_class.len(), 9);
    assert!(per_class.iter().all(|c| c["label"] != 1));
    // The threshold came from held-out trousers; on test trousers it flags about as many.
    // (within the sampling error of a quantile of ≈ 50 validation and ≈ 100 test
    // trousers).
    let fpr = report["test_fpr"].as_f64().expect("fpr");
    assert!(
        (fpr - 0.1).abs() < FPR_TOLERANCE,
        "test false-positive rate {fpr}"
    );
    assert!(report["valid_images"].as_u64().expect("valid") > 10);
    let out = use_artifact(home.path(), "anomaly", &dir, &["--fpr", "1.5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--fpr 1.5"), "{}", stderr(&out));
    // A class the data set does not have is refused before training; names work too.
    let out = train_cli(
        home.path(),
        &home.path().join("none"),
        &[&TINY[..], &["--classes", "42"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("class 42") && err.contains("labels 0 to 9"),
        "{err}"
    );
    assert!(!home.path().join("none").join("config.json").exists());
}
