//! `cargo xtask bench`: training and encoding throughput and peak memory of every
//! model family on each CPU backend, beside PyTorch on the same architectures, data,
//! batch size and thread count, in one run on one machine. Writes
//! `target/bench/results.json` and `target/bench/results.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

const FAMILIES: [&str; 5] = ["mlp", "deep", "conv", "vae", "aae"];

struct Options {
    families: Vec<String>,
    backends: Vec<String>,
    steps: String,
    max_seconds: String,
    pytorch: bool,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        families: FAMILIES.map(String::from).to_vec(),
        backends: vec!["flex".into(), "ndarray".into()],
        steps: "50".into(),
        max_seconds: "20".into(),
        pytorch: true,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--families" => o.families = value()?.split(',').map(String::from).collect(),
            "--backends" => o.backends = value()?.split(',').map(String::from).collect(),
            "--steps" => o.steps = value()?.clone(),
            "--max-seconds" => o.max_seconds = value()?.clone(),
            "--no-pytorch" => o.pytorch = false,
            other => bail!(
                "unknown flag {other}: expected --families, --backends, --steps, --max-seconds, --no-pytorch"
            ),
        }
    }
    Ok(o)
}

/// The last line of a command's standard output, parsed as JSON.
fn json_line(cmd: &mut Command, what: &str) -> Result<Value> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("{what} printed no JSON:\n{stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("{what}: {line}"))
}

/// Where the Fashion-MNIST files are, for the PyTorch side (the Rust side finds them
/// through `ae-data`'s own search).
fn fashion_mnist_dir() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("AE_DATA_DIR") {
        candidates.push(PathBuf::from(dir).join("fashion-mnist"));
    }
    candidates.push(PathBuf::from("/usr/share/datasets/fashion-mnist"));
    candidates
        .into_iter()
        .find(|d| d.join("train-images-idx3-ubyte.gz").is_file() || d.join("train-images-idx3-ubyte").is_file())
        .context("Fashion-MNIST not found in $AE_DATA_DIR/fashion-mnist or /usr/share/datasets/fashion-mnist")
}

/// A virtual environment with PyTorch (CPU use of the PyPI wheel), made once.
fn pytorch_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/bench/venv");
    let python = venv.join("bin/python");
    let has_torch = |python: &Path| {
        Command::new(python)
            .args(["-c", "import torch"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.is_file() && has_torch(&python) {
        return Ok(python);
    }
    println!("$ python3 -m venv {}", venv.display());
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 -m venv (is python3-venv installed?)")?;
    if !status.success() {
        bail!("python3 -m venv failed ({status})");
    }
    println!("$ pip install torch numpy");
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "torch", "numpy"])
        .status()
        .context("running pip")?;
    if !status.success() || !has_torch(&python) {
        bail!("installing PyTorch into {} failed", venv.display());
    }
    Ok(python)
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

pub fn run(args: &[String]) -> Result<()> {
    let o = options(args)?;
    let root = std::env::current_dir().context("current directory")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    crate::cargo(&["bench", "-p", "trainer", "--bench", "families", "--no-run"])?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut rows = Vec::new();
    for family in &o.families {
        for backend in &o.backends {
            let what = format!("{family} on {backend}");
            println!("bench: {what}");
            let v = json_line(
                Command::new(&cargo)
                    .args(["bench", "-q", "-p", "trainer", "--bench", "families", "--"])
                    .args(["--family", family, "--backend", backend])
                    .args(["--steps", &o.steps, "--max-seconds", &o.max_seconds]),
                &what,
            )?;
            rows.push(v);
        }
        if o.pytorch {
            let python = pytorch_venv(&root)?;
            let what = format!("{family} on PyTorch");
            println!("bench: {what}");
            let v = json_line(
                Command::new(&python)
                    .arg(root.join("bench/pytorch/bench.py"))
                    .args(["--family", family, "--threads", &threads.to_string()])
                    .args(["--steps", &o.steps])
                    .arg("--data-dir")
                    .arg(fashion_mnist_dir()?),
                &what,
            )?;
            rows.push(v);
        }
    }

    let mut md = String::from(
        "| family | framework | train samples/s | × PyTorch | encode samples/s | × PyTorch | peak memory (MB) | data share of a step |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        let family = r["family"].as_str().unwrap_or("?");
        let torch = rows.iter().find(|t| {
            t["family"] == r["family"]
                && t["framework"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("pytorch"))
        });
        let ratio = |key: &str| match torch {
            Some(t) => format!("{:.2}", num(r, key) / num(t, key)),
            None => "—".into(),
        };
        md.push_str(&format!(
            "| {family} | {} | {:.0} | {} | {:.0} | {} | {:.0} | {} |\n",
            r["framework"].as_str().unwrap_or("?"),
            num(r, "train_samples_per_s"),
            ratio("train_samples_per_s"),
            num(r, "encode_samples_per_s"),
            ratio("encode_samples_per_s"),
            num(r, "peak_rss_bytes") / 1e6,
            r["data_fraction"]
                .as_f64()
                .map_or("—".into(), |f| format!("{:.1} %", 100.0 * f)),
        ));
    }
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&rows).context("results serialise")?;
    std::fs::write(dir.join("results.json"), json).context("writing results.json")?;
    std::fs::write(dir.join("results.md"), &md).context("writing results.md")?;
    println!(
        "\n{threads} threads; batch 128; Adam 1e-3; real Fashion-MNIST batches.\n\n{md}\nwrote {}",
        dir.join("results.json").display()
    );
    Ok(())
}
