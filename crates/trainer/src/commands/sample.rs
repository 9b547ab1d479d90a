use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::generate;
use trainer::maps::{self, generative_families};

use crate::cli::{ArtifactArg, DeviceArgs, PngArg, positive};

/// Decode samples of the prior of a VAE or AAE as an image grid
/// (<artifact>/sample-<SEED>.png; with --manifold, <artifact>/manifold.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    artifact: ArtifactArg,
    /// Images to draw.
    #[arg(long, default_value_t = 64, value_parser = positive)]
    n: usize,
    /// Seed of the prior samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Instead of random samples, decode a SIDE × SIDE grid of codes at the normal
    /// distribution's quantiles (models with a 2-d code).
    #[arg(long, value_name = "SIDE")]
    manifold: Option<usize>,
    #[command(flatten)]
    png: PngArg,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> Result<()> {
    let artifact = args.artifact.open()?;
    let family = artifact.config.model.family();
    if !family.is_generative() {
        bail!(
            "sample needs a generative model ({}); {} holds an autoencoder of family \
             {family}, which has no prior over its codes",
            generative_families(),
            artifact.dir.display()
        );
    }
    let shape = artifact.image_shape()?;
    let selected = args.device.select()?;
    let model = artifact.load_model(&selected.device)?;
    selected.device.seed(args.seed);
    if let Some(side) = args.manifold {
        let latent = artifact.config.model.latent();
        let grid = maps::manifold(&model, latent, side, shape, &selected.device)?;
        let png = args.png.path(&artifact.dir, "manifold.png")?;
        grid.save_png(&png)?;
        println!("wrote {} ({side} × {side} decoded codes)", png.display());
        return Ok(());
    }
    let per_row = (args.n as f64).sqrt().ceil() as usize;
    let grid = generate::sample(&model, args.n, per_row, shape, &selected.device)?;
    let png = args
        .png
        .path(&artifact.dir, &format!("sample-{}.png", args.seed))?;
    grid.save_png(&png)?;
    println!("wrote {} ({} samples of the prior)", png.display(), args.n);
    Ok(())
}
