mod applications;
mod apply;
mod backends;
mod bad_input;
mod capsule;
mod colour;
mod controls;
mod export;
mod families;
mod folders;
mod hardening;
mod help;
mod masked;
mod pca;
mod recovery;
#[cfg(feature = "remote")]
mod remote;
mod sampling;
mod series;
mod serving;
pub mod shared;
mod tables;
mod topk;
mod train_eval;
mod vq;

use std::path::Path;
use std::process::{Command, Output};

/// The trainer binary, isolated from the user's environment: an empty cache, no
/// data folder, and a download mirror on a loopback port nobody listens on, so that
/// no test reaches the network.
pub fn trainer(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("AE_DATA_DIR")
        .env_remove("AE_IMAGE_CACHE")
        .env_remove("AE_IMAGE_MEMORY_MIB")
        .env_remove("BURN_DEVICE")
        .env("AE_DATA_MIRROR", "http://127.0.0.1:9/")
        .current_dir(home);
    cmd
}

/// The quickest real run: one epoch of 128 sample images through a 784-16-4 MLP.
pub const TINY: [&str; 10] = [
    "--dataset",
    "fashion-mnist-sample",
    "--epochs",
    "1",
    "--limit",
    "128",
    "--hidden",
    "16",
    "--latent",
    "4",
];

/// The breast-cancer table shipped in the repository (569 rows, 30 features and the
/// diagnosis).
pub fn breast_cancer() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tables/breast-cancer.csv")
}

/// The flags of a one-class model of the benign rows of a breast-cancer CSV table
/// (`data`: its dataset flags), 10 epochs: a quick real table model for the tests of
/// its applications.
fn benign_args<'a>(data: &[&'a str]) -> Vec<&'a str> {
    let rest = [
        "--label-column",
        "diagnosis",
        "--classes",
        "benign",
        "--epochs",
        "10",
        "--batch-size",
        "32",
    ];
    [data, &rest[..]].concat()
}

