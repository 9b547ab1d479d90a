//! A trained model applied to a file of new samples, streamed in batches: codes,
//! reconstructions, or anomaly scores with the squared error of every feature.
//!
//! The input is read by [`ae_data::rows::RowReader`] (IDX images, PNG and JPEG files
//! and folders of them made into samples as the training images were, CSV and `.npy`
//! tables, CSV columns matched by name) one batch at a time and every output is
//! written as the batches go, so memory stays bounded however large the file; a
//! progress bar shows on a terminal. Outputs go to temporary files renamed into place
//! at the end: after an error or a kill no output is half-written under its name.
//! Pictures (`--png`) show the first [`PNG_SAMPLES`] images only; a series scored by
//! a model of its windows is drawn whole, above its step scores.

use std::path::{Path, PathBuf};

use ae_data::rows::{InputKind, RowReader};
use ae_data::{WindowStream, Windows};
use ae_infer::{Artifact, Predictor, Score};
use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::drawing::image::Grid;
use files::{CsvFile, MatrixFile};

mod files;
use crate::drawing::series_plot::SeriesPicture;

/// What to compute.
pub use ae_infer::Task;

/// Where the results go.
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    /// The main output: codes or reconstructions (`.npy` or `.csv`), or scores (`.csv`).
    pub out: PathBuf,
    /// With [`Task::Score`]: each feature's squared error (`.npy` or `.csv`).
    pub errors: Option<PathBuf>,
    /// Images only: a PNG of the first samples above their reconstructions
    /// ([`Task::Reconstruct`]) or their per-pixel error heat-maps ([`Task::Score`]).
    pub png: Option<PathBuf>,
    /// With [`Task::Score`] on a series model: the score of every step of the input,
    /// the mean of the scores of the windows that hold it (CSV: step, score; empty for
    /// the last steps no whole window reaches).
    pub points: Option<PathBuf>,
}

/// Pictures show this many samples at most.
pub const PNG_SAMPLES: usize = 32;

/// With image files as input, codes or reconstructions in `out` come with the file of
/// each row in this CSV beside it (`codes.npy` → `codes-files.csv`); scores name it in
/// a column of their own.
pub fn files_list(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{stem}-files.csv"))
}

/// What an application did.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The input file.
    pub input: PathBuf,
    /// Samples processed.
    pub samples: usize,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// With scores: the score used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    /// With scores: their mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_score: Option<f64>,
    /// With scores and a saved threshold: its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// With scores and a saved threshold: the samples above it, and those whose score
    /// is not a finite number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomalous: Option<usize>,
    /// With scores: the samples whose score is not a finite number (NaN or an
    /// infinity: an input far outside what the model saw); they are flagged anomalous
    /// and left out of the mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_finite: Option<usize>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} samples of {}", self.samples, self.input.display())?;
        if let (Some(score), Some(mean)) = (self.score, self.mean_score) {
            write!(f, "; {score}: mean {mean:.4}")?;
        }
        match (self.threshold, self.anomalous) {
            (Some(t), Some(n)) => write!(
                f,
                "; {n} anomalous ({:.2} %) above the saved threshold {t:.4}",
                100.0 * n as f64 / self.samples.max(1) as f64
            )?,
            _ if self.score.is_some() => write!(
                f,
                "; no saved threshold (run `trainer anomaly` on the artifact to choose one)"
            )?,
            _ => {}
        }
        if let Some(n) = self.not_finite.filter(|&n| n > 0) {
            write!(
                f,
                "\nwarning: {n} samples have a score that is not a finite number: written as \
                 NaN or inf{}, and left out of the mean",
                if self.threshold.is_some() {
                    ", counted anomalous"
                } else {
                    ""
                }
            )?;
        }
        for path in &self.written {
            write!(f, "\nwrote {}", path.display())?;
        }
        Ok(())
    }
}

/// The first images of the input and what goes under them in the picture.
struct Picture {
    path: PathBuf,
    shape: [usize; 3],
    inputs: Vec<Vec<f32>>,
    below: Vec<Vec<f32>>,
}

