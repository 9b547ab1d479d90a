//! The GPU code path, proven on whatever Vulkan device the machine has (a software
//! one in CI), and the errors for backends that are missing.

use super::*;

/// Whether a Vulkan driver is installed (the loader finds its ICD files here).
fn vulkan_driver_present() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .any(|d| std::fs::read_dir(d).is_ok_and(|mut entries| entries.next().is_some()))
}

#[test]
fn wgpu_trains_and_loss_falls() {
    if !vulkan_driver_present() {
        ae_test_support::skip(
            "wgpu training",
            "no Vulkan driver installed (apt-get install mesa-vulkan-drivers)",
        );
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("gpu");
    let out = run(trainer(home.path())
        .args([
            "train",
            "--dataset",
            "fashion-mnist-sample",
            "--backend",
            "wgpu",
            "--limit",
            "1024",
            "--epochs",
            "3",
            "--hidden",
            "64",
            "--latent",
            "8",
            "--batch-size",
            "64",
            "--out",
        ])
        .arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("device: wgpu on"));
    let m = metrics(&dir);
    let (first, last) = (
        epoch_value(&m, 0, "train", "Loss"),
        epoch_value(&m, 2, "train", "Loss"),
    );
    assert!(
        last < first,
        "wgpu train loss did not fall: {first} -> {last}"
    );
    // Predicting the mean training image (the control) scores 0.087 on these test
    // images; three short epochs get well below.
    learned(
        "wgpu test MSE per pixel",
        m["test"]["mse_per_pixel"].as_f64().unwrap_or(f64::NAN),
        mean_image_mse(),
        |mse| mse < 0.075,
    );
    // kNN on the GPU (the default there) finds the host's neighbours.
    let knn = |on: &str| {
        let out = run(trainer(home.path())
            .args([
                "eval",
                "--backend",
                "wgpu",
                "--knn",
                "5",
                "--knn-on",
                on,
                "--json",
            ])
            .arg("--artifact")
            .arg(&dir));
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("eval --json prints JSON");
        report["knn"].clone()
    };
    let (device, host) = (knn("auto"), knn("host"));
    assert_eq!(device["on_device"], true);
    assert_eq!(host["on_device"], false);
    for distance in ["euclidean", "cosine"] {
        let (d, h) = (device[distance].as_f64(), host[distance].as_f64());
        // A tie broken the other way by the GPU's rounding may move a vote or two.
        assert!(
            d.zip(h).is_some_and(|(d, h)| (d - h).abs() <= 0.002),
            "{distance}: {d:?} on the GPU against {h:?} on the host"
        );
    }
}

/// `auto` says what it chose, and probing the adapters on a headless machine prints
/// no error line (Mesa's device-selection layer would have libwayland complain about
/// a missing `XDG_RUNTIME_DIR` twice).
#[test]
fn auto_backend_says_what_it_chose() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = run(trainer(home.path())
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("NODEVICE_SELECT")
        .arg("train")
        .args(TINY));
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("device: "))
        .unwrap_or("");
    assert!(line.contains("auto"), "{stdout}");
    let err = stderr(&out);
    assert!(
        !err.lines().any(|l| l.to_lowercase().contains("error")),
        "a normal run printed an error line: {err}"
    );
}

#[test]
fn backend_not_compiled_in_names_the_feature() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = run(trainer(home.path()).args([
        "train",
        "--dataset",
        "fashion-mnist-sample",
        "--backend",
        "cuda",
    ]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--features cuda") && !err.contains("panicked"),
        "{err}"
    );
    // BURN_DEVICE is honoured the same way.
    let out = run(trainer(home.path()).env("BURN_DEVICE", "cuda").args([
        "train",
        "--dataset",
        "fashion-mnist-sample",
    ]));
    assert!(stderr(&out).contains("--features cuda"), "{}", stderr(&out));
}
