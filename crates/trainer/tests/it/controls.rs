//! The training controls do what they say, checked on what the run does rather than
//! on what its config.json records: each against the same run without the control.

use super::*;

/// A small, quick run: 512 sample images through a 784-32-8 MLP, seed 7.
const QUICK: [&str; 12] = [
    "--dataset",
    "fashion-mnist-sample",
    "--limit",
    "512",
    "--hidden",
    "32",
    "--latent",
    "8",
    "--batch-size",
    "64",
    "--seed",
    "7",
];

/// Trains `QUICK` plus `extra` into `home/name` and returns the folder.
fn quick(home: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let dir = home.join(name);
    let out = train_cli(home, &dir, &[&QUICK[..], extra].concat());
    assert!(out.status.success(), "{name}: {}", stderr(&out));
    dir
}

/// The per-epoch values of metric `name` of `split`.
fn series(dir: &Path, split: &str, name: &str) -> Vec<f64> {
    let m = metrics(dir);
    let n = m["epochs"].as_array().map_or(0, Vec::len);
    (0..n).map(|e| epoch_value(&m, e, split, name)).collect()
}

/// Σ w² of the first layer's weights.
fn first_layer_norm(dir: &Path) -> f64 {
    let w = first_layer(&model(dir));
    w.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

/// With a learning rate too small to move any weight, the validation loss never
/// improves: patience 1 stops the run after its second epoch; without early stopping
/// all six run.
#[test]
fn early_stopping_stops_a_run_that_stops_improving() {
    let home = tempfile::tempdir().expect("temp dir");
    let frozen = ["--lr", "1e-30", "--epochs", "6"];
    let stopped = quick(
        home.path(),
        "stopped",
        &[&frozen[..], &["--early-stopping", "1"]].concat(),
    );
    let whole = quick(home.path(), "whole", &frozen);
    let valid = series(&whole, "valid", "Loss");
    assert_eq!(valid.len(), 6, "without early stopping every epoch runs");
    assert!(
        valid.windows(2).all(|w| w[1] >= w[0]),
        "the frozen run must not improve: {valid:?}"
    );
    assert_eq!(series(&stopped, "valid", "Loss").len(), 2);
    // A run that keeps improving is not stopped by the same patience.
    let learning = quick(
        home.path(),
        "learning",
        &["--epochs", "3", "--lr", "3e-3", "--early-stopping", "1"],
    );
    let valid = series(&learning, "valid", "Loss");
    assert_eq!(valid.len(), 3, "{valid:?}");
    assert!(valid.windows(2).all(|w| w[1] < w[0]), "{valid:?}");
}

/// Weight decay pulls the weights toward zero: the first layer's squared norm ends
/// well below that of the same run without it.
#[test]
fn weight_decay_shrinks_the_weights() {
    let home = tempfile::tempdir().expect("temp dir");
    let plain = first_layer_norm(&quick(home.path(), "plain", &["--epochs", "3"]));
    let decayed = first_layer_norm(&quick(
        home.path(),
        "decayed",
        &["--epochs", "3", "--weight-decay", "0.5"],
    ));
    assert!(
        decayed < 0.8 * plain,
        "Σw² {decayed} with decay against {plain} without"
    );
}

/// `--beta1` and every schedule change the run: the losses (and for the schedules the
/// learning rate of each epoch) differ from the constant-rate, β₁ = 0.9 run of the
/// same seed, which itself repeats exactly.
#[test]
fn beta1_and_the_schedules_change_the_trajectory() {
    let home = tempfile::tempdir().expect("temp dir");
    let epochs = ["--epochs", "3"];
    let losses = |dir: &Path| series(dir, "train", "Loss");
    let rates = |dir: &Path| series(dir, "train", "Learning Rate");
    let base = quick(home.path(), "base", &epochs);
    let again = quick(home.path(), "again", &epochs);
    assert_eq!(losses(&base), losses(&again), "one seed, one trajectory");
    assert!(
        rates(&base).iter().all(|r| (r - 1e-3).abs() < 1e-12),
        "{:?}",
        rates(&base)
    );

    let beta1 = quick(
        home.path(),
        "beta1",
        &[&epochs[..], &["--beta1", "0.5"]].concat(),
    );
    assert_eq!(rates(&beta1), rates(&base));
    assert_ne!(losses(&beta1), losses(&base), "--beta1 0.5 changed nothing");

    let step = quick(
        home.path(),
        "step",
        &[&epochs[..], &["--schedule", "step:1:0.5"]].concat(),
    );
    let r = rates(&step);
    assert!(
        (r[0] - 1e-3).abs() < 1e-12 && (r[1] - 5e-4).abs() < 1e-12,
        "{r:?}"
    );
    assert!((r[2] - 2.5e-4).abs() < 1e-12, "{r:?}");
    assert_ne!(losses(&step)[1..], losses(&base)[1..]);

    let cosine = quick(
        home.path(),
        "cosine",
        &[&epochs[..], &["--schedule", "cosine"]].concat(),
    );
    let r = rates(&cosine);
    assert!(r.windows(2).all(|w| w[1] < w[0]) && r[0] < 1e-3, "{r:?}");
    assert_ne!(losses(&cosine), losses(&base));
}

/// Clipping and accumulation change what each update does. Clipped far below Adam's
/// ε (1e-8), by value or by norm, every update shrinks to a fraction of the rate and
/// the loss stays near its start while the unclipped run's falls. Summed over 4
/// batches, an epoch makes a quarter of the updates, so its loss falls less; the
/// schedule counts updates, so step:1:0.5 still halves the rate every epoch.
#[test]
fn gradient_clipping_and_accumulation_change_each_update() {
    let home = tempfile::tempdir().expect("temp dir");
    let epochs = ["--epochs", "2"];
    let losses = |dir: &Path| series(dir, "train", "Loss");
    let run = |name: &str, extra: &[&str]| quick(home.path(), name, &[&epochs[..], extra].concat());
    let base = losses(&run("base", &[]));
    for clip in ["value:1e-10", "norm:1e-10"] {
        let clipped = losses(&run(clip, &["--grad-clip", clip]));
        assert!(
            clipped[1] > base[1] + 0.5 * (base[0] - base[1]),
            "--grad-clip {clip}: {clipped:?}, unclipped {base:?}"
        );
    }
    let accumulated = losses(&run("accumulated", &["--grad-accumulation", "4"]));
    assert!(accumulated[1] > base[1], "{accumulated:?} vs {base:?}");
    // burn's learning-rate metric reports, for each batch, the rate of the last update
    // (none before the first), so an epoch's mean mixes two rates; from epoch to epoch
    // it still halves with the updates counted, and would stay put for three epochs
    // if the schedule counted batches (8 per epoch here, 2 updates).
    let stepped = quick(
        home.path(),
        "stepped",
        &[
            "--epochs",
            "3",
            "--grad-accumulation",
            "4",
            "--schedule",
            "step:1:0.5",
        ],
    );
    let r = series(&stepped, "train", "Learning Rate");
    assert!(r[2] < 0.6 * r[1] && r[1] < 1e-3, "{r:?}");
}

/// With early stopping the artifact keeps the weights of the epoch with the lowest
/// validation loss, not the last: 32 images learnt by a wide model at a high rate
/// overfit, the validation loss turns up, and the run stops three epochs later
/// (seed 42: best epoch 21 of 24). model.bpk is that epoch's checkpoint, which differs
/// from the last epoch's, and the test report is the kept model's.
#[test]
fn early_stopping_keeps_the_best_epochs_weights() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("overfit");
    let args = [
        "--dataset",
        "fashion-mnist-sample",
        "--limit",
        "64",
        "--valid-fraction",
        "0.5",
        "--batch-size",
        "8",
        "--hidden",
        "1024",
        "--latent",
        "64",
        "--lr",
        "3e-3",
        "--epochs",
        "40",
        "--early-stopping",
        "3",
    ];
    let out = train_cli(home.path(), &dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let valid = series(&dir, "valid", "Loss");
    let best = metrics(&dir)["best_epoch"].as_u64().expect("best_epoch") as usize;
    let lowest = valid.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(valid[best - 1], lowest, "{valid:?}");
    assert!(
        best < valid.len(),
        "the run must have stopped after its best epoch: {valid:?}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "kept the weights of epoch {best} of {}",
            valid.len()
        )),
        "{stdout}"
    );
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    let device = burn::prelude::Device::ndarray();
    let artifact = trainer::artifact::Artifact::open(&dir).expect("artifact");
    let checkpoint = |epoch: usize| {
        let path = dir.join("checkpoint").join(format!("model-{epoch}.bpk"));
        first_layer(&artifact.load_weights(&path, &device).expect("checkpoint"))
    };
    let kept = first_layer(&model(&dir));
    assert_eq!(kept, checkpoint(best));
    assert_ne!(kept, checkpoint(valid.len()));
}

