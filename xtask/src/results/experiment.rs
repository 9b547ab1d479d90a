//! An experiment as data: `bench/experiments/NAME.toml` names the commands a README
//! figure comes from, the numbers it reads from their output, its seeds, its two
//! sizes and the README text the numbers are written into.
//!
//! ```toml
//! title = "A linear autoencoder finds PCA's subspace"
//! seeds = [1, 2, 3]                          # the full size's seeds
//! quick = { seeds = [1], vars = { epochs = "30" } }
//! full = { vars = { epochs = "300" } }
//! render = "its error equals PCA's ({pca:.2}) …"   # before the tables
//!
//! [[step]]                                   # once per seed: it names {seed}
//! command = ["{trainer}", "train", "--epochs", "{epochs}", "--seed", "{seed}",
//!            "--out", "{work}/linear-{seed}", "--force"]
//!
//! [[step]]
//! command = ["{trainer}", "pca", "--json", "--artifact", "{work}/linear-{seed}"]
//! figures.error = { pointer = "/1/sq_error_per_image", tolerance = 0.01 }
//!
//! [[agree]]                                  # checked at every size
//! figures = ["error", "pca"]
//! within = 0.005
//! ```
//!
//! Placeholders: `{trainer}` (the release trainer), `{python}` (a Python with the
//! reference scripts' packages), `{torch}` (a Python with PyTorch, made under
//! `target/bench/venv` as `cargo xtask bench` makes it), `{work}` (the experiment's scratch folder), `{seed}`
//! and the size's `vars`. A figure is read from the step's standard output as JSON,
//! or from the file `read` names, at a JSON pointer; a step that names `{seed}` runs
//! once per seed and its figures collect a value per seed; `-1` in a pointer is an
//! array's last element, and `max_abs_from = C` makes the figure the largest |v − C|
//! over the array at the pointer. `tolerance` bounds how far
//! a quick run may drift from the stored quick reference.
//!
//! A step with `each = "class"` runs once for every word of the size's list variable
//! `class` (`vars = { class = ["0", "1"] }`), and `{class}` in its command is that
//! word: each figure `F` it reads is kept per word as `F.WORD`, and as `F` the mean
//! over the words (one value per seed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// One experiment, as its file declares it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// What it measures, one line.
    pub title: String,
    /// The seeds of the full size.
    pub seeds: Vec<u64>,
    /// The quick size: minutes at most, run by CI.
    pub quick: Size,
    /// The full size: the README's figures.
    pub full: Size,
    /// The commands, in order.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
    /// Pairs of figures that must agree, at every size.
    #[serde(default, rename = "agree")]
    pub agreements: Vec<Agreement>,
    /// The README text, with `{figure:.N}` placeholders (see `render`).
    pub render: String,
}

/// What one size changes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Seeds instead of the experiment's.
    pub seeds: Option<Vec<u64>>,
    /// Values of the placeholders: a string, or a list of words that an argument
    /// made of the placeholder alone becomes (none for an empty list).
    #[serde(default)]
    pub vars: BTreeMap<String, Words>,
}

/// A placeholder's value.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Words {
    One(String),
    Many(Vec<String>),
}

/// A command and the figures read from what it writes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// A JSON file to read the figures from, instead of the standard output.
    pub read: Option<String>,
    /// A figure of this name takes the step's wall time in seconds: reported, never
    /// checked against a reference (times belong to the machine).
    pub timed: Option<String>,
    /// A step the quick size leaves out: an external reference whose software CI
    /// does not install (PyTorch); its figures are in the full results only.
    #[serde(default)]
    pub full_only: bool,
    /// A seeded step run for the size's first seed only: a run too long to repeat
    /// (its figures then hold one value).
    #[serde(default)]
    pub once: bool,
    /// A list variable of the sizes: the step runs once per word of it.
    pub each: Option<String>,
    /// The figures, by name.
    #[serde(default)]
    pub figures: BTreeMap<String, Figure>,
}