impl Picture {
    fn take(&mut self, inputs: &[f32], below: &[f32]) {
        let size: usize = self.shape.iter().product();
        for (x, y) in inputs.chunks(size).zip(below.chunks(size)) {
            if self.inputs.len() < PNG_SAMPLES {
                self.inputs.push(x.to_vec());
                self.below.push(y.to_vec());
            }
        }
    }

    /// Rows of 8 inputs, each above its row of reconstructions or heat-maps (scaled to
    /// the largest value shown when `scale`).
    fn save(mut self, scale: bool) -> Result<PathBuf> {
        if scale {
            let max = self.below.iter().flatten().fold(0f32, |m, &v| m.max(v));
            for image in &mut self.below {
                image
                    .iter_mut()
                    .for_each(|v| *v /= max.max(f32::MIN_POSITIVE));
            }
        }
        let mut rows = Vec::new();
        for (x, y) in self.inputs.chunks(8).zip(self.below.chunks(8)) {
            rows.push(x.to_vec());
            rows.push(y.to_vec());
        }
        let grid = Grid {
            shape: self.shape,
            rows,
        };
        grid.save_png(&self.path)?;
        Ok(self.path)
    }
}

/// Names of `n` columns `prefix0, prefix1, …`, or the table's own.
fn column_names(artifact: &Artifact, n: usize, prefix: &str) -> Vec<String> {
    let names = artifact.columns().names;
    if prefix != "z" && names.len() == n {
        names.to_vec()
    } else {
        (0..n).map(|j| format!("{prefix}{j}")).collect()
    }
}

/// The picture `--png` asks for: images above their reconstructions or error maps,
/// or a series scored by a model of its windows.
fn pictures(
    artifact: &Artifact,
    reader: &RowReader,
    task: Task,
    outputs: &Outputs,
) -> Result<(Option<Picture>, Option<SeriesPicture>)> {
    let series = match (&outputs.png, artifact.windows()) {
        (Some(path), Some(w)) if task == Task::Score => Some(SeriesPicture::new(
            path.clone(),
            w,
            artifact.columns().features,
        )),
        _ => None,
    };
    let picture = match (&outputs.png, reader.image_shape()) {
        (None, _) => None,
        _ if series.is_some() => None,
        (Some(path), Some(shape)) if task != Task::Encode => Some(Picture {
            path: path.clone(),
            shape,
            inputs: Vec::new(),
            below: Vec::new(),
        }),
        (Some(_), Some(_)) => {
            bail!("codes have no picture: --png goes with reconstruct and score")
        }
        (Some(_), None) => bail!(
            "{}: --png draws images, or a series scored by a model of its windows; this \
             input is a table",
            reader.path().display()
        ),
    };
    Ok((picture, series))
}

/// Where each batch's results go, and the running totals of the scores.
struct Sinks {
    main: MatrixFile,
    errors: Option<MatrixFile>,
    /// With image files: the file of each row of codes or reconstructions.
    files: Option<CsvFile>,
    picture: Option<Picture>,
    /// With a picture of a series asked for: its steps, reconstructions and scores.
    series: Option<SeriesPicture>,
    kind: Option<Score>,
    sum: f64,
    flagged: usize,
    not_finite: usize,
    /// With points asked for: where they go, the windows, and every window's score.
    points: Option<(PathBuf, Windows, Vec<f32>)>,
}

