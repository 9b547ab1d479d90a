//! The data path of a folder of images: `cargo bench -p trainer --bench image_folder [-- --images 4000]`.
//!
//! Writes two folders of 32×32 RGB PNG files, `--images` and ten times as many (the
//! embedded Fashion-MNIST sample's real images, padded to 32×32, their three planes
//! the image, its negative and the image shifted; copies beyond the sample shifted
//! further), then, for each folder, in a process of its own so that its peak memory is
//! its own:
//! - the first load: every file decoded (on every core) into the cache — images/s;
//! - a second load, which finds the cache and decodes nothing — seconds;
//! - one epoch of shuffled batches of 128 from the training split read from the cache
//!   batch by batch (`AE_IMAGE_MEMORY_MIB=0`), made into tensors — images/s and µs per
//!   batch — and, for contrast, the same with the split held in memory;
//! - the process's peak resident memory (Linux), which for the split on disk does not
//!   grow with the folder.
//!
//! Last, a training step of the default convolutional autoencoder on batches of 128
//! such images (flex backend), for the share of a step the data path takes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ae_data::{Colour, FolderSpec, ImageCache, Images, Split};
use ae_models::{Autoencoder, Family, InputShape};
use anyhow::{Context, Result, bail};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use trainer::device::{Backend, select};

const SIDE: usize = 32;
const BATCH: usize = 128;

/// The resident-set high-water mark, from `/proc/self/status` (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Image `i` of the folder: a real 28×28 image padded to 32×32, in three planes.
fn image(sample: &Images, i: usize) -> Vec<u8> {
    let source = sample.image(i % sample.count);
    let shift = i / sample.count;
    let mut rgb = vec![0u8; SIDE * SIDE * 3];
    for y in 0..28 {
        for x in 0..28 {
            let v = source[y * 28 + x];
            let at = ((y + 2) * SIDE + x + 2) * 3;
            let shifted = source[y * 28 + (x + shift) % 28];
            rgb[at..at + 3].copy_from_slice(&[v, 255 - v, shifted]);
        }
    }
    rgb
}

