//! Time series: a real series cut into windows through train, eval and the commands
//! on new files.

use std::path::PathBuf;

use super::*;

/// The monthly El Niño sea temperatures shipped in the repository (732 months).
fn elnino() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/series/elnino.csv")
}

/// The data flags of the tests: the series cut into windows of two years, month by
/// month.
fn windows(csv: &str) -> [&str; 8] {
    [
        "--dataset",
        csv,
        "--time-column",
        "month",
        "--window",
        "24",
        "--batch-size",
        "32",
    ]
}

/// Trains a model of `data` for `epochs` into `name` and its untrained control beside
/// it; returns the folder and the last validation loss of each.
fn trained_and_untrained(
    home: &Path,
    name: &str,
    data: &[&str],
    epochs: usize,
) -> (PathBuf, f64, f64) {
    let dir = home.join(name);
    let n = epochs.to_string();
    let out = train_cli_on(home, &dir, "flex", &[data, &["--epochs", &n]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let control = home.join(format!("{name}-untrained"));
    let out = train_cli_on(home, &control, "flex", &untrained(data));
    assert!(out.status.success(), "{}", stderr(&out));
    let trained = epoch_value(&metrics(&dir), epochs - 1, "valid", "Loss");
    (
        dir,
        trained,
        epoch_value(&metrics(&control), 0, "valid", "Loss"),
    )
}

/// Bound of the validation loss (MSE of standardised temperatures) between the
/// untrained control and the trained model: 1.13 untrained, 0.039 trained.
const ELNINO_VALID_BOUND: f64 = 0.3;

/// An MLP autoencoder on windows of two years of a real series: the loss falls, the
/// split is in time, the statistics are the training months', and the model applies
/// to a whole series file window by window.
#[test]
fn a_real_series_trains_in_windows_and_scores_a_new_series_window_by_window() {
    let home = tempfile::tempdir().expect("temp dir");
    let csv = elnino();
    let csv = csv.to_str().expect("utf-8 path");
    let (dir, trained, control) = trained_and_untrained(home.path(), "elnino", &windows(csv), 40);
    learned("validation loss of the windows", trained, control, |loss| {
        loss < ELNINO_VALID_BOUND
    });
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("config written"),
    )
    .expect("JSON");
    assert_eq!(config["dataset"]["window"]["size"], 24);
    assert_eq!(config["model"]["input_size"], 24);
    // One channel, its statistics from the 586 training months (1950-01 to 1998-10).
    let stats: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("standardize.json")).expect("statistics saved"),
    )
    .expect("JSON");
    assert_eq!(stats["names"], serde_json::json!(["sst"]));
    let mean = stats["mean"][0].as_f64().unwrap_or(f64::NAN);
    assert!((22.0..24.0).contains(&mean), "mean temperature {mean}");

    let dir_arg = dir.to_str().expect("utf-8 path");
    let out = run(trainer(home.path()).args([
        "eval",
        "--backend",
        "flex",
        "--json",
        "--artifact",
        dir_arg,
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let eval: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        eval["samples"].as_u64(),
        Some(123),
        "the last 146 months in windows"
    );

    // The whole file as a new series: 732 months make 709 windows of 24.
    let apply = |args: &[&str]| {
        run(trainer(home.path()).args(args).args([
            "--backend",
            "flex",
            "--artifact",
            dir_arg,
            "--input",
            csv,
        ]))
    };
    let out = apply(&["score", "--out", "scores.csv", "--png", "series.png"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let scores = std::fs::read_to_string(home.path().join("scores.csv")).expect("scores");
    assert_eq!(scores.lines().count(), 710, "a header and 709 windows");
    // The picture: the series and its reconstruction above the step scores, two
    // panels of 1000 × 320 (width and height in the PNG header).
    let png = std::fs::read(home.path().join("series.png")).expect("series.png written");
    let size = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    assert_eq!((&png[1..4], size(16), size(20)), (&b"PNG"[..], 1000, 640));
    let out = apply(&["reconstruct", "--out", "rec.npy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rec = ae_data::npy::read(&home.path().join("rec.npy")).expect("reconstructions");
    assert_eq!(rec.shape, vec![709, 24]);
    // In degrees again: the Niño 1+2 region lies between 18 and 30 °C.
    let mean = rec.values.iter().sum::<f64>() / rec.values.len() as f64;
    assert!(
        (21.0..25.0).contains(&mean),
        "mean reconstructed temperature {mean}"
    );

    // A spike of +6 °C in one month of the test years (2005-06, step 665): every step
    // is scored, and the spike's score stands out of the median step's for the
    // trained model, not for the untrained one (whose errors are large everywhere).
    let text = std::fs::read_to_string(csv).expect("the series reads");
    let spiked: Vec<String> = text
        .lines()
        .map(|line| match line.split_once(',') {
            Some(("2005-06", v)) => format!("2005-06,{}", v.parse::<f64>().unwrap_or(0.0) + 6.0),
            _ => line.to_string(),
        })
        .collect();
    let spiked_csv = home.path().join("spiked.csv");
    std::fs::write(&spiked_csv, spiked.join("\n")).expect("writes");
    let spike_over_median = |artifact: &Path, name: &str| {
        let points = format!("{name}-points.csv");
        let out = run(trainer(home.path())
            .args(["score", "--backend", "flex", "--artifact"])
            .arg(artifact)
            .arg("--input")
            .arg(&spiked_csv)
            .args(["--out", &format!("{name}-windows.csv"), "--points", &points]));
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(home.path().join(&points)).expect("step scores");
        let scores: Vec<f64> = text
            .lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        assert_eq!(scores.len(), 732, "every month scored");
        let mut sorted = scores.clone();
        sorted.sort_by(f64::total_cmp);
        scores[665] / sorted[366]
    };
    learned(
        "the spike's step score over the median step's",
        spike_over_median(&dir, "trained"),
        spike_over_median(&home.path().join("elnino-untrained"), "untrained"),
        |ratio| ratio > 3.0,
    );
    // A file shorter than a window is refused with both lengths.
    let short = home.path().join("short.csv");
    let text = std::fs::read_to_string(csv).expect("the series reads");
    let ten: Vec<&str> = text.lines().take(11).collect();
    std::fs::write(&short, ten.join("\n")).expect("writes");
    let out = run(trainer(home.path()).args([
        "score",
        "--backend",
        "flex",
        "--artifact",
        dir_arg,
        "--input",
        short.to_str().expect("utf-8 path"),
        "--out",
        "short-scores.csv",
    ]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("10 steps, fewer than one window of the model's 24"),
        "{}",
        stderr(&out)
    );
}

/// Bound of the one-dimensional convolutional model's validation loss: 1.42 untrained,
/// 0.029 trained.
const CONV1D_VALID_BOUND: f64 = 0.3;

/// The one-dimensional convolutional family on the same windows: it learns them; it
/// refuses rows not cut into windows, and windows longer than the test part.
#[test]
fn conv1d_learns_the_windows_of_a_real_series_and_bad_windows_are_refused() {
    let home = tempfile::tempdir().expect("temp dir");
    let csv = elnino();
    let csv = csv.to_str().expect("utf-8 path");
    let data = [&windows(csv)[..], &["--model", "conv1d"]].concat();
    let (dir, trained, control) = trained_and_untrained(home.path(), "conv1d", &data, 40);
    learned(
        "conv1d validation loss of the windows",
        trained,
        control,
        |loss| loss < CONV1D_VALID_BOUND,
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("config written"),
    )
    .expect("JSON");
    assert_eq!(config["model"]["kind"], "conv");
    assert_eq!(config["model"]["conv"]["sequence"], true);
    assert_eq!(
        config["model"]["conv"]["image"],
        serde_json::json!([1, 1, 24])
    );
    // Refused before any work: conv1d on rows not cut into windows, and a window
    // longer than the test part.
    let cases: [(&[&str], &[&str]); 2] = [
        (
            &["--model", "conv1d"],
            &["conv1d reads sequences", "--window", "one of mlp, vae, aae"],
        ),
        (
            &["--window", "200:4"],
            &[
                "elnino.csv",
                "a window of 200 steps is longer than the test part of the series (146 steps",
            ],
        ),
    ];
    for (args, expected) in cases {
        let dir = home.path().join("refused");
        let data = ["--dataset", csv, "--time-column", "month"];
        let out = train_cli_on(home.path(), &dir, "flex", &[&data[..], args].concat());
        assert!(!out.status.success());
        let err = stderr(&out);
        for e in expected {
            assert!(err.contains(e), "{err}");
        }
        assert!(!dir.join("model.bpk").exists());
    }
}

/// Bound of the recurrent and transformer models' validation loss after 15 epochs:
/// untrained 1.08 (GRU), 1.20 (LSTM) and 1.86 (transformer), trained 0.18, 0.23 and
/// 0.055.
const RECURRENT_VALID_BOUND: f64 = 0.5;

/// The LSTM, GRU and transformer families learn the same windows; more than one
/// layer width is refused by name.
#[test]
fn lstm_gru_and_transformer_learn_the_windows_of_a_real_series() {
    let home = tempfile::tempdir().expect("temp dir");
    let csv = elnino();
    let csv = csv.to_str().expect("utf-8 path");
    for family in ["lstm", "gru", "transformer"] {
        let data = [&windows(csv)[..], &["--model", family]].concat();
        let (dir, trained, control) = trained_and_untrained(home.path(), family, &data, 15);
        learned(
            &format!("{family} validation loss of the windows"),
            trained,
            control,
            |loss| loss < RECURRENT_VALID_BOUND,
        );
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json")).expect("config written"),
        )
        .expect("JSON");
        assert_eq!(config["model"]["steps"], 24);
        match family {
            "transformer" => assert_eq!(config["model"]["kind"], "transformer"),
            cell => assert_eq!(config["model"]["cell"], cell),
        }
    }
    let out = train_cli_on(
        home.path(),
        &home.path().join("deep"),
        "flex",
        &[&windows(csv)[..], &["--model", "lstm", "--hidden", "32,16"]].concat(),
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--hidden 32,16: --model lstm has layers of one width"),
        "{err}"
    );
}

/// The rule that made `elnino-injected.csv` from `elnino.csv` (see the README there),
/// applied again: each month's temperature and its 0/1 anomaly label.
fn injected(months: &[(String, f64)]) -> Vec<(String, f64, u8)> {
    let at = |m: &str| months.iter().position(|(name, _)| name == m).unwrap_or(0);
    let mut out: Vec<(String, f64, u8)> = months.iter().map(|(m, v)| (m.clone(), *v, 0)).collect();
    // Spikes of +4 °C.
    for m in ["2001-03", "2008-05"] {
        out[at(m)].1 += 4.0;
        out[at(m)].2 = 1;
    }
    // A level shift of +2 °C for six months.
    for row in &mut out[at("2002-06")..=at("2002-11")] {
        row.1 += 2.0;
        row.2 = 1;
    }
    // A flat segment: January 2006's value held for nine months.
    let flat = months[at("2006-01")].1;
    for row in &mut out[at("2006-01")..=at("2006-09")] {
        row.1 = flat;
        row.2 = 1;
    }
    out
}

/// Bound of the AUROC of windows holding an injected anomaly against normal windows:
/// untrained 0.50, trained 0.975 (the PCA baseline: 0.946).
const INJECTED_AUROC_BOUND: f64 = 0.9;

/// Anomalies injected into the test years by a documented rule (spikes, a level shift,
/// a flat segment): a one-class conv1d model tells the windows that hold them from the
/// others, better than the PCA baseline on the same windows.
#[test]
fn injected_anomalies_in_a_real_series_are_found_better_than_by_pca() {
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/series");
    let read = |name: &str| std::fs::read_to_string(data_dir.join(name)).expect("the series reads");
    let months: Vec<(String, f64)> = read("elnino.csv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(m, v)| (m.to_string(), v.parse().unwrap_or(f64::NAN)))
        .collect();
    let expected: Vec<String> = injected(&months)
        .iter()
        .map(|(m, v, a)| format!("{m},{v:.3},{a}"))
        .collect();
    let file = read("elnino-injected.csv");
    assert_eq!(
        file.lines().skip(1).collect::<Vec<_>>(),
        expected,
        "the file follows its rule"
    );

    let home = tempfile::tempdir().expect("temp dir");
    let csv = data_dir.join("elnino-injected.csv");
    let data = [
        "--dataset",
        csv.to_str().expect("utf-8 path"),
        "--time-column",
        "month",
        "--label-column",
        "anomaly",
        "--classes",
        "0",
        "--window",
        "12",
        "--model",
        "conv1d",
        "--batch-size",
        "32",
    ];
    let (dir, _, _) = trained_and_untrained(home.path(), "injected", &data, 20);
    let report = |artifact: &Path| {
        let out = run(trainer(home.path())
            .args([
                "anomaly",
                "--backend",
                "flex",
                "--json",
                "--pca-baseline",
                "--artifact",
            ])
            .arg(artifact));
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let (trained, control) = (
        report(&dir),
        report(&home.path().join("injected-untrained")),
    );
    let auroc = |r: &serde_json::Value| r["auroc"].as_f64().unwrap_or(f64::NAN);
    learned(
        "AUROC of the windows holding an injected anomaly",
        auroc(&trained),
        auroc(&control),
        |a| a > INJECTED_AUROC_BOUND,
    );
    // 135 test windows of 12 months: 61 hold an injected month.
    assert_eq!(trained["test_anomalous"], 61);
    assert_eq!(trained["test_normal"], 74);
    let pca = trained["pca_auroc"].as_f64().unwrap_or(f64::NAN);
    assert!((0.5..auroc(&trained)).contains(&pca), "PCA baseline {pca}");
}

/// Bound of the denoised windows' error over the noisy windows' (gaussian σ = 0.5 on
/// the standardised temperatures): 0.31 trained with that noise, 4.2 untrained.
const DENOISED_RATIO_BOUND: f64 = 0.6;

/// A conv1d trained on noisy windows takes the noise out of noisy test windows; the
/// noise is added to the standardised values as they are, not clamped as pixels are.
#[test]
fn a_denoising_model_takes_noise_out_of_a_real_series() {
    let home = tempfile::tempdir().expect("temp dir");
    let csv = elnino();
    let csv = csv.to_str().expect("utf-8 path");
    let noise = ["--noise", "gaussian:0.5"];
    let data = [&windows(csv)[..], &["--model", "conv1d"], &noise[..]].concat();
    let (dir, _, _) = trained_and_untrained(home.path(), "denoising", &data, 40);
    let ratio = |dir: &Path| {
        let out = run(trainer(home.path())
            .args(["denoise", "--json", "--backend", "flex", "--artifact"])
            .arg(dir)
            .args(noise));
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(report["samples"], 123, "the test windows");
        assert!(
            report.get("psnr_noisy_db").is_none(),
            "no PSNR for a series"
        );
        let noisy = report["mse_noisy"].as_f64().unwrap_or(f64::NAN);
        // σ² of noise that nothing clamped.
        assert!((noisy - 0.25).abs() < 0.03, "noisy MSE {noisy}");
        report["mse_denoised"].as_f64().unwrap_or(f64::NAN) / noisy
    };
    learned(
        "denoised over noisy MSE of test windows",
        ratio(&dir),
        ratio(&home.path().join("denoising-untrained")),
        |r| r < DENOISED_RATIO_BOUND,
    );
}

/// A series in a `.npy` array (steps × channels) is read as the same series in a CSV:
/// the same windows, split alike, train to the same losses at one seed.
#[test]
fn a_npy_series_trains_as_the_same_csv_series() {
    let home = tempfile::tempdir().expect("temp dir");
    let csv = elnino();
    let text = std::fs::read_to_string(&csv).expect("the series reads");
    let values: Vec<f32> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(',').and_then(|(_, v)| v.parse().ok()))
        .collect();
    assert_eq!(values.len(), 732, "every month");
    let npy = home.path().join("elnino.npy");
    ae_data::npy::write(&npy, &values, &[values.len(), 1]).expect("writes");
    let losses = |data: &[&str], name: &str| {
        let dir = home.path().join(name);
        let rest = ["--window", "24", "--batch-size", "32", "--epochs", "3"];
        let out = train_cli_on(home.path(), &dir, "flex", &[data, &rest[..]].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let m = metrics(&dir);
        (0..3)
            .flat_map(|e| ["train", "valid"].map(|split| epoch_value(&m, e, split, "Loss")))
            .collect::<Vec<f64>>()
    };
    let from_csv = losses(
        &[
            "--dataset",
            csv.to_str().expect("utf-8"),
            "--time-column",
            "month",
        ],
        "csv",
    );
    let from_npy = losses(&["--dataset", npy.to_str().expect("utf-8")], "npy");
    assert!(from_csv.iter().all(|l| l.is_finite()), "{from_csv:?}");
    for (a, b) in from_csv.iter().zip(&from_npy) {
        assert!(
            (a - b).abs() < 1e-5 * a.abs().max(1.0),
            "{from_csv:?} vs {from_npy:?}"
        );
    }
}
