//! Nothing lost: a killed run resumes, a diverging run stops cleanly, runs repeat.

use super::*;
use burn::module::Module;
use std::time::{Duration, Instant};

/// Arguments of a small, quick run on the embedded sample.
const SMALL: [&str; 8] = [
    "--dataset",
    "fashion-mnist-sample",
    "--hidden",
    "128",
    "--latent",
    "16",
    "--batch-size",
    "32",
];

/// Every checkpoint, the weights and the config in `dir` read back.
fn assert_nothing_corrupt(dir: &Path) {
    let checkpoints = dir.join("checkpoint");
    for entry in std::fs::read_dir(&checkpoints).expect("checkpoint folder") {
        let path = entry.expect("entry").path();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("bpk"),
            "{path:?}"
        );
        burn::store::ModuleRecord::load(&path)
            .unwrap_or_else(|e| panic!("{}: unreadable: {e:?}", path.display()));
    }
    let artifact = trainer::artifact::Artifact::open(dir).expect("config.json parses");
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    artifact
        .load_model(&burn::prelude::Device::ndarray())
        .expect("weights load");
}

#[test]
fn a_killed_run_resumes_from_its_last_checkpoint() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("killed");
    let mut child = trainer(home.path())
        .arg("train")
        .args(SMALL)
        .args(["--epochs", "4", "--backend", "ndarray", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("trainer starts");
    // Kill it (SIGKILL) once epoch 2 is under way and epoch 1 is checkpointed: burn
    // writes the model, optimiser and schedule checkpoints on another thread, so the
    // three files are waited for, not the start of epoch 2 alone.
    let deadline = Instant::now() + Duration::from_secs(120);
    let checkpointed = |dir: &Path| {
        ["model", "optim", "scheduler"]
            .iter()
            .all(|part| dir.join(format!("checkpoint/{part}-1.bpk")).exists())
    };
    while !(checkpointed(&dir) && dir.join("train/epoch-2").exists()) {
        assert!(Instant::now() < deadline, "the run never reached epoch 2");
        assert!(
            child.try_wait().expect("status").is_none(),
            "the run ended early"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert!(!dir.join("model.bpk").exists(), "killed before the end");

    // Flags that would change the run are refused; the run itself resumes.
    let changed = run(trainer(home.path())
        .args(["train", "--lr", "0.1", "--resume"])
        .arg(&dir));
    assert!(!changed.status.success());
    assert!(
        stderr(&changed).contains("only --epochs"),
        "{}",
        stderr(&changed)
    );
    let out = run(trainer(home.path())
        .args(["train", "--backend", "ndarray", "--resume"])
        .arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("resuming") && stdout.contains("after epoch"),
        "{stdout}"
    );

    // The history runs 1..=4 without a gap, and falls.
    let m = metrics(&dir);
    let epochs = m["epochs"].as_array().expect("epochs");
    assert_eq!(epochs.len(), 4, "{epochs:?}");
    for (i, e) in epochs.iter().enumerate() {
        assert_eq!(e["epoch"].as_u64(), Some(i as u64 + 1));
        assert!(
            epoch_value(&m, i, "train", "Loss").is_finite(),
            "epoch {}",
            i + 1
        );
        assert!(
            epoch_value(&m, i, "valid", "Loss").is_finite(),
            "epoch {}",
            i + 1
        );
    }
    // It follows the run that was never killed: epoch 1 is that run's, the resumed
    // epochs see another data order and stay within 10 % (a resume from the initial
    // weights fails this check: `controls.rs`).
    let whole = home.path().join("whole");
    let out = train_cli(
        home.path(),
        &whole,
        &[&SMALL[..], &["--epochs", "4"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let reference = metrics(&whole);
    let loss = |m: &serde_json::Value, e: usize| epoch_value(m, e, "train", "Loss");
    assert_eq!(loss(&m, 0), loss(&reference, 0));
    for e in 1..4 {
        assert!(
            (loss(&m, e) - loss(&reference, e)).abs() < 0.1 * loss(&reference, e),
            "epoch {}: resumed {} against {}",
            e + 1,
            loss(&m, e),
            loss(&reference, e)
        );
    }
    assert_nothing_corrupt(&dir);

    // A finished run is not resumed again.
    let again = run(trainer(home.path()).args(["train", "--resume"]).arg(&dir));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("finished"), "{}", stderr(&again));
}

#[test]
fn a_diverging_run_stops_naming_epoch_and_step_and_keeps_its_checkpoint() {
    let home = tempfile::tempdir().expect("temp dir");
    // Diverges at once (exp rates overflow): the error names epoch 1 and the step;
    // nothing final is written.
    let dir = home.path().join("at-once");
    let out = train_cli(
        home.path(),
        &dir,
        &[&SMALL[..], &["--lr", "1", "--loss", "poisson"]].concat(),
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("loss diverged") && err.contains("epoch 1, step"),
        "{err}"
    );
    assert!(!dir.join("model.bpk").exists() && !dir.join("metrics.json").exists());
    assert!(!err.contains("panicked"), "{err}");

    // Diverges in epoch 2, after a good epoch 1: a one-epoch run stands for the good
    // epoch; its config then gets a weight penalty that overflows f32, as a run whose
    // loss turns infinite midway would. (The learning rate comes from the checkpoint.)
    let dir = home.path().join("midway");
    let out = train_cli(
        home.path(),
        &dir,
        &[&SMALL[..], &["--epochs", "1"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["model.bpk", "metrics.json"] {
        std::fs::remove_file(dir.join(file)).expect("remove");
    }
    let config_path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).expect("config"))
            .expect("json");
    config["epochs"] = 3.into();
    config["model"]["regularization"]["weight_l2"] = 1e38.into();
    std::fs::write(&config_path, config.to_string()).expect("write config");
    let out = run(trainer(home.path())
        .args(["train", "--backend", "ndarray", "--resume"])
        .arg(&dir));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("epoch 2, step"), "{err}");
    assert!(err.contains("checkpoint of epoch 1"), "{err}");
    // The last good checkpoint loads into the model.
    let artifact = trainer::artifact::Artifact::open(&dir).expect("artifact");
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    let device = burn::prelude::Device::ndarray();
    let record = burn::store::ModuleRecord::load(dir.join("checkpoint/model-1.bpk"))
        .expect("checkpoint reads");
    artifact
        .config
        .model
        .init(&device)
        .expect("model")
        .try_load_record(record)
        .expect("checkpoint fits the model");
}

/// A run stopped before its first complete checkpoint starts over on `--resume`, and
/// the logs of the stopped attempt do not leak into the new history.
#[test]
fn a_run_without_a_complete_checkpoint_starts_over_cleanly() {
    let home = tempfile::tempdir().expect("temp dir");
    let args = [
        &SMALL[..],
        &["--epochs", "2", "--limit", "1024", "--seed", "5"],
    ]
    .concat();
    let (fresh, stopped) = (home.path().join("fresh"), home.path().join("stopped"));
    for dir in [&fresh, &stopped] {
        let out = train_cli(home.path(), dir, &args);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // What a kill leaves when no epoch's three checkpoint files were all written: the
    // logs of the epochs under way, no weights, no metrics.
    std::fs::remove_file(stopped.join("model.bpk")).expect("remove weights");
    std::fs::remove_file(stopped.join("metrics.json")).expect("remove metrics");
    for entry in std::fs::read_dir(stopped.join("checkpoint")).expect("checkpoints") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().contains("scheduler-") {
            std::fs::remove_file(path).expect("remove");
        }
    }
    let out = run(trainer(home.path())
        .args(["train", "--backend", "ndarray", "--resume"])
        .arg(&stopped));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("starting over"));
    assert_eq!(
        metrics(&stopped)["epochs"],
        metrics(&fresh)["epochs"],
        "the restarted run's history is not the fresh run's"
    );
    assert_nothing_corrupt(&stopped);
}

/// A seed fixes a run: the same seed repeats its losses, test error and weights
/// exactly; another seed (another start and batch order) gives other losses and
/// other weights.
#[test]
fn one_seed_repeats_a_run_exactly_and_another_changes_it() {
    let home = tempfile::tempdir().expect("temp dir");
    let outcome = |name: &str, seed: &str| {
        let dir = home.path().join(name);
        let args = [
            &SMALL[..],
            &["--epochs", "2", "--limit", "1024", "--seed", seed],
        ]
        .concat();
        let out = train_cli(home.path(), &dir, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let m = metrics(&dir);
        let losses: Vec<f64> = (0..2)
            .map(|e| epoch_value(&m, e, "train", "Loss"))
            .collect();
        assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
        (
            m["epochs"].clone(),
            m["test"]["mse_per_pixel"].clone(),
            losses,
            first_layer(&model(&dir)),
        )
    };
    let (a, b) = (outcome("first", "5"), outcome("second", "5"));
    assert_eq!(a, b, "two runs with seed 5 differ");
    let other = outcome("other", "6");
    assert!(
        a.2.iter().zip(&other.2).all(|(x, y)| x != y),
        "seeds 5 and 6 give the same losses: {:?} and {:?}",
        a.2,
        other.2
    );
    let moved = a.3.iter().zip(&other.3).filter(|(x, y)| x != y).count();
    assert!(
        moved > a.3.len() / 2,
        "seeds 5 and 6: {moved} of {} first-layer weights differ",
        a.3.len()
    );
}

/// The files of a finished run, with no temporary file beside them.
fn assert_complete(dir: &Path) {
    for file in [
        "config.json",
        "model.bpk",
        "metrics.json",
        "loss.png",
        "reconstructions.png",
    ] {
        assert!(
            dir.join(file).is_file(),
            "{file} missing in {}",
            dir.display()
        );
    }
    for folder in [dir.to_path_buf(), dir.join("checkpoint")] {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                !name.ends_with(".tmp") && !name.starts_with(".tmp"),
                "{name} left in {}",
                folder.display()
            );
        }
    }
    assert_nothing_corrupt(dir);
}

fn resume(home: &Path, dir: &Path) -> String {
    let out = run(trainer(home)
        .args(["train", "--backend", "ndarray", "--resume"])
        .arg(dir));
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A run killed after training ended is finished by `--resume` from its weights or
/// its last checkpoint, without training again, to the files the uninterrupted run
/// wrote; temporary files of killed writes are removed, a live writer's kept.
#[test]
fn a_run_killed_in_its_end_phase_is_completed_without_training() {
    let home = tempfile::tempdir().expect("temp dir");
    let args = [
        &SMALL[..],
        &["--epochs", "2", "--limit", "512", "--seed", "3"],
    ]
    .concat();
    let whole = home.path().join("whole");
    let out = train_cli(home.path(), &whole, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_complete(&whole);
    let reference = metrics(&whole);
    let weights = std::fs::read(whole.join("model.bpk")).expect("weights");

    // Killed after the weights, before the pictures and metrics.
    let after_weights = home.path().join("after-weights");
    let out = train_cli(home.path(), &after_weights, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["metrics.json", "loss.png", "reconstructions.png"] {
        std::fs::remove_file(after_weights.join(file)).expect("remove");
    }
    // Temporary files of killed writes: ours, burn's, an old tempfile's; and one of
    // this (live) process, which must stay.
    let dead = [
        ".metrics.json.4194399-0.tmp",
        "model.bpk.4194399-1.tmp",
        ".tmpa1B2c3",
    ];
    for name in dead {
        std::fs::write(after_weights.join(name), b"partial").expect("write");
    }
    std::fs::write(
        after_weights.join("checkpoint/optim-2.bpk.4194399-2.tmp"),
        b"p",
    )
    .expect("write");
    let live = format!(".loss.png.{}-0.tmp", std::process::id());
    std::fs::write(after_weights.join(&live), b"partial").expect("write");
    let epochs_before = std::fs::read_dir(after_weights.join("train"))
        .expect("logs")
        .count();
    let stdout = resume(home.path(), &after_weights);
    assert!(stdout.contains("completing its files"), "{stdout}");
    assert!(!stdout.contains("epoch 1/"), "trained again: {stdout}");
    assert_eq!(
        std::fs::read_dir(after_weights.join("train"))
            .expect("logs")
            .count(),
        epochs_before
    );
    assert!(
        after_weights.join(&live).is_file(),
        "a live writer's file was removed"
    );
    std::fs::remove_file(after_weights.join(&live)).expect("remove");
    assert_complete(&after_weights);
    assert_eq!(metrics(&after_weights), reference);

    // Killed after the last checkpoint, before the weights.
    let before_weights = home.path().join("before-weights");
    let out = train_cli(home.path(), &before_weights, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in [
        "model.bpk",
        "metrics.json",
        "loss.png",
        "reconstructions.png",
    ] {
        std::fs::remove_file(before_weights.join(file)).expect("remove");
    }
    let stdout = resume(home.path(), &before_weights);
    assert!(stdout.contains("model-2.bpk"), "{stdout}");
    assert_complete(&before_weights);
    assert_eq!(metrics(&before_weights), reference);
    // The checkpoint holds the final model: the weights are those of the whole run.
    let (a, b) = (
        trainer::artifact::Artifact::open(&whole).expect("whole"),
        trainer::artifact::Artifact::open(&before_weights).expect("completed"),
    );
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    let device = burn::prelude::Device::ndarray();
    let params = |m: ae_models::AnyAutoencoder| -> Vec<f32> {
        let x = ae_data::sample::load()
            .expect("sample")
            .test
            .tensor(&[0, 1, 2], &device);
        use ae_models::Autoencoder;
        m.encode(x)
            .into_data()
            .try_into_vec::<f32>()
            .expect("codes")
    };
    assert_eq!(
        params(a.load_model(&device).expect("model")),
        params(b.load_model(&device).expect("model"))
    );
    assert!(!weights.is_empty());

    // A finished run is not resumed, and says so.
    let again = run(trainer(home.path()).args(["train", "--resume"]).arg(&whole));
    assert!(stderr(&again).contains("finished"), "{}", stderr(&again));
}

/// Kills runs with SIGKILL at increasing delays after their last checkpoint, through
/// the end phase: every outcome is a finished run, or one that `--resume` finishes,
/// and no temporary file is left. The delays are fractions of the end phase as an
/// uninterrupted run on this machine takes it, from none to twice that, so they cover
/// it on a fast machine and on a loaded one.
#[test]
fn runs_killed_anywhere_in_the_end_phase_finish_whole() {
    let home = tempfile::tempdir().expect("temp dir");
    let args = [&SMALL[..], &["--epochs", "1", "--limit", "256"]].concat();
    // Starts a run into `dir`; returns it once its checkpoint is whole (or it ended).
    let start = |dir: &Path| {
        let mut child = trainer(home.path())
            .arg("train")
            .args(&args)
            .args(["--backend", "ndarray", "--out"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("trainer starts");
        let checkpoint =
            ["model", "optim", "scheduler"].map(|p| dir.join(format!("checkpoint/{p}-1.bpk")));
        let deadline = Instant::now() + Duration::from_secs(120);
        while !checkpoint.iter().all(|p| p.exists()) && child.try_wait().expect("status").is_none()
        {
            assert!(Instant::now() < deadline, "the run never checkpointed");
            std::thread::sleep(Duration::from_millis(2));
        }
        child
    };
    let timed = Instant::now();
    let mut uninterrupted = start(&home.path().join("uninterrupted"));
    let checkpointed = timed.elapsed();
    uninterrupted.wait().expect("reaped");
    let end_phase = timed.elapsed() - checkpointed;
    let (mut completed_by_resume, mut finished) = (0, 0);
    for i in 0..=12u32 {
        let delay = end_phase * i / 6;
        let dir = home.path().join(format!("kill-{i}"));
        let mut child = start(&dir);
        std::thread::sleep(delay);
        let _ = child.kill();
        child.wait().expect("reaped");
        if trainer::artifact::is_complete(&dir) {
            finished += 1;
        } else {
            let stdout = resume(home.path(), &dir);
            assert!(
                stdout.contains("completing its files"),
                "{delay:?} after the checkpoint: {stdout}"
            );
            completed_by_resume += 1;
        }
        assert_complete(&dir);
    }
    println!("end phase {end_phase:?}: {completed_by_resume} runs resumed, {finished} finished");
    // The delays cover the end phase: some kills land inside it, the last after it.
    assert!(
        completed_by_resume >= 2,
        "{completed_by_resume} runs needed --resume"
    );
    assert!(finished >= 1, "{finished} runs finished before their kill");
}
