use std::path::Path;

use super::*;

/// Writes a PNG of `channels` (1 grey, 3 RGB) per pixel.
fn png(path: &Path, width: u32, height: u32, channels: usize, pixels: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
    let file = std::fs::File::create(path).expect("create");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(if channels == 1 {
        png::ColorType::Grayscale
    } else {
        png::ColorType::Rgb
    });
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(pixels).expect("pixels");
}

fn grey_png(path: &Path, value: u8) {
    png(path, 2, 3, 1, &[value; 6]);
}

#[test]
fn class_folders_give_sorted_labels_and_train_test_splits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for (split, class, name, value) in [
        ("train", "shoe", "b.png", 10),
        ("train", "shoe", "a.png", 20),
        ("train", "bag", "x.png", 30),
        ("test", "bag", "y.png", 40),
        ("test", "shoe", "z.png", 50),
    ] {
        grey_png(&root.join(split).join(class).join(name), value);
    }
    std::fs::write(root.join("train/shoe/notes.txt"), "not an image").expect("write");
    std::fs::write(root.join("train/shoe/.hidden.png"), "hidden").expect("write");
    let loaded = FolderSpec::new(root).load().expect("loads");
    assert_eq!(loaded.classes, ["bag", "shoe"]);
    // Listed by path (bag/x, shoe/a, shoe/b), each with its label; training in a
    // seeded order.
    let mut pairs: Vec<(u8, u8)> = (0..3)
        .map(|i| (loaded.train.0.image(i)[0], loaded.train.1[i]))
        .collect();
    pairs.sort_unstable();
    assert_eq!(pairs, [(10, 1), (20, 1), (30, 0)]);
    // The test images in the order of their files.
    assert_eq!(loaded.test.1, [0, 1]);
    assert_eq!(
        loaded
            .test
            .0
            .pixels
            .iter()
            .step_by(6)
            .copied()
            .collect::<Vec<_>>(),
        [40, 50]
    );
    assert_eq!([loaded.train.0.rows, loaded.train.0.cols], [3, 2]);
    assert!(loaded.skipped.is_empty());

    // A test class without training images is refused, naming it.
    grey_png(&root.join("test/hat/q.png"), 1);
    let err = FolderSpec::new(root)
        .load()
        .err()
        .expect("unknown class")
        .to_string();
    assert!(err.contains("class 'hat' has no training images"), "{err}");
}

#[test]
fn a_flat_folder_is_unlabelled_and_held_out_by_seed() {
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..10u8 {
        grey_png(&dir.path().join(format!("img{i:02}.png")), i);
    }
    let spec = FolderSpec {
        test_fraction: 0.3,
        ..FolderSpec::new(dir.path())
    };
    let a = spec.load().expect("loads");
    assert_eq!((a.train.0.count, a.test.0.count), (7, 3));
    assert_eq!(a.classes, ["unlabelled"]);
    let b = spec.load().expect("loads");
    let firsts = |d: &LoadedFolder| d.test.0.pixels.clone();
    assert_eq!(
        firsts(&a),
        firsts(&b),
        "the same seed holds out the same images"
    );
    let other = FolderSpec {
        split_seed: 1,
        ..spec.clone()
    };
    assert_ne!(firsts(&other.load().expect("loads")), firsts(&a));
    // The training images come in a seeded order: the same on every load, not the
    // order of the files, and every one of them once.
    let order = |d: &LoadedFolder| {
        d.train
            .0
            .pixels
            .iter()
            .step_by(6)
            .copied()
            .collect::<Vec<u8>>()
    };
    assert_eq!(order(&a), order(&b));
    let mut sorted = order(&a);
    sorted.sort_unstable();
    assert_ne!(order(&a), sorted, "mixed, not in file order");
    sorted.dedup();
    assert_eq!(sorted.len(), 7);

    // Images both directly and in subfolders: refused.
    grey_png(&dir.path().join("cls/x.png"), 1);
    let err = spec.load().err().expect("mixed").to_string();
    assert!(err.contains("both directly in it"), "{err}");
    let empty = tempfile::tempdir().expect("temp dir");
    let err = FolderSpec::new(empty.path())
        .load()
        .err()
        .expect("empty")
        .to_string();
    assert!(err.contains("no images"), "{err}");
}

