use ae_models::Autoencoder;
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::applications::evaluate::map_images;
use trainer::drawing::maps::{self, Units};

use crate::cli::{PngArg, Source, positive};

/// The first layer's filters (weights into each unit) as an image grid
/// (<artifact>/filters.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Filters shown.
    #[arg(long, default_value_t = 100, value_parser = positive)]
    units: usize,
    /// Show the units most active on the test images (mean |activation| of the
    /// code, for a single-layer encoder) instead of the first ones: with a k-sparse
    /// code, the units that win.
    #[arg(long)]
    by_activity: bool,
    /// Show the decoder's atoms instead — the image each code unit adds to a
    /// reconstruction — for a linear decoder (topk-sae, or a shallow MLP without an
    /// output activation).
    #[arg(long)]
    atoms: bool,
    #[command(flatten)]
    png: PngArg,
}

pub fn run(args: Args) -> Result<()> {
    let artifact = args.source.artifact.open()?;
    let (model, device) = args.source.model(&artifact, true)?;
    let shape = artifact.image_shape()?;
    let ranked: Vec<usize>;
    let units = if args.by_activity {
        if !artifact.config.model.first_layer_is_code() {
            bail!(
                "--by-activity ranks code units: it needs an autoencoder whose first layer \
                 makes the code (an MLP without hidden layers)"
            );
        }
        let data = artifact.load_data(&args.source.data_dir.locator())?;
        let first: Vec<usize> = (0..data.test.len().min(2000)).collect();
        let (codes, dim) = map_images(&data.test, &first, 256, &device, |x| model.encode(x));
        let mut activity = vec![0.0f64; dim];
        for row in codes.chunks(dim) {
            for (a, v) in activity.iter_mut().zip(row) {
                *a += f64::from(v.abs());
            }
        }
        let mut order: Vec<usize> = (0..dim).collect();
        order.sort_by(|&a, &b| activity[b].total_cmp(&activity[a]));
        order.truncate(args.units);
        ranked = order;
        Units::These(&ranked)
    } else {
        Units::First(args.units)
    };
    let (grid, what) = if args.atoms {
        (maps::atoms(&model, units, shape)?, "decoder atoms")
    } else {
        (maps::filters(&model, units, shape)?, "first-layer filters")
    };
    let png = args.png.path(&artifact.dir, "filters.png")?;
    grid.save_png(&png)?;
    let shown: usize = grid.rows.iter().map(Vec::len).sum();
    println!("wrote {} ({shown} {what})", png.display());
    Ok(())
}
