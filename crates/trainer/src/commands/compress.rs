use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::artifact::Artifact;
use trainer::applications::compress;
use trainer::dataset::image_shape_of;

use crate::cli::{DataDirArg, DeviceArgs, JsonArg, PngArg};

/// Rate–distortion: bits per image against PSNR for autoencoder codes and PCA
/// coefficients quantised to 8 bits, beside JPEG and PNG (the plot:
/// <first artifact>/rate-distortion.png).
#[derive(ClapArgs)]
pub struct Args {
    /// Artifact folders (one data set); each is a point at its code size.
    #[arg(long, value_name = "DIR", required = true)]
    artifact: Vec<PathBuf>,
    /// JPEG qualities, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "5,10,20,30,50,70,90")]
    jpeg: Vec<u8>,
    #[command(flatten)]
    data_dir: DataDirArg,
    #[command(flatten)]
    png: PngArg,
    #[command(flatten)]
    output: JsonArg,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> Result<()> {
    let artifacts = Artifact::open_all(&args.artifact)?;
    let Some(first) = artifacts.first() else {
        bail!("give one or more --artifact folders");
    };
    Artifact::check_same_data(&artifacts, &first.config.dataset)?;
    if let Some(q) = args.jpeg.iter().find(|&&q| q == 0 || q > 100) {
        bail!("--jpeg {q}: JPEG qualities are 1 to 100");
    }
    let data = first.load_data(&args.data_dir.locator())?;
    image_shape_of(&data.test)?;
    let selected = args.device.select()?;
    let mut points = Vec::new();
    let mut sizes = Vec::new();
    for a in &artifacts {
        let model = a.load_model(&selected.device)?;
        let p = compress::autoencoder_point(
            &model,
            a.label(),
            &data.train,
            &data.test,
            &selected.device,
        );
        sizes.push(p.setting);
        points.push(p);
    }
    sizes.sort_unstable();
    sizes.dedup();
    let largest = sizes.last().copied().unwrap_or(1);
    let pca = trainer::applications::compare::fit_pca(&data, largest)?;
    points.extend(compress::pca_points(&pca, &data.train, &data.test, &sizes)?);
    points.extend(compress::jpeg_points(&data.test, &args.jpeg)?);
    points.push(compress::png_point(&data.test)?);
    // One autoencoder line across the artifacts.
    let mut chart_points = points.clone();
    for p in chart_points.iter_mut().filter(|p| p.method.contains('(')) {
        p.method = "autoencoder".into();
    }
    let title = format!("rate-distortion on {} test images", data.spec.short_name());
    let png = args.png.path(&first.dir, "rate-distortion.png")?;
    compress::chart(&chart_points, &title).save_png(&png, 800, 500)?;
    if args.output.json {
        println!("{}", crate::cli::to_json(&points)?);
    } else {
        print!("{}", compress::markdown(&points));
        println!("wrote {}", png.display());
    }
    Ok(())
}
