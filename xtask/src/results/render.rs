//! The README's results, written from the results files: each experiment's `render`
//! template, filled with its figures, goes between `<!-- results:NAME -->` and
//! `<!-- /results:NAME -->` in README.md.
//!
//! Placeholders: `{figure:.N}` the mean to N decimals; `{figure:.N±}` the mean and
//! the sample standard deviation over the seeds (`6.73 ± 0.05`); `{figure:.N..}` the
//! smallest and largest value (`6.70–6.78`); `{a/b:.N}` the ratio of two means;
//! `{a-b:.N}` their difference, signed (`+5.13`);
//! `{figure:.N%}` the mean as a percentage; `{figure:n}` how many values it has;
//! `{@seeds}` how many seeds (`3 seeds`);
//! `{@date}`, `{@machine}`, `{@version:NAME}` (`pytorch`, `trainer`, …),
//! `{@minutes}` (the experiment's wall time) and
//! `{@command}` (the command that makes the file again).

use anyhow::{Context, Result, bail};

use super::experiment::substitute;
use super::record::{Results, Stats};

/// The template filled with the figures of `results`.
pub fn fill(template: &str, name: &str, results: &Results) -> Result<String> {
    substitute(template, |field| {
        placeholder(field, name, results).with_context(|| format!("{name}: {{{field}}}"))
    })
    .with_context(|| format!("{name}: its template"))
}

fn placeholder(field: &str, name: &str, results: &Results) -> Result<String> {
    match field {
        "@seeds" => {
            let n = results.seeds.len();
            return Ok(format!("{n} seed{}", if n == 1 { "" } else { "s" }));
        }
        "@date" => return Ok(results.date.clone()),
        "@machine" => return Ok(results.machine.line()),
        "@minutes" => return Ok(format!("{:.0}", (results.seconds / 60.0).ceil())),
        "@command" => return Ok(format!("cargo xtask results run {name}")),
        _ => {}
    }
    if let Some(key) = field.strip_prefix("@version:") {
        return results
            .versions
            .get(key)
            .cloned()
            .with_context(|| format!("no version of '{key}' in the results file"));
    }
    if let Some(figure) = field.strip_suffix(":n") {
        let s = results
            .figures
            .get(figure)
            .with_context(|| format!("no figure '{figure}' in the results file"))?;
        return Ok(s.values.len().to_string());
    }
    let (figure, spec) = field
        .split_once(':')
        .with_context(|| "a format: {figure:.N}")?;
    let spec = spec
        .strip_prefix('.')
        .with_context(|| format!("format '{spec}': expected .N, .N±, .N.., or .N%"))?;
    let digits_end = spec
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(spec.len());
    let decimals: usize = spec[..digits_end]
        .parse()
        .with_context(|| format!("format '.{spec}': a number of decimals"))?;
    let get = |n: &str| -> Result<&Stats> {
        results
            .figures
            .get(n)
            .with_context(|| format!("no figure '{n}' in the results file"))
    };
    if let Some((a, b)) = figure.split_once('/') {
        let (a, b) = (get(a)?, get(b)?);
        return Ok(format!("{:.*}", decimals, a.mean / b.mean));
    }
    if !results.figures.contains_key(figure)
        && let Some((a, b)) = figure.split_once('-')
    {
        let (a, b) = (get(a)?, get(b)?);
        return Ok(format!("{:+.*}", decimals, a.mean - b.mean));
    }
    let s = get(figure)?;
    let num = |v: f64| format!("{v:.decimals$}");
    Ok(match &spec[digits_end..] {
        "" => num(s.mean),
        "±" => format!("{} ± {}", num(s.mean), num(s.std)),
        ".." => format!("{}–{}", num(s.min), num(s.max)),
        "%" => format!("{:.*} %", decimals, s.mean * 100.0),
        other => bail!("format suffix '{other}': expected ±, .. or %"),
    })
}

