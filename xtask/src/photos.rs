//! `cargo xtask photos DIR`: the two photographs scikit-learn ships (`china.jpg`,
//! `flower.jpg`, 427×640 colour JPEGs under CC BY 2.0) and their attribution
//! (`README.txt`), taken from its wheel on PyPI into `DIR`. Real colour images no one
//! here made, for the tests and the README's walk-through.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The files taken from the wheel's `sklearn/datasets/images/`.
pub const FILES: [&str; 3] = ["china.jpg", "flower.jpg", "README.txt"];

/// Whether `dir` holds every file.
pub fn present(dir: &Path) -> bool {
    FILES.iter().all(|f| dir.join(f).is_file())
}

/// Downloads scikit-learn's wheel with `python`'s pip (no install, no dependencies)
/// and extracts the photographs into `dir`; nothing to do when they are there.
pub fn fetch(python: &Path, dir: &Path) -> Result<()> {
    if present(dir) {
        return Ok(());
    }
    let wheels = dir.join("wheel");
    std::fs::create_dir_all(&wheels).with_context(|| format!("creating {}", wheels.display()))?;
    println!(
        "$ {} -m pip download --no-deps scikit-learn",
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
        .args(["scikit-learn", "-d"])
        .arg(&wheels)
        .status()
        .with_context(|| format!("running {} -m pip", python.display()))?;
    if !status.success() {
        bail!("pip could not download scikit-learn's wheel ({status})");
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
        .args(FILES)
        .status()
        .context("extracting the photographs")?;
    if !status.success() || !present(dir) {
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
    if !present(&dir) {
        fetch(&python_with_pip()?, &dir)?;
    }
    println!(
        "{}: {} (attribution and licence in README.txt)",
        dir.display(),
        FILES[..2].join(", ")
    );
    Ok(())
}