/// Where a figure is, and how far a quick run may move it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// JSON pointer into the step's output (`/test/mse_per_pixel`, `/0/auroc`).
    pub pointer: String,
    /// The pointer names an array: the figure is the largest distance of its values
    /// from this one (how far every unit of a code is from its prior's moment).
    pub max_abs_from: Option<f64>,
    /// The largest difference from the stored quick reference a quick run may show.
    pub tolerance: f64,
}

/// Two figures that must be within `within` of each other (an implementation and
/// its independent reference).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    pub figures: [String; 2],
    pub within: f64,
}

/// Which size to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Quick,
    Full,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Quick => "quick",
            Scale::Full => "full",
        }
    }
}

/// A step made concrete for one seed (or for none): its arguments with every
/// placeholder replaced, and as the results file records them.
#[derive(Debug, PartialEq)]
pub struct Planned {
    /// Index of the step in the file.
    pub step: usize,
    pub seed: Option<u64>,
    /// The word of the step's `each` list this command runs for.
    pub word: Option<String>,
    /// What runs.
    pub argv: Vec<String>,
    /// What the results file shows: `trainer`, `python` and relative paths.
    pub shown: String,
    pub read: Option<PathBuf>,
}

/// How placeholders are filled: the programs, the scratch folder and the size.
pub struct Places<'a> {
    pub trainer: &'a Path,
    /// This program (`cargo xtask` as a user types it).
    pub xtask: &'a Path,
    pub python: &'a Path,
    /// A Python with PyTorch, for the steps that name `{torch}`.
    pub torch: Option<&'a Path>,
    /// The scratch folder, relative to the repository root (commands run there).
    pub work: &'a Path,
}

/// The folder of the experiments' files.
pub const DIR: &str = "bench/experiments";

/// Reads and checks every experiment, by name.
pub fn load_all(root: &Path) -> Result<BTreeMap<String, Experiment>> {
    let dir = root.join(DIR);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: a file name of UTF-8", path.display()))?
            .to_string();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let experiment = parse(&text).with_context(|| format!("in {}", path.display()))?;
        out.insert(name, experiment);
    }
    Ok(out)
}

