//! `cargo xtask results`: the README's figures as experiments that anyone can run
//! again (`bench/experiments/NAME.toml`), their results files (`docs/results/`), and
//! the README's results written from those files.
//!
//! - `run NAME…|--all [--quick] [--store] [--python PATH]`: runs the experiments at
//!   their full size and writes `docs/results/NAME.json`; with `--quick`, at their
//!   quick size into `target/results/quick/`, checked against the stored quick
//!   reference `docs/results/quick/NAME.json` within each figure's tolerance
//!   (`--store` writes that reference instead). Every size checks the experiment's
//!   agreements (an implementation against its independent reference).
//! - `render`: writes each experiment's text, filled from its full results, between
//!   its markers in README.md.
//! - `check`: fails if README.md differs from that rendering (a test does the same).
//! - `list`: the experiments, their seeds and titles.

mod experiment;
mod record;
mod render;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use experiment::{Experiment, Planned, Scale};
use record::{Results, Stats};

/// The workspace root, where the commands run.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where a size's results file is.
fn results_path(root: &Path, name: &str, quick: bool) -> PathBuf {
    let dir = root.join("docs/results");
    if quick {
        dir.join("quick").join(format!("{name}.json"))
    } else {
        dir.join(format!("{name}.json"))
    }
}

fn read_results(path: &Path) -> Result<Results> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn write_json(path: &Path, results: &Results) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(results)? + "\n";
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

pub fn run(args: &[String]) -> Result<()> {
    let root = root();
    match args.first().map(String::as_str) {
        Some("run") => run_experiments(&root, &args[1..], &[]),
        Some("render") => {
            let readme = root.join("README.md");
            let text = rendered_readme(&root)?;
            std::fs::write(&readme, text)
                .with_context(|| format!("writing {}", readme.display()))?;
            println!("README.md: results written from docs/results/");
            Ok(())
        }
        Some("check") => check_readme(&root),
        Some("list") => {
            for (name, e) in experiment::load_all(&root)? {
                let figures = e.figure_names(Scale::Full).len();
                println!(
                    "{name:<24} {} seed(s), {figures:>2} figures  {}",
                    e.seeds.len(),
                    e.title
                );
            }
            Ok(())
        }
        _ => bail!(
            "usage: cargo xtask results run NAME…|--all [--quick] [--store] [--python PATH] | render | check | list"
        ),
    }
}

/// README.md as `render` would write it.
fn rendered_readme(root: &Path) -> Result<String> {
    let experiments = experiment::load_all(root)?;
    let mut rendered = Vec::new();
    for (name, e) in &experiments {
        let results = read_results(&results_path(root, name, false)).with_context(|| {
            format!("{name} has no full results: `cargo xtask results run {name}`")
        })?;
        rendered.push((name.clone(), render::fill(&e.render, name, &results)?));
    }
    let readme = root.join("README.md");
    let text = std::fs::read_to_string(&readme)
        .with_context(|| format!("reading {}", readme.display()))?;
    render::into_readme(&text, &rendered)
}

fn check_readme(root: &Path) -> Result<()> {
    let readme = std::fs::read_to_string(root.join("README.md")).context("reading README.md")?;
    let rendered = rendered_readme(root)?;
    if readme != rendered {
        let line = readme
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .map_or(0, |i| i + 1);
        bail!(
            "README.md's results differ from docs/results/ (first at line {line}): a figure \
             is written by `cargo xtask results render`, not by hand"
        );
    }
    Ok(())
}

struct RunOptions {
    names: Vec<String>,
    all: bool,
    scale: Scale,
    store: bool,
    python: Option<PathBuf>,
}

fn run_options(args: &[String]) -> Result<RunOptions> {
    let mut o = RunOptions {
        names: Vec::new(),
        all: false,
        scale: Scale::Full,
        store: false,
        python: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--all" => o.all = true,
            "--quick" => o.scale = Scale::Quick,
            "--store" => o.store = true,
            "--python" => o.python = Some(it.next().context("--python needs a path")?.into()),
            flag if flag.starts_with('-') => {
                bail!("unknown flag {flag}: expected --all, --quick, --store, --python")
            }
            name => o.names.push(name.to_string()),
        }
    }
    if o.all != o.names.is_empty() {
        bail!("name the experiments to run, or give --all (`cargo xtask results list`)");
    }
    if o.store && o.scale != Scale::Quick {
        bail!("--store writes the quick reference: give it with --quick");
    }
    Ok(o)
}

