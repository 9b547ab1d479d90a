use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::artifact::Artifact;
use trainer::applications::{code_prior, generate};
use trainer::drawing::maps;

use crate::cli::{PngArg, Source, positive};

/// Decode samples of the prior of a VAE or AAE, of the learned prior of a VQ-VAE's
/// codes (a PixelCNN, fitted on first use and kept in the artifact), or of a Gaussian
/// mixture fitted to any model's training codes, as an image grid
/// (<artifact>/sample-<SEED>.png; with --manifold, <artifact>/manifold.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
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
    /// Draw the codes from a Gaussian mixture of K components fitted to the first
    /// 10,000 training codes, instead of the model's prior; the default for a model
    /// without a prior, with 10 components.
    #[arg(long, value_name = "K", value_parser = positive)]
    mixture: Option<usize>,
    /// Passes over the training codes when fitting a VQ-VAE's prior.
    #[arg(long, default_value_t = 5, value_parser = positive)]
    prior_epochs: usize,
    /// Fit the VQ-VAE's prior to the first N training codes only [default: all].
    #[arg(long, value_name = "N", value_parser = positive)]
    prior_limit: Option<usize>,
    /// Fit the VQ-VAE's prior again even if the artifact holds one.
    #[arg(long)]
    refit_prior: bool,
    #[command(flatten)]
    png: PngArg,
}

pub fn run(args: Args) -> Result<()> {
    let artifact = args.source.artifact.open()?;
    let family = artifact.config.model.family();
    let shape = artifact.image_shape()?;
    let (model, device) = args.source.model(&artifact, false)?;
    device.seed(args.seed);
    if let Some(side) = args.manifold {
        if !family.has_continuous_prior() {
            bail!(
                "--manifold decodes the quantiles of a continuous prior ({}); {} holds an \
                 autoencoder of family {family}, which has none",
                maps::manifold_families(),
                artifact.dir.display()
            );
        }
        let grid = maps::manifold(&model, &artifact.config.model, side, shape, &device)?;
        let png = args.png.path(&artifact.dir, "manifold.png")?;
        grid.save_png(&png)?;
        println!("wrote {} ({side} × {side} decoded codes)", png.display());
        return Ok(());
    }
    let per_row = (args.n as f64).sqrt().ceil() as usize;
    let components = args.mixture.or((!family.is_generative()).then_some(10));
    let (grid, from) = match components {
        None if model.as_vq().is_some() => {
            let vq = code_prior::vq(&model)?;
            let prior = learned_prior(&args, &artifact, vq, &device)?;
            device.seed(args.seed);
            let images = code_prior::samples(vq, &prior, args.n, &device)?;
            let pixels = images.into_data().try_to_vec::<f32>().unwrap_or_default();
            (
                trainer::drawing::image::Grid::of(shape, &pixels, per_row),
                "codes drawn from the learned prior".to_string(),
            )
        }
        None => (
            generate::sample(&model, args.n, per_row, shape, &device)?,
            "samples of the prior".to_string(),
        ),
        Some(k) => {
            let data = artifact.load_data(&args.source.data_dir.locator())?;
            let drawn =
                generate::mixture_samples(&model, &data.train, k, args.n, args.seed, &device)?;
            println!(
                "fitted a Gaussian mixture of {k} components to {} training codes (mean \
                 log-likelihood {:.2} nats)",
                drawn.codes, drawn.log_likelihood
            );
            (
                trainer::drawing::image::Grid::of(shape, &drawn.images, per_row),
                format!("codes drawn from the mixture of {k}"),
            )
        }
    };
    let png = args
        .png
        .path(&artifact.dir, &format!("sample-{}.png", args.seed))?;
    grid.save_png(&png)?;
    println!("wrote {} ({} images decoded from {from})", png.display(), args.n);
    Ok(())
}

/// The VQ-VAE's prior saved in the artifact, or one fitted now (with a progress bar on
/// a terminal) and saved.
fn learned_prior(
    args: &Args,
    artifact: &Artifact,
    vq: &ae_models::VqVae,
    device: &burn::prelude::Device,
) -> Result<ae_models::PixelCnnPrior> {
    if !args.refit_prior
        && let Some(prior) = code_prior::load(&artifact.dir, device)?
    {
        return Ok(prior);
    }
    let data = artifact.load_data(&args.source.data_dir.locator())?;
    let limited = args.prior_limit.map(|n| data.train.head(n));
    let bar = trainer::run::progress::bar(0, "fitting the prior, steps");
    let (config, prior, report) = code_prior::fit(
        vq,
        limited.as_ref().unwrap_or(&data.train),
        &data.test,
        args.prior_epochs,
        device,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    code_prior::save(&artifact.dir, &config, &prior, &report)?;
    println!("{report}; saved in {}", artifact.dir.display());
    Ok(prior)
}
