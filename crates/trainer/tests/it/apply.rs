//! A trained model on new files: `encode`, `reconstruct` and `score` on IDX images,
//! CSV and `.npy` tables, checked against the artifact's own `embed` and `anomaly`
//! figures on the same rows.

use super::*;

/// Runs `trainer ARGS --backend flex` and returns its output, which must succeed.
fn ok(home: &Path, args: &[&str]) -> Output {
    let out = run(trainer(home).args(args).args(["--backend", "flex"]));
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// Runs `trainer ARGS --backend flex`, which must fail; returns its error.
fn fails(home: &Path, args: &[&str]) -> String {
    let out = run(trainer(home).args(args).args(["--backend", "flex"]));
    assert!(!out.status.success(), "succeeded: {args:?}");
    stderr(&out)
}

/// `trainer WHAT --artifact ARTIFACT --input INPUT --out OUT`'s arguments.
fn cmd<'a>(what: &'a str, artifact: &'a str, input: &'a Path, out: &'a str) -> Vec<&'a str> {
    let input = input.to_str().expect("a UTF-8 path");
    vec![what, "--artifact", artifact, "--input", input, "--out", out]
}

fn npy(path: &Path) -> ae_data::npy::NpyArray {
    ae_data::npy::read(path).expect("a .npy file")
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max);
    assert!(worst <= tol, "{what}: differ by {worst:e}");
}

/// The scores column of a scores CSV, and its anomalous column.
fn scores_csv(path: &Path) -> (Vec<f64>, Vec<bool>) {
    let mut reader = csv::Reader::from_path(path).expect("scores CSV");
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header, vec!["index", "score", "anomalous"]);
    let (mut scores, mut flags) = (Vec::new(), Vec::new());
    for (i, record) in reader.records().enumerate() {
        let record = record.expect("a record");
        assert_eq!(record[0].parse::<usize>().expect("index"), i);
        scores.push(record[1].parse::<f64>().expect("score"));
        flags.push(&record[2] == "1");
    }
    (scores, flags)
}

/// Writes `rows` of `header` as CSV, the columns in `order`.
fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>], order: &[usize]) {
    let mut text = order
        .iter()
        .map(|&j| header[j].as_str())
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for row in rows {
        let fields: Vec<&str> = order.iter().map(|&j| row[j].as_str()).collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).expect("write CSV");
}

