//! `cargo xtask bench`: training and encoding throughput and peak memory of every
//! model family on each CPU backend, beside PyTorch on the same architectures, data,
//! batch size and thread count, in one run on one machine. Every measurement is
//! repeated (`--repeat`, 3 by default), the repetitions interleaved so that a slow
//! spell of the machine touches every framework alike; the table gives medians, and
//! each ratio is the median of the ratios taken within one repetition, with their
//! range. On the CPU backends each part of a step is timed too (data, forward,
//! backward, update, readback). The roofline: each backend's attainable GFLOP/s
//! (`matmul --peak`) and each row's training GFLOP/s as a fraction of it. Writes
//! `target/bench/results.json` (every run and the summary) and `target/bench/results.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

const FAMILIES: [&str; 5] = ["mlp", "deep", "conv", "vae", "aae"];

struct Options {
    families: Vec<String>,
    backends: Vec<String>,
    batch_sizes: Vec<String>,
    steps: String,
    max_seconds: String,
    repeat: usize,
    pytorch: bool,
    /// A folder with prebuilt `families` and `matmul` bench binaries, run instead of
    /// `cargo bench` (a GPU machine with no Rust and no network).
    binaries: Option<PathBuf>,
    /// A Python that already has PyTorch, used instead of the venv.
    python: Option<PathBuf>,
}

/// The value of `--repeat`: a whole number above 0.
pub(crate) fn repetitions(v: &str) -> Result<usize> {
    v.parse()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("--repeat {v}: expected a whole number above 0"))
}

/// Backends whose runs are set beside PyTorch on CUDA rather than on the CPU.
fn is_gpu(backend: &str) -> bool {
    matches!(backend, "wgpu" | "vulkan" | "cuda" | "metal")
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        families: FAMILIES.map(String::from).to_vec(),
        backends: vec!["flex".into(), "ndarray".into()],
        batch_sizes: vec!["128".into()],
        steps: "300".into(),
        max_seconds: "20".into(),
        repeat: 3,
        pytorch: true,
        binaries: None,
        python: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--families" => o.families = value()?.split(',').map(String::from).collect(),
            "--backends" => o.backends = value()?.split(',').map(String::from).collect(),
            "--batch-sizes" => o.batch_sizes = value()?.split(',').map(String::from).collect(),
            "--binaries" => o.binaries = Some(value()?.into()),
            "--python" => o.python = Some(value()?.into()),
            "--steps" => o.steps = value()?.clone(),
            "--max-seconds" => o.max_seconds = value()?.clone(),
            "--repeat" => o.repeat = repetitions(value()?)?,
            "--no-pytorch" => o.pytorch = false,
            other => bail!(
                "unknown flag {other}: expected --families, --backends, --batch-sizes, --steps, --max-seconds, --repeat, --no-pytorch, --binaries, --python"
            ),
        }
    }
    Ok(o)
}

