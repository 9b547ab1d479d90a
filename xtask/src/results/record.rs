//! What a run of an experiment writes: `docs/results/NAME.json` — its figures (mean,
//! spread and each seed's value), the exact commands with their wall times, the
//! seeds, the versions, the machine and the date.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::experiment::{Experiment, Scale};

/// A results file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    pub experiment: String,
    pub title: String,
    /// `full` or `quick`.
    pub size: String,
    /// The day it ran (UTC), `YYYY-MM-DD`.
    pub date: String,
    pub machine: Machine,
    /// The trainer, the compiler, the commit and the Python the commands ran with.
    pub versions: BTreeMap<String, String>,
    pub seeds: Vec<u64>,
    pub figures: BTreeMap<String, Stats>,
    /// Every command, in the order it ran.
    pub runs: Vec<Run>,
    /// Wall time of the whole experiment.
    pub seconds: f64,
}

/// A figure over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// One value per seed, in the order of the seeds (one for an unseeded step).
    pub values: Vec<f64>,
}

impl Stats {
    pub fn of(values: Vec<f64>) -> Stats {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Stats {
            mean,
            std,
            min,
            max,
            values,
        }
    }
}

/// One command as it ran.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub seconds: f64,
}

/// The machine, as a reader comparing figures needs it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: u64,
    pub os: String,
}

impl Machine {
    pub fn here() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = field(&cpuinfo, "model name", ':').unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: u64 = field(&meminfo, "MemTotal", ':')
            .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let os = field(&release, "PRETTY_NAME", '=')
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| std::env::consts::OS.into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gib: (kib as f64 / (1024.0 * 1024.0)).round() as u64,
            os,
        }
    }

    /// One line: `2 cores of an AMD EPYC 7B13, 24 GiB`.
    pub fn line(&self) -> String {
        format!(
            "{} cores of {}, {} GiB",
            self.cores,
            self.cpu.split_whitespace().collect::<Vec<_>>().join(" "),
            self.memory_gib
        )
    }
}

/// The value of the first `key SEP value` line.
fn field(text: &str, key: &str, sep: char) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(sep)?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The versions the commands ran with.
pub fn versions(trainer: &Path, python: Option<&Path>) -> BTreeMap<String, String> {
    let output = |cmd: &mut Command| {
        cmd.output().ok().filter(|o| o.status.success()).map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text).trim().to_string()
        })
    };
    let mut out = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            out.insert(key.to_string(), v);
        }
    };
    put("trainer", output(Command::new(trainer).arg("--version")));
    put("rustc", output(Command::new("rustc").arg("--version")));
    let commit = output(Command::new("git").args(["rev-parse", "--short=12", "HEAD"]));
    let dirty = output(Command::new("git").args(["status", "--porcelain", "--untracked-files=no"]))
        .is_some_and(|s| !s.is_empty());
    put(
        "commit",
        commit.map(|c| if dirty { c + " (modified)" } else { c }),
    );
    if let Some(python) = python {
        put(
            "python",
            output(Command::new(python).args([
                "-c",
                "import platform, numpy; print(platform.python_version(), 'numpy', numpy.__version__)",
            ])),
        );
    }
    out
}

/// The PyTorch a reference ran with, as `("pytorch", "2.x.y")`.
pub fn torch_version(python: &Path) -> Option<(String, String)> {
    let out = Command::new(python)
        .args(["-c", "import torch; print(torch.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some(("pytorch".to_string(), version))
}

/// Today (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// The calendar date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A figure's value at `pointer` in a command's JSON output.
pub fn read_figure(output: &Value, pointer: &str, name: &str) -> Result<f64> {
    let value = find(output, pointer)
        .with_context(|| format!("figure '{name}': nothing at {pointer} in the output"))?;
    match value.as_f64() {
        Some(v) if v.is_finite() => Ok(v),
        _ => bail!("figure '{name}': {value} at {pointer} is not a finite number"),
    }
}

/// The largest |v − c| over the numbers of the array at `pointer`.
pub fn max_abs_from(output: &Value, pointer: &str, c: f64, name: &str) -> Result<f64> {
    let array = find(output, pointer)
        .and_then(Value::as_array)
        .with_context(|| format!("figure '{name}': no array at {pointer} in the output"))?;
    let mut largest: Option<f64> = None;
    for value in array {
        match value.as_f64() {
            Some(v) if v.is_finite() => largest = Some(largest.unwrap_or(0.0).max((v - c).abs())),
            _ => bail!("figure '{name}': {value} in {pointer} is not a finite number"),
        }
    }
    largest.with_context(|| format!("figure '{name}': the array at {pointer} is empty"))
}

/// The value at a JSON pointer, where `-1` also names an array's last element (the
/// last epoch of a run, whatever its length).
fn find<'a>(output: &'a Value, pointer: &str) -> Option<&'a Value> {
    let Some((head, tail)) = pointer.split_once("/-1") else {
        return output.pointer(pointer);
    };
    if !tail.is_empty() && !tail.starts_with('/') {
        return output.pointer(pointer);
    }
    let last = output.pointer(head)?.as_array()?.last()?;
    find(last, tail)
}

/// Parses a command's JSON output: the whole text, or else its last line (progress
/// may come before it).
pub fn parse_output(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).or_else(|_| {
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        serde_json::from_str(last).with_context(|| format!("{what} did not print JSON"))
    })
}

