use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::applications::generate;

use crate::cli::{PngArg, Source};

/// A capsule autoencoder's per-capsule perturbations: for each test image, a row per
/// dimension of its longest capsule — the image, then the capsule decoded with that
/// dimension moved from -SPAN to SPAN (<artifact>/capsules.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Test images, comma-separated.
    #[arg(long, value_name = "I,…", value_delimiter = ',', default_value = "0")]
    images: Vec<usize>,
    /// How far each dimension moves either way (capsules are shorter than 1).
    #[arg(long, default_value_t = 0.25)]
    span: f32,
    /// Decoded values per row, both ends included.
    #[arg(long, default_value_t = 11)]
    steps: usize,
    #[command(flatten)]
    png: PngArg,
}

pub fn run(args: Args) -> Result<()> {
    let l = args.source.load(false)?;
    let grid = generate::capsule_perturbations(
        &l.model,
        &l.data.test,
        &args.images,
        args.span,
        args.steps,
        &l.device,
    )?;
    let png = args.png.path(&l.artifact.dir, "capsules.png")?;
    grid.save_png(&png)?;
    println!(
        "wrote {} ({} rows: a test image, then its longest capsule decoded with one \
         dimension moved from -{span} to {span} in {} steps)",
        png.display(),
        grid.rows.len(),
        args.steps,
        span = args.span,
    );
    Ok(())
}