/// `--warmup 16` raises the rate linearly over the first 16 updates (two epochs of 8
/// batches here), then the step schedule starts counting: epoch means near 0.28 and
/// 0.78 of the rate, then the rate, then half of it. The same run without warm-up
/// starts at the rate.
#[test]
fn warmup_raises_the_rate_then_the_schedule_takes_over() {
    let home = tempfile::tempdir().expect("temp dir");
    let schedule = ["--epochs", "4", "--schedule", "step:1:0.5"];
    let warm = quick(
        home.path(),
        "warm",
        &[&schedule[..], &["--warmup", "16"]].concat(),
    );
    let r = series(&warm, "train", "Learning Rate");
    assert!(r[0] < 0.4e-3 && r[0] > 0.1e-3, "{r:?}");
    assert!(r[1] > 0.6e-3 && r[1] < 0.9e-3, "{r:?}");
    assert!((r[2] - 1e-3).abs() < 1e-9, "{r:?}");
    assert!((r[3] - 5e-4).abs() < 1e-9, "{r:?}");
    let cold = series(
        &quick(home.path(), "cold", &schedule),
        "train",
        "Learning Rate",
    );
    assert!((cold[0] - 1e-3).abs() < 1e-9, "{cold:?}");
    let out = train_cli(
        home.path(),
        &home.path().join("zero"),
        &[&QUICK[..], &["--warmup", "0"]].concat(),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("warmup = 0"), "{}", stderr(&out));
}

