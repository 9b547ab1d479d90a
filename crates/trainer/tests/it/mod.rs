mod applications;
mod backends;
mod bad_input;
mod families;
mod help;
mod recovery;
#[cfg(feature = "remote")]
mod remote;
mod tables;
mod train_eval;

use std::path::Path;
use std::process::{Command, Output};

/// The trainer binary, isolated from the user's environment: an empty cache, no
/// data folder, and a download mirror on a loopback port nobody listens on, so that
/// no test reaches the network.
pub fn trainer(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("AE_DATA_DIR")
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

/// Whether the full Fashion-MNIST is installed where the trainer finds it; reports a
/// skip of `what` (a failure under `AE_REQUIRE_ALL`) when it is not.
pub fn full_fashion_mnist(what: &str) -> bool {
    let system = Path::new(ae_data::SYSTEM_DIR).join("fashion-mnist");
    let present = system.join(ae_data::FILE_NAMES[0]).is_file();
    if !present {
        ae_data::skip(what, "package dataset-fashion-mnist is not installed");
    }
    present
}