fn write_folder(dir: &Path, count: usize, sample: &Images) -> Result<()> {
    for i in 0..count {
        // Ten class folders, as a labelled data set has.
        let path = dir.join(format!("c{}", i % 10)).join(format!("{i:07}.png"));
        std::fs::create_dir_all(path.parent().context("a folder")?)?;
        let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut encoder = png::Encoder::new(file, SIDE as u32, SIDE as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()?
            .write_image_data(&image(sample, i))?;
    }
    Ok(())
}

/// A fixed shuffled order of `0..n` (an LCG), in batches of [`BATCH`].
fn batches(n: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = 12345u64;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    order
        .chunks(BATCH)
        .filter(|c| c.len() == BATCH)
        .map(<[usize]>::to_vec)
        .collect()
}

/// One epoch of batches from `split` made into tensors: seconds.
fn epoch(split: &Split, device: &Device) -> f64 {
    let batches = batches(split.len());
    let start = Instant::now();
    for b in &batches {
        let t = split.tensor(b, device);
        let _ = t.slice([0..1, 0..1]).into_data();
    }
    start.elapsed().as_secs_f64() / batches.len().max(1) as f64
}

/// The child process: loads `folder` through a cache in `cache`, with the training
/// split on disk (`stored`) or in memory, and prints one JSON line.
fn child(folder: &Path, cache: &Path, stored: bool) -> Result<()> {
    let spec = FolderSpec {
        colour: Colour::Rgb,
        ..FolderSpec::new(folder)
    };
    let cache = ImageCache {
        dir: Some(cache.to_path_buf()),
        resident_limit: if stored { 0 } else { u64::MAX },
        progress: false,
    };
    let start = Instant::now();
    let first = spec.load_with(&cache)?;
    let decode_s = start.elapsed().as_secs_f64();
    let images = first.train.len() + first.test.len();
    drop(first);
    let start = Instant::now();
    let data = spec.load_with(&cache)?;
    let reload_s = start.elapsed().as_secs_f64();
    if data.train.is_stored() != stored {
        bail!("the training split is not where it was asked to be");
    }
    let device = select(Backend::Flex)?.device;
    let per_batch = epoch(&data.train, &device);
    let report = serde_json::json!({
        "images": images,
        "split": if stored { "on disk" } else { "in memory" },
        "decode_images_per_s": images as f64 / decode_s,
        "reload_s": reload_s,
        "batch_us": 1e6 * per_batch,
        "batch_images_per_s": BATCH as f64 / per_batch,
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{report}");
    Ok(())
}

/// Mean seconds of a training step of the default convolutional autoencoder on batches
/// of 128 RGB 32×32 images from `split`.
fn step_seconds(split: &Split) -> Result<f64> {
    let shape = InputShape::Image {
        channels: 3,
        height: SIDE,
        width: SIDE,
    };
    let conv = Family::ALL
        .iter()
        .copied()
        .find(|f| f.is_convolutional() && !f.is_generative())
        .context("a convolutional autoencoder family")?;
    let config = conv.default_config(shape)?;
    let device = select(Backend::Flex)?.device;
    let ad = device.autodiff();
    ad.seed(0);
    let mut model = config.init(&ad)?;
    let mut optim = AdamConfig::new().init();
    let batches = batches(split.len());
    let mut times = Vec::new();
    for b in batches.iter().take(8) {
        let start = Instant::now();
        let out = model.forward(split.tensor(b, &ad));
        let loss = out.loss.clone();
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let _ = loss.into_scalar::<f32>();
        times.push(start.elapsed().as_secs_f64());
    }
    // The first three warm up.
    let timed = &times[3.min(times.len())..];
    Ok(timed.iter().sum::<f64>() / timed.len().max(1) as f64)
}

fn run(exe: &Path, folder: &Path, cache: &Path, stored: bool) -> Result<serde_json::Value> {
    let out = std::process::Command::new(exe)
        .arg("--child")
        .arg(folder)
        .arg(cache)
        .arg(if stored { "disk" } else { "memory" })
        .output()?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    println!("{}", line.trim());
    Ok(serde_json::from_str(line.trim())?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        let [_, folder, cache, place] = args.as_slice() else {
            bail!("--child FOLDER CACHE disk|memory");
        };
        return child(Path::new(folder), Path::new(cache), place == "disk");
    }
    let count: usize = match args.as_slice() {
        [flag, n] if flag == "--images" => n.parse().context("--images")?,
        [] => 4000,
        _ => bail!("usage: image_folder [--images N]"),
    };
    let sample = ae_data::sample::load()?;
    let sample = sample.train.as_images().context("images")?;
    let work = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let mut per_batch = Vec::new();
    for n in [count, 10 * count] {
        let folder = work.path().join(format!("images-{n}"));
        let start = Instant::now();
        write_folder(&folder, n, sample)?;
        println!(
            "{n} PNG files of {SIDE}×{SIDE} RGB written in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        for stored in [true, false] {
            let cache: PathBuf = work.path().join(format!("cache-{n}-{stored}"));
            let report = run(&exe, &folder, &cache, stored)?;
            if stored {
                per_batch.push(report["batch_us"].as_f64().unwrap_or(f64::NAN) * 1e-6);
            }
        }
        if n == count {
            let spec = FolderSpec {
                colour: Colour::Rgb,
                ..FolderSpec::new(&folder)
            };
            let data = spec.load()?;
            let step = step_seconds(&data.train)?;
            let batch = per_batch[0];
            println!(
                "training step, default conv autoencoder, batch {BATCH}, flex: {:.1} ms; the data \
                 path from the cache takes {:.2} % of it",
                1e3 * step,
                100.0 * batch / step
            );
        }
    }
    Ok(())
}