/// The last line of a command's standard output, parsed as JSON.
pub(crate) fn json_line(cmd: &mut Command, what: &str) -> Result<Value> {
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
pub(crate) fn fashion_mnist_dir() -> Result<PathBuf> {
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

/// A virtual environment with PyTorch (CPU use of the PyPI wheel), NumPy and Pillow,
/// made once.
pub(crate) fn pytorch_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/bench/venv");
    let python = venv.join("bin/python");
    let has_torch = |python: &Path| {
        Command::new(python)
            .args(["-c", "import torch, numpy, PIL"])
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
    println!("$ pip install torch numpy pillow");
    let status = Command::new(&python)
        .args([
            "-m", "pip", "install", "--quiet", "torch", "numpy", "pillow",
        ])
        .status()
        .context("running pip")?;
    if !status.success() || !has_torch(&python) {
        bail!("installing PyTorch into {} failed", venv.display());
    }
    Ok(python)
}

pub(crate) fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// A command running the bench `name` (`families` or `matmul`) with the arguments
/// that follow: the prebuilt binary when there is one, else `cargo bench`.
fn bench_command(o: &Options, name: &str) -> Command {
    match &o.binaries {
        Some(dir) => Command::new(dir.join(name)),
        None => {
            let mut cmd = crate::cmd::command();
            cmd.args(["bench", "-q", "-p", "trainer", "--bench", name, "--"]);
            cmd
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let o = options(args)?;
    let root = std::env::current_dir().context("current directory")?;
    if o.binaries.is_none() {
        let build = [
            "bench", "-p", "trainer", "--bench", "families", "--bench", "matmul",
        ];
        crate::cmd::cargo(&[&build[..], &["--no-run"]].concat())?;
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let python = match (&o.python, o.pytorch) {
        (_, false) => None,
        (Some(python), true) => Some(python.clone()),
        (None, true) => Some(pytorch_venv(&root)?),
    };
    let torch_device = if o.backends.iter().any(|b| is_gpu(b)) {
        "cuda"
    } else {
        "cpu"
    };
    let peaks = peak_gflops(&o)?;
    let mut runs = Vec::new();
    for rep in 0..o.repeat {
        for family in &o.families {
            for batch in &o.batch_sizes {
                // Rows are per family and batch size; batch 128 keeps the plain name.
                let label = match batch.as_str() {
                    "128" => family.clone(),
                    b => format!("{family}, batch {b}"),
                };
                let labelled = |mut v: Value| {
                    v["family"] = label.clone().into();
                    with_rep(v, rep)
                };
                for backend in &o.backends {
                    let what = format!("{label} on {backend} ({}/{})", rep + 1, o.repeat);
                    println!("bench: {what}");
                    let mut cmd = bench_command(&o, "families");
                    cmd.args(crate::cmd::model_flags(family))
                        .args(["--backend", backend])
                        .args(["--batch-size", batch])
                        .args(["--steps", &o.steps, "--max-seconds", &o.max_seconds]);
                    if !is_gpu(backend) {
                        cmd.arg("--phases");
                    }
                    runs.push(labelled(json_line(&mut cmd, &what)?));
                }
                if let Some(python) = &python {
                    let what = format!("{label} on PyTorch ({}/{})", rep + 1, o.repeat);
                    println!("bench: {what}");
                    let v = json_line(
                        Command::new(python)
                            .arg(root.join("bench/pytorch/bench.py"))
                            .args(["--family", family, "--threads", &threads.to_string()])
                            .args(["--steps", &o.steps, "--batch-size", batch])
                            .args(["--device", torch_device])
                            .arg("--data-dir")
                            .arg(fashion_mnist_dir()?),
                        &what,
                    )?;
                    runs.push(labelled(v));
                }
            }
        }
    }
    let mut summary = summarise(&runs);
    roofline(&mut summary, &peaks);
    let md = markdown(&summary);
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "threads": threads,
        "repeat": o.repeat,
        "peak_gflops": peaks,
        "summary": summary,
        "runs": runs,
    }))
    .context("results serialise")?;
    std::fs::write(dir.join("results.json"), json).context("writing results.json")?;
    std::fs::write(dir.join("results.md"), &md).context("writing results.md")?;
    println!(
        "\n{threads} threads; batch {}; Adam 1e-3; real Fashion-MNIST batches; medians of {} runs.\n\n{md}\nwrote {}",
        o.batch_sizes.join(", "),
        o.repeat,
        dir.join("results.json").display()
    );
    Ok(())
}

/// The attainable GFLOP/s of each backend (`matmul --peak`), by framework name.
fn peak_gflops(o: &Options) -> Result<serde_json::Map<String, Value>> {
    let mut peaks = serde_json::Map::new();
    for backend in &o.backends {
        let what = format!("the attainable GFLOP/s of {backend}");
        println!("bench: {what}");
        let mut cmd = bench_command(o, "matmul");
        cmd.args(["--peak", "--backend", backend]);
        let v = json_line(&mut cmd, &what)?;
        let framework = v["framework"].as_str().unwrap_or(backend).to_string();
        peaks.insert(framework, v["peak_gflops"].clone());
    }
    Ok(peaks)
}

/// Each row's training GFLOP/s (from the architecture's count, which the burn runs
/// report) as a fraction of the attainable GFLOP/s: a burn row's own backend's, a
/// PyTorch row's the best of them (the machine's matrix-product ceiling as measured).
fn roofline(summary: &mut [Value], peaks: &serde_json::Map<String, Value>) {
    let reference = peaks.values().filter_map(Value::as_f64).reduce(f64::max);
    let per_sample: Vec<(Value, f64)> = summary
        .iter()
        .filter_map(|r| Some((r["family"].clone(), r["train_flops_per_sample"].as_f64()?)))
        .collect();
    for r in summary.iter_mut() {
        let flops = per_sample
            .iter()
            .find(|(family, _)| *family == r["family"])
            .map(|(_, f)| *f);
        let peak = match r["framework"].as_str() {
            Some(f) if peaks.contains_key(f) => peaks[f].as_f64(),
            _ => reference,
        };
        if let (Some(flops), Some(peak)) = (flops, peak) {
            let gflops = num(r, "train_samples_per_s") * flops / 1e9;
            r["train_gflops"] = gflops.into();
            r["of_attainable"] = (gflops / peak).into();
        }
    }
}

fn with_rep(mut v: Value, rep: usize) -> Value {
    v["repetition"] = rep.into();
    v
}

/// The median of `xs` (NaN when empty).
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => 0.5 * (xs[n / 2 - 1] + xs[n / 2]),
    }
}

