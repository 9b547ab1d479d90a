use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::applications::apply::{Outputs, Task};

use crate::cli::NewData;

/// Reconstruct new samples from a file, in the input's units (a table's values
/// un-standardised), as .npy or CSV; for images, optionally a PNG of the first ones
/// above their reconstructions.
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    data: NewData,
    /// The reconstructions: FILE.npy or FILE.csv.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Images only: the first 32 inputs above their reconstructions.
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let outputs = Outputs {
        out: args.out,
        png: args.png,
        ..Outputs::default()
    };
    args.data.run(Task::Reconstruct, outputs)
}
