//! `cargo xtask bench-runs`: whole training runs, as a user starts them. Each family
//! is trained by the release `trainer train` on a CPU backend — data loading, every
//! epoch with its validation, the checkpoints, the pictures and the test evaluation —
//! and by the same architecture's run in PyTorch (`bench/pytorch/train.py`: the same
//! split, batches, optimiser and test error), the wall time of each process measured,
//! repetitions interleaved. The test error each reached is set beside the time, so a
//! speed is never read without the numbers it produced. Writes
//! `target/bench/runs.json` and `target/bench/runs.md`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::bench::{fashion_mnist_dir, json_line, median, num, pytorch_venv, repetitions};

struct Options {
    families: Vec<String>,
    backend: String,
    epochs: String,
    limit: Option<String>,
    repeat: usize,
    pytorch: bool,
    python: Option<PathBuf>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        families: ["mlp", "deep", "conv", "vae", "aae"]
            .map(String::from)
            .to_vec(),
        backend: "flex".into(),
        epochs: "3".into(),
        limit: None,
        repeat: 1,
        pytorch: true,
        python: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--families" => o.families = value()?.split(',').map(String::from).collect(),
            "--backend" => o.backend = value()?.clone(),
            "--epochs" => o.epochs = value()?.clone(),
            "--limit" => o.limit = Some(value()?.clone()),
            "--python" => o.python = Some(value()?.into()),
            "--no-pytorch" => o.pytorch = false,
            "--repeat" => o.repeat = repetitions(value()?)?,
            other => bail!(
                "unknown flag {other}: expected --families, --backend, --epochs, --limit, --repeat, --python, --no-pytorch"
            ),
        }
    }
    Ok(o)
}

/// Runs `cmd`, returning its wall time in seconds, or its error output.
fn timed(cmd: &mut Command, what: &str) -> Result<f64> {
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(seconds)
}

pub fn run(args: &[String]) -> Result<()> {
    let o = options(args)?;
    let root = std::env::current_dir().context("current directory")?;
    crate::cmd::cargo(&["build", "--release", "-p", "trainer"])?;
    let trainer = crate::cmd::target_dir().join("release/trainer");
    let python = match (&o.python, o.pytorch) {
        (_, false) => None,
        (Some(python), true) => Some(python.clone()),
        (None, true) => Some(pytorch_venv(&root)?),
    };
    let data = fashion_mnist_dir()?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let out = root.join("target/bench/runs");
    let mut runs = Vec::new();
    for rep in 0..o.repeat {
        for family in &o.families {
            let what = format!("{family}: trainer train ({}/{})", rep + 1, o.repeat);
            println!("bench-runs: {what}");
            let artifact = out.join(family);
            let mut cmd = Command::new(&trainer);
            cmd.args(["train", "--dataset", "fashion-mnist", "--data-dir"])
                .arg(&data)
                .args(crate::cmd::model_flags(family))
                .args(["--epochs", &o.epochs, "--backend", &o.backend, "--force"])
                .arg("--out")
                .arg(&artifact);
            if let Some(n) = &o.limit {
                cmd.args(["--limit", n]);
            }
            let seconds = timed(&mut cmd, &what)?;
            let metrics = artifact.join("metrics.json");
            let m: Value = serde_json::from_str(
                &std::fs::read_to_string(&metrics)
                    .with_context(|| format!("reading {}", metrics.display()))?,
            )
            .with_context(|| format!("parsing {}", metrics.display()))?;
            runs.push(serde_json::json!({
                "family": family, "repetition": rep,
                "framework": format!("burn {}", o.backend),
                "run_seconds": seconds,
                "test_mse_per_pixel": m["test"]["mse_per_pixel"],
            }));

            let Some(python) = &python else { continue };
            let what = format!("{family}: PyTorch ({}/{})", rep + 1, o.repeat);
            println!("bench-runs: {what}");
            let mut cmd = Command::new(python);
            cmd.arg(root.join("bench/pytorch/train.py"))
                .args(["--family", family, "--epochs", &o.epochs])
                .args(["--threads", &threads.to_string(), "--data-dir"])
                .arg(&data);
            if let Some(n) = &o.limit {
                cmd.args(["--limit", n]);
            }
            let start = Instant::now();
            let mut v = json_line(&mut cmd, &what)?;
            v["run_seconds"] = start.elapsed().as_secs_f64().into();
            v["repetition"] = rep.into();
            runs.push(v);
        }
    }
    let md = markdown(&o.families, &runs);
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "threads": threads, "epochs": o.epochs, "limit": o.limit, "runs": runs,
    }))
    .context("results serialise")?;
    std::fs::write(dir.join("runs.json"), json).context("writing runs.json")?;
    std::fs::write(dir.join("runs.md"), &md).context("writing runs.md")?;
    println!(
        "\n{} epochs of Fashion-MNIST, {threads} threads; medians of {} runs.\n\n{md}\nwrote {}",
        o.epochs,
        o.repeat,
        dir.join("runs.json").display()
    );
    Ok(())
}

