use std::fmt;

use ae_analysis::Distance;
use ae_data::Split;
use ae_models::Autoencoder;
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use serde::Serialize;
use trainer::applications::embed::{self, Embedding, Neighbour};
use trainer::applications::evaluate::map_images;
use trainer::drawing::image::Grid;

use crate::cli::{JsonArg, PngArg, Source, positive};

/// Nearest training samples of a test sample, by the distance between their codes;
/// for images, a strip of the query and its neighbours (<artifact>/search-<INDEX>.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Index of the query sample in the test split.
    #[arg(long, value_name = "INDEX")]
    query: usize,
    /// Neighbours to return.
    #[arg(long, default_value_t = 8, value_parser = positive)]
    k: usize,
    /// euclidean, cosine or manhattan.
    #[arg(long, default_value = "euclidean")]
    distance: Distance,
    #[command(flatten)]
    png: PngArg,
    #[command(flatten)]
    output: JsonArg,
}

/// What `search` prints.
#[derive(Serialize)]
struct SearchResult {
    query: usize,
    query_label: u8,
    distance: String,
    neighbours: Vec<Neighbour>,
}

impl fmt::Display for SearchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "test sample {} (label {}): nearest training samples by {} distance",
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

pub fn run(args: Args) -> Result<()> {
    let l = args.source.load(args.output.json)?;
    let test = &l.data.test;
    if args.query >= test.len() {
        bail!(
            "--query {}: the test split has {} samples (0 to {})",
            args.query,
            test.len(),
            test.len().saturating_sub(1)
        );
    }
    let database = Embedding::of(&l.model, &l.data.train, &l.device);
    let query = map_images(test, &[args.query], 1, &l.device, |x| l.model.encode(x)).0;
    let neighbours = embed::search(&database, &query, args.k, args.distance)?;
    // A strip of images; a table has no picture (the PNG flag is then an error).
    let png = match l.data.image_shape() {
        Some(shape) => {
            let sample = |split: &Split, i: usize| {
                let mut values = Vec::new();
                split.gather(&[i], &mut values);
                values
            };
            let mut strip = vec![sample(test, args.query)];
            strip.extend(neighbours.iter().map(|n| sample(&l.data.train, n.index)));
            let file = format!("search-{}.png", args.query);
            let png = args.png.path(&l.artifact.dir, &file)?;
            let grid = Grid {
                shape,
                rows: vec![strip],
            };
            grid.save_png(&png)?;
            Some(png)
        }
        None if args.png.png.is_some() => {
            bail!("--png draws images, and {} is a table", l.data.spec)
        }
        None => None,
    };
    args.output.print(&SearchResult {
        query: args.query,
        query_label: test.labels[args.query],
        distance: format!("{:?}", args.distance).to_lowercase(),
        neighbours,
    })?;
    if let Some(png) = png.filter(|_| !args.output.json) {
        println!("wrote {} (the query, then its neighbours)", png.display());
    }
    Ok(())
}
