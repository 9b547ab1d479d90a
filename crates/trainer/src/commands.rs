//! The binary's application commands: what a trained artifact is used for. Each loads
//! the artifact and its data set, checks that the model can do what is asked before
//! any work, and writes its files atomically.

use std::path::{Path, PathBuf};

use ae_analysis::Distance;
use ae_data::{Dataset, Locator, Split};
use ae_models::{AnyAutoencoder, Autoencoder, Noise};
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use clap::{Args, ValueEnum};
use trainer::anomaly::{self, Score};
use trainer::artifact::Artifact;
use trainer::device;
use trainer::embed::{self, Embedding};
use trainer::generate;
use trainer::image::Grid;

use crate::DeviceArgs;

/// Where a command finds its artifact and data, and what it runs on.
#[derive(Args)]
pub struct Source {
    /// The artifact folder written by `train`.
    #[arg(long, value_name = "DIR")]
    pub artifact: PathBuf,
    /// Folder holding the data set's IDX files.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// A loaded artifact, its data set and the device its model lives on.
pub struct Loaded {
    pub artifact: Artifact,
    pub data: Dataset,
    pub device: Device,
    pub model: AnyAutoencoder,
}

impl Source {
    /// Opens the artifact, its data set and the device; says which device unless `quiet`.
    pub fn load(&self, quiet: bool) -> Result<Loaded> {
        let artifact = Artifact::open(&self.artifact)?;
        let data = artifact.load_data(&Locator::new(self.data_dir.clone()))?;
        let selected = device::select(self.device.backend)?;
        if !quiet {
            println!("device: {}", selected.description);
        }
        let model = artifact.load_model(&selected.device)?;
        Ok(Loaded {
            artifact,
            data,
            device: selected.device,
            model,
        })
    }
}

/// Prints `value` as JSON, or its `Display` form.
fn print<T: serde::Serialize + std::fmt::Display>(value: &T, json: bool) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).context("report serialises")?
        );
    } else {
        println!("{value}");
    }
    Ok(())
}

/// Which split of the data set.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SplitName {
    Train,
    Test,
}

