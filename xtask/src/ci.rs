//! `cargo xtask ci`: format, one build of every target that lints the workspace's
//! crates as it compiles them, tests (with a Python for the export and TensorBoard
//! tests), the tests that skipped, then the README's experiments at their quick size.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{cargo, cargo_with, target_dir};

/// Where the tests record their skips (read by `ae_test_support::skip` from `AE_SKIP_LOG`).
fn skip_log() -> PathBuf {
    target_dir().join("skipped-tests.txt")
}

/// The pinned packages of the tests' Python.
const REQUIREMENTS: &str = include_str!("../python-requirements.txt");

/// A Python with NumPy and safetensors for the export test, TensorBoard for the
/// read-back of the event files, tritonclient for the inference protocol and
/// openapi-spec-validator for the server's OpenAPI document (`AE_PYTHON`): a venv under `target/python` with the
/// pinned packages of `python-requirements.txt`, made with pip from PyPI when it is
/// missing or holds other versions. `None` when python3 or pip cannot make one; the
/// tests then skip, and say so.
fn python_env() -> Option<PathBuf> {
    let venv = target_dir().join("python");
    let python = venv.join("bin").join("python");
    // The requirements the venv was made from, beside it.
    let stamp = venv.join("requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == REQUIREMENTS) {
        return Some(python);
    }
    let succeeds = |cmd: &mut Command| cmd.status().is_ok_and(|s| s.success());
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("python-requirements.txt");
    println!(
        "$ python3 -m venv {} && pip install -r {}",
        venv.display(),
        requirements.display()
    );
    let made = succeeds(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    ) && succeeds(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "-r"])
            .arg(&requirements),
    ) && succeeds(Command::new(&python).args([
        "-c",
        "import numpy, safetensors, tensorboard, tritonclient.http, openapi_spec_validator",
    ]));
    if made && std::fs::write(&stamp, REQUIREMENTS).is_ok() {
        Some(python)
    } else {
        eprintln!(
            "no Python with the pinned numpy, safetensors, tensorboard, tritonclient and \
             openapi-spec-validator: the export, TensorBoard and inference-protocol tests \
             will skip"
        );
        None
    }
}

/// The variables of CI's one build. Clippy lints the workspace's crates as their
/// compiler: `clippy-driver` in `RUSTC_WORKSPACE_WRAPPER` compiles each workspace crate
/// as rustc would and lints it in the same pass (`cargo clippy` is the same driver in a
/// check-only build), with `CLIPPY_ARGS` denying warnings. Every crate that
/// `Cargo.toml` does not keep at opt-level 3 is compiled at opt-level 1, and the GPU
/// compiler stack and the network stack at 0 (`ci-rustc.sh`, the `RUSTC_WRAPPER`).
/// Burn is then compiled once, for the lints, the tests, the benches and every later
/// `cargo run --release` given the same variables (`cargo xtask ci-env` prints them
/// for a shell; `.ci/run` uses it).
pub fn build_env(lint: bool) -> Result<Vec<(&'static str, String)>> {
    // `ci-rustc.sh` lowers the GPU compiler and network stacks to opt-level 0.
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci-rustc.sh");
    let mut env = vec![
        ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1".to_string()),
        ("RUSTC_WRAPPER", wrapper.display().to_string()),
    ];
    if !lint {
        return Ok(env);
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| format!("running {rustc} --print sysroot"))?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let driver = Path::new(&sysroot).join("bin").join("clippy-driver");
    if !out.status.success() || !driver.is_file() {
        bail!(
            "no clippy-driver in the toolchain ({}): rustup component add clippy",
            driver.display()
        );
    }
    env.push(("RUSTC_WORKSPACE_WRAPPER", driver.display().to_string()));
    env.push(("CLIPPY_ARGS", "-Dwarnings".to_string()));
    Ok(env)
}

/// `cargo xtask ci-env`: CI's build variables as `export` lines for a shell.
pub fn print_build_env() -> Result<()> {
    for (key, value) in build_env(true)? {
        println!("export {key}='{value}'");
    }
    Ok(())
}

/// Runs `step`, then prints how long it took.
fn timed<T>(what: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = std::time::Instant::now();
    let out = step();
    println!("[ci] {what}: {:.0} s", start.elapsed().as_secs_f64());
    out
}

pub fn run(args: &[String]) -> Result<()> {
    let lint = !args.iter().any(|a| a == "--no-lint");
    let lints = build_env(lint)?;
    let lints: Vec<(&str, &std::ffi::OsStr)> = lints
        .iter()
        .map(|(k, v)| (*k, std::ffi::OsStr::new(v)))
        .collect();
    if lint {
        timed("format", || cargo(&["fmt", "--all", "--check"]))?;
    }
    // Release: the tests train models on real images, and the README's commands
    // (`cargo run --release`) then reuse the same build. Every target is built (and,
    // with the lints, linted) first: the libraries, binaries, tests, examples and
    // benches, burn once for all of them.
    timed("build and lints", || {
        cargo_with(&["test", "--release", "--workspace", "--no-run"], &lints)?;
        cargo_with(&["bench", "--workspace", "--benches", "--no-run"], &lints)
    })?;
    // The GPU feature sets that build offline (see "Backends" in the README), type-
    // checked and linted: burn's kernel fusion and its Vulkan backend.
    if lint {
        timed("fusion and vulkan checked and linted", || {
            cargo_with(
                &[
                    "check",
                    "--release",
                    "-p",
                    "trainer",
                    "--features",
                    "fusion,vulkan",
                ],
                &lints,
            )
        })?;
    }
    let log = skip_log();
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if log.exists() {
        std::fs::remove_file(&log).with_context(|| format!("removing {}", log.display()))?;
    }
    let (python, photos) = timed("python and photographs", || {
        let python = python_env();
        let photos = crate::photos::download_dir();
        let photos = match &python {
            Some(python) => match crate::photos::fetch(python, &photos) {
                Ok(()) => Some(photos),
                Err(e) => {
                    eprintln!("no photographs ({e:#}): the colour tests will skip");
                    None
                }
            },
            None => None,
        };
        Ok((python, photos))
    })?;
    let mut env = lints.clone();
    env.push(("AE_SKIP_LOG", log.as_os_str()));
    if let Some(python) = &python {
        env.push(("AE_PYTHON", python.as_os_str()));
    }
    if let Some(photos) = &photos {
        env.push(("AE_PHOTOS", photos.as_os_str()));
    }
    let tests = timed("tests", || {
        cargo_with(&["test", "--release", "--workspace"], &env)
    });
    let skipped = std::fs::read_to_string(&log).unwrap_or_default();
    print!("{}", skip_report(&skipped));
    tests?;
    // The README's figures: every experiment at its quick size, end to end, within
    // its tolerances of the stored quick references.
    timed("results (quick)", || {
        crate::results::run_quick(&lints, python.as_deref())
    })?;
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