#[test]
fn colour_is_made_grey_and_sizes_are_resized_or_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    // Pure red, green and blue pixels: BT.601 luma 76, 150, 29.
    png(
        &root.join("train/a/rgb.png"),
        3,
        1,
        3,
        &[255, 0, 0, 0, 255, 0, 0, 0, 255],
    );
    png(&root.join("test/a/grey.png"), 3, 1, 1, &[1, 2, 3]);
    let data = FolderSpec::new(root).load().expect("loads");
    assert_eq!(data.train.0.pixels, [76, 150, 29]);

    // Another size: refused without --image-size, naming both files.
    png(&root.join("train/a/big.png"), 4, 2, 1, &[9; 8]);
    let err = FolderSpec::new(root)
        .load()
        .err()
        .expect("sizes")
        .to_string();
    assert!(
        err.contains("1×3 pixels") && err.contains("big.png") && err.contains("--image-size"),
        "{err}"
    );
    let spec = FolderSpec {
        image_size: Some([2, 2]),
        ..FolderSpec::new(root)
    };
    let data = spec.load().expect("resized");
    assert_eq!([data.train.0.rows, data.train.0.cols], [2, 2]);
    // A uniform image stays uniform through the resize and crop.
    let images = &data.train.0;
    assert!((0..images.count).any(|i| images.image(i) == [9, 9, 9, 9]));
}

#[test]
fn rgb_keeps_three_planes_and_grey_images_fill_all_three() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    // Two pixels: red-ish and blue-ish, interleaved in the file.
    png(
        &root.join("train/a/rgb.png"),
        2,
        1,
        3,
        &[200, 10, 20, 5, 6, 250],
    );
    png(&root.join("test/a/grey.png"), 2, 1, 1, &[7, 9]);
    let spec = FolderSpec {
        colour: Colour::Rgb,
        ..FolderSpec::new(root)
    };
    let data = spec.load().expect("loads");
    let train = &data.train.0;
    assert_eq!(train.shape(), [3, 1, 2]);
    // Planes, not interleaved: red of both pixels, then green, then blue.
    assert_eq!(train.image(0), [200, 5, 10, 6, 20, 250]);
    assert_eq!(data.test.0.image(0), [7, 9, 7, 9, 7, 9]);

    // A colour JPEG keeps its colours (within its compression).
    let mut jpeg = Vec::new();
    let red: Vec<u8> = [230u8, 20, 30].repeat(64);
    jpeg_encoder::Encoder::new(&mut jpeg, 95)
        .encode(&red, 8, 8, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg");
    std::fs::write(root.join("train/a/red.jpg"), &jpeg).expect("write");
    let spec = FolderSpec {
        image_size: Some([4, 4]),
        ..spec
    };
    let data = spec.load().expect("loads");
    let train = &data.train.0;
    let red = (0..train.count)
        .map(|i| train.image(i))
        .find(|image| image[16..].iter().all(|&v| v < 100))
        .expect("the red image: low green and blue");
    assert_eq!(red.len(), 3 * 16, "three resized planes");
    let mean = |plane: &[u8]| plane.iter().map(|&v| f64::from(v)).sum::<f64>() / 16.0;
    let (r, g, b) = (mean(&red[..16]), mean(&red[16..32]), mean(&red[32..]));
    assert!(
        (r - 230.0).abs() < 6.0 && (g - 20.0).abs() < 6.0 && (b - 30.0).abs() < 6.0,
        "{r} {g} {b}"
    );

    // Config files from before colour existed read as grey; the colour round-trips.
    let json = serde_json::to_string(&spec).expect("serialises");
    assert!(json.contains("\"colour\":\"rgb\""), "{json}");
    let back: FolderSpec = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back.colour, Colour::Rgb);
    let old: FolderSpec = serde_json::from_str(r#"{"folder": "x"}"#).expect("old config");
    assert_eq!(old.colour, Colour::Grey);
    assert_eq!("RGB".parse::<Colour>(), Ok(Colour::Rgb));
    assert!("cmyk".parse::<Colour>().is_err());
}