fn is_pytorch(run: &Value) -> bool {
    run["framework"]
        .as_str()
        .is_some_and(|f| f.starts_with("pytorch"))
}

const PHASES: [&str; 5] = ["data", "forward", "backward", "update", "readback"];

/// One row per family and framework, in the order first run: medians over the
/// repetitions, and each ratio to PyTorch as the median (with min and max) of the
/// ratios taken within one repetition.
fn summarise(runs: &[Value]) -> Vec<Value> {
    let mut keys: Vec<(Value, Value)> = Vec::new();
    for r in runs {
        let key = (r["family"].clone(), r["framework"].clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(family, framework)| {
            let mine: Vec<&Value> = runs
                .iter()
                .filter(|r| r["family"] == family && r["framework"] == framework)
                .collect();
            let med = |key: &str| median(mine.iter().map(|r| num(r, key)).collect());
            let ratios = |key: &str| -> Value {
                let xs: Vec<f64> = mine
                    .iter()
                    .filter_map(|r| {
                        let torch = runs.iter().find(|t| {
                            is_pytorch(t)
                                && t["family"] == family
                                && t["repetition"] == r["repetition"]
                        })?;
                        Some(num(r, key) / num(torch, key))
                    })
                    .filter(|x| x.is_finite())
                    .collect();
                if xs.is_empty() {
                    return Value::Null;
                }
                let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                serde_json::json!({ "median": median(xs), "min": min, "max": max })
            };
            let phases: serde_json::Map<String, Value> = PHASES
                .iter()
                .filter_map(|p| {
                    let xs: Vec<f64> = mine
                        .iter()
                        .filter_map(|r| r["phases_ms"][*p].as_f64())
                        .collect();
                    (!xs.is_empty()).then(|| (p.to_string(), median(xs).into()))
                })
                .collect();
            serde_json::json!({
                "family": family,
                "framework": framework,
                "runs": mine.len(),
                "train_samples_per_s": med("train_samples_per_s"),
                "train_vs_pytorch": ratios("train_samples_per_s"),
                "encode_samples_per_s": med("encode_samples_per_s"),
                "encode_vs_pytorch": ratios("encode_samples_per_s"),
                "peak_rss_bytes": med("peak_rss_bytes"),
                "train_flops_per_sample": med("train_flops_per_sample"),
                "data_fraction": med("data_fraction"),
                "phases_ms": if phases.is_empty() { Value::Null } else { Value::Object(phases) },
            })
        })
        .collect()
}

/// The family column of consecutive rows: the name on the first row of each family,
/// empty below it.
fn family_cells<'a>(rows: impl Iterator<Item = &'a Value>) -> Vec<&'a str> {
    let mut last = None;
    rows.map(|r| {
        let family = r["family"].as_str().unwrap_or("?");
        let shown = if last == Some(family) { "" } else { family };
        last = Some(family);
        shown
    })
    .collect()
}