/// Parses an experiment and checks that its figures are named once and its
/// agreements and template name known figures.
pub fn parse(text: &str) -> Result<Experiment> {
    let experiment: Experiment = toml::from_str(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for step in &experiment.steps {
        if step.command.is_empty() {
            bail!("a step without a command");
        }
        if let Some(name) = &step.timed
            && (!seen.insert(name.as_str()) || step.figures.contains_key(name))
        {
            bail!("figure '{name}' is read by two steps");
        }
        for (name, figure) in &step.figures {
            if !seen.insert(name.as_str()) {
                bail!("figure '{name}' is read by two steps");
            }
            if !figure.pointer.is_empty() && !figure.pointer.starts_with('/') {
                bail!(
                    "figure '{name}': pointer '{}' must start with '/'",
                    figure.pointer
                );
            }
            if figure.tolerance.is_nan() || figure.tolerance < 0.0 {
                bail!("figure '{name}': a tolerance of 0 or more");
            }
        }
    }
    for agreement in &experiment.agreements {
        for name in &agreement.figures {
            if !seen.contains(name.as_str()) {
                bail!("agreement on unknown figure '{name}'");
            }
        }
    }
    if experiment.seeds.is_empty() {
        bail!("seeds: at least one");
    }
    Ok(experiment)
}

impl Experiment {
    /// The steps a size runs.
    pub fn steps_of(&self, scale: Scale) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(move |s| scale == Scale::Full || !s.full_only)
    }

    /// The names of every figure of a size: those read from outputs, then the timed
    /// ones; a step run for each word of a list adds its figures per word.
    pub fn figure_names(&self, scale: Scale) -> Vec<String> {
        let mut names: Vec<String> = self.figures_of(scale).into_iter().map(|(n, _)| n).collect();
        for step in self.steps_of(scale) {
            let words = self.words(scale, step).unwrap_or_default();
            if let Some(t) = &step.timed {
                names.extend(per_word(t, &words));
            }
        }
        names
    }

    /// The figures a size reads from outputs, with their tolerances, per word where
    /// the step runs for each word of a list.
    pub fn figures_of(&self, scale: Scale) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for step in self.steps_of(scale) {
            let words = self.words(scale, step).unwrap_or_default();
            for (name, figure) in &step.figures {
                out.extend(per_word(name, &words).map(|n| (n, figure.tolerance)));
            }
        }
        out
    }

    /// The words a step runs for, at a size: none for a step without `each`.
    fn words(&self, scale: Scale, step: &Step) -> Result<Vec<String>> {
        let Some(list) = &step.each else {
            return Ok(Vec::new());
        };
        match self.size(scale).vars.get(list) {
            Some(Words::Many(words)) if !words.is_empty() => Ok(words.clone()),
            _ => bail!(
                "each = \"{list}\": the {} size needs a list of words {list} = [\"…\"]",
                scale.name()
            ),
        }
    }

    /// Whether a size runs a command with `word` among its arguments.
    pub fn uses(&self, scale: Scale, word: &str) -> bool {
        self.steps_of(scale)
            .any(|s| s.command.iter().any(|a| a.contains(word)))
    }

    /// The seeds of a size.
    pub fn seeds(&self, scale: Scale) -> &[u64] {
        let size = self.size(scale);
        size.seeds.as_deref().unwrap_or(&self.seeds)
    }

    fn size(&self, scale: Scale) -> &Size {
        match scale {
            Scale::Quick => &self.quick,
            Scale::Full => &self.full,
        }
    }

    /// Every command of a size, in order; a step that names `{seed}` once per seed.
    pub fn plan(&self, scale: Scale, cx: &Places<'_>) -> Result<Vec<Planned>> {
        let vars = &self.size(scale).vars;
        let mut out = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            if step.full_only && scale == Scale::Quick {
                continue;
            }
            let seeded = step
                .command
                .iter()
                .chain(&step.read)
                .any(|a| a.contains("{seed}"));
            let seeds: Vec<Option<u64>> = match (seeded, step.once) {
                (false, _) => vec![None],
                (true, true) => vec![self.seeds(scale).first().copied()],
                (true, false) => self.seeds(scale).iter().copied().map(Some).collect(),
            };
            let each_word: Vec<Option<String>> = match &step.each {
                None => vec![None],
                Some(_) => (self.words(scale, step))
                    .with_context(|| format!("step {}", i + 1))?
                    .into_iter()
                    .map(Some)
                    .collect(),
            };
            for (seed, word) in seeds
                .iter()
                .flat_map(|s| each_word.iter().map(move |w| (*s, w.clone())))
            {
                let current = step.each.as_deref().zip(word.as_deref());
                let filler = Filler {
                    vars,
                    seed,
                    current,
                    cx,
                };
                let words = |shown: bool| -> Result<Vec<String>> {
                    let mut out = Vec::new();
                    for arg in &step.command {
                        out.extend(filler.expand(arg, shown)?);
                    }
                    Ok(out)
                };
                let argv = words(false).with_context(|| format!("step {}", i + 1))?;
                let shown = words(true)?
                    .iter()
                    .map(|w| shell_word(w))
                    .collect::<Vec<_>>()
                    .join(" ");
                let read = step
                    .read
                    .as_deref()
                    .map(|r| filler.fill(r, false))
                    .transpose()?;
                out.push(Planned {
                    step: i,
                    seed,
                    word,
                    argv,
                    shown,
                    read: read.map(PathBuf::from),
                });
            }
        }
        Ok(out)
    }
}

