//! Weights out of burn and back: `export` writes safetensors with PyTorch's names and
//! layouts, NumPy (through the `safetensors` package) recomputes the model from them,
//! and `import` makes an artifact of them.

use super::*;
use burn::prelude::*;

/// A Python with NumPy and safetensors, or a skip.
fn python_with_safetensors(what: &str) -> Option<std::ffi::OsString> {
    python_with("numpy, safetensors", what)
}

#[test]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
fn an_exported_mlp_reconstructs_alike_in_numpy() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("mlp");
    let out = train_cli(home.path(), &dir, &TINY);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(trainer(home.path())
        .args(["export", "--backend", "ndarray", "--artifact"])
        .arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));

    // PyTorch's names and layouts: Linear(784, 16) holds a [16, 784] weight.
    let tensors =
        trainer::applications::safetensors::read(&dir.join("model.safetensors")).expect("reads");
    let shapes: Vec<(&str, &[usize])> = tensors
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("encoder.0.weight", &[16, 784][..]),
            ("encoder.0.bias", &[16][..]),
            ("encoder.1.weight", &[4, 16][..]),
            ("encoder.1.bias", &[4][..]),
            ("decoder.0.weight", &[16, 4][..]),
            ("decoder.0.bias", &[16][..]),
            ("decoder.1.weight", &[784, 16][..]),
            ("decoder.1.bias", &[784][..]),
        ]
    );
    let architecture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("architecture.json")).expect("architecture.json"),
    )
    .expect("JSON");
    assert_eq!(architecture["family"], "mlp");
    assert_eq!(architecture["model"]["hidden"], serde_json::json!([16]));
    assert_eq!(
        architecture["tensors"][6]["shape"],
        serde_json::json!([784, 16])
    );

    // Back in: the exported weights make an artifact that evaluates as the original.
    let import = |from: &Path, out: &Path| {
        run(trainer(home.path())
            .args(["import", "--backend", "ndarray", "--like"])
            .arg(&dir)
            .arg("--weights")
            .arg(from.join("model.safetensors"))
            .arg("--out")
            .arg(out))
    };
    let imported = home.path().join("imported");
    let out = import(&dir, &imported);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(trainer::artifact::is_complete(&imported));
    let mse = |dir: &Path| {
        let out = run(trainer(home.path())
            .args(["eval", "--json", "--backend", "ndarray", "--artifact"])
            .arg(dir));
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        report["mse_per_pixel"].as_f64().unwrap_or(f64::NAN)
    };
    assert_eq!(mse(&imported), mse(&dir));
    // Weights of another architecture are refused, naming the misfit, and nothing is
    // written.
    let other = home.path().join("other");
    let out = train_cli(
        home.path(),
        &other,
        &[&TINY[..6], &["--hidden", "8", "--latent", "2"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(trainer(home.path())
        .args(["export", "--backend", "ndarray", "--artifact"])
        .arg(&other));
    assert!(out.status.success(), "{}", stderr(&out));
    let refused = home.path().join("refused");
    let out = import(&other, &refused);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("encoder.0.weight: shape [8, 784], the model's is [16, 784]"),
        "{}",
        stderr(&out)
    );
    assert!(!refused.exists());

    let out = run(trainer(home.path()).args(["export", "--artifact", "nowhere"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nowhere"), "{}", stderr(&out));

    // The trainer's reconstructions of 16 test images, and NumPy's from the export.
    let device = Device::ndarray();
    let model = trainer::artifact::Artifact::open(&dir)
        .expect("artifact")
        .load_model(&device)
        .expect("weights");
    let data = ae_data::Locator::only("unused")
        .load(ae_data::DatasetName::FashionMnistSample)
        .expect("embedded sample");
    let x = data.test.tensor(&(0..16).collect::<Vec<_>>(), &device);
    use ae_models::Autoencoder;
    let y = model.decode(model.encode(x.clone()));
    let values = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().expect("f32");
    let (x, y) = (values(x), values(y));
    let npy = |name: &str, v: &[f32]| {
        let path = home.path().join(name);
        ae_data::npy::write(&path, v, &[16, 784]).expect("npy");
        path
    };
    let (inputs, expected) = (npy("x.npy", &x), npy("y.npy", &y));
    // The check sees a difference of 1e-4: the same reconstructions, nudged.
    let nudged: Vec<f32> = y.iter().map(|v| v + 1e-4).collect();
    let nudged = npy("nudged.npy", &nudged);

    let Some(python) = python_with_safetensors("an exported MLP read by NumPy") else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mlp_reconstruct.py");
    let check = |expected: &Path| {
        run(Command::new(&python)
            .arg(&script)
            .arg(dir.join("model.safetensors"))
            .arg(dir.join("architecture.json"))
            .arg(&inputs)
            .arg(expected))
    };
    let out = check(&expected);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert_eq!(check(&nudged).status.code(), Some(1), "a nudge went unseen");
}

/// Weights brought in by `import` continue training with `train --init-from`: the
/// continued run starts where the imported model ended, so its first epoch's
/// validation loss is far below a first epoch from random weights (the control).
#[test]
fn imported_weights_continue_training() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let base = h.join("base");
    let small = [
        "--dataset",
        "fashion-mnist-sample",
        "--limit",
        "512",
        "--hidden",
        "16",
        "--latent",
        "4",
        "--lr",
        "3e-3",
    ];
    let out = train_cli(h, &base, &[&small[..], &["--epochs", "6"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(trainer(h)
        .args(["export", "--backend", "ndarray", "--artifact"])
        .arg(&base));
    assert!(out.status.success(), "{}", stderr(&out));
    let imported = h.join("imported");
    let out = run(trainer(h)
        .args(["import", "--backend", "ndarray", "--like"])
        .arg(&base)
        .arg("--weights")
        .arg(base.join("model.safetensors"))
        .arg("--out")
        .arg(&imported));
    assert!(out.status.success(), "{}", stderr(&out));

    // The architecture and data come from the imported artifact; only --epochs is new.
    let continued = h.join("continued");
    let out = run(trainer(h)
        .args([
            "train",
            "--epochs",
            "1",
            "--backend",
            "ndarray",
            "--init-from",
        ])
        .arg(&imported)
        .arg("--out")
        .arg(&continued));
    assert!(out.status.success(), "{}", stderr(&out));
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(continued.join("config.json")).expect("config"),
    )
    .expect("JSON");
    assert_eq!(config["model"]["hidden"], serde_json::json!([16]));
    assert!(
        config["init_from"]
            .as_str()
            .is_some_and(|p| p.ends_with("imported"))
    );

    let valid = |dir: &Path, epoch: usize| epoch_value(&metrics(dir), epoch, "valid", "Loss");
    let (fresh, trained) = (valid(&base, 0), valid(&base, 5));
    let bound = (fresh + trained) / 2.0;
    println!("valid loss: first epoch from random weights {fresh}, after 6 epochs {trained}");
    learned(
        "first-epoch validation loss from the imported weights",
        valid(&continued, 0),
        fresh,
        |v| v < bound,
    );

    // Another architecture's weights are refused, named, before any epoch.
    let refused = h.join("refused");
    let out = run(trainer(h)
        .args([
            "train",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--backend",
            "ndarray",
            "--init-from",
        ])
        .arg(&imported)
        .arg("--out")
        .arg(&refused));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--init-from") && stderr(&out).contains("do not fit"),
        "{}",
        stderr(&out)
    );
    let written = std::fs::read_dir(&refused).map_or(0, |d| d.count());
    assert_eq!(written, 0, "a refused run wrote files");
}