/// A table model meets new rows: the codes of a CSV file equal `embed`'s codes of the
/// same rows, in any column order, from CSV and `.npy` alike and at any batch size;
/// scores give `anomaly`'s AUROC on those rows and its saved threshold's decisions;
/// per-feature errors add up to the scores; bad files are named and leave nothing.
#[test]
fn new_table_rows_are_encoded_and_scored_as_the_artifact_does() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let source = breast_cancer();
    let mut reader = csv::Reader::from_path(&source).expect("breast-cancer.csv");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect();
    let all: Vec<usize> = (0..header.len()).collect();
    let (train, test) = (h.join("train.csv"), h.join("test.csv"));
    write_csv(&train, &header, &rows[..400], &all);
    write_csv(&test, &header, &rows[400..], &all);
    let dir = h.join("bc");
    let files = [train.to_str(), test.to_str()].map(|p| p.expect("utf-8"));
    train_benign(h, &dir, &["--dataset", files[0], "--test-file", files[1]]);
    let artifact = dir.to_str().expect("utf-8");

    // Codes: embed's of the test split, and encode's of the test file.
    ok(h, &["embed", "--artifact", artifact, "--split", "test"]);
    let embedded = npy(&dir.join("test-codes.npy"));
    ok(h, &cmd("encode", artifact, &test, "codes.npy"));
    let encoded = npy(&h.join("codes.npy"));
    assert_eq!(encoded.shape, embedded.shape);
    close(
        &encoded.values,
        &embedded.values,
        1e-5,
        "codes against embed",
    );

    // The columns reversed (label first, features backwards): the same codes, also
    // by CSV output and at a batch size that cuts the file into uneven batches.
    let reversed: Vec<usize> = (0..header.len()).rev().collect();
    let shuffled = h.join("shuffled.csv");
    write_csv(&shuffled, &header, &rows[400..], &reversed);
    ok(
        h,
        &[
            &cmd("encode", artifact, &shuffled, "codes.csv"),
            &["--batch-size", "7"][..],
        ]
        .concat(),
    );
    let mut csv_codes = Vec::new();
    let mut r = csv::Reader::from_path(h.join("codes.csv")).expect("codes CSV");
    assert_eq!(r.headers().expect("header").get(0), Some("z0"));
    for record in r.records() {
        csv_codes.extend(
            record
                .expect("record")
                .iter()
                .map(|v| v.parse::<f64>().expect("number")),
        );
    }
    close(
        &csv_codes,
        &embedded.values,
        1e-5,
        "codes of reordered columns",
    );

    // The same rows as .npy (no names: taken by position, label left out).
    let features: Vec<f32> = rows[400..]
        .iter()
        .flat_map(|row| {
            row.iter()
                .zip(&header)
                .filter(|(_, name)| name.as_str() != "diagnosis")
                .map(|(v, _)| v.parse::<f32>().expect("number"))
                .collect::<Vec<_>>()
        })
        .collect();
    let npy_in = h.join("test.npy");
    let mut writer = ae_data::NpyWriter::create(&npy_in, 30).expect("create");
    writer.push(&features).expect("push");
    writer.finish().expect("finish");
    ok(h, &cmd("encode", artifact, &npy_in, "codes2.npy"));
    close(
        &npy(&h.join("codes2.npy")).values,
        &embedded.values,
        1e-5,
        "codes from .npy",
    );

    // Scores: anomaly stores its threshold; score judges the test file by it, and the
    // scores rank malignant above benign exactly as anomaly measured.
    let out = ok(
        h,
        &["anomaly", "--artifact", artifact, "--fpr", "0.1", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("threshold.json")).expect("threshold saved"),
    )
    .expect("JSON");
    assert_eq!(saved["value"], report["threshold"]);
    ok(
        h,
        &[
            &cmd("score", artifact, &shuffled, "scores.csv"),
            &["--errors", "errors.csv"][..],
        ]
        .concat(),
    );
    let (scores, flags) = scores_csv(&h.join("scores.csv"));
    let malignant: Vec<bool> = rows[400..]
        .iter()
        .map(|r| r[header.iter().position(|c| c == "diagnosis").expect("label")] == "malignant")
        .collect();
    let auroc = ae_analysis::auroc(&scores, &malignant).expect("both classes");
    let expected = report["auroc"].as_f64().expect("auroc");
    assert!(
        (auroc - expected).abs() < 1e-6,
        "AUROC {auroc}, anomaly said {expected}"
    );
    let threshold = report["threshold"].as_f64().expect("threshold");
    for (s, f) in scores.iter().zip(&flags) {
        assert_eq!(
            *f,
            *s > threshold,
            "score {s} against threshold {threshold}"
        );
    }
    // Errors: a column per feature, named as in training, adding up to the score.
    let mut r = csv::Reader::from_path(h.join("errors.csv")).expect("errors CSV");
    assert_eq!(r.headers().expect("header").get(0), Some("mean radius"));
    for (record, score) in r.records().zip(&scores) {
        let sum: f64 = record
            .expect("record")
            .iter()
            .map(|v| v.parse::<f64>().expect("number"))
            .sum();
        assert!(
            (sum - score).abs() <= 1e-4 * score.max(1.0),
            "errors sum {sum}, score {score}"
        );
    }

    // Reconstructions come back in the file's units: near the inputs for a trained
    // model (the standardised error is the score).
    ok(h, &cmd("reconstruct", artifact, &npy_in, "recon.npy"));
    let recon = npy(&h.join("recon.npy"));
    assert_eq!(recon.shape, [rows.len() - 400, 30]);
    let area = 3; // "mean area", in the hundreds
    let mean_area: f64 =
        recon.values.iter().skip(area).step_by(30).sum::<f64>() / recon.shape[0] as f64;
    assert!(
        (200.0..2000.0).contains(&mean_area),
        "mean area {mean_area}"
    );
    // Every input kind through every command: the reordered CSV reconstructs to the
    // same values, under the training columns' names, and the .npy scores the same.
    ok(h, &cmd("reconstruct", artifact, &shuffled, "recon.csv"));
    let mut r = csv::Reader::from_path(h.join("recon.csv")).expect("reconstructions CSV");
    assert_eq!(r.headers().expect("header").get(3), Some("mean area"));
    let from_csv: Vec<f64> = r
        .records()
        .flat_map(|rec| {
            rec.expect("record")
                .iter()
                .map(|v| v.parse::<f64>().expect("number"))
                .collect::<Vec<_>>()
        })
        .collect();
    close(
        &from_csv,
        &recon.values,
        1e-5,
        "reconstructions of CSV and .npy",
    );
    ok(h, &cmd("score", artifact, &npy_in, "scores-npy.csv"));
    let (npy_scores, npy_flags) = scores_csv(&h.join("scores-npy.csv"));
    close(&npy_scores, &scores, 1e-5, "scores of .npy and CSV");
    assert_eq!(npy_flags, flags);

    // Bad files: named, and no output left behind.
    let bad = h.join("broken.csv");
    let mut without = all.clone();
    without.retain(|&j| header[j] != "mean texture");
    write_csv(&bad, &header, &rows[400..410], &without);
    let err = fails(h, &cmd("encode", artifact, &bad, "bad.npy"));
    assert!(err.contains("'mean texture' is missing"), "{err}");
    let mut extra_header = header.clone();
    extra_header.push("notes".into());
    let extra_rows: Vec<Vec<String>> = rows[400..410]
        .iter()
        .map(|r| [r.clone(), vec!["1".into()]].concat())
        .collect();
    write_csv(
        &bad,
        &extra_header,
        &extra_rows,
        &(0..extra_header.len()).collect::<Vec<_>>(),
    );
    let err = fails(h, &cmd("encode", artifact, &bad, "bad.npy"));
    assert!(
        err.contains("'notes' is not one of the model's columns"),
        "{err}"
    );
    let mut broken = rows[400..].to_vec();
    let last = broken.len() - 1;
    broken[last][5] = "n/a".into();
    write_csv(&bad, &header, &broken, &all);
    let err = fails(
        h,
        &[
            &cmd("score", artifact, &bad, "bad.csv"),
            &["--batch-size", "16"][..],
        ]
        .concat(),
    );
    assert!(
        err.contains(&format!("line {}, column 5: 'n/a'", last + 2)),
        "{err}"
    );
    assert!(
        !h.join("bad.csv").exists() && !h.join("bad.npy").exists(),
        "a half-written output"
    );
    let leftovers: Vec<_> = std::fs::read_dir(h)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let err = fails(h, &cmd("encode", artifact, &test, "codes.npy"));
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    let err = fails(
        h,
        &[
            &cmd("score", artifact, &test, "s2.csv"),
            &["--png", "x.png"][..],
        ]
        .concat(),
    );
    assert!(err.contains("this input is a table"), "{err}");
    let err = fails(
        h,
        &[
            &cmd("score", artifact, &test, "s3.csv"),
            &["--points", "p.csv"][..],
        ]
        .concat(),
    );
    assert!(err.contains("not trained on windows"), "{err}");

    // The density score: anomaly stores the fitted mixture with its threshold, and
    // score judges new rows by it — the same AUROC and the same decisions.
    let out = ok(
        h,
        &[
            "anomaly",
            "--artifact",
            artifact,
            "--score",
            "density",
            "--components",
            "2",
            "--fpr",
            "0.1",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["score"], "density");
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("threshold.json")).expect("threshold saved"),
    )
    .expect("JSON");
    assert_eq!(saved["score"], "density");
    assert_eq!(
        saved["density"]["weights"].as_array().map(Vec::len),
        Some(2)
    );
    ok(h, &cmd("score", artifact, &shuffled, "density.csv"));
    let (scores, flags) = scores_csv(&h.join("density.csv"));
    let auroc = ae_analysis::auroc(&scores, &malignant).expect("both classes");
    let expected = report["auroc"].as_f64().expect("auroc");
    assert!(
        (auroc - expected).abs() < 1e-6,
        "density AUROC {auroc}, anomaly said {expected}"
    );
    let threshold = report["threshold"].as_f64().expect("threshold");
    assert!(
        scores
            .iter()
            .zip(&flags)
            .all(|(s, f)| *f == (*s > threshold))
    );
    // A threshold file that names the density without one is refused by name.
    let mut broken = saved.clone();
    broken.as_object_mut().expect("object").remove("density");
    std::fs::write(dir.join("threshold.json"), broken.to_string()).expect("write");
    let err = fails(h, &cmd("score", artifact, &shuffled, "none.csv"));
    assert!(
        err.contains("threshold.json") && err.contains("no fitted density"),
        "{err}"
    );
}