/// The Python of the reference scripts: `--python`, `AE_PYTHON`, the tests' venv, or
/// `python3`.
fn python(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os("AE_PYTHON").map(PathBuf::from))
        .or_else(|| {
            let venv = crate::cmd::target_dir().join("python/bin/python");
            venv.is_file().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// `cargo xtask ci`'s step: every experiment at its quick size, checked against its
/// stored quick reference, with the trainer of CI's build (`env`) and its Python.
pub fn run_quick(env: &[(&str, &OsStr)], python: Option<&Path>) -> Result<()> {
    let mut args = vec!["--all".to_string(), "--quick".to_string()];
    if let Some(python) = python {
        args.push("--python".into());
        args.push(python.display().to_string());
    }
    run_experiments(&root(), &args, env)
}

/// Runs the experiments `args` name, the trainer built with the variables `env`.
fn run_experiments(root: &Path, args: &[String], env: &[(&str, &OsStr)]) -> Result<()> {
    let o = run_options(args)?;
    let mut experiments = experiment::load_all(root)?;
    if !o.all {
        for name in &o.names {
            if !experiments.contains_key(name) {
                bail!(
                    "no experiment '{name}' in {} (`cargo xtask results list`)",
                    experiment::DIR
                );
            }
        }
        experiments.retain(|name, _| o.names.contains(name));
    }
    crate::cmd::cargo_with(&["build", "--release", "-p", "trainer"], env)?;
    let trainer = crate::cmd::target_dir().join("release/trainer");
    let python = python(o.python.clone());
    let mut failures = Vec::new();
    for (name, e) in &experiments {
        println!("results: {name} ({}): {}", o.scale.name(), e.title);
        if let Err(err) = run_one(root, name, e, &o, &trainer, &python) {
            eprintln!("results: {name}: {err:#}");
            failures.push(format!("{name}: {err:#}"));
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} experiment(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    Ok(())
}

/// Runs one experiment at the chosen size, writes its file and checks it.
fn run_one(
    root: &Path,
    name: &str,
    e: &Experiment,
    o: &RunOptions,
    trainer: &Path,
    python: &Path,
) -> Result<()> {
    let work = PathBuf::from("target/results/work").join(name);
    let _ = std::fs::remove_dir_all(root.join(&work));
    std::fs::create_dir_all(root.join(&work))
        .with_context(|| format!("creating {}", work.display()))?;
    let torch = if e.uses(o.scale, "{torch}") {
        Some(crate::bench::pytorch_venv(root)?)
    } else {
        None
    };
    let xtask = std::env::current_exe().context("finding this program")?;
    let cx = experiment::Places {
        trainer,
        xtask: &xtask,
        python,
        torch: torch.as_deref(),
        work: &work,
    };
    let plan = e.plan(o.scale, &cx)?;
    let uses_python = plan
        .iter()
        .any(|p| p.argv[0] == python.display().to_string());
    // The versions as the runs start (a file edited while they run is not theirs).
    let mut versions = record::versions(trainer, uses_python.then_some(python));
    versions.extend(torch.as_deref().and_then(record::torch_version));
    let start = Instant::now();
    let mut values = Values::default();
    let mut runs = Vec::new();
    for planned in &plan {
        let (seconds, found) = execute(root, e, planned)?;
        for (figure, value) in found {
            values.add(planned, figure, value);
        }
        runs.push(record::Run {
            command: planned.shown.clone(),
            seed: planned.seed,
            seconds: (seconds * 10.0).round() / 10.0,
        });
    }
    let results = Results {
        experiment: name.to_string(),
        title: e.title.clone(),
        size: o.scale.name().to_string(),
        date: record::today(),
        machine: record::Machine::here(),
        versions,
        seeds: e.seeds(o.scale).to_vec(),
        figures: values.finish(),
        runs,
        seconds: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    };
    for (figure, s) in &results.figures {
        println!(
            "  {figure:<28} {:.6} ± {:.6} over {}",
            s.mean,
            s.std,
            s.values.len()
        );
    }
    let mut problems = record::disagreements(e, &results.figures);
    let path = match (o.scale, o.store) {
        (Scale::Full, _) => results_path(root, name, false),
        (Scale::Quick, true) => results_path(root, name, true),
        (Scale::Quick, false) => crate::cmd::target_dir()
            .join("results/quick")
            .join(format!("{name}.json")),
    };
    if o.scale == Scale::Quick && !o.store {
        let reference = read_results(&results_path(root, name, true))
            .context("no stored quick reference: `cargo xtask results run NAME --quick --store`")?;
        problems.extend(record::drift(e, &results, &reference));
    }
    if problems.is_empty() || o.scale == Scale::Quick {
        write_json(&path, &results)?;
        println!("  wrote {} ({:.0} s)", path.display(), results.seconds);
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("; "));
    }
    Ok(())
}

/// The values of an experiment's figures as its commands give them.
#[derive(Default)]
struct Values {
    by_figure: BTreeMap<String, Vec<f64>>,
    /// The figures of steps run for each word of a list, by figure and seed: their
    /// mean over the words is the figure's value for that seed.
    over_words: BTreeMap<(String, Option<u64>), Vec<f64>>,
}

impl Values {
    fn add(&mut self, planned: &Planned, figure: String, value: f64) {
        match &planned.word {
            Some(word) => {
                let key = format!("{figure}.{word}");
                self.by_figure.entry(key).or_default().push(value);
                let key = (figure, planned.seed);
                self.over_words.entry(key).or_default().push(value);
            }
            None => self.by_figure.entry(figure).or_default().push(value),
        }
    }

    fn finish(mut self) -> BTreeMap<String, Stats> {
        for ((figure, _), v) in self.over_words {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            self.by_figure.entry(figure).or_default().push(mean);
        }
        (self.by_figure.into_iter())
            .map(|(k, v)| (k, Stats::of(v)))
            .collect()
    }
}

/// Runs one command; returns its wall time and the figures it gave.
fn execute(root: &Path, e: &Experiment, planned: &Planned) -> Result<(f64, Vec<(String, f64)>)> {
    println!("  $ {}", planned.shown);
    let start = Instant::now();
    let out = Command::new(&planned.argv[0])
        .args(&planned.argv[1..])
        .current_dir(root)
        .output()
        .with_context(|| format!("running {}", planned.shown))?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`{}` failed ({}):\n{}",
            planned.shown,
            out.status,
            tail.join("\n")
        );
    }
    let step = &e.steps[planned.step];
    let mut figures: Vec<(String, f64)> = step
        .timed
        .iter()
        .map(|name| (name.clone(), (seconds * 10.0).round() / 10.0))
        .collect();
    if step.figures.is_empty() {
        return Ok((seconds, figures));
    }
    let text = match &planned.read {
        Some(file) => std::fs::read_to_string(root.join(file))
            .with_context(|| format!("reading {}", file.display()))?,
        None => String::from_utf8_lossy(&out.stdout).into_owned(),
    };
    let output = record::parse_output(&text, &planned.shown)?;
    for (name, f) in &step.figures {
        figures.push((
            name.clone(),
            match f.max_abs_from {
                None => record::read_figure(&output, &f.pointer, name)?,
                Some(c) => record::max_abs_from(&output, &f.pointer, c, name)?,
            },
        ));
    }
    Ok((seconds, figures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_of_each_word_is_also_their_mean_per_seed() {
        let planned = |seed: u64, word: Option<&str>| Planned {
            step: 0,
            seed: Some(seed),
            word: word.map(str::to_string),
            argv: Vec::new(),
            shown: String::new(),
            read: None,
        };
        let mut v = Values::default();
        for (seed, word, value) in [(1, "a", 0.8), (1, "b", 0.6), (2, "a", 0.9), (2, "b", 0.9)] {
            v.add(&planned(seed, Some(word)), "auroc".into(), value);
        }
        v.add(&planned(1, None), "pca".into(), 3.0);
        let f = v.finish();
        assert_eq!(f["auroc.a"].values, [0.8, 0.9]);
        assert_eq!(f["auroc.b"].values, [0.6, 0.9]);
        assert_eq!(f["auroc"].values.len(), 2, "one value per seed");
        assert!((f["auroc"].values[0] - 0.7).abs() < 1e-12);
        assert!((f["auroc"].values[1] - 0.9).abs() < 1e-12);
        assert_eq!(f["pca"].values, [3.0]);
    }

    /// The README's results are the rendering of the committed results files: a
    /// figure edited by hand fails here (and in `cargo xtask results check`).
    #[test]
    fn the_readme_equals_its_rendering() {
        if let Err(err) = check_readme(&root()) {
            panic!("{err:#}\nrun `cargo xtask results render`");
        }
    }

    /// Every experiment has its full results and its quick reference committed, from
    /// its own file's steps.
    #[test]
    fn every_experiment_has_its_results_and_quick_reference() {
        let root = root();
        for (name, e) in experiment::load_all(&root).expect("experiments load") {
            for quick in [false, true] {
                let scale = if quick { Scale::Quick } else { Scale::Full };
                let figures = e.figure_names(scale);
                let path = results_path(&root, &name, quick);
                let results = read_results(&path).unwrap_or_else(|err| panic!("{err:#}"));
                assert_eq!(results.experiment, name, "{}", path.display());
                let mut stored: Vec<&String> = results.figures.keys().collect();
                let mut wanted: Vec<&String> = figures.iter().collect();
                stored.sort();
                wanted.sort();
                assert_eq!(stored, wanted, "{}: figures", path.display());
                assert_eq!(
                    results.size,
                    if quick { "quick" } else { "full" },
                    "{}",
                    path.display()
                );
                let problems = record::disagreements(&e, &results.figures);
                assert!(problems.is_empty(), "{}: {problems:?}", path.display());
            }
        }
    }

    #[test]
    fn flags_are_checked() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert!(run_options(&args("--all linear")).is_err());
        assert!(run_options(&args("")).is_err());
        assert!(run_options(&args("x --store")).is_err());
        assert!(run_options(&args("x --fast")).is_err());
        let o = run_options(&args("x y --quick --store")).expect("valid");
        assert_eq!((o.names.len(), o.scale, o.store), (2, Scale::Quick, true));
    }
}