/// `--optimizer`: AdamW without weight decay is Adam (the same trajectory to float
/// rounding), its decoupled decay shrinks the weights, SGD with momentum at a rate of
/// its own trains, and its momentum changes the path.
#[test]
fn each_optimizer_trains_as_it_should() {
    let home = tempfile::tempdir().expect("temp dir");
    let losses = |dir: &Path| series(dir, "train", "Loss");
    let run = |name: &str, extra: &[&str]| {
        quick(home.path(), name, &[&["--epochs", "2"][..], extra].concat())
    };
    let adam = run("adam", &[]);
    let adamw = run("adamw", &["--optimizer", "adamw"]);
    for (a, w) in losses(&adam).iter().zip(&losses(&adamw)) {
        assert!(
            (a - w).abs() < 1e-5 * a,
            "{:?} vs {:?}",
            losses(&adam),
            losses(&adamw)
        );
    }
    let decayed = run("decayed", &["--optimizer", "adamw", "--weight-decay", "50"]);
    let (kept, shrunk) = (first_layer_norm(&adamw), first_layer_norm(&decayed));
    assert!(shrunk < 0.8 * kept, "Σw² {kept} -> {shrunk}");
    // SGD with momentum trains at a rate of its own; the same run frozen (a rate too
    // small to move a weight) is the control of how much its loss falls. Two epochs of
    // 128 images: the second epoch's loss is 0.9885 of the first's (frozen: 0.9955).
    let sgd = |momentum: &str, lr: &str| {
        let optimizer = format!("sgd:{momentum}");
        let name = format!("sgd-{momentum}-{lr}");
        losses(&run(&name, &["--optimizer", &optimizer, "--lr", lr]))
    };
    let (momentum, frozen) = (sgd("0.9", "0.5"), sgd("0.9", "1e-30"));
    let ratio = |l: &[f64]| l[1] / l[0];
    learned(
        "SGD with momentum: the second epoch's loss over the first's",
        ratio(&momentum),
        ratio(&frozen),
        |r| r < 0.993,
    );
    assert_ne!(momentum, losses(&adam));
    // Momentum changes SGD's path: without it, the same rate and seed go elsewhere.
    let plain = sgd("0", "0.5");
    assert!(
        momentum.iter().zip(&plain).all(|(a, b)| a != b),
        "momentum 0.9 {momentum:?} against none {plain:?}"
    );
}