impl Sinks {
    /// Creates the outputs of `task` for the samples of `reader`.
    fn create(
        artifact: &Artifact,
        predictor: &Predictor,
        reader: &RowReader,
        task: Task,
        outputs: &Outputs,
    ) -> Result<Self> {
        if outputs.errors.is_some() && task != Task::Score {
            bail!("per-feature errors are written by scoring");
        }
        let points = match (&outputs.points, artifact.windows()) {
            (None, _) => None,
            (Some(_), _) if task != Task::Score => bail!("step scores are written by scoring"),
            (Some(path), Some(w)) => Some((path.clone(), w, Vec::new())),
            (Some(_), None) => bail!(
                "{}: --points scores the steps of a series, and this model was not trained \
                 on windows of one (--window)",
                artifact.dir.display()
            ),
        };
        let (picture, series) = pictures(artifact, reader, task, outputs)?;
        let features = predictor.features();
        let main = match task {
            Task::Encode => MatrixFile::create(
                &outputs.out,
                &column_names(artifact, predictor.latent(), "z"),
            )?,
            Task::Reconstruct => {
                MatrixFile::create(&outputs.out, &column_names(artifact, features, "x"))?
            }
            Task::Score => {
                let name = outputs.out.to_string_lossy().to_ascii_lowercase();
                if !name.ends_with(".csv") {
                    bail!(
                        "{}: scores are written as CSV (a name ending in .csv)",
                        outputs.out.display()
                    );
                }
                let mut header = vec!["index"];
                if reader.kind() == InputKind::Images {
                    header.push("file");
                }
                header.push("score");
                if predictor.threshold().is_some() {
                    header.push("anomalous");
                }
                let mut file = CsvFile::create(&outputs.out)?;
                file.row(&header)?;
                MatrixFile::Csv(Box::new(file))
            }
        };
        let errors = match &outputs.errors {
            Some(path) => Some(MatrixFile::create(
                path,
                &column_names(artifact, features, "x"),
            )?),
            None => None,
        };
        let files = if reader.kind() == InputKind::Images && task != Task::Score {
            let mut list = CsvFile::create(&files_list(&outputs.out))?;
            list.row(["file"])?;
            Some(list)
        } else {
            None
        };
        Ok(Self {
            main,
            errors,
            files,
            picture,
            series,
            kind: None,
            sum: 0.0,
            flagged: 0,
            not_finite: 0,
            points,
        })
    }

    /// Applies `task` to `rows`, samples `first`… of the input (from `files` when the
    /// input is image files), and writes the results.
    fn take(
        &mut self,
        predictor: &Predictor,
        task: Task,
        rows: &[f32],
        first: usize,
        files: Option<Vec<&Path>>,
    ) -> Result<()> {
        let features = predictor.features();
        let names: Option<Vec<String>> =
            files.map(|f| f.iter().map(|p| p.display().to_string()).collect());
        if let (Some(list), Some(names)) = (self.files.as_mut(), &names) {
            for name in names {
                list.row([name])?;
            }
        }
        match task {
            Task::Encode => self.main.push(&predictor.encode(rows)?, predictor.latent()),
            Task::Reconstruct => {
                let out = predictor.reconstruct(rows)?;
                if let Some(p) = self.picture.as_mut() {
                    p.take(rows, &out);
                }
                self.main.push(&out, features)
            }
            Task::Score => {
                let s = predictor.score(rows)?;
                self.kind = Some(s.kind);
                if let Some((_, _, scores)) = self.points.as_mut() {
                    scores.extend(s.scores.iter().map(|&v| v as f32));
                }
                let MatrixFile::Csv(file) = &mut self.main else {
                    bail!("scores are written as CSV");
                };
                for (i, score) in s.scores.iter().enumerate() {
                    if score.is_finite() {
                        self.sum += score;
                    } else {
                        self.not_finite += 1;
                    }
                    let mut fields = vec![(first + i).to_string()];
                    if let Some(names) = &names {
                        fields.push(names[i].clone());
                    }
                    fields.push(score.to_string());
                    if let Some(a) = &s.anomalous {
                        self.flagged += usize::from(a[i]);
                        fields.push(u8::from(a[i]).to_string());
                    }
                    file.row(&fields)?;
                }
                if let Some(e) = self.errors.as_mut() {
                    e.push(&s.errors, features)?;
                }
                if let Some(p) = self.picture.as_mut() {
                    p.take(rows, &s.errors);
                }
                if let Some(p) = self.series.as_mut() {
                    p.take(first, rows, &predictor.reconstruct(rows)?, &s.scores);
                }
                Ok(())
            }
        }
    }

