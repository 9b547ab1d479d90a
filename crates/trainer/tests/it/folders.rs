//! Your own images: real Fashion-MNIST images written out as a folder of PNG files
//! (class subfolders, train/ and test/) train as the IDX files do.

use super::*;

/// Writes the images of `split` as `dir/<class name>/<index>.png`.
fn write_pngs(dir: &Path, split: &ae_data::Split, classes: &[String]) {
    let images = split.as_images().expect("images");
    for i in 0..images.count {
        // "T-shirt/top" would be two folders.
        let class = classes[usize::from(split.labels[i])].replace('/', "-");
        let path = dir.join(class).join(format!("{i:05}.png"));
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        let file = std::fs::File::create(&path).expect("create");
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            images.cols as u32,
            images.rows as u32,
        );
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("header");
        writer.write_image_data(images.image(i)).expect("pixels");
    }
}

fn test_mse(home: &Path, dir: &Path) -> f64 {
    let out = run(trainer(home)
        .args(["eval", "--json", "--backend", "ndarray", "--artifact"])
        .arg(dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    report["mse_per_pixel"].as_f64().unwrap_or(f64::NAN)
}

/// The embedded sample (4,000 training and 1,000 test images of Fashion-MNIST) as a
/// PNG folder: the same classes and splits, and a model trained on it reaches the
/// test MSE of the same model trained on the IDX files (the two differ only in the
/// order the images are read, hence in the shuffled batches).
#[test]
fn a_folder_of_real_png_images_trains_as_the_idx_files_do() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let data = ae_data::sample::load().expect("the embedded sample");
    let root = h.join("fashion-png");
    write_pngs(&root.join("train"), &data.train, &data.classes);
    write_pngs(&root.join("test"), &data.test, &data.classes);

    let model = ["--epochs", "2", "--hidden", "64", "--latent", "8"];
    let idx = h.join("idx");
    let out = train_cli(
        h,
        &idx,
        &[&["--dataset", "fashion-mnist-sample"][..], &model].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = h.join("folder");
    let root_arg = root.to_str().expect("utf-8");
    let out = train_cli(h, &folder, &[&["--dataset", root_arg][..], &model].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("4000 train / 1000 test"), "{stdout}");

    // The folder's classes are the data set's names, in sorted order.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("config.json")).expect("config"))
            .expect("JSON");
    assert!(
        config["dataset"]["folder"]
            .as_str()
            .is_some_and(|f| f.ends_with("fashion-png"))
    );
    let (a, b) = (test_mse(h, &idx), test_mse(h, &folder));
    println!("test MSE: IDX {a}, PNG folder {b}");
    assert!(
        (a - b).abs() <= 0.05 * a,
        "IDX {a} against the folder's {b}"
    );
    // New image files meet the model as its training images did: the codes of the
    // test folder are `embed`'s codes of the test split, row by row, each row's file
    // listed beside them.
    let folder_arg = folder.to_str().expect("utf-8");
    let ndarray = ["--backend", "ndarray"];
    let ok = |args: &[&str]| {
        let out = run(trainer(h).args(args).args(ndarray));
        assert!(out.status.success(), "{}", stderr(&out));
    };
    ok(&["embed", "--artifact", folder_arg, "--split", "test"]);
    let test_dir = root.join("test");
    let test_arg = test_dir.to_str().expect("utf-8");
    ok(&[
        "encode",
        "--artifact",
        folder_arg,
        "--input",
        test_arg,
        "--out",
        "codes.npy",
    ]);
    let read = |p: &Path| ae_data::npy::read(p).expect("a .npy file");
    let (embedded, encoded) = (
        read(&folder.join("test-codes.npy")),
        read(&h.join("codes.npy")),
    );
    assert_eq!(encoded.shape, embedded.shape);
    let worst = encoded
        .values
        .iter()
        .zip(&embedded.values)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "codes of the files against embed's: {worst}");
    let list = std::fs::read_to_string(h.join("codes-files.csv")).expect("the files list");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 1 + 1000);
    // Class folders in name order: "Ankle boot" (label 9) first, its lowest index first.
    let first = data
        .test
        .labels
        .iter()
        .position(|&l| l == 9)
        .expect("an ankle boot");
    assert!(
        lines[1].ends_with(&format!("Ankle boot/{first:05}.png")),
        "{}",
        lines[1]
    );
    // One file scored: its row names it.
    let bag = data
        .test
        .labels
        .iter()
        .position(|&l| l == 8)
        .expect("a bag");
    let one = test_dir.join(format!("Bag/{bag:05}.png"));
    let one_arg = one.to_str().expect("utf-8");
    ok(&[
        "score",
        "--artifact",
        folder_arg,
        "--input",
        one_arg,
        "--out",
        "one.csv",
    ]);
    let scores = std::fs::read_to_string(h.join("one.csv")).expect("scores");
    let rows: Vec<&str> = scores.lines().collect();
    assert_eq!(rows[0], "index,file,score");
    assert!(
        rows.len() == 2 && rows[1].starts_with(&format!("0,{one_arg},")),
        "{scores}"
    );

    // Decoded once into the cache; a split over the memory limit is read from it
    // batch by batch, and trains as the same split in memory.
    let cache_dir = h.join("cache/autoencoders/images");
    let cached: Vec<_> = std::fs::read_dir(&cache_dir)
        .expect("a cache folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(cached.len(), 2, "train/ and test/: {cached:?}");
    let written = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let before: Vec<_> = cached.iter().map(|p| written(p)).collect();
    let streamed = h.join("streamed");
    let out = run(trainer(h)
        .env("AE_IMAGE_MEMORY_MIB", "0")
        .args(["train", "--backend", "ndarray", "--out"])
        .arg(&streamed)
        .args([&["--dataset", root_arg][..], &model].concat()));
    assert!(out.status.success(), "{}", stderr(&out));
    let after: Vec<_> = cached.iter().map(|p| written(p)).collect();
    assert_eq!(before, after, "the cache was read, not written again");
    let s = test_mse(h, &streamed);
    println!("test MSE: PNG folder streamed from its cache {s}");
    assert!(
        (s - b).abs() <= 1e-3 * b,
        "streamed {s} against in memory {b}"
    );
    let out = run(trainer(h).env("AE_IMAGE_MEMORY_MIB", "0").args([
        "train",
        "--data-on-device",
        "--dataset",
        root_arg,
    ]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("stay on disk"), "{}", stderr(&out));

    // Training learned: a first-epoch-free control (the untrained model) is far off.
    let control = h.join("untrained");
    let out = train_cli(
        h,
        &control,
        &untrained(&[&["--dataset", root_arg][..], &model].concat()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    learned(
        "the folder model's test MSE",
        b,
        test_mse(h, &control),
        |v| v < 1.5 * a,
    );

    // --image-size resizes: 14×14 images, a model of 196 inputs.
    let small = h.join("small");
    let out = train_cli(
        h,
        &small,
        &[
            "--dataset",
            root_arg,
            "--image-size",
            "14",
            "--epochs",
            "1",
            "--limit",
            "256",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(small.join("config.json")).expect("config"))
            .expect("JSON");
    assert_eq!(config["model"]["input_size"], 196);

    // Table flags are refused for a folder, naming them.
    let out = run(trainer(h).args(["train", "--dataset", root_arg, "--label-column", "x"]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--label-column describes a table"),
        "{}",
        stderr(&out)
    );
}

/// A folder's decoded images read from their cache file batch by batch (a split over
/// the memory limit, here 0 MiB), the file cut short under the run: the run stops
/// with an error that names the file and says to run again — exit status 1, no panic
/// report — and the next run decodes the folder anew and trains.
#[test]
fn a_cache_file_cut_short_under_a_run_is_an_error_naming_it() {
    use std::time::{Duration, Instant};
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let data = ae_data::sample::load().expect("the embedded sample");
    let root = h.join("pngs");
    let first = |n: usize| (0..n).collect::<Vec<_>>();
    write_pngs(
        &root.join("train"),
        &data.train.select(&first(400)),
        &data.classes,
    );
    write_pngs(
        &root.join("test"),
        &data.test.select(&first(100)),
        &data.classes,
    );
    let root_arg = root.to_str().expect("utf-8");
    let train = |dir: &Path, epochs: &str| {
        let mut cmd = trainer(h);
        cmd.args(["train", "--dataset", root_arg, "--epochs", epochs])
            .args([
                "--hidden",
                "16",
                "--latent",
                "4",
                "--backend",
                "flex",
                "--out",
            ])
            .arg(dir)
            .env("AE_IMAGE_MEMORY_MIB", "0");
        cmd
    };
    let dir = h.join("cut");
    let log = h.join("stderr.txt");
    let mut child = train(&dir, "1000")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("the trainer starts");
    let caches = h.join("cache/autoencoders/images");
    let cache_file = || {
        std::fs::read_dir(&caches).ok().and_then(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|e| e == "images"))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let cache = loop {
        if let Some(cache) = cache_file().filter(|_| dir.join("train/epoch-1").exists()) {
            break cache;
        }
        assert!(Instant::now() < deadline, "the run never started training");
        assert!(
            child.try_wait().expect("status").is_none(),
            "the run ended early"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    std::fs::OpenOptions::new()
        .write(true)
        .open(&cache)
        .expect("the cache file opens")
        .set_len(16)
        .expect("the cache file is cut short");
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run went on with its cache file cut short");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let err = std::fs::read_to_string(&log).expect("stderr");
    println!("{err}");
    assert_eq!(status.code(), Some(1), "{err}");
    let named = cache.to_str().expect("utf-8");
    assert!(
        err.contains(named) && err.contains("run the command again") && !err.contains("panicked"),
        "{err}"
    );
    let out = run(&mut train(&h.join("again"), "1"));
    assert!(out.status.success(), "{}", stderr(&out));
}