impl SplitName {
    fn of(self, data: &Dataset) -> &Split {
        match self {
            Self::Train => &data.train,
            Self::Test => &data.test,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }
}

#[derive(Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    source: Source,
    /// The split to encode.
    #[arg(long, value_enum, default_value_t = SplitName::Test)]
    split: SplitName,
    /// Folder for `<split>-codes.npy`, `<split>-codes-labels.npy` and
    /// `<split>-codes.csv` [default: the artifact folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run_embed(args: EmbedArgs) -> Result<()> {
    let l = args.source.load(false)?;
    let out = args.out.unwrap_or_else(|| l.artifact.dir.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let embedding = Embedding::of(&l.model, args.split.of(&l.data), &l.device);
    let paths = embedding.write(&out, &format!("{}-codes", args.split.name()))?;
    println!(
        "{} {} codes of size {}:",
        embedding.len(),
        args.split.name(),
        embedding.dim
    );
    for p in paths {
        println!("  {}", p.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    source: Source,
    /// Index of the query image in the test split.
    #[arg(long, value_name = "INDEX")]
    query: usize,
    /// Neighbours to return.
    #[arg(long, default_value_t = 8)]
    k: usize,
    /// euclidean, cosine or manhattan.
    #[arg(long, default_value = "euclidean")]
    distance: Distance,
    /// Image strip of the query and its neighbours [default: <artifact>/search-<INDEX>.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// What `search` prints.
#[derive(serde::Serialize)]
struct SearchResult {
    query: usize,
    query_label: u8,
    distance: String,
    neighbours: Vec<embed::Neighbour>,
}

impl std::fmt::Display for SearchResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "test image {} (label {}): nearest training images by {} distance",
            self.query, self.query_label, self.distance
        )?;
        writeln!(f, "| rank | index | label | distance |\n|---|---|---|---|")?;
        for (rank, n) in self.neighbours.iter().enumerate() {
            writeln!(
                f,
                "| {} | {} | {} | {:.4} |",
                rank + 1,
                n.index,
                n.label,
                n.distance
            )?;
        }
        Ok(())
    }
}

pub fn run_search(args: SearchArgs) -> Result<()> {
    let l = args.source.load(args.json)?;
    let test = &l.data.test;
    if args.query >= test.len() {
        bail!(
            "--query {}: the test split has {} images (0 to {})",
            args.query,
            test.len(),
            test.len().saturating_sub(1)
        );
    }
    let database = Embedding::of(&l.model, &l.data.train, &l.device);
    let query =
        trainer::evaluate::map_images(test, &[args.query], 1, &l.device, |x| l.model.encode(x)).0;
    let neighbours = embed::search(&database, &query, args.k, args.distance)?;
    let sample = |split: &Split, i: usize| {
        let mut values = Vec::new();
        split.gather(&[i], &mut values);
        values
    };
    // A strip of images; a table has no picture (the PNG flag is then an error).
    let png = match l.data.image_shape() {
        Some(_) => {
            let mut strip = vec![sample(test, args.query)];
            strip.extend(neighbours.iter().map(|n| sample(&l.data.train, n.index)));
            let png = args
                .png
                .unwrap_or_else(|| l.artifact.dir.join(format!("search-{}.png", args.query)));
            save(&grid(&l.data, vec![strip])?, &png)?;
            Some(png)
        }
        None if args.png.is_some() => {
            bail!("--png draws images, and {} is a table", l.data.spec)
        }
        None => None,
    };
    let result = SearchResult {
        query: args.query,
        query_label: test.labels[args.query],
        distance: format!("{:?}", args.distance).to_lowercase(),
        neighbours,
    };
    print(&result, args.json)?;
    if let Some(png) = png.filter(|_| !args.json) {
        println!("wrote {} (the query, then its neighbours)", png.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct AnomalyArgs {
    #[command(flatten)]
    source: Source,
    /// The normal classes (labels or class names), comma-separated [default: the
    /// `--classes` the model was trained on].
    #[arg(long, value_name = "CLASSES", value_delimiter = ',')]
    normal: Option<Vec<String>>,
    /// reconstruction (squared error) or elbo (VAEs: the negative ELBO).
    #[arg(long, default_value = "reconstruction")]
    score: Score,
    /// False-positive rate the threshold is chosen for on held-out normal images.
    #[arg(long, default_value_t = 0.05)]
    fpr: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run_anomaly(args: AnomalyArgs) -> Result<()> {
    let l = args.source.load(args.json)?;
    if args.score == Score::Elbo && !matches!(l.model, AnyAutoencoder::Vae(_)) {
        bail!(
            "--score elbo needs a variational autoencoder; {} holds an autoencoder of family {}",
            l.artifact.dir.display(),
            l.artifact.config.model.kind()
        );
    }
    let normal = match (args.normal, &l.artifact.config.classes) {
        (Some(n), _) => n
            .iter()
            .map(|c| trainer::class_label(c, &l.data))
            .collect::<Result<Vec<u8>>>()?,
        (None, Some(c)) => c.clone(),
        (None, None) => bail!(
            "{} was trained on every class: pass --normal LABELS, or train a one-class \
             model with --classes",
            l.artifact.dir.display()
        ),
    };
    let report = anomaly::detect(
        &l.model,
        &l.artifact.config,
        &l.data,
        &normal,
        args.score,
        args.fpr,
        &l.device,
    )?;
    print(&report, args.json)
}

#[derive(Args)]
pub struct DenoiseArgs {
    #[command(flatten)]
    source: Source,
    /// Corruption: gaussian:STD, salt-pepper:RATE, masking:RATE or speckle:STD.
    #[arg(long, default_value = "gaussian:0.3")]
    noise: Noise,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Images shown in the picture.
    #[arg(long, default_value_t = 10)]
    show: usize,
    /// Clean, noisy and denoised rows [default: <artifact>/denoise.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run_denoise(args: DenoiseArgs) -> Result<()> {
    let l = args.source.load(args.json)?;
    l.device.seed(args.seed);
    let (report, grid) =
        generate::denoise(&l.model, &l.data.test, args.noise, args.show, &l.device)?;
    let png = args
        .png
        .unwrap_or_else(|| l.artifact.dir.join("denoise.png"));
    save(&grid, &png)?;
    print(&report, args.json)?;
    if !args.json {
        println!("wrote {} (clean, noisy, denoised rows)", png.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct SampleArgs {
    /// The artifact folder written by `train`.
    #[arg(long, value_name = "DIR")]
    artifact: PathBuf,
    /// Images to draw.
    #[arg(long, default_value_t = 64)]
    n: usize,
    /// Seed of the prior samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The grid [default: <artifact>/sample-<SEED>.png, or manifold.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// Instead of random samples, decode a SIDE × SIDE grid of codes at the normal
    /// distribution's quantiles (models with a 2-d code).
    #[arg(long, value_name = "SIDE")]
    manifold: Option<usize>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run_sample(args: SampleArgs) -> Result<()> {
    let artifact = Artifact::open(&args.artifact)?;
    let kind = artifact.config.model.kind();
    if !matches!(kind, "vae" | "conv-vae" | "aae") {
        bail!(
            "sample needs a generative model (vae, conv-vae or aae); {} holds an autoencoder \
             of family {kind}, which has no prior over its codes",
            args.artifact.display()
        );
    }
    if args.n == 0 {
        bail!("--n 0: expected at least one image");
    }
    let shape = image_shape(&artifact)?;
    let selected = device::select(args.device.backend)?;
    let model = artifact.load_model(&selected.device)?;
    selected.device.seed(args.seed);
    if let Some(side) = args.manifold {
        let latent = artifact.config.model.latent();
        let grid = trainer::maps::manifold(&model, latent, side, shape, &selected.device)?;
        let png = args
            .png
            .unwrap_or_else(|| args.artifact.join("manifold.png"));
        save(&grid, &png)?;
        println!("wrote {} ({side} × {side} decoded codes)", png.display());
        return Ok(());
    }
    let per_row = (args.n as f64).sqrt().ceil() as usize;
    let grid = generate::sample(&model, args.n, per_row, shape, &selected.device)?;
    let png = args
        .png
        .unwrap_or_else(|| args.artifact.join(format!("sample-{}.png", args.seed)));
    save(&grid, &png)?;
    println!("wrote {} ({} samples of the prior)", png.display(), args.n);
    Ok(())
}

#[derive(Args)]
pub struct InterpolateArgs {
    #[command(flatten)]
    source: Source,
    /// Pairs of test images, FROM:TO, comma-separated [default: 0:1,2:3,4:5,6:7].
    #[arg(long, value_name = "FROM:TO,…", value_delimiter = ',', value_parser = parse_pair)]
    pairs: Option<Vec<(usize, usize)>>,
    /// Decoded codes per row, both ends included.
    #[arg(long, default_value_t = 8)]
    steps: usize,
    /// The grid [default: <artifact>/interpolate.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
}

fn parse_pair(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': expected FROM:TO, two test image indices"))?;
    let index = |v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("'{v}' is not an image index"))
    };
    Ok((index(a)?, index(b)?))
}

pub fn run_interpolate(args: InterpolateArgs) -> Result<()> {
    let l = args.source.load(false)?;
    let pairs = args
        .pairs
        .unwrap_or_else(|| vec![(0, 1), (2, 3), (4, 5), (6, 7)]);
    let grid = generate::interpolate(&l.model, &l.data.test, &pairs, args.steps, &l.device)?;
    let png = args
        .png
        .unwrap_or_else(|| l.artifact.dir.join("interpolate.png"));
    save(&grid, &png)?;
    println!(
        "wrote {} ({} rows: an image, {} decoded codes from its code to the other's, the other image)",
        png.display(),
        pairs.len(),
        args.steps
    );
    Ok(())
}

#[derive(Args)]
pub struct LatentArgs {
    #[command(flatten)]
    source: Source,
    /// Test images mapped (the first N); t-SNE costs grow as N².
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// t-SNE perplexity (codes of more than 2 units).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000)]
    iterations: usize,
    /// Seed of the t-SNE layout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The scatter plot [default: <artifact>/latent.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
}

pub fn run_latent(args: LatentArgs) -> Result<()> {
    if args.n < 2 {
        bail!("--n {}: expected at least 2 images", args.n);
    }
    let l = args.source.load(false)?;
    let first: Vec<usize> = (0..args.n.min(l.data.test.len())).collect();
    let (codes, dim) =
        trainer::evaluate::map_images(&l.data.test, &first, 256, &l.device, |x| l.model.encode(x));
    let embedding = Embedding {
        codes,
        dim,
        labels: l.data.test.labels[..first.len()].to_vec(),
    };
    let options = ae_analysis::TsneOptions {
        perplexity: args.perplexity,
        iterations: args.iterations,
        seed: args.seed,
        ..ae_analysis::TsneOptions::default()
    };
    let names: Vec<&str> = l.data.classes.iter().map(String::as_str).collect();
    let (chart, projection) = trainer::maps::latent_map(&embedding, args.n, &names, options)?;
    let png = args
        .png
        .unwrap_or_else(|| l.artifact.dir.join("latent.png"));
    if let Some(dir) = png.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    chart.save_png(&png, 900, 640)?;
    let how = match projection {
        trainer::maps::Projection::Direct => "the 2-d codes as they are".to_string(),
        trainer::maps::Projection::Tsne(o) => format!(
            "t-SNE of the {dim}-d codes, perplexity {}, {} iterations",
            o.perplexity, o.iterations
        ),
    };
    println!(
        "wrote {} ({} test images; {how})",
        png.display(),
        first.len()
    );
    Ok(())
}

#[derive(Args)]
pub struct FiltersArgs {
    /// The artifact folder written by `train`.
    #[arg(long, value_name = "DIR")]
    artifact: PathBuf,
    /// Filters shown.
    #[arg(long, default_value_t = 100)]
    n: usize,
    /// Show the units most active on the test images (mean |activation| of the
    /// code, for a single-layer encoder) instead of the first ones: with a k-sparse
    /// code, the units that win.
    #[arg(long)]
    by_activity: bool,
    /// The grid [default: <artifact>/filters.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// Folder holding the data set's IDX files (with --by-activity).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run_filters(args: FiltersArgs) -> Result<()> {
    let artifact = Artifact::open(&args.artifact)?;
    let selected = device::select(args.device.backend)?;
    let model = artifact.load_model(&selected.device)?;
    let shape = image_shape(&artifact)?;
    let ranked: Vec<usize>;
    let units = if args.by_activity {
        if !matches!(&artifact.config.model, ae_models::ModelConfig::Mlp(m) if m.hidden.is_empty())
        {
            bail!(
                "--by-activity ranks code units: it needs an MLP autoencoder without hidden layers"
            );
        }
        let data = artifact.load_data(&Locator::new(args.data_dir.clone()))?;
        let first: Vec<usize> = (0..data.test.len().min(2000)).collect();
        let (codes, dim) =
            trainer::evaluate::map_images(&data.test, &first, 256, &selected.device, |x| {
                model.encode(x)
            });
        let mut activity = vec![0.0f64; dim];
        for row in codes.chunks(dim) {
            for (a, v) in activity.iter_mut().zip(row) {
                *a += f64::from(v.abs());
            }
        }
        let mut order: Vec<usize> = (0..dim).collect();
        order.sort_by(|&a, &b| activity[b].total_cmp(&activity[a]));
        order.truncate(args.n);
        ranked = order;
        trainer::maps::Units::These(&ranked)
    } else {
        trainer::maps::Units::First(args.n)
    };
    let grid = trainer::maps::filters(&model, units, shape)?;
    let png = args
        .png
        .unwrap_or_else(|| args.artifact.join("filters.png"));
    save(&grid, &png)?;
    let shown: usize = grid.rows.iter().map(Vec::len).sum();
    println!("wrote {} ({shown} first-layer filters)", png.display());
    Ok(())
}

#[derive(Args)]
pub struct CompressArgs {
    /// Artifact folders (one data set); each is a point at its code size.
    #[arg(long, value_name = "DIR", required = true)]
    artifact: Vec<PathBuf>,
    /// JPEG qualities, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "5,10,20,30,50,70,90")]
    jpeg: Vec<u8>,
    /// Folder holding the data set's IDX files.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The plot [default: <first artifact>/rate-distortion.png].
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// Print JSON instead of a markdown table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run_compress(args: CompressArgs) -> Result<()> {
    use trainer::compress;
    let artifacts = args
        .artifact
        .iter()
        .map(|d| Artifact::open(d))
        .collect::<Result<Vec<_>>>()?;
    let dataset = &artifacts[0].config.dataset;
    if let Some(other) = artifacts.iter().find(|a| &a.config.dataset != dataset) {
        bail!(
            "{} was trained on {}, not {dataset}: compare artifacts of one data set",
            other.dir.display(),
            other.config.dataset
        );
    }
    if let Some(q) = args.jpeg.iter().find(|&&q| q == 0 || q > 100) {
        bail!("--jpeg {q}: JPEG qualities are 1 to 100");
    }
    let data = artifacts[0].load_data(&Locator::new(args.data_dir.clone()))?;
    trainer::images_of(&data.test)?;
    let selected = device::select(args.device.backend)?;
    let mut points = Vec::new();
    let mut sizes = Vec::new();
    for a in &artifacts {
        let model = a.load_model(&selected.device)?;
        let name = format!("{} ({})", a.config.model.kind(), a.dir.display());
        let p =
            compress::autoencoder_point(&model, name, &data.train, &data.test, &selected.device);
        sizes.push(p.setting);
        points.push(p);
    }
    sizes.sort_unstable();
    sizes.dedup();
    let largest = sizes.last().copied().unwrap_or(1);
    let pca = trainer::compare::fit_pca(&data, largest)?;
    points.extend(compress::pca_points(&pca, &data.train, &data.test, &sizes)?);
    points.extend(compress::jpeg_points(&data.test, &args.jpeg)?);
    points.push(compress::png_point(&data.test)?);
    // One autoencoder line across the artifacts.
    let mut chart_points = points.clone();
    for p in chart_points.iter_mut().filter(|p| p.method.contains('(')) {
        p.method = "autoencoder".into();
    }
    let title = format!("rate-distortion on {} test images", data.spec.short_name());
    let png = args
        .png
        .unwrap_or_else(|| artifacts[0].dir.join("rate-distortion.png"));
    compress::chart(&chart_points, &title).save_png(&png, 800, 500)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&points).context("points serialise")?
        );
    } else {
        print!("{}", compress::markdown(&points));
        println!("wrote {}", png.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct FinetuneArgs {
    #[command(flatten)]
    source: Source,
    /// Sizes of the labelled training set, comma-separated (balanced over the classes).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    labels: Vec<usize>,
    /// Adam steps per classifier.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Labelled images per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Seed of the heads, the scratch encoder and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of a markdown table.
    #[arg(long)]
    json: bool,
}

pub fn run_finetune(args: FinetuneArgs) -> Result<()> {
    use trainer::finetune::{self, FinetuneOptions, FinetuneRow, Start};
    if args.steps == 0 || args.batch_size == 0 || !(args.lr > 0.0 && args.lr.is_finite()) {
        bail!(
            "--steps {}, --batch-size {}, --lr {}: expected positive values",
            args.steps,
            args.batch_size,
            args.lr
        );
    }
    let l = args.source.load(args.json)?;
    let ad = l.device.clone().autodiff();
    let pretrained = l.artifact.load_model(&ad)?;
    let options = FinetuneOptions {
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
    };
    let mut rows = Vec::new();
    for &n in &args.labels {
        let subset = finetune::labelled_subset(&l.data.train, n)?;
        for start in [Start::Frozen, Start::FineTuned, Start::Scratch] {
            let (accuracy, _) = finetune::train_classifier(
                &pretrained,
                &l.artifact.config.model,
                &l.data.train,
                &subset,
                &l.data.test,
                start,
                options,
                &l.device,
            )?;
            rows.push(FinetuneRow {
                labels: subset.len(),
                start,
                test_accuracy: accuracy,
            });
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).context("rows serialise")?
        );
    } else {
        println!("| labels | encoder | test accuracy |\n|---|---|---|");
        for r in &rows {
            println!("| {} | {} | {:.4} |", r.labels, r.start, r.test_accuracy);
        }
    }
    Ok(())
}

/// Images of `data`'s shape, in rows.
fn grid(data: &Dataset, rows: Vec<Vec<Vec<f32>>>) -> Result<Grid> {
    let images = trainer::images_of(&data.test)?;
    Ok(Grid {
        height: images.rows,
        width: images.cols,
        rows,
    })
}

/// The image shape of the artifact's model (square when its input size is a square,
/// else a single row); an error when it was trained on a table, which has no images.
fn image_shape(artifact: &Artifact) -> Result<[usize; 2]> {
    if let ae_data::DataSpec::Table(table) = &artifact.config.dataset {
        bail!(
            "this draws images, and {} was trained on the table {table}",
            artifact.dir.display()
        );
    }
    let features = artifact.config.model.input_size();
    let side = (features as f64).sqrt().round() as usize;
    Ok(if side * side == features {
        [side, side]
    } else {
        [1, features]
    })
}

/// Writes `grid` to `path`, creating its folder.
fn save(grid: &Grid, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    grid.save_png(path)
}
