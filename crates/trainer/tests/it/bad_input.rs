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
        let images = Images {
            count: n,
            rows: 28,
            cols: 28,
            pixels: vec![7; n * 784],
        };
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
        let images = Images {
            count: 10,
            rows: 28,
            cols: 28,
            pixels: vec![0; 10 * 784 - 100],
        };
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
        err.contains("mnist not found") && err.contains("missing t10k-labels-idx1-ubyte.gz"),
        "{err}"
    );
    assert!(
        err.contains("download:"),
        "the download attempt is reported: {err}"
    );
}

#[test]
fn bad_arguments_are_named() {
    let home = tempfile::tempdir().expect("temp dir");
    let cases: [(&[&str], &str); 4] = [
        (&["--latent", "0"], "latent = 0"),
        (&["--hidden", "64,0"], "entry 1 is 0"),
        (&["--lr=-1"], "lr = -1"),
        (&["--epochs", "0"], "epochs = 0"),
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
    }
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
