use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use trainer::applications::embed::Embedding;

use crate::cli::{Source, SplitName};

/// Write the codes of a split as .npy (codes and labels) and CSV.
#[derive(ClapArgs)]
pub struct Args {
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

pub fn run(args: Args) -> Result<()> {
    let l = args.source.load(false)?;
    let out = args.out.unwrap_or_else(|| l.artifact.dir.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let name = args.split.name();
    let embedding = Embedding::of(&l.model, args.split.of(&l.data), &l.device);
    let paths = embedding.write(&out, &format!("{name}-codes"))?;
    println!("{} {name} codes of size {}:", embedding.len(), embedding.dim);
    for p in paths {
        println!("  {}", p.display());
    }
    Ok(())
}
