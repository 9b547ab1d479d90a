//! Malformed data and bad arguments: a clear error naming the file and the
//! values, a non-zero exit, never a panic.

use super::*;
use ae_data::idx::{Images, encode_images, encode_labels};
use std::io::Write;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("write to Vec");
    enc.finish().expect("write to Vec")
}

/// A valid MNIST-format folder of 20 train / 10 test images of 28×28, gzip-compressed.
fn valid_files(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (n, [img, lbl]) in [(20, [0, 1]), (10, [2, 3])] {
        let images = Images::grey(n, 28, 28, vec![7; n * 784]);
        let labels: Vec<u8> = (0..n as u8).map(|i| i % 10).collect();
        std::fs::write(
            dir.join(ae_data::FILE_NAMES[img]),
            gzip(&encode_images(&images)),
        )
        .expect("write");
        std::fs::write(
            dir.join(ae_data::FILE_NAMES[lbl]),
            gzip(&encode_labels(&labels)),
        )
        .expect("write");
    }
}

/// Runs `train --dataset mnist --data-dir DIR` on a folder broken by `damage`;
/// returns stderr after checking the exit code and that nothing panicked.
fn train_on_broken(damage: impl FnOnce(&Path)) -> String {
    let home = tempfile::tempdir().expect("temp dir");
    let data = home.path().join("data");
    valid_files(&data);
    damage(&data);
    let out = run(trainer(home.path())
        .args([
            "train",
            "--dataset",
            "mnist",
            "--backend",
            "ndarray",
            "--epochs",
            "1",
            "--out",
            "run",
            "--data-dir",
        ])
        .arg(&data));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !home.path().join("run").exists(),
        "an artifact folder was created for a failed load"
    );
    err
}

#[test]
fn wrong_magic() {
    let err = train_on_broken(|d| {
        let labels = gzip(&encode_labels(&[1; 20]));
        std::fs::write(d.join("train-images-idx3-ubyte.gz"), labels).expect("write");
    });
    assert!(
        err.contains("train-images-idx3-ubyte.gz")
            && err.contains("0x00000801")
            && err.contains("expected 0x00000803"),
        "{err}"
    );
}

#[test]
fn truncated_file() {
    let err = train_on_broken(|d| {
        let images = Images::grey(10, 28, 28, vec![0; 10 * 784 - 100]);
        let mut raw = encode_images(&images);
        raw[4..8].copy_from_slice(&10u32.to_be_bytes());
        std::fs::write(d.join("t10k-images-idx3-ubyte.gz"), gzip(&raw)).expect("write");
    });
    assert!(
        err.contains("t10k-images-idx3-ubyte.gz")
            && err.contains("truncated")
            && err.contains("7840"),
        "{err}"
    );
}

#[test]
fn image_label_count_mismatch() {
    let err = train_on_broken(|d| {
        std::fs::write(
            d.join("train-labels-idx1-ubyte.gz"),
            gzip(&encode_labels(&[0; 19])),
        )
        .expect("write");
    });
    assert!(
        err.contains("holds 20 images") && err.contains("holds 19 labels"),
        "{err}"
    );
}

#[test]
fn not_gzip() {
    let err = train_on_broken(|d| {
        std::fs::write(d.join("t10k-labels-idx1-ubyte.gz"), b"this is not gzip").expect("write");
    });
    assert!(
        err.contains("t10k-labels-idx1-ubyte.gz") && err.contains("not gzip"),
        "{err}"
    );
}

#[test]
fn corrupt_gzip() {
    let err = train_on_broken(|d| {
        let path = d.join("train-images-idx3-ubyte.gz");
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    });
    assert!(
        err.contains("train-images-idx3-ubyte.gz") && err.contains("gzip"),
        "{err}"
    );
}

#[test]
fn missing_file() {
    let err = train_on_broken(|d| {
        std::fs::remove_file(d.join("t10k-labels-idx1-ubyte.gz")).expect("rm");
    });
    assert!(
        err.contains("missing t10k-labels-idx1-ubyte.gz of the mnist files")
            && !err.contains("train-images"),
        "{err}"
    );
}