/// Trains the one-class model of the benign rows of `data` on flex into `dir`.
pub fn train_benign(home: &Path, dir: &Path, data: &[&str]) {
    let out = train_cli_on(home, dir, "flex", &benign_args(data));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The one-class model of the benign rows of the whole breast-cancer table, with the
/// threshold `anomaly` stores (5 % of held-out benign rows above it): trained once per
/// test run, shared.
pub fn shared_benign() -> std::path::PathBuf {
    let table = breast_cancer();
    let table = table.to_str().expect("utf-8 path");
    shared::model_with(
        "benign-breast-cancer",
        "flex",
        &benign_args(&["--dataset", table]),
        |home, dir| {
            let out = run(trainer(home)
                .args(["anomaly", "--backend", "flex", "--artifact"])
                .arg(dir));
            assert!(out.status.success(), "{}", stderr(&out));
        },
    )
}

/// Runs `trainer train ARGS --backend ndarray --out DIR` and returns its output.
pub fn train_cli(home: &Path, dir: &Path, args: &[&str]) -> Output {
    train_cli_on(home, dir, "ndarray", args)
}

/// Runs `trainer train ARGS --backend BACKEND --out DIR` and returns its output.
pub fn train_cli_on(home: &Path, dir: &Path, backend: &str, args: &[&str]) -> Output {
    run(trainer(home)
        .arg("train")
        .args(args)
        .args(["--backend", backend, "--out"])
        .arg(dir))
}

/// Runs and returns the output, printing it for the test log.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the trainer binary runs");
    println!("--- stdout\n{}", String::from_utf8_lossy(&out.stdout));
    println!("--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Per-epoch metrics from an artifact's metrics.json.
pub fn metrics(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("metrics.json")).expect("metrics.json written");
    serde_json::from_str(&text).expect("metrics.json is JSON")
}

pub fn epoch_value(metrics: &serde_json::Value, epoch: usize, split: &str, name: &str) -> f64 {
    metrics["epochs"][epoch][split][name]
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// Trains `trainer train ARGS --backend BACKEND` into `home/name`, which it returns.
pub fn trained_on(home: &Path, name: &str, backend: &str, args: &[&str]) -> std::path::PathBuf {
    let dir = home.join(name);
    let out = train_cli_on(home, &dir, backend, args);
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

/// The validation value of `name` at an artifact's last epoch.
pub fn last_valid(dir: &Path, name: &str) -> f64 {
    let m = metrics(dir);
    let epochs = m["epochs"].as_array().map_or(0, Vec::len);
    epoch_value(&m, epochs - 1, "valid", name)
}

/// `eval --json` of an artifact on its test split.
pub fn eval_json(home: &Path, dir: &Path) -> serde_json::Value {
    let out = run(trainer(home)
        .args(["eval", "--json", "--backend", "flex", "--artifact"])
        .arg(dir));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Each `train` of the sample with the flags of a case fails, says the case's message
/// and writes no weights.
pub fn assert_refused(home: &Path, cases: &[(&[&str], &str)]) {
    for (i, (args, message)) in cases.iter().enumerate() {
        let dir = home.join(format!("refused-{i}"));
        let out = train_cli(
            home,
            &dir,
            &[&["--dataset", "fashion-mnist-sample"], *args].concat(),
        );
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(!dir.join("model.bpk").exists(), "{args:?}");
    }
}

/// Whether the full Fashion-MNIST is installed where the trainer finds it; reports a
/// skip of `what` (a failure under `AE_REQUIRE_ALL`) when it is not.
pub fn full_fashion_mnist(what: &str) -> bool {
    let system = Path::new(ae_data::SYSTEM_DIR).join("fashion-mnist");
    let present = system.join(ae_data::FILE_NAMES[0]).is_file();
    if !present {
        ae_test_support::skip(what, "package dataset-fashion-mnist is not installed");
    }
    present
}

/// A Python that imports `modules` (comma-separated): `AE_PYTHON` (`cargo xtask ci`
/// prepares one) or `python3`; a skip of `what` when there is none.
pub fn python_with(modules: &str, what: &str) -> Option<std::ffi::OsString> {
    let python = std::env::var_os("AE_PYTHON").unwrap_or_else(|| "python3".into());
    let ready = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        ae_test_support::skip(
            what,
            &format!("no Python with {modules} (set AE_PYTHON, or run cargo xtask ci)"),
        );
        return None;
    }
    Some(python)
}

/// `args` made into its untrained control: the same model, data and seed trained one
/// epoch at a learning rate too small for Adam to move any weight (its steps are at
/// most the rate), so the artifact holds the initial weights.
pub fn untrained<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(args.len() + 4);
    let mut rest = args.iter();
    while let Some(&arg) = rest.next() {
        if arg == "--lr" || arg == "--epochs" {
            rest.next();
        } else {
            out.push(arg);
        }
    }
    out.extend(["--lr", "1e-30", "--epochs", "1"]);
    out
}

/// A bound on a learned metric, checked with its negative control: `passes` must hold
/// for the trained model's value and fail for the untrained model's (or a trivial
/// predictor's), so that the bound sits between what no learning gives and what
/// learning gives. Both values must be finite: a missing value (a renamed key read as
/// NaN) would fail every bound and pass as a control that failed.
pub fn learned(what: &str, trained: f64, untrained: f64, passes: impl Fn(f64) -> bool) {
    println!("{what}: trained {trained}, untrained {untrained}");
    assert!(
        trained.is_finite() && untrained.is_finite(),
        "{what}: trained {trained}, untrained {untrained}: both must be finite numbers"
    );
    assert!(
        passes(trained),
        "{what}: the trained model's {trained} misses the bound (untrained: {untrained})"
    );
    assert!(
        !passes(untrained),
        "{what}: the untrained model's {untrained} meets the bound too (trained: {trained}), \
         so the check cannot see a model that did not learn"
    );
}

/// A trivial predictor's test error, the control of bounds on a model's: every test
/// image of the embedded sample predicted by the mean training image, as squared
/// error per pixel (0.087).
pub fn mean_image_mse() -> f64 {
    mean_image_mse_of(&ae_data::sample::load().expect("the embedded sample"))
}

/// [`mean_image_mse`] of another data set.
pub fn mean_image_mse_of(data: &ae_data::Dataset) -> f64 {
    let rows = |split: &ae_data::Split| {
        let mut out = Vec::new();
        split.gather(&(0..split.len()).collect::<Vec<_>>(), &mut out);
        out
    };
    let (train, test) = (rows(&data.train), rows(&data.test));
    let width = data.train.features();
    let mut mean = vec![0.0f64; width];
    for row in train.chunks(width) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    let n = data.train.len() as f64;
    mean.iter_mut().for_each(|m| *m /= n);
    let squared: f64 = test
        .chunks(width)
        .flat_map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(&v, m)| (f64::from(v) - m).powi(2))
        })
        .sum();
    squared / test.len() as f64
}

/// The model of an artifact, on the CPU.
pub fn model(dir: &Path) -> ae_models::AnyAutoencoder {
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    let device = burn::prelude::Device::ndarray();
    trainer::artifact::Artifact::open(dir)
        .expect("artifact")
        .load_model(&device)
        .expect("weights")
}

/// The weights of a model's first dense layer.
pub fn first_layer(model: &ae_models::AnyAutoencoder) -> Vec<f32> {
    model
        .first_dense_layer()
        .expect("a dense first layer")
        .weight
        .val()
        .into_data()
        .try_into_vec::<f32>()
        .expect("weights")
}

/// Width and height of a PNG file.
pub fn png_size(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).expect("png written");
    let reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("valid png");
    (reader.info().width, reader.info().height)
}

#[test]
fn learned_refuses_missing_values_and_a_control_that_passes() {
    let fails = |trained: f64, untrained: f64| {
        std::panic::catch_unwind(|| learned("a loss", trained, untrained, |v| v < 0.5)).is_err()
    };
    assert!(!fails(0.1, 0.9), "a bound between the two");
    assert!(fails(0.7, 0.9), "the trained model misses the bound");
    assert!(fails(0.1, 0.2), "the control meets the bound too");
    for missing in [f64::NAN, f64::INFINITY] {
        assert!(fails(missing, 0.9), "trained {missing}");
        assert!(fails(0.1, missing), "untrained {missing}");
    }
}
