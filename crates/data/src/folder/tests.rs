use std::path::Path;

use super::*;

/// The images of a split read into memory.
fn im(split: &Split) -> &Images {
    split.as_images().expect("images in memory")
}

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
        .map(|i| (im(&loaded.train).image(i)[0], loaded.train.labels[i]))
        .collect();
    pairs.sort_unstable();
    assert_eq!(pairs, [(10, 1), (20, 1), (30, 0)]);
    // The test images in the order of their files.
    assert_eq!(loaded.test.labels, [0, 1]);
    assert_eq!(
        im(&loaded.test)
            .pixels
            .iter()
            .step_by(6)
            .copied()
            .collect::<Vec<_>>(),
        [40, 50]
    );
    assert_eq!([im(&loaded.train).rows, im(&loaded.train).cols], [3, 2]);
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
    assert_eq!((im(&a.train).count, im(&a.test).count), (7, 3));
    assert_eq!(a.classes, ["unlabelled"]);
    let b = spec.load().expect("loads");
    let firsts = |d: &LoadedFolder| im(&d.test).pixels.clone();
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
        im(&d.train)
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
    assert_eq!(im(&data.train).pixels, [76, 150, 29]);

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
    assert_eq!([im(&data.train).rows, im(&data.train).cols], [2, 2]);
    // A uniform image stays uniform through the resize and crop.
    let images = &im(&data.train);
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
    let train = &im(&data.train);
    assert_eq!(train.shape(), [3, 1, 2]);
    // Planes, not interleaved: red of both pixels, then green, then blue.
    assert_eq!(train.image(0), [200, 5, 10, 6, 20, 250]);
    assert_eq!(im(&data.test).image(0), [7, 9, 7, 9, 7, 9]);

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
    let train = &im(&data.train);
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
    let train = &im(&data.train);
    assert_eq!((train.count, train.shape()), (6, [3, 2, 2]));
    assert_eq!(data.train.labels, [0; 6]);
    // Patch 4 (of the test image: its patches in order): second row of patches,
    // second column: rows 2-3, columns 2-3.
    assert_eq!(
        im(&data.test).image(4),
        [22, 23, 32, 33, 100, 100, 100, 100, 200, 200, 200, 200]
    );
    let overlapping = FolderSpec {
        patches: Some("2:1".parse().expect("size and stride")),
        ..spec.clone()
    };
    assert_eq!(overlapping.load().expect("loads").train.len(), 3 * 5);
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
    assert_eq!(im(&loaded.train).count + im(&loaded.test).count, 4);
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
    assert_eq!(im(&data.train).count + im(&data.test).count, 5);

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

/// A cache in `dir` that keeps at most `resident_limit` bytes of a split in memory.
fn cache_in(dir: &Path, resident_limit: u64) -> ImageCache {
    ImageCache {
        dir: Some(dir.to_path_buf()),
        resident_limit,
        progress: false,
    }
}

/// The files of a cache folder.
fn cache_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn the_cache_is_reused_until_the_folder_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (root, cache_dir) = (dir.path().join("images"), dir.path().join("cache"));
    for (class, i) in [("a", 0u8), ("a", 1), ("b", 2), ("b", 3), ("b", 4)] {
        grey_png(&root.join(class).join(format!("{i}.png")), 10 * i);
    }
    let spec = FolderSpec::new(&root);
    let cache = cache_in(&cache_dir, u64::MAX);
    let first = spec.load_with(&cache).expect("decoded into the cache");
    let files = cache_files(&cache_dir);
    assert_eq!(files.len(), 1, "one cache file: {files:?}");
    let plain = spec.load().expect("decoded in memory");
    assert_eq!((&first.train, &first.test), (&plain.train, &plain.test));
    assert_eq!(first.classes, plain.classes);

    // Replace one image by another of the same length, and give the file its old
    // modification time back: the cache cannot see the change, so a second load
    // reads the cache — the old value — which proves it decoded nothing.
    let changed = root.join("b/4.png");
    let modified = std::fs::metadata(&changed)
        .and_then(|m| m.modified())
        .expect("mtime");
    grey_png(&changed, 41);
    let file = std::fs::File::options()
        .write(true)
        .open(&changed)
        .expect("open");
    file.set_modified(modified).expect("set mtime");
    let values = |d: &LoadedFolder| {
        let mut v: Vec<u8> = [&d.train, &d.test]
            .iter()
            .flat_map(|s| im(s).pixels.iter().step_by(6).copied().collect::<Vec<_>>())
            .collect();
        v.sort_unstable();
        v
    };
    let again = spec.load_with(&cache).expect("read from the cache");
    assert_eq!(values(&again), [0, 10, 20, 30, 40]);
    assert_eq!(cache_files(&cache_dir), files);

    // A new modification time: decoded again, into the same file.
    file.set_modified(modified + std::time::Duration::from_secs(1))
        .expect("set mtime");
    let redone = spec.load_with(&cache).expect("decoded again");
    assert_eq!(values(&redone), [0, 10, 20, 30, 41]);
    // A new file: decoded again too.
    grey_png(&root.join("a/5.png"), 50);
    let grown = spec.load_with(&cache).expect("decoded again");
    assert_eq!(values(&grown), [0, 10, 20, 30, 41, 50]);
    assert_eq!(cache_files(&cache_dir), files, "the same file rewritten");

    // A cache file cut short is not trusted: the folder is decoded again.
    let bytes = std::fs::read(&files[0]).expect("read");
    std::fs::write(&files[0], &bytes[..bytes.len() - 3]).expect("cut");
    let mended = spec.load_with(&cache).expect("decoded again");
    assert_eq!(values(&mended), [0, 10, 20, 30, 41, 50]);
    assert_eq!(std::fs::read(&files[0]).expect("read"), bytes);
    // Other options are another cache file beside it.
    let colour = FolderSpec {
        colour: Colour::Rgb,
        ..spec.clone()
    };
    colour.load_with(&cache).expect("decoded in colour");
    assert_eq!(cache_files(&cache_dir).len(), 2);
}

