use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::applications::generate;

use crate::cli::{PngArg, Source};

/// Decode codes on the segment between two test images' codes, as an image grid
/// (<artifact>/interpolate.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Pairs of test images, FROM:TO, comma-separated [default: 0:1,2:3,4:5,6:7].
    #[arg(long, value_name = "FROM:TO,…", value_delimiter = ',', value_parser = parse_pair)]
    pairs: Option<Vec<(usize, usize)>>,
    /// Decoded codes per row, both ends included.
    #[arg(long, default_value_t = 8)]
    points: usize,
    #[command(flatten)]
    png: PngArg,
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

pub fn run(args: Args) -> Result<()> {
    let l = args.source.load(false)?;
    let pairs = args
        .pairs
        .unwrap_or_else(|| vec![(0, 1), (2, 3), (4, 5), (6, 7)]);
    let grid = generate::interpolate(&l.model, &l.data.test, &pairs, args.points, &l.device)?;
    let png = args.png.path(&l.artifact.dir, "interpolate.png")?;
    grid.save_png(&png)?;
    println!(
        "wrote {} ({} rows: an image, {} decoded codes from its code to the other's, the other image)",
        png.display(),
        pairs.len(),
        args.points
    );
    Ok(())
}