/// `readme` with the text between each experiment's markers replaced by `rendered`
/// (name, text); an experiment without markers, or markers (a line of their own)
/// without an experiment, is an error.
pub fn into_readme(readme: &str, rendered: &[(String, String)]) -> Result<String> {
    let mut out = readme.to_string();
    for (name, text) in rendered {
        let (open, close) = (
            format!("<!-- results:{name} -->\n"),
            format!("<!-- /results:{name} -->"),
        );
        let start = out
            .find(&format!("\n{open}"))
            .with_context(|| format!("README.md has no `<!-- results:{name} -->` line"))?
            + 1
            + open.len();
        let end = out[start..]
            .find(&close)
            .with_context(|| format!("README.md: `{open}` is not closed by `{close}`"))?
            + start;
        let body = if text.ends_with('\n') {
            text.clone()
        } else {
            format!("{text}\n")
        };
        out.replace_range(start..end, &body);
    }
    let mut known: Vec<&str> = rendered.iter().map(|(n, _)| n.as_str()).collect();
    known.sort_unstable();
    for line in out.lines() {
        let Some(tail) = line.strip_prefix("<!-- results:") else {
            continue;
        };
        let name = tail.split(" -->").next().unwrap_or("");
        if known.binary_search(&name).is_err() {
            bail!("README.md marks results '{name}', which no experiment makes");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::results::record::Machine;

    fn results() -> Results {
        let mut figures = BTreeMap::new();
        figures.insert("ae".into(), Stats::of(vec![6.70, 6.78, 6.74]));
        figures.insert("pca".into(), Stats::of(vec![11.8716]));
        figures.insert("auroc".into(), Stats::of(vec![0.9717]));
        Results {
            experiment: "x".into(),
            title: "t".into(),
            size: "full".into(),
            date: "2026-12-07".into(),
            machine: Machine {
                cpu: "AMD  EPYC".into(),
                cores: 2,
                memory_gib: 24,
                os: "Linux".into(),
            },
            versions: BTreeMap::new(),
            seeds: vec![1, 2, 3],
            figures,
            runs: Vec::new(),
            seconds: 61.0,
        }
    }

    #[test]
    fn placeholders_take_the_figures_in_their_format() {
        let r = results();
        let text = "| {ae:.2±} | {ae:.2..} | {ae/pca:.2}× | {auroc:.1%} | {pca:.4} | {ae:n} | {@seeds}, {@minutes} min, {@machine}, {@date}, `{@command}` |";
        assert_eq!(
            fill(text, "x", &r).expect("fills"),
            "| 6.74 ± 0.04 | 6.70–6.78 | 0.57× | 97.2 % | 11.8716 | 3 | 3 seeds, 2 min, 2 cores of AMD EPYC, 24 GiB, 2026-12-07, `cargo xtask results run x` |"
        );
        let mut r = r;
        r.versions.insert("pytorch".into(), "2.15.0".into());
        assert_eq!(
            fill("PyTorch {@version:pytorch}", "x", &r).expect("fills"),
            "PyTorch 2.15.0"
        );
        assert!(fill("{@version:numpy}", "x", &r).is_err());
        assert_eq!(
            fill("{pca-ae:.2} {ae-pca:.1}", "x", &r).expect("fills"),
            "+5.13 -5.1"
        );
        r.figures.insert("a-b".into(), Stats::of(vec![2.0]));
        assert_eq!(fill("{a-b:.1}", "x", &r).expect("a name first"), "2.0");
        for bad in ["{nothing:.2}", "{ae}", "{ae:2}", "{ae:.2x}", "{ae:.2"] {
            assert!(fill(bad, "x", &r).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_readme_takes_the_text_between_its_markers() {
        let readme = "a `<!-- results:NAME -->`\n<!-- results:x -->\nold\n<!-- /results:x -->\nb\n";
        let out = into_readme(readme, &[("x".into(), "new 1".into())]).expect("renders");
        assert_eq!(
            out,
            "a `<!-- results:NAME -->`\n<!-- results:x -->\nnew 1\n<!-- /results:x -->\nb\n"
        );
        assert!(into_readme("a\n", &[("x".into(), "new".into())]).is_err());
        let stray = format!("{readme}<!-- results:y -->\n<!-- /results:y -->\n");
        let err = into_readme(&stray, &[("x".into(), "new".into())]).expect_err("an error");
        assert!(err.to_string().contains("'y'"), "{err}");
    }
}