/// `metrics.jsonl` gets each epoch's line for each split as the epoch ends — the
/// first while the run still goes on — with the values `metrics.json` reports at the
/// end.
#[test]
fn live_metrics_are_appended_as_each_epoch_ends() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("live");
    let mut child = trainer(home.path())
        .arg("train")
        .args(QUICK)
        .args(["--epochs", "6", "--backend", "ndarray", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("trainer starts");
    let live = dir.join("metrics.jsonl");
    // The complete lines: a reader that polls the file while the run appends to it can
    // catch the last line half written, as any tracker tailing it can.
    let lines = |path: &Path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
            .collect::<Vec<_>>()
    };
    let mut seen_early = false;
    while child.try_wait().expect("status").is_none() {
        if !lines(&live).is_empty() && !dir.join("metrics.json").exists() {
            seen_early = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(seen_early, "no line before the run ended");
    let all = lines(&live);
    assert_eq!(all.len(), 12, "a train and a valid line per epoch");
    for (i, line) in all.iter().enumerate() {
        let split = if i % 2 == 0 { "train" } else { "valid" };
        assert_eq!(
            (line["epoch"].as_u64(), line["split"].as_str()),
            (Some(i as u64 / 2 + 1), Some(split))
        );
        let at_end = epoch_value(&metrics(&dir), i / 2, split, "Loss");
        let now = line["Loss"].as_f64().unwrap_or(f64::NAN);
        assert!((now - at_end).abs() < 1e-9 * at_end, "{line}: {at_end}");
    }
}

/// TensorBoard itself (its `EventAccumulator`, as `tensorboard --logdir` uses) reads
/// the event files of a run: each epoch's training and validation scalars, at steps 1,
/// 2, 3, equal to metrics.json's to float precision.
#[test]
fn tensorboard_reads_each_epochs_scalars() {
    let Some(python) = python_with("tensorboard", "the TensorBoard read-back") else {
        return;
    };
    let home = tempfile::tempdir().expect("temp dir");
    let dir = quick(home.path(), "tb", &["--epochs", "3"]);
    let script = r#"
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
out = {}
for split in ("train", "valid"):
    acc = EventAccumulator(sys.argv[1] + "/tensorboard/" + split)
    acc.Reload()
    out[split] = {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
print(json.dumps(out))
"#;
    let out = run(Command::new(python).args(["-c", script]).arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for (split, name) in [("train", "Loss"), ("valid", "Loss"), ("valid", "Pixel MSE")] {
        let scalars = read[split][name]
            .as_array()
            .expect("the scalars of the tag");
        let expected = series(&dir, split, name);
        assert_eq!(scalars.len(), expected.len(), "{split} {name}: {scalars:?}");
        for (epoch, (point, want)) in scalars.iter().zip(&expected).enumerate() {
            assert_eq!(point[0].as_u64(), Some(epoch as u64 + 1), "{point}");
            let got = point[1].as_f64().unwrap_or(f64::NAN);
            assert!(
                (got - want).abs() < 1e-6 * want,
                "{split} {name}: {got} vs {want}"
            );
        }
    }
    assert!(read["train"]["Learning Rate"].is_array(), "{read}");
}

/// A run stopped after two epochs and resumed to four follows the trajectory of the
/// run that was never stopped (the resumed epochs see the data in another order, so
/// within a tolerance); resumed from its initial weights instead, the same check
/// fails — the negative control that the check sees a lost model.
#[test]
fn resume_continues_the_trajectory_and_extends_epochs() {
    let home = tempfile::tempdir().expect("temp dir");
    let whole = quick(home.path(), "whole", &["--epochs", "4"]);
    let reference = series(&whole, "train", "Loss");

    // What a run of 2 epochs leaves before its end phase, resumed with --epochs 4.
    let stop_after_two = |name: &str| {
        let dir = quick(home.path(), name, &["--epochs", "2"]);
        for file in [
            "model.bpk",
            "metrics.json",
            "loss.png",
            "reconstructions.png",
        ] {
            std::fs::remove_file(dir.join(file)).expect("remove");
        }
        dir
    };
    let resume = |dir: &Path| {
        let out = run(trainer(home.path())
            .args(["train", "--backend", "ndarray", "--epochs", "4", "--resume"])
            .arg(dir));
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("after epoch 2 of 4"));
        series(dir, "train", "Loss")
    };
    let close =
        |resumed: &[f64]| (2..4).all(|e| (resumed[e] - reference[e]).abs() < 0.1 * reference[e]);
    let resumed = resume(&stop_after_two("resumed"));
    assert_eq!(resumed.len(), 4);
    assert_eq!(
        resumed[..2],
        reference[..2],
        "the first two epochs are the same run"
    );
    assert!(close(&resumed), "resumed {resumed:?} against {reference:?}");
    // The resumed epochs' data order is seeded (by the seed and the epoch resumed
    // from): the same resume repeats exactly.
    assert_eq!(resume(&stop_after_two("again")), resumed);

    // Negative control: the same resume from the initial weights (those of a run that
    // cannot move them, same seed).
    let lost = stop_after_two("lost");
    let initial = quick(home.path(), "initial", &["--epochs", "2", "--lr", "1e-30"]);
    std::fs::copy(
        initial.join("checkpoint/model-2.bpk"),
        lost.join("checkpoint/model-2.bpk"),
    )
    .expect("copy");
    let from_scratch = resume(&lost);
    assert!(
        !close(&from_scratch),
        "the check passed a resume from the initial weights: {from_scratch:?}"
    );
}

/// A newest checkpoint that cannot be read is passed over: the run resumes after the
/// epoch before it.
#[test]
fn resume_falls_back_past_a_corrupt_newest_checkpoint() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = quick(home.path(), "run", &["--epochs", "2"]);
    for file in ["model.bpk", "metrics.json"] {
        std::fs::remove_file(dir.join(file)).expect("remove");
    }
    let newest = dir.join("checkpoint/model-2.bpk");
    let bytes = std::fs::read(&newest).expect("checkpoint");
    std::fs::write(&newest, &bytes[..bytes.len() / 2]).expect("truncate");
    let out = run(trainer(home.path())
        .args(["train", "--backend", "ndarray", "--resume"])
        .arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("after epoch 1 of 2"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(series(&dir, "train", "Loss").len(), 2);
    assert!(trainer::artifact::is_complete(&dir));
}

/// flex, the backend `auto` picks on a CPU, repeats a run exactly, as ndarray does;
/// the device data path trains to the host path's losses.
#[test]
fn flex_repeats_runs_and_the_device_data_path_matches_the_host_path() {
    let home = tempfile::tempdir().expect("temp dir");
    let on = |name: &str, backend: &str, extra: &[&str]| {
        let dir = home.path().join(name);
        let out = train_cli_on(
            home.path(),
            &dir,
            backend,
            &[&QUICK[..], &["--epochs", "2"], extra].concat(),
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        series(&dir, "train", "Loss")
    };
    let (a, b) = (on("flex-a", "flex", &[]), on("flex-b", "flex", &[]));
    assert_eq!(a, b, "two flex runs with one seed differ");
    let host = on("host", "ndarray", &[]);
    let device = on("device", "ndarray", &["--data-on-device"]);
    assert_eq!(device.len(), 2);
    for (h, d) in host.iter().zip(&device) {
        assert!(
            (h - d).abs() < 1e-5 * h,
            "host {host:?} against device {device:?}"
        );
    }
}

/// Without a terminal, training prints a few lines an epoch — a line at each quarter
/// of a split and one when it is done — not one per batch.
#[test]
fn progress_is_a_line_per_quarter_epoch() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("run");
    let out = train_cli(
        home.path(),
        &dir,
        &[&QUICK[..], &["--epochs", "1"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let train: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("epoch 1/1 train"))
        .collect();
    // 461 training samples in 8 batches of 64: marks at a quarter, a half, three
    // quarters, then done.
    assert_eq!(train.len(), 4, "{stdout}");
    assert!(
        train[3].contains("done") && train[0].contains("/461"),
        "{stdout}"
    );
    assert!(train.iter().all(|l| l.contains("Loss")), "{stdout}");
}