/// Where a quick run may not go: each figure within its tolerance of the stored quick
/// reference. Returns one line per figure that moved too far.
pub fn drift(experiment: &Experiment, now: &Results, reference: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let scale = if now.size == "full" {
        Scale::Full
    } else {
        Scale::Quick
    };
    for (name, tolerance) in experiment.figures_of(scale) {
        match (now.figures.get(&name), reference.figures.get(&name)) {
            (Some(a), Some(b)) if (a.mean - b.mean).abs() <= tolerance => {}
            (Some(a), Some(b)) => out.push(format!(
                "{name}: {} against the stored {} (tolerance {tolerance})",
                a.mean, b.mean
            )),
            (_, None) => out.push(format!(
                "{name}: not in the stored reference (store it with --store)"
            )),
            (None, _) => out.push(format!("{name}: not measured")),
        }
    }
    out
}

/// Pairs of figures that disagree beyond what their experiment allows.
pub fn disagreements(experiment: &Experiment, figures: &BTreeMap<String, Stats>) -> Vec<String> {
    let mut out = Vec::new();
    for agreement in &experiment.agreements {
        let [a, b] = &agreement.figures;
        if let (Some(x), Some(y)) = (figures.get(a), figures.get(b))
            && (x.mean - y.mean).abs() > agreement.within
        {
            out.push(format!(
                "{a} = {} and {b} = {} differ by more than {}",
                x.mean, y.mean, agreement.within
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_one_in_a_pointer_names_the_last_element() {
        let v: Value =
            serde_json::json!({"epochs": [{"dead": 0.5}, {"dead": 0.25}], "a": {"-10": 3.0}});
        assert_eq!(
            read_figure(&v, "/epochs/-1/dead", "d").expect("found"),
            0.25
        );
        assert_eq!(read_figure(&v, "/epochs/0/dead", "d").expect("found"), 0.5);
        assert_eq!(read_figure(&v, "/a/-10", "a").expect("a key"), 3.0);
        assert!(read_figure(&v, "/none/-1/dead", "d").is_err());
        let codes = serde_json::json!({"std": [0.9, 1.05, 1.2], "empty": [], "bad": [1.0, null]});
        let off = max_abs_from(&codes, "/std", 1.0, "s").expect("an array");
        assert!((off - 0.2).abs() < 1e-12, "{off}");
        assert!(max_abs_from(&codes, "/empty", 1.0, "s").is_err());
        assert!(max_abs_from(&codes, "/bad", 1.0, "s").is_err());
        assert!(
            max_abs_from(&v, "/epochs/0/dead", 1.0, "s").is_err(),
            "not an array"
        );
    }

    #[test]
    fn stats_are_the_mean_and_the_sample_spread() {
        let s = Stats::of(vec![1.0, 2.0, 3.0]);
        assert_eq!((s.mean, s.std, s.min, s.max), (2.0, 1.0, 1.0, 3.0));
        assert_eq!(Stats::of(vec![4.5]).std, 0.0);
    }

    #[test]
    fn dates_are_counted_from_the_epoch() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_794), "2026-12-07");
    }

    #[test]
    fn outputs_and_figures_are_read_or_refused_by_name() {
        let v = parse_output(
            "epoch 1\n{\"test\": {\"mse\": 0.5, \"bad\": \"NaN\"}}\n",
            "x",
        )
        .expect("last line");
        assert_eq!(read_figure(&v, "/test/mse", "mse").ok(), Some(0.5));
        let err = read_figure(&v, "/test/bad", "bad")
            .expect_err("an error")
            .to_string();
        assert!(err.contains("not a finite number"), "{err}");
        let err = read_figure(&v, "/test/x", "x")
            .expect_err("an error")
            .to_string();
        assert!(err.contains("nothing at /test/x"), "{err}");
        assert!(parse_output("no json", "trainer").is_err());
    }

    fn results(figures: &[(&str, f64)]) -> Results {
        Results {
            experiment: "x".into(),
            title: "t".into(),
            size: "quick".into(),
            date: today(),
            machine: Machine::here(),
            versions: BTreeMap::new(),
            seeds: vec![42],
            figures: figures
                .iter()
                .map(|(k, v)| (k.to_string(), Stats::of(vec![*v])))
                .collect(),
            runs: Vec::new(),
            seconds: 1.0,
        }
    }

    #[test]
    fn a_quick_run_drifts_beyond_its_tolerance_or_disagrees_with_its_reference() {
        let e = crate::results::experiment::parse(
            r#"
title = "t"
seeds = [42]
quick = {}
full = {}
render = ""
[[step]]
command = ["a"]
figures.ours = { pointer = "/a", tolerance = 0.01 }
figures.theirs = { pointer = "/b", tolerance = 0.01 }
[[agree]]
figures = ["ours", "theirs"]
within = 0.1
"#,
        )
        .expect("parses");
        let stored = results(&[("ours", 1.0), ("theirs", 1.05)]);
        let near = results(&[("ours", 1.009), ("theirs", 1.05)]);
        assert!(drift(&e, &near, &stored).is_empty());
        assert!(disagreements(&e, &near.figures).is_empty());
        let far = results(&[("ours", 1.02), ("theirs", 1.2)]);
        let moved = drift(&e, &far, &stored);
        assert_eq!(moved.len(), 2, "{moved:?}");
        assert!(
            moved[0].starts_with("ours: 1.02 against the stored 1"),
            "{moved:?}"
        );
        assert_eq!(disagreements(&e, &far.figures).len(), 1);
        let missing = results(&[("ours", 1.0)]);
        assert_eq!(drift(&e, &missing, &stored), ["theirs: not measured"]);
        assert_eq!(
            drift(&e, &stored, &missing),
            ["theirs: not in the stored reference (store it with --store)"]
        );
    }

    #[test]
    fn the_machine_is_described_without_paths() {
        let m = Machine::here();
        assert!(m.cores >= 1);
        assert!(!m.line().contains('/'), "{}", m.line());
    }
}