/// `text` with each `{name}` replaced by `value(name)`: the one placeholder syntax of
/// the experiments' commands and of the README templates.
pub fn substitute(text: &str, mut value: impl FnMut(&str) -> Result<String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .with_context(|| format!("an unclosed '{{' in '{text}'"))?;
        out.push_str(&value(&rest[open + 1..open + close])?);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What fills one planned command's placeholders.
struct Filler<'a> {
    vars: &'a BTreeMap<String, Words>,
    seed: Option<u64>,
    /// The `each` list's name and the word this command runs for.
    current: Option<(&'a str, &'a str)>,
    cx: &'a Places<'a>,
}

impl Filler<'_> {
    /// The word this command runs for, when `name` is its step's `each` list.
    fn word_of(&self, name: &str) -> Option<&str> {
        self.current
            .and_then(|(list, word)| (list == name).then_some(word))
    }

    /// The words `arg` becomes: a list placeholder alone splices its words, anything
    /// else is one word with its placeholders filled.
    fn expand(&self, arg: &str, shown: bool) -> Result<Vec<String>> {
        let alone = arg.strip_prefix('{').and_then(|a| a.strip_suffix('}'));
        let current = alone.and_then(|name| self.word_of(name)).is_some();
        if !current && let Some(Words::Many(words)) = alone.and_then(|name| self.vars.get(name)) {
            return Ok(words.clone());
        }
        if alone == Some("xtask") && shown {
            return Ok(vec!["cargo".into(), "xtask".into()]);
        }
        Ok(vec![self.fill(arg, shown)?])
    }

    /// `arg` with its placeholders filled; `shown` names the programs as a user types
    /// them.
    fn fill(&self, arg: &str, shown: bool) -> Result<String> {
        let cx = self.cx;
        substitute(arg, |name| {
            if let Some(word) = self.word_of(name) {
                return Ok(word.to_string());
            }
            Ok(match name {
                "trainer" if shown => "trainer".to_string(),
                "python" | "torch" if shown => "python".to_string(),
                "trainer" => cx.trainer.display().to_string(),
                "xtask" if shown => bail!("{{xtask}} must be a whole argument, in '{arg}'"),
                "xtask" => cx.xtask.display().to_string(),
                "python" => cx.python.display().to_string(),
                "torch" => cx
                    .torch
                    .with_context(|| format!("no Python with PyTorch for '{arg}'"))?
                    .display()
                    .to_string(),
                "work" => cx.work.display().to_string(),
                "seed" => self
                    .seed
                    .map(|s| s.to_string())
                    .with_context(|| format!("{{seed}} outside a seeded step in '{arg}'"))?,
                other => match self.vars.get(other) {
                    Some(Words::One(value)) => value.clone(),
                    Some(Words::Many(_)) => bail!(
                        "{{{other}}} is a list of words: it must be a whole argument, in '{arg}'"
                    ),
                    None => bail!("no value for {{{other}}} in '{arg}'"),
                },
            })
        })
    }
}

/// A figure's names: itself, then one per word of its step's list.
fn per_word<'a>(name: &'a str, words: &'a [String]) -> impl Iterator<Item = String> + 'a {
    std::iter::once(name.to_string()).chain(words.iter().map(move |w| format!("{name}.{w}")))
}

/// A word as a shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
title = "t"
seeds = [1, 2]
quick = { seeds = [7], vars = { epochs = "1", subset = ["--limit", "500"] } }
full = { vars = { epochs = "20", subset = [] } }
render = "{mse:.4}"

[[step]]
command = ["{trainer}", "train", "--epochs", "{epochs}", "{subset}", "--seed", "{seed}", "--out", "{work}/m-{seed}"]
read = "{work}/m-{seed}/metrics.json"
figures.mse = { pointer = "/test/mse_per_pixel", tolerance = 0.001 }

[[step]]
command = ["{python}", "bench/experiments/x.py", "a b"]
timed = "seconds"
figures.reference = { pointer = "/mse", tolerance = 0.001 }

