//! `cargo xtask ci`: format, lints (with the GPU features that build offline), tests
//! (with a Python for the export and TensorBoard tests), then the tests that skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{cargo, cargo_with, target_dir};

/// Where the tests record their skips (read by `ae_data::skip` from `AE_SKIP_LOG`).
fn skip_log() -> PathBuf {
    target_dir().join("skipped-tests.txt")
}

/// A Python with NumPy and safetensors for the export test and TensorBoard for the
/// read-back of the event files (`AE_PYTHON`): a venv under `target/python`, made once
/// with pip from PyPI. `None` when python3 or pip cannot make one; the tests then
/// skip, and say so.
fn python_env() -> Option<PathBuf> {
    let venv = target_dir().join("python");
    let python = venv.join("bin").join("python");
    let succeeds = |cmd: &mut Command| cmd.status().is_ok_and(|s| s.success());
    let ready =
        |p: &Path| succeeds(Command::new(p).args(["-c", "import numpy, safetensors, tensorboard"]));
    if ready(&python) {
        return Some(python);
    }
    println!(
        "$ python3 -m venv {} && pip install numpy safetensors tensorboard",
        venv.display()
    );
    let made = succeeds(Command::new("python3").args(["-m", "venv"]).arg(&venv))
        && succeeds(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "numpy",
            "safetensors",
            "tensorboard",
        ]));
    if made && ready(&python) {
        Some(python)
    } else {
        eprintln!(
            "no Python with numpy, safetensors and tensorboard: the export and TensorBoard tests will skip"
        );
        None
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let lint = !args.iter().any(|a| a == "--no-lint");
    if lint {
        cargo(&["fmt", "--all", "--check"])?;
        // --release: build scripts and proc macros are then shared with the test build.
        // With the GPU feature sets that build without a network (burn's kernel fusion
        // and autotune, the native Vulkan path; `cuda` downloads LLVM when it builds):
        // one pass lints the workspace and proves they compile.
        cargo(&[
            "clippy",
            "--release",
            "--workspace",
            "--all-targets",
            "--features",
            "trainer/fusion,trainer/vulkan",
            "--",
            "-D",
            "warnings",
        ])?;
    }
    let log = skip_log();
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if log.exists() {
        std::fs::remove_file(&log).with_context(|| format!("removing {}", log.display()))?;
    }
    // Release: the tests train models on real images, and the README's train
    // command (`cargo run --release`) then reuses the same build.
    let python = python_env();
    let photos = target_dir().join("photos");
    let mut env = vec![("AE_SKIP_LOG", log.as_os_str())];
    if let Some(python) = &python {
        env.push(("AE_PYTHON", python.as_os_str()));
        match crate::photos::fetch(python, &photos) {
            Ok(()) => env.push(("AE_PHOTOS", photos.as_os_str())),
            Err(e) => eprintln!("no photographs ({e:#}): the colour tests will skip"),
        }
    }
    let tests = cargo_with(&["test", "--release", "--workspace"], &env);
    let skipped = std::fs::read_to_string(&log).unwrap_or_default();
    print!("{}", skip_report(&skipped));
    tests?;
    let required = std::env::var_os("AE_REQUIRE_ALL").is_some_and(|v| !v.is_empty() && v != "0");
    if required && !skipped.trim().is_empty() {
        bail!("tests skipped and AE_REQUIRE_ALL forbids skipping");
    }
    Ok(())
}

/// The skipped tests and why, one a line, or that none skipped.
fn skip_report(skipped: &str) -> String {
    let lines: Vec<&str> = skipped.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return "no test skipped\n".into();
    }
    let mut out = format!(
        "{} test(s) SKIPPED (they passed without running):\n",
        lines.len()
    );
    for line in lines {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_skip_report_lists_each_skip() {
        assert_eq!(super::skip_report(""), "no test skipped\n");
        assert_eq!(
            super::skip_report("wgpu training: no Vulkan driver\n"),
            "1 test(s) SKIPPED (they passed without running):\n  wgpu training: no Vulkan driver\n"
        );
    }
}