    /// Puts every output in place; returns the files. `steps`: the steps of a series
    /// read. The pictures go first; the tables of results are then renamed into place
    /// together, once all are written whole, so that a kill leaves none of them or
    /// every one, never scores beside the errors of another run.
    fn finish(self, steps: usize) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        if let Some(p) = self.picture {
            written.push(p.save(self.kind.is_some())?);
        }
        if let Some(p) = self.series {
            written.push(p.save()?);
        }
        let mut ready = vec![self.main.prepare()?];
        if let Some((path, windows, scores)) = self.points {
            let mut file = CsvFile::create(&path)?;
            file.row(["step", "score"])?;
            for (t, score) in windows.point_scores(&scores, steps).iter().enumerate() {
                file.row([
                    t.to_string(),
                    score.map_or(String::new(), |s| s.to_string()),
                ])?;
            }
            ready.push(file.prepare()?);
        }
        if let Some(list) = self.files {
            ready.push(list.prepare()?);
        }
        if let Some(e) = self.errors {
            ready.push(e.prepare()?);
        }
        let mut tables = ae_data::commit_all(ready)?;
        tables.append(&mut written);
        Ok(tables)
    }
}

/// Applies `predictor` (the model of `artifact`) to every sample of `input`,
/// `batch` samples at a time, writing `outputs`.
pub fn apply(
    artifact: &Artifact,
    predictor: &Predictor,
    input: &Path,
    task: Task,
    outputs: &Outputs,
    batch: usize,
) -> Result<Summary> {
    let columns = artifact.columns();
    let mut reader = RowReader::open(input, &columns)?;
    let mut sinks = Sinks::create(artifact, predictor, &reader, task, outputs)?;
    let bar = progress_bar(reader.total());
    // A series model's samples are windows of the steps read.
    let mut windows = artifact
        .windows()
        .map(|w| (WindowStream::new(w, columns.features), Vec::new()));
    let mut rows = Vec::new();
    loop {
        let n = reader
            .next_batch(batch, &mut rows)
            .with_context(|| format!("reading {}", input.display()))?;
        if n == 0 {
            break;
        }
        bar.inc(n as u64);
        let (samples, n, first) = match windows.as_mut() {
            Some((stream, cut)) => {
                cut.clear();
                let made = stream.push(&rows, cut);
                (&*cut, made, stream.emitted() - made)
            }
            None => (&rows, n, reader.done() - n),
        };
        if n == 0 {
            continue;
        }
        sinks
            .take(predictor, task, samples, first, reader.last_files())
            .with_context(|| format!("{}, samples {first}–{}", input.display(), first + n - 1))?;
    }
    bar.finish_and_clear();
    let samples = match &windows {
        Some((stream, _)) if stream.emitted() == 0 => bail!(
            "{}: {} steps, fewer than one window of the model's {}",
            input.display(),
            stream.steps(),
            artifact.windows().map_or(0, |w| w.size)
        ),
        Some((stream, _)) => stream.emitted(),
        None => reader.done(),
    };
    if samples == 0 {
        bail!("{}: no samples", input.display());
    }
    let finite = samples - sinks.not_finite;
    let (kind, mean) = (sinks.kind, sinks.sum / finite.max(1) as f64);
    let (flagged, not_finite) = (sinks.flagged, sinks.not_finite);
    let threshold = predictor.threshold().filter(|_| task == Task::Score);
    Ok(Summary {
        input: input.to_path_buf(),
        samples,
        written: sinks.finish(reader.done())?,
        score: kind,
        mean_score: kind.map(|_| mean),
        threshold: threshold.map(|t| t.value),
        anomalous: threshold.map(|_| flagged),
        not_finite: kind.map(|_| not_finite),
    })
}

/// A progress bar on standard error (drawn only on a terminal).
fn progress_bar(total: Option<usize>) -> indicatif::ProgressBar {
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n as u64),
        None => indicatif::ProgressBar::new_spinner(),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} samples [{elapsed_precise}] {per_sec}",
    ) {
        bar.set_style(style);
    }
    bar
}