[[step]]
full_only = true
command = ["{torch}", "bench/pytorch/train.py", "--seed", "{seed}"]
figures.torch = { pointer = "/test", tolerance = 0.001 }

[[agree]]
figures = ["mse", "reference"]
within = 0.01
"#;

    fn cx() -> Places<'static> {
        Places {
            trainer: Path::new("/t/release/trainer"),
            xtask: Path::new("/t/debug/xtask"),
            python: Path::new("/v/bin/python"),
            torch: None,
            work: Path::new("target/results/work/x"),
        }
    }

    #[test]
    fn a_seeded_step_runs_once_per_seed_of_its_size() {
        let e = parse(EXAMPLE).expect("parses");
        assert_eq!(
            e.figure_names(Scale::Quick),
            ["mse", "reference", "seconds"]
        );
        assert_eq!(
            e.figure_names(Scale::Full),
            ["mse", "reference", "torch", "seconds"]
        );
        assert!(e.uses(Scale::Full, "{torch}") && !e.uses(Scale::Quick, "{torch}"));
        let err = format!("{:#}", e.plan(Scale::Full, &cx()).expect_err("no torch"));
        assert!(err.contains("no Python with PyTorch"), "{err}");
        let torch = Places {
            torch: Some(Path::new("/b/venv/bin/python")),
            ..cx()
        };
        let full = e.plan(Scale::Full, &torch).expect("plan");
        assert_eq!(full.len(), 5);
        assert_eq!(full[4].argv[0], "/b/venv/bin/python");
        assert_eq!(full[4].shown, "python bench/pytorch/train.py --seed 2");
        assert_eq!(
            full[1].argv,
            [
                "/t/release/trainer",
                "train",
                "--epochs",
                "20",
                "--seed",
                "2",
                "--out",
                "target/results/work/x/m-2"
            ]
        );
        assert_eq!(
            full[1].shown,
            "trainer train --epochs 20 --seed 2 --out target/results/work/x/m-2"
        );
        assert_eq!(
            full[1].read.as_deref(),
            Some(Path::new("target/results/work/x/m-2/metrics.json"))
        );
        assert_eq!(full[2].seed, None);
        assert_eq!(full[2].shown, "python bench/experiments/x.py 'a b'");
        let quick = e.plan(Scale::Quick, &cx()).expect("plan");
        assert_eq!(quick.len(), 2, "the full-only step left out");
        assert_eq!(quick[0].argv[3..6], ["1", "--limit", "500"]);
        assert_eq!(quick[0].seed, Some(7));
        let once = parse(&EXAMPLE.replace("read = ", "once = true\nread = ")).expect("parses");
        let planned = once.plan(Scale::Quick, &cx()).expect("plan");
        assert_eq!(planned.len(), 2);
        let quick_once = parse(
            &EXAMPLE
                .replace("quick = { seeds = [7],", "quick = { seeds = [1, 2],")
                .replace("read = ", "once = true\nread = "),
        )
        .expect("parses");
        let planned = quick_once.plan(Scale::Quick, &cx()).expect("plan");
        assert_eq!(planned.len(), 2, "the first seed only");
        assert_eq!(planned[0].seed, Some(1));
    }

    #[test]
    fn mistakes_in_a_file_are_named() {
        let unknown = EXAMPLE.replace("{epochs}", "{epoch}");
        let e = parse(&unknown).expect("parses");
        let err = format!("{:#}", e.plan(Scale::Full, &cx()).expect_err("an error"));
        assert!(err.contains("no value for {epoch}"), "{err}");
        let inside = parse(&EXAMPLE.replace("\"{subset}\"", "\"x{subset}\"")).expect("parses");
        let err = format!(
            "{:#}",
            inside.plan(Scale::Full, &cx()).expect_err("an error")
        );
        assert!(err.contains("must be a whole argument"), "{err}");
        let timed = EXAMPLE.replace("timed = \"seconds\"", "timed = \"mse\"");
        assert!(
            parse(&timed).is_err(),
            "a timed figure named like a read one"
        );
        let twice = EXAMPLE.replace("figures.reference", "figures.mse");
        assert!(parse(&twice).is_err());
        let agree = EXAMPLE.replace(r#"["mse", "reference"]"#, r#"["mse", "nothing"]"#);
        let err = format!("{:#}", parse(&agree).expect_err("an error"));
        assert!(err.contains("unknown figure 'nothing'"), "{err}");
        let field = EXAMPLE.replace("within = 0.01", "within = 0.01\nnear = 1");
        assert!(parse(&field).is_err(), "unknown fields are refused");
    }

    #[test]
    fn a_step_for_each_word_runs_per_seed_and_word_and_names_its_figures_per_word() {
        let text = r#"
title = "t"
seeds = [1, 2]
quick = { vars = { class = ["3"] } }
full = { vars = { class = ["0", "7"] } }
render = "{auroc:.3} {auroc.7:.3}"

[[step]]
each = "class"
command = ["{trainer}", "train", "--classes", "{class}", "--seed", "{seed}", "--out", "{work}/m-{class}-{seed}"]
timed = "seconds"

[[step]]
each = "class"
command = ["{trainer}", "anomaly", "--artifact", "{work}/m-{class}-{seed}"]
figures.auroc = { pointer = "/auroc", tolerance = 0.02 }
"#;
        let e = parse(text).expect("parses");
        let full = e.plan(Scale::Full, &cx()).expect("plan");
        let shown: Vec<&str> = full.iter().map(|p| p.shown.as_str()).collect();
        assert_eq!(
            shown[..4],
            [
                "trainer train --classes 0 --seed 1 --out target/results/work/x/m-0-1",
                "trainer train --classes 7 --seed 1 --out target/results/work/x/m-7-1",
                "trainer train --classes 0 --seed 2 --out target/results/work/x/m-0-2",
                "trainer train --classes 7 --seed 2 --out target/results/work/x/m-7-2",
            ]
        );
        assert_eq!(full.len(), 8);
        assert_eq!(full[5].word.as_deref(), Some("7"));
        assert_eq!(
            e.figure_names(Scale::Full),
            [
                "auroc",
                "auroc.0",
                "auroc.7",
                "seconds",
                "seconds.0",
                "seconds.7"
            ]
        );
        assert_eq!(
            e.figures_of(Scale::Quick),
            [("auroc".to_string(), 0.02), ("auroc.3".to_string(), 0.02)]
        );
        let unlisted = parse(&text.replace("class = [\"3\"]", "class = \"3\"")).expect("parses");
        let err = format!(
            "{:#}",
            unlisted.plan(Scale::Quick, &cx()).expect_err("no list")
        );
        assert!(err.contains("needs a list of words class"), "{err}");
    }

    #[test]
    fn this_program_runs_as_itself_and_shows_as_cargo_xtask() {
        let text = EXAMPLE.replace(
            r#"command = ["{python}", "bench/experiments/x.py", "a b"]"#,
            r#"command = ["{xtask}", "photos", "{work}/p"]"#,
        );
        let e = parse(&text).expect("parses");
        let full = e.plan(Scale::Quick, &cx()).expect("plan");
        let step = full
            .iter()
            .find(|p| p.argv[1] == "photos")
            .expect("the step");
        assert_eq!(
            step.argv,
            ["/t/debug/xtask", "photos", "target/results/work/x/p"]
        );
        assert_eq!(step.shown, "cargo xtask photos target/results/work/x/p");
        let inside = parse(&text.replace(r#""{xtask}""#, r#""x{xtask}""#)).expect("parses");
        let err = format!(
            "{:#}",
            inside.plan(Scale::Quick, &cx()).expect_err("an error")
        );
        assert!(err.contains("must be a whole argument"), "{err}");
    }
}