#[test]
fn splits_over_the_limit_stay_on_disk_and_read_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("images");
    for i in 0..12u8 {
        let pixels: Vec<u8> = (0..3 * 4 * 5).map(|p| p as u8 ^ (i * 17)).collect();
        png(
            &root.join(format!("c{}", i % 3)).join(format!("{i}.png")),
            5,
            4,
            3,
            &pixels,
        );
    }
    std::fs::write(root.join("c0/bad.png"), "not a PNG").expect("write");
    let spec = FolderSpec {
        colour: Colour::Rgb,
        skip_bad: true,
        test_fraction: 0.25,
        ..FolderSpec::new(&root)
    };
    let memory = spec.load().expect("in memory");
    let cache_dir = dir.path().join("cache");
    for _ in 0..2 {
        // Decoded the first time, read from the cache the second.
        let disk = spec.load_with(&cache_in(&cache_dir, 0)).expect("on disk");
        for (stored, held) in [(&disk.train, &memory.train), (&disk.test, &memory.test)] {
            assert!(stored.is_stored() && !held.is_stored());
            assert_eq!(stored.image_shape(), Some([3, 4, 5]));
            assert_eq!(stored.labels, held.labels);
            let read = stored.read_images().expect("images").expect("readable");
            assert_eq!(read.as_ref(), im(held));
            let picks = [2, 0, 2];
            let (mut a, mut b) = (Vec::new(), Vec::new());
            stored.gather(&picks, &mut a);
            held.gather(&picks, &mut b);
            assert_eq!(a, b);
            assert_eq!(stored.select(&picks).labels, held.select(&picks).labels);
        }
        assert_eq!(disk.skipped.len(), 1);
        assert!(disk.skipped[0].0.ends_with("bad.png"), "{:?}", disk.skipped);
    }
    // Under the limit, the same cache is read into memory.
    let small = spec
        .load_with(&cache_in(&cache_dir, 1 << 20))
        .expect("in memory");
    assert!(!small.train.is_stored());
    assert_eq!(small.train, memory.train);
}

#[test]
fn image_files_stream_as_a_models_samples() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    // Five 3×2 grey images at two depths, listed in path order: a/0, a/b/1, c, d, e.
    for (name, value) in [
        ("a/0.png", 0),
        ("a/b/1.png", 10),
        ("c.png", 20),
        ("d.png", 30),
    ] {
        grey_png(&root.join(name), value);
    }
    grey_png(&root.join("e.PNG"), 40);
    std::fs::write(root.join("notes.txt"), "not an image").expect("write");
    let spec = FolderSpec {
        image_size: Some([3, 2]),
        ..FolderSpec::new("")
    };
    let mut stream = ImageStream::open(root, &spec, 6).expect("opens");
    assert_eq!(stream.total(), Some(5));
    let (mut out, mut seen, mut files) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let n = stream.next_batch(2, &mut out).expect("decodes");
        if n == 0 {
            break;
        }
        assert_eq!(out.len(), 6 * n);
        seen.extend(out.iter().step_by(6).map(|v| (v * 255.0).round() as u8));
        files.extend(stream.last_files().map(|f| {
            f.strip_prefix(root)
                .expect("below root")
                .display()
                .to_string()
        }));
    }
    assert_eq!(seen, [0, 10, 20, 30, 40]);
    assert_eq!(files, ["a/0.png", "a/b/1.png", "c.png", "d.png", "e.PNG"]);

    // Patches: a 4×6 RGB image cut into 2×2 patches is six samples of 12 values.
    let photo = root.join("photo.png");
    let pixels: Vec<u8> = (0..4 * 6 * 3).map(|i| i as u8).collect();
    png(&photo, 6, 4, 3, &pixels);
    let patches = FolderSpec {
        colour: Colour::Rgb,
        patches: Some("2".parse().expect("a patch size")),
        ..FolderSpec::new("")
    };
    let mut stream = ImageStream::open(&photo, &patches, 12).expect("one file");
    assert_eq!(stream.total(), None);
    assert_eq!(stream.next_batch(4, &mut out).expect("decodes"), 4);
    assert_eq!(stream.next_batch(4, &mut out).expect("decodes"), 2);
    assert_eq!(stream.last_files().count(), 2);
    assert_eq!(stream.next_batch(4, &mut out).expect("the end"), 0);

    // A model of another size, a file that is not an image, one that does not decode.
    let err = ImageStream::open(root, &spec, 784).err().expect("size");
    assert!(err.to_string().contains("takes 784 values"), "{err}");
    let err = ImageStream::open(&root.join("notes.txt"), &spec, 6)
        .err()
        .expect("not an image");
    assert!(err.to_string().contains("not a .png"), "{err}");
    std::fs::write(root.join("a/broken.png"), "not a PNG").expect("write");
    let mut stream = ImageStream::open(root, &spec, 6).expect("opens");
    let err = stream
        .next_batch(8, &mut out)
        .expect_err("broken")
        .to_string();
    assert!(err.contains("broken.png"), "{err}");
}