#[test]
fn photographs_are_cut_into_patches_each_a_sample_with_its_label() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    // A 4×6 RGB image whose red value is 10·row + column, green 100, blue 200.
    let pixels: Vec<u8> = (0..24u8)
        .flat_map(|i| [10 * (i / 6) + i % 6, 100, 200])
        .collect();
    png(&root.join("train/sea/p.png"), 6, 4, 3, &pixels);
    png(&root.join("test/sea/q.png"), 6, 4, 3, &pixels);
    let spec = FolderSpec {
        colour: Colour::Rgb,
        patches: Some("2".parse().expect("size")),
        ..FolderSpec::new(root)
    };
    let data = spec.load().expect("loads");
    let train = &data.train.0;
    assert_eq!((train.count, train.shape()), (6, [3, 2, 2]));
    assert_eq!(data.train.1, [0; 6]);
    // Patch 4 (of the test image: its patches in order): second row of patches,
    // second column: rows 2-3, columns 2-3.
    assert_eq!(
        data.test.0.image(4),
        [22, 23, 32, 33, 100, 100, 100, 100, 200, 200, 200, 200]
    );
    let overlapping = FolderSpec {
        patches: Some("2:1".parse().expect("size and stride")),
        ..spec.clone()
    };
    assert_eq!(overlapping.load().expect("loads").train.0.count, 3 * 5);
    let too_big = FolderSpec {
        patches: Some("5".parse().expect("size")),
        ..spec
    };
    let err = too_big.load().err().expect("too small").to_string();
    assert!(
        err.contains("p.png") && err.contains("too small for one 5×5 patch"),
        "{err}"
    );
    assert!("0:2".parse::<Patches>().is_err() && "4:x".parse::<Patches>().is_err());
}

#[test]
fn resizing_averages_when_shrinking_and_crops_the_centre() {
    // 4×4 of 2×2 blocks 0, 100 / 200, 40 → 2×2 averages.
    #[rustfmt::skip]
    let img = [
        0, 0, 100, 100,
        0, 0, 100, 100,
        200, 200, 40, 40,
        200, 200, 40, 40,
    ];
    assert_eq!(resize_cover(&img, 4, 4, 2, 2), [0, 100, 200, 40]);
    // A 4×2 image into 2×2: same height, the middle two columns.
    let wide = [1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(resize_cover(&wide, 4, 2, 2, 2), [2, 3, 6, 7]);
    // Enlarging a constant image keeps it constant.
    assert_eq!(resize_cover(&[7; 4], 2, 2, 5, 3), vec![7; 15]);
}

/// A PNG whose header declares `width × height` pixels and holds none.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut crc = flate2::Crc::new();
    crc.update(&ihdr);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

#[test]
fn bad_files_are_named_or_skipped_and_bombs_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for i in 0..4u8 {
        grey_png(&root.join(format!("ok{i}.png")), i);
    }
    let good = std::fs::read(root.join("ok0.png")).expect("read");
    std::fs::write(root.join("cut.png"), &good[..good.len() / 2]).expect("write");
    let err = FolderSpec::new(root).load().err().expect("cut").to_string();
    assert!(
        err.contains("cut.png") && err.contains("corrupt or cut short"),
        "{err}"
    );
    let skipping = FolderSpec {
        skip_bad: true,
        test_fraction: 0.25,
        ..FolderSpec::new(root)
    };
    let loaded = skipping.load().expect("skips");
    assert_eq!(loaded.train.0.count + loaded.test.0.count, 4);
    assert_eq!(loaded.skipped.len(), 1);
    assert!(loaded.skipped[0].0.ends_with("cut.png"));
    std::fs::remove_file(root.join("cut.png")).expect("rm");

    // A JPEG named .png, and a PNG named .jpg.
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&[128; 6], 2, 3, jpeg_encoder::ColorType::Luma)
        .expect("jpeg");
    std::fs::write(root.join("photo.png"), &jpeg).expect("write");
    let err = FolderSpec::new(root)
        .load()
        .err()
        .expect("misnamed")
        .to_string();
    assert!(
        err.contains("photo.png") && err.contains("is a JPEG file"),
        "{err}"
    );
    std::fs::rename(root.join("photo.png"), root.join("photo.jpg")).expect("rename");
    let data = FolderSpec::new(root).load().expect("a real JPEG");
    assert_eq!(data.train.0.count + data.test.0.count, 5);

    // A header declaring 100,000 × 100,000 pixels: refused before decoding.
    std::fs::write(root.join("bomb.png"), png_header_only(100_000, 100_000)).expect("write");
    let err = FolderSpec::new(root)
        .load()
        .err()
        .expect("bomb")
        .to_string();
    assert!(
        err.contains("bomb.png") && err.contains("decompression bomb"),
        "{err}"
    );
}