/// One row per family: the median wall time of each framework's process, PyTorch's
/// own epochs alone, the speed ratio (PyTorch's time over burn's: above 1, burn is
/// faster) as the median and range of the ratios within a repetition, and the test
/// error of each framework's last run.
fn markdown(families: &[String], runs: &[Value]) -> String {
    let mut md = String::from(
        "| family | burn run (s) | PyTorch run (s) | PyTorch epochs alone (s) | burn speed × PyTorch (range) | test MSE per pixel, burn | PyTorch |\n|---|---|---|---|---|---|---|\n",
    );
    let is_torch = |r: &&Value| {
        r["framework"]
            .as_str()
            .is_some_and(|f| f.starts_with("pytorch"))
    };
    for family in families {
        let (torch, burn): (Vec<&Value>, Vec<&Value>) = runs
            .iter()
            .filter(|r| r["family"] == **family)
            .partition(is_torch);
        let med = |rs: &[&Value], key: &str| median(rs.iter().map(|r| num(r, key)).collect());
        let ratios: Vec<f64> = burn
            .iter()
            .filter_map(|b| {
                let t = torch.iter().find(|t| t["repetition"] == b["repetition"])?;
                Some(num(t, "run_seconds") / num(b, "run_seconds"))
            })
            .collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ratio = match median(ratios) {
            m if m.is_nan() => "—".into(),
            m if hi - lo > 0.005 => format!("{m:.2} ({lo:.2}–{hi:.2})"),
            m => format!("{m:.2}"),
        };
        let last = |rs: &[&Value]| rs.last().map_or(f64::NAN, |r| num(r, "test_mse_per_pixel"));
        // A figure, or a dash where there is none (a run without PyTorch).
        let cell = |x: f64, digits: usize| {
            if x.is_finite() {
                format!("{x:.digits$}")
            } else {
                "—".into()
            }
        };
        md.push_str(&format!(
            "| {family} | {} | {} | {} | {ratio} | {} | {} |\n",
            cell(med(&burn, "run_seconds"), 1),
            cell(med(&torch, "run_seconds"), 1),
            cell(med(&torch, "epochs_seconds"), 1),
            cell(last(&burn), 4),
            cell(last(&torch), 4),
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_sets_each_family_s_times_ratio_and_errors_side_by_side() {
        let run = |framework: &str, rep: usize, seconds: f64, mse: f64| {
            serde_json::json!({
                "family": "conv", "framework": framework, "repetition": rep,
                "run_seconds": seconds, "epochs_seconds": seconds - 4.0,
                "test_mse_per_pixel": mse,
            })
        };
        let runs = [
            run("burn flex", 0, 20.0, 0.0120),
            run("pytorch 2.15", 0, 30.0, 0.0110),
            run("burn flex", 1, 40.0, 0.0121),
            run("pytorch 2.15", 1, 40.0, 0.0111),
        ];
        let md = markdown(&["conv".into()], &runs);
        // Ratios 1.5 and 1.0 within the repetitions; medians 30 s and 35 s.
        assert!(
            md.contains("| conv | 30.0 | 35.0 | 31.0 | 1.25 (1.00–1.50) | 0.0121 | 0.0111 |"),
            "{md}"
        );
        // Without PyTorch, its cells are dashes.
        let md = markdown(&["conv".into()], &runs[..1]);
        assert!(
            md.contains("| conv | 20.0 | — | — | — | 0.0120 | — |"),
            "{md}"
        );
    }
}
