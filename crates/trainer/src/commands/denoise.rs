use ae_models::Noise;
use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::applications::generate;

use crate::cli::{JsonArg, PngArg, Source, positive};

/// Corrupt test samples, reconstruct them, and report the error before and after:
/// for images PSNR too, and clean, noisy and denoised rows in <artifact>/denoise.png;
/// tables and series are corrupted in their standardised units.
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Corruption: gaussian:STD, salt-pepper:RATE, masking:RATE or speckle:STD.
    #[arg(long, default_value = "gaussian:0.3")]
    noise: Noise,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Images shown in the picture (images only).
    #[arg(long, default_value_t = 10, value_parser = positive)]
    show: usize,
    #[command(flatten)]
    png: PngArg,
    #[command(flatten)]
    output: JsonArg,
}

pub fn run(args: Args) -> Result<()> {
    let l = args.source.load(args.output.json)?;
    l.device.seed(args.seed);
    let (report, grid) =
        generate::denoise(&l.model, &l.data.test, args.noise, args.show, &l.device)?;
    let png = match grid {
        Some(grid) => {
            let png = args.png.path(&l.artifact.dir, "denoise.png")?;
            grid.save_png(&png)?;
            Some(png)
        }
        None => None,
    };
    args.output.print(&report)?;
    if let (Some(png), false) = (png, args.output.json) {
        println!("wrote {} (clean, noisy, denoised rows)", png.display());
    }
    Ok(())
}