/// The throughput table and, where parts of a step were timed, the step-parts table.
fn markdown(summary: &[Value]) -> String {
    let ratio = |v: &Value| match (v["median"].as_f64(), v["min"].as_f64(), v["max"].as_f64()) {
        (Some(m), Some(lo), Some(hi)) if (hi - lo) > 0.005 => format!("{m:.2} ({lo:.2}–{hi:.2})"),
        (Some(m), _, _) => format!("{m:.2}"),
        _ => "—".into(),
    };
    let mut md = String::from(
        "| family | framework | train samples/s | × PyTorch | training GFLOP/s (of attainable) | encode samples/s | × PyTorch | peak memory (MB) | data share of a step |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (r, shown) in summary.iter().zip(family_cells(summary.iter())) {
        md.push_str(&format!(
            "| {shown} | {} | {:.0} | {} | {} | {:.0} | {} | {:.0} | {} |\n",
            r["framework"].as_str().unwrap_or("?"),
            num(r, "train_samples_per_s"),
            ratio(&r["train_vs_pytorch"]),
            match (r["train_gflops"].as_f64(), r["of_attainable"].as_f64()) {
                (Some(g), Some(f)) => format!("{g:.0} ({:.0} %)", 100.0 * f),
                _ => "—".into(),
            },
            num(r, "encode_samples_per_s"),
            ratio(&r["encode_vs_pytorch"]),
            num(r, "peak_rss_bytes") / 1e6,
            r["data_fraction"]
                .as_f64()
                .filter(|f| f.is_finite())
                .map_or("—".into(), |f| format!("{:.1} %", 100.0 * f)),
        ));
    }
    let timed: Vec<&Value> = summary
        .iter()
        .filter(|r| r["phases_ms"].is_object())
        .collect();
    if !timed.is_empty() {
        md.push_str("\nmilliseconds per training step, by part (medians):\n\n| family | framework | data | forward | backward | update | readback | step |\n|---|---|---|---|---|---|---|---|\n");
        for (r, shown) in timed.iter().zip(family_cells(timed.iter().copied())) {
            let parts: Vec<f64> = PHASES.iter().map(|p| num(&r["phases_ms"], p)).collect();
            let cells: Vec<String> = parts.iter().map(|x| format!("{x:.2}")).collect();
            md.push_str(&format!(
                "| {shown} | {} | {} | {:.2} |\n",
                r["framework"].as_str().unwrap_or("?"),
                cells.join(" | "),
                parts.iter().sum::<f64>(),
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(framework: &str, rep: usize, train: f64, forward: Option<f64>) -> Value {
        let mut v = serde_json::json!({
            "family": "mlp",
            "framework": framework,
            "repetition": rep,
            "train_samples_per_s": train,
            "encode_samples_per_s": 100.0,
            "peak_rss_bytes": 1e8,
        });
        if let Some(f) = forward {
            v["phases_ms"] = serde_json::json!({ "forward": f });
        }
        v
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn ratios_are_taken_within_a_repetition() {
        // The machine is twice as fast in repetition 1: the ratio stays 0.5, 0.8, 0.6.
        let runs = vec![
            run("burn flex", 0, 50.0, Some(4.0)),
            run("pytorch", 0, 100.0, Some(3.0)),
            run("burn flex", 1, 160.0, Some(2.0)),
            run("pytorch", 1, 200.0, Some(1.0)),
            run("burn flex", 2, 60.0, Some(3.0)),
            run("pytorch", 2, 100.0, Some(2.0)),
        ];
        let s = summarise(&runs);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["framework"], "burn flex");
        assert_eq!(s[0]["runs"], 3);
        assert_eq!(num(&s[0], "train_samples_per_s"), 60.0);
        let r = &s[0]["train_vs_pytorch"];
        assert!((num(r, "median") - 0.6).abs() < 1e-12);
        assert!((num(r, "min") - 0.5).abs() < 1e-12);
        assert!((num(r, "max") - 0.8).abs() < 1e-12);
        assert_eq!(num(&s[0]["phases_ms"], "forward"), 3.0);
        assert_eq!(num(&s[1]["train_vs_pytorch"], "median"), 1.0);
        let md = markdown(&s);
        assert!(
            md.contains("| mlp | burn flex | 60 | 0.60 (0.50–0.80) |"),
            "{md}"
        );
        assert!(md.contains("| forward |"), "{md}");
    }

    #[test]
    fn the_roofline_divides_training_flops_by_the_attainable_rate() {
        let mut burn = run("burn flex", 0, 1000.0, None);
        burn["train_flops_per_sample"] = 2e6.into(); // 2 GFLOP/s at 1,000 samples/s
        let mut s = summarise(&[burn, run("pytorch", 0, 2000.0, None)]);
        let peaks = serde_json::json!({ "burn flex": 8.0, "burn ndarray": 10.0 });
        roofline(&mut s, peaks.as_object().expect("an object"));
        assert_eq!(num(&s[0], "train_gflops"), 2.0);
        assert_eq!(num(&s[0], "of_attainable"), 0.25);
        // PyTorch trains the same architecture: its rate against the best peak.
        assert_eq!(num(&s[1], "train_gflops"), 4.0);
        assert_eq!(num(&s[1], "of_attainable"), 0.4);
        assert!(markdown(&s).contains("| 2 (25 %) |"), "{}", markdown(&s));
    }
}
