//! Trained models put to work: embeddings, search, pictures, rate–distortion, anomaly
//! detection, denoising, a VAE's likelihood and samples, transfer learning.

use super::*;

/// Runs `trainer COMMAND --artifact DIR ARGS --backend ndarray` and returns its output.
fn use_artifact(home: &Path, command: &str, dir: &Path, args: &[&str]) -> Output {
    run(trainer(home)
        .arg(command)
        .arg("--artifact")
        .arg(dir)
        .args(args)
        .args(["--backend", "ndarray"]))
}

/// The JSON a successful command printed.
fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("the command prints JSON")
}

/// The MLP autoencoder of these tests: 4 epochs of the sample through 784-128-16.
const SAMPLE_MLP: [&str; 8] = [
    "--dataset",
    "fashion-mnist-sample",
    "--epochs",
    "4",
    "--hidden",
    "128",
    "--latent",
    "16",
];

/// Trains `args` into `home/name` and returns the folder.
fn trained_into(home: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let dir = home.join(name);
    let out = train_cli(home, &dir, args);
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

/// A copy in `home/mlp` of the MLP autoencoder trained on the sample (every class
/// unless `extra` says), trained once per test run.
fn sample_mlp(home: &Path, extra: &[&str]) -> std::path::PathBuf {
    let name = format!("sample-mlp{}", extra.join("-"));
    let dir = shared::model(&name, "ndarray", &[&SAMPLE_MLP[..], extra].concat());
    shared::copy(&dir, home, "mlp")
}

/// A copy in `home/untrained` of the untrained control of `sample_mlp(home, extra)`.
fn untrained_mlp(home: &Path, extra: &[&str]) -> std::path::PathBuf {
    let name = format!("untrained-sample-mlp{}", extra.join("-"));
    let dir = shared::model(
        &name,
        "ndarray",
        &untrained(&[&SAMPLE_MLP[..], extra].concat()),
    );
    shared::copy(&dir, home, "untrained")
}

/// The first `n` values of an `.npy` file's little-endian `f32` data, widened.
fn npy_first_codes(data: &[u8], n: usize) -> Vec<f64> {
    data[..4 * n]
        .chunks(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect()
}

/// `.npy` header of a file: its dict text.
fn npy_header(path: &Path) -> (String, Vec<u8>) {
    let bytes = std::fs::read(path).expect("npy written");
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8_lossy(&bytes[10..10 + len]).into_owned();
    (header, bytes[10 + len..].to_vec())
}

#[test]
fn embed_search_and_interpolate_work_on_any_autoencoder() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = sample_mlp(home.path(), &[]);

    let out = use_artifact(home.path(), "embed", &dir, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (header, data) = npy_header(&dir.join("test-codes.npy"));
    assert!(
        header.contains("'<f4'") && header.contains("(1000, 16)"),
        "{header}"
    );
    assert_eq!(data.len(), 1000 * 16 * 4);
    let (header, labels) = npy_header(&dir.join("test-codes-labels.npy"));
    assert!(header.contains("(1000,)"), "{header}");
    let csv = std::fs::read_to_string(dir.join("test-codes.csv")).expect("csv written");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1001);
    assert!(lines[0].starts_with("label,z0,z1,") && lines[0].ends_with(",z15"));
    // The CSV and the .npy hold the same codes and labels.
    let first: Vec<f32> = lines[1]
        .split(',')
        .skip(1)
        .map(|v| v.parse().expect("number"))
        .collect();
    let npy_first: Vec<f32> = data[..64]
        .chunks(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(first, npy_first);
    assert_eq!(
        lines[1].split(',').next(),
        Some(labels[0].to_string().as_str())
    );
    assert!(
        first.iter().any(|&v| v != first[0]),
        "codes vary: {first:?}"
    );

    // Neighbours in code space: exactly the k nearest training codes by cosine
    // distance, nearest first, computed here from the codes `embed` writes.
    let png = home.path().join("strip.png");
    let png_arg = png.to_str().expect("utf-8 temp path");
    let hits = json(&use_artifact(
        home.path(),
        "search",
        &dir,
        &[
            "--query",
            "3",
            "--k",
            "5",
            "--distance",
            "cosine",
            "--json",
            "--png",
            png_arg,
        ],
    ));
    let label = hits["query_label"].as_u64().expect("label");
    let neighbours = hits["neighbours"].as_array().expect("neighbours");
    assert_eq!(neighbours.len(), 5);
    let distances: Vec<f64> = neighbours
        .iter()
        .map(|n| n["distance"].as_f64().expect("distance"))
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    let out = use_artifact(home.path(), "embed", &dir, &["--split", "train"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let train = ae_data::npy::read(&dir.join("train-codes.npy")).expect("train codes");
    let train_labels =
        ae_data::npy::read(&dir.join("train-codes-labels.npy")).expect("train labels");
    let dim = train.shape[1];
    let query: Vec<f64> = npy_first_codes(&data, 4 * dim)[3 * dim..].to_vec();
    let cosine = |row: &[f64]| {
        let dot: f64 = row.iter().zip(&query).map(|(a, b)| a * b).sum();
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        1.0 - dot / (norm(row) * norm(&query))
    };
    let mut expected: Vec<(usize, f64)> =
        train.values.chunks(dim).map(cosine).enumerate().collect();
    expected.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (n, &(index, distance)) in neighbours.iter().zip(&expected) {
        assert_eq!(n["index"].as_u64(), Some(index as u64), "{neighbours:?}");
        assert!((n["distance"].as_f64().unwrap_or(f64::NAN) - distance).abs() < 1e-4);
        assert_eq!(n["label"].as_u64(), Some(train_labels.values[index] as u64));
    }
    assert!(label < 10);
    assert_eq!(png_size(&png), (6 * 30 + 2, 30 + 2));
    let out = use_artifact(home.path(), "search", &dir, &["--query", "1000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("1000 samples"), "{}", stderr(&out));

    let out = use_artifact(
        home.path(),
        "interpolate",
        &dir,
        &["--pairs", "0:1,2:3", "--points", "5"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        png_size(&dir.join("interpolate.png")),
        (7 * 30 + 2, 2 * 30 + 2)
    );
    let out = use_artifact(home.path(), "capsules", &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("need a capsule autoencoder"),
        "{}",
        stderr(&out)
    );

    // Pictures: the loss curve written by train, a t-SNE map of the 16-d codes, filters.
    assert!(dir.join("loss.png").is_file());
    let out = use_artifact(
        home.path(),
        "latent",
        &dir,
        &["--limit", "300", "--iterations", "300"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("t-SNE of the 16-d codes"));
    assert_eq!(png_size(&dir.join("latent.png")), (900, 640));
    let umap = ["--limit", "300", "--method", "umap", "--epochs", "50"];
    let out = use_artifact(home.path(), "latent", &dir, &umap);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("UMAP of the 16-d codes, 15 neighbours"));
    let out = use_artifact(
        home.path(),
        "latent",
        &dir,
        &[&umap[..], &["--neighbours", "1"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("neighbours = 1 for 300 points"),
        "{}",
        stderr(&out)
    );
    let out = use_artifact(home.path(), "filters", &dir, &["--units", "16"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(png_size(&dir.join("filters.png")), (4 * 30 + 2, 4 * 30 + 2));
    let out = use_artifact(home.path(), "filters", &dir, &["--by-activity"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("without hidden layers"),
        "{}",
        stderr(&out)
    );

    // Rate–distortion: 8-bit codes lose little against the unquantised PSNR.
    let exact = json(&use_artifact(home.path(), "eval", &dir, &["--json"]))["psnr_db"]
        .as_f64()
        .expect("psnr");
    let points = json(&use_artifact(
        home.path(),
        "compress",
        &dir,
        &["--jpeg", "10,90", "--json"],
    ));
    let points = points.as_array().expect("points");
    assert_eq!(
        points.len(),
        7,
        "autoencoder, PCA, 2 JPEG, 2 JPEG payload, PNG"
    );
    let field = |i: usize, f: &str| points[i][f].as_f64().unwrap_or(f64::NAN);
    assert_eq!(
        (field(0, "bits_per_image"), field(1, "bits_per_image")),
        (128.0, 128.0)
    );
    assert!(
        (field(0, "psnr_db") - exact).abs() < 0.3,
        "{} vs {exact}",
        field(0, "psnr_db")
    );
    assert!(
        field(3, "psnr_db") > field(2, "psnr_db")
            && field(3, "bits_per_image") > field(2, "bits_per_image")
    );
    assert!(
        field(4, "bits_per_image") < field(2, "bits_per_image"),
        "payload < file"
    );
    assert_eq!(points[6]["method"], "PNG");
    assert!(dir.join("rate-distortion.png").is_file());

    // The commands of a prior or a likelihood refuse a plain autoencoder, before any
    // work.
    for (command, args, expected) in [
        ("sample", vec!["--manifold", "5"], "which has none"),
        ("eval", vec!["--nll", "10"], "variational"),
        (
            "anomaly",
            vec!["--normal", "0", "--score", "elbo"],
            "variational",
        ),
        ("anomaly", vec![], "--normal"),
    ] {
        let out = use_artifact(home.path(), command, &dir, &args);
        assert_eq!(out.status.code(), Some(1), "{command} {args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{command}: {}",
            stderr(&out)
        );
    }
}

/// Bound of the denoising test: PSNR gained on the sample's test images under
/// gaussian:0.3 noise by a 784-256-64 MLP trained 10 epochs with that noise, against
/// the same model trained on clean images, which denoises some too (measured: 3.82 dB
/// and 2.64 dB).
const DENOISING_GAIN_BOUND: f64 = 3.5;

#[test]
fn a_denoising_autoencoder_denoises_from_the_command_line() {
    let home = tempfile::tempdir().expect("temp dir");
    let model = [
        "--dataset",
        "fashion-mnist-sample",
        "--epochs",
        "10",
        "--hidden",
        "256",
        "--latent",
        "64",
        "--batch-size",
        "64",
    ];
    let dae = trained_into(
        home.path(),
        "dae",
        &[&model[..], &["--noise", "gaussian:0.3"]].concat(),
    );
    let plain = trained_into(home.path(), "plain", &model);
    let gain = |dir: &Path| {
        let report = json(&use_artifact(
            home.path(),
            "denoise",
            dir,
            &["--noise", "gaussian:0.3", "--json"],
        ));
        let db = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
        db("psnr_denoised_db") - db("psnr_noisy_db")
    };
    learned(
        "PSNR gained on noisy test images: trained with the noise, against trained without",
        gain(&dae),
        gain(&plain),
        |db| db > DENOISING_GAIN_BOUND,
    );
    assert!(dae.join("denoise.png").is_file());
    let out = use_artifact(home.path(), "denoise", &dae, &["--noise", "none"]);
    assert_eq!(out.status.code(), Some(1));
}

/// Bounds of the VAE test, between the untrained control and the trained model: NLL
/// 548 nats untrained, 290 trained; linear probe trained to convergence (C = 1) 0.670
/// and 0.734, by 30 epochs of Adam 0.662 and 0.708.
const NLL_BOUND: f64 = 350.0;
const PROBE_BOUND: f64 = 0.685;
const ELBO_AUROC_BOUND: f64 = 0.75;

#[test]
fn a_vae_reports_its_likelihood_and_code_quality_and_samples() {
    let home = tempfile::tempdir().expect("temp dir");
    let args = [
        "--dataset",
        "fashion-mnist-sample",
        "--model",
        "vae",
        "--epochs",
        "3",
    ];
    let dir = trained_into(home.path(), "vae", &args);
    let control = trained_into(home.path(), "untrained", &untrained(&args));
    let eval = |dir: &Path| {
        json(&use_artifact(
            home.path(),
            "eval",
            dir,
            &[
                "--json",
                "--nll",
                "20",
                "--probe",
                "--trustworthiness",
                "200",
            ],
        ))
    };
    let (report, initial) = (eval(&dir), eval(&control));
    let nll = |r: &serde_json::Value| r["nll"]["nats"].as_f64().unwrap_or(f64::NAN);
    let bound = report["nll"]["negative_elbo"].as_f64().expect("elbo");
    assert!(
        nll(&report) < bound,
        "NLL {} above its bound {bound}",
        nll(&report)
    );
    // An untrained VAE scores ≈ 784 ln 2 ≈ 543 nats.
    learned("NLL (nats)", nll(&report), nll(&initial), |nll| {
        nll > 100.0 && nll < NLL_BOUND
    });
    let probe = |r: &serde_json::Value| r["linear_probe"].as_f64().unwrap_or(f64::NAN);
    learned("linear probe", probe(&report), probe(&initial), |p| {
        p > PROBE_BOUND
    });
    // --probe trains to convergence (scikit-learn's default objective, C = 1);
    // --probe-adam by 30 epochs of Adam, as quick looks do.
    assert_eq!(report["linear_probe_fit"], "L-BFGS to convergence, C = 1");
    let adam = |dir: &Path| {
        let r = json(&use_artifact(
            home.path(),
            "eval",
            dir,
            &["--json", "--probe-adam"],
        ));
        assert_eq!(r["linear_probe_fit"], "30 epochs of Adam");
        probe(&r)
    };
    learned(
        "Adam-trained linear probe",
        adam(&dir),
        adam(&control),
        |p| p > PROBE_BOUND,
    );
    let trust = |r: &serde_json::Value| r["trustworthiness"]["value"].as_f64().unwrap_or(f64::NAN);
    // Trustworthiness is no test of learning: the untrained encoder, a random
    // projection, keeps the neighbourhoods as well (0.965 both). It is checked to be
    // computed, within its range, alike for both.
    let (t, t0) = (trust(&report), trust(&initial));
    assert!(
        t > 0.8 && t <= 1.0 && (t - t0).abs() < 0.05,
        "trustworthiness {t}, untrained {t0}"
    );
    let out = use_artifact(home.path(), "sample", &dir, &["--n", "9", "--seed", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("sample-3.png").is_file());
    let out = use_artifact(home.path(), "sample", &dir, &["--manifold", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("2-d code"), "{}", stderr(&out));
    let auroc = |dir: &Path| {
        json(&use_artifact(
            home.path(),
            "anomaly",
            dir,
            &["--normal", "1", "--score", "elbo", "--json"],
        ))["auroc"]
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    learned("ELBO-score AUROC", auroc(&dir), auroc(&control), |a| {
        a > ELBO_AUROC_BOUND
    });
}

mod anomaly;
mod transfer;