/// An image model meets an IDX file (raw and gzip): codes equal `embed`'s, scores
/// give `anomaly`'s AUROC and threshold decisions, and the pictures are drawn.
#[test]
fn new_idx_images_are_encoded_scored_and_drawn() {
    use std::io::Write;
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let dir = h.join("mlp");
    let one_class = [
        "--dataset",
        "fashion-mnist-sample",
        "--classes",
        "0",
        "--epochs",
        "1",
        "--hidden",
        "16",
        "--latent",
        "4",
    ];
    let out = train_cli_on(h, &dir, "flex", &one_class);
    assert!(out.status.success(), "{}", stderr(&out));
    let artifact = dir.to_str().expect("utf-8");

    let data = ae_data::sample::load().expect("the embedded sample");
    let images = data.test.as_images().expect("images").clone();
    let raw = ae_data::idx::encode_images(&images);
    let idx = h.join("new-images-idx3-ubyte");
    std::fs::write(&idx, &raw).expect("write");
    let gz = h.join("new-images-idx3-ubyte.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");

    ok(h, &["embed", "--artifact", artifact, "--split", "test"]);
    let embedded = npy(&dir.join("test-codes.npy"));
    for (input, name) in [(&idx, "a.npy"), (&gz, "b.npy")] {
        ok(
            h,
            &[
                "encode",
                "--artifact",
                artifact,
                "--input",
                input.to_str().expect("utf-8"),
                "--out",
                name,
            ],
        );
        let codes = npy(&h.join(name));
        assert_eq!(codes.shape, embedded.shape);
        close(&codes.values, &embedded.values, 1e-5, "codes against embed");
    }

    let out = ok(
        h,
        &[
            "anomaly",
            "--artifact",
            artifact,
            "--normal",
            "0",
            "--fpr",
            "0.2",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    ok(
        h,
        &[
            &cmd("score", artifact, &gz, "scores.csv"),
            &["--errors", "errors.npy", "--png", "heat.png"][..],
        ]
        .concat(),
    );
    let (scores, flags) = scores_csv(&h.join("scores.csv"));
    let anomalous: Vec<bool> = data.test.labels.iter().map(|&l| l != 0).collect();
    let auroc = ae_analysis::auroc(&scores, &anomalous).expect("both");
    let expected = report["auroc"].as_f64().expect("auroc");
    assert!(
        (auroc - expected).abs() < 1e-6,
        "AUROC {auroc}, anomaly said {expected}"
    );
    let threshold = report["threshold"].as_f64().expect("threshold");
    assert!(
        flags
            .iter()
            .zip(&scores)
            .all(|(f, s)| *f == (*s > threshold))
    );
    let errors = npy(&h.join("errors.npy"));
    assert_eq!(errors.shape, [images.count, 784]);
    let first: f64 = errors.values[..784].iter().sum();
    assert!((first - scores[0]).abs() <= 1e-4 * scores[0].max(1.0));

    ok(
        h,
        &[
            &cmd("reconstruct", artifact, &idx, "recon.npy"),
            &["--png", "recon.png"][..],
        ]
        .concat(),
    );
    for picture in ["heat.png", "recon.png"] {
        let file = std::fs::File::open(h.join(picture)).expect("a picture");
        let info = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .expect("a PNG")
            .info()
            .clone();
        // 32 samples: 4 pairs of rows of 8 images of 28 pixels, 2 between and around.
        assert_eq!(
            (info.width, info.height),
            (8 * 30 + 2, 8 * 30 + 2),
            "{picture}"
        );
    }
    let recon = npy(&h.join("recon.npy"));
    let inputs: Vec<f64> = images
        .pixels
        .iter()
        .map(|&p| f64::from(p) / 255.0)
        .collect();
    let sq: f64 = recon.values[..784]
        .iter()
        .zip(&inputs[..784])
        .map(|(r, x)| (r - x).powi(2))
        .sum();
    assert!(
        (sq - scores[0]).abs() <= 1e-4 * scores[0].max(1.0),
        "recon error {sq}, score {}",
        scores[0]
    );

    // An IDX file of another size is refused with both sizes.
    let small = ae_data::Images::grey(2, 8, 8, vec![0; 128]);
    std::fs::write(h.join("small-idx"), ae_data::idx::encode_images(&small)).expect("write");
    let err = fails(
        h,
        &[
            "encode",
            "--artifact",
            artifact,
            "--input",
            "small-idx",
            "--out",
            "s.npy",
        ],
    );
    assert!(
        err.contains("8×8 = 64 pixels") && err.contains("784"),
        "{err}"
    );
}