/// The folder the user names is the one read: a file missing there is an error,
/// even when another complete copy (the system's, where the package is installed)
/// would be found without `--data-dir`.
#[test]
fn a_named_data_dir_missing_a_file_is_not_replaced_by_another_copy() {
    let home = tempfile::tempdir().expect("temp dir");
    let data = home.path().join("data");
    valid_files(&data);
    std::fs::remove_file(data.join("train-labels-idx1-ubyte.gz")).expect("rm");
    let out = run(trainer(home.path())
        .args([
            "train",
            "--dataset",
            "fashion-mnist",
            "--backend",
            "ndarray",
        ])
        .args(["--epochs", "1", "--out", "run", "--data-dir"])
        .arg(&data));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: missing train-labels-idx1-ubyte.gz of the fashion-mnist files (the \
             folder named by --data-dir must hold all four)",
            data.display()
        )
    );
    assert!(!home.path().join("run").exists());
}

#[test]
fn a_label_outside_the_classes() {
    let err = train_on_broken(|d| {
        let labels: Vec<u8> = (0..10u8).map(|i| if i == 3 { 255 } else { i }).collect();
        std::fs::write(
            d.join("t10k-labels-idx1-ubyte.gz"),
            gzip(&encode_labels(&labels)),
        )
        .expect("write");
    });
    assert!(
        err.contains(
            "t10k-labels-idx1-ubyte.gz: label 255 at index 3 is not one of the 10 \
             classes of mnist (0 to 9)"
        ),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_named() {
    let home = tempfile::tempdir().expect("temp dir");
    let cases: [(&[&str], &str); 18] = [
        (&["--latent", "0"], "latent = 0"),
        (&["--hidden", "64,0"], "entry 1 is 0"),
        (&["--lr=-1"], "lr = -1"),
        (&["--epochs", "0"], "epochs = 0"),
        (&["--latent", "8", "--k-sparse", "9"], "k_sparse"),
        (&["--noise", "gaussian:-0.3"], "-0.3"),
        (&["--noise", "masking:1.5"], "1.5"),
        (&["--dropout", "1"], "dropout = 1"),
        (&["--kl-sparsity", "0.05:1"], "sigmoid"),
        (&["--model", "vae", "--beta=-1"], "beta = -1"),
        (
            &["--model", "aae", "--prior", "mixture:0"],
            "prior.components",
        ),
        (&["--model", "gan"], "invalid value 'gan' for '--model"),
        (&["--schedule", "weekly"], "unknown schedule 'weekly'"),
        (&["--model", "conv", "--pretrain", "layerwise"], "deep MLP"),
        // Flags a family has no use for are refused, not ignored.
        (
            &["--model", "vae", "--dropout", "0.2"],
            "--dropout does not apply to --model vae",
        ),
        (
            &["--model", "conv-vae", "--weight-l2", "1e-5"],
            "--weight-l2 does not apply to --model conv-vae",
        ),
        // Table flags on a named data set.
        (
            &["--test-fraction", "0.3"],
            "--test-fraction describes a table (--dataset FILE.csv or FILE.npy) or a folder \
             of images (--dataset DIR), not fashion-mnist-sample",
        ),
        // A model no machine could hold is refused with the figure, before any work.
        (
            &["--hidden", "4000000000"],
            "the model is too large to train here",
        ),
    ];
    for (args, expected) in cases {
        let out = run(trainer(home.path())
            .args([
                "train",
                "--backend",
                "ndarray",
                "--dataset",
                "fashion-mnist-sample",
            ])
            .args(args));
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = stderr(&out);
        assert!(
            err.contains(expected) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        let first = err.lines().next().unwrap_or_default();
        assert!(
            !first.contains("  "),
            "{args:?}: a run of spaces in {first:?}"
        );
        assert!(
            std::fs::read_dir(home.path().join("artifacts")).is_err(),
            "{args:?} created an artifact folder"
        );
    }
    let out = run(trainer(home.path()).args(["train", "--backend", "tpu"]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("invalid value 'tpu' for '--backend"),
        "{}",
        stderr(&out)
    );
    let out = run(trainer(home.path()).args(["train", "--dataset", "cifar"]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown dataset 'cifar'"),
        "{}",
        stderr(&out)
    );
    let out = run(trainer(home.path()).args(["eval", "--artifact", "nowhere"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nowhere: no such artifact folder"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_config_files_are_named() {
    let home = tempfile::tempdir().expect("temp dir");
    let train_with = |name: &str, text: &str| {
        let path = home.path().join(name);
        std::fs::write(&path, text).expect("write config");
        let out = run(trainer(home.path())
            .args(["train", "--backend", "ndarray", "--config"])
            .arg(&path));
        assert!(!out.status.success(), "{name} was accepted");
        let err = stderr(&out);
        assert!(err.contains(name) || !err.contains("panicked"), "{err}");
        err
    };
    let err = train_with("broken.json", "{ \"model\": ");
    assert!(
        err.contains("broken.json: not a valid training config"),
        "{err}"
    );
    // A conv stack that does not fit the image: 28 → 12 → 4 → nothing.
    let conv = r#"{"model": {"kind": "conv", "conv": {"image": [1, 28, 28],
        "channels": [8, 8, 8], "kernel": 5, "stride": 2, "padding": 0,
        "activation": "relu"}, "latent": 8, "output_activation": "sigmoid",
        "reconstruction": "mse", "noise": "none", "regularization": {}},
        "dataset": "fashion-mnist-sample", "epochs": 1, "batch_size": 64, "lr": 0.001,
        "seed": 1, "limit": null, "valid_fraction": 0.1, "num_workers": 1}"#;
    let err = train_with("conv.json", conv);
    assert!(
        err.contains("channels") && err.contains("nothing is left"),
        "{err}"
    );
    let err = train_with("missing.json", r#"{"dataset": "fashion-mnist-sample"}"#);
    assert!(
        err.contains("missing.json: not a valid training config"),
        "{err}"
    );
}

#[test]
fn weights_that_do_not_fit_the_config_are_an_error() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("run");
    let out = train_cli(home.path(), &dir, &TINY);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, text.replace("\"latent\": 4", "\"latent\": 5")).expect("write");
    let out = run(trainer(home.path())
        .args(["eval", "--backend", "ndarray", "--artifact"])
        .arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("weights do not fit") && !err.contains("panicked"),
        "{err}"
    );
    // Truncated weights are named too: by their checksum, and without one (an
    // artifact of an older version) by what cannot be read.
    let weights = dir.join("model.bpk");
    let bytes = std::fs::read(&weights).expect("weights");
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).expect("truncate");
    std::fs::write(&path, text).expect("restore config");
    let eval = || {
        let out = run(trainer(home.path())
            .args(["eval", "--backend", "ndarray", "--artifact"])
            .arg(&dir));
        assert_eq!(out.status.code(), Some(1));
        stderr(&out)
    };
    let err = eval();
    assert!(
        err.contains("model.bpk: the weights are damaged") && !err.contains("panicked"),
        "{err}"
    );
    std::fs::remove_file(dir.join("model.bpk.sha256")).expect("no checksum");
    let err = eval();
    assert!(
        err.contains("cannot read weights") && !err.contains("panicked"),
        "{err}"
    );
}

/// A count of zero asks for nothing to be drawn, shown or computed: refused before any
/// work (clap's usage error, exit 2) instead of a blank picture; so is a negative
/// t-SNE accuracy.
#[test]
fn zero_counts_are_refused() {
    let home = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &[&str]); 13] = [
        ("filters", &["--units", "0"]),
        ("search", &["--query", "1", "--k", "0"]),
        ("denoise", &["--show", "0"]),
        ("eval", &["--knn", "0"]),
        ("eval", &["--trustworthiness", "0"]),
        ("eval", &["--nll", "0"]),
        ("eval", &["--batch-size", "0"]),
        ("latent", &["--iterations", "0"]),
        ("latent", &["--theta", "-1"]),
        ("sample", &["--n", "0"]),
        ("finetune", &["--labelled", "100,0"]),
        ("finetune", &["--steps", "0"]),
        ("finetune", &["--batch-size", "0"]),
    ];
    for (command, args) in cases {
        let out = run(trainer(home.path())
            .args([command, "--artifact", "nowhere"])
            .args(args));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command} {args:?}: {err}");
        let flag = args[args.len() - 2];
        assert!(
            err.contains(&format!("for '{flag}"))
                && (err.contains("expected at least 1") || err.contains("of at least 0")),
            "{command} {args:?}: {err}"
        );
    }
}
